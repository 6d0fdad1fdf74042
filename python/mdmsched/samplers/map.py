"""The KL-vs-NFE map (SPEC §5.2): every sampler family over its sweep, scored by teacher forcing on one model and one
set of data rows, next to the optimal random-order frontier of the same model and rows.

All numbers sit on one axis, the expected NLL sum per row ``E[-log nu(x)]`` (nats), which is the expected KL to the
data plus the constant ``H(mu)``: differences are exact without knowing ``H(mu)``; with ``entropy = H(mu)`` the absolute
KL is reported too.

Which KL: the *forward* ``KL(mu || nu)`` of the data's law ``mu`` against the sampler's output law ``nu``, averaged over the
sampler's own randomness (SPEC §5.2 "Which KL"). It is mass-covering: it punishes a sampler that cannot produce what
the data produces. Factorised parallel decoding can make the *reverse* KL ``KL(nu || mu)`` (incoherent outputs)
arbitrarily large while this one stays small (arXiv 2602.00286), so a map made with ``task=`` also puts task accuracy
of real generations beside it and says whether the KL ranking predicts the accuracy ranking at equal forward passes
(:meth:`SamplerMap.kl_predicts_accuracy`).
"""

from __future__ import annotations

import json
import math
from collections.abc import Sequence
from concurrent.futures import Executor
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray

from .._validation import as_confidence, as_data_rows, as_tolerance
from ..models.estimate import BlockCurveEstimate, CurveEstimate, estimate_block_curves, estimate_curve
from ..models.interface import StateModel
from ..solve import error_frontier
from .agreement import AGREEMENT_RESAMPLES, RankAgreement, accuracy_tpf_area, rank_agreement
from .evaluate import SamplerEstimate, mean_interval, plan_sampler
from .families import FAMILY_NAMES, Family, default_family
from .loop import block_lengths
from .sweep import evaluate_sweep
from .task import Task, TaskEstimate, TaskPlan, evaluate_task, plan_task


@dataclass(frozen=True)
class MapRow:
    """One (family, hyperparameter) point: ``nfe`` mean forward passes per row, ``tokens_per_forward`` = ``n / nfe``,
    ``nll`` the mean NLL sum per row (nats; expected KL up to ``H(mu)``), ``stderr`` its standard error, ``kl`` the
    absolute expected KL ``nll - H(mu)`` when the map was given ``entropy`` (else None); ``estimate`` the full
    :class:`~mdmsched.samplers.evaluate.SamplerEstimate` (per-row values for paired comparisons)."""

    family: str
    parameter: str
    value: float
    rule: str
    nfe: float
    tokens_per_forward: float
    nll: float
    stderr: float
    kl: float | None
    estimate: SamplerEstimate = field(repr=False, compare=False)
    accuracy: float | None = None
    lower: float | None = None
    upper: float | None = None
    task_nfe: float | None = None
    task_tokens_per_forward: float | None = None
    task: TaskEstimate | None = field(default=None, repr=False, compare=False)

    def to_dict(self) -> dict[str, Any]:
        """The row as plain JSON-ready values (no estimate); the task columns when the map has a task."""
        out = {"family": self.family, "parameter": self.parameter, "value": self.value, "rule": self.rule,
               "nfe": self.nfe, "tokens_per_forward": self.tokens_per_forward, "nll": self.nll,
               "stderr": self.stderr, "kl": self.kl}
        if self.accuracy is not None:
            out.update(accuracy=self.accuracy, lower=self.lower, upper=self.upper, task_nfe=self.task_nfe,
                       task_tokens_per_forward=self.task_tokens_per_forward)
        return out


@dataclass(frozen=True)
class MapVerdict:
    """:meth:`SamplerMap.verdict`: the observed ``best`` row within the budget, the rows ``tied`` with it (not
    separable at ``confidence``, paired), the ``recommended`` one (the simplest of the tied) and the ``reason``."""

    best: MapRow
    tied: tuple[MapRow, ...]
    recommended: MapRow
    reason: str
    confidence: float


@dataclass(frozen=True)
class SamplerMap:
    """The map: ``rows`` (one :class:`MapRow` per family and hyperparameter, in sweep order) and the optimal
    random-order frontier ``frontier_nll[j]`` (nats) at ``frontier_nfe[j]`` forward passes, on the same axis.

    The frontier is ``opt_K(Z^g) + C`` where ``C = sum_m g_m`` (per block, summed), estimated from the same model and
    rows: a random-order schedule's expected NLL sum is ``err(Z^g, s) + sum_m g_m`` (SPEC §5.1: ``E KL = err(Z^g, s) +
    L_n`` with ``L_n = sum_m g_m - H(mu)``, plus ``H(mu)``). ``C`` is computed as ``n g_0 - sum_i Z^g_i`` on the
    projected curve, so ``frontier_nll`` at one pass is ``n g_0`` (reveal all at once) and at ``n`` passes ``C`` (one
    token per pass). With blocks the ``K`` passes are split optimally across blocks (``K`` from the number of blocks to
    ``n``). ``entropy``: ``H(mu)`` if given (then ``kl = nll - entropy`` everywhere). ``curve``: the estimate the
    frontier came from (None when ``frontier=False``). ``row_forwards``: rows the model scored for the rules (the
    shared sweep's distinct states); ``separate_row_forwards``: the planned count (bound, for adaptive rules) had
    each rule been evaluated alone.

    Every KL here is the forward ``KL(mu || nu)``: data law against the sampler's output law, averaged over the
    sampler's randomness (mass-covering; the reverse KL of factorised parallel decoding can be arbitrarily larger,
    arXiv 2602.00286). With a task (``sampler_map(..., task=)``) every row also holds ``accuracy`` with its clustered
    interval ``[lower, upper]`` and the task's NFE, from :func:`~mdmsched.samplers.task.evaluate_task`.
    """

    rows: tuple[MapRow, ...]
    n: int
    block_length: int | None
    frontier_nfe: NDArray[np.int64] = field(repr=False)
    frontier_nll: NDArray[np.float64] = field(repr=False)
    frontier_offset: float
    entropy: float | None = None
    curve: CurveEstimate | BlockCurveEstimate | None = field(default=None, repr=False)
    row_forwards: int = 0
    separate_row_forwards: int = 0

    @property
    def families(self) -> list[str]:
        """Family names in first-seen order."""
        return list(dict.fromkeys(row.family for row in self.rows))

    def family(self, name: str) -> list[MapRow]:
        """The rows of one family, in sweep order."""
        if not isinstance(name, str):
            raise TypeError(f"name must be a family name (str), got {type(name).__name__} {name!r}")
        found = [row for row in self.rows if row.family == name]
        if not found:
            raise ValueError(f"no family {name!r} in this map (families: {self.families})")
        return found

    @property
    def frontier_kl(self) -> NDArray[np.float64] | None:
        """The frontier as absolute expected KL (nats), when ``entropy`` is known."""
        return None if self.entropy is None else self.frontier_nll - self.entropy

    def best(self, nfe: float) -> MapRow:
        """The row with the lowest mean NLL among those with mean NFE ``<= nfe``; ``ValueError`` when none is that
        fast. The minimum of many noisy estimates is biased low (SPEC §5.3): re-score the winner on rows not used
        here (``compare_samplers``) before quoting its KL. O(rows)."""
        budget = as_tolerance(nfe, "nfe")
        fast = [row for row in self.rows if row.nfe <= budget * (1 + 1e-12)]
        if not fast:
            fastest = min(row.nfe for row in self.rows) if self.rows else math.nan
            raise ValueError(f"no sampler in the map runs in <= {budget:g} forward passes (fastest: {fastest:g})")
        return min(fast, key=lambda row: row.nll)

    @property
    def has_task(self) -> bool:
        """Whether the rows carry task accuracy (the map was made with ``task=``)."""
        return bool(self.rows) and all(row.task is not None for row in self.rows)

    def _task_rows(self) -> list[TaskEstimate]:
        if not self.has_task:
            raise ValueError("this map has no task: make it with sampler_map(..., task=Task(...))")
        return [row.task for row in self.rows if row.task is not None]

    def kl_predicts_accuracy(self, *, budgets: Sequence[float] | None = None, confidence: float = 0.95,
                             resamples: int = AGREEMENT_RESAMPLES, seed: int = 0) -> RankAgreement:
        """Whether KL predicts accuracy on this task: Kendall's tau between the rows' KL ranking and accuracy ranking
        within NFE budgets (``budgets``: NFE edges; default geometric bins of ratio ``BUDGET_RATIO`` over the rows'
        teacher-forced mean NFE), pooled by number of pairs, with a bootstrap interval over prompts and data rows
        (:func:`~mdmsched.samplers.agreement.rank_agreement`). ``str()`` of the result says it in words."""
        tasks = self._task_rows()
        return rank_agreement([row.nfe for row in self.rows], np.stack([row.estimate.nll_rows for row in self.rows]),
                              np.stack([t.prompt_accuracies for t in tasks]), budgets=budgets,
                              confidence=confidence, resamples=resamples, seed=seed)

    def accuracy_tpf_area(self) -> dict[str, float]:
        """Per family: the trapezoid area under accuracy against the task's tokens per forward (a plain area, not
        d3LLM's AUP)."""
        self._task_rows()
        out = {}
        for name in self.families:
            tasks = [r.task for r in self.family(name) if r.task is not None]
            out[name] = accuracy_tpf_area([t.tokens_per_forward for t in tasks], [t.accuracy for t in tasks])
        return out

    def verdict(self, nfe: float, *, confidence: float = 0.95) -> MapVerdict:
        """Which samplers within ``nfe`` mean passes the data can tell apart. ``best`` is :meth:`best`; ``tied`` the
        rows (best included) whose paired difference to it (same rows, same seeds; normal interval at
        ``confidence``) does not exclude 0 -- statistically indistinguishable from the best; ``recommended`` the
        simplest of them: the equal split with random positions (family ``"random"``) if tied, else the cheapest
        (lowest NFE); ``reason`` says which and why. Ties are judged against the observed best, itself the minimum
        of noisy estimates (SPEC §5.3): more rows separate them (how many:
        :meth:`~mdmsched.samplers.evaluate.SamplerComparison.rows_to_detect`). O(rows N)."""
        best = self.best(nfe)
        level = as_confidence(confidence)
        tied = []
        for row in self.rows:
            if row.nfe > as_tolerance(nfe, "nfe") * (1 + 1e-12):
                continue
            if row is best:
                tied.append(row)
                continue
            diff = mean_interval(row.estimate.nll_rows - best.estimate.nll_rows, confidence=level, method="normal")
            if diff.lower <= 0.0:
                tied.append(row)
        equal = [row for row in tied if row.family == "random"]
        if len(tied) == 1:
            pick, why = best, "the only sampler the data separate from every other within the budget"
        elif equal:
            pick = min(equal, key=lambda row: (row.nfe, row.nll))
            why = (f"{len(tied)} samplers are indistinguishable from the best at {level:.0%} (paired, same rows); "
                   "the equal split with random positions is among them and is the simplest")
        else:
            pick = min(tied, key=lambda row: (row.nfe, row.nll))
            why = (f"{len(tied)} samplers are indistinguishable from the best at {level:.0%} (paired, same rows); "
                   f"the cheapest of them (mean NFE {pick.nfe:.3g}) is recommended")
        return MapVerdict(best, tuple(tied), pick, why, level)

    def to_dict(self) -> dict[str, Any]:
        """Rows and frontier as plain JSON-ready values (and, with a task, the rank agreement and areas)."""
        kl = self.frontier_kl
        out: dict[str, Any] = {
            "n": self.n, "block_length": self.block_length, "entropy": self.entropy, "units": "nats",
            "kl_direction": "KL(data || sampler), averaged over the sampler's randomness",
            "rows": [row.to_dict() for row in self.rows],
            "frontier": {"nfe": self.frontier_nfe.tolist(), "nll": self.frontier_nll.tolist(),
                         "kl": None if kl is None else kl.tolist(), "offset": self.frontier_offset}}
        if self.has_task:
            agree = self.kl_predicts_accuracy()
            out["kl_predicts_accuracy"] = {"tau": agree.tau, "lower": agree.lower, "upper": agree.upper,
                                           "confidence": agree.confidence, "summary": str(agree)}
            out["accuracy_tpf_area"] = self.accuracy_tpf_area()
        return out

    def to_json(self) -> str:
        """Strict JSON of :meth:`to_dict` (no NaN or Infinity: a non-finite number, e.g. the standard error of a
        single row, becomes null)."""
        def clean(value: Any) -> Any:
            if isinstance(value, dict):
                return {k: clean(v) for k, v in value.items()}
            if isinstance(value, list):
                return [clean(v) for v in value]
            if isinstance(value, float) and not math.isfinite(value):
                return None
            return value

        return json.dumps(clean(self.to_dict()), allow_nan=False)

    def __repr__(self) -> str:
        return (f"SamplerMap(n={self.n}, {len(self.rows)} rows over {self.families}, frontier over "
                f"{self.frontier_nfe.size} budgets)")


def _families(families: Sequence[str | Family] | str | Family | None, lengths: Sequence[int]) -> list[Family]:
    if families is None:
        return [default_family(name, lengths) for name in FAMILY_NAMES]
    items = [families] if isinstance(families, (str, Family)) else families
    if isinstance(items, Sequence) and not isinstance(items, bytes) and not items:
        raise ValueError("families must name at least one family")
    if not isinstance(items, Sequence) or isinstance(items, bytes):
        raise TypeError(f"families must be a non-empty sequence of names {FAMILY_NAMES} or Family objects, got "
                        f"{type(families).__name__}")
    out = [item if isinstance(item, Family) else default_family(item, lengths) for item in items]
    names = [f.name for f in out]
    if len(set(names)) != len(names):
        raise ValueError(f"families must have distinct names, got {names}")
    return out


def combined_frontier(frontiers: Sequence[NDArray[np.float64]]) -> NDArray[np.float64]:
    """``min sum_b f_b(k_b)`` over ``sum_b k_b = K``, ``k_b >= 1``, for ``K = L..sum_b len(f_b)`` (``f_b[k-1]`` =
    block ``b``'s cost with ``k`` steps). Exact for convex non-increasing ``f_b`` (optimal frontiers are): the
    largest marginal gains are taken first. O(n log n)."""
    start = float(sum(f[0] for f in frontiers))
    gains = np.sort(np.concatenate([f[:-1] - f[1:] for f in frontiers]))[::-1]
    return np.concatenate(([start], start - np.cumsum(gains)))


def _frontier(model: Any, rows: NDArray[np.int64], region: ArrayLike | None, block_length: int | None, seed: int,
              grid: ArrayLike | None, reps: int, executor: Executor | None
              ) -> tuple[NDArray[np.int64], NDArray[np.float64], float, CurveEstimate | BlockCurveEstimate]:
    """Frontier passes, expected NLL sums and the constant ``C`` from the model's cross-entropy curve(s)."""
    if block_length is None:
        single = estimate_curve(model, rows, region=region, grid=grid, reps=reps, seed=seed, executor=executor)
        curves: list[CurveEstimate] = [single]
        estimate: CurveEstimate | BlockCurveEstimate = single
    else:
        blocks = estimate_block_curves(model, rows, block_length=block_length, region=region, grid=grid, reps=reps,
                                       seed=seed, executor=executor)
        curves, estimate = list(blocks.curves), blocks
    offset = float(sum(c.n * c.h[0] - c.Z.sum() for c in curves))
    errors = combined_frontier([error_frontier(c.Z) for c in curves])
    passes = np.arange(len(curves), len(curves) + errors.size, dtype=np.int64)
    return passes, errors + offset, offset, estimate


def frontier_of(model: Any, rows: NDArray[np.int64], region: ArrayLike | None, block_length: int | None, seed: int,
                executor: Executor | None = None) -> tuple[NDArray[np.int64], NDArray[np.float64]]:
    """The optimal random-order frontier of ``model`` on ``rows``: passes ``K`` and the expected NLL sum (nats) at
    each, as :func:`sampler_map` draws it (default grid, one rep). Cost: the curve estimate."""
    passes, nll, _, _ = _frontier(model, rows, region, block_length, seed, None, 1, executor)
    return passes, nll


def sampler_map(model: StateModel | Any, data: ArrayLike, families: Sequence[str | Family] | str | Family | None = None,
                *, region: ArrayLike | None = None, block_length: int | None = None, seed: int = 0,
                entropy: float | None = None, frontier: bool = True, grid: ArrayLike | None = None, reps: int = 1,
                batch_size: int = 64, executor: Executor | None = None, progress: bool | Any = False,
                task: Task | None = None, cache_bytes: int | None = None) -> SamplerMap:
    """Score every rule of every family on ``model`` and the data rows ``data`` (N x length tokens) by teacher forcing,
    and the optimal random-order frontier of the same model and rows (see :class:`SamplerMap`).

    ``families``: names from ``FAMILY_NAMES`` (default: all seven, each with its default sweep; see
    :func:`~mdmsched.samplers.families.default_family`) and/or :class:`~mdmsched.samplers.families.Family` objects. ``region`` /
    ``block_length`` / ``seed`` / ``batch_size`` / ``executor`` go to every :func:`evaluate_sampler` call, so all rows
    are paired (same data, same per-row seeds). ``entropy``: ``H(mu)`` in nats (for prompts: the answer's entropy given
    the prompt) for absolute KLs. ``frontier=False`` skips the curve (needed when the model only has
    ``score_states``); ``grid`` / ``reps`` go to :func:`~mdmsched.models.estimate_curve`. ``task``: a
    :class:`~mdmsched.samplers.task.Task`; every rule is then also run by real generation on its prompts
    (:func:`~mdmsched.samplers.task.evaluate_task`, same ``block_length``, ``seed``, ``batch_size``, ``executor``), adding
    ``accuracy``, ``lower``, ``upper`` and the task's NFE to each row.

    The KL is the forward ``KL(mu || nu)`` (data law against the sampler's output law, averaged over the sampler's
    randomness; SPEC §5.2 "Which KL"); teacher-forced scoring is DUEL's exact per-sequence likelihood (arXiv
    2603.01367) in expectation over the sampler's randomness.

    The rules run as one shared sweep (:func:`~mdmsched.samplers.sweep.evaluate_sweep`): every distinct
    teacher-forced state of a batch is scored once for all (family, value) points, within ``cache_bytes`` (default
    1 GiB); each row equals evaluating its rule alone, bit for bit. ``progress``: True prints the sweep's planned
    row-forwards and a bar over batches ("teacher-forcing N rules"), a callable gets ``(done, total)`` batches; the
    frontier's curve estimate runs after it. Cost: the distinct states, at most ``rows x n`` per rule (the map's
    defaults on the Markov example at n = 256, 64 rows: 5.5x fewer row-forwards than rule by rule, see
    BENCHMARKS.md), plus the curve estimate (``ceil(G N reps / 256)`` calls per block).
    """
    rows = as_data_rows(data)
    plan = plan_sampler(rows.shape, region=region, block_length=block_length, seed=seed, batch_size=batch_size)
    lengths = block_lengths(plan.n, plan.block_length)
    chosen = _families(families, lengths)
    h = None if entropy is None else as_tolerance(entropy, "entropy")
    if task is not None and not isinstance(task, Task):
        raise TypeError(f"task must be a mdmsched.samplers.Task, got {type(task).__name__}")
    task_plan = None if task is None else _task_plan(task, block_length, seed, batch_size)
    if task_plan is not None and task_plan.n != plan.n:
        raise ValueError(f"the task generates {task_plan.n} positions per prompt but the data rows {plan.n}: the "
                         "rules are built for one block layout, so give the task the data's region size")
    points = [(family, value, family.rule(value, lengths)) for family in chosen for value in family.values]
    sweep = evaluate_sweep(model, rows, [rule for _, _, rule in points], plan=plan, cache_bytes=cache_bytes,
                           executor=executor, progress=progress)
    out = [MapRow(family.name, family.parameter, float(value), repr(rule), est.nfe, est.tokens_per_forward, est.nll,
                  est.stderr, None if h is None else est.nll - h, est)
           for (family, value, rule), est in zip(points, sweep.estimates)]
    if task is not None:  # real generation for the accuracy axis: one evaluate_task per rule, the task's own plan
        for i, (_, _, rule) in enumerate(points):
            got = evaluate_task(model, task.prompts, rule, task.score, references=task.references,
                                decode=task.decode, executor=executor, plan=task_plan)
            out[i] = replace(out[i], accuracy=got.accuracy, lower=got.lower, upper=got.upper, task_nfe=got.nfe,
                             task_tokens_per_forward=got.tokens_per_forward, task=got)
    if frontier:
        passes, nll, offset, curve = _frontier(model, rows, region, plan.block_length, seed, grid, reps, executor)
    else:
        passes, nll, offset, curve = np.zeros(0, dtype=np.int64), np.zeros(0), math.nan, None
    return SamplerMap(tuple(out), plan.n, plan.block_length, passes, nll, offset, h, curve, sweep.row_forwards,
                      sweep.plan.separate)


def _task_plan(task: Task, block_length: int | None, seed: int, batch_size: int) -> TaskPlan:
    prompts = np.asarray(task.prompts)
    if prompts.ndim != 2:
        raise ValueError(f"task.prompts must be a 2-D array (P x length), got shape {prompts.shape}")
    return plan_task(prompts.shape, samples_per_prompt=task.samples_per_prompt, region=task.region,
                     block_length=block_length, seed=seed, batch_size=batch_size)


__all__ = ["MapRow", "MapVerdict", "SamplerMap", "combined_frontier", "frontier_of", "sampler_map"]
