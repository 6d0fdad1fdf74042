"""Curve estimation from a model: how much of the time is the model and how much is mdmsched.

    python -m pytest benchmarks/bench_estimate.py --benchmark-enable --benchmark-json=bench-estimate.json -s
    python benchmarks/report.py bench-estimate.json
"""

from __future__ import annotations

import numpy as np
import pytest

import mdmsched
from mdmsched.distributions import markov_curve

P = np.array([[0.9, 0.08, 0.02], [0.05, 0.9, 0.05], [0.1, 0.1, 0.8]])


@pytest.mark.benchmark(group="estimate_curve, exact Markov predictor, n=1024, 32 grid points, 256 rows")
def test_estimate_markov_1024(benchmark):
    model = mdmsched.MarkovPredictor(P, 1024)
    data = model.sample(256, np.random.default_rng(0))
    est = benchmark.pedantic(mdmsched.estimate_curve, args=(model, data), kwargs={"seed": 1}, rounds=3)
    ours = est.total_seconds - est.model_seconds
    benchmark.extra_info.update(model_seconds=est.model_seconds, overhead_seconds=ours, model_calls=est.model_calls)
    print(f"\nmodel {est.model_seconds:.3f} s in {est.model_calls} calls, mdmsched overhead {ours:.3f} s "
          f"({ours / est.total_seconds:.0%} of {est.total_seconds:.3f} s)")
    exact = markov_curve(P, 1024)
    on_grid = est.grid[1:]
    assert (np.abs(est.Z_raw[on_grid] - exact[on_grid]) <= 5 * est.stderr[on_grid] + 1e-9).all()


@pytest.mark.benchmark(group="expected_kl by simulation, Markov n=256, k=16, 4096 samples")
def test_expected_kl_markov(benchmark):
    model = mdmsched.MarkovPredictor(P, 256)
    z = markov_curve(P, 256)
    sched = mdmsched.optimal_schedule(z, 16)
    kl, se = benchmark.pedantic(mdmsched.expected_kl, args=(model, sched, 4096), kwargs={"seed": 0}, rounds=3)
    assert abs(kl - sched.error) <= 5 * se
