"""A verdict when it is a tie (issue 25.6): ``optimal_split`` says "keep your equal split" unless a comparison that
survives the choice shows the chosen split better than LLaDA's; the held-out ``compare``."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
from binomial import wilson

import mdmsched
from mdmsched.distributions import markov_curve
from mdmsched.models.split_verdict import equal_split, equal_steps

P = np.array([[0.9, 0.1], [0.2, 0.8]])



def quiet(fn):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return fn()


@pytest.mark.parametrize(("gen", "block", "steps"), [(8, 4, 4), (12, 4, 6), (16, 8, 8), (12, 3, 8), (32, 8, 12)])
def test_equal_split_is_lladas(gen, block, steps):
    # LLaDA's own rule (schedules.practice.llada_blocks, checked against LLaDA's code) is the reference
    ours = equal_split([block] * (gen // block), steps)
    theirs = mdmsched.practice.llada_blocks(gen, block, steps)
    assert [b.tolist() for b in ours] == [b.sizes.tolist() for b in theirs.blocks]


def test_equal_steps_with_remainders_and_short_blocks():
    assert equal_steps([4, 4, 4], 5) == [2, 2, 1]
    assert equal_steps([4, 4, 1], 8) == [4, 3, 1]  # the short block's cap goes to the first blocks with room
    assert sum(equal_steps([5, 2, 7], 14)) == 14


def _copy_blocks(rows: int, seed: int) -> mdmsched.BlockCurveEstimate:
    # block 0: 4 i.i.d. uniform tokens (Z = 0: one step costs nothing); block 1: a uniform token and 3 noisy copies
    # (one step costs ~3 log 3 minus the noise). With 4 steps, (1, 3) beats LLaDA's (2, 2) by a lot.
    q, flip = 3, 0.05
    joint = np.zeros((q,) * 8)
    for x in np.ndindex(*(q,) * 8):
        p = (1 / q) ** 4 / q
        for c in x[5:]:
            p *= (1 - flip) if c == x[4] else flip / (q - 1)
        joint[x] = p
    model = mdmsched.ExactPredictor(joint)
    data = model.sample(rows, np.random.default_rng(seed))
    return quiet(lambda: mdmsched.estimate_block_curves(model, data, block_length=4, seed=seed))


def test_a_clear_win_says_use_it():
    est = _copy_blocks(200, 0)
    for kwargs in ({}, {"objective": "estimate"}, {"holdout": 0.5}):
        split = est.optimal_split(4, **kwargs)
        assert split.beats_equal_split is True, (kwargs, split.verdict)
        assert split.verdict.startswith("use this split") and "keep your equal split" not in split.name
        assert [b.k for b in split.blocks] == [1, 3]
    again = mdmsched.BlockSchedule.from_json(split.to_json())
    assert again.verdict == split.verdict and again.beats_equal_split is True


def test_a_tie_says_keep_your_equal_split():
    # i.i.d. tokens: every split has error 0; the answer must be the equal split's verdict in >= 95% of data sets
    iid = np.array([[0.7, 0.3], [0.7, 0.3]])
    runs, rows = 40, 32
    model = mdmsched.MarkovPredictor(iid, 16)
    data = model.sample(runs * rows, np.random.default_rng(11))
    big = quiet(lambda: mdmsched.estimate_block_curves(model, data, block_length=8, seed=11))
    claims = 0
    for r in range(runs):
        curves = mdmsched.BlockCurveEstimate(tuple(c.subset(np.arange(r * rows, (r + 1) * rows)) for c in big.curves), 8)
        split = quiet(lambda curves=curves: curves.optimal_split(6))
        assert split.beats_equal_split is (split.verdict.startswith("use this split"))
        assert split.beats_equal_split or ("keep your equal split" in split.verdict
                                           and split.name.endswith("keep your equal split"))
        claims += bool(split.beats_equal_split)
    assert claims <= 2, f"wins claimed on a flat curve: {wilson(claims, runs)}"


@pytest.mark.full
def test_held_out_compare_covers_the_true_difference():
    # first chosen on the choosing rows (optimal_schedule(holdout=...)), compared with a fixed schedule on the others
    n, rows, runs, k = 20, 60, 300, 5
    exact = markov_curve(P, n)
    model = mdmsched.MarkovPredictor(P, n)
    big = quiet(lambda: mdmsched.estimate_curve(model, model.sample(rows * runs, np.random.default_rng(5)), seed=5))
    second = mdmsched.practice.equal(n, k)
    for level in (0.9, 0.95):
        hits = 0
        for r in range(runs):
            est = big.subset(np.arange(r * rows, (r + 1) * rows))
            first = est.optimal_schedule(k, holdout=0.5)
            diff = est.compare(first, second, confidence=level, holdout=0.5)
            truth = mdmsched.schedule_error(exact, first) - mdmsched.schedule_error(exact, second)
            hits += diff.lower - 1e-12 <= truth <= diff.upper + 1e-12
        miss = 1 - hits / runs
        assert miss <= 1.5 * (1 - level), f"held-out compare at {level:.0%}: covered {wilson(hits, runs)}"


def _block_truth(joint: np.ndarray, start: int, stop: int) -> np.ndarray:
    """Exact curve of positions start..stop-1 given positions < start (later ones marginalised), prefix-averaged."""
    law = joint.sum(axis=tuple(range(stop, joint.ndim)))
    marginal = law.sum(axis=tuple(range(start, law.ndim)))
    exact = np.zeros(law.ndim - start)
    for c in np.ndindex(*marginal.shape):
        if marginal[c] > 0:
            exact += marginal[c] * mdmsched.reference.information_curve(law[c] / marginal[c])
    return exact


@pytest.mark.full
def test_held_out_split_keeps_its_bound_and_verdict():
    # optimal_split(holdout=0.5): the blocks' held-out bounds add up to a bound on the split's true error, and the
    # verdict's held-out interval covers the true difference from LLaDA's equal split (light tails: Markov chain)
    length, block, runs, rows, total = 8, 4, 300, 60, 4
    joint = mdmsched.distributions.markov_chain(P, length)
    model = mdmsched.ExactPredictor(joint)
    truths = [_block_truth(joint, 0, 4), _block_truth(joint, 4, 8)]
    big = quiet(lambda: mdmsched.estimate_block_curves(model, model.sample(runs * rows, np.random.default_rng(4)),
                                                       block_length=block, seed=4))
    equal = equal_split([4, 4], total)
    bounded = covered = 0
    for r in range(runs):
        index = np.arange(r * rows, (r + 1) * rows)
        blocks = mdmsched.BlockCurveEstimate(tuple(c.subset(index) for c in big.curves), block)
        split = blocks.optimal_split(total, holdout=0.5)
        true = sum(mdmsched.schedule_error(z, s) for z, s in zip(truths, split.blocks))
        bounded += true <= sum(b.bound for b in split.blocks) + 1e-12
        diff = blocks.compare(split, equal, holdout=0.5)
        gap = true - sum(mdmsched.schedule_error(z, mdmsched.Schedule(s)) for z, s in zip(truths, equal))
        covered += diff.lower - 1e-12 <= gap <= diff.upper + 1e-12
    assert bounded / runs >= 0.93, f"held-out split bound: {wilson(bounded, runs)}"
    assert covered / runs >= 0.93, f"held-out verdict interval: {wilson(covered, runs)}"
