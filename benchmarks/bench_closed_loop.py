"""Closed-loop policy benchmarks (SPEC §5.4): one build of every state's table against one ``optimal_schedule``, and
the per-step lookup a sampler makes.

    python -m pytest benchmarks/bench_closed_loop.py --full --benchmark-enable --benchmark-json=bench-cl.json
    python benchmarks/report.py bench-cl.json
"""

from __future__ import annotations

import numpy as np
import pytest
from _sizes import size

import mdmsched

SIZES = size(((64, 8), (256, 32)), ((256, 32), (1024, 64), (4096, 256)))


def random_curve(n: int, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    return np.concatenate(([0.0], np.cumsum(rng.exponential(1.0 / n, n - 1))))


@pytest.mark.parametrize(("n", "k"), SIZES)
def test_policy_build(benchmark, n: int, k: int):
    benchmark.group = f"closed loop n={n} k={k}"
    z = random_curve(n)
    policy = benchmark.pedantic(mdmsched.closed_loop_policy, args=(z, k), rounds=3, iterations=1)
    # The answer: the replay from (0, k) is optimal_schedule's (a generic curve: no ties), and a mid state's error is
    # the suffix's optimum.
    best = mdmsched.optimal_schedule(z, k)
    assert np.array_equal(policy.schedule().sizes, best.sizes)
    mid = n // 2
    assert policy.error(mid, k // 2) == pytest.approx(mdmsched.optimal_schedule(z[mid:] - z[mid], k // 2).error,
                                                      rel=1e-12)


@pytest.mark.parametrize(("n", "k"), SIZES)
def test_one_optimal_schedule(benchmark, n: int, k: int):
    benchmark.group = f"closed loop n={n} k={k}"
    z = random_curve(n)
    best = benchmark.pedantic(mdmsched.optimal_schedule, args=(z, k), rounds=3, iterations=1)
    assert best.k == k


@pytest.mark.parametrize(("n", "k"), SIZES[-1:])
def test_lookup_per_step(benchmark, n: int, k: int):
    benchmark.group = "closed loop lookup"
    policy = mdmsched.closed_loop_policy(random_curve(n), k)
    count = benchmark(policy.count, n // 3, k // 2)
    assert count == policy.table[n // 3, k // 2]
