"""The ramp band (issue 25.3, SPEC §5.3): every step's error bounded at once, and the solvers over its step costs.

References independent of the code under test: each step's bracketed functional built coefficient by coefficient from
``schedule_coefficients`` + ``bracket_weights`` (the box path's own construction), per-row values averaged by hand,
enumeration of every composition of ``n``, and exact truths (``markov_curve``, the rare symbol's closed form).
"""

from __future__ import annotations

import itertools
import math
import warnings

import numpy as np
import pytest
from binomial import wilson
from learned import RareSymbol

import mdmsched
from mdmsched.distributions import markov_curve
from mdmsched.models.curve_estimate import FlatCurveWarning, NonMonotoneWarning, bracket_weights, increment_coefficients
from mdmsched.models.ramps import (
    RAMP_MIN_GRID_POINTS,
    multiplier_bootstrap,
    ramp_moments,
    ramp_multiplier,
    ramp_weights,
    step_bounds,
)
from mdmsched.models.step_costs import best_schedule, cost_frontier, fewest_steps, schedule_cost

P = np.array([[0.9, 0.1], [0.2, 0.8]])



def random_grid(rng: np.random.Generator, n: int) -> np.ndarray:
    inner = rng.choice(np.arange(1, n - 1), size=int(rng.integers(0, n - 1)), replace=False) if n > 2 else []
    return np.unique(np.concatenate(([0, n - 1], inner))).astype(np.int64)


def step_functional(a: int, b: int, n: int, grid: np.ndarray, upper: bool) -> np.ndarray:
    """The step a -> b's bracketed error as increment coefficients, from the box path's own construction."""
    c = np.zeros(n)
    c[a] = b - a - 1
    c[a + 1:b] = -1.0
    w0, coef = increment_coefficients(bracket_weights(c, grid, upper=upper))
    assert abs(w0) < 1e-12  # a relative error never weighs the level
    return coef


@pytest.mark.parametrize("upper", [True, False])
def test_ramp_moments_equal_the_bracketed_step_functionals_row_by_row(upper):
    rng = np.random.default_rng(1 + upper)
    for _ in range(120):
        n = int(rng.integers(2, 13))
        grid = random_grid(rng, n)
        rows = int(rng.integers(2, 9))
        samples = rng.normal(size=(grid.size, rows)) * rng.choice([1e-3, 1.0, 50.0])
        samples[rng.random(grid.size) < 0.2] = 1.0  # constant levels: some increments constant on every row
        mean, se = ramp_moments(samples, grid, n, upper)
        d = samples[:-1] - samples[1:]
        var = d.var(axis=1, ddof=1)
        borrowed = np.where(var > 0, 0.0, var.max() if (var > 0).any() else 0.0)
        for a in range(n):
            for b in range(a + 2, n + 1):
                coef = step_functional(a, b, n, grid, upper)
                per_row = coef @ d
                want_se = math.sqrt((per_row.var(ddof=1) + np.sum(coef**2 * borrowed)) / rows)
                assert mean[a, b] == pytest.approx(per_row.mean(), rel=1e-9, abs=1e-9 * (1 + np.abs(d).max()))
                assert se[a, b] == pytest.approx(want_se, rel=1e-7, abs=1e-12 * (1 + np.abs(d).max()))
        alpha, _ = ramp_weights(grid, n, upper)
        assert np.all(alpha[np.subtract.outer(np.arange(n + 1), np.arange(n + 1)) > -2] == 0.0)


def all_compositions(n: int):
    for k in range(1, n + 1):
        for cuts in itertools.combinations(range(1, n), k - 1):
            ends = (0, *cuts, n)
            yield np.diff(ends).astype(np.int64)


def test_step_cost_solvers_equal_enumeration():
    rng = np.random.default_rng(3)
    for _ in range(150):
        n = int(rng.integers(1, 8))
        cost = rng.exponential(size=(n + 1, n + 1)) * rng.choice([1e-3, 1.0, 1e3])
        cost[np.subtract.outer(np.arange(n + 1), np.arange(n + 1)) == -1] *= rng.random() < 0.5  # some free steps
        cost[np.subtract.outer(np.arange(n + 1), np.arange(n + 1)) >= 0] = np.inf
        best = {}
        for sizes in all_compositions(n):
            total = sum(cost[s - z, s] for s, z in zip(np.cumsum(sizes), sizes))
            best[sizes.size] = min(best.get(sizes.size, np.inf), total)
        frontier = cost_frontier(cost, n)
        np.testing.assert_allclose(frontier, [best[k] for k in range(1, n + 1)], rtol=1e-12)
        for k in range(1, n + 1):
            got = best_schedule(cost, k)
            assert got.k == k and schedule_cost(cost, got.sizes) == pytest.approx(best[k], rel=1e-12)
        eps = float(rng.choice(list(best.values()))) * rng.choice([1.0, 1.0 + 1e-9, 0.999])
        want = min((k for k, v in best.items() if v <= eps), default=None)
        if want is None:  # no schedule reaches eps: said, not a schedule above it
            with pytest.raises(ValueError, match="no schedule"):
                fewest_steps(cost, eps)
        else:
            fewest = fewest_steps(cost, eps)
            assert fewest.k == want and fewest.bound <= eps


def test_the_multiplier_bootstrap_sits_between_the_single_ramp_and_bonferroni():
    rng = np.random.default_rng(4)
    for n, rows in ((6, 30), (12, 200)):
        samples = np.cumsum(-rng.exponential(size=(n, rows)), axis=0)
        grid = np.arange(n, dtype=np.int64)
        c = multiplier_bootstrap(samples, grid, n, 0.95, "upper", 0)
        single = ramp_multiplier(1 + 1, rows, 0.95, "upper")  # one ramp: the plain t quantile
        assert single < c <= ramp_multiplier(n, rows, 0.95, "upper")
        assert multiplier_bootstrap(samples, grid, n, 0.95, "upper", 0) == c  # seeded: reproducible


def test_ramp_bounds_of_a_schedule_are_the_sum_of_its_steps_and_contain_the_estimate():
    model = mdmsched.MarkovPredictor(P, 10)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", NonMonotoneWarning)
        est = mdmsched.estimate_curve(model, model.sample(120, np.random.default_rng(0)), seed=0)
    high = step_bounds(est.samples, est.grid, est.n, 0.95, "two", True, est.seed)[1]
    for sizes in ([3, 3, 4], [10], [1] * 10, [5, 1, 4]):
        got = est.compare(sizes, [1] * 10)
        assert got.upper == pytest.approx(schedule_cost(high, np.array(sizes)))  # the n-step schedule costs exactly 0
        assert got.lower <= got.value <= got.upper
        one = est.schedule_error(sizes)
        assert one.lower <= max(one.value, 0.0) <= one.upper and one.simultaneous
        fixed = est.schedule_error(sizes, simultaneous=False)
        assert one.upper >= fixed.upper - 1e-12 or sizes == [1] * 10


def quiet_estimate(model, rows: int, runs: int, seed: int, grid=None) -> list[mdmsched.CurveEstimate]:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", NonMonotoneWarning)
        warnings.simplefilter("ignore", FlatCurveWarning)
        big = mdmsched.estimate_curve(model, model.sample(rows * runs, np.random.default_rng(seed)), grid=grid,
                                      seed=seed)
    return [big.subset(np.arange(r * rows, (r + 1) * rows)) for r in range(runs)]


@pytest.mark.parametrize("grid", [pytest.param(None, marks=pytest.mark.full, id="every-point"),
                                  pytest.param([0, 3, 7, 11], id="coarse")])
def test_ramp_band_keeps_coverage_after_selection_and_is_tighter_than_the_box(grid):
    """Markov n = 12, 100 rows, 200 data sets: the certified 3-step schedule's bound and ``min_steps``'s claim hold after
    the choice (>= 93% at nominal 95%); on the full grid the ramp bound of the chosen schedule is below the box's in
    most sets, on a 4-point grid (below ``RAMP_MIN_GRID_POINTS``) it is the box's."""
    n, rows, runs, k, eps = 12, 100, 200, 3, 0.4
    exact = markov_curve(P, n)
    covered = valid = tighter = paired = 0
    other = [2, 2, 8]
    for est in quiet_estimate(mdmsched.MarkovPredictor(P, n), rows, runs, 11, grid):
        chosen = est.certified_schedule(k, calibration="ramps")
        covered += mdmsched.schedule_error(exact, chosen) <= chosen.bound + 1e-12
        diff = est.compare(chosen, other, calibration="ramps")
        truth = mdmsched.schedule_error(exact, chosen) - mdmsched.schedule_error(exact, other)
        paired += diff.lower - 1e-12 <= truth <= diff.upper + 1e-12
        fewest = est.min_steps(eps, holdout=None, calibration="ramps")
        valid += mdmsched.schedule_error(exact, fewest) <= eps + 1e-12
        tighter += chosen.bound < est.certified_schedule(k, calibration="bonferroni").bound
    assert covered / runs >= 0.93, f"certified bound after selection: {wilson(covered, runs)}"
    assert valid / runs >= 0.93, f"min_steps err <= eps after selection: {wilson(valid, runs)}"
    assert paired / runs >= 0.93, f"compare(chosen, fixed) covers the true difference: {wilson(paired, runs)}"
    if grid is None:
        assert tighter / runs >= 0.8, f"ramp bound below the box bound: {wilson(tighter, runs)}"
    else:
        assert tighter == 0




@pytest.mark.full
@pytest.mark.parametrize("rows", [pytest.param(30, marks=pytest.mark.xfail(
    strict=True, reason="known gap: at 30 rows neither band holds on these tails (box 24/300, ramps 30/300 missed)")), 100])
def test_ramp_band_keeps_coverage_on_heavy_tailed_losses(rows):
    """The rare symbol, n = 10, 300 data sets: certified schedules and ``min_steps`` after the choice, 90% and 95%, by
    default (the box below ``RAMP_MIN_ROWS`` rows: the ramps missed 30/300 at 95% with 30 rows, and this test caught it)."""
    n, runs, k = 10, 300, 3
    model = RareSymbol(n)
    exact = model.curve()
    eps = 0.25 * mdmsched.schedule_error(exact, [n])
    ests = quiet_estimate(model, rows, runs, 21 + rows)
    for level, allowed in ((0.9, 1.5 * 0.1), (0.95, 0.07)):
        missed = invalid = 0
        for est in ests:
            chosen = est.certified_schedule(k, confidence=level)
            missed += mdmsched.schedule_error(exact, chosen) > chosen.bound + 1e-12
            fewest = est.min_steps(eps, confidence=level, holdout=None)
            invalid += mdmsched.schedule_error(exact, fewest) > eps + 1e-12
        assert missed / runs <= allowed, f"{level:.0%}: certified bound missed in {wilson(missed, runs)}"
        assert invalid / runs <= allowed, f"{level:.0%}: min_steps err > eps in {wilson(invalid, runs)}"


def test_coarse_grids_and_large_n_fall_back_to_the_box():
    assert RAMP_MIN_GRID_POINTS > 4  # the coverage test's coarse grid relies on it
    model = mdmsched.MarkovPredictor(P, 600)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", NonMonotoneWarning)
        est = mdmsched.estimate_curve(model, model.sample(8, np.random.default_rng(0)), seed=0)
    assert est.certified_schedule(4).bound == est.certified_schedule(4, calibration="bonferroni").bound


def test_step_bounds_refuse_a_single_row():
    with pytest.raises(ValueError, match="rows"):
        step_bounds(np.zeros((3, 1)), np.arange(3, dtype=np.int64), 3, 0.95, "upper")


def test_step_cost_solvers_ignore_what_a_matrix_holds_at_or_below_its_diagonal():
    """Only steps a -> b with a < b exist: zeros (or negatives) at a >= b must not buy empty or backward steps."""
    rng = np.random.default_rng(5)
    for _ in range(40):
        n = int(rng.integers(2, 7))
        cost = rng.exponential(size=(n + 1, n + 1))
        cost[np.subtract.outer(np.arange(n + 1), np.arange(n + 1)) >= 0] = np.inf
        filled = np.where(np.isinf(cost), -rng.exponential(size=cost.shape), cost)
        np.testing.assert_array_equal(cost_frontier(filled, n), cost_frontier(cost, n))
        for k in range(1, n + 1):
            assert best_schedule(filled, k).sizes.tolist() == best_schedule(cost, k).sizes.tolist()
