"""The schedule solver: exact error of a schedule and optimal schedules (SPEC §3-4).

Curves ``Z`` are in nats (or whatever unit the caller's entropies use; errors come back in the same unit).
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Sequence
from typing import Any, Literal

import numpy as np
from numpy.typing import ArrayLike, NDArray

import mdmsched._core as _core  # noqa: PLR0402  a plain import of the extension module, not of the package face

from . import _validation
from ._schedule import Schedule
from ._validation import (
    CURVE_RTOL,
    METHODS,
    MIN_STEPS_RTOL,
    as_band_lower,
    as_curve,
    as_int,
    as_level_curve,
    as_method,
    as_sizes,
    as_steps,
    as_tolerance,
    band_curves,
)

Method = Literal["auto", "naive", "hull", "lagrangian"]
#: ``optimal_schedule(est, k, objective=...)`` on an estimate: optimal on its point estimate, or on its certified bound.
Objective = Literal["estimate", "certified"]
OBJECTIVES: tuple[Objective, ...] = ("estimate", "certified")

# ---- exact power-of-two rescaling of curves near DBL_MAX or in the denormals (the solvers' job, not a check) ----


def min_steps_target(eps: float) -> float:
    """The threshold ``min_steps`` compares ``opt_k`` with: ``eps * (1 + MIN_STEPS_RTOL)`` (``_validation.MIN_STEPS_RTOL``)."""
    return eps * (1.0 + MIN_STEPS_RTOL)


def curve_scale(curve: NDArray[np.float64]) -> float:
    """For a curve validated by :func:`as_curve`: a power of two ``s`` such that ``s * Z`` keeps the solver's sums and products far from overflow/underflow.

    1 for ordinary curves. Near ``DBL_MAX`` (``max|Z| (n+1)^2 > 2^1000``: sums of ``n`` values and penalties times
    step counts could overflow) the solver runs on ``s * Z`` with ``s * max|Z| (n+1)^2 <= 2^1000``; tiny curves
    (``max|Z| < 2^-500``) are scaled up by at most ``2^1000``. Scaling by a power of two is exact, except that when
    scaling down, entries below ``2^-1022 / s`` (over ~2^1000 times smaller than ``max|Z|``) lose bits or round
    to 0; reported errors are always recomputed on the original curve.
    """
    # A validated curve is non-decreasing from Z_1 = 0, so max|Z| = Z_n: O(1).
    big = abs(float(curve[-1])) if curve.size else 0.0
    n = curve.size + 1
    if big == 0.0 or (big * n * n <= 2.0**1000 and big >= 2.0**-500):
        return 1.0
    exponent = math.frexp(big)[1] + 2 * math.frexp(float(n))[1]  # 2^exponent >= max|Z| (n+1)^2
    if big >= 2.0**-500:
        return math.ldexp(1.0, 1000 - exponent)
    return math.ldexp(1.0, min(1000, -exponent))  # a denormal curve is scaled up by at most 2^1000 (s finite)


def scaled(curve: NDArray[np.float64], scale: float) -> NDArray[np.float64]:
    """``scale * curve``, without a copy when ``scale == 1`` (the ordinary case)."""
    return curve if scale == 1.0 else curve * scale


def unscale_errors(values: Any, scale: float, what: str) -> NDArray[np.float64]:
    """Errors computed on ``scale * Z`` (see :func:`curve_scale`) back in the curve's unit; refuses (``ValueError``)
    a result that does not fit in a double instead of returning ``inf``."""
    if isinstance(values, float) and scale == 1.0 and math.isfinite(values):
        return np.asarray(values)  # the common scalar case, without array arithmetic
    with np.errstate(over="ignore"):  # an overflow is reported below, as a ValueError naming what overflowed
        out = np.asarray(values, dtype=np.float64) / scale
    if not np.isfinite(out).all():
        raise ValueError(f"{what} exceeds the largest double (~1.8e308); rescale the curve (e.g. to bits or a smaller unit)")
    return out


#: Refuse solver scratch allocations above this many bytes (the argmin table of the naive/hull DP is k*(n+1) int32).
MAX_SOLVER_BYTES = 8 * 2**30


def schedule_error(z: ArrayLike, sizes: ArrayLike | Schedule) -> float:
    """``err(Z, s)``: the left-Riemann error of schedule ``s`` on curve ``Z`` (SPEC §3), in nats.

    Equals the expected ``KL(mu || sampler output)`` when ``Z`` is ``mu``'s information curve. ``sizes`` may be a
    :class:`Schedule`. O(n).
    """
    curve = as_curve(z)
    steps = as_sizes(sizes, curve.size)
    scale = curve_scale(curve)  # 1 except near DBL_MAX / for tiny curves: exact power-of-two rescaling
    error = _core.schedule_error(scaled(curve, scale), steps)
    return float(unscale_errors(error, scale, "the schedule's error"))


def _unscaled_error(curve: NDArray[np.float64], breakpoints: NDArray[np.int64], error: float, scale: float) -> float:
    """The error of a schedule solved on ``scale * Z``, in the curve's unit. When the curve was rescaled, it is
    recomputed on the original curve (entries that underflowed in ``scale * Z`` still count)."""
    if scale != 1.0:
        error = _core.schedule_error(curve, np.diff(breakpoints))
    return float(unscale_errors(error, 1.0, "the schedule's error"))


def _check_memory(n: int, k: int, method: str) -> None:
    need = int(_core.solve_memory_bytes(n, k, method))
    if need <= 2**26:  # 64 MiB: not worth asking the OS (a system call) on every request-sized solve
        return
    limit = min(MAX_SOLVER_BYTES, _validation.available_memory_bytes())
    if need > limit:
        raise ValueError(
            f"method={method!r} with n={n}, k={k} needs {need / 2**30:.1f} GiB of scratch memory "
            f"(limit {limit / 2**30:.1f} GiB); use method='lagrangian' (O(n) memory)"
        )


def _check_method(method: Any) -> Method:
    checked: Method = as_method(method)  # type: ignore[assignment]  # names: _validation.METHODS (= _core.METHODS)
    return checked


def optimal_schedule(z: ArrayLike, k: int, *, method: Method = "auto", objective: Objective | None = None,
                     confidence: float = 0.95) -> Schedule:
    """The k-step schedule minimising ``err(Z, s)`` (exactly ``k`` steps, each >= 1); its ``error`` is ``opt_k``.

    Methods (all exact; ties are broken deterministically, possibly differently per method):
    ``"naive"`` plain DP, O(k n^2); ``"hull"`` per-layer monotone convex-hull trick, O(k n) time and an O(k n)
    int32 table; ``"lagrangian"`` penalty search with an exact-k splice, O(n log range) time and O(n) memory;
    ``"auto"`` picks hull for k <= 8 and lagrangian otherwise.

    Exactness in floating point: prefix sums and DP values are long double, so every method returns a schedule whose
    error is within ~``n 2^-64 TC`` of ``opt_k``. (The Lagrangian's penalized layers run in double first, with an a
    priori rounding bound on every comparison; a layer with any comparison inside its bound is re-run in long double,
    so the chosen schedules are the long-double ones.) Ties down to one ulp of ``Z`` on ordinary curves are resolved, and
    the methods then agree on ``opt_k`` exactly. A Lagrangian ``k`` that needs the splice (ties on the frontier) is
    settled by the hull DP when its table has at most 16 Mi entries. ``error`` is the schedule's own error, accumulated
    in extended precision and rounded once.

    With a :class:`~mdmsched.CurveEstimate` the estimate answers (it carries its error bars; SPEC §5.3):
    ``objective="estimate"`` (default) is optimal on the estimated curve, with an honest simultaneous ``bound``;
    ``objective="certified"`` minimises that simultaneous upper bound at ``confidence``.
    """
    _validation.as_confidence(confidence)  # checked even where a plain curve does not use it: never silently ignored
    answer = getattr(z, "optimal_schedule", None)
    if callable(answer):  # an estimate answers for itself; the solver never imports the models floor
        chosen: Schedule = answer(k, objective="estimate" if objective is None else objective, confidence=confidence,
                                  method=method)
        return chosen
    if objective is not None and _validation.as_choice(objective, "objective", OBJECTIVES) != "estimate":
        raise TypeError(f"objective={objective!r} needs a CurveEstimate (its error bars), got {type(z).__name__}")
    curve = as_curve(z)
    steps = as_steps(k, curve.size)
    method = _check_method(method)
    _check_memory(curve.size, steps, method)
    scale = curve_scale(curve)
    error, breakpoints = _core.solve(scaled(curve, scale), steps, method)
    error = _unscaled_error(curve, breakpoints, error, scale)
    return Schedule._trusted(breakpoints[1:] - breakpoints[:-1], breakpoints, error, f"optimal (k={steps})")


#: Above this n, a frontier asked for without ``k_max`` (the whole frontier: O(n^2) work, ~3 s at n = 16,384 and hours
#: at 10^6) warns; pass ``k_max`` (the budgets you would consider) or ``k_max=n`` explicitly.
FRONTIER_WARN_N = 4096


def _frontier_k_max(n: int, k_max: Any) -> int:
    """``k_max`` checked against ``n``; ``None`` means ``n`` (the whole frontier), with a warning above
    :data:`FRONTIER_WARN_N` since that is O(n^2) work."""
    if k_max is not None:
        return as_steps(k_max, n, "k_max")
    if n > FRONTIER_WARN_N:
        warnings.warn(
            f"the whole frontier (k_max = n = {n}) is O(n^2) work, ~{3.3 * (n / 16384) ** 2:.2g} s; "
            "pass k_max (the largest step budget of interest) or k_max=n to silence this",
            UserWarning,
            stacklevel=3,
        )
    return n


def error_frontier(z: ArrayLike, k_max: int | None = None, *, method: Method = "auto") -> NDArray[np.float64]:
    """``opt_k`` for ``k = 1..k_max`` (default ``n``), in nats: the error-vs-steps curve to pick a budget from.

    One layered sweep gives every ``opt_k``: O(k_max n) time with the hull (``"naive"``: O(k_max n^2)), O(n) memory.
    The default ``k_max = n`` is therefore O(n^2) (~3 s at n = 16,384): above ``n = FRONTIER_WARN_N`` it warns; pass
    ``k_max``. Non-increasing and convex in ``k``; ``opt_1 = TC = sum(Z)`` and ``opt_n = 0`` exactly.

    Each value is the error of the schedule the sweep chose for that ``k``, summed exactly up to ~n 2^-106 TC
    (double-double step costs), not the rounded DP value: it agrees with ``optimal_schedule(Z, k).error`` to a few
    ulps whenever both choose optimal schedules, including small ``opt_k`` on curves of wide dynamic range.
    """
    curve = as_curve(z)
    k_max = _frontier_k_max(curve.size, k_max)
    method = _check_method(method)
    scale = curve_scale(curve)
    # The core clamps opt_k at 0 (rounding of differences of long-double prefix sums can leave ~-1e-16 max|Z| n).
    return unscale_errors(_core.error_frontier(scaled(curve, scale), k_max, method), scale, "opt_1 = sum(Z)")


def min_steps(z: ArrayLike, eps: float, *, method: Method = "auto", confidence: float | None = None) -> Schedule:
    """The fewest-step schedule with ``opt_k <= eps`` (nats), and that schedule.

    Tolerance: ``opt_k <= eps * (1 + 4 DBL_EPSILON)`` counts as meeting the target (``_validation.MIN_STEPS_RTOL``),
    so an ``eps`` equal to an exact ``opt_k`` (rounded to double) returns that ``k``; schedule errors are accurate to a
    few ulps, well inside that margin.

    ``"auto"``/``"lagrangian"``: one penalty search brackets the crossing on the convex hull of ``opt_k``
    and splices the schedule, O(n log range). ``"naive"``/``"hull"``: a binary search over ``k`` (``opt_k`` is
    non-increasing) with that solver, O(log n) solves.

    With a :class:`~mdmsched.CurveEstimate` and ``confidence`` (e.g. 0.95): the fewest ``k`` whose **certified** error
    (a simultaneous upper bound, valid although ``k`` and the schedule are chosen on the data, SPEC §5.3) is ``<= eps``;
    ``error`` is the point estimate, ``bound`` that bound (see :meth:`~mdmsched.CurveEstimate.min_steps`).
    """
    if confidence is not None:
        return _min_steps_with_confidence(z, eps, confidence, method)
    curve = as_curve(z)
    eps = as_tolerance(eps)
    method = _check_method(method)
    n = curve.size
    target = min_steps_target(eps)
    if method in ("auto", "lagrangian"):
        scale = curve_scale(curve)
        scaled_target = min(target * scale, float(np.finfo(np.float64).max))
        error, breakpoints = _core.min_steps(scaled(curve, scale), scaled_target)
        error = _unscaled_error(curve, breakpoints, error, scale)
        k = len(breakpoints) - 1
        while error > target and k < n:  # only a rescaled curve (see curve_scale) can land here: one more step
            k += 1
            best = optimal_schedule(curve, k, method="lagrangian")
            breakpoints, error = best.breakpoints, float(best.error or 0.0)
        return Schedule.from_breakpoints(breakpoints, error=error, name=f"optimal (k={k}, error <= {eps:g})")
    lo, hi = 1, n  # invariant: opt_hi <= eps (opt_n = 0, by one token per step)
    best = Schedule(np.ones(n, dtype=np.int64), error=0.0, name=f"optimal (k={n})")
    while lo < hi:
        mid = (lo + hi) // 2
        candidate = optimal_schedule(curve, mid, method=method)
        if candidate.error is not None and candidate.error <= target:
            hi, best = mid, candidate
        else:
            lo = mid + 1
    return best


def _min_steps_with_confidence(estimate: Any, eps: float, confidence: float, method: Method) -> Schedule:
    # An estimate carries its own error bars and answers for itself; the solver never imports the models floor.
    answer = getattr(estimate, "min_steps", None)
    if not callable(answer):
        raise TypeError(f"confidence= needs a CurveEstimate (its error bars), got {type(estimate).__name__}")
    result: Schedule = answer(eps, confidence=confidence, method=method)
    return result


# ---- certified schedules: the worst case over a band g_low <= g <= g_high of level curves (SPEC §5.3) ----------


def _band(g_high: ArrayLike, g_low: ArrayLike) -> tuple[NDArray[np.float64], NDArray[np.float64], float]:
    """Validated band in Z-form ``(L, P)`` (see :func:`_validation.band_curves`) and the power-of-two scale the
    solver runs it at (:func:`curve_scale`, taken over both curves)."""
    high = as_level_curve(g_high, "g_high")
    low = as_band_lower(g_low, high)
    heights, prefix = band_curves(high, low)
    return heights, prefix, curve_scale(np.maximum.accumulate(prefix))


def _certified_unscaled(
    heights: NDArray[np.float64], prefix: NDArray[np.float64], breakpoints: NDArray[np.int64], error: float, scale: float
) -> float:
    if scale != 1.0:  # recompute on the original band (entries that underflowed in scale * band still count)
        error = _core.certified_schedule_error(heights, prefix, np.diff(breakpoints))
    return float(unscale_errors(error, 1.0, "the schedule's certified error"))


def certified_error(g_high: ArrayLike, g_low: ArrayLike, sizes: ArrayLike | Schedule) -> float:
    """``U(s)``: the largest error of schedule ``s`` over every level curve ``g`` with ``g_low <= g <= g_high``, in nats.

    ``g_high``, ``g_low``: levels ``m = 0..n-1`` (masked cross-entropy after ``m`` revealed, nats per token),
    ``g_high`` non-increasing, ``g_low <= g_high``. ``U(s) = sum_j [(s_j - 1) g_hi[N_{j-1}] - sum_{m=N_{j-1}+1}^{N_j-1}
    g_lo[m]]`` (SPEC §5.3): each level enters once with one sign, so the worst case is attained level by level;
    single-token steps cost 0. With ``g_low == g_high == g``, ``U(s) = err(Z, s)`` for ``Z_i = g_0 - g_{i-1}``. O(n).
    """
    heights, prefix, scale = _band(g_high, g_low)
    steps = as_sizes(sizes, heights.size)
    error = _core.certified_schedule_error(scaled(heights, scale), scaled(prefix, scale), steps)
    return float(unscale_errors(error, scale, "the schedule's certified error"))


def certified_schedule(g_high: ArrayLike, g_low: ArrayLike, k: int, *, method: Method = "auto") -> Schedule:
    """The k-step schedule minimising the certified error ``U(s)`` over the band (see :func:`certified_error`);
    its ``error`` is ``min U`` in nats.

    The two-curve step cost is Monge because ``g_high`` is non-increasing, so every method of
    :func:`optimal_schedule` applies unchanged, with the same complexity (naive O(k n^2), hull O(k n) time and an
    O(k n) table, lagrangian O(n log range)) and the same exactness.
    """
    heights, prefix, scale = _band(g_high, g_low)
    steps = as_steps(k, heights.size)
    method = _check_method(method)
    _check_memory(heights.size, steps, method)
    error, breakpoints = _core.certified_solve(
        scaled(heights, scale), scaled(prefix, scale), steps, method
    )
    error = _certified_unscaled(heights, prefix, breakpoints, error, scale)
    return Schedule._trusted(breakpoints[1:] - breakpoints[:-1], breakpoints, error, f"certified optimal (k={steps})")


def certified_frontier(
    g_high: ArrayLike, g_low: ArrayLike, k_max: int | None = None, *, method: Method = "auto"
) -> NDArray[np.float64]:
    """``min U`` over k-step schedules for ``k = 1..k_max`` (nats; default ``k_max`` as in :func:`error_frontier`).

    Non-increasing and convex in ``k``, ``min U = 0`` at ``k = n``. One layered sweep, O(k_max n) (naive
    O(k_max n^2)), O(n) memory.
    """
    heights, prefix, scale = _band(g_high, g_low)
    k_max = _frontier_k_max(heights.size, k_max)
    method = _check_method(method)
    values = _core.certified_frontier(
        scaled(heights, scale), scaled(prefix, scale), k_max, method
    )
    return unscale_errors(values, scale, "the one-step certified error")


def certified_min_steps(g_high: ArrayLike, g_low: ArrayLike, eps: float, *, method: Method = "auto") -> Schedule:
    """The fewest-step schedule whose certified error ``min U <= eps`` (nats), and that schedule.

    Always exists (``k = n`` gives ``U = 0``). Same tolerance and algorithms as :func:`min_steps`:
    ``min U <= eps * (1 + 4 DBL_EPSILON)`` meets the target; ``"auto"``/``"lagrangian"`` search the penalty
    once, O(n log range); ``"naive"``/``"hull"`` binary-search ``k``.
    """
    heights, prefix, scale = _band(g_high, g_low)
    eps = as_tolerance(eps)
    method = _check_method(method)
    n = heights.size
    target = min_steps_target(eps)
    if method in ("auto", "lagrangian"):
        scaled_target = min(target * scale, float(np.finfo(np.float64).max))
        error, breakpoints = _core.certified_min_steps(
            scaled(heights, scale), scaled(prefix, scale), scaled_target
        )
        error = _certified_unscaled(heights, prefix, breakpoints, error, scale)
        k = len(breakpoints) - 1
        while error > target and k < n:  # only a rescaled band can land here: one more step
            k += 1
            best = certified_schedule(g_high, g_low, k, method="lagrangian")
            breakpoints, error = best.breakpoints, float(best.error or 0.0)
        return Schedule.from_breakpoints(breakpoints, error=error, name=f"certified optimal (k={k}, error <= {eps:g})")
    lo, hi = 1, n  # invariant: min U at hi steps <= eps (U = 0 at k = n)
    best = Schedule(np.ones(n, dtype=np.int64), error=0.0, name=f"certified optimal (k={n})")
    while lo < hi:
        mid = (lo + hi) // 2
        candidate = certified_schedule(g_high, g_low, mid, method=method)
        if candidate.error is not None and candidate.error <= target:
            hi, best = mid, candidate
        else:
            lo = mid + 1
    return best


def optimal_block_split(curves: Sequence[ArrayLike], total_steps: int, *, method: Method = "auto") -> list[int]:
    """Steps per block ``k_b >= 1`` with ``sum k_b = total_steps`` minimising ``sum_b opt_{k_b}(Z^(b))`` (SPEC §5.1).

    Greedy: add one step at a time where the marginal gain ``opt_b(k) - opt_b(k + 1)`` is largest; exact because every
    frontier is convex in ``k``. Ties go to earlier blocks; a block never takes more steps than it has tokens.
    O(sum_b frontier_b + total_steps * blocks).
    """
    blocks = [as_curve(c, f"curves[{i}]") for i, c in enumerate(curves)]
    if not blocks:
        raise ValueError("curves must hold at least one block's curve")
    total = as_int(total_steps, "total_steps")
    # A block never takes more than total - (blocks - 1) steps: no need for its frontier beyond that.
    most = max(1, total - len(blocks) + 1)
    frontiers = [error_frontier(c, min(c.size, most), method=method) for c in blocks]
    n = sum(c.size for c in blocks)
    if not len(frontiers) <= total <= n:
        raise ValueError(f"total_steps must be between the number of blocks ({len(frontiers)}) and n = {n}, got {total}")
    counts = [1] * len(frontiers)
    for _ in range(total - len(frontiers)):
        gains = [f[c - 1] - f[c] if c < f.size else -np.inf for f, c in zip(frontiers, counts)]
        counts[int(np.argmax(gains))] += 1
    return counts


__all__ = [
    "CURVE_RTOL",
    "FRONTIER_WARN_N",
    "METHODS",
    "OBJECTIVES",
    "Objective",
    "Schedule",
    "certified_error",
    "certified_frontier",
    "certified_min_steps",
    "certified_schedule",
    "error_frontier",
    "min_steps",
    "optimal_block_split",
    "optimal_schedule",
    "schedule_error",
]
