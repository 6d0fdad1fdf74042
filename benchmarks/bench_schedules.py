"""Schedule and example-distribution benchmarks.

    python -m pytest benchmarks/bench_schedules.py --benchmark-enable --benchmark-json=bench-schedules.json
    python benchmarks/report.py bench-schedules.json
"""

from __future__ import annotations

import numpy as np
import pytest

import mdmsched
from mdmsched import reference
from mdmsched.curves import families as D

P = np.array([[0.95, 0.04, 0.01], [0.05, 0.9, 0.05], [0.02, 0.08, 0.9]])


@pytest.mark.benchmark(group="Markov curve, q=3")
@pytest.mark.parametrize("n", [1_000, 100_000])
def test_markov_curve(benchmark, n):
    z = benchmark(D.markov_curve, P, n)
    assert z.shape == (n,) and z[0] == 0 and (np.diff(z) >= 0).all()


@pytest.mark.benchmark(group="Markov curve n=10: closed form vs enumeration")
@pytest.mark.parametrize("impl", ["closed_form", "reference"])
def test_markov_small(benchmark, impl):
    expected = reference.information_curve(D.markov_chain(P, 10))
    if impl == "reference":
        z = benchmark.pedantic(lambda: reference.information_curve(D.markov_chain(P, 10)), rounds=3)
    else:
        z = benchmark(D.markov_curve, P, 10)
    np.testing.assert_allclose(z, expected, atol=1e-12)


@pytest.mark.benchmark(group="compare 6 schedules + optimum, n=4096, k=64")
def test_compare(benchmark):
    z = D.markov_curve(P, 4096)
    table = benchmark(mdmsched.compare, z, 64)
    assert len(table.rows) >= 7
    assert table.optimal_error == pytest.approx(reference.optimal_schedule(z[:4096], 64)[0], rel=1e-9)
