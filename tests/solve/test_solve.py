"""The schedule solver (SPEC §3-4): every C++ solver against the NumPy reference DP and exhaustive enumeration."""

from __future__ import annotations

import numpy as np
import pytest
from curves import compositions, curves
from hypothesis import given, settings
from hypothesis import strategies as st

import mdmsched
from mdmsched import reference

FAST_METHODS = ["hull", "lagrangian", "auto"]


def _close(a: float, b: float, scale: float) -> bool:
    return abs(a - b) <= 1e-9 * max(1.0, abs(scale))


@settings(max_examples=300, deadline=None)
@given(z=curves(max_n=80), data=st.data())
def test_every_solver_matches_reference_dp(z, data):
    n = z.size
    k = data.draw(st.integers(1, n))
    ref_error, ref_sizes = reference.optimal_schedule(z, k)
    assert ref_sizes.sum() == n and (ref_sizes >= 1).all()
    for method in ["naive", *FAST_METHODS]:
        sched = mdmsched.optimal_schedule(z, k, method=method)
        assert sched.k == k and sched.n == n and (sched.sizes >= 1).all()
        assert _close(sched.error, ref_error, z.sum()), (method, sched, ref_error)
        # The reported error is the error of the returned schedule, recomputed independently.
        assert _close(reference.schedule_error(z, sched.sizes), sched.error, z.sum())


@settings(max_examples=150, deadline=None)
@given(z=curves(max_n=10))
def test_optimal_against_every_composition(z):
    n = z.size
    for k in range(1, n + 1):
        brute = min(reference.schedule_error(z, c) for c in compositions(n, k))
        for method in ["naive", "hull", "lagrangian"]:
            assert _close(mdmsched.optimal_schedule(z, k, method=method).error, brute, z.sum())


@settings(max_examples=200, deadline=None)
@given(z=curves(max_n=120))
def test_lagrangian_exact_k_on_tie_heavy_curves(z):
    # Dyadic/step/flat curves make many step counts share one penalty: the splice must still give exactly k steps.
    n = z.size
    frontier = mdmsched.error_frontier(z, method="naive") if n <= 60 else reference.error_frontier(z, n)
    for k in sorted({min(k, n) for k in (1, 2, 3, n // 3 or 1, n // 2 or 1, n - 1 or 1, n)}):
        sched = mdmsched.optimal_schedule(z, k, method="lagrangian")
        assert sched.k == k
        assert _close(sched.error, frontier[k - 1], z.sum())


def test_lagrangian_on_a_staircase_with_massive_ties():
    # opt_k = 0 for every k >= 4 on a 3-jump staircase: every such k must be hit exactly.
    z = np.repeat([0.0, 1.0, 2.0, 3.0], 50)
    for k in range(1, 201, 7):
        sched = mdmsched.optimal_schedule(z, k, method="lagrangian")
        assert sched.k == k
        expected = reference.optimal_schedule(z, k)[0] if k <= 3 else 0.0
        assert sched.error == pytest.approx(expected, abs=1e-12)


@settings(max_examples=150, deadline=None)
@given(z=curves(max_n=80))
def test_frontier_matches_reference_and_is_convex(z):
    n = z.size
    fast = mdmsched.error_frontier(z)
    assert fast.shape == (n,)
    np.testing.assert_allclose(fast, reference.error_frontier(z, n), rtol=1e-9, atol=1e-9 * max(1.0, z.sum()))
    np.testing.assert_allclose(mdmsched.error_frontier(z, method="naive"), fast, rtol=1e-9, atol=1e-9 * max(1, z.sum()))
    tol = 1e-9 * max(1.0, z.sum())
    assert fast[0] == pytest.approx(z.sum(), abs=tol)  # opt_1 = TC = sum Z
    assert abs(fast[-1]) <= tol  # opt_n = 0
    assert (np.diff(fast) <= tol).all()  # non-increasing
    assert (np.diff(fast, 2) >= -tol).all()  # convex in k


@settings(max_examples=100, deadline=None)
@given(z=curves(max_n=60), k_max=st.integers(1, 60))
def test_frontier_prefix_and_single_solves_agree(z, k_max):
    k_max = min(k_max, z.size)
    front = mdmsched.error_frontier(z, k_max)
    assert front.shape == (k_max,)
    for k in {1, k_max, (k_max + 1) // 2}:
        assert _close(front[k - 1], mdmsched.optimal_schedule(z, k).error, z.sum())


@settings(max_examples=300, deadline=None)
@given(z=curves(max_n=80), frac=st.floats(0, 1), exact_level=st.booleans())
def test_min_steps_is_the_fewest(z, frac, exact_level):
    front = reference.error_frontier(z, z.size)
    # Either an arbitrary level or exactly one of the frontier's values (the tie case for the crossing).
    eps = max(0.0, float(front[int(frac * (z.size - 1))])) if exact_level else frac * z.sum()
    tol = 1e-9 * max(1.0, z.sum())
    for method in ("lagrangian", "hull"):  # penalty search vs binary search over k with the exact DP
        sched = mdmsched.min_steps(z, eps, method=method)
        assert sched.error <= eps + tol and sched.k == sched.sizes.size
        assert front[sched.k - 1] <= eps + tol
        if sched.k > 1:
            assert front[sched.k - 2] > eps - tol


def test_erratum_last_step_of_size_one():
    # SPEC §6 erratum: Z = (0, 0, 0, 1), k = 2 has optimum (3, 1) with error 0.
    sched = mdmsched.optimal_schedule([0, 0, 0, 1], 2)
    assert sched.tolist() == [3, 1] and sched.error == 0.0


def test_schedule_error_by_hand():
    z = [0.0, 0.5, 1.0, 1.0, 2.0]
    # steps (2, 3): (0 + 0.5) + (0 + 0 + 1)
    assert mdmsched.schedule_error(z, [2, 3]) == pytest.approx(1.5)
    assert mdmsched.schedule_error(z, [5]) == pytest.approx(sum(z))  # one step: TC
    assert mdmsched.schedule_error(z, [1] * 5) == 0.0


def test_deterministic_repeated_calls():
    z = np.repeat(np.arange(20, dtype=float), 13)
    first = [mdmsched.optimal_schedule(z, k, method=m).tolist() for m in FAST_METHODS for k in (5, 40, 100)]
    for _ in range(3):
        again = [mdmsched.optimal_schedule(z, k, method=m).tolist() for m in FAST_METHODS for k in (5, 40, 100)]
        assert again == first


def test_large_single_k_uses_linear_memory():
    z = np.sqrt(np.linspace(0.0, 1.0, 200_000))
    sched = mdmsched.optimal_schedule(z, 5000)
    assert sched.k == 5000 and sched.n == 200_000
    assert sched.error == pytest.approx(mdmsched.schedule_error(z, sched), rel=1e-12)
    # Splitting every step of the optimum in two cannot be worse than the optimum at 2k (sanity, independent path).
    assert mdmsched.optimal_schedule(z, 10_000).error <= sched.error


@pytest.mark.parametrize("seed", range(6))
def test_hull_and_lagrangian_agree_at_scale(seed):
    # Two independent fast algorithms (exact per-layer DP vs penalty search + splice) on longer curves than the
    # property tests reach, including exact ties (dyadic increments) and long flat stretches.
    rng = np.random.default_rng(seed)
    n = 3000
    inc = [rng.exponential(1.0, n - 1), rng.integers(0, 3, n - 1) / 4.0,
           (rng.random(n - 1) < 0.01) * rng.exponential(1.0, n - 1)][seed % 3]
    z = np.concatenate(([0.0], np.cumsum(inc)))
    front = mdmsched.error_frontier(z, 600)
    for k in (2, 7, 64, 333, 600):
        hull = mdmsched.optimal_schedule(z, k, method="hull")
        lag = mdmsched.optimal_schedule(z, k, method="lagrangian")
        assert hull.k == lag.k == k
        assert _close(hull.error, lag.error, z.sum()) and _close(front[k - 1], hull.error, z.sum())


@pytest.mark.parametrize(
    "z",
    [np.floor(np.arange(120) / 10), np.repeat([0.0, 1, 2, 3], 50), np.floor(np.arange(100) / 7) * 0.5,
     np.minimum(np.arange(60), 20) / 4],
)
def test_min_steps_inside_collinear_stretches_of_the_frontier(z):
    # These frontiers are straight over long runs of k, so the penalty search brackets the crossing with hull
    # vertices several steps apart and must interpolate, then splice, to find the fewest steps.
    front = reference.error_frontier(z, z.size)
    levels = np.unique(np.concatenate((front, (front[:-1] + front[1:]) / 2)))
    for eps in levels[levels >= 0]:
        expected = int(np.argmax(front <= eps + 1e-12)) + 1
        sched = mdmsched.min_steps(z, float(eps))
        assert sched.k == expected and sched.error <= eps + 1e-12
