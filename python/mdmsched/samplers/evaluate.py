"""Exact scoring of a position-choosing sampler by teacher forcing (SPEC §5.2), and the sampler itself.

For a rule that sees only the state and fills its chosen positions independently from ``q``, the expected KL of the
sampler to the data law ``mu`` is ``E_x E_omega [sum_i -log q(x_i | x_R(i))] - H(mu)`` with the rule run on the *true*
tokens ``x``. :func:`evaluate_sampler` computes that sum (and the NFE) for every data row; :func:`compare_samplers`
gives the paired difference of two samplers on the same rows, which needs no ``H(mu)``.

The work is a list of rows split into batches (``plan -> run -> merge`` as :mod:`mdmsched.models.estimate`): row ``r``'s
randomness comes from ``np.random.default_rng([seed, r])`` alone, so results are bit-identical for every batch size,
shard count and executor.
"""

from __future__ import annotations

import math
import time
from collections.abc import Sequence
from concurrent.futures import Executor
from dataclasses import dataclass, field
from statistics import NormalDist
from typing import Any, Literal

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
from .._validation import (
    as_choice,
    as_confidence,
    as_count,
    as_data_rows,
    as_free_positions,
    as_real,
    as_samples,
    as_shape_pair,
    as_tolerance,
    require_memory,
)
from ..models.bands import student_t_quantile
from ..models.interface import StateModel, as_state_model
from .eos import as_eos
from .loop import PassCounts, RuleRun, block_lengths, run_rule
from .power import rows_for_stderr, rows_to_detect
from .rules import RandomOrder, Rule, TopK

IntervalMethod = Literal["bootstrap-t", "normal"]
#: Interval constructions for a mean over rows: the studentised row bootstrap (default) or the normal approximation.
INTERVAL_METHODS: tuple[IntervalMethod, ...] = ("bootstrap-t", "normal")
#: Row resamples of the bootstrap-t interval.
RESAMPLES = 999


@dataclass(frozen=True)
class Interval:
    """An estimate (nats) with its standard error and a two-sided interval at ``confidence`` built by ``method``."""

    value: float
    stderr: float
    lower: float
    upper: float
    confidence: float
    method: str = "normal"

    def __repr__(self) -> str:
        return (f"Interval({self.value:.6g} +- {self.stderr:.3g} nats, {self.confidence:.0%} {self.method} "
                f"[{self.lower:.6g}, {self.upper:.6g}])")


def _as_method(method: object) -> IntervalMethod:
    return as_choice(method, "interval", INTERVAL_METHODS)  # type: ignore[return-value]


def mean_interval(values: ArrayLike, *, offset: float = 0.0, confidence: float = 0.95,
                  method: IntervalMethod = "bootstrap-t", seed: int = 0) -> Interval:
    """Interval for the mean of per-row ``values`` (minus ``offset``), two-sided at ``confidence``.

    ``"normal"``: ``mean +- z se``. ``"bootstrap-t"`` (default): the studentised bootstrap over rows (``RESAMPLES``
    resamples from ``default_rng([seed, N])``), ``[mean - t*_hi se, mean - t*_lo se]`` with ``t*`` the quantiles of
    ``(mean* - mean) / se*``: it follows the skew of heavy-tailed per-row losses (a few true tokens of tiny
    probability), where the normal interval undercovers at small N (SPEC §5.3; measured 0.92 vs 0.978 at N = 40,
    nominal 0.95). When the bootstrap-t is degenerate (resamples of identical rows reach the tails, so a quantile of
    ``t*`` is infinite: e.g. ``[0] * 49 + [1e6]``) it falls back to the union of the Student-t and percentile-bootstrap
    intervals, finite and never narrower than the t interval. O(RESAMPLES N) time, at most ``2**22`` resampled
    values in memory at once.
    """
    arr = as_samples(values, "values")
    offset = as_real(offset, "offset")
    level, kind = as_confidence(confidence), _as_method(method)
    size = arr.size
    mean = float(arr.mean())
    se = float(arr.std(ddof=1) / math.sqrt(size))
    if kind == "normal" or se == 0.0:
        z = NormalDist().inv_cdf(0.5 + level / 2)
        return Interval(mean - offset, se, mean - z * se - offset, mean + z * se - offset, level, kind)
    rng = np.random.default_rng([_as_seed(seed), size])
    t = np.empty(RESAMPLES)
    chunk = max(1, 2**22 // size)
    for lo in range(0, RESAMPLES, chunk):
        picks = arr[rng.integers(0, size, (min(chunk, RESAMPLES - lo), size))]
        shift = picks.mean(axis=1) - mean
        spread = picks.std(axis=1, ddof=1) / math.sqrt(size)
        with np.errstate(divide="ignore", invalid="ignore"):  # a constant resample: t = +-inf (or 0)
            t[lo:lo + picks.shape[0]] = np.where(spread > 0, shift / np.where(spread > 0, spread, 1.0),
                                                 np.sign(shift) * np.inf)
    t = np.nan_to_num(t, nan=0.0, posinf=np.inf, neginf=-np.inf)  # a constant resample equal to the mean: t = 0
    tails = np.quantile(t, [(1 - level) / 2, (1 + level) / 2], method="inverted_cdf")  # no inf - inf interpolation
    if not np.isfinite(tails).all():
        # degenerate: resamples of identical rows (t = +-inf) within the tails, e.g. one nonzero row in 50; the
        # bootstrap-t then says nothing finite. Honest fallback: the Student-t interval widened to hold the
        # percentile-bootstrap interval of the resampled means (both finite, both within the data's range +- t se)
        return _fallback_interval(arr, offset, level, kind, seed)
    low_t, high_t = float(tails[0]), float(tails[1])
    return Interval(mean - offset, se, mean - high_t * se - offset, mean - low_t * se - offset, level, kind)


def _fallback_interval(arr: NDArray[np.float64], offset: float, level: float, kind: IntervalMethod, seed: int) -> Interval:
    """The union of the Student-t interval and the percentile bootstrap of the mean: what :func:`mean_interval`
    returns when the bootstrap-t is degenerate (issue 28.6). O(RESAMPLES N)."""
    size = arr.size
    mean = float(arr.mean())
    se = float(arr.std(ddof=1) / math.sqrt(size))
    t = student_t_quantile(0.5 + level / 2, size - 1)
    rng = np.random.default_rng([_as_seed(seed), size, 1])
    chunk = max(1, 2**22 // size)
    means = np.concatenate([arr[rng.integers(0, size, (min(chunk, RESAMPLES - lo), size))].mean(axis=1)
                            for lo in range(0, RESAMPLES, chunk)])
    p_low, p_high = np.quantile(means, [(1 - level) / 2, (1 + level) / 2])
    low, high = min(mean - t * se, float(p_low)), max(mean + t * se, float(p_high))
    return Interval(mean - offset, se, low - offset, high - offset, level, kind)


@dataclass(frozen=True)
class SamplerEstimate(PassCounts):
    """A sampler scored by teacher forcing on ``N`` data rows: ``nll_rows`` (N,) the sum of ``-log q(x_i | x_R(i))``
    over the generated positions of each row (nats), ``nfe_rows`` (N,) its forward passes, ``n`` generated positions
    per row, ``rule`` the rule's repr, ``model_calls`` / ``total_seconds`` the cost."""

    nll_rows: NDArray[np.float64] = field(repr=False)
    nfe_rows: NDArray[np.int64] = field(repr=False)
    n: int
    rule: str
    model_calls: int = 0
    total_seconds: float = 0.0

    @property
    def nll(self) -> float:
        """Mean NLL sum per row (nats): the sampler's held-out ``-log nu(x)``, ``KL + H(mu)``."""
        return float(self.nll_rows.mean())

    @property
    def stderr(self) -> float:
        """Standard error of :attr:`nll` over the rows."""
        return float(self.nll_rows.std(ddof=1) / math.sqrt(self.nll_rows.size))

    def kl(self, entropy: float, *, confidence: float = 0.95, interval: IntervalMethod = "bootstrap-t") -> Interval:
        """The absolute expected KL ``nll - H(mu)`` (``entropy = H(mu)`` in nats; with prompts, the answer's entropy
        given the prompt), with its standard error and interval (:func:`~mdmsched.samplers.evaluate.mean_interval`). O(N), bootstrap O(999 N)."""
        return mean_interval(self.nll_rows, offset=as_tolerance(entropy, "entropy"), confidence=confidence,
                             method=interval)

    def rows_for(self, stderr: float) -> int:
        """Rows this sampler needs for :attr:`nll` to have standard error ``stderr`` nats, with this run as the pilot
        (:func:`~mdmsched.samplers.power.rows_for_stderr`); about ``rows_for(se) * nfe`` row-forwards. O(N)."""
        return rows_for_stderr(self.nll_rows, stderr)

    def __repr__(self) -> str:
        return (f"SamplerEstimate({self.rule}: nll = {self.nll:.6g} +- {self.stderr:.3g} nats, "
                f"NFE = {self.nfe:.4g}, {self.tokens_per_forward:.3g} tokens/forward, N = {self.nll_rows.size})")


@dataclass(frozen=True)
class SamplerComparison:
    """Paired ``first - second`` on the same rows with the same seeds: ``value`` (nats, the difference of expected
    KLs, exact without ``H(mu)``; negative = ``first`` is better), ``stderr``, the two-sided interval
    ``[lower, upper]`` at ``confidence`` built by ``method``, ``nfe_difference`` (mean NFE of first minus second) and
    both estimates."""

    value: float
    stderr: float
    lower: float
    upper: float
    confidence: float
    method: str
    nfe_difference: float
    first: SamplerEstimate = field(repr=False)
    second: SamplerEstimate = field(repr=False)

    def rows_to_detect(self, gain: float, *, power: float = 0.8, confidence: float = 0.95) -> int:
        """Rows for this paired comparison to detect a true difference of ``gain`` nats with probability ``power``
        (two-sided at ``confidence``), with this run as the pilot (:func:`~mdmsched.samplers.power.rows_to_detect`).
        O(N)."""
        return rows_to_detect(self.first.nll_rows - self.second.nll_rows, gain, power=power, confidence=confidence)


@dataclass(frozen=True)
class SamplerPlan(RowBatches):
    """What to run, picklable: ``rows`` x ``length`` data, generated positions ``free`` (N x n, or 1 x n when shared),
    blocks of ``block_length`` (None: one block), batches of ``batch_size`` rows, the ``seed``, and the EOS option
    (``eos_id``, ``pad_after_eos``: see :func:`~mdmsched.samplers.loop.run_rule`)."""

    rows: int
    length: int
    free: NDArray[np.int64] = field(repr=False)
    block_length: int | None
    batch_size: int
    seed: int
    eos_id: int | None = None
    pad_after_eos: bool = True

    @property
    def fingerprint(self) -> str:
        """A digest of everything in the plan that decides the per-row results (layout, blocks, batches, seed)."""
        return fingerprint("sampler", self.rows, self.length, self.block_length, self.batch_size, self.seed, self.free,
                           self.eos_id, self.pad_after_eos)

    def rule_fingerprint(self, rule: Any) -> str:
        """The digest a shard of ``rule`` under this plan carries: the plan's and the rule's (its ``repr``)."""
        return fingerprint(self.fingerprint, type(rule).__qualname__, repr(rule))


@dataclass(frozen=True)
class SamplerShard:
    """Per-row results of a contiguous run of batches of a :class:`SamplerPlan`; ``plan`` is the digest of the plan and
    rule it was run under (:meth:`SamplerPlan.rule_fingerprint`)."""

    batches: range
    first_row: int
    nll: NDArray[np.float64] = field(repr=False)
    nfe: NDArray[np.int64] = field(repr=False)
    model_calls: int
    plan: str = ""


def _as_seed(seed: Any) -> int:
    value: int = as_count(seed, "seed", 0)  # an integer, recorded in the plan: every shard draws the same rows
    return value


def _as_block_length(block_length: Any) -> int | None:
    return None if block_length is None else as_count(block_length, "block_length")


def _as_rule(rule: Any) -> Rule:
    if not isinstance(rule, Rule):
        raise TypeError(f"rule must be a mdmsched.samplers Rule (RandomOrder, TopK, Threshold, ...), got "
                        f"{type(rule).__name__}")
    return rule


def fixed_passes(rule: Rule, lengths: Sequence[int]) -> int | None:
    """Forward passes per row of a rule whose counts fix them (:class:`RandomOrder`, :class:`TopK` with a schedule:
    one pass per step of its schedule in every block), else None (adaptive rules, closed-loop counts, subclasses:
    at most ``n``). O(blocks)."""
    if not isinstance(rule, (RandomOrder, TopK)) or type(rule) not in (RandomOrder, TopK):  # subclasses may adapt
        return None
    counts = rule.counts
    shared = getattr(counts, "shared", None)
    per_block = getattr(counts, "per_block", None)  # a schedule's counts; closed-loop counts have neither
    if isinstance(shared, np.ndarray):
        return int(shared.size) * len(lengths)
    if isinstance(per_block, list) and per_block:
        return int(sum(np.size(sizes) for sizes in per_block))
    return None


def plan_sampler(data_shape: tuple[int, int], *, region: ArrayLike | None = None, block_length: int | None = None,
                 seed: int = 0, batch_size: int = 64, eos_id: int | None = None,
                 pad_after_eos: bool = True) -> SamplerPlan:
    """The row batches of :func:`evaluate_sampler` for data of shape ``(N, length)`` (see :class:`SamplerPlan`)."""
    eos = as_eos(eos_id, pad_after_eos)
    rows, length = as_shape_pair(data_shape, "data_shape", "N", "length", minimum_rows=2)
    batch = as_count(batch_size, "batch_size")
    # before any array of the data's length: the positions (8 bytes each, per row when region is per row) and a batch
    require_memory(8 * length * (1 if region is None or np.ndim(region) == 1 else rows) + 64 * min(batch, rows) * length,
                   f"the positions and one batch ({min(batch, rows)} rows of length {length})")
    free = as_free_positions(region, (rows, length))
    return SamplerPlan(rows, length, np.ascontiguousarray(free), _as_block_length(block_length), batch, _as_seed(seed),
                       None if eos is None else eos.eos_id, True if eos is None else eos.pad_after_eos)


def run_sampler_shard(model: StateModel | Any, data: ArrayLike, rule: Rule, plan: SamplerPlan,
                      batches: range | None = None) -> SamplerShard:
    """Teacher-force ``rule`` on the rows of ``batches`` (default: all) of ``plan``. One ``score_states`` call per
    iteration per batch (at most ``n`` iterations), O(batch n log n) here per iteration."""
    if not isinstance(plan, SamplerPlan):
        raise TypeError(f"plan must be a SamplerPlan (from plan_sampler), got {type(plan).__name__}")
    scorer = as_state_model(model)
    rule = _as_rule(rule)
    rows = as_data_rows(data)
    if rows.shape != (plan.rows, plan.length):
        raise ValueError(f"data has shape {rows.shape}, but the plan was made for {(plan.rows, plan.length)}")
    batches = as_run_batches(batches, plan.num_batches)
    span = plan.row_span(batches)
    first = span.start
    nll, nfe, calls = np.empty(len(span)), np.empty(len(span), dtype=np.int64), 0
    for b in batches:
        batch = plan.row_span(range(b, b + 1))
        lo, hi = batch.start, batch.stop
        free = plan.free[lo:hi] if plan.free.shape[0] > 1 else plan.free
        row_rngs = [np.random.default_rng([plan.seed, r]) for r in range(lo, hi)]
        run = run_rule(scorer, rows[lo:hi], free, plan.block_length, rule, teacher=True,
                       rng=np.random.default_rng([plan.seed, plan.rows, b]), row_rngs=row_rngs, eos_id=plan.eos_id,
                       pad_after_eos=plan.pad_after_eos)
        assert run.nll is not None
        nll[lo - first:hi - first], nfe[lo - first:hi - first] = run.nll, run.nfe
        calls += int(run.counts.shape[1])
    return SamplerShard(batches, first, nll, nfe, calls, plan.rule_fingerprint(rule))


def merge_sampler_shards(plan: SamplerPlan, results: Sequence[SamplerShard], rule: Rule, *,
                         total_seconds: float = 0.0) -> SamplerEstimate:
    """Place every shard's rows; shards must come from this plan and rule (fingerprint), hold finite NLL >= 0 and
    NFE >= 1 per row, and cover every batch exactly once."""
    if not isinstance(plan, SamplerPlan):
        raise TypeError(f"plan must be a SamplerPlan (from plan_sampler), got {type(plan).__name__}")
    if isinstance(results, (SamplerShard, str, bytes)) or not isinstance(results, Sequence):
        raise TypeError(f"results must be a sequence of SamplerShards, got {type(results).__name__}")
    nll, nfe = np.full(plan.rows, np.nan), np.full(plan.rows, -1, dtype=np.int64)
    covered = np.zeros(plan.num_batches, dtype=np.int64)
    expected = plan.rule_fingerprint(rule)
    for result in results:
        _check_sampler_shard(plan, result, expected)
        covered[result.batches.start:result.batches.stop] += 1
        nll[result.first_row:result.first_row + result.nll.size] = result.nll
        nfe[result.first_row:result.first_row + result.nfe.size] = result.nfe
    check_coverage(covered)
    return SamplerEstimate(nll, nfe, plan.n, repr(rule), sum(r.model_calls for r in results), total_seconds)


def _check_sampler_shard(plan: SamplerPlan, result: object, expected: str) -> None:
    """A shard that fits ``plan`` and its rule: same digest, batches in the plan, one finite NLL >= 0 and one NFE in
    1..n per row of its batches, a sane call count."""
    if not isinstance(result, SamplerShard):
        raise TypeError(f"results must be SamplerShards (from run_sampler_shard), got {type(result).__name__}")
    if result.plan != expected:
        raise ValueError("a shard was run under another plan or rule (its fingerprint differs: data layout, "
                         "block_length, batch_size, seed or rule changed); re-run it with this plan and rule")
    batches = check_shard_batches(result.batches, plan.num_batches)
    span = plan.row_span(batches)
    first, count = span.start, len(span)
    nll, nfe = result.nll, result.nfe
    if result.first_row != first or not isinstance(nll, np.ndarray) or not isinstance(nfe, np.ndarray) \
            or nll.shape != (count,) or nfe.shape != (count,):
        raise ValueError(f"a shard of batches {batches} must start at row {first} and hold {count} NLL and NFE values")
    if nll.dtype.kind != "f" or not np.isfinite(nll).all() or (nll < 0).any():
        raise ValueError(f"a shard of batches {batches} holds NaN, infinite or negative NLL values")
    if nfe.dtype.kind not in "iu" or (nfe < 1).any() or (nfe > plan.n).any():
        raise ValueError(f"a shard of batches {batches} holds NFE values outside 1..{plan.n}")
    calls = result.model_calls
    if isinstance(calls, bool) or not isinstance(calls, (int, np.integer)) or calls < 0:
        raise ValueError(f"a shard's model_calls must be an integer >= 0, got {calls!r}")


def evaluate_sampler(model: StateModel | Any, data: ArrayLike, rule: Rule, *, region: ArrayLike | None = None,
                     block_length: int | None = None, seed: int = 0, batch_size: int = 64,
                     executor: Executor | None = None, shards: int | None = None,
                     progress: bool | Any = False, plan: SamplerPlan | None = None, eos_id: int | None = None,
                     pad_after_eos: bool = True) -> SamplerEstimate:
    """Score ``rule`` on ``model`` by teacher forcing on the data rows ``data`` (N x length integer tokens, N >= 2).

    Each row's generated positions (``region``: bools ``(length,)`` or ``(N, length)``, True = generated, default all;
    the rest is the prompt, revealed) are cut into blocks of ``block_length`` (default one block) generated left to
    right, later blocks masked. At each step one ``score_states`` call gives the state scores and ``-log q`` at the true
    tokens; the rule picks positions; their true tokens are revealed and their ``-log q`` added. Returns per-row NLL
    sums (nats) and NFE: ``E[nll] - H(mu)`` is the sampler's exact expected KL (SPEC §5.2).

    ``model``: a :class:`~mdmsched.models.StateModel` (``TorchModel``, ``ExactPredictor``, ``MarkovPredictor``,
    ``ProbabilityModel``) or a predictor ``(tokens, mask) -> probs``. ``executor``: any ``concurrent.futures.Executor``
    (``shards`` pieces, default 8; ``model``, ``data`` and ``rule`` must pickle for process pools). ``progress``: True
    for the plan's forward passes and a stderr bar with ETA, or a callable ``(done, total)`` in batches. ``plan``: a :class:`SamplerPlan` made once
    (:func:`plan_sampler`) and reused across rules (a sweep plans once; ``region``/``block_length`` then come from it,
    and ``seed``/``batch_size`` are ignored). ``eos_id``/``pad_after_eos``: variable-length answers (the tail after a
    committed EOS is settled without forward passes; data rows must be EOS-padded; see
    :mod:`mdmsched.samplers.eos`). Cost: at most ``n`` model calls per batch of
    ``batch_size`` rows (about NFE calls), O(batch n log n) per call here.
    """
    start = time.perf_counter()
    rows = as_data_rows(data)
    rule = _as_rule(rule)
    if plan is None:
        plan = plan_sampler(rows.shape, region=region, block_length=block_length, seed=seed, batch_size=batch_size,
                            eos_id=eos_id, pad_after_eos=pad_after_eos)
    elif not isinstance(plan, SamplerPlan):
        raise TypeError(f"plan must be a SamplerPlan (from plan_sampler), got {type(plan).__name__}")
    elif region is not None or block_length is not None or eos_id is not None:
        raise ValueError("pass region, block_length and eos_id to plan_sampler, not beside plan= (the plan decides "
                         "them)")
    elif rows.shape != (plan.rows, plan.length):
        raise ValueError(f"data has shape {rows.shape}, but the plan was made for {(plan.rows, plan.length)}")
    passes = fixed_passes(rule, block_lengths(plan.n, plan.block_length))
    per_row = f"at most {plan.n}" if passes is None else f"exactly {passes}"
    report = as_report(progress, "teacher-forcing the sampler",
                       f"{'at most ' if passes is None else ''}{plan.rows * (plan.n if passes is None else passes)} "
                       f"row-forwards ({plan.num_batches} batches of up to {plan.batch_size} rows x {per_row} passes)")
    count = DEFAULT_SHARDS if shards is None else as_count(shards, "shards")
    parts = plan.shards(plan.num_batches if executor is None else count)
    results = run_shards(run_sampler_shard, (model, rows, rule, plan), parts, executor=executor, report=report,
                         total=plan.num_batches)
    return merge_sampler_shards(plan, results, rule, total_seconds=time.perf_counter() - start)


def compare_samplers(model: StateModel | Any, data: ArrayLike, first: Rule, second: Rule, *,
                     confidence: float = 0.95, interval: IntervalMethod = "bootstrap-t", **same: Any) -> SamplerComparison:
    """Paired difference ``E[KL(first)] - E[KL(second)]`` (nats) on the same rows and seeds, with a row-paired
    standard error and a two-sided interval at ``confidence`` (:func:`~mdmsched.samplers.evaluate.mean_interval`: the row bootstrap-t by
    default, ``interval="normal"`` for ``+- z se``); ``same`` goes to both :func:`evaluate_sampler` calls
    (``region``, ``block_length``, ``seed``, ``batch_size``, ``executor``, ...). Twice the cost of one evaluation."""
    level, method = as_confidence(confidence), _as_method(interval)
    a = evaluate_sampler(model, data, first, **same)
    b = evaluate_sampler(model, data, second, **same)
    diff = mean_interval(a.nll_rows - b.nll_rows, confidence=level, method=method, seed=same.get("seed", 0))
    return SamplerComparison(diff.value, diff.stderr, diff.lower, diff.upper, level, method, a.nfe - b.nfe, a, b)


def sample_with_rule(model: StateModel | Any, rule: Rule, num_samples: int, *, n: int | None = None,
                     prompts: ArrayLike | None = None, region: ArrayLike | None = None,
                     block_length: int | None = None, seed: int | None = None, batch_size: int = 256,
                     eos_id: int | None = None, pad_after_eos: bool = True) -> RuleRun:
    """Draw ``num_samples`` sequences with ``rule`` choosing the positions and ``model`` filling them, each chosen
    position drawn independently from ``q(. | x_R)`` (one ``score_states`` call per step gives scores and draws).

    ``prompts`` (rows of the full length, reused cyclically) with ``region`` (``(length,)`` bools, True = generated)
    fix the prompt; without them every position of length ``n`` (default: the model's ``n``) is generated. Returns a
    :class:`~mdmsched.models.RuleRun`: ``tokens`` (the samples), ``nfe`` and ``counts`` per row. Reproducible for a
    given ``seed`` and ``batch_size`` (the rule and the draws share one generator per run). At most ``n`` model calls
    per batch. ``eos_id``/``pad_after_eos``: the tail after a drawn EOS is filled with EOS without forward passes
    (see :func:`~mdmsched.samplers.loop.run_rule`).
    """
    as_eos(eos_id, pad_after_eos)
    rule = _as_rule(rule)
    scorer = as_state_model(model)
    count = as_count(num_samples, "num_samples")
    batch_size = as_count(batch_size, "batch_size")
    if prompts is not None:
        prompt_rows = np.asarray(prompts)
        if prompt_rows.dtype.kind not in "iu" or prompt_rows.ndim != 2 or 0 in prompt_rows.shape:
            raise ValueError(f"prompts must be a non-empty 2-D integer array, got {prompt_rows.dtype} "
                             f"{prompt_rows.shape}")
        length = int(prompt_rows.shape[1])
    else:
        if region is not None:
            raise ValueError("region needs prompts (the tokens of the positions that are not generated)")
        default = n if n is not None else getattr(model, "n", getattr(scorer, "n", None))
        if default is None:
            raise ValueError("n is needed: the model does not say its length")
        length = as_count(default, "n")
        require_memory(16 * count * length, "the samples")  # before the placeholder row of that length
        prompt_rows = np.zeros((1, length), dtype=np.int64)
    require_memory(16 * count * length, "the samples")
    free = as_free_positions(region, (1, length))
    rng = np.random.default_rng(None if seed is None else _as_seed(seed))
    runs = []
    for lo in range(0, count, batch_size):
        hi = min(lo + batch_size, count)
        tokens = prompt_rows[np.arange(lo, hi) % prompt_rows.shape[0]].astype(np.int64)
        np.put_along_axis(tokens, np.broadcast_to(free, (hi - lo, free.shape[1])), 0, axis=1)  # placeholders
        runs.append(run_rule(scorer, tokens, free, _as_block_length(block_length), rule, teacher=False, rng=rng,
                             eos_id=eos_id, pad_after_eos=pad_after_eos))
    width = max(r.counts.shape[1] for r in runs)
    counts = np.zeros((count, width), dtype=np.int64)
    for lo, r in zip(range(0, count, batch_size), runs):
        counts[lo:lo + r.counts.shape[0], :r.counts.shape[1]] = r.counts
    return RuleRun(np.concatenate([r.tokens for r in runs]), None, np.concatenate([r.nfe for r in runs]), counts)


__all__ = ["INTERVAL_METHODS", "RESAMPLES", "Interval", "IntervalMethod", "SamplerComparison", "SamplerEstimate", "SamplerPlan", "SamplerShard", "compare_samplers",
           "evaluate_sampler", "fixed_passes", "mean_interval", "merge_sampler_shards", "plan_sampler", "run_sampler_shard", "sample_with_rule"]
