"""Unmasking schedules from practice and from theory (SPEC §6). Every function returns a :class:`Schedule` with
steps >= 1 summing to ``n``; constructions that would produce an empty step drop it (so ``k`` can come out smaller
than asked, and the schedule's ``name`` says how many steps it has). Rounding rules are part of each docstring.
"""

from __future__ import annotations

import math
from typing import Sequence

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
from .schedule import Schedule
from .solve import error_frontier, optimal_schedule, schedule_error


def _positive_n(n: int) -> int:
    value = as_int(n, "n")
    if value < 1:
        raise ValueError(f"n must be >= 1, got {value}")
    return value


def _from_masked_counts(n: int, masked: Sequence[int], name: str, bound: float | None = None) -> Schedule:
    """Schedule from the number still masked after each step (non-increasing, ending at 0); empty steps dropped."""
    counts = np.concatenate(([n], np.asarray(masked, dtype=np.int64)))
    sizes = -np.diff(counts)
    sizes = sizes[sizes > 0]
    return Schedule(sizes, name=f"{name} (k={sizes.size})", bound=bound)


def equal(n: int, k: int) -> Schedule:
    """LLaDA's equal split: ``n // k`` tokens per step, plus one for each of the first ``n % k`` steps."""
    n = _positive_n(n)
    k = as_steps(k, n)
    sizes = np.full(k, n // k, dtype=np.int64)
    sizes[: n % k] += 1
    return Schedule(sizes, name=f"equal (k={k})")


def cosine(n: int, k: int) -> Schedule:
    """MaskGIT's cosine schedule: few tokens early, many late.

    Rounding (MaskGIT's own): after step ``t < k`` the number still masked is
    ``M_t = max(1, min(M_{t-1} - 1, floor(n * cos(pi t / 2k))))`` and ``M_k = 0``. The clamp reveals at least one
    token per step while tokens remain; steps left empty when ``M_{t-1} = 1`` are dropped.
    """
    n = _positive_n(n)
    k = as_steps(k, n)
    masked, previous = [], n
    for t in range(1, k):
        current = max(1, min(previous - 1, math.floor(n * math.cos(math.pi * t / (2 * k)))))
        masked.append(current)
        previous = current
    return _from_masked_counts(n, masked + [0], "cosine")


def cosine_squared(n: int, k: int) -> Schedule:
    """The cos^2 ("Fisher-Rao") bell: ``alpha_t = cos^2(pi t / 2)`` on a uniform time grid; few tokens at both ends.

    Rounding: after step ``t`` the number still masked is ``M_t = floor(n cos^2(pi t / 2k) + 1/2)`` (round half up),
    ``M_k = 0``; empty steps are dropped.
    """
    n = _positive_n(n)
    k = as_steps(k, n)
    masked = [math.floor(n * math.cos(math.pi * t / (2 * k)) ** 2 + 0.5) for t in range(1, k)]
    return _from_masked_counts(n, masked + [0], "cosine^2")


def geometric(n: int, k: int | None = None, *, ratio: float = 2.0) -> Schedule:
    """DUS-style dilated schedule: 1, 1, 2, 4, 8, ... tokens per step (revealed count grows by ``ratio``).

    Without ``k``: ``N_1 = 1``, ``N_j = min(n, max(N_{j-1} + 1, ceil(ratio N_{j-1})))``. With ``k`` (exactly k steps):
    ``N_j = min(n - (k - j), max(N_{j-1} + 1, round(n^{j/k})))``, i.e. the growth ratio ``n^{1/k}``.
    """
    n = _positive_n(n)
    breakpoints = [0]
    if k is None:
        if not as_real(ratio, "ratio") > 1:  # numbers.Real: np.float32(2) is fine, "2" is a TypeError
            raise ValueError(f"ratio must be a finite number > 1, got {ratio!r}")
        while breakpoints[-1] < n:
            last = breakpoints[-1]
            breakpoints.append(1 if last == 0 else min(n, max(last + 1, math.ceil(ratio * last))))
        name = f"geometric x{ratio:g}"
    else:
        k = as_steps(k, n)
        for j in range(1, k + 1):
            target = math.floor(n ** (j / k) + 0.5)
            breakpoints.append(min(n - (k - j), max(breakpoints[-1] + 1, target)))
        name = "geometric"
    sizes = np.diff(breakpoints)
    return Schedule(sizes, name=f"{name} (k={sizes.size})")


def from_mask_fractions(n: int, fractions: ArrayLike, name: str = "custom") -> Schedule:
    """Any user curve of "fraction still masked after step t", ``t = 1..k``: non-increasing in [0, 1], ending at 0.

    Rounding: ``M_t = floor(n f_t + 1/2)``; empty steps are dropped.
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
    return _from_masked_counts(n, [math.floor(n * x + 0.5) for x in f], name)


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

    Breakpoints sit at equal quantiles of ``sum_j sqrt(Z_{j+1} - Z_j)``, clamped so each step has >= 1 token
    (exactly ``k`` steps). Its error is close to ``opt_k ~ (sum sqrt(dZ))^2 / (2k)`` on smooth curves. O(n).
    """
    curve = as_curve(z)
    n = curve.size
    k = as_steps(k, n)
    mass = np.concatenate(([0.0], np.cumsum(np.sqrt(np.diff(curve)))))  # mass[i] at position i, i = 0..n-1
    total = mass[-1]
    breakpoints = [0]
    for j in range(1, k):
        target = int(np.searchsorted(mass, total * j / k, side="left")) if total > 0 else round(n * j / k)
        breakpoints.append(min(n - (k - j), max(breakpoints[-1] + 1, target)))
    breakpoints.append(n)
    sizes = np.diff(breakpoints)
    return Schedule(sizes, error=schedule_error(curve, sizes), name=f"continuum sqrt(Z') (k={k})")


def li_cai_bound(z: ArrayLike, sizes: ArrayLike | Schedule) -> float:
    """Li-Cai bound for any schedule: ``err <= (s_max - 1) Z_n`` (nats). O(n)."""
    curve = as_curve(z)
    steps = as_sizes(sizes, curve.size)
    return float((int(steps.max()) - 1) * curve[-1])


# ---- semi-autoregressive (blockwise) generation -----------------------------------------------------------------


def blockwise(n: int, block_length: int, *, steps_per_block: int | Sequence[int] | None = None,
              total_steps: int | None = None, curves: Sequence[ArrayLike] | None = None) -> Schedule:
    """Blocks of ``block_length`` positions generated left to right (LLaDA / Dream semi-autoregressive sampling).

    Give either ``steps_per_block`` (one count for all blocks, or one per block) or ``total_steps`` (split across
    blocks). With per-block ``curves`` (each block's information curve given the previous blocks), steps are split
    optimally across blocks -- greedily by marginal gain ``opt_b(k) - opt_b(k+1)``, exact because each block's
    frontier is convex -- and each block uses its optimal schedule; ``error`` is then the sum of the blocks' errors.
    Without curves, ``total_steps`` is split as evenly as possible (earlier blocks get the remainder) and each block
    uses the equal split. The last block may be shorter. O(blocks * B * k) with curves.
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
    sizes: list[int] = []
    error = 0.0
    for b, (count, length) in enumerate(zip(counts, lengths)):
        block = optimal_schedule(block_curves[b], count) if curves is not None else equal(length, count)
        sizes += block.tolist()
        error += block.error or 0.0
    return Schedule(np.asarray(sizes, dtype=np.int64), error=error if curves is not None else None,
                    name=f"blockwise B={block_length} (k={len(sizes)})")


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
