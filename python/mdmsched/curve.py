"""Entropies of marginals, the information curve ``Z`` and TC/DTC of a distribution (SPEC §2, §5), in nats.

Inputs: a dense probability tensor of shape ``(q_1, ..., q_n)`` (alphabets may differ), or a sparse
:class:`Distribution` (support rows + probabilities, or the empirical law of samples).
"""

from __future__ import annotations

import math
import os
import sys
from dataclasses import dataclass
from typing import Callable, Union

import numpy as np
from numpy.typing import ArrayLike, NDArray

from . import _core
from . import _validation
from ._validation import as_int, as_real_array
from .solve import project_monotone

#: Relative tolerance for "sums to 1".
NORMALISATION_TOL = 1e-9
#: The full lattice has 2^n subsets: refuse beyond this n (use estimate_average_entropies instead).
MAX_LATTICE_N = 30


@dataclass(frozen=True, eq=False)
class Distribution:
    """A distribution over ``Sigma_1 x ... x Sigma_n`` given by its support: ``outcomes`` (M x n ints), ``probs`` (M,).

    Build one with :meth:`from_support`, :meth:`from_samples` (empirical law) or :meth:`from_dense`.
    """

    outcomes: NDArray[np.int64]
    probs: NDArray[np.float64]

    @property
    def n(self) -> int:
        """Sequence length (number of coordinates)."""
        return int(self.outcomes.shape[1])

    @classmethod
    def from_support(cls, outcomes: ArrayLike, probs: ArrayLike) -> Distribution:
        """Support rows (M x n integer symbols) with probabilities (M,), non-negative and summing to 1.

        Repeated rows are allowed (their probabilities add up).
        """
        rows = np.asarray(outcomes)
        if rows.dtype.kind not in "iu":
            raise TypeError(f"outcomes must be integers, got dtype {rows.dtype}")
        if rows.ndim != 2 or rows.shape[0] == 0 or rows.shape[1] == 0:
            raise ValueError(f"outcomes must be a non-empty 2-D array (M x n), got shape {rows.shape}")
        if rows.shape[1] > 62:
            raise ValueError(f"at most 62 coordinates are supported, got n = {rows.shape[1]}")
        p = _check_probabilities(as_real_array(probs, "probs", ndim=1), "probs")
        if p.shape[0] != rows.shape[0]:
            raise ValueError(f"probs must have one entry per outcome row: {p.shape[0]} != {rows.shape[0]}")
        return cls(np.ascontiguousarray(rows, dtype=np.int64), p)

    @classmethod
    def from_samples(cls, samples: ArrayLike) -> Distribution:
        """The empirical distribution (plug-in estimate) of ``N x n`` integer samples."""
        rows = np.asarray(samples)
        if rows.dtype.kind not in "iu":
            raise TypeError(f"samples must be integers, got dtype {rows.dtype}")
        if rows.ndim != 2 or rows.shape[0] == 0 or rows.shape[1] == 0:
            raise ValueError(f"samples must be a non-empty 2-D array (N x n), got shape {rows.shape}")
        unique, counts = np.unique(rows, axis=0, return_counts=True)
        return cls.from_support(unique, counts / counts.sum())

    @classmethod
    def from_dense(cls, p: ArrayLike) -> Distribution:
        """The support (non-zero cells) of a dense probability tensor."""
        tensor = as_dense(p)
        cells = np.argwhere(tensor > 0)
        return cls(np.ascontiguousarray(cells, dtype=np.int64), tensor[tuple(cells.T)])


Source = Union[Distribution, ArrayLike]


@dataclass(frozen=True)
class EntropyEstimate:
    """Monte Carlo estimate of the average entropies ``e_m`` (nats) with standard errors; exact where ``stderr == 0``."""

    e: NDArray[np.float64]
    stderr: NDArray[np.float64]
    subsets_per_size: int


def _check_probabilities(p: NDArray[np.float64], name: str) -> NDArray[np.float64]:
    if p.size and (p < 0).any():
        idx = tuple(int(i) for i in np.argwhere(p < 0)[0])
        raise ValueError(f"{name} must be non-negative, but {name}[{', '.join(map(str, idx))}] = {p[idx]}")
    total = float(p.sum())
    if abs(total - 1.0) > NORMALISATION_TOL * max(1, p.size) ** 0.5:
        raise ValueError(f"{name} must sum to 1 (unnormalised: the sum is {total!r})")
    return np.ascontiguousarray(p / total)


def as_dense(p: ArrayLike, name: str = "p") -> NDArray[np.float64]:
    """Validated dense probability tensor: finite, >= 0, at least 1-D with non-empty axes, summing to 1 (renormalised)."""
    arr = np.asarray(p)
    if arr.ndim == 0:
        raise ValueError(f"{name} must have at least one dimension (one per coordinate), got a scalar")
    if 0 in arr.shape:
        raise ValueError(f"{name} must have non-empty axes, got shape {arr.shape}")
    if arr.ndim > 62:
        raise ValueError(f"{name} has {arr.ndim} dimensions; at most 62 are supported")
    return _check_probabilities(as_real_array(arr, name), name)


def _threads(threads: int | None) -> int:
    if threads is None:
        return 0
    count = as_int(threads, "threads")
    if count < 1:
        raise ValueError(f"threads must be >= 1 (or None for all cores), got {count}")
    return count


def _guard_lattice(n: int, keep_subsets: bool, chain_bytes: int, threads: int) -> None:
    if n > MAX_LATTICE_N:
        raise ValueError(
            f"the subset lattice of n = {n} coordinates has 2^{n} subsets, too many to enumerate "
            f"(limit n = {MAX_LATTICE_N}); use mdmsched.estimate_average_entropies"
        )
    workers = threads or (os.cpu_count() or 1)
    need = (8 * 2**n if keep_subsets else 0) + workers * chain_bytes
    available = _validation.available_memory_bytes()
    if need > available:
        raise ValueError(f"this enumeration needs about {need / 2**30:.2f} GiB of memory, but only "
                         f"{available / 2**30:.2f} GiB is available")


def _progress_callback(progress: bool | Callable[[float], object]) -> Callable[[float], object] | None:
    if callable(progress):
        return progress
    if not progress:
        return None

    def bar(fraction: float) -> None:
        filled = int(40 * fraction)
        sys.stderr.write(f"\rmdmsched: enumerating marginals [{'#' * filled}{'.' * (40 - filled)}] {fraction:6.1%}")
        sys.stderr.flush()

    return bar


def _lattice(p: Source, keep_subsets: bool, threads: int | None,
             progress: bool | Callable[[float], object]) -> tuple[NDArray[np.float64] | None, NDArray[np.float64], int]:
    workers = _threads(threads)
    callback = _progress_callback(progress)
    if isinstance(p, Distribution):
        _guard_lattice(p.n, keep_subsets, 4 * p.outcomes.shape[0] * (p.n + 2), workers)
        subsets, sums = _core.sparse_lattice(p.outcomes, p.probs, keep_subsets, workers, callback)
        n = p.n
    else:
        tensor = as_dense(p)
        _guard_lattice(tensor.ndim, keep_subsets, 8 * tensor.size, workers)
        subsets, sums = _core.dense_lattice(tensor, keep_subsets, workers, callback)
        n = tensor.ndim
    if callback is not None and progress is True:
        sys.stderr.write("\n")
    return subsets, sums, n


def _scale(base: float | None) -> float:
    if base is None:
        return 1.0
    if not isinstance(base, (int, float)) or isinstance(base, bool) or not base > 1 or not math.isfinite(base):
        raise ValueError(f"base must be a finite number > 1, got {base!r}")
    return 1.0 / math.log(base)


def subset_entropies(p: Source, *, base: float | None = None, threads: int | None = None,
                     progress: bool | Callable[[float], object] = False) -> NDArray[np.float64]:
    """``H(X_S)`` for every subset ``S``, indexed by bitmask (bit i = coordinate i); nats unless ``base``.

    Dense: a lattice walk computing each marginal from a parent with one more coordinate, O(q (1+q)^n) cells;
    sparse: rows grouped per subset, O(M) expected per subset. Multithreaded (``threads=None``: all cores), results
    bit-identical for every thread count; Ctrl-C cancels. ``progress=True`` draws a bar on stderr.
    """
    subsets, _, _ = _lattice(p, True, threads, progress)
    assert subsets is not None
    return subsets * _scale(base)


def _is_exchangeable(tensor: NDArray[np.float64]) -> bool:
    """Invariant under adjacent transpositions (which generate all permutations), to rounding."""
    if tensor.ndim < 2 or len(set(tensor.shape)) != 1:
        return tensor.ndim < 2
    return all(np.allclose(tensor, np.swapaxes(tensor, i, i + 1), rtol=1e-12, atol=1e-15) for i in range(tensor.ndim - 1))


def average_entropies(p: Source, *, base: float | None = None, threads: int | None = None,
                      exchangeable: bool = False,
                      progress: bool | Callable[[float], object] = False) -> NDArray[np.float64]:
    """``e_m`` = mean of ``H(X_S)`` over ``|S| = m``, ``m = 0..n`` (nats unless ``base``).

    Exchangeable dense tensors (declared with ``exchangeable=True``, which is verified, or detected as symmetric
    under coordinate swaps) need only the ``n+1`` nested marginals: O(size). Otherwise the lattice walk of
    :func:`subset_entropies`, keeping only per-size sums (O(n) extra memory).
    """
    if not isinstance(p, Distribution):
        tensor = as_dense(p)
        symmetric = _is_exchangeable(tensor)
        if exchangeable and not symmetric:
            raise ValueError("exchangeable=True, but p changes when two coordinates are swapped")
        if symmetric:
            return _core.dense_prefix_entropies(tensor) * _scale(base)
        p = tensor
    _, sums, n = _lattice(p, False, threads, progress)
    counts = np.array([math.comb(n, m) for m in range(n + 1)], dtype=np.float64)
    return sums / counts * _scale(base)


def information_curve(p: Source | EntropyEstimate, *, base: float | None = None, threads: int | None = None,
                      exchangeable: bool = False,
                      progress: bool | Callable[[float], object] = False) -> NDArray[np.float64]:
    """``Z_i = e_1 - (e_i - e_{i-1})``, ``i = 1..n``: mutual information of a fresh position with ``i-1`` revealed ones.

    From an :class:`EntropyEstimate` the noisy curve is projected onto valid curves (``project_monotone``).
    """
    if isinstance(p, EntropyEstimate):
        return project_monotone(curve_from_entropies(p.e * _scale(base)))
    return curve_from_entropies(average_entropies(p, base=base, threads=threads, exchangeable=exchangeable,
                                                  progress=progress))


def curve_from_entropies(e: ArrayLike) -> NDArray[np.float64]:
    """``Z_i = e_1 - (e_i - e_{i-1})`` from average entropies ``e_0..e_n``. O(n)."""
    entropies = as_real_array(e, "e", ndim=1)
    if entropies.size < 2:
        raise ValueError(f"e must hold e_0..e_n with n >= 1, got {entropies.size} values")
    z = entropies[1] - np.diff(entropies)
    z[0] = 0.0  # e_1 - (e_1 - e_0) with e_0 = 0 is 0 exactly; rounding would leave ~1e-16
    return np.asarray(z, dtype=np.float64)


def _marginals(p: Source) -> tuple[NDArray[np.float64], NDArray[np.float64], float]:
    if isinstance(p, Distribution):
        return _core.sparse_marginal_entropies(p.outcomes, p.probs)
    return _core.dense_marginal_entropies(as_dense(p))


def total_correlation(p: Source, *, base: float | None = None) -> float:
    """``TC = sum_i H(X_i) - H(X)`` (= ``sum Z``), from the n+1 marginals it needs: O(n size), no lattice walk."""
    singles, _, joint = _marginals(p)
    return float(np.sum(singles) - joint) * _scale(base)


def dual_total_correlation(p: Source, *, base: float | None = None) -> float:
    """``DTC = H(X) - sum_i H(X_i | X_{-i})`` (= ``n Z_n - sum Z``), from 2n+1 marginals: O(n size)."""
    _, leave_one_outs, joint = _marginals(p)
    n = leave_one_outs.size
    return float(np.sum(leave_one_outs) - (n - 1) * joint) * _scale(base)


def estimate_average_entropies(p: Source, *, subsets_per_size: int = 64, seed: int | None = None,
                               base: float | None = None) -> EntropyEstimate:
    """Monte Carlo ``e_m``: the mean of ``H(X_S)`` over ``subsets_per_size`` uniformly random subsets of each size.

    Sizes with at most ``subsets_per_size`` subsets are enumerated exactly (standard error 0). Cost:
    O(n * subsets_per_size * M * n) for a support of M rows; for large n where 2^n subsets are too many.
    """
    dist = p if isinstance(p, Distribution) else Distribution.from_dense(p)
    per_size = as_int(subsets_per_size, "subsets_per_size")
    if per_size < 2:
        raise ValueError(f"subsets_per_size must be >= 2 (a standard error needs two), got {per_size}")
    rng = np.random.default_rng(seed)
    n = dist.n
    e = np.zeros(n + 1)
    stderr = np.zeros(n + 1)
    for m in range(1, n + 1):
        exact = math.comb(n, m) <= per_size
        if exact:
            masks = _all_subsets(n, m)
        else:
            masks = np.zeros((per_size, n), dtype=np.uint8)
            for row in masks:
                row[rng.choice(n, size=m, replace=False)] = 1
        h = _core.sparse_subset_entropies(dist.outcomes, dist.probs, masks)
        e[m] = h.mean()
        stderr[m] = 0.0 if exact else h.std(ddof=1) / math.sqrt(h.size)
    scale = _scale(base)
    return EntropyEstimate(e * scale, stderr * scale, per_size)


def _all_subsets(n: int, m: int) -> NDArray[np.uint8]:
    from itertools import combinations

    rows = list(combinations(range(n), m))
    masks = np.zeros((len(rows), n), dtype=np.uint8)
    for r, cols in enumerate(rows):
        masks[r, list(cols)] = 1
    return masks


