"""Each rule against a plain-Python transcription of its peer's loop (on random states), the rules' input checks, and
evaluate_sampler's promises: bit-identical across batch sizes, shards and a thread pool; clear errors."""

from __future__ import annotations

import math
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pytest

import mdmsched
from mdmsched import BlockSchedule, MarkovPredictor, Schedule
from mdmsched.models import StateScores, check_state_scores
from mdmsched.samplers import (
    EntropyBounded,
    Factor,
    FloorThreshold,
    RandomOrder,
    Threshold,
    TopK,
    compare_samplers,
    evaluate_sampler,
    mean_interval,
    sample_with_rule,
)


def _states(seed: int, batch: int = 40, n: int = 9, q: int = 4) -> tuple[StateScores, np.ndarray, np.ndarray]:
    """Random probability rows, their scores (plain sort), random non-empty candidate sets and step indices."""
    rng = np.random.default_rng(seed)
    probs = rng.dirichlet(np.full(q, rng.choice([0.2, 1.0, 5.0])), size=(batch, n))
    ordered = np.sort(probs, axis=2)[..., ::-1]
    scores = StateScores(ordered[..., 0], ordered[..., 0] - ordered[..., 1], -(probs * np.log(probs)).sum(axis=2))
    candidates = rng.random((batch, n)) < 0.6
    candidates[np.arange(batch), rng.integers(0, n, batch)] = True
    return scores, candidates, rng.integers(0, 5, batch)


def _order(values: list[float], descending: bool = True) -> list[int]:
    """Indices sorted by value (ties: lower index first) -- the package's tie rule."""
    return sorted(range(len(values)), key=lambda k: (-values[k] if descending else values[k], k))


def _top(cand: list[int], values: list[float], k: int) -> set[int]:
    return {cand[j] for j in _order([values[i] for i in cand])[:k]}


def _peer(rule: object, scores: StateScores, cand_row: np.ndarray, step: int, row: int) -> set[int]:
    """The peer's rule for one row, transcribed from its loop (see each rule's docstring for the source)."""
    cand = np.flatnonzero(cand_row).tolist()
    conf = scores.max_prob[row].tolist()
    if isinstance(rule, TopK):
        values = {"max_prob": conf, "margin": scores.margin[row].tolist(),
                  "neg_entropy": (-scores.entropy[row]).tolist()}[rule.score]
        k = int(rule.counts.shared[min(step, rule.counts.shared.size - 1)])  # type: ignore[index]
        return _top(cand, values, k)
    if isinstance(rule, Threshold):  # Fast-dLLM: top-k over all masked, drop every k >= 1 below the threshold
        ranked = [cand[j] for j in _order([conf[i] for i in cand])]
        return {ranked[0]} | {i for i in ranked[1:] if not conf[i] < rule.tau}
    if isinstance(rule, Factor):  # Fast-dLLM get_transfer_index_dynamic, loop and quirk as written there
        ranked = [conf[i] for i in cand]
        sorted_conf = sorted(ranked, reverse=True)
        thresholds = [1 - rule.f / (m + 1) for m in range(1, len(cand) + 1)]
        thresholds[0] = -1
        top_i = 0
        for top_i in range(len(thresholds)):
            if sorted_conf[top_i] < thresholds[top_i]:
                break
        if top_i == 0 or top_i == len(thresholds) - 1:
            top_i += 1
        return _top(cand, conf, top_i)
    if isinstance(rule, EntropyBounded):  # EB-sampler: ascending entropy, cumsum - cummax <= gamma
        ent = scores.entropy[row].tolist()
        ranked = [cand[j] for j in _order([ent[i] for i in cand], descending=False)]
        out, total, biggest = set(), 0.0, -math.inf
        for i in ranked:
            total += ent[i]
            biggest = max(biggest, ent[i])
            if total - biggest <= rule.gamma:
                out.add(i)
        return out
    if isinstance(rule, FloorThreshold):  # diffusers BlockRefinementScheduler.step
        k = int(rule.counts.shared[min(step, rule.counts.shared.size - 1)])  # type: ignore[index]
        high = {i for i in cand if conf[i] > rule.tau}
        return high if len(high) >= k else _top(cand, conf, min(k, len(cand)))
    raise AssertionError(rule)


RULES = [TopK([2, 3, 1, 3]), TopK([1, 4, 4], "margin"), TopK([3, 3, 3], "neg_entropy"), Threshold(0.5),
         Threshold(0.9), Threshold(0.0), Threshold(1.0), Factor(1.0), Factor(0.3), Factor(3.0), EntropyBounded(0.1),
         EntropyBounded(1.5), EntropyBounded(0.0), FloorThreshold([1, 2, 3, 3], 0.6), FloorThreshold([2] * 4, 1.5)]


@pytest.mark.parametrize("rule", RULES, ids=repr)
def test_rule_matches_its_peer_on_random_states(rule: object) -> None:
    for seed in range(6):
        scores, candidates, step = _states(seed)
        chosen = rule.select(scores, candidates, step, 0, np.random.default_rng(0))  # type: ignore[attr-defined]
        assert chosen.dtype == np.bool_ and not (chosen & ~candidates).any() and chosen.any(axis=1).all()
        for row in range(candidates.shape[0]):
            want = _peer(rule, scores, candidates[row], int(step[row]), row)
            assert set(np.flatnonzero(chosen[row]).tolist()) == want, (rule, seed, row)


def test_random_rules_choose_uniform_subsets_and_softmax_draws() -> None:
    one, _, _ = _states(1, batch=1, n=5)
    draws = 6000  # one state repeated: every row an independent draw of the rule's randomness
    scores = one.rows(np.zeros(draws, dtype=np.int64))
    candidates = np.ones((draws, 5), dtype=bool)
    rng = np.random.default_rng(0)
    hits = RandomOrder([2, 3]).select(scores, candidates, np.zeros(draws, dtype=np.int64), 0, rng).mean(axis=0)
    assert np.allclose(hits, 0.4, atol=0.025)  # each position in a random 2-subset with probability 2/5
    # TopK with temperature: the first pick is softmax(score / T) (Dream's alg_temp multinomial).
    firsts = TopK([1, 4], temperature=0.2).select(scores, candidates, np.zeros(draws, dtype=np.int64), 0, rng)
    want = np.exp(one.max_prob[0] / 0.2)
    assert np.allclose(firsts.mean(axis=0), want / want.sum(), atol=0.025)


def test_block_schedules_give_counts_per_block() -> None:
    scores, candidates, _ = _states(3, batch=1, n=9)
    candidates[:] = True
    rule = TopK(BlockSchedule((Schedule([1, 2]), Schedule([3]))))
    assert rule.select(scores, candidates, np.array([1]), 0, np.random.default_rng(0)).sum() == 2
    assert rule.select(scores, candidates, np.array([0]), 1, np.random.default_rng(0)).sum() == 3
    rule.validate([3, 3])
    with pytest.raises(ValueError, match="block 1"):
        rule.validate([3, 4])
    with pytest.raises(ValueError, match="blocks"):
        rule.validate([3, 3, 3])
    with pytest.raises(ValueError, match="schedule covers 6"):
        TopK([3, 3]).validate([6, 5])


@pytest.mark.parametrize(("make", "error", "word"), [
    (lambda: Threshold(1.5), ValueError, "tau"), (lambda: Threshold(-0.1), ValueError, "tau"),
    (lambda: Threshold(float("nan")), ValueError, "tau"), (lambda: Threshold("0.9"), TypeError, "tau"),
    (lambda: Threshold(True), TypeError, "tau"), (lambda: Factor(0.0), ValueError, "f"),
    (lambda: Factor(-1), ValueError, "f"), (lambda: Factor(float("inf")), ValueError, "f"),
    (lambda: EntropyBounded(-0.01), ValueError, "gamma"), (lambda: EntropyBounded(float("nan")), ValueError, "gamma"),
    (lambda: EntropyBounded(None), TypeError, "gamma"), (lambda: FloorThreshold([2, 2], -1.0), ValueError, "tau"),
    (lambda: TopK([2, 2], "confidence"), ValueError, "score"), (lambda: TopK([2, 2], 3), TypeError, "score"),
    (lambda: TopK([2, 2], temperature=0.0), ValueError, "temperature"), (lambda: TopK([2, 0]), ValueError, "schedule"),
    (lambda: TopK([2.5, 2]), TypeError, "schedule"), (lambda: RandomOrder("4"), TypeError, "schedule"),
    (lambda: RandomOrder(None), TypeError, "schedule"),
])
def test_bad_hyperparameters_are_refused(make, error, word) -> None:
    with pytest.raises(error, match=word):
        make()


def test_select_checks_its_inputs() -> None:
    scores, candidates, step = _states(0, batch=3)
    rng = np.random.default_rng(0)
    rule = Threshold(0.5)
    with pytest.raises(TypeError, match="scores"):
        rule.select(scores.max_prob, candidates, step, 0, rng)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="candidates"):
        rule.select(scores, candidates.astype(int), step, 0, rng)
    with pytest.raises(ValueError, match="step"):
        rule.select(scores, candidates, step[:2], 0, rng)
    with pytest.raises(ValueError, match="block"):
        rule.select(scores, candidates, step, -1, rng)
    with pytest.raises(TypeError, match="block"):
        rule.select(scores, candidates, step, 0.5, rng)  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="rng"):
        rule.select(scores, candidates, step, 0, 0)  # type: ignore[arg-type]


def test_check_state_scores_refuses_bad_model_output() -> None:
    mask = np.ones((2, 3), dtype=bool)
    good = StateScores(np.full((2, 3), 0.5), np.full((2, 3), 0.2), np.ones((2, 3)), np.ones((2, 3)))
    check_state_scores(good, mask, nll=True, draws=False)
    for field, value, word in [("max_prob", np.full((2, 3), 1.5), "max_prob"), ("margin", np.full((2, 3), 0.7), "margin"),
                               ("entropy", np.full((2, 3), np.nan), "entropy"), ("nll", np.full((2, 3), np.inf), "nll"),
                               ("nll", -np.ones((2, 3)), "nll"), ("max_prob", np.ones((2, 2)), "shape")]:
        bad = StateScores(**{**good.__dict__, field: value})
        with pytest.raises(ValueError, match=word):
            check_state_scores(bad, mask, nll=True, draws=False)
    with pytest.raises(ValueError, match="nll=None"):
        check_state_scores(StateScores(good.max_prob, good.margin, good.entropy), mask, nll=True, draws=False)
    with pytest.raises(TypeError, match="StateScores"):
        check_state_scores((1, 2), mask, nll=True, draws=False)


@pytest.fixture(scope="module")
def markov() -> tuple[MarkovPredictor, np.ndarray]:
    law = MarkovPredictor(np.array([[0.85, 0.1, 0.05], [0.2, 0.7, 0.1], [0.3, 0.3, 0.4]]), 24)
    return law, law.sample(30, np.random.default_rng(4))


@pytest.mark.parametrize("rule", [RandomOrder([7, 7, 7]), TopK([3] * 7, temperature=0.3), Factor(1.0),
                                  FloorThreshold([2, 2, 3], 0.8)], ids=repr)
def test_results_are_bit_identical_across_batches_shards_and_threads(markov, rule) -> None:
    law, rows = markov
    region = np.arange(24) >= 3  # a 3-token prompt
    block = 7 if isinstance(rule, FloorThreshold) else None
    base = evaluate_sampler(law, rows, rule, region=region, block_length=block, seed=9, batch_size=64)
    for kwargs in ({"batch_size": 1}, {"batch_size": 7}, {"batch_size": 5, "executor": ThreadPoolExecutor(2),
                                                           "shards": 3}):
        other = evaluate_sampler(law, rows, rule, region=region, block_length=block, seed=9, **kwargs)
        assert np.array_equal(base.nll_rows, other.nll_rows) and np.array_equal(base.nfe_rows, other.nfe_rows)
    if rule.randomised:
        assert not np.array_equal(base.nll_rows, evaluate_sampler(law, rows, rule, region=region, seed=10).nll_rows)


def test_evaluate_and_compare_check_their_arguments(markov) -> None:
    law, rows = markov
    rule = Threshold(0.9)
    with pytest.raises(TypeError, match="rule"):
        evaluate_sampler(law, rows, [4, 4])
    with pytest.raises(TypeError, match="data"):
        evaluate_sampler(law, rows.astype(float), rule)
    with pytest.raises(ValueError, match="data"):
        evaluate_sampler(law, rows[:1], rule)
    with pytest.raises(ValueError, match="block_length"):
        evaluate_sampler(law, rows, rule, block_length=0)
    with pytest.raises(TypeError, match="block_length"):
        evaluate_sampler(law, rows, rule, block_length=2.0)
    with pytest.raises(ValueError, match="seed"):
        evaluate_sampler(law, rows, rule, seed=-1)
    with pytest.raises(TypeError, match="seed"):
        evaluate_sampler(law, rows, rule, seed=None)
    with pytest.raises(ValueError, match="batch_size"):
        evaluate_sampler(law, rows, rule, batch_size=0)
    with pytest.raises(ValueError, match="region"):
        evaluate_sampler(law, rows, rule, region=np.ones(5, dtype=bool))
    with pytest.raises(TypeError, match="executor"):
        evaluate_sampler(law, rows, rule, executor=object())
    with pytest.raises(ValueError, match="schedule covers"):
        evaluate_sampler(law, rows, TopK([4, 4]), block_length=None)
    with pytest.raises(ValueError, match="confidence"):
        compare_samplers(law, rows, rule, Factor(), confidence=1.0)
    with pytest.raises(ValueError, match="entropy"):
        evaluate_sampler(law, rows, rule).kl(float("nan"))
    with pytest.raises(ValueError, match="interval"):
        compare_samplers(law, rows, rule, Factor(), interval="t")
    with pytest.raises(TypeError, match="interval"):
        evaluate_sampler(law, rows, rule).kl(1.0, interval=None)
    with pytest.raises(ValueError, match="values"):
        mean_interval([1.0])
    with pytest.raises(ValueError, match="values"):
        mean_interval([1.0, float("nan")])
    bad = rows.copy()
    bad[0, 0] = 7
    with pytest.raises(ValueError, match="tokens"):
        evaluate_sampler(law, bad, rule)
    with pytest.raises(ValueError, match="num_samples"):
        sample_with_rule(law, rule, 0)


def test_a_true_token_of_probability_zero_is_refused() -> None:
    law = MarkovPredictor(np.array([[0.5, 0.5], [1.0, 0.0]]), 6)  # 1 is never followed by 1
    rows = np.array([[1, 1, 1, 1, 1, 1], [0, 0, 0, 0, 0, 0]])
    with pytest.raises(ValueError, match="probability 0"):
        evaluate_sampler(law, rows, Threshold(0.9))


def test_estimate_reports_its_numbers(markov) -> None:
    law, rows = markov
    seen: list[tuple[int, int]] = []
    est = evaluate_sampler(law, rows, TopK([4] * 6), progress=lambda done, total: seen.append((done, total)))
    assert seen[-1] == (1, 1)  # one batch of 30 rows: (done, total) in batches
    assert est.nfe == 6.0 and est.tokens_per_forward == 4.0 and est.n == 24
    assert math.isclose(est.nll, float(est.nll_rows.mean())) and est.stderr > 0
    assert math.isclose(est.kl(1.5).value, est.nll - 1.5)
    normal, boot = est.kl(1.5, interval="normal"), est.kl(1.5)
    assert math.isclose(normal.upper - normal.value, 1.959963984540054 * est.stderr)
    assert boot.method == "bootstrap-t" and boot.lower < boot.value < boot.upper and boot == est.kl(1.5)
    assert "TopK" in repr(est) and mdmsched.evaluate_sampler is evaluate_sampler


@pytest.mark.parametrize("rule", [RandomOrder([3, 3, 3]), TopK([2] * 5, "margin", temperature=0.7), Factor(2.0)],
                         ids=repr)
def test_select_rows_draws_each_row_from_its_own_generator(rule) -> None:
    scores, candidates, step = _states(8, batch=12)
    step = np.minimum(step, 2)
    together = rule.select_rows(scores, candidates, step, 0, [np.random.default_rng([1, r]) for r in range(12)])
    for r in range(12):
        alone = rule.select(scores.rows(np.array([r])), candidates[[r]], step[[r]], 0, np.random.default_rng([1, r]))
        assert np.array_equal(together[r], alone[0])
    with pytest.raises(TypeError, match="rngs"):
        rule.select_rows(scores, candidates, step, 0, [np.random.default_rng(0)])


class _Counting:
    """A model wrapper counting forward passes (``score_states`` calls) and the rows each one serves."""

    def __init__(self, model: MarkovPredictor) -> None:
        self.model, self.calls, self.rows = model, 0, []

    def score_states(self, tokens, mask, *, nll=True, rng=None):
        self.calls += 1
        self.rows.append(tokens.shape[0])
        return self.model.score_states(tokens, mask, nll=nll, rng=rng)


def test_one_forward_pass_per_step_serves_every_row_still_generating(markov) -> None:
    law, rows = markov
    counting = _Counting(law)
    est = evaluate_sampler(counting, rows, Factor(1.0), batch_size=rows.shape[0])
    assert counting.calls == est.model_calls == int(est.nfe_rows.max())
    # pass t serves exactly the rows that need more than t passes
    assert counting.rows == [int((est.nfe_rows > t).sum()) for t in range(counting.calls)]
    assert sum(counting.rows) == int(est.nfe_rows.sum())


def test_sample_with_rule_keeps_the_prompt_and_fills_blocks_in_order(markov) -> None:
    law, rows = markov
    region = np.arange(24) >= 4
    out = sample_with_rule(law, FloorThreshold([2, 2, 2, 1, 3], 0.9), 40, prompts=rows, region=region,
                           block_length=10, seed=1, batch_size=16)
    assert (out.tokens[:, :4] == rows[np.arange(40) % rows.shape[0], :4]).all()
    assert out.nll is None and (out.counts.sum(axis=1) == 20).all()
    assert np.array_equal((out.counts > 0).sum(axis=1), out.nfe) and (out.nfe >= 2).all()
    again = sample_with_rule(law, FloorThreshold([2, 2, 2, 1, 3], 0.9), 40, prompts=rows, region=region,
                             block_length=10, seed=1, batch_size=16)
    assert np.array_equal(out.tokens, again.tokens)


class _Broken(Threshold):
    """A rule that answers wrongly in one of three ways."""

    def __init__(self, how: str) -> None:
        super().__init__(0.5)
        self.how = how

    def choose(self, scores, candidates, step, block, uniforms):
        chosen = super().choose(scores, candidates, step, block, uniforms)
        if self.how == "empty":
            return np.zeros_like(chosen)
        if self.how == "outside":
            return chosen | ~candidates
        return chosen.astype(int)


@pytest.mark.parametrize(("how", "word"), [("empty", "no position"), ("outside", "not a candidate"),
                                           ("dtype", "expected bool")])
def test_a_rule_answering_wrongly_is_refused(markov, how, word) -> None:
    law, rows = markov
    with pytest.raises(ValueError, match=word):
        evaluate_sampler(law, rows, _Broken(how), region=np.arange(24) >= 3)
