"""Curve estimation from a model: how much of the time is the model and how much is mdmsched.

    python -m pytest benchmarks/bench_estimate.py --full --benchmark-enable --benchmark-json=bench-estimate.json -s
    python benchmarks/report.py bench-estimate.json

The "legacy" entries replay what the package did per call before the per-position interface (issue 10): upcast the
whole (B, n, q) array to float64, check it, take logs of every masked row. They are kept here, not in the package, so
the ratio is measured in one run.
"""

from __future__ import annotations

import math
import tracemalloc

import numpy as np
import pytest
from _sizes import size

import mdmsched
from mdmsched.distributions import markov_curve
from mdmsched.models.estimate import plan_estimate, run_shard

P = np.array([[0.9, 0.08, 0.02], [0.05, 0.9, 0.05], [0.1, 0.1, 0.8]])


N_EST, ROWS_EST = size(128, 1024), size(64, 256)


@pytest.mark.benchmark(group=f"estimate_curve, exact Markov predictor, n={N_EST}, 32 grid points, {ROWS_EST} rows")
def test_estimate_markov_1024(benchmark):
    model = mdmsched.MarkovPredictor(P, N_EST)
    data = model.sample(ROWS_EST, np.random.default_rng(0))
    est = benchmark.pedantic(mdmsched.estimate_curve, args=(model, data), kwargs={"seed": 1}, rounds=3)
    ours = est.total_seconds - est.model_seconds
    benchmark.extra_info.update(model_seconds=est.model_seconds, overhead_seconds=ours, model_calls=est.model_calls)
    exact = markov_curve(P, N_EST)
    on_grid = est.grid[1:]
    assert (np.abs(est.Z_raw[on_grid] - exact[on_grid]) <= 5 * est.stderr[on_grid] + 1e-9).all()


N_KL, SAMPLES_KL = size(64, 256), size(1024, 4096)


@pytest.mark.benchmark(group=f"expected_kl by simulation, Markov n={N_KL}, k=16, {SAMPLES_KL} samples")
def test_expected_kl_markov(benchmark):
    model = mdmsched.MarkovPredictor(P, N_KL)
    z = markov_curve(P, N_KL)
    sched = mdmsched.optimal_schedule(z, 16)
    kl = benchmark.pedantic(mdmsched.expected_kl, args=(model, None, sched, SAMPLES_KL), kwargs={"seed": 0}, rounds=3)
    assert abs(kl.mean - sched.error) <= 5 * kl.stderr


# ---- package overhead per model call at LLM sizes -----------------------------------------------------------------------


class FreePerPositionModel:
    """A per-position model that costs nothing: what is left of a call is mdmsched's overhead."""

    def __init__(self, q: int) -> None:
        self.q = q

    def score(self, tokens, mask, target="cross_entropy"):
        return np.full(tokens.shape, math.log(self.q), dtype=np.float32)


@pytest.mark.benchmark(group="overhead per call, per-position model, q=126,464, n=1024, B=8")
def test_overhead_per_position_model(benchmark):
    batch, n = 8, 1024
    data = np.random.default_rng(0).integers(0, 126_464, (64, n))
    plan = plan_estimate(data.shape, grid=[0, 256, 512, 1023], batch_size=batch, seed=0)
    model = FreePerPositionModel(126_464)
    calls = 32
    result = benchmark.pedantic(run_shard, args=(model, data, plan, range(calls)), rounds=5)
    if benchmark.stats is not None:  # None when run once as a test (--benchmark-disable)
        benchmark.extra_info.update(per_call_seconds=benchmark.stats.stats.median / calls, calls=calls)
    np.testing.assert_allclose(result.values, math.log(126_464), rtol=1e-6)
    tracemalloc.start()
    run_shard(model, data, plan, range(4))
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    benchmark.extra_info["peak_bytes"] = peak
    assert peak < 64 * batch * n  # O(B n): a handful of (B, n) arrays, nothing of size q


def _probabilities(batch: int, n: int, q: int) -> np.ndarray:
    rng = np.random.default_rng(0)
    logits = rng.standard_normal((batch, n, q), dtype=np.float32)
    logits -= logits.max(axis=2, keepdims=True)
    np.exp(logits, out=logits)
    logits /= logits.sum(axis=2, keepdims=True)
    return logits


def _legacy_reduce(probs: np.ndarray, mask: np.ndarray) -> np.ndarray:
    """The pre-issue-10 path: float64 copy, full-array checks, logs of every masked row."""
    out64 = np.asarray(probs, dtype=np.float64)
    if not (np.isfinite(out64.min()) and np.isfinite(out64.max())) or out64.min() < 0:
        raise ValueError
    if not np.allclose(out64.sum(axis=2), 1.0, atol=1e-6):
        raise ValueError
    picked = out64[mask]
    entropies = np.zeros(mask.shape)
    entropies[mask] = -np.einsum("ij,ij->i", picked, np.log(np.maximum(picked, 1e-300)))
    return entropies


Q_PROB = size(2000, 32_000)


@pytest.mark.benchmark(group=f"probability model q={Q_PROB:,}, n=256, B=8 (float32): one call's reduction")
@pytest.mark.parametrize("path", ["legacy", "cross_entropy", "entropy"])
def test_probability_model_reduction(benchmark, path):
    batch, n, q = 8, 256, Q_PROB
    probs = _probabilities(batch, n, q)
    rng = np.random.default_rng(1)
    tokens = rng.integers(0, q, (batch, n))
    mask = rng.random((batch, n)) < 0.5
    model = mdmsched.ProbabilityModel(lambda t, m: probs)
    run = (lambda: _legacy_reduce(probs, mask)) if path == "legacy" else (lambda: model.score(tokens, mask, path))
    out = benchmark.pedantic(run, rounds=5, warmup_rounds=1)
    tracemalloc.start()
    run()
    benchmark.extra_info["peak_bytes"] = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    # Independent answers, computed here in float64 from the probabilities (not by either path under test).
    if path == "cross_entropy":
        expected = -np.log(np.take_along_axis(probs, tokens[..., None], axis=2)[..., 0].astype(np.float64))
        np.testing.assert_allclose(out[mask], expected[mask], rtol=1e-6)
    else:
        rows = probs[mask].astype(np.float64)
        entropy = -np.sum(rows * np.log(np.where(rows > 0, rows, 1.0)), axis=1)
        np.testing.assert_allclose(out[mask], entropy, rtol=1e-4)
