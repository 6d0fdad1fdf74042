"""The ramp band's cost (issue 25.3): step bounds with the Gaussian multiplier bootstrap, then the certified DPs.

    python -m pytest benchmarks/bench_ramps.py --full --benchmark-enable -p no:cacheprovider

Sizes: full grids G = n = 65 and 257, and n = 512 on the default 32-point grid, N = 1000 rows (``--full``; small
otherwise). The answers are checked against the per-row ramp values of a few steps computed by hand from the increments.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from _sizes import size

from mdmsched.models.ramps import step_bounds
from mdmsched.models.step_costs import best_schedule, fewest_steps, schedule_cost

CASES = size([(17, 17, 100)], [(65, 65, 1000), (257, 257, 1000), (512, 32, 1000)])


def rows_of(n: int, points: int, rows: int) -> tuple[np.ndarray, np.ndarray]:
    grid = np.unique(np.round(np.linspace(0, n - 1, points)).astype(np.int64))
    levels = np.cumsum(-np.random.default_rng(n).exponential(0.02, size=(grid.size, rows)), axis=0)
    return grid, levels


@pytest.mark.parametrize(("n", "points", "rows"), CASES, ids=[f"n{n}-G{g}-N{r}" for n, g, r in CASES])
def test_ramp_band_cost(benchmark, n, points, rows):
    grid, levels = rows_of(n, points, rows)
    _, high = benchmark.pedantic(step_bounds, (levels, grid, n, 0.95, "upper", True, 0), rounds=1, iterations=1)
    d = levels[:-1] - levels[1:]
    if grid.size == n:  # full grid: the step a -> b is the ramp sum_{l=a}^{b-2} (b - 1 - l) d_l, above its mean
        for a, b in ((0, n), (1, 4), (n // 2, n - 1)):
            ramp = (b - 1 - np.arange(a, b - 1)) @ d[a:b - 1]
            assert ramp.mean() < high[a, b] < ramp.mean() + 10 * ramp.std(ddof=1) / math.sqrt(rows)
    fewest = fewest_steps(high, 0.05 * high[0, n])
    assert fewest.bound <= 0.05 * high[0, n] and schedule_cost(high, fewest.sizes) == pytest.approx(fewest.bound)
    assert best_schedule(high, fewest.k).bound == pytest.approx(fewest.bound)
