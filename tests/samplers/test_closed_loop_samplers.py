"""Closed-loop rules and the EOS option against SPEC §5.2 by brute force (n <= 5, q <= 3, inconsistent models):
the exact KL of each sampler's output law (every state enumerated; an EOS tail filled with probability 1) equals the
teacher-forced formula and evaluate_sampler; the package rule equals the written-out closed-loop rule at every
state; generation retraces teacher forcing."""

from __future__ import annotations

import itertools

import numpy as np
import pytest
from learned import InconsistentModel
from sampler_reference import (
    Walk,
    closed_loop_floor_threshold,
    conditional_entropy,
    exact_kl,
    package_chooser,
    teacher_formula,
)

import mdmsched
from mdmsched.samplers import FloorThreshold, RandomOrder, Threshold, TopK, evaluate_sampler, sample_with_rule
from mdmsched.samplers.loop import run_rule

EOS = 2


def _law(n: int, q: int, seed: int, eos: int | None = None) -> np.ndarray:
    """A random dense law; with ``eos``, only EOS-padded rows (after the first EOS, all EOS) have mass."""
    rng = np.random.default_rng(seed)
    p = rng.dirichlet(np.full(q**n, 0.7)).reshape((q,) * n)
    if eos is not None:
        for x in itertools.product(range(q), repeat=n):
            first = x.index(eos) if eos in x else n
            if any(v != eos for v in x[first:]):
                p[x] = 0.0
        p /= p.sum()
    return p


def _policy(length: int, budget: int, seed: int) -> mdmsched.ClosedLoopPolicy:
    z = np.concatenate(([0.0], np.cumsum(np.random.default_rng(seed).random(length - 1))))
    return mdmsched.closed_loop_policy(z, budget)


def _rows_with_mass(p: np.ndarray) -> np.ndarray:
    return np.array([x for x in itertools.product(range(p.shape[0]), repeat=p.ndim) if p[x] > 0], dtype=np.int64)


def _check_identity(p, model, n, q, rule, reference, *, block=None, prompt=(), eos=None):
    walk = Walk(model, n, q, package_chooser(rule), block=block, prompt=prompt, eos=eos)
    ref = Walk(model, n, q, reference, block=block, prompt=prompt, eos=eos) if reference else walk
    kl = exact_kl(p, walk)
    formula = teacher_formula(p, ref)
    assert kl > 1e-3
    assert abs(kl - formula) <= 1e-12 * max(1.0, kl), (rule, kl, formula)
    rows = _rows_with_mass(p)
    region = np.array([i not in prompt for i in range(n)])
    est = evaluate_sampler(model, rows, rule, region=region, block_length=block, batch_size=7, eos_id=eos)
    weights = p[tuple(rows.T)]
    value = float(weights @ est.nll_rows) - conditional_entropy(p, list(prompt))
    assert abs(value - kl) <= 1e-12 * max(1.0, kl), (rule, value, kl)
    nfe = sum(p[tuple(x)] * ref.teacher_nll(tuple(x))[1] for x in rows.tolist())
    assert abs(float(weights @ est.nfe_rows) - nfe) <= 1e-12
    return est


@pytest.mark.parametrize("seed", range(3))
def test_closed_loop_floor_threshold_one_block(seed: int) -> None:
    n, q = 5, 2
    policy = _policy(n, 3, seed)
    p, model = _law(n, q, 10 + seed), InconsistentModel(n, q, seed=20 + seed)
    for tau in (0.6, 0.8, 2.0):  # 2.0: no threshold, the closed-loop top-k
        _check_identity(p, model, n, q, FloorThreshold(policy, tau), closed_loop_floor_threshold(policy.table, 3, n, tau))


def test_closed_loop_floor_threshold_in_blocks_with_a_prompt() -> None:
    n, q = 5, 2
    policies = [_policy(2, 1, 1), _policy(2, 2, 2)]
    for seed in range(2):
        p, model = _law(n, q, 30 + seed), InconsistentModel(n, q, seed=40 + seed)
        rule = FloorThreshold(policies, 0.6)
        walk = Walk(model, n, q, package_chooser(rule), block=2, prompt=(0,))
        kl = exact_kl(p, walk)
        assert abs(kl - teacher_formula(p, walk)) <= 1e-12 * max(1.0, kl)
        # Per block: the written-out rule with that block's table and budget gives the same choices everywhere.
        for block, policy in enumerate(policies):
            reference = closed_loop_floor_threshold(policy.table, policy.k, 2, 0.6)
            probs = model(np.zeros((1, n), dtype=np.int64), np.ones((1, n), dtype=bool))[0]
            for cand in itertools.product([False, True], repeat=2):
                if not any(cand):
                    continue
                candidates = np.zeros(n, dtype=bool)
                candidates[[1 + 2 * block, 2 + 2 * block]] = cand
                for step in range(3):
                    assert np.array_equal(package_chooser(rule)(probs, candidates, step, block),
                                          reference(probs, candidates, step, block)), (block, cand, step)


def test_closed_loop_random_order_looks_the_count_up_at_every_state() -> None:
    n = 4
    policy = _policy(n, 2, 5)
    rule = RandomOrder(policy)
    scores = mdmsched.models.StateScores(*(np.zeros((1, n)),) * 3)
    for cand in itertools.product([False, True], repeat=n):
        if any(cand):
            for step in range(3):
                chosen = rule.select(scores, np.array([cand]), np.array([step]), 0, np.random.default_rng(0))
                want = policy.table[n - sum(cand), 2 - step] if step < 2 else sum(cand)
                assert chosen.sum() == max(1, want), (cand, step)


@pytest.mark.parametrize("seed", range(2))
def test_eos_tail_is_free_under_the_samplers_law(seed: int) -> None:
    n, q = 4, 3
    p, model = _law(n, q, 60 + seed, eos=EOS), InconsistentModel(n, q, seed=70 + seed)
    policy = _policy(n, 3, seed)
    cases = [
        (FloorThreshold(policy, 0.8), closed_loop_floor_threshold(policy.table, 3, n, 0.8)),
        (TopK([2, 1, 1]), None),
        (Threshold(0.5), None),
    ]
    for rule, reference in cases:
        with_eos = _check_identity(p, model, n, q, rule, reference, eos=EOS)
        without = evaluate_sampler(model, _rows_with_mass(p), rule, batch_size=7)
        assert (with_eos.nfe_rows <= without.nfe_rows).all(), rule
        if isinstance(rule, TopK):  # a fixed plan: an EOS committed early saves its later passes
            assert with_eos.nfe < without.nfe


def test_eos_in_blocks_with_a_prompt() -> None:
    n, q = 5, 3
    p, model = _law(n, q, 80, eos=EOS), InconsistentModel(n, q, seed=81)
    _check_identity(p, model, n, q, FloorThreshold([1, 1], 0.5), None, block=2, prompt=(0,), eos=EOS)


def test_generation_retraces_teacher_forcing() -> None:
    # A deterministic rule's path is a function of the tokens: teacher-forcing the samples retraces every pass.
    n, q = 5, 3
    model = InconsistentModel(n, q, seed=90)
    rule = FloorThreshold(_policy(n, 4, 9), 0.7)
    run = sample_with_rule(model, rule, 300, n=n, seed=1, eos_id=EOS)
    plain = sample_with_rule(model, rule, 300, n=n, seed=1)
    assert run.nfe.mean() < plain.nfe.mean()  # EOS settled tails: passes saved
    tokens = run.tokens
    # (A pass may commit EOS together with later non-EOS tokens: only the positions still masked are padded.)
    forced = run_rule(mdmsched.samplers.evaluate.as_state_model(model), tokens, np.arange(n)[None, :], None, rule,
                      teacher=True, rng=np.random.default_rng(0), eos_id=EOS)
    assert np.array_equal(forced.nfe, run.nfe)
    assert np.array_equal(forced.counts, run.counts)
    assert (run.counts.sum(axis=1) == n).all()  # settled positions count as revealed


def test_closed_loop_without_surprises_replays_the_open_loop_plan() -> None:
    n = 9
    policy = _policy(n, 4, 3)
    model = InconsistentModel(n, 2, seed=1)
    rows = np.random.default_rng(0).integers(0, 2, size=(6, n))
    run = run_rule(mdmsched.samplers.evaluate.as_state_model(model), rows, np.arange(n)[None, :], None,
                   RandomOrder(policy), teacher=True, rng=np.random.default_rng(0))
    assert (run.counts == policy.schedule().sizes).all()


def test_bad_eos_and_policy_arguments() -> None:
    model = InconsistentModel(3, 3, seed=0)
    rows = np.array([[0, 1, 2], [2, 2, 2]])
    with pytest.raises(ValueError, match="eos_id"):
        evaluate_sampler(model, rows, Threshold(0.5), eos_id=-1)
    with pytest.raises(TypeError, match="eos_id"):
        evaluate_sampler(model, rows, Threshold(0.5), eos_id=1.5)
    with pytest.raises(TypeError, match="pad_after_eos"):
        evaluate_sampler(model, rows, Threshold(0.5), eos_id=2, pad_after_eos="yes")
    with pytest.raises(ValueError, match="EOS-padded"):
        evaluate_sampler(model, np.array([[2, 1, 2], [0, 1, 2]]), TopK([1]), block_length=1, eos_id=2)
    with pytest.raises(ValueError, match="covers 4 positions"):
        evaluate_sampler(model, rows, FloorThreshold(_policy(4, 2, 0)))
    with pytest.raises(TypeError, match="policy"):
        FloorThreshold([_policy(3, 2, 0), "x"])


def test_closed_loop_families_build_per_block_policies_at_each_budget() -> None:
    from mdmsched.samplers.families import CLOSED_LOOP_NAMES, closed_loop_family

    curves = [np.array([0.0, 1.0, 1.5, 4.0]), np.array([0.0, 0.2, 2.0, 2.1])]
    kinds = {"closed_loop_random": RandomOrder, "closed_loop_top_k": TopK, "closed_loop_floor_threshold": FloorThreshold}
    for name in CLOSED_LOOP_NAMES:
        family = closed_loop_family(name, curves, values=[1, 2, 6])
        for k in family.values:
            rule = family.rule(k, [4, 4])
            assert isinstance(rule, kinds[name])
            got = [(p.n, p.k) for p in rule.counts.policies]
            assert got == [(4, min(int(k), 4))] * 2, (name, k, got)
            assert np.array_equal(rule.counts.policies[1].table,
                                  mdmsched.closed_loop_policy(curves[1], min(int(k), 4)).table)
        with pytest.raises(ValueError, match="block lengths"):
            family.rule(2, [8])
    with pytest.raises(ValueError, match="name"):
        closed_loop_family("random", curves)
    single = closed_loop_family("closed_loop_random", curves[0], values=[2])
    assert [(p.n, p.k) for p in single.rule(2, [4]).counts.policies] == [(4, 2)]


def test_table_driven_generate_takes_the_eos_option() -> None:
    from mdmsched.samplers.generate import generate

    model = InconsistentModel(5, 3, seed=3)

    class DrawAndScore:  # generate's table path needs a model with sample/score
        def sample(self, tokens, mask, rng):
            probs = model(tokens, mask)
            u = rng.random(probs.shape[:2])[..., None]
            return (u > np.cumsum(probs, axis=-1)).sum(axis=-1)

        def score(self, tokens, mask, target):
            probs = model(tokens, mask)
            return -np.log(np.take_along_axis(probs, tokens[..., None], axis=-1)[..., 0])

    rows = np.zeros((400, 5), dtype=np.int64)
    table = np.ones((5, 1), dtype=np.int64)  # blocks of 1: left to right, so the tail is masked at the first EOS
    out = generate(DrawAndScore(), rows, np.ones(5, dtype=bool), table, 1, rng=np.random.default_rng(0), eos_id=EOS)
    first = np.where((out == EOS).any(axis=1), (out == EOS).argmax(axis=1), 5)
    # Everything after the first EOS was masked when it was committed (later blocks), so it is all EOS.
    assert ((np.arange(5) <= first[:, None]) | (out == EOS)).all()
    plain = generate(DrawAndScore(), rows, np.ones(5, dtype=bool), table, 1, rng=np.random.default_rng(0))
    assert not ((np.arange(5) <= first[:, None]) | (plain == EOS)).all()
