"""Regressions of issue 28 (wrong answers): bounds that must hold after selection, zero errors certified from constant
statistics, degenerate bootstrap intervals, a tiny sampling temperature, score checks, hand-made shards, the count DP.

Truths are independent of the code under test: ``markov_curve`` (closed form), enumeration of count schedules.
"""

from __future__ import annotations

import itertools
import math
import warnings

import numpy as np
import pytest
from binomial import wilson

import mdmsched
from mdmsched.distributions import markov_curve
from mdmsched.models.curve_estimate import FlatCurveWarning, NonMonotoneWarning
from mdmsched.models.state_scores import StateScores, check_state_scores
from mdmsched.samplers.counts import optimal_counts, path_cost
from mdmsched.samplers.evaluate import mean_interval

P = np.array([[0.9, 0.1], [0.2, 0.8]])



def markov_runs(n: int, rows: int, runs: int, seed: int) -> list[mdmsched.CurveEstimate]:
    model = mdmsched.MarkovPredictor(P, n)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", NonMonotoneWarning)
        warnings.simplefilter("ignore", FlatCurveWarning)
        big = mdmsched.estimate_curve(model, model.sample(runs * rows, np.random.default_rng(seed)), seed=seed)
    return [big.subset(np.arange(r * rows, (r + 1) * rows)) for r in range(runs)]


# ---- 28.1: bounds selected on the certifying rows ------------------------------------------------------------------------


@pytest.mark.full
def test_min_steps_default_bound_holds_after_selection():
    """Was: the held-out per-schedule bound of the last k that passed missed in 65/300 data sets at 0.9."""
    n, rows, runs, eps = 20, 60, 300, 0.5
    exact = markov_curve(P, n)
    ests = markov_runs(n, rows, runs, 1)
    for confidence, allowed in ((0.9, 1.5 * 0.1), (0.95, 0.07)):
        misses = 0
        for est in ests:
            chosen = mdmsched.min_steps(est, eps, confidence=confidence)
            assert chosen.bound <= eps + 1e-12
            misses += mdmsched.schedule_error(exact, chosen) > chosen.bound + 1e-12
        assert misses / runs <= allowed, f"confidence {confidence}: bound missed in {wilson(misses, runs)}"


@pytest.mark.full
def test_held_out_certified_schedule_holds():
    """Was: 48/300 misses at 0.9 and 28/300 at 0.95 (n = 30, 80 rows): per-row errors are heavy-tailed."""
    n, rows, runs = 30, 80, 300
    exact = markov_curve(P, n)
    ests = markov_runs(n, rows, runs, 2)
    for k in (6, 12):
        for confidence, allowed in ((0.9, 1.5 * 0.1), (0.95, 0.07)):
            misses = 0
            for est in ests:
                chosen = est.certified_schedule(k, confidence=confidence, holdout=0.5)
                misses += mdmsched.schedule_error(exact, chosen) > chosen.bound + 1e-12
            assert misses / runs <= allowed, f"k={k}, confidence {confidence}: missed in {wilson(misses, runs)}"


# ---- 28.2: a zero error certified from statistics that were constant by chance -----------------------------------------


@pytest.mark.parametrize("rows", [30, 80])
def test_zero_error_is_not_certified_from_constant_increments(rows):
    """The last increment of a 2-state chain (n = 40) is nonzero only when the last two masked positions are
    neighbours: on 30 rows it is often exactly 0 on every row. Was: k = 39 with bound 0; its true error is 0.0038."""
    n = 40
    exact = markov_curve(P, n)
    model = mdmsched.MarkovPredictor(P, n)
    for seed in range(4):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", NonMonotoneWarning)
            est = mdmsched.estimate_curve(model, model.sample(rows, np.random.default_rng(seed)), seed=seed)
        for holdout in ("auto", None):
            chosen = est.min_steps(0.0, confidence=0.95, holdout=holdout)
            assert mdmsched.schedule_error(exact, chosen) <= chosen.bound + 1e-12, (seed, chosen.k, chosen.bound)


# ---- 28.6: degenerate bootstrap-t --------------------------------------------------------------------------------------


@pytest.mark.parametrize("values", [[0.0] * 48 + [0.3, 0.5], [0.0] * 49 + [1e6], [0.0] * 49 + [1.0]])
def test_degenerate_bootstrap_t_falls_back_to_a_finite_honest_interval(values):
    arr = np.asarray(values)
    got = mean_interval(arr)
    t_half = 2.0096 * arr.std(ddof=1) / math.sqrt(arr.size)  # Student-t 97.5% quantile, 49 dof
    assert math.isfinite(got.lower) and math.isfinite(got.upper)
    assert got.lower <= arr.mean() - 0.999 * t_half and got.upper >= arr.mean() + 0.999 * t_half  # never narrower than t
    spread = arr.max() - arr.min()
    assert got.lower >= arr.min() - spread and got.upper <= arr.max() + spread  # nothing like 2e306


# ---- 28.7: tiny temperature, score checks, a model that edits its inputs -----------------------------------------------


def test_tiny_temperature_reveals_the_most_confident_positions():
    rng = np.random.default_rng(0)
    top = rng.uniform(0.2, 1.0, (6, 8))
    scores = StateScores(top, top / 2, np.zeros_like(top))
    candidates = np.ones(top.shape, dtype=bool)
    for temperature in (1e-310, 1e-300, 1e-12):
        chosen = mdmsched.TopK([2, 2, 2, 2], temperature=temperature).select(
            scores, candidates, np.zeros(6, dtype=np.int64), 0, np.random.default_rng(1))
        best_two = np.argsort(-top, axis=1)[:, :2]
        expected = np.zeros_like(candidates)
        np.put_along_axis(expected, best_two, True, axis=1)
        assert (chosen == expected).all(), temperature


@pytest.mark.parametrize("field", ["nll", "entropy"])
def test_a_hugely_negative_score_beside_a_huge_one_is_refused(field):
    mask = np.ones((1, 2), dtype=bool)
    values = {"nll": np.zeros((1, 2)), "entropy": np.zeros((1, 2))}
    values[field] = np.array([[-1e80, 1e99]])
    scores = StateScores(np.full((1, 2), 0.5), np.zeros((1, 2)), values["entropy"], values["nll"])
    with pytest.raises(ValueError, match=field):
        check_state_scores(scores, mask, nll=True, draws=False)
    # rounding noise just below 0 is still accepted and clamped
    values[field] = np.array([[-1e-9, 1e99]])
    scores = StateScores(np.full((1, 2), 0.5), np.zeros((1, 2)), values["entropy"], values["nll"])
    assert getattr(check_state_scores(scores, mask, nll=True, draws=False), field)[0, 0] == 0.0


def test_a_model_that_clears_the_mask_in_place_gives_the_true_estimate():
    base = mdmsched.MarkovPredictor(P, 8)

    def clearing(tokens, mask):  # type: ignore[no-untyped-def]
        out = base(tokens, mask.copy())
        mask[:] = False
        return out

    data = base.sample(20, np.random.default_rng(0))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", NonMonotoneWarning)
        got = mdmsched.estimate_curve(clearing, data, seed=1)
        want = mdmsched.estimate_curve(base, data, seed=1)
    assert got.Z[-1] > 0.1
    np.testing.assert_array_equal(got.samples, want.samples)


# ---- 28.9: hand-made shards ----------------------------------------------------------------------------------------------


def test_merge_shards_refuses_negative_values():
    model = mdmsched.MarkovPredictor(P, 10)
    data = model.sample(8, np.random.default_rng(0))
    plan = mdmsched.models.plan_estimate(data.shape, grid=[0, 4, 9], batch_size=4, seed=3)
    parts = [mdmsched.models.run_shard(model, data, plan, shard) for shard in plan.shards(2)]
    mdmsched.models.merge_shards(plan, parts)  # the genuine shards merge
    forged = parts[0].values.copy()
    forged[0, 0] = -1.0
    bad = type(parts[0])(parts[0].batches, parts[0].first_job, forged, parts[0].model_calls, parts[0].model_seconds,
                         parts[0].plan)
    with pytest.raises(ValueError, match="negative"):
        mdmsched.models.merge_shards(plan, [bad, parts[1]])


# ---- 28.5: the count DP against enumeration ------------------------------------------------------------------------------


def test_optimal_counts_equals_enumeration():
    rng = np.random.default_rng(0)
    for _ in range(200):
        size = int(rng.integers(1, 6))
        table = rng.normal(size=(size + 1, size + 1)) * rng.choice([1e-3, 1.0, 1e3])
        for steps in range(1, size + 1):
            got = optimal_counts(table, steps)
            assert got.size == steps and (got >= 1).all() and got.sum() == size, (table, steps, got)
            best = min(path_cost(table, c) for c in itertools.product(range(1, size + 1), repeat=steps)
                       if sum(c) == size)
            assert path_cost(table, got) <= best + 1e-12 * max(1.0, abs(best))


@pytest.mark.parametrize("bad", [math.nan, math.inf, -math.inf])
def test_optimal_counts_refuses_non_finite_tables(bad):
    table = np.zeros((5, 5))
    table[0, 2] = bad
    with pytest.raises(ValueError, match="table"):
        optimal_counts(table, 2)
    table = np.zeros((5, 5))
    table[3, 1] = bad  # below the diagonal: never a step, ignored
    assert optimal_counts(table, 2).sum() == 4


# ---- 25.3: the default min_steps never certifies more steps than the band -----------------------------------------------


@pytest.mark.full
@pytest.mark.parametrize("rows", [100, 1000])
def test_default_min_steps_is_never_above_the_band_and_keeps_its_guarantee(rows):
    """Random small laws (n = 6, 200 seeds). Was: the held-out test alone certified k = n where the band gave 5. Below
    ``HOLDOUT_MIN_ROWS`` (1000) the default is the band alone (equal to it); from there it runs the band and the held-out
    test at half the error rate each and must never exceed the band at that level. ``err <= eps`` must hold after its
    choice (>= 93% at nominal 95%)."""
    from mdmsched import reference
    from mdmsched.models.curve_estimate import HOLDOUT_MIN_ROWS

    rng = np.random.default_rng(rows)
    runs, n = 200, 6
    above = above_full = covered = 0
    for seed in range(runs):
        law = rng.dirichlet(np.full(2**n, 0.3)).reshape((2,) * n)
        model = mdmsched.ExactPredictor(law)
        exact = reference.information_curve(law)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", NonMonotoneWarning)
            warnings.simplefilter("ignore", FlatCurveWarning)
            est = mdmsched.estimate_curve(model, model.sample(rows, rng), seed=seed)
        eps = 0.3 * mdmsched.schedule_error(exact, [n])
        chosen = est.min_steps(eps, confidence=0.95)
        band_full = est.min_steps(eps, confidence=0.95, holdout=None).k
        if rows == 100:  # below HOLDOUT_MIN_ROWS by design (measured, BENCHMARKS.md "Ramp band"): the band alone
            assert rows < HOLDOUT_MIN_ROWS and chosen.k == band_full, (seed, chosen.k, band_full)
        above += chosen.k > est.min_steps(eps, confidence=0.975, holdout=None).k
        above_full += chosen.k > band_full
        covered += mdmsched.schedule_error(exact, chosen) <= eps + 1e-12
    assert above == 0, f"default above the band at its own level in {wilson(above, runs)}"
    assert covered / runs >= 0.93, f"err <= eps after the choice: {wilson(covered, runs)}"
    # not guaranteed from HOLDOUT_MIN_ROWS rows (the band at the full level has twice the error rate): keep it rare
    assert above_full / runs <= 0.05, f"default above the band at the full level in {wilson(above_full, runs)}"
