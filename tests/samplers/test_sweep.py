"""Shared sweeps (issue 25.1): each distinct teacher-forced state scored once, results bit for bit those of
evaluating every rule alone; the plan's row-forwards against a counting model; the cache's memory bound."""

from __future__ import annotations

import numpy as np
import pytest
from learned import InconsistentModel

import mdmsched.samplers.sweep as sweep_module
from mdmsched.models import MarkovPredictor, StateScores
from mdmsched.models.interface import as_state_model
from mdmsched.samplers import (
    EntropyBounded,
    Factor,
    FloorThreshold,
    RandomOrder,
    Threshold,
    TopK,
    evaluate_sampler,
    evaluate_sweep,
    plan_sweep,
    run_sampler_shard,
    sampler_map,
)
from mdmsched.samplers.sweep import StateCache


class CountingModel:
    """Passes ``score_states`` through, counting the rows scored and recording every state (tokens, mask) seen."""

    def __init__(self, model: object) -> None:
        self.inner = as_state_model(model)
        self.rows = 0
        self.calls = 0
        self.states: list[bytes] = []

    def score_states(self, tokens, mask, *, nll=True, rng=None) -> StateScores:
        self.calls += 1
        self.rows += tokens.shape[0]
        self.states.extend(t.tobytes() + m.tobytes() for t, m in zip(tokens, mask))
        return self.inner.score_states(tokens, mask, nll=nll, rng=rng)


def _rules(lengths: list[int]) -> list:
    blocks = [[1] * b for b in lengths]
    halves = [[b - b // 2, b // 2] if b > 1 else [1] for b in lengths]
    return [RandomOrder(blocks), RandomOrder(halves), TopK(halves), TopK(blocks, "margin"),
            TopK(halves, temperature=0.7), FloorThreshold(halves, 0.6), Threshold(0.5), Threshold(0.8),
            Factor(1.0), Factor(3.0), EntropyBounded(0.3), EntropyBounded(2.0)]


def _case(seed: int):
    rng = np.random.default_rng(seed)
    n, q = int(rng.integers(3, 6)), int(rng.integers(2, 4))
    model = InconsistentModel(n, q, seed=seed)
    rows = rng.integers(0, q, (int(rng.integers(5, 30)), n))
    generated = n - int(rng.integers(0, 2))
    region = np.zeros((rows.shape[0], n), dtype=bool)
    for r in range(rows.shape[0]):  # a per-row prompt: a random subset of n - generated positions stays revealed
        region[r, rng.choice(n, generated, replace=False)] = True
    block = None if rng.random() < 0.4 else int(rng.integers(1, generated + 1))
    lengths = [generated] if block is None else [min(block, generated - s) for s in range(0, generated, block)]
    return model, rows, region, block, lengths, int(rng.integers(0, 1000)), int(rng.integers(1, 9))


@pytest.mark.parametrize("seed", range(12))
def test_shared_sweep_equals_each_rule_alone_bit_for_bit(seed: int) -> None:
    model, rows, region, block, lengths, data_seed, batch = _case(seed)
    rules = _rules(lengths)
    budget = [None, 0, 3000][seed % 3]  # default, no caching, a cache so small it keeps evicting
    shared = evaluate_sweep(model, rows, rules, region=region, block_length=block, seed=data_seed, batch_size=batch,
                            cache_bytes=budget)
    for rule, est in zip(rules, shared.estimates):
        alone = evaluate_sampler(model, rows, rule, region=region, block_length=block, seed=data_seed,
                                 batch_size=batch)
        assert np.array_equal(est.nll_rows, alone.nll_rows), rule  # bit for bit, not approximately
        assert np.array_equal(est.nfe_rows, alone.nfe_rows), rule
        assert est.rule == alone.rule
    assert shared.hits > 0 or budget == 0


def test_counted_forwards_equal_the_distinct_states_and_the_plan() -> None:
    model = InconsistentModel(5, 3, seed=4)
    rows = np.random.default_rng(8).integers(0, 3, (23, 5))
    rules = _rules([5])
    batch = 7
    # Rule by rule on a counting model: the exact passes of the count rules equal their plan.
    plan = plan_sweep(rows.shape, rules, batch_size=batch, seed=2)
    distinct_per_batch: list[set[bytes]] = [set() for _ in range(plan.sampler.num_batches)]
    for j, rule in enumerate(rules):
        for b in range(plan.sampler.num_batches):
            counter = CountingModel(model)
            run_sampler_shard(counter, rows, rule, plan.sampler, range(b, b + 1))
            distinct_per_batch[b].update(counter.states)
        counter = CountingModel(model)
        evaluate_sampler(counter, rows, rule, batch_size=batch, seed=2)
        if isinstance(rule, (RandomOrder, TopK)):
            assert counter.rows == plan.passes[j], rule
        else:
            assert counter.rows <= plan.passes[j] == rows.shape[0] * 5
    # The shared sweep scores each distinct state of a batch exactly once: counted by the wrapper and reported.
    counter = CountingModel(model)
    result = evaluate_sweep(counter, rows, rules, plan=plan.sampler)
    expected = sum(len(s) for s in distinct_per_batch)
    assert counter.rows == result.row_forwards + result.padded_rows and result.row_forwards == expected
    assert counter.calls == result.model_calls
    assert result.row_forwards <= plan.shared <= plan.separate


def test_map_counts_its_forwards_and_progress_in_batches() -> None:
    model = MarkovPredictor(np.array([[0.8, 0.2], [0.3, 0.7]]), 8)
    rows = model.sample(20, np.random.default_rng(1))
    counter = CountingModel(model)
    seen: list[tuple[int, int]] = []
    out = sampler_map(counter, rows, ["top_k", "threshold"], frontier=False, batch_size=8,
                      progress=lambda done, total: seen.append((done, total)))
    assert out.row_forwards <= counter.rows < out.separate_row_forwards
    assert seen[-1] == (3, 3)


def test_cache_refuses_a_budget_beyond_memory_before_allocating(monkeypatch) -> None:
    monkeypatch.setattr(sweep_module, "available_memory_bytes", lambda: 10**6)
    import mdmsched._validation as validation
    monkeypatch.setattr(validation, "available_memory_bytes", lambda: 10**6)
    model = MarkovPredictor(np.array([[0.8, 0.2], [0.3, 0.7]]), 6)
    with pytest.raises(ValueError, match="state cache"):
        StateCache(model, cache_bytes=2 * 10**6)
    with pytest.raises(ValueError, match="state cache"):
        evaluate_sweep(model, model.sample(4, np.random.default_rng(0)), [Threshold(0.5)], cache_bytes=2 * 10**6)
    assert StateCache(model).cache_bytes <= 10**6 // 4  # the default shrinks to a quarter of what is available
    with pytest.raises(TypeError, match="cache_bytes"):
        StateCache(model, cache_bytes="1GB")
    with pytest.raises(ValueError, match="cache_bytes"):
        StateCache(model, cache_bytes=-1)


def test_cache_never_holds_more_than_its_budget() -> None:
    model = MarkovPredictor(np.array([[0.8, 0.2], [0.3, 0.7]]), 6)
    rows = model.sample(30, np.random.default_rng(3))
    budget = 5 * (4 * 8 * 6 + 256)  # five states
    cache = StateCache(model, cache_bytes=budget)
    peak = 0
    for rule in _rules([6]):
        evaluate_sampler(cache, rows, rule, batch_size=30)
        peak = max(peak, cache.stored_bytes)
        assert len(cache) <= 5
    assert 0 < peak <= budget
    assert cache.hits > 0


def test_sampling_passes_through_the_cache_unchanged() -> None:
    from mdmsched.samplers import sample_with_rule

    model = MarkovPredictor(np.array([[0.8, 0.2], [0.3, 0.7]]), 7)
    cache = StateCache(model)
    through = sample_with_rule(cache, Threshold(0.6), 25, n=7, seed=4)
    bare = sample_with_rule(model, Threshold(0.6), 25, n=7, seed=4)
    assert np.array_equal(through.tokens, bare.tokens) and np.array_equal(through.nfe, bare.nfe)
    assert len(cache) == 0 and cache.hits == 0
    assert cache.model_calls == bare.counts.shape[1]  # one pass-through call per loop iteration, nothing cached


def test_map_progress_says_what_runs_and_its_planned_forwards(capsys) -> None:
    # Issue 28.13: the map's bar said "enumerating marginals"; it names the sweep and states its row-forwards first.
    model = MarkovPredictor(np.array([[0.8, 0.2], [0.3, 0.7]]), 6)
    sampler_map(model, model.sample(10, np.random.default_rng(0)), ["top_k", "threshold"], frontier=False,
                progress=True)
    err = capsys.readouterr().err
    assert "enumerating marginals" not in err
    assert "teacher-forcing 11 rules" in err and "row-forwards" in err and "shared sweep at most" in err
