"""Certified (two-curve) solve vs the one-curve solve at n = 4096, k = 64 (SPEC §5.3), every fast method.

    python -m pytest benchmarks/bench_certified.py --benchmark-enable --benchmark-json=bench-certified.json

The band costs one more array read per step cost; the answers are asserted against the NumPy two-curve DP
(``reference.certified_schedule``) at a smaller n, and against the plain solver where the band has zero width.
"""

from __future__ import annotations

import numpy as np
import pytest

import mdmsched
from mdmsched import reference

N, K = 4096, 64
N_CHECK, K_CHECK = 400, 16


def band(n: int, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """A level curve g falling from 10 nats with a ±1% simultaneous band (the estimator's typical width)."""
    rng = np.random.default_rng(seed)
    g = 10.0 - np.cumsum(rng.exponential(4.0 / n, n))
    width = 0.01 * (1.0 + rng.random(n))
    high = np.minimum.accumulate(g + width)
    low = np.minimum(np.maximum.accumulate((g - width)[::-1])[::-1], high)
    return high, low


HIGH, LOW = band(N)
G = (HIGH + LOW) / 2
Z = G[0] - np.minimum.accumulate(G)


@pytest.fixture(scope="module")
def checked_band() -> tuple[np.ndarray, np.ndarray, float]:
    high, low = band(N_CHECK, seed=1)
    return high, low, reference.certified_schedule(high, low, K_CHECK)[0]


@pytest.mark.benchmark(group=f"certified vs one-curve n={N} k={K}")
@pytest.mark.parametrize("method", ["hull", "lagrangian", "auto"])
def test_certified_solve(benchmark, checked_band, method):
    high, low, want = checked_band
    small = mdmsched.certified_schedule(high, low, K_CHECK, method=method)
    assert small.error == pytest.approx(want, rel=1e-12)
    sched = benchmark(mdmsched.certified_schedule, HIGH, LOW, K, method=method)
    assert sched.k == K and sched.error == pytest.approx(mdmsched.certified_error(HIGH, LOW, sched.sizes), rel=1e-14)
    # the certified optimum is never beaten by the one-curve optimum of the band's midpoint, measured in U
    midpoint = mdmsched.optimal_schedule(Z, K, method=method)
    assert sched.error <= mdmsched.certified_error(HIGH, LOW, midpoint.sizes) * (1 + 1e-12)


@pytest.mark.benchmark(group=f"certified vs one-curve n={N} k={K}")
@pytest.mark.parametrize("method", ["hull", "lagrangian", "auto"])
def test_one_curve_solve(benchmark, method):
    want = mdmsched.certified_schedule(G, G, K_CHECK * 4, method="naive").error  # zero-width band, naive DP
    assert mdmsched.optimal_schedule(G[0] - G, K_CHECK * 4, method=method).error == pytest.approx(want, rel=1e-12)
    sched = benchmark(mdmsched.optimal_schedule, Z, K, method=method)
    assert sched.k == K


@pytest.mark.benchmark(group=f"certified frontier n={N} k_max={K}")
def test_certified_frontier(benchmark, checked_band):
    high, low, want = checked_band
    assert mdmsched.certified_frontier(high, low, K_CHECK)[-1] == pytest.approx(want, rel=1e-12)
    front = benchmark(mdmsched.certified_frontier, HIGH, LOW, K)
    assert np.all(np.diff(front) <= 0)
