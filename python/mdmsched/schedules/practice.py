"""Peer-exact practice schedules (SPEC §6, issue 11): the per-pass counts real MDM samplers run, count for count.

ASS and OpenDLM's shapes live in :mod:`~mdmsched.schedules.field` and are re-exported here. Each rule is written
from the peer's formula (repository, file and commit in the README table), including its float
precision and its passes that reveal nothing. A rule returns a :class:`~mdmsched.Schedule` whose ``passes`` are the
peer's counts per model call (a 0 is a call that reveals nothing: it costs a call and adds no error) and whose
``sizes`` are the non-empty steps (the theory's schedule, used by ``schedule_error``). ``k > n`` is accepted where
the peer accepts it. All rules are O(k) apart from :func:`dus` (O(B log B)); the sequential recursions of Dream and
dllm run in C++ (``_core.dream_counts``, ``_core.dllm_counts``), the rest is vectorised NumPy.
"""

from __future__ import annotations

import math
from typing import Any, Callable

import numpy as np
from numpy.typing import ArrayLike, NDArray

import mdmsched._core as _core  # noqa: PLR0402  a plain import of the extension module, not of the package face

from .._schedule import BlockSchedule, Schedule
from .._validation import as_count, as_tolerance
from ._float32 import cos32, xla_log32
from .field import FLEXIBLE_SHAPES, ass, ass_blocks, ass_exponent, flexible

_F32 = np.float32
MASKGIT_METHODS = ("cosine", "uniform", "pow2", "pow3", "log", "exp")
#: Largest number of passes (model calls) or positions a rule builds arrays for; larger values raise ``ValueError``
#: before any allocation (no sampler run makes 16.7 million model calls).
MAX_COUNT = 2**24
#: Largest sequence length ``n`` a rule accepts: counts are int64 (larger values raise ``ValueError``, not overflow).
MAX_LENGTH = 2**62


def _count(value: int, name: str, minimum: int = 1) -> int:
    return as_count(value, name, minimum, MAX_LENGTH)  # counts are int64


def _steps(value: int, name: str = "k") -> int:
    out = _count(value, name)
    if out > MAX_COUNT:
        raise ValueError(f"{name} must be <= {MAX_COUNT} (passes are model calls), got {out}")
    return out


def _peer(passes: list[int] | NDArray[np.int64], name: str) -> Schedule:
    counts = np.asarray(passes, dtype=np.int64)
    return Schedule(counts[counts > 0], name=name, passes=counts)


def _fma32(a: ArrayLike, b: float | np.floating[Any], c: float) -> NDArray[np.float32]:
    """``a * b + c`` rounded once to float32 (a fused multiply-add). Exact when ``a``, ``b``, ``c`` are float32 values
    whose product and sum fit a double's 53 bits, as they do for the grids used here."""
    return (np.asarray(a, dtype=np.float64) * np.float64(b) + np.float64(c)).astype(_F32)


def _mul32(a: NDArray[np.float32], b: NDArray[np.float32] | np.float32) -> NDArray[np.float32]:
    return np.asarray(np.asarray(a, dtype=_F32) * _F32(b), dtype=_F32)


# ---- LLaDA / diffusers ----------------------------------------------------------------------------------------


def _equal_counts(n: int, k: int) -> NDArray[np.int64]:
    counts = np.full(k, n // k, dtype=np.int64)
    counts[: n % k] += 1
    return counts


def equal(n: int, k: int) -> Schedule:
    """LLaDA's ``get_num_transfer_tokens`` (= diffusers ``BlockRefinementScheduler``): ``n // k`` tokens per pass,
    plus one for each of the first ``n % k`` passes. With ``k > n`` the last ``k - n`` passes reveal 0. O(k)."""
    n = _count(n, "n")
    k = _steps(k)
    return _peer(_equal_counts(n, k), f"LLaDA equal (k={k})")


def diffusers_uniform(n: int, k: int) -> Schedule:
    """diffusers ``BlockRefinementScheduler`` in uniform-corruption mode (no mask token, threshold never met): a
    cumulative quota, ``N_j = ceil(j n / k)`` committed after pass ``j``; passes of 0 when ``k > n``. O(k)."""
    n = _count(n, "n")
    k = _steps(k)
    # ceil(j n / k) = j q + ceil(j r / k) with n = q k + r: every product stays below 2^62 (j q <= n, j r < k^2)
    q, r = divmod(n, k)
    j = np.arange(k + 1, dtype=np.int64)
    committed = j * q + (j * r + k - 1) // k
    return _peer(np.diff(committed), f"diffusers uniform quota (k={k})")


def _block_lengths(gen_length: int, block_length: int, steps: int) -> tuple[int, int, int]:
    gen_length = _count(gen_length, "gen_length")
    block_length = _count(block_length, "block_length")
    steps = _steps(steps, "steps")
    if gen_length % block_length:
        raise ValueError(f"gen_length ({gen_length}) must be a multiple of block_length ({block_length}) (LLaDA assert)")
    blocks = gen_length // block_length
    if steps % blocks:
        raise ValueError(f"steps ({steps}) must be a multiple of the number of blocks ({blocks}) (LLaDA assert)")
    return gen_length, block_length, steps // blocks


def llada_blocks(gen_length: int, block_length: int, steps: int) -> BlockSchedule:
    """LLaDA ``generate()``: ``gen_length / block_length`` blocks, each run for ``steps / blocks`` passes of
    :func:`equal` over its ``block_length`` positions (zeros kept: LLaDA runs every pass). LLaDA's asserts
    (``gen_length % block_length == 0``, ``steps % blocks == 0``) raise ``ValueError``. Returned as a
    :class:`BlockSchedule` (one schedule per block, as the sampler loop indexes it); ``.passes`` is the flat list."""
    gen_length, block_length, per_block = _block_lengths(gen_length, block_length, steps)
    block = _peer(_equal_counts(block_length, per_block), f"LLaDA equal (k={per_block})")
    return BlockSchedule((block,) * (gen_length // block_length),
                         name=f"LLaDA generate B={block_length} (steps={steps})")


def fastdllm_blocks(gen_length: int, block_length: int, steps: int) -> BlockSchedule:
    """Fast-dLLM ``generate()`` (``threshold=None``): LLaDA's blocks and counts, but a block ends as soon as it is
    fully revealed, so its trailing passes of 0 are never run. Same asserts as :func:`llada_blocks`."""
    gen_length, block_length, per_block = _block_lengths(gen_length, block_length, steps)
    counts = _equal_counts(block_length, per_block)
    block = _peer(counts[counts > 0], f"Fast-dLLM equal (k={per_block})")
    return BlockSchedule((block,) * (gen_length // block_length),
                         name=f"Fast-dLLM generate B={block_length} (steps={steps})")


# ---- MaskGIT ------------------------------------------------------------------------------------------------------


def maskgit_counts(n: int, ratios: NDArray[np.float32]) -> NDArray[np.int64]:
    """MaskGIT ``decode``'s per-pass counts for mask ratios ``r_j`` (float32) at ``t = j / num_iter``,
    ``j = 1..num_iter-1``: ``mask_len = max(1, min(unknown - 1, floor(float32(n * clip(r_j, 1e-6, 1)))))`` stay
    masked after pass ``j``; the last pass reveals the rest. Ratios must be finite (``ValueError`` otherwise: a
    ratio is a fraction of the sequence, and an infinite one is an upstream error). O(num_iter)."""
    n = _count(n, "n")
    raw = np.asarray(ratios)
    if raw.dtype.kind not in "iuf":
        raise TypeError(f"ratios must be a 1-D array of real numbers, got dtype {raw.dtype}")
    if raw.ndim != 1:
        raise ValueError(f"ratios must be 1-D (one ratio per pass), got shape {raw.shape}")
    if np.isinf(raw).any():
        raise ValueError("ratios must be finite, got an infinite mask ratio")
    return _maskgit_counts(n, raw)  # NaN: ValueError there


def _maskgit_counts(n: int, raw: NDArray[np.generic]) -> NDArray[np.int64]:
    """The count recursion itself. MaskGIT's own ratios can be infinite (``log`` at n = 1: log2(n) = 0); they clip
    to the ends, as ``jnp.clip`` does. NaN raises ``ValueError``."""
    if np.isnan(raw).any():
        raise ValueError("ratios must not be NaN (MaskGIT's arithmetic gave NaN)")
    r = np.clip(raw.astype(_F32), _F32(1e-6), _F32(1))  # +-inf clip to the ends, as jnp.clip does (log at n = 1)
    lengths = np.floor(_mul32(r, _F32(n))).astype(np.int64)
    counts, unknown = [], n
    for length in lengths.tolist():
        keep = max(1, min(unknown - 1, length))
        counts.append(unknown - keep)
        unknown = keep
    counts.append(unknown)
    return np.asarray(counts, dtype=np.int64)


def _log32(x: NDArray[np.float32] | np.float32) -> NDArray[np.float32]:
    """float32 natural log as XLA computes it on CPU (:func:`~mdmsched.schedules._float32.xla_log32`): the correctly
    rounded log differs from it by one ulp for ~14% of arguments in (0, 1), which moved a count (n = 100, 30 passes,
    issue 28)."""
    return xla_log32(x)


def maskgit_ratios(n: int, k: int, method: str = "cosine") -> NDArray[np.float32]:
    """MaskGIT's float32 mask ratios ``r(j / k)``, ``j = 1..k-1``, as XLA (CPU) compiles ``mask_schedule.schedule``
    inside ``decode``.

    XLA folds the division by the constant ``k`` into ``j * rk`` with ``rk = float32(1 / k)``, folds constant factors
    together and contracts ``1 - a * b`` into one fused multiply-add. With ``c = float32(1 / ln 2)``:
    ``uniform`` is ``fma(-j, rk, 1)``; ``pow2``, ``pow3`` are ``fma(-j**E, rk**E, 1)`` (``j**E`` and ``rk**E`` by
    float32 products, as XLA rewrites ``t**2``, ``t**3``); ``powE`` for ``E >= 4`` is ``1 - (j rk)**E`` (XLA keeps
    ``power``; not checked against MaskGIT's output); ``cosine`` is ``cos(j * float32(float32(pi / 2) * rk))``;
    ``log`` is ``-(log(j rk) c) / (log(n) c)``; ``exp`` is ``1 - exp(float32(-(log(n) c) * fma(-j, rk, 1)) *
    float32(ln 2))`` (``log2`` and ``exp2`` as JAX lowers them: through ``log`` and ``exp``). Every operation rounds
    to float32. ``log``, ``exp`` and ``cos`` are correctly rounded here; XLA's own are within one ulp, which moved no
    count on the 16,336 cases of ``tests/data/maskgit_schedules.json`` (MaskGIT's own ``decode``): every one is
    reproduced except nine at n >= 1000 where ties among MaskGIT's float32 Gumbel confidences made it mask fewer
    than its own ``mask_len`` (random, seed-dependent; listed in ``tests/schedules/test_maskgit_peer.py``).
    """
    n, k = _count(n, "n"), _steps(k)
    if not isinstance(method, str):
        raise TypeError(f"method must be a string, got {type(method).__name__}")
    j = np.arange(1, k, dtype=_F32)
    rk = _F32(1) / _F32(k)
    if method == "uniform":
        return _fma32(-j, rk, 1.0)
    if method.startswith("pow") and method[3:].isascii() and method[3:].isdigit() and int(method[3:]) >= 4:
        # XLA rewrites t**2 and t**3 into products but keeps power(t, E) for E >= 4: 1 - float32(t**E), t = j rk
        t = _mul32(j, rk)
        exponent = float(min(int(method[3:]), 2**53))  # t < 1: t**E is 0 in float32 long before 2^53
        with np.errstate(under="ignore"):
            return np.asarray(_F32(1) - np.power(t.astype(np.float64), exponent).astype(_F32), dtype=_F32)
    if method.startswith("pow") and method[3:].isascii() and method[3:].isdigit() and int(method[3:]) >= 1:
        # E = 1, 2, 3 (k <= 2^24 keeps j**3 and rk**3 inside float32's normal range)
        power_j, power_rk = j.copy(), rk
        for _ in range(int(method[3:]) - 1):
            power_j, power_rk = _mul32(j, power_j), _F32(power_rk * rk)
        return _fma32(-power_j, power_rk, 1.0)
    if method == "cosine":
        return np.cos(_mul32(j, _F32(_F32(math.pi / 2) * rk)).astype(np.float64)).astype(_F32)
    inv_ln2 = _F32(1 / math.log(2))
    log2n = _F32(_log32(_F32(n)) * inv_ln2)
    if method == "log":
        with np.errstate(divide="ignore"):  # n = 1: log2(n) = 0 and the ratio is inf, which the clip maps to 1
            return np.asarray(-_mul32(_log32(_mul32(j, rk)), inv_ln2) / log2n, dtype=_F32)
    if method == "exp":
        argument = _mul32(_mul32(_fma32(-j, rk, 1.0), -log2n), _F32(math.log(2)))
        return np.asarray(_F32(1) - np.exp(argument.astype(np.float64)).astype(_F32), dtype=_F32)
    raise ValueError(f"method must be one of {', '.join(MASKGIT_METHODS)} (or powE, integer E >= 1), got {method!r}")


def maskgit(n: int, k: int, method: str = "cosine") -> Schedule:
    """MaskGIT ``parallel_decode.decode`` with ``num_iter = k`` and ``mask_scheduling_method = method``.

    After pass ``j < k``, ``max(1, min(unknown - 1, floor(n r(j / k))))`` positions stay masked (float32, ``r``
    clipped to [1e-6, 1], see :func:`maskgit_ratios`); the last pass reveals the rest. A pass reveals 0 only when one
    position is left (``k > n`` or a flat ratio): MaskGIT still runs it. O(k).
    """
    n = _count(n, "n")
    k = _steps(k)
    return _peer(_maskgit_counts(n, maskgit_ratios(n, k, method)), f"MaskGIT {method} (k={k})")


def cosine(n: int, k: int) -> Schedule:
    """MaskGIT's cosine schedule (its default): few tokens early, many late. ``maskgit(n, k, "cosine")``: float32
    ``floor(n cos(pi t / 2))`` still masked after pass ``t = j / k``, clamped to ``[1, unknown - 1]``."""
    return maskgit(n, k, "cosine")


# ---- DUS ---------------------------------------------------------------------------------------------------------


def dus(block_length: int) -> Schedule:
    """DUS ``dilated_unmask_levels(0, B - 1, base=2, skip_exp=1)`` + ``merge_last_level`` for one block of ``B``.

    Levels: with stride ``B // 2``, then halving down to 1, each level reveals the not yet revealed offsets that are
    multiples of the stride; leftovers form a last level, and the last level is merged into the one before when it is
    smaller. ``B = 2^m`` gives ``[2, 2, 4, ..., B/2]`` (``log2 B`` steps); other ``B`` give irregular levels
    (``B = 100`` -> ``[2, 2, 8, 8, 16, 64]``). DUS runs this per block, so its step count is fixed by ``B``.
    O(B log B).
    """
    length = _steps(block_length, "block_length")
    offsets = np.arange(length)
    revealed = np.zeros(length, dtype=bool)
    levels: list[int] = []
    stride = length // 2
    while stride >= 1:
        fresh = (offsets % stride == 0) & ~revealed
        if fresh.any():
            levels.append(int(fresh.sum()))
            revealed |= fresh
        stride //= 2
    if not revealed.all():
        levels.append(int((~revealed).sum()))
    if len(levels) >= 2 and levels[-1] < levels[-2]:
        last = levels.pop()
        levels[-1] += last
    return _peer(levels, f"DUS dilated B={length} (k={len(levels)})")


# ---- Dream -------------------------------------------------------------------------------------------------------


def _linspace32(start: float, end: float, steps: int) -> NDArray[np.float32]:
    """``torch.linspace(start, end, steps)`` in float32 on CPU: ``step = (end - start) / (steps - 1)`` in float32,
    the first half ``start + i step`` and the second ``end - (steps - 1 - i) step``, each with one rounding (fma)."""
    first, last = _F32(start), _F32(end)
    if steps == 1:
        return np.asarray([first], dtype=_F32)
    step = np.float64(_F32(last - first) / _F32(steps - 1))
    i = np.arange(steps, dtype=np.float64)
    low = (np.float64(first) + step * i).astype(_F32)
    high = (np.float64(last) - step * (steps - 1 - i)).astype(_F32)
    return np.where(np.arange(steps) < steps // 2, low, high).astype(_F32)


def dream(n: int, k: int, eps: float = 1e-3) -> Schedule:
    """Dream ``_sample`` (``alg="entropy"`` and the other top-k algorithms): ``t = linspace(1, eps, k + 1)`` in
    float32; pass ``i < k - 1`` reveals ``int(float32(M (1 - t_{i+1} / t_i)))`` (truncation) of the ``M`` still
    masked, the last pass the rest. At ``k = n`` the first pass reveals 0 (Dream still runs it). O(k)."""
    n = _count(n, "n")
    k = _steps(k)
    eps = as_tolerance(eps)
    if not eps < 1:
        raise ValueError(f"eps must be < 1, got {eps}")
    t = _linspace32(1.0, eps, k + 1)
    shrink = (_F32(1) - (t[1:] / t[:-1]).astype(_F32)).astype(_F32)
    return _peer(_core.dream_counts(n, shrink), f"Dream eps={eps:g} (k={k})")  # the sequential loop, in C++


# ---- dllm --------------------------------------------------------------------------------------------------------


def _dllm_alpha(kind: str) -> Callable[[NDArray[np.float32]], NDArray[np.float32]]:
    if not isinstance(kind, str):
        raise TypeError(f"alpha must be 'linear' or 'cosine', got {type(kind).__name__} {kind!r}")
    if kind == "linear":
        return lambda t: np.asarray(_F32(1) - t, dtype=_F32)
    if kind == "cosine":
        return lambda t: np.asarray(_F32(1) - cos32(_mul32(_F32(1) - t, _F32(math.pi / 2))), dtype=_F32)
    raise ValueError(f"alpha must be 'linear' or 'cosine', got {kind!r}")


def dllm_counts(n: int, alpha_grid: NDArray[np.float32]) -> NDArray[np.int64]:
    """dllm ``get_num_transfer_tokens`` (``stochastic=False``) for float32 ``alpha`` at ``t = i / k``, ``i = 0..k``:
    pass ``j`` (``t = (k-j)/k``, ``s = t - 1/k``) reveals ``round(M (1 - r))`` (round half to even, capped at
    ``M``), ``r = float32((1 - alpha(s)) / (1 - alpha(t)))`` and ``1 - r`` in double; it stops when nothing is left.
    Passes of 0 are returned here (dllm drops them). ``alpha_grid`` must be finite with ``alpha < 1`` at ``t > 0`` (the
    ratio's denominators), ``alpha = 1`` at ``t = 0`` and give counts >= 0 (``alpha`` non-increasing in ``t``), else
    ``ValueError``. O(k)."""
    n = _count(n, "n")
    raw = np.asarray(alpha_grid)
    if raw.dtype.kind not in "iuf":
        raise TypeError(f"alpha_grid must be a 1-D real array of k + 1 >= 2 values, got dtype {raw.dtype}")
    if raw.ndim != 1 or raw.size < 2:
        raise ValueError(f"alpha_grid must be 1-D with k + 1 >= 2 values, got shape {raw.shape}")
    alpha = raw.astype(_F32)
    if not np.isfinite(alpha).all():
        raise ValueError("alpha_grid must be finite")
    masked_fraction = (_F32(1) - alpha).astype(_F32)
    if not (masked_fraction[1:] > 0).all():
        raise ValueError("alpha_grid must be < 1 at every t > 0 (1 - alpha(t) is a denominator)")
    return _core.dllm_counts(n, masked_fraction)  # the sequential loop, in C++ (its ValueErrors as documented)


def dllm(n: int, k: int, alpha: str = "linear") -> Schedule:
    """dllm's deterministic sampler schedule with ``LinearAlphaScheduler`` (``alpha = 1 - t``) or
    ``CosineAlphaScheduler`` (``alpha = 1 - cos(pi/2 (1 - t))``), alpha in float32 (see :func:`dllm_counts`); the
    float32 cosine is ``schedules._float32.cos32`` on every machine, with or without torch (torch's own
    depends on its build). dllm drops its passes of 0, so ``passes == sizes`` here. O(k)."""
    n = _count(n, "n")
    k = _steps(k)
    fn = _dllm_alpha(alpha)
    grid = fn((np.arange(k + 1, dtype=np.float64) / k).astype(_F32))
    counts = dllm_counts(n, grid)
    return _peer(counts[counts > 0], f"dllm {alpha} (k={k})")


__all__ = [
    "FLEXIBLE_SHAPES",
    "ass",
    "ass_blocks",
    "ass_exponent",
    "cosine",
    "diffusers_uniform",
    "dllm",
    "dllm_counts",
    "dream",
    "dus",
    "equal",
    "fastdllm_blocks",
    "flexible",
    "llada_blocks",
    "maskgit",
    "maskgit_counts",
    "maskgit_ratios",
]
