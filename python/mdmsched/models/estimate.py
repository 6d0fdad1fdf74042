"""Curves of a trained model (SPEC §5, §5.1): the masked cross-entropy ``g_m`` (or predictive entropy ``h^q_m``) of a model
with ``m`` random positions revealed, and from it ``Z_i = g_0 - g_{i-1}``, with error bars for any schedule.

The work is a list of independent *jobs* ``(grid point g, data row r)``, one model row each per repetition; a job reveals
``m_g`` random generated positions of row ``r`` and averages the model's per-position numbers over the still-masked ones.

Estimators (``estimator=``):

* ``"nested"`` (default): one random order per row and repetition, shared by every grid point (nested masks: level
  ``m_{g+1}`` reveals the first ``m_{g+1}`` of the same order). Job ``(g, r)`` reports two averages from its one forward
  pass: over the positions masked at ``m_g`` (an unbiased ``g_{m_g}``) and over those still masked at ``m_{g+1}``.
  Row ``r``'s increment ``g_{m_g} - g_{m_{g+1}}`` is estimated on the positions masked at **both** levels (paired:
  the same tokens scored with more context), which removes most per-row noise; each is unbiased, because a uniformly
  random position outside the first ``m_{g+1}`` is a uniformly random position outside the first ``m_g``. Levels are
  ``g_0`` minus the row's summed increments (unbiased too).
* ``"independent"``: every job draws its own order (the estimator before issue 20; kept for comparison).
* ``"neighbour_cv"``: nested plus ``min(4, n)`` order-free forwards per row that measure how revealing each
  position's neighbour changes its score, subtracted as a control variate with known mean (its coefficient fitted on
  the other half of the rows; unbiased), for learned models whose rare tokens lose 10+ nats while a neighbour is
  masked: see :class:`~mdmsched.models.estimators.NeighbourEstimator`.

The job list and each job's randomness are a pure function of ``(seed, data shape, grid, reps, estimator)``, so the work
can be split into shards, run anywhere (:func:`run_shard`) and merged (:func:`merge_shards`) into the bit-identical
single-process result; a shard carries its plan's fingerprint and is refused by another plan.
"""

from __future__ import annotations

import math
import time
import warnings
from collections.abc import Sequence
from concurrent.futures import Executor
from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray

from .._shards import (
    DEFAULT_SHARDS,
    Progress,
    as_report,
    check_coverage,
    check_shard_batches,
    fingerprint,
    progress_bar,
    run_shards,
    shard_ranges,
    stage_report,
)
from .._validation import (
    as_choice,
    as_count,
    as_data_rows,
    as_free_positions,
    as_int,
    as_seed,
    as_shape_pair,
    as_tolerance,
    require_memory,
)
from .curve_estimate import (
    BlockCurveEstimate,
    CurveEstimate,
    ErrorEstimate,
    FlatCurveWarning,
    NonMonotoneWarning,
    curve_from_samples,
)
from .estimators import ESTIMATORS, Estimator, EstimatorName, make_estimator
from .interface import MaskedModel, Target, as_masked_model, as_target, check_scores, model_inputs

#: Default batch: one call's logits (rows x length x vocab, 2-byte bf16) within this many bytes, 1..256 rows.
LOGITS_BUDGET_BYTES = 2**30
#: Vocabulary assumed for the default batch when the model does not say (a typical LLM tokenizer).
ASSUMED_VOCAB = 32_000
MAX_DEFAULT_BATCH = 256

#: Default number of grid points when ``n`` is larger (every ``m`` below it is measured exactly).
DEFAULT_GRID_POINTS = 32


def default_grid(n: int, points: int = DEFAULT_GRID_POINTS) -> NDArray[np.int64]:
    """Revealed counts ``m``: every ``m = 0..n-1`` when ``n <= points``, else ``points`` evenly spaced values incl. both ends.

    ``n >= 1`` and ``points >= 2`` are integers (``ValueError``/``TypeError`` otherwise); ``n`` up to ``2**62``."""
    n, points = as_count(n, "n", 1, 2**62), as_count(points, "points", 2)  # both ends of the grid
    require_memory(16 * min(n, points), f"a grid of {min(n, points)} revealed counts")
    if n <= points:
        return np.arange(n, dtype=np.int64)
    if n - 1 <= 2**53:  # float64 holds every count exactly
        return np.unique(np.round(np.linspace(0, n - 1, points)).astype(np.int64))
    # Beyond 2**53 linspace rounds n - 1 up to n (off the grid): the same values, rounded half to even, in integers.
    span = points - 1
    counts = []
    for i in range(points):
        q, r = divmod(i * (n - 1), span)
        counts.append(q + (2 * r > span or (2 * r == span and q % 2 == 1)))
    return np.unique(np.asarray(counts, dtype=np.int64))


# ---- plan -> run anywhere -> merge -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class EstimatePlan:
    """What to run: pure data, picklable, the same on every worker; validated when built (also by hand).

    ``free`` (N x n, or 1 x n when every row has the same layout) lists each row's generated positions in the order they
    are counted (the curve's positions); ``hidden`` (N or 1 x length bool, or None) marks positions masked in every call
    and never scored (later blocks). Job ``j = g * N + r`` is grid point ``grid[g]`` on row ``r`` (``g >= len(grid)``:
    the estimator's order-free state ``g - len(grid)``, ``"neighbour_cv"`` only); batch ``b`` holds jobs
    ``b * jobs_per_batch ...``. Randomness: ``"nested"`` and ``"neighbour_cv"`` draw row ``r``'s orders from
    ``default_rng([seed, stream, r])`` (shared by its grid points), ``"independent"`` job ``(g, r)``'s from
    ``default_rng([seed, stream, g, r])``; so results do not depend on batching or sharding. ``model_calls`` is the number of forward passes the plan costs.
    """

    length: int
    rows: int
    free: NDArray[np.int64]
    hidden: NDArray[np.bool_] | None
    grid: NDArray[np.int64]
    reps: int
    jobs_per_batch: int
    seed: int
    target: Target
    stream: int = 0
    estimator: EstimatorName = "nested"

    def __post_init__(self) -> None:
        _check_plan(self)

    @property
    def n(self) -> int:
        """Generated positions per row."""
        return int(self.free.shape[1])

    @property
    def points(self) -> int:
        """Jobs per data row: the grid points and the estimator's order-free states."""
        return int(self.grid.size + make_estimator(self.estimator).extra_states(self.n))

    @property
    def num_jobs(self) -> int:
        """``points * N`` (``len(grid) * N`` unless the estimator adds states)."""
        return self.points * self.rows

    @property
    def num_batches(self) -> int:
        """Model calls of ``reps * jobs_per_batch`` rows each (the last may be smaller)."""
        return -(-self.num_jobs // self.jobs_per_batch)

    @property
    def model_calls(self) -> int:
        """Forward passes this plan costs (one per batch)."""
        return self.num_batches

    @property
    def fingerprint(self) -> str:
        """A digest of everything that decides the job values (grid, target, region, reps, seed, estimator, ...)."""
        return fingerprint("estimate", self.length, self.rows, self.reps, self.jobs_per_batch, self.seed, self.target,
                           self.stream, self.estimator, self.free, self.grid, self.hidden)

    def cost(self) -> str:
        """One line: forward passes, rows per pass and what they are made of (before anything runs)."""
        rows = min(self.reps * self.jobs_per_batch, self.reps * self.num_jobs)
        return (f"{self.model_calls} model calls (forward passes) of up to {rows} rows x {self.length} positions: "
                f"{self.points} points x {self.rows} data rows x {self.reps} reps, {self.estimator} estimator")

    def shards(self, count: int) -> list[range]:
        """``count`` contiguous, near-equal ranges of batch indices covering every batch once (empty ones dropped)."""
        return shard_ranges(self.num_batches, count)


@dataclass(frozen=True)
class ShardResult:
    """Job values of a contiguous run of batches, to be placed by :func:`merge_shards`: ``values`` is one number per job
    (``"independent"``) or two (``"nested"``: the averages at its level over positions masked there and over those
    masked at the next grid point), then ``len(grid) - 1`` corrections (``"neighbour_cv"``); ``plan`` is the
    fingerprint of the plan it was run under."""

    batches: range
    first_job: int
    values: NDArray[np.float64]
    model_calls: int
    model_seconds: float
    plan: str


def _check_plan(plan: EstimatePlan) -> None:
    """A plan whose arrays fit together (``ValueError``/``TypeError`` naming the field, never an ``IndexError`` later)."""
    for name in ("length", "rows", "reps", "jobs_per_batch", "seed", "stream"):
        as_int(getattr(plan, name), name)
    if plan.length < 1 or plan.rows < 2 or plan.reps < 1 or plan.jobs_per_batch < 1 or plan.seed < 0 or plan.stream < 0:
        raise ValueError(f"plan needs length >= 1, rows >= 2, reps >= 1, jobs_per_batch >= 1, seed >= 0 and stream >= 0, "
                         f"got {plan.length}, {plan.rows}, {plan.reps}, {plan.jobs_per_batch}, {plan.seed}, "
                         f"{plan.stream}")
    as_target(plan.target)
    as_choice(plan.estimator, "estimator", ESTIMATORS)
    free, grid = plan.free, plan.grid
    if not isinstance(free, np.ndarray) or free.dtype.kind not in "iu" or free.ndim != 2:
        raise TypeError("plan.free must be a 2-D integer array of generated positions")
    if free.shape[0] not in (1, plan.rows) or not 1 <= free.shape[1] <= plan.length:
        raise ValueError(f"plan.free must have shape (1 or {plan.rows}, 1..{plan.length}), got {free.shape}")
    if free.min() < 0 or free.max() >= plan.length:
        raise ValueError(f"plan.free must hold positions in 0..{plan.length - 1}, got {free.min()}..{free.max()}")
    if free.shape[1] > 1 and (np.diff(np.sort(free, axis=1), axis=1) == 0).any():
        raise ValueError("plan.free lists a position twice in one row")
    if not isinstance(grid, np.ndarray) or grid.dtype.kind not in "iu" or grid.ndim != 1 or grid.size == 0:
        raise TypeError("plan.grid must be a non-empty 1-D integer array of revealed counts")
    n = free.shape[1]
    if grid[0] != 0 or grid[-1] != n - 1 or (grid.size > 1 and (np.diff(grid) <= 0).any()):
        raise ValueError(f"plan.grid must be increasing from 0 to n - 1 = {n - 1}, got {grid.tolist()[:8]}...")
    hidden = plan.hidden
    if hidden is not None and (not isinstance(hidden, np.ndarray) or hidden.dtype != np.bool_
                               or hidden.shape not in ((1, plan.length), (plan.rows, plan.length))):
        raise ValueError(f"plan.hidden must be None or booleans of shape (1 or {plan.rows}, {plan.length})")


def _as_grid(grid: ArrayLike | None, n: int) -> NDArray[np.int64]:
    """Sorted unique revealed counts, always including 0 and ``n - 1`` (they anchor ``Z`` and the brackets)."""
    if grid is None:
        return default_grid(n)
    arr = np.asarray(grid)
    if arr.dtype.kind not in "iu" and (
        arr.dtype.kind == "b" or arr.dtype.kind not in "f" or not np.all(np.isfinite(arr)) or np.any(arr != np.round(arr))
    ):
        raise TypeError(f"grid must hold integers (revealed counts), got {arr.dtype} {arr!r}")
    if arr.ndim != 1 or arr.size == 0:
        raise ValueError(f"grid must be a non-empty 1-D list of revealed counts, got shape {arr.shape}")
    if arr.min() < 0 or arr.max() > n - 1:
        raise ValueError(f"grid must hold revealed counts in 0..{n - 1}, got {arr.min()}..{arr.max()}")
    return np.unique(np.concatenate(([0, n - 1], arr.astype(np.int64))))


def default_batch_size(length: int, vocab: int | None = None) -> int:
    """Rows per model call when ``batch_size`` is not given: the most rows whose logits (``rows x length x vocab`` at 2
    bytes, bf16) fit in ``LOGITS_BUDGET_BYTES`` (1 GiB), between 1 and 256. ``vocab`` defaults to 32,000. An 8B
    LLaDA (vocab 126,464) at 1024 positions gets 4 rows; a 2-symbol toy model 256."""
    q = ASSUMED_VOCAB if vocab is None else max(1, as_int(vocab, "vocab"))
    return int(min(MAX_DEFAULT_BATCH, max(1, LOGITS_BUDGET_BYTES // (2 * max(1, length) * q))))


def model_vocab(model: Any) -> int | None:
    """The model's vocabulary size when it says (``vocab_size``, ``q``, or ``vocab_stop - vocab_start``)."""
    for name in ("vocab_size", "q"):
        value = getattr(model, name, None)
        if isinstance(value, (int, np.integer)) and not isinstance(value, bool) and value > 0:
            return int(value)
    start, stop = getattr(model, "vocab_start", None), getattr(model, "vocab_stop", None)
    if isinstance(start, int) and isinstance(stop, int) and stop > start:
        return stop - start
    return None


def plan_estimate(data_shape: tuple[int, int], *, region: ArrayLike | None = None, grid: ArrayLike | None = None,
                  reps: int = 1, batch_size: int | None = None, seed: int | None = None,
                  target: Target = "cross_entropy", hidden: NDArray[np.bool_] | None = None,
                  stream: int = 0, estimator: EstimatorName = "nested", vocab: int | None = None) -> EstimatePlan:
    """The job list of :func:`estimate_curve` for data of shape ``(N, length)`` (see :class:`EstimatePlan`).

    ``seed=None`` draws a fresh seed once; the plan records it, so every shard agrees. ``batch_size=None``:
    :func:`default_batch_size` from ``length`` and ``vocab``. ``plan.model_calls`` / ``plan.cost()`` say what it costs.
    """
    shape = as_shape_pair(data_shape, "data_shape", "N", "length", minimum_rows=0)
    if shape[0] < 2 or shape[1] < 1:
        raise ValueError(f"data must be N x length with N >= 2, got shape {shape}")
    require_memory(16 * shape[1], "the generated positions")  # before the first array of length ``length``
    free = as_free_positions(region, shape)
    n = free.shape[1]
    points = _as_grid(grid, n)
    chosen = as_choice(estimator, "estimator", ESTIMATORS)
    if batch_size is None:
        batch_size = default_batch_size(shape[1], vocab)
    reps, batch_size = as_count(reps, "reps"), as_count(batch_size, "batch_size")
    strategy = make_estimator(chosen)
    jobs = (points.size + strategy.extra_states(n)) * shape[0]
    require_memory(8 * math.prod(strategy.values_shape(jobs, points.size)) + 16 * free.size, "the estimation jobs")
    per_call = reps * min(max(1, batch_size // reps), jobs)  # rows in one model call
    require_memory(40 * per_call * shape[1], f"one model call's batch ({per_call} rows of length {shape[1]})")
    base = as_seed(seed, generators=False)
    if base is None:
        base = int(np.random.SeedSequence().entropy)  # type: ignore[arg-type]
    lane = as_count(stream, "stream", 0)
    return EstimatePlan(shape[1], shape[0], np.ascontiguousarray(free), _as_hidden(hidden, shape), points, reps,
                        max(1, batch_size // reps), base, as_target(target), lane, chosen)  # type: ignore[arg-type]


def _as_hidden(hidden: ArrayLike | None, shape: tuple[int, int]) -> NDArray[np.bool_] | None:
    """Always-masked positions: None, or bools of shape ``(length,)``, ``(1, length)`` or ``(N, length)`` (2-D out)."""
    if hidden is None:
        return None
    marks = np.asarray(hidden)
    if marks.dtype != np.bool_:
        raise TypeError(f"hidden must be a boolean array (True = always masked), got dtype {marks.dtype}")
    if marks.shape not in ((shape[1],), (1, shape[1]), shape):
        raise ValueError(f"hidden must have shape ({shape[1]},) or ({shape[0]}, {shape[1]}), got {marks.shape}")
    return np.ascontiguousarray(marks.reshape(-1, shape[1]))



def run_shard(model: MaskedModel | Any, data: ArrayLike, plan: EstimatePlan, batches: range | None = None, *,
              progress: Progress | None = None) -> ShardResult:
    """Run the batches ``batches`` (default: all) of ``plan`` on ``model`` and ``data``; the data must be the planned rows.

    ``progress(done, total)`` is called after each model call (see :func:`progress_bar`)."""
    if not isinstance(plan, EstimatePlan):
        raise TypeError(f"plan must be an EstimatePlan (from plan_estimate), got {type(plan).__name__}")
    scorer = as_masked_model(model)
    rows = as_data_rows(data)
    if rows.shape != (plan.rows, plan.length):
        raise ValueError(f"data has shape {rows.shape}, but the plan was made for {(plan.rows, plan.length)}")
    batches = range(plan.num_batches) if batches is None else batches
    if not isinstance(batches, range):
        raise TypeError(f"batches must be a range of batch indices (from plan.shards), got {type(batches).__name__}")
    if batches.step != 1 or batches.start < 0 or batches.stop > plan.num_batches:
        raise ValueError(f"batches must be a contiguous range within 0..{plan.num_batches}, got {batches}")
    first = batches.start * plan.jobs_per_batch
    last = min(batches.stop * plan.jobs_per_batch, plan.num_jobs)
    strategy = make_estimator(plan.estimator)
    values = np.empty(strategy.values_shape(max(0, last - first), plan.grid.size))
    calls, model_seconds = 0, 0.0
    reps = plan.reps
    # the next grid point's count per grid point (the last one: its own, so both averages agree)
    following = np.concatenate((plan.grid[1:], plan.grid[-1:]))
    last_point = plan.grid.size - 1
    for b in batches:
        jobs = np.arange(b * plan.jobs_per_batch, min((b + 1) * plan.jobs_per_batch, plan.num_jobs))
        g_index, row_index = np.divmod(jobs, plan.rows)
        ranks = _ranks(plan, g_index, row_index)
        row_of = np.repeat(row_index, reps)
        tokens = rows[row_of]
        point = np.repeat(g_index, reps)
        on_grid = np.minimum(point, last_point)  # an extra state's level is unused
        level = plan.grid[on_grid]
        masked_free = strategy.masked(ranks, level, point - plan.grid.size)  # the first m of the order are revealed
        if plan.hidden is None and plan.n == plan.length:  # every position generated: the free order is 0..n-1
            mask = masked_free
        else:
            free = plan.free[row_of] if plan.free.shape[0] > 1 else np.broadcast_to(plan.free, masked_free.shape)
            mask = np.zeros(tokens.shape, dtype=bool)
            if plan.hidden is not None:
                mask |= plan.hidden[row_of] if plan.hidden.shape[0] > 1 else plan.hidden
            np.put_along_axis(mask, free, masked_free, axis=1)
        t0 = time.perf_counter()
        raw = scorer.score(*model_inputs(tokens, mask), plan.target)
        model_seconds += time.perf_counter() - t0
        calls += 1
        scores = check_scores(raw, mask)
        if mask is not masked_free:
            scores = np.take_along_axis(scores, free, axis=1)
        scores = np.where(masked_free, scores, 0.0)
        values[jobs[0] - first:jobs[-1] + 1 - first] = strategy.job_values(
            scores, ranks, level, following[on_grid], reps, point=point, grid=plan.grid)
        if progress is not None:
            progress(b - batches.start + 1, len(batches))
    return ShardResult(batches, first, values, calls, model_seconds, plan.fingerprint)


def _ranks(plan: EstimatePlan, g_index: NDArray[np.int64], row_index: NDArray[np.int64]) -> NDArray[np.int64]:
    """Each model row's random order (rank per generated position): a pure function of the plan and the job."""
    n, reps = plan.n, plan.reps
    strategy = make_estimator(plan.estimator)
    ranks = np.empty((g_index.size * reps, n), dtype=np.int64)
    for j, (g, r) in enumerate(zip(g_index.tolist(), row_index.tolist())):
        # nested: one stream per row, shared by its grid points; independent: one stream per job
        rng = np.random.default_rng(strategy.order_key(plan.seed, plan.stream, g, r))
        for rep in range(reps):  # a uniformly random permutation is a uniformly random rank per position
            ranks[j * reps + rep] = rng.permutation(n)
    return ranks


def merge_shards(plan: EstimatePlan, results: Sequence[ShardResult], *, total_seconds: float = 0.0) -> CurveEstimate:
    """Place every shard's job values and compute the estimate; shards must come from this plan (fingerprint) and cover
    every batch exactly once. Warns (:class:`NonMonotoneWarning`) when the data contradict a non-increasing ``g``."""
    total_seconds = as_tolerance(total_seconds, "total_seconds")
    if not isinstance(plan, EstimatePlan):
        raise TypeError(f"plan must be an EstimatePlan (from plan_estimate), got {type(plan).__name__}")
    if isinstance(results, (ShardResult, str, bytes)) or not isinstance(results, Sequence):
        raise TypeError(f"results must be a sequence of ShardResults, got {type(results).__name__}")
    strategy = make_estimator(plan.estimator)
    values = np.full(strategy.values_shape(plan.num_jobs, plan.grid.size), np.nan)
    covered = np.zeros(plan.num_batches, dtype=np.int64)
    for result in results:
        _check_shard(plan, result)
        covered[result.batches.start:result.batches.stop] += 1
        values[result.first_job:result.first_job + result.values.shape[0]] = result.values
    check_coverage(covered)
    samples = strategy.level_samples(values.reshape((plan.points, plan.rows, *values.shape[1:])))
    calls = sum(r.model_calls for r in results)
    seconds = math.fsum(r.model_seconds for r in results)
    estimate = curve_from_samples(samples, plan.grid, plan.target, calls, seconds, total_seconds, plan.seed,
                                  plan.estimator)
    if not estimate.monotone_on_grid:
        warnings.warn("the measured curve rises between grid points beyond noise (monotone_on_grid is False): bounds "
                      "between grid points assume a non-increasing g", NonMonotoneWarning, stacklevel=2)
    return estimate


def _check_shard(plan: EstimatePlan, result: object) -> None:
    """A shard result that fits ``plan``: same plan (fingerprint), batches in the plan, its jobs' finite values, sane
    counters."""
    if not isinstance(result, ShardResult):
        raise TypeError(f"results must be ShardResults (from run_shard), got {type(result).__name__}")
    if result.plan != plan.fingerprint:
        raise ValueError("a shard was run under another plan (its fingerprint differs: grid, target, region, reps, seed "
                         "or estimator changed); re-run it with this plan")
    batches = check_shard_batches(result.batches, plan.num_batches)
    calls, seconds = result.model_calls, result.model_seconds
    if isinstance(calls, bool) or not isinstance(calls, (int, np.integer)) or calls < 0:
        raise ValueError(f"a shard's model_calls must be an integer >= 0, got {calls!r}")
    if isinstance(seconds, bool) or not isinstance(seconds, (int, float, np.floating)) or not math.isfinite(seconds) \
            or seconds < 0:
        raise ValueError(f"a shard's model_seconds must be a finite number >= 0, got {seconds!r}")
    first = batches.start * plan.jobs_per_batch
    count = min(batches.stop * plan.jobs_per_batch, plan.num_jobs) - first
    values = result.values
    strategy = make_estimator(plan.estimator)
    shape = strategy.values_shape(count, plan.grid.size)
    if result.first_job != first or not isinstance(values, np.ndarray) or values.shape != shape:
        raise ValueError(f"a shard of batches {batches} must start at job {first} and hold {count} values {shape}, got "
                         f"job {result.first_job!r} and {np.shape(values)}: was it run with another plan?")
    if values.dtype.kind != "f" or not np.isfinite(values).all():
        raise ValueError(f"a shard of batches {batches} holds non-finite or non-float values")
    averages = strategy.averages(values)
    if averages.size and float(averages.min()) < 0.0:  # averages of per-position nats, each clamped to >= 0 by the run
        raise ValueError(f"a shard of batches {batches} holds negative values (min {float(averages.min())!r}); a run "
                         "only produces averages of non-negative nats: was it edited by hand?")


def _run(model: MaskedModel | Any, rows: NDArray[np.int64], plan: EstimatePlan, executor: Executor | None,
         shards: int | None, report: Progress | None) -> tuple[list[ShardResult], float]:
    """The plan's shards through the one mechanism (:func:`mdmsched._shards.run_shards`): in this process one batch at a
    time (so the bar moves per forward pass), on ``executor`` in ``shards`` pieces (default 8); ``report(done,
    plan.num_batches)`` after each."""
    start = time.perf_counter()
    parts_count = DEFAULT_SHARDS if shards is None else as_count(shards, "shards")  # checked with or without executor
    parts = plan.shards(plan.num_batches if executor is None else parts_count)
    results = run_shards(run_shard, (model, rows, plan), parts, executor=executor, report=report,
                         total=plan.num_batches)
    return results, time.perf_counter() - start


def estimate_curve(model: MaskedModel | Any, data: ArrayLike, *, target: Target = "cross_entropy",
                   region: ArrayLike | None = None, grid: ArrayLike | None = None, reps: int = 1,
                   batch_size: int | None = None, seed: int | None = None, executor: Executor | None = None,
                   shards: int | None = None, estimator: EstimatorName = "nested",
                   progress: bool | Progress = False) -> CurveEstimate:
    """Estimate a model's curve from data rows ``data`` (N x length integer tokens).

    For every revealed count ``m`` on ``grid`` (default: every ``m`` up to 32 generated positions, else 32 evenly spaced
    counts; 0 and ``n - 1`` are always added) and every row (``reps`` random orders each), ``m`` random generated
    positions are revealed and the model's per-position numbers are averaged over the masked ones: one sample of ``g_m``.
    ``estimator="nested"`` (default) shares each row's order across grid points and estimates increments paired on the
    same positions (see the module doc; unbiased, far lower variance); ``"independent"`` is the old estimator;
    ``"neighbour_cv"`` adds ``min(4, n)`` forwards per row and repetition for a control variate that removes most of
    the noise when a token's loss hinges on its neighbour (heavy-tailed learned models; BENCHMARKS.md).

    * ``target="cross_entropy"`` (default) averages ``-log q(x_i | revealed)`` at the true tokens: ``g_m``, the MDM
      validation loss at masking level ``m``. Use it with held-out data from the distribution you want to generate:
      ``Z^g`` is the curve whose optimal schedule minimises the model's expected KL to the data (SPEC §5.1).
    * ``target="entropy"`` averages the predictive entropy: the model's self-curve, the right object for the error
      relative to the model's own distribution, with rows sampled from the model itself.

    ``model``: anything with ``score(tokens, mask, target)`` (e.g. :class:`mdmsched.torch.TorchModel`), or a predictor
    ``predict(tokens, mask) -> probs (B x n x q)`` (wrapped in :class:`~mdmsched.models.ProbabilityModel`).
    ``region``: booleans per position (``(length,)``) or per row (``(N, length)``), True where the answer is generated;
    every other position (the prompt) stays revealed in every call; ``n`` = generated positions per row (equal across
    rows). ``batch_size=None``: :func:`default_batch_size` (one call's bf16 logits within 1 GiB, from the length and the
    model's vocabulary if it says). ``executor``: any ``concurrent.futures.Executor`` (e.g. Dask's
    ``Client.get_executor()``); the result is bit-identical to the single-process run with the same ``seed``; ``model``
    and ``data`` must pickle for process pools. ``progress=True`` prints the cost line first, then a bar with ETA.
    Cost: ``plan_estimate(...).model_calls = ceil(P N / (batch_size // reps))`` forward passes (``P = G`` grid points,
    ``G + min(4, n)`` with ``"neighbour_cv"``) plus O(P N reps n) here.
    """
    rows = as_data_rows(data)
    plan = plan_estimate(rows.shape, region=region, grid=grid, reps=reps, batch_size=batch_size, seed=seed,
                         target=target, estimator=estimator, vocab=model_vocab(model))
    results, seconds = _run(model, rows, plan, executor, shards, as_report(progress, "estimating", plan.cost()))
    return merge_shards(plan, results, total_seconds=seconds)


# ---- blocks (semi-autoregressive generation) ---------------------------------------------------------------------------


def plan_block_estimate(data_shape: tuple[int, int], *, block_length: int, region: ArrayLike | None = None,
                        target: Target = "cross_entropy", grid: ArrayLike | None = None, reps: int = 1,
                        batch_size: int | None = None, seed: int | None = None, estimator: EstimatorName = "nested",
                        vocab: int | None = None) -> list[EstimatePlan]:
    """One plan per block (what :func:`estimate_block_curves` runs): ``sum(p.model_calls for p in plans)`` forward
    passes in all, known before anything runs. Block ``b`` has the prompt and blocks ``< b`` revealed, blocks ``> b``
    always masked (``hidden``), stream ``b + 1``; one seed for all blocks."""
    length = as_count(block_length, "block_length")
    shape = as_shape_pair(data_shape, "data_shape", "N", "length", minimum_rows=0)
    base = plan_estimate(shape, region=region, reps=reps, batch_size=batch_size, seed=seed, target=target,
                         estimator=estimator, vocab=vocab)
    free = base.free
    checked = None if grid is None else _as_grid(grid, 2**62)  # integers >= 0; clipped to each block below
    plans = []
    for b, start in enumerate(range(0, free.shape[1], length)):
        stop = min(start + length, free.shape[1])
        hidden = np.zeros((free.shape[0], shape[1]), dtype=bool)  # one layout for all rows when it is shared
        np.put_along_axis(hidden, free[:, stop:], True, axis=1)
        block_grid = None if checked is None else np.unique(np.clip(checked, 0, stop - start - 1))
        block_region = np.zeros((free.shape[0], shape[1]), dtype=bool)
        np.put_along_axis(block_region, free[:, start:stop], True, axis=1)
        plans.append(plan_estimate(shape, region=block_region[0] if free.shape[0] == 1 else block_region,
                                   grid=block_grid, reps=reps, batch_size=batch_size, seed=base.seed, target=target,
                                   hidden=hidden, stream=b + 1, estimator=estimator, vocab=vocab))
    return plans


def _block_of(ends: NDArray[np.int64], done: int) -> int:
    """The block whose batches are running when ``done`` batches of all blocks are (``ends``: cumulative batches)."""
    return min(int(np.searchsorted(ends, done, side="left")), len(ends) - 1)


def estimate_block_curves(model: MaskedModel | Any, data: ArrayLike, *, block_length: int,
                          region: ArrayLike | None = None, target: Target = "cross_entropy",
                          grid: ArrayLike | None = None, reps: int = 1, batch_size: int | None = None,
                          seed: int | None = None, executor: Executor | None = None, shards: int | None = None,
                          estimator: EstimatorName = "nested", progress: bool | Progress = False) -> BlockCurveEstimate:
    """Per-block curves for semi-autoregressive generation: the generated positions of each row (``region``, default
    all) are cut into blocks of ``block_length`` in order; block ``b`` is estimated as :func:`estimate_curve` does, with
    the prompt and earlier blocks revealed from the data and later blocks masked (so the model predicts their
    marginal). ``grid`` applies within each block (clipped to its length). Same seed rules; the plans and their cost:
    :func:`plan_block_estimate`. The blocks share the data rows, so their bands are calibrated jointly
    (:class:`BlockCurveEstimate`). ``progress=True``: the blocks' cost first, then one bar over every block's
    forward passes, labelled ``block b/B``, with one overall ETA; a callable gets ``(done, total)`` over all blocks."""
    rows = as_data_rows(data)
    plans = plan_block_estimate(rows.shape, block_length=block_length, region=region, target=target, grid=grid,
                                reps=reps, batch_size=batch_size, seed=seed, estimator=estimator,
                                vocab=model_vocab(model))
    # one bar over every block's batches, labelled with the block it is in, with one overall ETA
    ends = np.cumsum([plan.num_batches for plan in plans])
    total, offset = int(ends[-1]), 0
    cost = (f"{len(plans)} blocks, {sum(plan.model_calls for plan in plans)} model calls (forward passes) in all; "
            f"block 1: {plans[0].cost()}")
    report = as_report(progress, lambda done: f"estimating block {_block_of(ends, done) + 1}/{len(plans)}", cost)
    curves = []
    for plan in plans:
        results, seconds = _run(model, rows, plan, executor, shards, stage_report(report, offset, total))
        offset += plan.num_batches
        curves.append(merge_shards(plan, results, total_seconds=seconds))
    return BlockCurveEstimate(tuple(curves), as_int(block_length, "block_length"))


__all__ = [
    "ESTIMATORS",
    "BlockCurveEstimate",
    "CurveEstimate",
    "ErrorEstimate",
    "EstimatePlan",
    "Estimator",
    "EstimatorName",
    "FlatCurveWarning",
    "NonMonotoneWarning",
    "ShardResult",
    "default_batch_size",
    "default_grid",
    "estimate_block_curves",
    "estimate_curve",
    "merge_shards",
    "model_vocab",
    "plan_block_estimate",
    "plan_estimate",
    "progress_bar",
    "run_shard",
]
