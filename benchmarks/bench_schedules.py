"""Schedule and example-distribution benchmarks.

    python -m pytest benchmarks/bench_schedules.py --full --benchmark-enable --benchmark-json=bench-schedules.json
    python benchmarks/report.py bench-schedules.json
"""

from __future__ import annotations

import numpy as np
import pytest
from _sizes import size

import mdmsched
from mdmsched import reference
from mdmsched.curves import families as D

P = np.array([[0.95, 0.04, 0.01], [0.05, 0.9, 0.05], [0.02, 0.08, 0.9]])


@pytest.mark.benchmark(group="Markov curve, q=3")
@pytest.mark.parametrize("n", size([1_000, 10_000], [1_000, 100_000]))
def test_markov_curve(benchmark, n):
    z = benchmark(D.markov_curve, P, n)
    assert z.shape == (n,) and z[0] == 0 and (np.diff(z) >= 0).all()
    # sum Z = TC (SPEC §2), for a stationary chain (n - 1) (H(pi) - H(X_2 | X_1)) in closed form.
    pi = D.stationary_distribution(P)
    h_pi = -float(np.sum(pi * np.log(pi)))
    h_rate = -float(np.sum(pi[:, None] * P * np.log(P)))
    assert float(np.sum(z)) == pytest.approx((n - 1) * (h_pi - h_rate), rel=1e-9)


@pytest.mark.benchmark(group="Markov curve n=10: closed form vs enumeration")
@pytest.mark.parametrize("impl", ["closed_form", "reference"])
def test_markov_small(benchmark, impl):
    # The enumeration (reference) against the closed form and the closed form against the enumeration.
    if impl == "reference":
        z = benchmark.pedantic(lambda: reference.information_curve(D.markov_chain(P, 10)), rounds=3)
        expected = D.markov_curve(P, 10)
    else:
        z = benchmark(D.markov_curve, P, 10)
        expected = reference.information_curve(D.markov_chain(P, 10))
    np.testing.assert_allclose(z, expected, atol=1e-12)


N_COMPARE, K_COMPARE = size(1024, 4096), size(32, 64)


@pytest.mark.benchmark(group=f"compare 6 schedules + optimum, n={N_COMPARE}, k={K_COMPARE}")
def test_compare(benchmark):
    z = D.markov_curve(P, N_COMPARE)
    table = benchmark(mdmsched.compare, z, K_COMPARE)
    assert len(table.rows) >= 7
    assert table.optimal_error == pytest.approx(reference.optimal_schedule(z, K_COMPARE)[0], rel=1e-9)
