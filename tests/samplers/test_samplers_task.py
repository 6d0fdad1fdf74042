"""SPEC §5.5 by brute force: evaluate_task's accuracy and its clustered interval against the exact accuracy of each
rule's output law (built by recursion over every state in tests/helpers/sampler_reference.py, no package loop), paired
differences, bit-identity across batches, shards and executors, and generation retracing the rule's choices."""

from __future__ import annotations

import itertools
import math
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pytest
from learned import InconsistentModel
from sampler_reference import Walk, package_chooser, uniform_subsets

from mdmsched.models import ExactPredictor, ProbabilityModel
from mdmsched.samplers import (
    RandomOrder,
    Threshold,
    TopK,
    accuracy_interval,
    compare_tasks,
    evaluate_sampler,
    evaluate_task,
)


def _law(n: int, q: int, seed: int, concentration: float) -> np.ndarray:
    return np.random.default_rng(seed).dirichlet(np.full(q**n, concentration)).reshape((q,) * n)


def _exact_accuracy(p: np.ndarray, walk: Walk, prompt: tuple[int, ...]) -> float:
    """``sum_x mu(x) nu(x_generated | x_prompt)`` with ``nu`` the exact output law of the walk's sampler."""
    n, q = p.ndim, p.shape[0]
    total = 0.0
    for c in itertools.product(range(q), repeat=len(prompt)):
        start = tuple(c[prompt.index(i)] if i in prompt else None for i in range(n))
        law = walk.output_law(start)
        for x, nu in law.items():
            total += p[x] * nu
    return total


def _wilson(k: int, m: int, z: float = 1.96) -> tuple[float, float]:
    centre = (k + z * z / 2) / (m + z * z)
    half = z * math.sqrt(k * (m - k) / m + z * z / 4) / (m + z * z)
    return centre - half, centre + half


# (n, q, prompt, block_length, rule, chooser, law concentration, model concentration)
CASES = [
    (4, 3, (0,), None, TopK([2, 1]), None, 0.7, 1.0),
    (5, 2, (0,), 2, Threshold(0.6), None, 0.3, 0.4),
    (4, 2, (1,), None, RandomOrder([1, 2]), uniform_subsets([[1, 2]]), 0.3, 0.3),
]


def _setup(case: int) -> tuple[np.ndarray, InconsistentModel, Walk, float]:
    n, q, prompt, block, rule, chooser, law_c, model_c = CASES[case]
    p = _law(n, q, 40 + case, law_c)
    model = InconsistentModel(n, q, seed=90 + case, concentration=model_c)
    walk = Walk(model, n, q, chooser or package_chooser(rule), block=block, prompt=prompt)
    return p, model, walk, _exact_accuracy(p, walk, prompt)


def _draw(p: np.ndarray, count: int, seed: int) -> np.ndarray:
    flat = np.random.default_rng([seed, 777]).choice(p.size, size=count, p=p.ravel())
    return np.array(np.unravel_index(flat, p.shape), dtype=np.int64).T


def test_exact_accuracy_is_teacher_forced_likelihood() -> None:
    """SPEC §5.5's identity for a deterministic rule: the output law's mass at x = exp(-teacher-forced NLL)."""
    p, model, _walk, truth = _setup(0)
    rows = np.array(list(itertools.product(range(3), repeat=4)), dtype=np.int64)
    region = np.array([True] * 4)
    region[0] = False
    est = evaluate_sampler(model, rows, CASES[0][4], region=region, batch_size=11)
    formula = float(p[tuple(rows.T)] @ np.exp(-est.nll_rows))
    assert abs(formula - truth) <= 1e-12, (formula, truth)
    assert 0.01 < truth < 0.99


@pytest.mark.parametrize("case", range(len(CASES)))
@pytest.mark.parametrize("samples", [1, 3])
def test_accuracy_interval_covers_the_exact_accuracy(case: int, samples: int) -> None:
    n, _q, prompt, block, rule, _, _, _ = CASES[case]
    p, model, _, truth = _setup(case)
    region = np.array([i not in prompt for i in range(n)])
    seeds, covered, estimates = 200, 0, []
    for seed in range(seeds):
        rows = _draw(p, 30, seed)
        est = evaluate_task(model, rows, rule, "exact", references=list(rows), region=region, block_length=block,
                            samples_per_prompt=samples, seed=seed, batch_size=64)
        covered += est.lower <= truth <= est.upper
        estimates.append(est.accuracy)
    lo, hi = _wilson(covered, seeds)
    message = f"case {case}, S={samples}: truth {truth:.4f}, coverage {covered}/{seeds} (Wilson 95% [{lo:.3f}, {hi:.3f}])"
    print(message)
    assert covered >= 0.93 * seeds, message
    assert covered <= 0.995 * seeds, message  # near nominal, not a trivially wide interval
    assert abs(np.mean(estimates) - truth) < 4 * np.std(estimates) / math.sqrt(seeds) + 1e-12, message


@pytest.mark.parametrize("samples", [1, 3])
def test_accuracy_interval_covers_an_exact_accuracy_near_one(samples: int) -> None:
    """A consistent model of a concentrated law (accuracy 0.944): most prompts score 1 on every sample."""
    p = np.random.default_rng(0).dirichlet(np.full(16, 0.05)).reshape((2,) * 4)
    model, rule = ExactPredictor(p), TopK([2, 1])
    truth = _exact_accuracy(p, Walk(model, 4, 2, package_chooser(rule), prompt=(0,)), (0,))
    assert 0.9 < truth < 0.99
    region = np.array([False, True, True, True])
    seeds, covered = 200, 0
    for seed in range(seeds):
        rows = _draw(p, 30, seed)
        est = evaluate_task(model, rows, rule, "exact", references=list(rows), region=region,
                            samples_per_prompt=samples, seed=seed)
        covered += est.lower <= truth <= est.upper
    lo, hi = _wilson(covered, seeds)
    message = f"near one, S={samples}: truth {truth:.4f}, coverage {covered}/{seeds} (Wilson 95% [{lo:.3f}, {hi:.3f}])"
    print(message)
    assert 0.93 * seeds <= covered <= 0.995 * seeds, message


@pytest.mark.parametrize("pair", range(2))
def test_compare_tasks_paired_interval_covers_the_exact_difference(pair: int) -> None:
    n, q, prompt = 4, 3, (0,)
    p = _law(n, q, 40 + pair, 0.7 if pair == 0 else 0.3)
    model = InconsistentModel(n, q, seed=90 + pair, concentration=1.0 if pair == 0 else 0.3)
    first, second = [(TopK([2, 1]), TopK([1, 1, 1])), (TopK([3]), TopK([1, 1, 1]))][pair]
    truths = [_exact_accuracy(p, Walk(model, n, q, package_chooser(r), prompt=prompt), prompt) for r in (first, second)]
    truth = truths[0] - truths[1]
    assert abs(truth) > 1e-3
    region = np.array([i not in prompt for i in range(n)])
    seeds, covered = 200, 0
    for seed in range(seeds):
        rows = _draw(p, 30, seed)
        cmp = compare_tasks(model, rows, first, second, "exact", references=list(rows), region=region,
                            samples_per_prompt=2, seed=seed)
        covered += cmp.lower <= truth <= cmp.upper
        assert cmp.value == pytest.approx(cmp.first.accuracy - cmp.second.accuracy, abs=1e-12)
    lo, hi = _wilson(covered, seeds)
    message = f"truth {truth:.4f} ({truths}): coverage {covered}/{seeds} (Wilson 95% [{lo:.3f}, {hi:.3f}])"
    print(message)
    assert 0.93 * seeds <= covered <= 0.995 * seeds, message


class _NoUniforms:
    """A StateModel whose score_states takes no ``uniforms``: the loop calls it one row at a time."""

    def __init__(self, predict: InconsistentModel) -> None:
        self.inner = ProbabilityModel(predict)

    def score_states(self, tokens, mask, *, nll=True, rng=None):  # type: ignore[no-untyped-def]
        return self.inner.score_states(tokens, mask, nll=nll, rng=rng)


@pytest.mark.parametrize("wrap", [False, True])
@pytest.mark.parametrize("rule", [TopK([[1, 2], [1, 1]]), Threshold(0.5), RandomOrder([[2, 1], [1, 1]])])
def test_bit_identical_across_batches_shards_and_executors(rule: object, wrap: bool) -> None:
    n, q = 6, 3
    model = InconsistentModel(n, q, seed=3)
    subject = _NoUniforms(model) if wrap else model
    rows = np.random.default_rng(1).integers(0, q, (9, n))
    region = np.array([False, True, True, True, True, True])
    kwargs = {"references": list(rows), "region": region, "samples_per_prompt": 3, "seed": 5, "block_length": 3}
    base = evaluate_task(subject, rows, rule, "exact", batch_size=64, **kwargs)
    assert base.values.size == 27 and base.outputs.shape == (27, n)
    assert (base.outputs[:, 0] == np.repeat(rows[:, 0], 3)).all()  # the prompt stays
    with ThreadPoolExecutor(2) as pool:
        others = [evaluate_task(subject, rows, rule, "exact", batch_size=1, **kwargs),
                  evaluate_task(subject, rows, rule, "exact", batch_size=4, shards=3, executor=pool, **kwargs),
                  evaluate_task(subject, rows, rule, "exact", batch_size=7, **kwargs)]
    for other in others:
        np.testing.assert_array_equal(other.outputs, base.outputs)
        np.testing.assert_array_equal(other.values, base.values)
        np.testing.assert_array_equal(other.nfe_rows, base.nfe_rows)
        assert (other.accuracy, other.lower, other.upper) == (base.accuracy, base.lower, base.upper)
    # the samples of one prompt differ (their own streams), and another seed gives other outputs
    assert len({tuple(r) for r in base.outputs}) > 9
    again = evaluate_task(subject, rows, rule, "exact", batch_size=64, **{**kwargs, "seed": 6})
    assert not np.array_equal(again.outputs, base.outputs)


def test_generation_retraces_the_rules_choices() -> None:
    """Teacher forcing a generated output with the same deterministic rule walks the same path: same NFE, and
    exp(-NLL) is the output's exact probability under the sampler's law (from the brute-force recursion)."""
    n, q, prompt, block, rule = 5, 2, (0,), 2, Threshold(0.6)
    model = InconsistentModel(n, q, seed=91, concentration=0.4)
    walk = Walk(model, n, q, package_chooser(rule), block=block, prompt=prompt)
    rows = np.random.default_rng(2).integers(0, q, (6, n))
    region = np.array([i not in prompt for i in range(n)])
    est = evaluate_task(model, rows, rule, "exact", references=list(rows), region=region, block_length=block,
                        samples_per_prompt=4, seed=0)
    forced = evaluate_sampler(model, est.outputs, rule, region=region, block_length=block)
    np.testing.assert_array_equal(forced.nfe_rows, est.nfe_rows)
    for y, nll in zip(est.outputs.tolist(), forced.nll_rows):
        law = walk.output_law(tuple(y[i] if i in prompt else None for i in range(n)))
        assert math.exp(-nll) == pytest.approx(law[tuple(y)], rel=1e-12)


def test_named_and_callable_scores() -> None:
    n, q = 4, 3
    model = InconsistentModel(n, q, seed=4)
    rows = np.random.default_rng(3).integers(0, q, (5, n))
    region = np.array([False, True, True, True])
    exact = evaluate_task(model, rows, TopK([1, 2]), "exact", references=list(rows), region=region, seed=1,
                          samples_per_prompt=2)
    expected = [float((o[1:] == rows[r // 2][1:]).all()) for r, o in enumerate(exact.outputs)]
    np.testing.assert_array_equal(exact.values, expected)
    short = evaluate_task(model, rows, TopK([1, 2]), "exact", references=[r[1:] for r in rows], region=region,
                          seed=1, samples_per_prompt=2)
    np.testing.assert_array_equal(short.values, exact.values)

    def decode(tokens: np.ndarray) -> str:
        return "work " + " ".join(map(str, tokens.tolist())) + f" #### {int(tokens[-1])}"

    answers = [f"#### {int(r[-1])}" for r in rows]
    regex = evaluate_task(model, rows, TopK([1, 2]), r"regex:#### (\d+)", references=answers, region=region,
                          seed=1, samples_per_prompt=2, decode=decode)
    np.testing.assert_array_equal(regex.values, [float(o[-1] == rows[r // 2][-1]) for r, o in
                                                 enumerate(exact.outputs)])
    as_rows = evaluate_task(model, rows, TopK([1, 2]), r"regex:#### (\d+)", references=list(rows), region=region,
                            seed=1, samples_per_prompt=2, decode=decode)
    np.testing.assert_array_equal(as_rows.values, regex.values)

    def half(prompt_row: np.ndarray, output_row: np.ndarray, reference: object) -> float:
        return 0.5 * float(output_row[1] == prompt_row[0])

    custom = evaluate_task(model, rows, TopK([1, 2]), half, region=region, seed=1, samples_per_prompt=2)
    np.testing.assert_array_equal(custom.values, [0.5 * float(o[1] == o[0]) for o in exact.outputs])
    assert custom.nfe == exact.nfe == 2.0 and custom.tokens_per_forward == 1.5


def test_bad_inputs() -> None:
    model = InconsistentModel(4, 3, seed=4)
    rows = np.zeros((3, 4), dtype=np.int64)
    with pytest.raises(ValueError, match="score must return"):
        evaluate_task(model, rows, TopK([1, 3]), lambda a, b, c: 2.0)
    with pytest.raises(ValueError, match="score must return"):
        evaluate_task(model, rows, TopK([1, 3]), lambda a, b, c: "yes")
    with pytest.raises(TypeError, match="score"):
        evaluate_task(model, rows, TopK([1, 3]), 3)
    with pytest.raises(ValueError, match="score"):
        evaluate_task(model, rows, TopK([1, 3]), "fuzzy", references=list(rows))
    with pytest.raises(ValueError, match="references"):
        evaluate_task(model, rows, TopK([1, 3]), "exact")
    with pytest.raises(ValueError, match="references"):
        evaluate_task(model, rows, TopK([1, 3]), "exact", references=list(rows)[:2])
    with pytest.raises(TypeError, match="decode"):
        evaluate_task(model, rows, TopK([1, 3]), "regex:(\\d+)", references=["1"] * 3)
    with pytest.raises(ValueError, match="regular expression"):
        evaluate_task(model, rows, TopK([1, 3]), "regex:(", references=["1"] * 3, decode=str)
    with pytest.raises(TypeError, match="prompts"):
        evaluate_task(model, rows.astype(float), TopK([1, 3]), "exact", references=list(rows))
    with pytest.raises(ValueError, match="samples_per_prompt"):
        evaluate_task(model, rows, TopK([1, 3]), "exact", references=list(rows), samples_per_prompt=0)
    with pytest.raises(TypeError, match="rule"):
        evaluate_task(model, rows, "topk", "exact", references=list(rows))
    with pytest.raises(ValueError, match="references\\[0\\]"):
        evaluate_task(model, rows, TopK([1, 3]), "exact", references=[[0, 1]] * 3)


def test_accuracy_interval_hand_example() -> None:
    # 4 prompts x 2 samples, per-prompt means 1, 0.5, 0.5, 0: p = 0.5, s^2 = 1/6, v = 1/24, n_eff = 6 (within [4, 8])
    acc, lo, hi = accuracy_interval([1, 1, 1, 0, 0, 1, 0, 0], 2, 0.95)
    t = 3.182446305284263  # Student t_{0.975, 3}
    centre, half = 0.5, t / (1 + t * t / 6) * math.sqrt(0.25 / 6 + t * t / 144)
    assert acc == 0.5
    assert lo == pytest.approx(centre - half, abs=2e-3) and hi == pytest.approx(centre + half, abs=2e-3)
    # all zeros: n_eff = P (fully correlated), lower 0, upper the Wilson bound t^2 / (P + t^2)
    acc, lo, hi = accuracy_interval(np.zeros(40), 4, 0.95)
    assert acc == 0.0 and lo == 0.0 and 0.33 < hi < 0.345  # t_{0.975, 9}^2 / (10 + t^2)


def test_generated_outputs_follow_the_exact_output_law() -> None:
    """Frequencies of 4000 generations of one prompt against the brute-force output law (4 sigma per outcome)."""
    n, q, prompt, block, rule = 5, 2, (0,), 2, Threshold(0.6)
    model = InconsistentModel(n, q, seed=91, concentration=0.4)
    walk = Walk(model, n, q, package_chooser(rule), block=block, prompt=prompt)
    rows = np.array([[1, 0, 0, 0, 0], [0, 0, 0, 0, 0]], dtype=np.int64)
    region = np.array([i not in prompt for i in range(n)])
    est = evaluate_task(model, rows, rule, "exact", references=list(rows), region=region, block_length=block,
                        samples_per_prompt=2000, seed=4, batch_size=500)
    for p_index, first in enumerate((1, 0)):
        law = walk.output_law((first, None, None, None, None))
        outputs = est.outputs[p_index * 2000:(p_index + 1) * 2000]
        seen: dict[tuple[int, ...], int] = {}
        for y in map(tuple, outputs.tolist()):
            seen[y] = seen.get(y, 0) + 1
        assert set(seen) <= set(law)
        for y, prob in law.items():
            sigma = math.sqrt(prob * (1 - prob) / 2000)
            assert abs(seen.get(y, 0) / 2000 - prob) <= 4 * sigma + 1e-9, (y, seen.get(y, 0), prob)


def test_progress_states_the_plan_before_running(capsys: pytest.CaptureFixture[str]) -> None:
    model = InconsistentModel(4, 3, seed=4)
    rows = np.random.default_rng(3).integers(0, 3, (5, 4))
    region = np.array([False, True, True, True])
    seen: list[tuple[int, int]] = []
    evaluate_task(model, rows, TopK([1, 2]), "exact", references=list(rows), region=region, samples_per_prompt=2,
                  batch_size=4, progress=lambda done, total: seen.append((done, total)))
    assert seen == [(1, 3), (2, 3), (3, 3)]
    evaluate_task(model, rows, TopK([1, 2]), "exact", references=list(rows), region=region, samples_per_prompt=2,
                  progress=True)
    assert "at most 30 row-forwards (5 prompts x 2 samples x at most 3 passes" in capsys.readouterr().err
