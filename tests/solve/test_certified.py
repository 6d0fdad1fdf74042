"""Certified (two-curve) solvers, SPEC §5.3: the worst-case error ``U(s)`` over a band ``g_low <= g <= g_high`` of level
curves, and its minimisers. Every method, the frontier and ``min_steps`` are checked against exhaustive enumeration of
all compositions (n <= 10) and the O(k n^2) NumPy two-curve DP; the properties the solvers rest on (``U >= err`` for
every curve in the band, the quadrangle inequality, convexity in ``k``) are checked by brute force."""

from __future__ import annotations

import itertools

import numpy as np
import pytest
from curves import compositions

import mdmsched
from mdmsched import reference

METHODS = ("naive", "hull", "lagrangian", "auto")


def random_band(rng: np.random.Generator, n: int, kind: str) -> tuple[np.ndarray, np.ndarray]:
    """(g_high, g_low): g_high non-increasing, g_low <= g_high (monotone or not, zero width or wide, dyadic ties)."""
    if kind == "dyadic":  # exact sums: many schedules tie exactly
        high = 4.0 - np.cumsum(rng.integers(0, 5, n) / 8.0)
        low = high - rng.integers(0, 3, n) / 4.0
    elif kind == "same":
        high = np.sort(rng.exponential(1.0, n))[::-1] + 1.0
        low = high.copy()
    elif kind == "monotone":  # the band builder's output: both curves non-increasing
        high = np.sort(rng.exponential(1.0, n))[::-1] + 0.5
        low = np.minimum.accumulate((high - rng.exponential(0.3, n))[::-1])[::-1]
        low = np.minimum(np.maximum.accumulate(low[::-1])[::-1], high)
    elif kind == "flat":  # flat upper curve: a wide band makes every multi-token step costly
        high = np.full(n, 2.0)
        low = high - rng.uniform(0, 1, n)
    else:  # arbitrary lower curve, heavy-tailed widths
        high = np.sort(rng.standard_cauchy(n) ** 2)[::-1]
        low = high - rng.pareto(1.5, n)
    return high, low


KINDS = ("dyadic", "same", "monotone", "flat", "wild")


def level_error(g: np.ndarray, sizes) -> float:  # type: ignore[no-untyped-def]
    """err(g, s) = sum_j sum_{m=a+1}^{b-1} (g_a - g_m), straight from SPEC §5.3 (g need not be monotone)."""
    total, start = 0.0, 0
    for size in sizes:
        total += float(np.sum(g[start] - g[start + 1 : start + size]))
        start += size
    return total


def brute_force(high: np.ndarray, low: np.ndarray) -> list[tuple[float, tuple[int, ...]]]:
    """(min U, an argmin) for k = 1..n over every composition of n into k parts."""
    n = high.size
    return [min((reference.certified_error(high, low, s), s) for s in compositions(n, k)) for k in range(1, n + 1)]


def tolerance(high: np.ndarray, low: np.ndarray) -> float:
    return 1e-12 * max(1.0, float(np.sum(np.abs(high)) + np.sum(np.abs(low))))


@pytest.mark.parametrize("kind", KINDS)
def test_every_method_equals_exhaustive_enumeration(kind):
    rng = np.random.default_rng(sum(map(ord, kind)))
    for _ in range(12):
        n = int(rng.integers(1, 11))
        high, low = random_band(rng, n, kind)
        best = brute_force(high, low)
        tol = tolerance(high, low)
        frontiers = {m: mdmsched.certified_frontier(high, low, method=m) for m in ("naive", "hull", "auto")}
        for k in range(1, n + 1):
            want, _ = best[k - 1]
            dp, _ = reference.certified_schedule(high, low, k)
            assert abs(dp - want) <= tol, (kind, n, k, dp, want)
            for method in METHODS:
                got = mdmsched.certified_schedule(high, low, k, method=method)
                assert got.k == k and got.n == n
                assert abs(got.error - want) <= tol, (kind, method, k, got.tolist(), got.error, want)
                # the reported error is the schedule's own U
                assert abs(reference.certified_error(high, low, got.sizes) - got.error) <= tol
            for method, front in frontiers.items():
                assert abs(front[k - 1] - want) <= tol, (kind, method, k, front, want)
            # min_steps at eps = min U_k: the band is solved in Z-form (g_high[0] - g, rounded), so optima within
            # `tol` of eps may go either way; anything clearly below eps must be found, nothing clearly above taken.
            clear = next(j for j in range(1, n + 1) if best[j - 1][0] <= want - tol or j == n)
            loose = next(j for j in range(1, n + 1) if best[j - 1][0] <= want + tol)
            for method in ("auto", "naive", "hull", "lagrangian"):
                got = mdmsched.certified_min_steps(high, low, want, method=method)
                assert got.error <= want * (1 + 1e-15) + tol
                assert loose <= got.k <= clear, (kind, method, k, want, got.k, [b for b, _ in best])


def test_solvers_equal_the_numpy_two_curve_dp_at_larger_n():
    rng = np.random.default_rng(7)
    for trial in range(10):
        n = int(rng.integers(20, 70))
        high, low = random_band(rng, n, KINDS[trial % len(KINDS)])
        tol = tolerance(high, low)
        ks = sorted({1, 2, int(rng.integers(2, n + 1)), int(rng.integers(2, n + 1)), n - 1, n} - {0})
        front = reference.certified_frontier(high, low, n)
        np.testing.assert_allclose(mdmsched.certified_frontier(high, low), front, rtol=0, atol=tol)
        for k in ks:
            want, _ = reference.certified_schedule(high, low, k)
            for method in METHODS:
                got = mdmsched.certified_schedule(high, low, k, method=method)
                assert abs(got.error - want) <= tol, (trial, method, k, got.error, want)


def test_one_curve_band_is_the_plain_solver_bit_for_bit():
    rng = np.random.default_rng(3)
    for _ in range(20):
        n = int(rng.integers(2, 200))
        g = 3.0 - np.cumsum(rng.exponential(1.0, n) * (rng.random(n) < 0.5)) / n
        z = g[0] - g
        for method in METHODS:
            for k in {1, 2, 5, min(n, 13), n}:
                if k > n:
                    continue
                a = mdmsched.optimal_schedule(z, k, method=method)
                b = mdmsched.certified_schedule(g, g, k, method=method)
                assert a.error == b.error and a.tolist() == b.tolist(), (method, k)
            assert np.array_equal(mdmsched.error_frontier(z, method=method), mdmsched.certified_frontier(g, g, method=method))
        eps = float(rng.uniform(0, 0.5 * np.sum(z)))
        a, b = mdmsched.min_steps(z, eps), mdmsched.certified_min_steps(g, g, eps)
        assert a.tolist() == b.tolist() and a.error == b.error
        sizes = mdmsched.optimal_schedule(z, max(1, n // 3)).sizes
        assert mdmsched.certified_error(g, g, sizes) == mdmsched.schedule_error(z, sizes)


def test_certified_error_bounds_every_curve_in_the_band_and_is_attained():
    rng = np.random.default_rng(11)
    for trial in range(40):
        n = int(rng.integers(1, 25))
        high, low = random_band(rng, n, KINDS[trial % len(KINDS)])
        sizes = rng.multinomial(n - int(rng.integers(1, n + 1)), np.ones(3) / 3) if n > 3 else [n]
        sizes = [s for s in sizes if s > 0]
        sizes = [*sizes, n - sum(sizes)] if sum(sizes) < n else sizes
        bound = mdmsched.certified_error(high, low, sizes)
        assert abs(bound - reference.certified_error(high, low, sizes)) <= tolerance(high, low)
        inside = low + rng.random((200, n)) * (high - low)  # any curve in the band, monotone or not
        inside[:4] = [high, low, np.maximum(np.minimum.accumulate(inside[4]), low), (high + low) / 2]
        for g in inside:
            assert level_error(g, sizes) <= bound + tolerance(high, low), (trial, sizes)
        # the worst case: g_high at each step's first level, g_low inside steps
        worst = low.copy()
        starts = np.concatenate(([0], np.cumsum(sizes)[:-1]))
        worst[starts] = high[starts]
        assert abs(level_error(worst, sizes) - bound) <= tolerance(high, low)


def test_quadrangle_inequality_and_convexity_in_k_by_brute_force():
    rng = np.random.default_rng(5)
    for trial in range(30):
        n = int(rng.integers(2, 11))
        high, low = random_band(rng, n, KINDS[trial % len(KINDS)])
        p_lo = np.concatenate(([0.0], np.cumsum(low)))

        def cost(a: int, b: int, high: np.ndarray = high, p_lo: np.ndarray = p_lo) -> float:
            return float((b - a - 1) * high[a] - (p_lo[b] - p_lo[a + 1]))

        tol = tolerance(high, low)
        for a, a2, b, b2 in itertools.combinations_with_replacement(range(n + 1), 4):
            if a < b and a2 < b2:
                assert cost(a, b) + cost(a2, b2) <= cost(a, b2) + cost(a2, b) + tol, (a, a2, b, b2)
        best = [u for u, _ in brute_force(high, low)]
        assert best[-1] == 0.0
        for k in range(1, n - 1):
            assert best[k - 1] - best[k] >= best[k] - best[k + 1] - tol, (trial, k, best)  # convex
            assert best[k - 1] >= best[k] - tol  # non-increasing


def test_non_monotone_upper_curve_is_what_breaks_the_quadrangle_inequality():
    # Why g_high must be non-increasing: a rising upper curve makes the cost non-Monge (the refusal below is needed).
    high, low = np.array([0.0, 1.0, 1.0]), np.array([0.0, 0.0, 0.0])
    p_lo = np.concatenate(([0.0], np.cumsum(low)))
    cost = lambda a, b: (b - a - 1) * high[a] - (p_lo[b] - p_lo[a + 1])
    assert cost(0, 2) + cost(1, 3) > cost(0, 3) + cost(1, 2)
    with pytest.raises(ValueError, match="g_high must be non-increasing"):
        mdmsched.certified_schedule(high, low, 2)


@pytest.mark.parametrize(
    ("call", "error", "match"),
    [
        (lambda: mdmsched.certified_schedule([1.0, 2.0], [0.0, 0.0], 1), ValueError, "g_high must be non-increasing"),
        (lambda: mdmsched.certified_schedule([2.0, 1.0], [0.0, 1.5], 1), ValueError, "g_low must be <= g_high"),
        (lambda: mdmsched.certified_schedule([2.0, 1.0], [0.0], 1), ValueError, "g_low must have the same length"),
        (lambda: mdmsched.certified_schedule([], [], 1), ValueError, "g_high must have at least one entry"),
        (lambda: mdmsched.certified_schedule([[2.0, 1.0]], [[0.0, 0.0]], 1), ValueError, "g_high must be 1-D"),
        (lambda: mdmsched.certified_schedule([2.0, np.nan], [0.0, 0.0], 1), ValueError, "g_high must be finite"),
        (lambda: mdmsched.certified_schedule([2.0, 1.0], [0.0, np.inf], 1), ValueError, "g_low must be finite"),
        (lambda: mdmsched.certified_schedule(["a"], [0.0], 1), TypeError, "g_high must be an array of real"),
        (lambda: mdmsched.certified_schedule([1.0], [1j], 1), TypeError, "g_low must be an array of real"),
        (lambda: mdmsched.certified_schedule([2.0, 1.0], [0.0, 0.0], 3), ValueError, "k must satisfy"),
        (lambda: mdmsched.certified_schedule([2.0, 1.0], [0.0, 0.0], 1.0), TypeError, "k must be an integer"),
        (lambda: mdmsched.certified_schedule([2.0, 1.0], [0.0, 0.0], 1, method="x"), ValueError, "method must be"),
        (lambda: mdmsched.certified_frontier([2.0, 1.0], [0.0, 0.0], 0), ValueError, "k_max must satisfy"),
        (lambda: mdmsched.certified_min_steps([2.0, 1.0], [0.0, 0.0], -1.0), ValueError, "eps must be finite"),
        (lambda: mdmsched.certified_min_steps([2.0, 1.0], [0.0, 0.0], "1"), TypeError, "eps must be a real"),
        (lambda: mdmsched.certified_error([2.0, 1.0], [0.0, 0.0], [1, 2]), ValueError, "sizes must sum to n = 2"),
        (lambda: mdmsched.certified_error([2.0, 1.0], [0.0, 0.0], [1.5, 0.5]), TypeError, "sizes must be integers"),
        (lambda: mdmsched.certified_error([1e308, -1e308], [-1e308, -1e308], [2]), ValueError, "largest double"),
    ],
)
def test_bad_input_is_refused_naming_the_argument(call, error, match):
    with pytest.raises(error, match=match):
        call()


def test_rounding_noise_in_the_band_is_cleaned_not_refused():
    high = np.array([2.0, 1.0, 1.0 + 1e-12])  # a rise within CURVE_RTOL
    low = np.array([0.5, 1.0 + 1e-12, 0.0])  # above g_high within CURVE_RTOL
    got = mdmsched.certified_schedule(high, low, 2, method="naive")
    want, _ = reference.certified_schedule(np.minimum.accumulate(high), np.minimum(low, np.minimum.accumulate(high)), 2)
    assert abs(got.error - want) <= 1e-15


def test_huge_and_tiny_bands_are_rescaled_exactly():
    rng = np.random.default_rng(2)
    for scale in (2.0**-1060, 2.0**-600, 2.0**1000):
        high, low = random_band(rng, 8, "dyadic")
        base = [mdmsched.certified_schedule(high, low, k).error for k in range(1, 9)]
        scaled = [mdmsched.certified_schedule(high * scale, low * scale, k).error for k in range(1, 9)]
        if scale > 2.0**-1000:
            assert scaled == [b * scale for b in base], scale
        front = mdmsched.certified_frontier(high * scale, low * scale)
        assert np.all(np.isfinite(front)) and front[-1] == 0.0


def test_min_steps_edges_and_the_whole_frontier_warning():
    rng = np.random.default_rng(9)
    high, low = random_band(rng, 12, "monotone")
    one = mdmsched.certified_error(high, low, [12])
    assert mdmsched.certified_min_steps(high, low, one).k == 1
    zero = mdmsched.certified_min_steps(high, low, 0.0)
    fewest = next(k for k in range(1, 13) if reference.certified_schedule(high, low, k)[0] == 0.0)
    assert zero.error == 0.0 and zero.k == fewest
    big = np.linspace(1.0, 0.0, mdmsched.solve.FRONTIER_WARN_N + 1)
    with pytest.warns(UserWarning, match="O\\(n\\^2\\)"):
        mdmsched.certified_frontier(big, big - 0.01, method="hull")
