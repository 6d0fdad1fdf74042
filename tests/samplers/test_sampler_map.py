"""The KL-vs-NFE map, calibration and count proposals for confidence order (issue 17 items 3-4, SPEC §5.2)."""

from __future__ import annotations

import itertools
import json
import math

import numpy as np
import pytest

import mdmsched
from mdmsched.curves.families import product
from mdmsched.models import ExactPredictor, MarkovPredictor
from mdmsched.samplers import (
    EntropyBounded,
    FloorThreshold,
    RandomOrder,
    Threshold,
    TopK,
    calibrate,
    confidence_cost_tables,
    evaluate_sampler,
    optimal_counts,
    optimise_counts,
    sampler_map,
)
from mdmsched.samplers.counts import path_cost
from mdmsched.samplers.families import default_family, equal_counts
from mdmsched.samplers.map import combined_frontier

STICKY = np.array([[0.9, 0.05, 0.05], [0.05, 0.9, 0.05], [0.1, 0.1, 0.8]])


def _wilson(hits: int, runs: int, z: float = 1.96) -> tuple[float, float]:
    p = hits / runs
    centre = (p + z * z / (2 * runs)) / (1 + z * z / runs)
    half = z * math.sqrt(p * (1 - p) / runs + z * z / (4 * runs * runs)) / (1 + z * z / runs)
    return centre - half, centre + half


@pytest.fixture(scope="module")
def markov():
    model = MarkovPredictor(STICKY, 12)
    return model, model.sample(40, np.random.default_rng(5))


# ---- the map -----------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("block_length", [None, 4])
def test_map_rows_equal_separate_evaluations(markov, block_length):
    model, data = markov
    lengths = [12] if block_length is None else [4, 4, 4]
    out = sampler_map(model, data, ["random", "threshold", "entropy_bounded", "floor_threshold"],
                      block_length=block_length, seed=3, frontier=False)
    assert len(out.rows) == sum(len(default_family(f, lengths).values) for f in out.families)
    for row in out.rows:
        rule = default_family(row.family, lengths).rule(row.value, lengths)
        alone = evaluate_sampler(model, data, rule, block_length=block_length, seed=3)
        assert row.rule == repr(rule)
        np.testing.assert_array_equal(row.estimate.nll_rows, alone.nll_rows)
        assert (row.nll, row.stderr, row.nfe, row.tokens_per_forward) == (alone.nll, alone.stderr, alone.nfe,
                                                                         alone.tokens_per_forward)
    # passes per block k: exactly sum_b min(k, B_b) forward passes for the fixed-count random rule
    for row in out.family("random"):
        assert row.nfe == sum(min(int(row.value), b) for b in lengths)


def test_map_frontier_equals_error_frontier_plus_constant():
    model = MarkovPredictor(STICKY, 10)
    data = model.sample(400, np.random.default_rng(1))
    out = sampler_map(model, data, ["random"], seed=7)
    est = mdmsched.estimate_curve(model, data, seed=7)  # the same curve, computed here on its own
    assert np.array_equal(est.grid, np.arange(10))  # full grid: h_m for every m
    assert np.allclose(est.Z, est.Z_raw, atol=1e-12), "precondition: the estimate is monotone (no projection)"
    offset = float(est.h.sum())  # C = sum_m g_m
    np.testing.assert_allclose(out.frontier_offset, offset, rtol=1e-12)
    np.testing.assert_allclose(out.frontier_nll, mdmsched.error_frontier(est.Z) + offset, rtol=1e-12, atol=1e-12)
    np.testing.assert_array_equal(out.frontier_nfe, np.arange(1, 11))
    # each frontier point is the expected NLL sum of the optimal schedule, sum_j s_j g_{N_{j-1}}, from h directly
    for k in (1, 3, 10):
        sizes = mdmsched.optimal_schedule(est.Z, k).sizes
        starts = np.concatenate(([0], np.cumsum(sizes)[:-1]))
        assert out.frontier_nll[k - 1] == pytest.approx(float((sizes * est.h[starts]).sum()), rel=1e-12)
    # one pass = everything at once = the k = 1 random row, exactly (same state, same tokens)
    assert out.family("random")[0].nll == pytest.approx(out.frontier_nll[0], rel=1e-12)
    # the optimum is never worse than the equal split it competes with, beyond noise
    for row in out.family("random"):
        k = int(row.value)
        assert out.frontier_nll[k - 1] <= row.nll + 3 * row.stderr


def test_blocked_frontier_is_the_best_split_by_enumeration(markov):
    model, data = markov
    out = sampler_map(model, data, ["threshold"], block_length=6, seed=2)
    blocks = mdmsched.estimate_block_curves(model, data, block_length=6, seed=2)
    fronts = [mdmsched.error_frontier(c.Z) for c in blocks.curves]
    offset = sum(c.n * c.h[0] - c.Z.sum() for c in blocks.curves)
    for total in range(2, 13):
        brute = min(fronts[0][a - 1] + fronts[1][total - a - 1] for a in range(1, total) if total - a <= 6 and a <= 6)
        assert out.frontier_nll[total - 2] == pytest.approx(brute + offset, rel=1e-12, abs=1e-12)
    assert out.frontier_nfe.tolist() == list(range(2, 13))


def test_combined_frontier_matches_enumeration_on_random_convex_frontiers():
    rng = np.random.default_rng(0)
    for _ in range(50):
        fronts = []
        for length in rng.integers(1, 6, size=3):
            gains = np.sort(rng.random(length - 1))[::-1]  # decreasing gains: convex, non-increasing
            fronts.append(np.concatenate(([0.0], -np.cumsum(gains))) + 5)
        got = combined_frontier(fronts)
        for total in range(3, sum(f.size for f in fronts) + 1):
            brute = min(sum(f[k - 1] for f, k in zip(fronts, ks))
                        for ks in itertools.product(*[range(1, f.size + 1) for f in fronts]) if sum(ks) == total)
            assert got[total - 3] == pytest.approx(brute, abs=1e-12)


def test_map_entropy_best_and_json(markov):
    model, data = markov
    out = sampler_map(model, data, ["random", "threshold"], entropy=1.5, seed=0)
    for row in out.rows:
        assert row.kl == pytest.approx(row.nll - 1.5)
    assert out.frontier_kl is not None and np.allclose(out.frontier_kl, out.frontier_nll - 1.5)
    budget = 6.0
    best = out.best(budget)
    fast = [r for r in out.rows if r.nfe <= budget]
    assert best.nfe <= budget and best.nll == min(r.nll for r in fast)
    with pytest.raises(ValueError, match="no sampler"):
        out.best(0.5)
    payload = json.loads(out.to_json())
    assert len(payload["rows"]) == len(out.rows) and payload["frontier"]["nll"] == out.frontier_nll.tolist()
    assert payload["rows"][0]["nll"] == out.rows[0].nll


def test_map_bad_input(markov):
    model, data = markov
    with pytest.raises(ValueError, match="family"):
        sampler_map(model, data, ["nope"], frontier=False)
    with pytest.raises(TypeError, match="family"):
        sampler_map(model, data, [3], frontier=False)
    with pytest.raises(ValueError, match="distinct"):
        sampler_map(model, data, ["random", "random"], frontier=False)
    with pytest.raises(ValueError, match="entropy"):
        sampler_map(model, data, ["random"], entropy=-1.0, frontier=False)
    with pytest.raises(ValueError, match="integers"):
        default_family("top_k", [12], values=[0.5])


# ---- calibration -------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("budget", [2.0, 3.3, 5.5, 8.9])
def test_calibrated_count_is_the_closest_by_enumeration(markov, budget):
    model, data = markov
    enumerated = {k: evaluate_sampler(model, data, FloorThreshold(equal_counts(k, [12]), tau=0.6)).nfe
                  for k in range(1, 13)}
    assert all(a <= b for a, b in zip(list(enumerated.values()), list(enumerated.values())[1:])), enumerated
    family = default_family("floor_threshold", [12])
    family = type(family)(family.name, family.parameter, family.values,
                          lambda v, b: FloorThreshold(equal_counts(int(v), b), tau=0.6))
    got = calibrate(model, data, family, budget)
    assert abs(got.nfe - budget) == min(abs(v - budget) for v in enumerated.values()), (got, enumerated)
    assert got.nfe == enumerated[int(got.value)]


@pytest.mark.parametrize("budget", [3.0, 6.0, 9.5])
def test_calibrated_threshold_is_at_least_as_close_as_every_grid_value(budget):
    model = MarkovPredictor(np.array([[0.85, 0.15], [0.3, 0.7]]), 10)
    data = model.sample(40, np.random.default_rng(5))
    taus = np.linspace(0, 1, 101)
    grid = [evaluate_sampler(model, data, Threshold(float(t))).nfe for t in taus]
    assert all(a <= b for a, b in zip(grid, grid[1:])), "precondition: NFE non-decreasing in tau on this case"
    got = calibrate(model, data, "threshold", budget, iterations=20)
    assert abs(got.nfe - budget) <= min(abs(v - budget) for v in grid) + 1e-12
    assert got.estimate.nfe == evaluate_sampler(model, data, Threshold(got.value)).nfe
    assert got.evaluations[0] == (0.0, grid[0])


def test_threshold_nfe_is_not_monotone_on_the_sticky_chain_and_calibration_still_picks_the_closest_seen(markov):
    # Path dependence (teacher forcing): a higher tau can give FEWER passes. Measured here: tau 0.54 -> 0.55.
    model, data = markov
    low, high = (evaluate_sampler(model, data, Threshold(t)).nfe for t in (0.54, 0.55))
    assert high < low
    got = calibrate(model, data, "threshold", 3.61)
    tried = dict(got.evaluations)
    assert abs(got.nfe - 3.61) == min(abs(v - 3.61) for v in tried.values())


def test_calibrated_gamma_unbounded_range(markov):
    model, data = markov
    got = calibrate(model, data, "entropy_bounded", 4.0)
    assert got.parameter == "gamma" and got.estimate.nfe == evaluate_sampler(model, data, EntropyBounded(got.value)).nfe
    tried = dict(got.evaluations)
    assert abs(got.nfe - 4.0) == min(abs(v - 4.0) for v in tried.values())
    with pytest.raises(ValueError, match="budget"):
        calibrate(model, data, "threshold", -1.0)
    with pytest.raises(TypeError, match="low"):
        calibrate(model, data, "threshold", 3.0, low="a")


# ---- counts for confidence order ---------------------------------------------------------------------------------------


def _copy_law(q: int, n: int) -> np.ndarray:
    p = np.zeros((q,) * n)
    for v in range(q):
        p[(v,) * n] = 1.0 / q
    return p


def test_cost_table_is_exact_for_ones_then_the_rest():
    rng = np.random.default_rng(4)
    p = rng.dirichlet(np.full(3 ** 4, 0.4)).reshape((3,) * 4)
    model = ExactPredictor(p)
    data = model.sample(30, rng)
    (table,) = confidence_cost_tables(model, data)
    for a in range(4):
        sizes = [1] * a + [4 - a]
        exact = evaluate_sampler(model, data, TopK(sizes)).nll
        assert path_cost(table, sizes) == pytest.approx(exact, rel=1e-12)


def test_optimal_counts_against_enumeration():
    rng = np.random.default_rng(1)
    for _ in range(30):
        size = int(rng.integers(2, 8))
        table = rng.random((size + 1, size + 1)) * 3
        table[np.tril_indices(size + 1)] = np.inf
        for k in range(1, size + 1):
            got = optimal_counts(table, k)
            assert got.sum() == size and got.size == k and (got >= 1).all()
            brute = min(path_cost(table, np.diff((0, *cuts, size)))
                        for cuts in itertools.combinations(range(1, size), k - 1))
            assert path_cost(table, got) == pytest.approx(brute, abs=1e-12)


def test_counts_beat_equal_split_where_confidence_order_is_right():
    # X_1 uniform, every other position a copy: after one reveal all others are certain. Best with 2 passes: [1, 3]
    # (cost log 3 per row); LLaDA's [2, 2] costs 2 log 3. The held-out difference is -log 3 on every row.
    model = ExactPredictor(_copy_law(3, 4))
    data = model.sample(20, np.random.default_rng(2))
    out = optimise_counts(model, data, 2)
    assert out.counts == ((1, 3),) and out.baseline_counts == ((2, 2),)
    assert out.comparison.value == pytest.approx(-math.log(3), rel=1e-12)
    assert out.beats and "beats" in out.verdict and "NOT" not in out.verdict
    assert set(out.proposal_rows) | set(out.heldout_rows) == set(range(20))
    assert not set(out.proposal_rows) & set(out.heldout_rows)


def test_counts_report_when_they_do_not_beat_equal_split():
    # A product law with the exact model: every order and every count costs the same (the per-row NLL is
    # sum_i -log mu_i(x_i)), so no proposal can beat the equal split; the result must say so.
    rng = np.random.default_rng(3)
    model = ExactPredictor(product(list(rng.dirichlet(np.ones(3), size=4))))
    data = model.sample(30, rng)
    for rule in ("top_k", "floor_threshold"):
        out = optimise_counts(model, data, 2, rule=rule)
        assert abs(out.comparison.value) < 1e-12
        assert not out.beats and not out.beats_equal_split and "keep your equal split" in out.verdict


def test_heldout_verification_covers_the_true_difference():
    # Exact law (n = 4, q = 3, Dirichlet(0.3): heavy-tailed losses); the true paired difference of the two
    # deterministic rules is the mu-weighted sum over all 81 sequences, for whatever counts were proposed.
    q, n = 3, 4
    p = np.random.default_rng(11).dirichlet(np.full(q ** n, 0.3)).reshape((q,) * n)
    model = ExactPredictor(p)
    every = np.array(list(itertools.product(range(q), repeat=n)))
    weights = p.reshape(-1)
    truth_cache: dict[tuple[int, ...], float] = {}

    def truth(counts: tuple[int, ...]) -> float:
        if counts not in truth_cache:
            truth_cache[counts] = float(weights @ evaluate_sampler(model, every, TopK(list(counts))).nll_rows)
        return truth_cache[counts]

    data_rng = np.random.default_rng(12)
    runs, hits, distinct = 200, 0, 0
    for seed in range(runs):
        out = optimise_counts(model, model.sample(40, data_rng), 2, seed=seed)
        diff = truth(out.counts[0]) - truth(out.baseline_counts[0])
        hits += out.comparison.lower <= diff <= out.comparison.upper
        distinct += out.counts != out.baseline_counts
    low, high = _wilson(hits, runs)
    assert distinct >= 50, f"only {distinct} seeds proposed counts other than the equal split"
    assert low <= 0.95 and hits / runs >= 0.90, (f"coverage {hits}/{runs} = {hits / runs:.3f}, 95% Wilson CI "
                                                 f"[{low:.3f}, {high:.3f}] (nominal 0.95; {distinct} distinct)")


def test_counts_bad_input(markov):
    model, data = markov
    with pytest.raises(ValueError, match="rule"):
        optimise_counts(model, data, 2, rule="threshold")
    with pytest.raises(ValueError, match="proposal_fraction"):
        optimise_counts(model, data, 2, proposal_fraction=1.0)
    with pytest.raises(ValueError, match="steps"):
        optimise_counts(model, data, 13)
    with pytest.raises(ValueError, match="table"):
        optimal_counts(np.zeros((3, 2)), 1)
    with pytest.raises(ValueError, match="score"):
        confidence_cost_tables(model, data, score="nope")


def test_random_order_is_unaffected_by_the_map_helpers(markov):
    # equal_counts gives LLaDA's split: the same as mdmsched.practice.equal for one block
    assert equal_counts(5, [12]) == [list(mdmsched.practice.equal(12, 5).sizes)]
    assert repr(RandomOrder(equal_counts(3, [4, 4]))) == "RandomOrder(<2 blocks>)"
