"""An exact (``fractions.Fraction``) oracle for the solver: ``optimal_schedule``, ``error_frontier`` and ``min_steps``
on small curves with huge dynamic range (1e-300 ... 1e300, denormals) and exact ties.

Doubles convert to Fractions exactly, so the oracle's ``opt_k`` is the true optimum of the curve the solver sees.
Tolerances: a schedule's reported error is its exact error rounded (a few ulps, relative); the solver's *choice* of
schedule is made on rounded DP values, so its exact error may exceed ``opt_k`` by rounding of order
``u * n * sum(Z)`` (absolute); ``min_steps`` must return ``k`` when ``eps`` is an exact ``opt_k`` (SPEC §4,
README "Reliability").
"""

from __future__ import annotations

from fractions import Fraction

import numpy as np
from curves import exact_error
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import mdmsched
from mdmsched._validation import MIN_STEPS_RTOL

U = float(np.finfo(np.float64).eps)
SCALES = [5e-324, 1e-300, 1e-12, 2.0**-30, 1.0, 3.0, 1e12, 1e300]


def exact_frontier(z: list[Fraction]) -> list[Fraction]:
    """opt_k for k = 1..n by the plain O(k n^2) DP over breakpoints, in Fractions."""
    n = len(z)
    cost = [[Fraction(0)] * (n + 1) for _ in range(n + 1)]
    for a in range(n):
        acc = Fraction(0)
        for b in range(a + 1, n + 1):
            acc += z[b - 1] - z[a]
            cost[a][b] = acc
    inf = None
    prev: list[Fraction | None] = [Fraction(0)] + [inf] * n
    out = []
    for _ in range(n):
        cur: list[Fraction | None] = [inf] * (n + 1)
        for b in range(1, n + 1):
            options = [prev[a] + cost[a][b] for a in range(b) if prev[a] is not None]  # type: ignore[operator]
            cur[b] = min(options) if options else None
        out.append(cur[n])
        prev = cur
    return out  # type: ignore[return-value]


@st.composite
def curves(draw: st.DrawFn, denormals: bool = True) -> np.ndarray:
    """Non-decreasing curves with Z_1 = 0 built from increments of wildly different magnitude, often repeated
    (exact ties between steps)."""
    n = draw(st.integers(1, 9))
    scales = SCALES if denormals else [s for s in SCALES if s >= 2.0**-1022]
    pool = draw(st.lists(st.sampled_from([*scales, 0.0]), min_size=1, max_size=3))
    increments = [draw(st.sampled_from(pool)) * draw(st.sampled_from([1, 1, 2, 3])) for _ in range(n - 1)]
    return np.concatenate(([0.0], np.cumsum(increments))) if n > 1 else np.zeros(1)


EXACT = settings(max_examples=200, deadline=None, suppress_health_check=list(HealthCheck))


def _slack(z: np.ndarray) -> Fraction:
    """Absolute rounding allowance for a schedule *chosen* from rounded DP values: 64 u n sum(Z)."""
    return Fraction(64 * U) * len(z) * sum(Fraction(float(v)) for v in z)


@EXACT
@given(z=curves())
def test_frontier_and_optimal_schedules_match_the_exact_dp(z):
    exact = [Fraction(float(v)) for v in z]
    opt = exact_frontier(exact)
    slack = _slack(z)
    for method in ("auto", "naive", "hull"):
        front = mdmsched.error_frontier(z, method=method)
        assert (front >= 0).all(), (method, front)  # never negative, even where the exact value is 0
        for k in range(1, len(z) + 1):
            assert abs(Fraction(float(front[k - 1])) - opt[k - 1]) <= slack, (method, k, front[k - 1], float(opt[k - 1]))
    for method in ("naive", "hull", "lagrangian"):
        for k in range(1, len(z) + 1):
            sched = mdmsched.optimal_schedule(z, k, method=method)
            true = exact_error(exact, sched.tolist())
            assert sched.k == k and sched.error >= 0
            assert true - opt[k - 1] <= slack, (method, k, sched.tolist(), float(true), float(opt[k - 1]))
            # The reported error is the schedule's exact error, rounded (accumulated in extended precision).
            assert abs(Fraction(sched.error) - true) <= Fraction(2 * U) * true


@EXACT
@given(z=curves(denormals=False))
def test_min_steps_returns_k_when_eps_is_an_exact_optimum(z):
    # Known limit (README "Reliability"): where consecutive opt_k differ only by denormals (< 2^-1022), the
    # penalty search cannot represent a separating penalty and min_steps may return one step more.
    exact = [Fraction(float(v)) for v in z]
    opt = exact_frontier(exact)
    slack = _slack(z)
    for k in range(1, len(z) + 1):
        eps = float(opt[k - 1])
        # The fewest steps whose exact optimum meets eps (opt_k is non-increasing, so this is <= k).
        want = next(j for j in range(1, len(z) + 1) if opt[j - 1] <= Fraction(eps) * (1 + Fraction(MIN_STEPS_RTOL)))
        for method in ("auto", "naive", "hull"):
            got = mdmsched.min_steps(z, eps, method=method)
            assert got.error <= eps * (1 + MIN_STEPS_RTOL), (method, k, got)
            assert exact_error(exact, got.tolist()) <= Fraction(eps) * (1 + Fraction(MIN_STEPS_RTOL)) + slack
            # Decisions near eps are taken on rounded values: an optimum within `slack` of the target may go either
            # way, anything clearly above it may not.
            clear = next(j for j in range(1, len(z) + 1)
                         if opt[j - 1] <= Fraction(eps) * (1 + Fraction(MIN_STEPS_RTOL)) + slack)
            # and where every optimum from `want` on is within `slack` of eps (curves mixing ~1e-300 with O(1)
            # values), a step more is within rounding too: the first optimum clearly below eps bounds got.k.
            target = Fraction(eps) * (1 + Fraction(MIN_STEPS_RTOL))
            upper = next(j for j in range(want, len(z) + 1) if opt[j - 1] + slack <= target or j == len(z))
            assert clear <= got.k <= max(want, upper), (method, k, eps, got.k, want, [float(o) for o in opt])


def test_ties_and_zero_errors_are_exact():
    z = np.array([0.0, 0.0, 1.0, 1.0, 2.0, 2.0])  # flat pairs: opt_3 = 0 exactly, by steps (2, 2, 2)
    opt = exact_frontier([Fraction(v) for v in z])
    front = mdmsched.error_frontier(z)
    assert [Fraction(float(v)) for v in front] == opt
    for k, value in enumerate(opt, start=1):
        assert mdmsched.min_steps(z, float(value)).k <= k
