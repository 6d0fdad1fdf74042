"""Schedules from theory (SPEC §6): TC / DTC schedules with their guarantees, the budget form, Austin's two-phase
schedule, the continuum sqrt(Z') schedule, and the Li-Cai bound. Everything in nats.
"""

from __future__ import annotations

import math

import numpy as np
from numpy.typing import ArrayLike, NDArray

from .._schedule import Schedule
from .._validation import as_choice, as_curve, as_int, as_sizes, as_steps, as_tolerance, require_memory
from ..solve import schedule_error
from .practice import equal
from .shapes import _positive_n, exact_k_breakpoints


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
    kind = as_choice(kind, "kind", ("tc", "dtc"))
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
    with np.errstate(over="ignore"):
        ratio = dtc * n / eps  # may exceed the double range (dtc = 1e300, eps = 1e-300): then all single steps
    singles = n if not ratio < float(n) ** 2 else min(n, max(1, math.floor(math.sqrt(ratio) + 0.5)))
    rest = n - singles
    steps = singles + max(1, min(singles, rest)) if rest else singles
    require_memory(8 * steps, f"a schedule of {steps} steps")  # before the length-k array, not after
    sizes = np.ones(singles, dtype=np.int64)
    if rest:
        sizes = np.concatenate((sizes, equal(rest, max(1, min(singles, rest))).sizes))
    return Schedule(sizes, name=f"Austin two-phase, no proven constant (k={sizes.size})")


def continuum_schedule(z: ArrayLike, k: int) -> Schedule:
    """Near-optimal k-step schedule from the continuum approximation: step density proportional to ``sqrt(Z')``.

    Breakpoints sit at equal quantiles of ``sum_j sqrt(Z_{j+1} - Z_j)`` (the first position reaching ``j/k`` of the
    mass; ``round(n j / k)`` on a flat curve), clamped forward (:func:`~mdmsched.schedules.shapes.exact_k_breakpoints`) so each step has >= 1
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


__all__ = ["austin_schedule", "budget_schedule", "continuum_schedule", "dtc_schedule", "li_cai_bound", "tc_schedule"]
