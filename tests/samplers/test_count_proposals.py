"""Count proposals worth verifying (issue 25.4): power and false wins of ``optimise_counts`` on laws whose every
count schedule's exact expected NLL is known (``tests/helpers/count_problems.py``), and the regularised candidates."""

from __future__ import annotations

import itertools

import numpy as np
import pytest
from binomial import wilson
from count_problems import EQUAL, STEPS, problems, truths

from mdmsched.models import ExactPredictor
from mdmsched.samplers import optimal_counts, optimise_counts
from mdmsched.samplers.counts import path_cost, regularised_counts


def _runs(name: str, runs: int, rows: int = 200) -> tuple[int, int, int]:
    """(wins, false wins, proposals of the truly worst split) over ``runs`` data sets of ``rows`` rows."""
    p, model_law = problems()[name]
    truth = truths(p, model_law)
    worst = max(truth, key=truth.__getitem__)
    model, law = ExactPredictor(model_law), ExactPredictor(p)
    data_rng = np.random.default_rng(7)
    wins = false = worst_count = 0
    for seed in range(runs):
        out = optimise_counts(model, law.sample(rows, data_rng), STEPS, seed=seed)
        wins += out.beats
        false += out.beats and truth[out.counts[0]] >= truth[EQUAL]
        worst_count += out.counts[0] == worst
    return wins, false, worst_count


def test_truths_of_the_problems():
    # the stated gains (docstrings, BENCHMARKS.md) are what the problems hold
    gain = truths(*problems()["gain"])
    assert min(gain, key=gain.__getitem__) == (4, 1, 1)
    assert gain[EQUAL] - gain[(4, 1, 1)] == pytest.approx(0.136, abs=5e-4)
    null = truths(*problems()["null"])
    assert min(null, key=null.__getitem__) == EQUAL
    assert sorted(null.values())[1] - null[EQUAL] == pytest.approx(0.005, abs=5e-4)


def test_power_and_false_wins_fast():
    # a smaller version of the full test below: 24 data sets each
    wins, false, _ = _runs("gain", 24)
    assert wins >= 10, f"power at a true gain of 0.136 nats, N = 200: {wilson(wins, 24)}"
    wins, false, worst = _runs("null", 24)
    assert false <= 2 and worst == 0, f"false wins {wilson(false, 24)}; worst split proposed {worst}/24"


@pytest.mark.full
def test_power_at_a_true_gain_of_013_nats():
    runs = 200
    wins, false, _ = _runs("gain", runs)
    assert wins / runs >= 0.5, f"wins at a true gain of 0.136 nats, N = 200: {wilson(wins, runs)} (target >= 0.5)"
    assert false == 0, f"a win claimed for a schedule that is not better: {wilson(false, runs)}"


@pytest.mark.full
def test_false_wins_under_the_null():
    runs = 200
    _, false, worst = _runs("null", runs)
    assert false / runs <= 0.05, f"false wins (equal split truly best): {wilson(false, runs)} (target <= 0.05)"
    assert worst / runs <= 0.05, f"proposed the truly worst split: {wilson(worst, runs)}"


def test_regularised_counts_against_enumeration():
    rng = np.random.default_rng(5)
    for _ in range(30):
        size = int(rng.integers(2, 9))
        table = rng.random((size + 1, size + 1)) * 3
        table[np.tril_indices(size + 1)] = np.inf
        for k in range(1, size + 1):
            for weight in (0.0, 0.1, 1.0):
                got = regularised_counts(table, k, weight)
                scale = weight * table[0, size] / size
                options = [np.diff((0, *cuts, size)) for cuts in itertools.combinations(range(1, size), k - 1)]
                costs = [path_cost(table, o) + scale * float(np.sum((o - size / k) ** 2)) for o in options]
                mine = path_cost(table, got) + scale * float(np.sum((got - size / k) ** 2))
                assert got.sum() == size and got.size == k
                assert mine == pytest.approx(min(costs), abs=1e-9)
            assert regularised_counts(table, k, 0.0).tolist() == optimal_counts(table, k).tolist()
            equalish = regularised_counts(table, k, 1e9)  # shrunk all the way: the most equal split
            assert equalish.max() - equalish.min() <= 1


def test_regularised_counts_bad_input():
    table = np.triu(np.ones((4, 4)), 1)
    with pytest.raises(ValueError, match="weight"):
        regularised_counts(table, 2, -1.0)
    with pytest.raises(TypeError, match="weight"):
        regularised_counts(table, 2, "big")


def test_folds_and_verdict_fields():
    p, model_law = problems()["gain"]
    model = ExactPredictor(model_law)
    rows = ExactPredictor(p).sample(60, np.random.default_rng(3))
    out = optimise_counts(model, rows, STEPS, folds=3, seed=1)
    assert sorted(set(out.folds.tolist())) == [0, 1, 2] and len(out.fold_counts) == 3
    held = set(out.heldout_rows.tolist())
    assert held == set(np.flatnonzero(np.isin(out.folds, [j for j, c in enumerate(out.fold_counts)
                                                          if c == out.counts])).tolist())
    assert out.comparison.second.nll_rows.size == len(held)
    assert out.beats == (out.upper_one_sided < 0 and out.counts != out.baseline_counts)
    assert ("keep your equal split" in out.verdict) != out.beats
    one = optimise_counts(model, rows, STEPS, folds=1, proposal_fraction=0.25, seed=2)  # one split, as before
    assert one.proposal_rows.size == 15 and one.heldout_rows.size == 45 and len(one.fold_counts) == 1
    assert set(one.proposal_rows.tolist()) == set(np.flatnonzero(one.folds < 0).tolist())
    with pytest.raises(ValueError, match="folds"):
        optimise_counts(model, rows, STEPS, folds=0)
    with pytest.raises(TypeError, match="folds"):
        optimise_counts(model, rows, STEPS, folds=2.5)
    few = optimise_counts(model, rows[:5], STEPS, folds=30)  # at most N // 2 folds, each with >= 2 rows
    assert len(few.fold_counts) == 2 and np.bincount(few.folds).min() >= 2
    with pytest.raises(ValueError, match="confidence"):
        optimise_counts(model, rows, STEPS, confidence=0.4)


def test_a_worse_proposal_is_never_confirmed(monkeypatch):
    # the verification alone: force every proposal to the truly worst split (1, 1, 4), 0.2 nats worse than the equal
    # split on the gain problem; the held-out check must refuse it and say to keep the equal split
    import mdmsched.samplers.counts as counts_module

    p, model_law = problems()["gain"]
    truth = truths(p, model_law)
    assert truth[(1, 1, 4)] - truth[EQUAL] > 0.2
    monkeypatch.setattr(counts_module, "_propose", lambda model, rows, picks, s: (
        [[1, 1, 4]], counts_module.confidence_cost_tables(model, rows[picks])))
    model, law = ExactPredictor(model_law), ExactPredictor(p)
    data_rng = np.random.default_rng(8)
    for seed in range(5):
        out = optimise_counts(model, law.sample(60, data_rng), STEPS, seed=seed)
        assert out.counts == ((1, 1, 4),) and out.heldout_rows.size == 60
        assert not out.beats and "keep your equal split" in out.verdict, out.verdict
        assert out.comparison.value > 0
