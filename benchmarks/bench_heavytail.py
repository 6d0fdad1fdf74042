"""Issue 25.2: the neighbour control variate against nested masks where a rare token's loss hinges on its neighbour.

    python -m pytest benchmarks/bench_heavytail.py -s -p no:cacheprovider [--full]

The context-hole model of ``heavytail_models.py`` (n = 16, 11.5-nat losses while the left neighbour is masked), the
chain's optimal 4-step schedule, equal forwards per data set (64 rows x 16 for nested, 51 x 20 for neighbour_cv):
variance x forwards of the fixed schedule's estimated error. BENCHMARKS.md's numbers are the ``--full`` size and
``measure_heavytail.py package``; each answer is asserted against the exact error.
"""

from __future__ import annotations

import math
import warnings

import numpy as np
import pytest
from _sizes import size
from heavytail_models import Context, P

import mdmsched
from mdmsched.distributions import markov_curve
from mdmsched.models.curve_estimate import FlatCurveWarning, NonMonotoneWarning

SETS = size(60, 1000)
_LEVELS: dict[str, np.ndarray] = {}


def _levels(model: Context) -> np.ndarray:
    """The exact levels, once (an enumeration of 2^16 sequences)."""
    if model.name not in _LEVELS:
        _LEVELS[model.name] = model.levels()
    return _LEVELS[model.name]


def _spread(model: Context, estimator: str, rows: int, forwards: int) -> float:
    sizes = mdmsched.optimal_schedule(markov_curve(P, model.n), 4).sizes
    g = _levels(model)
    truth = mdmsched.schedule_error(g[0] - g, sizes)
    data = model.sample(rows * SETS, np.random.default_rng(1))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", NonMonotoneWarning)
        warnings.simplefilter("ignore", FlatCurveWarning)
        big = mdmsched.estimate_curve(model, data, grid=np.arange(model.n), seed=2, estimator=estimator)
    values = np.array([big.subset(np.arange(s * rows, (s + 1) * rows)).schedule_error(sizes, simultaneous=False).value
                       for s in range(SETS)])
    assert abs(values.mean() - truth) <= 5 * values.std(ddof=1) / math.sqrt(SETS)  # unbiased: the exact error
    return float(values.var(ddof=1) * rows * forwards)


@pytest.mark.benchmark(group="variance x forwards of a fixed schedule's error, context holes n=16")
def test_neighbour_cv_beats_nested_on_context_holes(benchmark):
    model = Context()
    nested = _spread(model, "nested", 64, 16)
    cv = benchmark.pedantic(_spread, args=(model, "neighbour_cv", 51, 20), rounds=1, iterations=1)
    print(f"\ncontext holes n=16, {SETS} data sets: variance x forwards nested {nested:.4g}, neighbour_cv {cv:.4g}, "
          f"ratio {nested / cv:.2f}x")
    assert nested / cv >= 1.5
