"""Calibration with the budget as a cap (issue 25.5) and the count families' range (issue 28.4)."""

from __future__ import annotations

import itertools
import math

import numpy as np
import pytest

from mdmsched.models import ExactPredictor, MarkovPredictor
from mdmsched.samplers import Threshold, TopK, calibrate, evaluate_sampler
from mdmsched.samplers.calibrate import nfe_upper_bound
from mdmsched.samplers.families import equal_counts


def _wilson(hits: int, runs: int, z: float = 1.96) -> tuple[float, float]:
    p = hits / runs
    centre = (p + z * z / (2 * runs)) / (1 + z * z / runs)
    half = z * math.sqrt(p * (1 - p) / runs + z * z / (4 * runs * runs)) / (1 + z * z / runs)
    return centre - half, centre + half


def test_top_k_with_a_huge_high_finds_the_exact_count() -> None:
    # Issue 28.4: k = 3 gives NFE 3 exactly; the search used to stop at 12 halvings of [1, 1e9] and answer k = 1.
    model = MarkovPredictor(np.array([[0.8, 0.2], [0.3, 0.7]]), 12)
    rows = model.sample(20, np.random.default_rng(0))
    got = calibrate(model, rows, "top_k", 3.0, high=10**9)
    assert got.value == 3 and got.nfe == 3.0
    assert got.nfe == evaluate_sampler(model, rows, TopK(equal_counts(3, [12]))).nfe
    assert max(v for v, _ in got.evaluations) <= 12  # k above the block length is the same rule: never tried
    capped = calibrate(model, rows, "top_k", 7.5, high=10**9, at_most=True)
    assert capped.value == 7 and capped.nfe == 7.0 and capped.upper == 7.0  # count rules: NFE has no spread


def test_at_most_is_the_slowest_evaluated_value_within_the_cap() -> None:
    model = MarkovPredictor(np.array([[0.85, 0.15], [0.3, 0.7]]), 10)
    rows = model.sample(40, np.random.default_rng(5))
    got = calibrate(model, rows, "threshold", 4.0, at_most=True, iterations=10)
    assert got.at_most and got.upper <= 4.0 and got.nfe < 4.0
    tried = dict(got.evaluations)
    for value, mean_nfe in tried.items():
        est = evaluate_sampler(model, rows, Threshold(value))
        assert est.nfe == mean_nfe
        if nfe_upper_bound(est, 0.95) <= 4.0:
            assert est.nfe <= got.nfe, (value, est.nfe, got)
    closest = calibrate(model, rows, "threshold", 4.0, iterations=10)
    assert closest.upper >= got.upper
    with pytest.raises(ValueError, match=r"budget 0\.5"):
        calibrate(model, rows, "threshold", 0.5, at_most=True)
    with pytest.raises(TypeError, match="at_most"):
        calibrate(model, rows, "threshold", 4.0, at_most="yes")


def test_calibration_plans_once_and_scores_each_state_once() -> None:
    model = MarkovPredictor(np.array([[0.85, 0.15], [0.3, 0.7]]), 10)
    rows = model.sample(30, np.random.default_rng(2))
    got = calibrate(model, rows, "threshold", 4.0, iterations=8)
    separate = sum(int(evaluate_sampler(model, rows, Threshold(v)).nfe_rows.sum()) for v, _ in got.evaluations)
    assert 0 < got.row_forwards < separate  # the bisection's rules share states


def _law(n: int, q: int, seed: int) -> np.ndarray:
    return np.random.default_rng(seed).dirichlet(np.full(q**n, 0.5)).reshape((q,) * n)


@pytest.mark.full
def test_at_most_keeps_the_true_mean_nfe_within_the_budget() -> None:
    # True mean NFE by enumeration: Threshold is deterministic, so E_x NFE(x) = sum_x p(x) NFE(x) over all q^n rows.
    # A law whose mean NFE climbs in small steps near the budget (3.90 at tau 0.62, 4.25 at 0.63).
    n, q, budget, rows_per_seed, runs = 7, 2, 4.0, 30, 240
    p = np.random.default_rng(1).dirichlet(np.full(q**n, 0.3)).reshape((q,) * n)
    model = ExactPredictor(p)
    everything = np.array(list(itertools.product(range(q), repeat=n)))
    weights = p[tuple(everything.T)]
    truth: dict[float, float] = {}
    hits = closest_hits = 0
    for seed in range(runs):
        rng = np.random.default_rng(seed)
        rows = everything[rng.choice(everything.shape[0], rows_per_seed, p=weights / weights.sum())]
        got = calibrate(model, rows, "threshold", budget, at_most=True, iterations=8)
        plain = calibrate(model, rows, "threshold", budget, iterations=8)
        for value in (got.value, plain.value):
            if value not in truth:
                truth[value] = float(weights @ evaluate_sampler(model, everything, Threshold(value)).nfe_rows)
        hits += truth[got.value] <= budget
        closest_hits += truth[plain.value] <= budget
    low, high = _wilson(hits, runs)
    message = (f"true mean NFE <= {budget} in {hits}/{runs} = {hits / runs:.3f} seeds, 95% Wilson CI "
               f"[{low:.3f}, {high:.3f}] (nominal >= 0.95); closest-to-budget: {closest_hits}/{runs}")
    assert high >= 0.95 and hits / runs >= 0.92, message
    assert closest_hits < hits, message  # the cap matters: reading 'closest' as a cap overshoots more often


def test_exact_predictor_at_most_small() -> None:
    p = _law(4, 2, 7)
    model = ExactPredictor(p)
    everything = np.array(list(itertools.product(range(2), repeat=4)))
    got = calibrate(model, everything, "threshold", 2.5, at_most=True, iterations=6)
    assert got.upper <= 2.5


def test_kl_target_absolute_is_the_fastest_value_below_eps() -> None:
    from mdmsched.samplers.demo_model import markov_example

    example = markov_example(n=10, rows=60, seed=2)
    eps = 1.0
    got = calibrate(example.model, example.rows, "threshold", 1.0, kl=eps, entropy=example.entropy, iterations=10)
    tried = dict(got.evaluations)
    kls = {v: evaluate_sampler(example.model, example.rows, Threshold(v)).nll - example.entropy for v in tried}
    assert kls[got.value] <= eps
    assert all(kls[v] > eps for v in tried if tried[v] < got.nfe), (got, kls)  # every faster value tried misses
    assert got.kl is not None and got.kl.lower <= kls[got.value] <= got.kl.upper
    assert abs(got.kl.value - kls[got.value]) <= 1e-12
    with pytest.raises(ValueError, match="kl="):
        calibrate(example.model, example.rows, "threshold", 1.0, kl=1e-9, entropy=example.entropy, iterations=4)
    with pytest.raises(ValueError, match="entropy"):
        calibrate(example.model, example.rows, "threshold", 1.0, entropy=example.entropy)
    with pytest.raises(ValueError, match="not both"):
        calibrate(example.model, example.rows, "threshold", 1.0, kl=1.0, at_most=True)


def test_kl_target_against_the_frontier_of_the_map() -> None:
    from mdmsched.samplers import sampler_map
    from mdmsched.samplers.demo_model import markov_example

    example = markov_example(n=10, rows=60, seed=3)
    smap = sampler_map(example.model, example.rows, "top_k", seed=0)
    eps = 0.5
    got = calibrate(example.model, example.rows, "top_k", 1.0, kl=eps)
    for row in smap.rows:  # the map's own frontier at each row's NFE (integer NFE for count rules)
        gap = row.nll - float(np.interp(row.nfe, smap.frontier_nfe, smap.frontier_nll))
        if row.value == got.value:
            assert abs(gap - got.kl.value) <= 1e-9 and gap <= eps
        elif row.nfe < got.nfe:
            assert gap > eps, (row, gap)
