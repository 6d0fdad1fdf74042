"""Unmasking schedules from practice and from theory (SPEC §6). Every function returns a :class:`Schedule` with
steps >= 1 summing to ``n``. mdmsched's own constructions that take a step count ``k`` return exactly ``k`` non-empty
steps whenever ``1 <= k <= n``: their rounded breakpoints are clamped forward (see :func:`exact_k_breakpoints`).
The practice rules named after a sampler (``equal`` = LLaDA, ``cosine`` = MaskGIT, and the rest of
:mod:`mdmsched.practice`) give exactly that sampler's counts instead, zeros included in ``passes``. Rounding rules are
part of each docstring.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
from numpy.typing import ArrayLike, NDArray

from ._validation import (
    as_curve,
    as_int,
    as_real,
    as_real_array,
    as_sizes,
    as_steps,
    as_tolerance,
    require_memory,
)
from .practice import cosine as cosine  # noqa: PLC0414  explicit re-export for type checkers (no __all__ here)
from .practice import dus as dus  # noqa: PLC0414  explicit re-export for type checkers (no __all__ here)
from .practice import equal as equal  # noqa: PLC0414  explicit re-export for type checkers (no __all__ here)
from .schedule import BlockSchedule, Schedule
from .solve import error_frontier, optimal_schedule, schedule_error


def _positive_n(n: int) -> int:
    value = as_int(n, "n")
    if value < 1:
        raise ValueError(f"n must be >= 1, got {value}")
    return value


def exact_k_breakpoints(n: int, k: int, targets: ArrayLike) -> NDArray[np.int64]:
    """Breakpoints ``0 = N_0 < N_1 < ... < N_k = n`` nearest a rounded target ``R_1..R_{k-1}`` with every step >= 1.

    The forward clamp ``N_j = min(n - (k - j), max(N_{j-1} + 1, R_j))`` keeps one token for this step and one for
    each step still to come, so ``1 <= k <= n`` always gives exactly ``k`` non-empty steps. It equals the closed form
    ``N_j = j + min(n - k, max(0, max_{i <= j} (R_i - i)))``, evaluated here in O(k) numpy.
    """
    r = np.asarray(targets, dtype=np.int64)
    j = np.arange(1, k, dtype=np.int64)
    inner = j + np.clip(np.maximum.accumulate(r - j) if r.size else r, 0, n - k)
    return np.concatenate(([0], inner, [n])).astype(np.int64)


def _exact_k(n: int, k: int, targets: ArrayLike, name: str, bound: float | None = None) -> Schedule:
    sizes = np.diff(exact_k_breakpoints(n, k, targets))
    return Schedule(sizes, name=f"{name} (k={k})", bound=bound)


def cosine_squared(n: int, k: int) -> Schedule:
    """The cos^2 ("Fisher-Rao") bell: ``alpha_t = cos^2(pi t / 2)`` on a uniform time grid; few tokens at both ends.

    Rounding: after step ``t`` the number still masked is ``M_t = floor(n cos^2(pi t / 2k) + 1/2)`` (round half up),
    ``M_k = 0``; the breakpoints ``n - M_t`` are then clamped forward (:func:`exact_k_breakpoints`) so every step
    reveals at least one token: exactly ``k`` steps for ``1 <= k <= n``. O(k).
    """
    n = _positive_n(n)
    k = as_steps(k, n)
    t = np.arange(1, k)
    masked = np.floor(n * np.cos(np.pi * t / (2 * k)) ** 2 + 0.5).astype(np.int64)
    return _exact_k(n, k, n - masked, "cosine^2")


def geometric_growth(n: int, k: int | None = None, *, ratio: float = 2.0) -> Schedule:
    """Geometrically growing steps: the revealed count ``N_j`` grows by a constant factor (1, 1, 2, 4, 8, ... for
    ``ratio = 2``). Not DUS: DUS's dilated levels are :func:`mdmsched.practice.dus`. Also available as ``geometric``.

    Without ``k``: ``N_1 = 1``, ``N_j = min(n, max(N_{j-1} + 1, ceil(ratio N_{j-1})))``. With ``k``: targets
    ``R_j = floor(n^{j/k} + 1/2)`` (growth ratio ``n^{1/k}``), clamped forward (:func:`exact_k_breakpoints`), so
    every step is non-empty and there are exactly ``k`` of them for ``1 <= k <= n``. O(k).
    """
    n = _positive_n(n)
    if k is not None:
        k = as_steps(k, n)
        targets = np.floor(float(n) ** (np.arange(1, k) / k) + 0.5).astype(np.int64)
        return _exact_k(n, k, targets, "geometric growth n^(j/k)")
    if not as_real(ratio, "ratio") > 1:  # numbers.Real: np.float32(2) is fine, "2" is a TypeError
        raise ValueError(f"ratio must be a finite number > 1, got {ratio!r}")
    breakpoints = [0]
    while breakpoints[-1] < n:
        last = breakpoints[-1]
        breakpoints.append(1 if last == 0 else min(n, max(last + 1, math.ceil(ratio * last))))
    sizes = np.diff(breakpoints)
    return Schedule(sizes, name=f"geometric growth x{ratio:g} (k={sizes.size})")


geometric = geometric_growth


def from_mask_fractions(n: int, fractions: ArrayLike, name: str = "custom") -> Schedule:
    """Any user curve of "fraction still masked after step t", ``t = 1..k``: non-increasing in [0, 1], ending at 0.

    Rounding: ``M_t = floor(n f_t + 1/2)``. When ``k <= n`` the breakpoints ``n - M_t`` are clamped forward
    (:func:`exact_k_breakpoints`), so the schedule has exactly ``k`` non-empty steps; when ``k > n`` some steps must
    be empty and they are dropped. O(k).
    """
    n = _positive_n(n)
    f = as_real_array(fractions, "fractions", ndim=1)
    if f.size == 0:
        raise ValueError("fractions must have at least one entry")
    if (f < 0).any() or (f > 1).any():
        raise ValueError("fractions must lie in [0, 1]")
    if (np.diff(f) > 0).any():
        raise ValueError("fractions must be non-increasing (the masked fraction only shrinks)")
    if f[-1] != 0:
        raise ValueError(f"the last fraction must be 0 (everything revealed), got {f[-1]!r}")
    masked = np.floor(n * f + 0.5).astype(np.int64)
    if f.size <= n:
        return _exact_k(n, f.size, n - masked[:-1], name)
    sizes = -np.diff(np.concatenate(([n], masked)))
    sizes = sizes[sizes > 0]
    return Schedule(sizes, name=f"{name} (k={sizes.size})")


# ---- schedules from theory ------------------------------------------------------------------------------------


def _zeta(estimate: float, eps: float, what: str) -> int:
    estimate = as_tolerance(estimate, what)
    eps = as_tolerance(eps)
    if eps == 0:
        raise ValueError("eps must be > 0")
    ratio = estimate / eps
    if not math.isfinite(ratio):
        raise ValueError(f"{what} / eps = {estimate!r} / {eps!r} overflows a double; give eps on a sensible scale")
    return 1 + math.ceil(ratio)


def _shrinking(n: int, zeta: int) -> NDArray[np.int64]:
    """TC construction: N_i = floor(N_{i-1} + (n - N_{i-1}) / zeta) while it progresses, then single steps."""
    require_memory(64 * n, "a schedule of up to n single-token steps")
    if zeta >= n + 1:
        return np.ones(n, dtype=np.int64)
    bp = [0]
    while True:
        nxt = bp[-1] + (n - bp[-1]) // zeta
        if nxt <= bp[-1]:
            break
        bp.append(nxt)
    bp.extend(range(bp[-1] + 1, n + 1))
    return np.diff(bp).astype(np.int64)


def _growing(n: int, zeta: int) -> NDArray[np.int64]:
    """DTC construction: masked counts M_i = ceil(M_{i-1} (1 - 1/zeta)) while progressing, then down by one;
    played backwards in time (first steps reveal one token each, later ones at most 1/(zeta-1) of the revealed)."""
    require_memory(64 * n, "a schedule of up to n single-token steps")
    if zeta >= n + 1:
        return np.ones(n, dtype=np.int64)
    masked = [n]
    while True:
        nxt = (masked[-1] * (zeta - 1) + zeta - 1) // zeta
        if nxt >= masked[-1]:
            break
        masked.append(nxt)
    masked.extend(range(masked[-1] - 1, -1, -1))
    return (-np.diff(masked))[::-1].astype(np.int64)


def tc_schedule(n: int, tc: float, eps: float) -> Schedule:
    """Steps shrinking geometrically, from an estimate ``tc`` of TC (nats) and a target error ``eps`` (nats).

    ``zeta = 1 + ceil(tc / eps)``; if ``zeta >= n + 1`` all single steps; else ``N_i = floor(N_{i-1} +
    (n - N_{i-1}) / zeta)`` while that progresses, then single-token steps. Guarantee: ``err <= TC / (zeta - 1) <=
    eps * TC / tc`` (``bound`` is ``tc / (zeta - 1)``) and ``k <= 2 + (1 + ln n) zeta``. O(k).
    """
    n = _positive_n(n)
    zeta = _zeta(tc, eps, "tc")
    bound = float(tc) / (zeta - 1) if zeta > 1 else 0.0
    sizes = _shrinking(n, zeta)
    return Schedule(sizes, name=f"TC (zeta={zeta}, k={sizes.size})", bound=bound)


def dtc_schedule(n: int, dtc: float, eps: float) -> Schedule:
    """Steps growing geometrically (the time-reverse of :func:`tc_schedule`), from an estimate ``dtc`` of DTC.

    Same ``zeta``; masked counts ``M_0 = n``, ``M_i = ceil(M_{i-1} (1 - 1/zeta))`` while that progresses, then down by
    one to 0, played backwards. Guarantee: ``err <= DTC / (zeta - 1)`` (``bound``). O(k).
    """
    n = _positive_n(n)
    zeta = _zeta(dtc, eps, "dtc")
    bound = float(dtc) / (zeta - 1) if zeta > 1 else 0.0
    sizes = _growing(n, zeta)
    return Schedule(sizes, name=f"DTC (zeta={zeta}, k={sizes.size})", bound=bound)


def budget_schedule(n: int, budget: int, kind: str = "tc") -> Schedule:
    """The TC (``kind="tc"``) or DTC schedule for a step budget ``K``, needing no estimate of TC or DTC.

    ``zeta = floor((K - 2) / (1 + ln n))`` (must be >= 2); at most ``K`` steps, and ``err <= TC / (zeta - 1)``
    (resp. ``DTC / (zeta - 1)``): the returned ``bound`` is ``None`` since TC/DTC are unknown here.
    """
    n = _positive_n(n)
    budget = as_int(budget, "budget")
    if kind not in ("tc", "dtc"):
        raise ValueError(f"kind must be 'tc' or 'dtc', got {kind!r}")
    zeta = math.floor((budget - 2) / (1 + math.log(n)))
    if zeta < 2:
        raise ValueError(f"budget {budget} is too small for n = {n}: need K >= {2 + math.ceil(2 * (1 + math.log(n)))}")
    sizes = _shrinking(n, zeta) if kind == "tc" else _growing(n, zeta)
    label = "TC" if kind == "tc" else "DTC"
    return Schedule(sizes, name=f"{label} budget (zeta={zeta}, k={sizes.size}, err <= {label}/{zeta - 1})")


def austin_schedule(n: int, dtc: float, eps: float) -> Schedule:
    """Austin-type two-phase schedule (no proven constant): ``L = round(sqrt(dtc n / eps))`` single-token steps,
    then the remaining ``n - L`` tokens in ``min(L, n - L)`` near-equal steps (LLaDA rounding)."""
    n = _positive_n(n)
    dtc = as_tolerance(dtc, "dtc")
    eps = as_tolerance(eps)
    if eps == 0:
        raise ValueError("eps must be > 0")
    singles = min(n, max(1, math.floor(math.sqrt(dtc * n / eps) + 0.5)))
    rest = n - singles
    sizes = [1] * singles
    if rest:
        sizes += equal(rest, max(1, min(singles, rest))).tolist()
    return Schedule(np.asarray(sizes, dtype=np.int64), name=f"Austin two-phase, no proven constant (k={len(sizes)})")


def continuum_schedule(z: ArrayLike, k: int) -> Schedule:
    """Near-optimal k-step schedule from the continuum approximation: step density proportional to ``sqrt(Z')``.

    Breakpoints sit at equal quantiles of ``sum_j sqrt(Z_{j+1} - Z_j)`` (the first position reaching ``j/k`` of the
    mass; ``round(n j / k)`` on a flat curve), clamped forward (:func:`exact_k_breakpoints`) so each step has >= 1
    token: exactly ``k`` steps. Its error is close to ``opt_k ~ (sum sqrt(dZ))^2 / (2k)`` on smooth curves. O(n).
    """
    curve = as_curve(z)
    n = curve.size
    k = as_steps(k, n)
    mass = np.concatenate(([0.0], np.cumsum(np.sqrt(np.diff(curve)))))  # mass[i] at position i, i = 0..n-1
    total = mass[-1]
    j = np.arange(1, k)
    targets = np.searchsorted(mass, total * j / k, side="left") if total > 0 else np.round(n * j / k)
    sizes = np.diff(exact_k_breakpoints(n, k, targets))
    return Schedule(sizes, error=schedule_error(curve, sizes), name=f"continuum sqrt(Z') (k={k})")


def li_cai_bound(z: ArrayLike, sizes: ArrayLike | Schedule) -> float:
    """Li-Cai bound for any schedule: ``err <= (s_max - 1) Z_n`` (nats). O(n)."""
    curve = as_curve(z)
    steps = as_sizes(sizes, curve.size)
    return float((int(steps.max()) - 1) * curve[-1])


# ---- semi-autoregressive (blockwise) generation -----------------------------------------------------------------


def blockwise(n: int, block_length: int, *, steps_per_block: int | Sequence[int] | None = None,
              total_steps: int | None = None, curves: Sequence[ArrayLike] | None = None) -> BlockSchedule:
    """Blocks of ``block_length`` positions generated left to right (LLaDA / Dream semi-autoregressive sampling).

    Give either ``steps_per_block`` (one count for all blocks, or one per block) or ``total_steps`` (split across
    blocks). With per-block ``curves`` (each block's information curve given the previous blocks), steps are split
    optimally across blocks -- greedily by marginal gain ``opt_b(k) - opt_b(k+1)``, exact because each block's
    frontier is convex -- and each block uses its optimal schedule; ``error`` is then the sum of the blocks' errors.
    Without curves, ``total_steps`` is split as evenly as possible (earlier blocks get the remainder) and each block
    uses the equal split. The last block may be shorter. Returns a :class:`BlockSchedule` (``blocks[b]`` over block
    ``b``'s own positions; ``num_transfer_tokens()`` is the table a LLaDA-style loop indexes). O(blocks * B * k)
    with curves.
    """
    n = _positive_n(n)
    block_length = as_int(block_length, "block_length")
    if block_length < 1:
        raise ValueError(f"block_length must be >= 1, got {block_length}")
    lengths = [min(block_length, n - start) for start in range(0, n, block_length)]
    blocks = len(lengths)
    if (steps_per_block is None) == (total_steps is None):
        raise ValueError("give exactly one of steps_per_block and total_steps")
    if curves is not None:
        if len(curves) != blocks:
            raise ValueError(f"curves must have one curve per block ({blocks}), got {len(curves)}")
        block_curves = [as_curve(c, f"curves[{b}]") for b, c in enumerate(curves)]
        for b, (c, length) in enumerate(zip(block_curves, lengths)):
            if c.size != length:
                raise ValueError(f"curves[{b}] must have {length} entries (the block's length), got {c.size}")
    if steps_per_block is not None:
        per = [steps_per_block] * blocks if isinstance(steps_per_block, (int, np.integer)) else list(steps_per_block)
        if len(per) != blocks:
            raise ValueError(f"steps_per_block must have one entry per block ({blocks}), got {len(per)}")
        counts = []
        for s, length in zip(per, lengths):
            count = as_int(s, "steps_per_block")
            if count < 1:
                raise ValueError(f"steps_per_block must be >= 1, got {count}")
            counts.append(min(count, length))  # a block cannot take more steps than it has tokens
    else:
        total = as_int(total_steps, "total_steps")
        if not blocks <= total <= n:
            raise ValueError(f"total_steps must be between the number of blocks ({blocks}) and n = {n}, got {total}")
        if curves is None:
            counts = _even_split(total, lengths)
        else:
            counts = _optimal_split(total, [error_frontier(c) for c in block_curves])
    blocks_out = tuple(optimal_schedule(block_curves[b], count) if curves is not None else equal(length, count)
                       for b, (count, length) in enumerate(zip(counts, lengths)))
    return BlockSchedule(blocks_out, name=f"blockwise B={block_length} (k={sum(counts)})")


def _even_split(total: int, lengths: list[int]) -> list[int]:
    """Steps per block as even as possible, never more than a block's length (surplus moves to later blocks)."""
    counts = [1] * len(lengths)
    left = total - len(lengths)
    while left:
        moved = False
        for b in range(len(lengths)):
            if left and counts[b] < lengths[b]:
                counts[b] += 1
                left -= 1
                moved = True
        if not moved:
            break
    return counts


def _optimal_split(total: int, frontiers: list[NDArray[np.float64]]) -> list[int]:
    """Greedy allocation of steps by largest error decrease; exact for convex frontiers. Ties go to earlier blocks."""
    counts = [1] * len(frontiers)
    for _ in range(total - len(frontiers)):
        gains = [f[c - 1] - f[c] if c < f.size else -np.inf for f, c in zip(frontiers, counts)]
        counts[int(np.argmax(gains))] += 1
    return counts
