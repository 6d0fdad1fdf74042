"""The schedule solver: exact error of a schedule and optimal schedules (SPEC §3-4).

Curves ``Z`` are in nats (or whatever unit the caller's entropies use; errors come back in the same unit).
"""

from __future__ import annotations

from typing import Any, Literal

import numpy as np
from numpy.typing import ArrayLike, NDArray

from . import _core, _validation
from ._validation import CURVE_RTOL, as_curve, as_sizes, as_steps, as_tolerance
from .schedule import Schedule

Method = Literal["auto", "fast", "naive", "hull", "lagrangian"]

#: Refuse solver scratch allocations above this many bytes (the argmin table of the naive/hull DP is k*(n+1) int32).
MAX_SOLVER_BYTES = 8 * 2**30


def schedule_error(z: ArrayLike, sizes: ArrayLike | Schedule) -> float:
    """``err(Z, s)``: the left-Riemann error of schedule ``s`` on curve ``Z`` (SPEC §3), in nats.

    Equals the expected ``KL(mu || sampler output)`` when ``Z`` is ``mu``'s information curve. ``sizes`` may be a
    :class:`Schedule`. O(n).
    """
    curve = as_curve(z)
    steps = as_sizes(sizes, curve.size)
    return float(_core.schedule_error(curve, steps))


def _check_memory(n: int, k: int, method: str) -> None:
    need = int(_core.solve_memory_bytes(n, k, "auto" if method == "fast" else method))
    limit = min(MAX_SOLVER_BYTES, _validation.available_memory_bytes())
    if need > limit:
        raise ValueError(
            f"method={method!r} with n={n}, k={k} needs {need / 2**30:.1f} GiB of scratch memory "
            f"(limit {limit / 2**30:.1f} GiB); use method='lagrangian' (O(n) memory)"
        )


def _check_method(method: Any) -> Method:
    allowed = ("auto", "fast", "naive", "hull", "lagrangian")
    if method not in allowed:
        raise ValueError(f"method must be one of {allowed}, got {method!r}")
    checked: Method = method
    return checked


def optimal_schedule(z: ArrayLike, k: int, *, method: Method = "auto") -> Schedule:
    """The k-step schedule minimising ``err(Z, s)`` (exactly ``k`` steps, each >= 1); its ``error`` is ``opt_k``.

    Methods (all exact; ties are broken deterministically, possibly differently per method):
    ``"naive"`` plain DP, O(k n^2); ``"hull"`` per-layer monotone convex-hull trick, O(k n) time and an O(k n)
    int32 table; ``"lagrangian"`` penalty search with an exact-k splice, O(n log range) time and O(n) memory;
    ``"auto"``/``"fast"`` pick hull for k <= 8 and lagrangian otherwise.
    """
    curve = as_curve(z)
    steps = as_steps(k, curve.size)
    method = _check_method(method)
    _check_memory(curve.size, steps, method)
    error, breakpoints = _core.solve(curve, steps, method)
    return Schedule.from_breakpoints(breakpoints, error=error, name=f"optimal (k={steps})")


def error_frontier(z: ArrayLike, k_max: int | None = None, *, method: Method = "auto") -> NDArray[np.float64]:
    """``opt_k`` for ``k = 1..k_max`` (default ``n``), in nats: the error-vs-steps curve to pick a budget from.

    One layered sweep gives every ``opt_k``: O(k_max n) time with the hull (``"naive"``: O(k_max n^2)), O(n) memory.
    Non-increasing and convex in ``k``; ``opt_1 = TC = sum(Z)`` and ``opt_n = 0``.
    """
    curve = as_curve(z)
    k_max = curve.size if k_max is None else as_steps(k_max, curve.size, "k_max")
    method = _check_method(method)
    return np.asarray(_core.error_frontier(curve, k_max, method), dtype=np.float64)


def min_steps(z: ArrayLike, eps: float, *, method: Method = "auto", confidence: float | None = None) -> Schedule:
    """The fewest-step schedule with ``opt_k <= eps`` (nats), and that schedule.

    ``"auto"``/``"fast"``/``"lagrangian"``: one penalty search brackets the crossing on the convex hull of ``opt_k``
    and splices the schedule, O(n log range). ``"naive"``/``"hull"``: a binary search over ``k`` (``opt_k`` is
    non-increasing) with that solver, O(log n) solves.

    With a :class:`~mdmsched.CurveEstimate` and ``confidence`` (e.g. 0.95): the fewest ``k`` whose optimal schedule (on
    the estimated curve) has an upper confidence bound ``<= eps`` (covering sampling noise and grid interpolation,
    :meth:`~mdmsched.CurveEstimate.schedule_error`); ``error`` is the point estimate, ``bound`` that upper bound.
    Scans ``k = 1, 2, ...``: O(k (solve + n + G N)).
    """
    if confidence is not None:
        return _min_steps_with_confidence(z, eps, confidence, method)
    curve = as_curve(z)
    eps = as_tolerance(eps)
    method = _check_method(method)
    n = curve.size
    if method in ("auto", "fast", "lagrangian"):
        error, breakpoints = _core.min_steps(curve, eps)
        k = len(breakpoints) - 1
        return Schedule.from_breakpoints(breakpoints, error=error, name=f"optimal (k={k}, error <= {eps:g})")
    lo, hi = 1, n  # invariant: opt_hi <= eps (opt_n = 0, by one token per step)
    best = Schedule(np.ones(n, dtype=np.int64), error=0.0, name=f"optimal (k={n})")
    while lo < hi:
        mid = (lo + hi) // 2
        candidate = optimal_schedule(curve, mid, method=method)
        if candidate.error is not None and candidate.error <= eps:
            hi, best = mid, candidate
        else:
            lo = mid + 1
    return best


def _min_steps_with_confidence(estimate: Any, eps: float, confidence: float, method: Method) -> Schedule:
    from .estimate import CurveEstimate

    if not isinstance(estimate, CurveEstimate):
        raise TypeError(f"confidence= needs a CurveEstimate (its error bars), got {type(estimate).__name__}")
    eps = as_tolerance(eps)
    for k in range(1, estimate.n + 1):
        candidate = optimal_schedule(estimate.Z, k, method=method)
        bound = estimate.schedule_error(candidate, confidence=confidence)
        if bound.upper <= eps or k == estimate.n:  # k = n reveals one token per step: error 0 exactly
            return Schedule(candidate.sizes, error=bound.value, bound=max(bound.upper, 0.0) if k < estimate.n else 0.0,
                            name=f"optimal (k={k}, {float(confidence):.0%} upper bound <= {eps:g})")
    raise AssertionError("unreachable: k = n always qualifies")


__all__ = [
    "CURVE_RTOL",
    "Schedule",
    "error_frontier",
    "min_steps",
    "optimal_schedule",
    "schedule_error",
]
