"""Task accuracy of a sampler by real generation (SPEC §5.5): the rule chooses, the model draws, a score judges.

:func:`evaluate_task` generates ``samples_per_prompt`` outputs per prompt with the same loop as every other sampler
(:func:`~mdmsched.samplers.loop.run_rule`, sampling), scores each with ``score`` (a callable, ``"exact"`` or
``"regex:<pattern>"``) and reports the mean with an interval that treats the samples of one prompt as one cluster.
:func:`compare_tasks` is the paired difference of two rules on the same prompts and seeds.

Plan -> run -> merge through ``mdmsched._shards``: row ``r = prompt * samples_per_prompt + sample`` draws the rule's
randomness from ``default_rng([seed, r])`` and the model's draws from ``default_rng([seed, r, 1])`` (handed to the model
as per-position uniforms), so results are bit-identical for every batch size, shard count and executor.
"""

from __future__ import annotations

import math
import re
import time
from collections.abc import Callable, Sequence
from concurrent.futures import Executor
from dataclasses import dataclass, field
from typing import Any, Union

import numpy as np
from numpy.typing import ArrayLike, NDArray

from .._shards import (
    DEFAULT_SHARDS,
    RowBatches,
    as_report,
    as_run_batches,
    check_coverage,
    check_shard_batches,
    fingerprint,
    run_shards,
)
from .._validation import as_confidence, as_count, as_free_positions, as_samples, as_shape_pair, require_memory
from ..models.bands import student_t_quantile
from ..models.interface import StateModel, as_state_model
from .evaluate import _as_block_length, _as_rule, _as_seed
from .loop import PassCounts, run_rule
from .rules import Rule

#: ``score(prompt_row, output_row, reference) -> float in [0, 1]``, or a named scorer: ``"exact"``, ``"regex:<pat>"``.
Scorer = Union[str, Callable[[NDArray[np.int64], NDArray[np.int64], Any], Any]]
#: Most outputs per prompt: every one is a full generation, so more than this is a typo, not an experiment.
MAX_SAMPLES_PER_PROMPT = 2**20
#: The interval over prompts (see :func:`accuracy_interval`).
ACCURACY_METHOD = "cluster-wilson"


@dataclass(frozen=True, eq=False)
class Task:
    """A task for :func:`~mdmsched.samplers.map.sampler_map`: ``prompts`` (P x length ints; generated positions are
    placeholders), ``score`` (as :func:`evaluate_task`), ``references`` (one per prompt), ``region`` (True =
    generated), ``samples_per_prompt``, ``decode`` (for ``"regex:"`` scores)."""

    prompts: Any
    score: Scorer
    references: Sequence[Any] | None = None
    region: Any = None
    samples_per_prompt: int = 1
    decode: Callable[[NDArray[np.int64]], str] | None = None

    def __post_init__(self) -> None:  # the cheap checks at construction, so a loaded task is refused where it is made
        as_count(self.samples_per_prompt, "samples_per_prompt", 1, MAX_SAMPLES_PER_PROMPT)
        _as_scorer(self.score, self.decode)


@dataclass(frozen=True)
class TaskPlan(RowBatches):
    """What to run, picklable: ``prompts`` x ``length`` prompt rows, ``samples`` outputs each (row
    ``r = prompt * samples + sample``), generated positions ``free`` (P x n, or 1 x n when shared), blocks of
    ``block_length``, batches of ``batch_size`` rows, the ``seed`` and a digest of the prompt tokens."""

    prompts: int
    samples: int
    length: int
    free: NDArray[np.int64] = field(repr=False)
    block_length: int | None
    batch_size: int
    seed: int
    prompt_digest: str = field(repr=False, default="")

    @property
    def rows(self) -> int:
        """Prompt-samples: ``prompts * samples``."""
        return self.prompts * self.samples

    @property
    def max_forwards(self) -> int:
        """Upper bound on row-forwards before running: every row at most ``n`` passes."""
        return self.rows * self.n

    @property
    def fingerprint(self) -> str:
        """A digest of everything in the plan that decides the per-row results."""
        return fingerprint("task", self.prompts, self.samples, self.length, self.block_length, self.batch_size,
                           self.seed, self.free, self.prompt_digest)

    def rule_fingerprint(self, rule: Any, score: Any) -> str:
        """The digest a shard of ``rule`` judged by ``score`` carries."""
        return fingerprint(self.fingerprint, type(rule).__qualname__, repr(rule), _score_name(score))


@dataclass(frozen=True)
class TaskShard:
    """Per-row results of a contiguous run of batches: ``values`` (scores in [0, 1]), ``nfe``, ``outputs`` (the
    generated rows), the ``score_states`` calls made and the digest of the plan, rule and score."""

    batches: range
    first_row: int
    values: NDArray[np.float64] = field(repr=False)
    nfe: NDArray[np.int64] = field(repr=False)
    outputs: NDArray[np.int64] = field(repr=False)
    model_calls: int
    plan: str = ""


@dataclass(frozen=True)
class TaskEstimate(PassCounts):
    """A rule's task accuracy from ``P`` prompts x ``S`` samples: ``accuracy`` (mean score), ``[lower, upper]`` at
    ``confidence`` over prompts (clustered: :func:`accuracy_interval`), per-sample ``values`` and ``nfe_rows``
    (row ``p * S + s``), ``outputs`` (the generated rows), ``n`` generated positions, ``model_calls`` and ``seconds``."""

    accuracy: float
    lower: float
    upper: float
    confidence: float
    values: NDArray[np.float64] = field(repr=False)
    nfe_rows: NDArray[np.int64] = field(repr=False)
    outputs: NDArray[np.int64] = field(repr=False)
    samples_per_prompt: int
    n: int
    rule: str
    model_calls: int
    seconds: float = 0.0
    method: str = ACCURACY_METHOD

    @property
    def prompt_accuracies(self) -> NDArray[np.float64]:
        """Per-prompt mean score (P,): the cluster means the interval is built from."""
        return np.asarray(self.values.reshape(-1, self.samples_per_prompt).mean(axis=1))

    def __repr__(self) -> str:
        return (f"TaskEstimate({self.rule}: accuracy = {self.accuracy:.4g}, {self.confidence:.0%} [{self.lower:.4g}, "
                f"{self.upper:.4g}], NFE = {self.nfe:.4g}, {self.tokens_per_forward:.3g} tokens/forward, "
                f"{self.values.size // self.samples_per_prompt} prompts x {self.samples_per_prompt})")


@dataclass(frozen=True)
class TaskComparison:
    """Paired ``first - second`` accuracy on the same prompts and seeds, with an interval clustered by prompt
    (:func:`paired_accuracy_interval`), ``nfe_difference`` and both estimates."""

    value: float
    stderr: float
    lower: float
    upper: float
    confidence: float
    nfe_difference: float
    first: TaskEstimate = field(repr=False)
    second: TaskEstimate = field(repr=False)


def accuracy_interval(values: ArrayLike, samples_per_prompt: int, confidence: float = 0.95) -> tuple[float, float,
                                                                                                      float]:
    """``(mean, lower, upper)`` of scores in [0, 1] clustered by prompt (``values`` row ``p * S + s``).

    A Wilson interval on the effective sample size: ``n_eff = p(1 - p) / v`` with ``v`` the variance of the mean of the
    per-prompt means (``s^2 / P``), clamped to ``[P, P S]`` (a design effect between 1 and S; all-equal scores take
    ``n_eff = P``, the most correlated case), and the Student-t quantile with ``P - 1`` degrees of freedom in place of
    ``z``. Chosen by measured coverage on exact small laws (tests/samplers/test_samplers_task.py): near nominal at accuracies
    near 0 or 1 and 20-40 prompts, where a normal or bootstrap interval collapses to a point. O(P S)."""
    arr = as_samples(values, "values")
    size = as_count(samples_per_prompt, "samples_per_prompt")
    level = as_confidence(confidence)
    if arr.min() < 0 or arr.max() > 1:
        raise ValueError(f"values must be scores in [0, 1], got {float(arr.min())!r}..{float(arr.max())!r}")
    if arr.size < 2 * size or arr.size % size:
        raise ValueError(f"values must be finite scores, {size} per prompt for at least 2 prompts, got {arr.shape}")
    means = arr.reshape(-1, size).mean(axis=1)
    prompts = means.size
    p = float(means.mean())
    var = float(means.var(ddof=1)) / prompts
    n_eff = float(prompts) if var <= 0.0 else min(max(p * (1.0 - p) / var, prompts), prompts * size)
    t = student_t_quantile(0.5 + level / 2, prompts - 1)
    denom = 1.0 + t * t / n_eff
    centre = (p + t * t / (2 * n_eff)) / denom
    half = t / denom * math.sqrt(max(p * (1.0 - p), 0.0) / n_eff + t * t / (4 * n_eff * n_eff))
    return p, max(0.0, centre - half), min(1.0, centre + half)


def paired_accuracy_interval(first: ArrayLike, second: ArrayLike, samples_per_prompt: int,
                             confidence: float = 0.95) -> tuple[float, float, float, float]:
    """``(difference, stderr, lower, upper)`` of ``mean(first) - mean(second)``, scores paired by row and clustered by
    prompt: MOVER (Newcombe's hybrid score / Zou-Donner) from the two :func:`accuracy_interval` intervals and the
    correlation ``r`` of the per-prompt means (0 when undefined)::

        lower = d - sqrt((p1 - l1)^2 - 2 r (p1 - l1)(u2 - p2) + (u2 - p2)^2)
        upper = d + sqrt((u1 - p1)^2 - 2 r (u1 - p1)(p2 - l2) + (p2 - l2)^2)

    Chosen by measured coverage: where most prompts tie (accuracies near 0 or 1) a bootstrap or t interval of the
    per-prompt differences collapses to a point and misses a small true difference. ``stderr`` is the plain standard
    error of the per-prompt differences. O(P S)."""
    a, b = np.asarray(first, dtype=np.float64), np.asarray(second, dtype=np.float64)
    if a.shape != b.shape:
        raise ValueError(f"first and second must be paired scores of one shape, got {a.shape} and {b.shape}")
    p1, l1, u1 = accuracy_interval(a, samples_per_prompt, confidence)
    p2, l2, u2 = accuracy_interval(b, samples_per_prompt, confidence)
    ma, mb = a.reshape(-1, samples_per_prompt).mean(axis=1), b.reshape(-1, samples_per_prompt).mean(axis=1)
    r = 0.0
    if ma.std() > 0 and mb.std() > 0:
        r = float(np.corrcoef(ma, mb)[0, 1])
    d = p1 - p2
    low = d - math.sqrt(max((p1 - l1) ** 2 - 2 * r * (p1 - l1) * (u2 - p2) + (u2 - p2) ** 2, 0.0))
    high = d + math.sqrt(max((u1 - p1) ** 2 - 2 * r * (u1 - p1) * (p2 - l2) + (p2 - l2) ** 2, 0.0))
    se = float((ma - mb).std(ddof=1) / math.sqrt(ma.size))
    return d, se, max(-1.0, low), min(1.0, high)


def _score_name(score: Any) -> str:
    if isinstance(score, str):
        return score
    return f"callable:{getattr(score, '__module__', '')}.{getattr(score, '__qualname__', type(score).__qualname__)}"


def _as_scorer(score: Any, decode: Any) -> Scorer:
    if isinstance(score, str):
        if score == "exact":
            return score
        if score.startswith("regex:"):
            try:
                re.compile(score[len("regex:"):])
            except re.error as err:
                raise ValueError(f"score {score!r} holds an invalid regular expression: {err}") from None
            if decode is None or not callable(decode):
                raise TypeError("score 'regex:...' needs decode=, a callable from the generated tokens to str")
            return score
        raise ValueError(f"score must be 'exact', 'regex:<pattern>' or a callable, got {score!r}")
    if not callable(score):
        raise TypeError(f"score must be 'exact', 'regex:<pattern>' or a callable (prompt_row, output_row, reference) "
                        f"-> float in [0, 1], got {type(score).__name__}")
    return score  # type: ignore[no-any-return]


def _as_prompts(prompts: Any) -> NDArray[np.int64]:
    arr = np.asarray(prompts)
    if arr.dtype.kind not in "iu":
        raise TypeError(f"prompts must be an integer array (P x length tokens), got dtype {arr.dtype}")
    if arr.ndim != 2 or arr.shape[0] < 2 or arr.shape[1] < 1:
        raise ValueError(f"prompts must be a 2-D array of at least 2 prompt rows, got shape {arr.shape}")
    if (arr < 0).any():
        raise ValueError("prompts must hold token ids >= 0")
    return np.ascontiguousarray(arr, dtype=np.int64)


def _reference_tokens(reference: Any, free: NDArray[np.int64], length: int, index: int) -> NDArray[np.int64]:
    arr = np.asarray(reference)
    if arr.dtype.kind not in "iu" or arr.ndim != 1:
        raise TypeError(f"references[{index}] must be a 1-D integer row for score 'exact', got {arr.dtype} "
                        f"{arr.shape}")
    if arr.size == length:
        return np.asarray(arr[free], dtype=np.int64)
    if arr.size == free.size:
        return np.asarray(arr, dtype=np.int64)
    raise ValueError(f"references[{index}] has {arr.size} tokens; expected the full row ({length}) or the generated "
                     f"positions ({free.size})")


def _answer(text: str, pattern: str) -> str | None:
    found = re.search(pattern, text)
    if found is None:
        return None
    return (found.group(1) if found.re.groups else found.group(0)).strip()


def _decoded(decode: Any, tokens: NDArray[np.int64], what: str) -> str:
    text = decode(tokens)
    if not isinstance(text, str):
        raise TypeError(f"decode must return str for {what}, got {type(text).__name__}")
    return text


def score_row(score: Scorer, prompt: NDArray[np.int64], output: NDArray[np.int64], free: NDArray[np.int64],
              reference: Any, index: int, decode: Any = None) -> float:
    """One output's score in [0, 1]: ``"exact"`` (1.0 iff the generated positions equal the reference's), ``"regex:<p>"``
    (the first capture group -- or the whole match -- of ``p`` in ``decode(generated tokens)`` equals the reference's:
    a str searched with ``p`` and taken whole when ``p`` does not match it, or a token row decoded first; no match in the
    output scores 0), or a callable's value (checked: a real number in [0, 1]). O(n) plus the scorer."""
    if score == "exact":
        return float(np.array_equal(output[free], _reference_tokens(reference, free, output.size, index)))
    if isinstance(score, str):
        pattern = score[len("regex:"):]
        got = _answer(_decoded(decode, output[free], "an output"), pattern)
        if got is None:
            return 0.0
        if isinstance(reference, str):
            text = reference
        else:
            text = _decoded(decode, _reference_tokens(reference, free, output.size, index), f"references[{index}]")
        want = _answer(text, pattern)
        return float(got == (text.strip() if want is None else want))
    value = score(prompt.copy(), output.copy(), reference)
    if isinstance(value, (bool, np.bool_)):
        value = float(value)
    if not isinstance(value, (int, float, np.integer, np.floating)) or not 0.0 <= float(value) <= 1.0:
        raise ValueError(f"score must return a real number in [0, 1]; it returned {value!r} for prompt {index}")
    return float(value)


def plan_task(prompts_shape: tuple[int, int], *, samples_per_prompt: int = 1, region: ArrayLike | None = None,
              block_length: int | None = None, seed: int = 0, batch_size: int = 64,
              prompt_digest: str = "") -> TaskPlan:
    """The row batches of :func:`evaluate_task` for prompts of shape ``(P, length)`` (see :class:`TaskPlan`)."""
    count, length = as_shape_pair(prompts_shape, "prompts_shape", "P", "length", minimum_rows=2)
    samples = as_count(samples_per_prompt, "samples_per_prompt")
    free = as_free_positions(region, (count, length))
    batch = as_count(batch_size, "batch_size")
    require_memory(8 * count * samples * length + 64 * min(batch, count * samples) * length,
                   f"the outputs ({count * samples} rows of length {length})")
    return TaskPlan(count, samples, length, np.ascontiguousarray(free), _as_block_length(block_length), batch,
                    _as_seed(seed), prompt_digest)


def run_task_shard(model: StateModel | Any, prompts: ArrayLike, rule: Rule, score: Scorer, references: Any,
                   decode: Any, plan: TaskPlan, batches: range | None = None) -> TaskShard:
    """Generate and score the rows of ``batches`` (default: all) of ``plan``. At most ``n`` ``score_states`` calls
    per batch, O(batch n log n) here per call, plus one score call per row."""
    if not isinstance(plan, TaskPlan):
        raise TypeError(f"plan must be a TaskPlan (from plan_task), got {type(plan).__name__}")
    scorer = as_state_model(model)
    rule = _as_rule(rule)
    score = _as_scorer(score, decode)
    rows = _as_prompts(prompts)
    if rows.shape != (plan.prompts, plan.length):
        raise ValueError(f"prompts have shape {rows.shape}, but the plan was made for {(plan.prompts, plan.length)}")
    batches = as_run_batches(batches, plan.num_batches)
    span = plan.row_span(batches)
    first, size = span.start, len(span)
    values, nfe = np.empty(size), np.empty(size, dtype=np.int64)
    outputs, calls = np.empty((size, plan.length), dtype=np.int64), 0
    for b in batches:
        batch = plan.row_span(range(b, b + 1))
        lo, hi = batch.start, batch.stop
        which = np.arange(lo, hi) // plan.samples
        free = plan.free[which] if plan.free.shape[0] > 1 else plan.free
        tokens = rows[which].copy()
        np.put_along_axis(tokens, np.broadcast_to(free, (hi - lo, plan.n)), 0, axis=1)  # placeholders
        row_rngs = [np.random.default_rng([plan.seed, r]) for r in range(lo, hi)]
        draw_rngs = [np.random.default_rng([plan.seed, r, 1]) for r in range(lo, hi)]
        run = run_rule(scorer, tokens, free, plan.block_length, rule, teacher=False,
                       rng=np.random.default_rng([plan.seed, plan.rows, b]), row_rngs=row_rngs, draw_rngs=draw_rngs)
        for k, r in enumerate(range(lo, hi)):
            p = int(which[k])
            row_free = plan.free[p] if plan.free.shape[0] > 1 else plan.free[0]
            values[r - first] = score_row(score, rows[p], run.tokens[k], row_free,
                                          None if references is None else references[p], p, decode)
        nfe[lo - first:hi - first], outputs[lo - first:hi - first] = run.nfe, run.tokens
        calls += int(run.model_calls or 0)
    return TaskShard(batches, first, values, nfe, outputs, calls, plan.rule_fingerprint(rule, score))


def merge_task_shards(plan: TaskPlan, results: Sequence[TaskShard], rule: Rule, score: Scorer, *,
                      confidence: float = 0.95, total_seconds: float = 0.0) -> TaskEstimate:
    """Place every shard's rows (shards must carry this plan's, rule's and score's digest, hold scores in [0, 1] and
    NFE in 1..n, and cover every batch once) and build the clustered interval."""
    if not isinstance(plan, TaskPlan):
        raise TypeError(f"plan must be a TaskPlan (from plan_task), got {type(plan).__name__}")
    if isinstance(results, (TaskShard, str, bytes)) or not isinstance(results, Sequence):
        raise TypeError(f"results must be a sequence of TaskShards, got {type(results).__name__}")
    level = as_confidence(confidence)
    values, nfe = np.full(plan.rows, np.nan), np.full(plan.rows, -1, dtype=np.int64)
    outputs = np.zeros((plan.rows, plan.length), dtype=np.int64)
    covered = np.zeros(plan.num_batches, dtype=np.int64)
    expected = plan.rule_fingerprint(rule, score)
    for result in results:
        if not isinstance(result, TaskShard):
            raise TypeError(f"results must be TaskShards (from run_task_shard), got {type(result).__name__}")
        if result.plan != expected:
            raise ValueError("a shard was run under another plan, rule or score (its fingerprint differs); re-run it")
        b = check_shard_batches(result.batches, plan.num_batches)
        span = plan.row_span(b)
        first, count = span.start, len(span)
        if result.first_row != first or result.values.shape != (count,) or result.nfe.shape != (count,) \
                or result.outputs.shape != (count, plan.length):
            raise ValueError(f"a shard of batches {b!r} must start at row {first} and hold {count} rows")
        if not np.isfinite(result.values).all() or (result.values < 0).any() or (result.values > 1).any() \
                or (result.nfe < 1).any() or (result.nfe > plan.n).any():
            raise ValueError(f"a shard of batches {b!r} holds scores outside [0, 1] or NFE outside 1..{plan.n}")
        covered[b.start:b.stop] += 1
        values[first:first + count], nfe[first:first + count] = result.values, result.nfe
        outputs[first:first + count] = result.outputs
    check_coverage(covered)
    acc, lower, upper = accuracy_interval(values, plan.samples, level)
    return TaskEstimate(acc, lower, upper, level, values, nfe, outputs, plan.samples, plan.n, repr(rule),
                        sum(int(r.model_calls) for r in results), total_seconds)


def evaluate_task(model: StateModel | Any, prompts: ArrayLike, rule: Rule, score: Scorer, *,
                  references: Sequence[Any] | None = None, region: ArrayLike | None = None,
                  block_length: int | None = None, samples_per_prompt: int = 1, seed: int = 0, batch_size: int = 64,
                  executor: Executor | None = None, shards: int | None = None, progress: bool | Any = False,
                  confidence: float = 0.95, decode: Callable[[NDArray[np.int64]], str] | None = None,
                  plan: TaskPlan | None = None) -> TaskEstimate:
    """Task accuracy of ``rule`` on ``model`` by real generation (SPEC §5.5).

    ``prompts``: P x length integer rows (P >= 2); the positions of ``region`` (bools ``(length,)`` or ``(P, length)``,
    True = generated; default all) are generated in blocks of ``block_length`` (default one block), the rest is the
    prompt. Each prompt is sampled ``samples_per_prompt`` times with :func:`~mdmsched.samplers.loop.run_rule`
    (sampling: the rule picks positions, the model draws them independently from ``q(. | x_R)``), then scored by
    ``score``: a callable ``(prompt_row, output_row, reference) -> float in [0, 1]``, ``"exact"`` (the generated
    positions equal ``references[p]``'s: a full row or just its generated tokens) or ``"regex:<pattern>"`` (the first
    capture group of ``pattern`` in ``decode(generated tokens)`` equals the reference's: GSM8K's ``#### (\\S+)``).

    Returns a :class:`TaskEstimate`: accuracy with an interval at ``confidence`` clustered by prompt
    (:func:`accuracy_interval`), NFE and tokens per forward, per-sample values and outputs. Bit-identical for every
    ``batch_size``, ``shards`` and ``executor`` (per-row generators). ``progress=True`` prints the plan's upper bound on
    forward passes (P x S x n row-forwards) before running. ``plan``: a :class:`TaskPlan` made once
    (:func:`plan_task`; ``region``, ``block_length``, ``samples_per_prompt``, ``seed``, ``batch_size`` then come from
    it). Cost: at most ``n`` model calls per batch, O(batch n log n) per call here, one score call per sample.
    """
    start = time.perf_counter()
    rows = _as_prompts(prompts)
    rule = _as_rule(rule)
    score = _as_scorer(score, decode)
    level = as_confidence(confidence)
    if references is not None:
        if isinstance(references, (str, bytes)) or len(references) != rows.shape[0]:
            raise ValueError(f"references must hold one reference per prompt ({rows.shape[0]})")
    elif score == "exact" or isinstance(score, str):
        raise ValueError(f"score {score!r} needs references= (one per prompt)")
    digest = fingerprint(rows)
    if plan is None:
        plan = plan_task(rows.shape, samples_per_prompt=samples_per_prompt, region=region, block_length=block_length,
                         seed=seed, batch_size=batch_size, prompt_digest=digest)
    elif not isinstance(plan, TaskPlan):
        raise TypeError(f"plan must be a TaskPlan (from plan_task), got {type(plan).__name__}")
    elif region is not None or block_length is not None:
        raise ValueError("pass region and block_length to plan_task, not beside plan= (the plan decides them)")
    elif rows.shape != (plan.prompts, plan.length) or plan.prompt_digest not in ("", digest):
        raise ValueError(f"prompts of shape {rows.shape} are not the ones the plan was made for")
    report = as_report(progress, "generating the task",
                       f"at most {plan.max_forwards} row-forwards ({plan.prompts} prompts x {plan.samples} samples x "
                       f"at most {plan.n} passes; {plan.num_batches} batches of up to {plan.batch_size} rows)")
    count = DEFAULT_SHARDS if shards is None else as_count(shards, "shards")
    parts = plan.shards(plan.num_batches if executor is None else count)
    results = run_shards(run_task_shard, (model, rows, rule, score, references, decode, plan), parts,
                         executor=executor, report=report, total=plan.num_batches)
    return merge_task_shards(plan, results, rule, score, confidence=level,
                             total_seconds=time.perf_counter() - start)


def compare_tasks(model: StateModel | Any, prompts: ArrayLike, first: Rule, second: Rule, score: Scorer, *,
                  confidence: float = 0.95, **same: Any) -> TaskComparison:
    """Paired ``accuracy(first) - accuracy(second)`` on the same prompts and per-row seeds (common random numbers),
    with an interval clustered by prompt (:func:`paired_accuracy_interval`: MOVER from the two clustered Wilson
    intervals and their correlation). ``same`` goes to both :func:`evaluate_task` calls. Twice the cost of one
    evaluation."""
    level = as_confidence(confidence)
    a = evaluate_task(model, prompts, first, score, confidence=level, **same)
    b = evaluate_task(model, prompts, second, score, confidence=level, **same)
    value, se, lower, upper = paired_accuracy_interval(a.values, b.values, a.samples_per_prompt, level)
    return TaskComparison(value, se, lower, upper, level, a.nfe - b.nfe, a, b)


__all__ = [
    "ACCURACY_METHOD",
    "Scorer",
    "Task",
    "TaskComparison",
    "TaskEstimate",
    "TaskPlan",
    "TaskShard",
    "accuracy_interval",
    "compare_tasks",
    "evaluate_task",
    "merge_task_shards",
    "paired_accuracy_interval",
    "plan_task",
    "run_task_shard",
    "score_row",
]
