"""Entropies of marginals, the information curve ``Z`` and TC/DTC of a distribution (SPEC §2, §5), in nats.

Inputs: a dense probability tensor of shape ``(q_1, ..., q_n)`` (alphabets may differ), or a sparse
:class:`Distribution` (support rows + probabilities, or the empirical law of samples).
"""

from __future__ import annotations

import math
import os
import shutil
import sys
import tempfile
from concurrent.futures import Executor, ThreadPoolExecutor
from pathlib import Path
from typing import Callable

import numpy as np
from numpy.typing import NDArray

import mdmsched._core as _core  # noqa: PLR0402  a plain import of the extension module, not of the package face

from .. import _validation
from .._progress import progress_callback
from .._shards import run_shards
from .._validation import as_count, as_flag, as_log_scale, as_progress, require_memory
from .distribution import Distribution, Source, as_dense, as_dense_unnormalised
from .hygiene import curve_from_entropies, project_monotone
from .sampled import EntropyEstimate

#: Sparse supports: the full lattice has 2^n subsets, refused beyond this n (use estimate_average_entropies instead).
#: Dense tensors are limited by memory on one machine instead (and can be sharded across machines with executor=).
#: The C++ core owns the number (its raw lattice walks refuse larger n too).
MAX_LATTICE_N: int = _core.MAX_LATTICE_N


def _threads(threads: int | None) -> int:
    if threads is None:
        return 0
    return _validation.as_count(threads, "threads (or None for all cores)", 1, 4096)


def _guard_lattice(n: int, keep_subsets: bool, chain_bytes: int, threads: int, *, sparse: bool = False) -> None:
    if sparse and n > MAX_LATTICE_N:
        raise ValueError(
            f"the subset lattice of n = {n} coordinates has 2^{n} subsets, too many to enumerate "
            f"(limit n = {MAX_LATTICE_N}); use mdmsched.estimate_average_entropies"
        )
    workers = threads or (os.cpu_count() or 1)
    need = (8 * 2**n if keep_subsets else 0) + workers * chain_bytes
    available = _validation.available_memory_bytes()
    if need > available:
        raise ValueError(
            f"the subset lattice of n = {n} coordinates (2^{n} subsets) needs about {need / 2**30:.2f} GiB of memory "
            f"on this machine, but only {available / 2**30:.2f} GiB is available; "
            + ("" if sparse else "shard it across processes or machines with executor= (any concurrent.futures."
               "Executor, e.g. dask.distributed.Client(...).get_executor(); see README 'Exact curves past one "
               "machine'), or ")
            + "estimate it with mdmsched.estimate_average_entropies"
        )


def _shard_count(shards: int | None, n: int) -> int:
    limit = 2 ** int(_core.lattice_unit_bits(n))
    if shards is None:
        return int(min(limit, 16))
    count = as_count(shards, "shards")
    if count < 1 or count > limit or count & (count - 1):
        raise ValueError(f"shards must be a power of two between 1 and 2^{limit.bit_length() - 1} = {limit} "
                         f"at n = {n}, got {count}")
    return count


def _run_shard(source: str | NDArray[np.float64], lead: int, keep_subsets: bool, threads: int, total: float,
               patterns: range) -> tuple[NDArray[np.float64] | None, NDArray[np.float64]]:
    """One shard (one membership pattern, ``patterns`` of length 1), in a worker: the tensor (``total`` times a law)
    is a memory-mapped ``.npy`` path (process/cluster executors) or the array."""
    tensor = np.load(source, mmap_mode="r") if isinstance(source, str) else source
    return _core.dense_lattice_shard(tensor, lead, patterns.start, keep_subsets, threads, None, total)


def _sharded_lattice(tensor: NDArray[np.float64], total: float, keep_subsets: bool, threads: int, executor: Executor,
                     shards: int | None, callback: Callable[[float], object] | None
                     ) -> tuple[NDArray[np.float64] | None, NDArray[np.float64]]:
    """The dense walk split into ``shards = 2^j`` jobs on ``executor``, one per membership pattern of the first ``j``
    coordinates, merged bit-identically to the single-process walk (per-unit sums added in unit order).

    Thread pools share the array; other executors get a memory-mapped ``.npy`` file (written once, under
    ``tempfile.gettempdir()``: on a multi-machine cluster point ``TMPDIR`` at storage every worker can read).
    Memory per shard: one marginal of the input, one chain per thread, and its ``8 * 2^(n-j)`` bytes of output.
    """
    n = tensor.ndim
    count = _shard_count(shards, n)
    lead = count.bit_length() - 1
    units = 2 ** int(_core.lattice_unit_bits(n))
    if keep_subsets:
        _validation.require_memory(8 * 2**n, f"the {2**n} subset entropies")
    scratch = None
    source: str | NDArray[np.float64] = tensor
    try:
        if not isinstance(executor, ThreadPoolExecutor):
            scratch = tempfile.mkdtemp(prefix="mdmsched-lattice-")
            source = str(Path(scratch) / "p.npy")
            np.save(source, tensor)
        report = None if callback is None else (lambda done, total_units: callback(done / total_units))
        results = run_shards(_run_shard, (source, lead, keep_subsets, threads, total),
                             [range(p, p + 1) for p in range(count)], executor=executor, report=report, total=count)
        subsets = np.empty(2**n) if keep_subsets else None
        unit_sums = np.empty((units, n + 1))
        for pattern, (part, sums) in enumerate(results):
            unit_sums[pattern::count] = sums  # unit u = pattern + v * 2^j
            if subsets is not None:
                assert part is not None
                subsets[pattern::count] = part  # mask = pattern + t * 2^j
    finally:
        if scratch is not None:
            shutil.rmtree(scratch, ignore_errors=True)
    size_sums = np.zeros(n + 1)
    for row in unit_sums:  # unit order, one addition each: the single-process walk's order
        size_sums += row
    return subsets, size_sums


def _lattice(p: Source, keep_subsets: bool, threads: int | None,
             progress: bool | Callable[[float], object], executor: Executor | None = None,
             shards: int | None = None) -> tuple[NDArray[np.float64] | None, NDArray[np.float64], int]:
    workers = _threads(threads)
    executor = _validation.as_executor(executor)
    if executor is not None and isinstance(p, Distribution):
        raise TypeError("executor= shards the walk over a dense tensor; a sparse Distribution is walked in one process")
    if shards is not None:
        as_count(shards, "shards")  # the kind first: shards="4" is a TypeError with or without an executor
    if executor is None and shards is not None:
        raise ValueError("shards= needs an executor= to run the shards on")
    callback = progress_callback(progress)
    if isinstance(p, Distribution):
        _guard_lattice(p.n, keep_subsets, 4 * p.outcomes.shape[0] * (p.n + 2), workers, sparse=True)
        subsets, sums = _core.sparse_lattice(p.outcomes, p.probs, keep_subsets, workers, callback)
        n = p.n
    elif executor is not None:
        tensor, total = as_dense_unnormalised(p)
        subsets, sums = _sharded_lattice(tensor, total, keep_subsets, workers, executor, shards, callback)
        n = tensor.ndim
    else:
        shape = np.shape(p)  # guards first: a broadcast view of 2^35 cells must not be copied before it is refused
        _guard_lattice(len(shape), keep_subsets, 8 * math.prod(shape), workers)
        # no normalised copy: the walk divides p by its total as it reads it (peak memory: p, the result and one
        # chain of marginals per thread)
        tensor, total = as_dense_unnormalised(p)
        subsets, sums = _core.dense_lattice(tensor, keep_subsets, workers, callback, total)
        n = tensor.ndim
    if callback is not None and progress is True:
        sys.stderr.write("\n")
    return subsets, sums, n


def subset_entropies(p: Source, *, base: float | None = None, threads: int | None = None,
                     progress: bool | Callable[[float], object] = False, executor: Executor | None = None,
                     shards: int | None = None) -> NDArray[np.float64]:
    """``H(X_S)`` for every subset ``S``, indexed by bitmask (bit i = coordinate i); nats unless ``base``.

    Dense: a lattice walk computing each marginal from a parent with one more coordinate, O(q (1+q)^n) cells;
    sparse: rows grouped per subset, O(M) expected per subset. Multithreaded (``threads=None``: all cores), results
    bit-identical for every thread count; Ctrl-C cancels. ``progress=True`` draws a bar on stderr.

    ``executor=`` (dense only; any :class:`concurrent.futures.Executor`, e.g. a process pool or
    ``dask.distributed.Client(...).get_executor()``) splits the walk into ``shards`` (a power of two ``2^j``, default
    16) jobs, one per membership pattern of the first ``j`` coordinates; ``threads`` then applies inside each job. The
    result is bit-identical to the single-process walk for every shard count.
    """
    subsets, _, _ = _lattice(p, True, threads, progress, executor, shards)
    assert subsets is not None
    if base is not None:
        subsets *= as_log_scale(base)  # in place: the 2^n result is never copied (peak memory 1x)
    return subsets


def _is_exchangeable(tensor: NDArray[np.float64], declared: bool) -> bool:
    """Invariant under adjacent transpositions (which generate all permutations), to rounding.

    Each comparison makes tensor-sized temporaries (``np.allclose``: the difference, its magnitude, the tolerance and
    the verdict), so a tensor whose check would not fit in memory is refused when ``exchangeable=True`` was declared and
    otherwise simply not detected (the lattice walk then applies its own memory guard)."""
    if tensor.ndim < 2 or len(set(tensor.shape)) != 1:
        return tensor.ndim < 2
    need = 4 * tensor.nbytes
    if need > _validation.available_memory_bytes():
        if declared:
            require_memory(need, "checking exchangeable=True (comparisons under coordinate swaps)")
        return False
    return all(np.allclose(tensor, np.swapaxes(tensor, i, i + 1), rtol=1e-12, atol=1e-15) for i in range(tensor.ndim - 1))


def average_entropies(p: Source, *, base: float | None = None, threads: int | None = None,
                      exchangeable: bool = False,
                      progress: bool | Callable[[float], object] = False, executor: Executor | None = None,
                      shards: int | None = None) -> NDArray[np.float64]:
    """``e_m`` = mean of ``H(X_S)`` over ``|S| = m``, ``m = 0..n`` (nats unless ``base``).

    Exchangeable dense tensors (declared with ``exchangeable=True``, which is verified, or detected as symmetric
    under coordinate swaps) need only the ``n+1`` nested marginals: O(size). Otherwise the lattice walk of
    :func:`subset_entropies`, keeping only per-size sums (O(n) extra memory); ``executor=``/``shards=`` shard it
    as there (bit-identical for every shard count).
    """
    as_progress(progress)  # also on the exchangeable shortcut, which never reports progress nor uses threads
    exchangeable = as_flag(exchangeable, "exchangeable")
    _threads(threads)
    if isinstance(p, Distribution) and exchangeable:
        raise ValueError("exchangeable=True needs a dense tensor; a Distribution is always walked exactly (drop the flag)")
    if not isinstance(p, Distribution):
        if not exchangeable and np.ndim(p) > MAX_LATTICE_N:  # refuse before copying a (possibly broadcast) tensor
            _guard_lattice(np.ndim(p), False, 0, 1, sparse=True)  # the C++ walk's own limit, dense or sparse
        if exchangeable:  # a float64 copy plus the swap comparisons' temporaries: refuse before copying anything
            require_memory(5 * 8 * math.prod(np.shape(p)), "checking exchangeable=True on a float64 copy of p")
        tensor, total = as_dense_unnormalised(p)
        if not np.may_share_memory(tensor, p):  # our own float64 copy: normalise it in place (free), so the walk's
            tensor /= total  # own check below holds it to float64's tolerance, not the input dtype's
            total = 1.0
        symmetric = _is_exchangeable(tensor, exchangeable)
        if exchangeable and not symmetric:
            raise ValueError("exchangeable=True, but p changes when two coordinates are swapped")
        if symmetric:
            return _core.dense_prefix_entropies(tensor / total if total != 1.0 else tensor) * as_log_scale(base)
        p = tensor
    _, sums, n = _lattice(p, False, threads, progress, executor, shards)
    counts = np.array([math.comb(n, m) for m in range(n + 1)], dtype=np.float64)
    return sums / counts * as_log_scale(base)


def information_curve(p: Source | EntropyEstimate, *, base: float | None = None, threads: int | None = None,
                      exchangeable: bool = False,
                      progress: bool | Callable[[float], object] = False, executor: Executor | None = None,
                      shards: int | None = None) -> NDArray[np.float64]:
    """``Z_i = e_1 - (e_i - e_{i-1})``, ``i = 1..n``: mutual information of a fresh position with ``i-1`` revealed ones.

    From an :class:`EntropyEstimate` the noisy curve is projected onto valid curves (``project_monotone``); the
    estimate records its unit (``p.base``), so ``base`` converts from that unit, never twice.
    ``executor=``/``shards=``: the sharded walk of :func:`subset_entropies` (bit-identical results).
    """
    if isinstance(p, EntropyEstimate):
        return project_monotone(curve_from_entropies(p.e * (as_log_scale(base) / as_log_scale(p.base))))
    return curve_from_entropies(average_entropies(p, base=base, threads=threads, exchangeable=exchangeable,
                                                  progress=progress, executor=executor, shards=shards))


def _marginals(p: Source) -> tuple[NDArray[np.float64], NDArray[np.float64], float]:
    if isinstance(p, Distribution):
        return _core.sparse_marginal_entropies(p.outcomes, p.probs)
    return _core.dense_marginal_entropies(as_dense(p))


def total_correlation(p: Source, *, base: float | None = None) -> float:
    """``TC = sum_i H(X_i) - H(X)`` (= ``sum Z``), from the n+1 marginals it needs: O(n size), no lattice walk."""
    singles, _, joint = _marginals(p)
    return float(np.sum(singles) - joint) * as_log_scale(base)


def dual_total_correlation(p: Source, *, base: float | None = None) -> float:
    """``DTC = H(X) - sum_i H(X_i | X_{-i})`` (= ``n Z_n - sum Z``), from 2n+1 marginals: O(n size)."""
    _, leave_one_outs, joint = _marginals(p)
    n = leave_one_outs.size
    return float(np.sum(leave_one_outs) - (n - 1) * joint) * as_log_scale(base)


__all__ = [
    "MAX_LATTICE_N",
    "average_entropies",
    "dual_total_correlation",
    "information_curve",
    "subset_entropies",
    "total_correlation",
]
