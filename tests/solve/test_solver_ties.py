"""Issue 19, "Solver ties": every method agrees on ``opt_k`` exactly at 1-ulp ties (checked against a Fraction oracle),
``error_frontier`` reports exact errors (no additive residue ~1e-20 TC), and the default whole frontier warns at large n.

Tolerance (documented in ``optimal_schedule``): DP values are long double, so a chosen schedule is optimal whenever
the competing schedules' errors differ by more than ~n 2^-64 TC; the curves below (1-ulp ties next to O(1) values,
magnitudes within 1e-6..1e6) are all resolved, so equality with the exact optimum is asserted.
"""

from __future__ import annotations

import warnings
from fractions import Fraction

import numpy as np
import pytest
from curves import exact_error
from test_exact_arithmetic import exact_frontier

import mdmsched

METHODS = ("naive", "hull", "lagrangian", "auto")
ULP = 2.0**-52


def tie_curves(seed: int, count: int) -> list[np.ndarray]:
    """Curves whose increments are 1, 3, 1e-3, 0 or a few ulps of 1: schedules tie exactly or to one ulp."""
    rng = np.random.default_rng(seed)
    pool = np.array([1.0, ULP, 2 * ULP, 0.0, 3.0, 1e-3])
    out = []
    for _ in range(count):
        n = int(rng.integers(3, 16))
        inc = rng.choice(pool, n - 1, p=[0.3, 0.3, 0.1, 0.1, 0.1, 0.1])
        out.append(np.concatenate(([0.0], np.cumsum(inc))))
    return out


def test_every_method_finds_the_exact_optimum_at_one_ulp_ties():
    # Before the fix: the double-precision penalized DP (n <= 2048) and double DP values gave 948 (lagrangian),
    # 138 (hull), 10 (naive) suboptimal schedules and 1709 wrong frontier values of 26,885 such cases.
    wrong: dict[str, list[tuple[list[float], int]]] = {m: [] for m in (*METHODS, "frontier")}
    for z in tie_curves(0, 200):
        exact = [Fraction(float(v)) for v in z]
        opt = exact_frontier(exact)
        front = mdmsched.error_frontier(z)
        for k in range(1, z.size + 1):
            for method in METHODS:
                if exact_error(exact, mdmsched.optimal_schedule(z, k, method=method).tolist()) != opt[k - 1]:
                    wrong[method].append((z.tolist(), k))
            if front[k - 1] != float(opt[k - 1]):  # the exact optimum, correctly rounded
                wrong["frontier"].append((z.tolist(), k))
    assert all(not cases for cases in wrong.values()), {m: (len(c), c[:1]) for m, c in wrong.items()}


def test_lagrangian_one_ulp_tie_found_by_search():
    # A case the Lagrangian got wrong (error 2.2e-16 where 0 is optimal: a 1-ulp tie between splice candidates).
    z = np.array([0.0, 0.0, ULP, 1 + ULP, 1 + 2 * ULP, 1 + 2 * ULP, 1 + 4 * ULP, 4 + ULP * 4, 4 + ULP * 4, 4 + ULP * 4,
                  4 + ULP * 4, 4 + ULP * 4, 5 + ULP * 4, 5 + ULP * 4, 8.0])
    exact = [Fraction(float(v)) for v in z]
    opt = exact_frontier(exact)
    for k in range(1, z.size + 1):
        errors = {m: exact_error(exact, mdmsched.optimal_schedule(z, k, method=m).tolist()) for m in METHODS}
        assert set(errors.values()) == {opt[k - 1]}, (k, {m: float(e) for m, e in errors.items()}, float(opt[k - 1]))


def test_frontier_has_no_additive_residue():
    # opt_n is exactly 0 (one token per step); it came out 1.08e-19 on this curve.
    z = (np.arange(13) / 12.0) ** 3
    for method in ("auto", "naive", "hull"):
        front = mdmsched.error_frontier(z, method=method)
        assert front[-1] == 0.0, (method, front[-1])
        for k in range(1, z.size + 1):
            assert front[k - 1] == pytest.approx(mdmsched.optimal_schedule(z, k).error, rel=4 * ULP, abs=0)


def test_frontier_is_exact_relative_to_small_optima_on_mixed_magnitudes():
    # The residue was ~1e-20 TC, absolute: k = 11 came out 4.9e-4 off (relative) on a mixed-magnitude curve while
    # optimal_schedule(...).error was exact. Now each value is the chosen schedule's own error.
    rng = np.random.default_rng(1)
    for _ in range(150):
        n = int(rng.integers(3, 14))
        scales = rng.choice([1e-6, 1e-3, 1.0, 1e3, 1e6], size=3)
        z = np.concatenate(([0.0], np.cumsum(rng.choice(scales, n - 1) * rng.integers(0, 3, n - 1))))
        opt = exact_frontier([Fraction(float(v)) for v in z])
        for method in ("hull", "naive"):
            front = mdmsched.error_frontier(z, method=method)
            for k in range(1, n + 1):
                assert abs(Fraction(float(front[k - 1])) - opt[k - 1]) <= Fraction(4 * ULP) * opt[k - 1], (
                    z.tolist(), method, k, front[k - 1], float(opt[k - 1]))


def test_mixed_magnitude_frontier_matches_optimal_schedule():
    # A tiny ramp before a huge plateau: opt_k for k >= 3 is ~1e-9 while TC ~ 1e9.
    z = np.concatenate(([0.0], np.cumsum(np.full(20, 1e-10)), np.full(20, 1e9), np.full(10, 2e9)))
    front = mdmsched.error_frontier(z, 30)
    for k in range(1, 31):
        want = mdmsched.optimal_schedule(z, k, method="hull").error
        assert front[k - 1] == pytest.approx(want, rel=8 * ULP, abs=0), (k, front[k - 1], want)


def test_whole_frontier_warns_at_large_n_and_explicit_k_max_does_not():
    z = np.linspace(0.0, 1.0, mdmsched.solve.FRONTIER_WARN_N + 1)
    with pytest.warns(UserWarning, match="O\\(n\\^2\\)"):
        mdmsched.error_frontier(z, method="hull")
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        mdmsched.error_frontier(z, 8)
        mdmsched.error_frontier(z[:-1])  # at the threshold: no warning
        mdmsched.optimal_block_split([z, z[:100]], 10)  # asks only for the frontier it needs
