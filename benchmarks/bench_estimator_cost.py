"""Forward passes the estimators need (issue 20): nested paired increments vs independent masks.

    python -m pytest benchmarks/bench_estimator_cost.py -s -p no:cacheprovider

For the optimal schedule of the exact curve, the per-row spread ``sd`` of its estimated error gives the rows for a 1%
standard error, ``N* = (sd / (0.01 err))^2``, and the forward passes ``N* G / batch`` (G grid points, one model row per
job); both estimators use the same grid and rows, so the ratio of forward passes is the ratio of variances. The answers
are asserted against the exact curve (the estimate within 5 standard errors). Also: the width of the simultaneous
(certified) bound vs the per-schedule bound at N = 100, 1000, 10^4 rows.
"""

from __future__ import annotations

import math
import warnings

import numpy as np
import pytest

import mdmsched
from mdmsched.distributions import markov_curve
from mdmsched.models.curve_estimate import NonMonotoneWarning

P3 = np.array([[0.9, 0.08, 0.02], [0.05, 0.9, 0.05], [0.1, 0.1, 0.8]])
ROWS = 64


def _spread(model, exact_z, k, estimator, rows=ROWS, seed=0):
    sizes = mdmsched.optimal_schedule(exact_z, k).sizes
    truth = mdmsched.schedule_error(exact_z, sizes)
    data = model.sample(rows, np.random.default_rng(seed))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", NonMonotoneWarning)
        est = mdmsched.estimate_curve(model, data, seed=seed, estimator=estimator)
    bound = est.schedule_error(sizes, simultaneous=False)
    assert abs(bound.value - truth) <= 5 * bound.stderr + 1e-9  # the estimate agrees with the exact error
    sd = bound.stderr * math.sqrt(rows)
    needed_rows = (sd / (0.01 * truth)) ** 2
    return needed_rows * est.grid.size, truth


@pytest.mark.parametrize(("n", "k"), [(256, 16), (256, 64), (1024, 16), (1024, 64)])
def test_forward_passes_for_one_percent_markov(n, k):
    model = mdmsched.MarkovPredictor(P3, n)
    exact = markov_curve(P3, n)
    new, truth = _spread(model, exact, k, "nested")
    old, _ = _spread(model, exact, k, "independent")
    print(f"\nMarkov n={n} k={k}: opt error {truth:.4f} nats; model rows for a 1% standard error: "
          f"independent {old:.3g}, nested {new:.3g}, ratio {old / new:.1f}x")
    assert old / new >= 3.0


def test_forward_passes_for_one_percent_global_law():
    # a dense random law with global dependence (the "demo law" kind: every position depends on every other)
    rng = np.random.default_rng(3)
    n = 10
    p = rng.dirichlet(np.full(2**n, 0.3)).reshape((2,) * n)
    model = mdmsched.ExactPredictor(p)
    exact = mdmsched.reference.information_curve(p)
    new, truth = _spread(model, exact, 3, "nested", rows=400)
    old, _ = _spread(model, exact, 3, "independent", rows=400)
    print(f"\ndense law n={n} k=3: opt error {truth:.4f}; rows for 1%: independent {old:.3g}, nested {new:.3g}, "
          f"ratio {old / new:.1f}x")
    assert old / new >= 1.5


@pytest.mark.parametrize("rows", [100, 1000, 10_000])
def test_certified_vs_per_schedule_width(rows):
    n, k = 40, 8
    p = np.array([[0.9, 0.1], [0.2, 0.8]])
    model = mdmsched.MarkovPredictor(p, n)
    exact = markov_curve(p, n)
    data = model.sample(rows, np.random.default_rng(rows))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", NonMonotoneWarning)
        est = mdmsched.estimate_curve(model, data, grid=np.arange(n), seed=rows, batch_size=4096)
    best = mdmsched.optimal_schedule(est, k, objective="certified")
    per = est.schedule_error(best, simultaneous=False)
    true = mdmsched.schedule_error(exact, best)
    print(f"\nN={rows}: certified k={k} schedule, true error {true:.4f}, estimate {per.value:.4f}; bound - estimate: "
          f"simultaneous {best.bound - per.value:.4f}, per-schedule {per.upper - per.value:.4f} nats")
    assert best.bound >= per.upper - 1e-12 and true <= best.bound  # the band is the more demanding of the two


@pytest.mark.benchmark(group="certified min_steps of an estimate, n=3000, eps=0 (issue 19: was 7 s)")
def test_min_steps_eps_zero_n3000(benchmark):
    n = 3000
    model = mdmsched.MarkovPredictor(np.array([[0.9, 0.1], [0.2, 0.8]]), n)
    est = mdmsched.estimate_curve(model, model.sample(8, np.random.default_rng(0)), grid=[0, 1000, 2000, n - 1],
                                  seed=0)
    best = benchmark.pedantic(mdmsched.min_steps, args=(est, 0.0), kwargs={"confidence": 0.95}, rounds=3)
    # reference: eps = 0 admits only zero-cost steps, and the certified error of the answer is 0 by its own band
    assert best.bound == 0.0 and est.schedule_error(best).upper <= 1e-9
