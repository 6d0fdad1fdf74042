"""Curves of a trained model (SPEC §5, §5.1): the masked cross-entropy ``g_m`` (or predictive entropy ``h^q_m``) of a model
with ``m`` random positions revealed, and from it ``Z_i = g_0 - g_{i-1}``, with error bars for any schedule.

The work is a list of independent *jobs* ``(grid point g, data row r)``; a job reveals ``m_g`` random generated positions of
row ``r`` (``reps`` times) and averages the model's per-position numbers over the still-masked generated positions. The job
list and each job's randomness are a pure function of ``(seed, data shape, grid, reps)``, so the work can be split into
shards, run anywhere (:func:`run_shard`) and merged (:func:`merge_shards`) into the bit-identical single-process result.
"""

from __future__ import annotations

import math
import time
from collections.abc import Sequence
from concurrent.futures import Executor
from dataclasses import dataclass, field
from statistics import NormalDist
from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray

from .._schedule import BlockSchedule, Schedule
from .._validation import (
    as_confidence,
    as_count,
    as_executor,
    as_int,
    as_region,
    as_seed,
    as_sizes,
    as_tokens,
    as_tolerance,
    require_memory,
)
from ..curves.hygiene import project_monotone
from ..solve import optimal_block_split, optimal_schedule
from .interface import MaskedModel, Target, as_masked_model, as_target, check_scores, model_inputs

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


# ---- error bars for linear functionals of h (SPEC §5.1) ---------------------------------------------------------------


@dataclass(frozen=True)
class ErrorEstimate:
    """A schedule's estimated error (nats) with its uncertainty.

    ``value``: the estimate with ``h`` interpolated linearly between grid points; ``stderr``: its standard error from the
    data rows (sampling noise only). ``upper`` / ``lower``: one-sided bounds at ``confidence`` that cover sampling noise
    *and* interpolation (between grid points ``h`` is only known to be non-increasing; each unmeasured ``h_m`` is taken at
    the end of its bracket that is worst for the bound). ``absolute`` says whether ``H(mu)`` was subtracted (the sampler's
    KL) or not (the schedule-dependent part ``err(Z, s)``). ``monotone_on_grid`` is False when the measured ``h`` rises
    somewhere on the grid: the bracket then rests on an assumption the data contradict.
    """

    value: float
    stderr: float
    upper: float
    lower: float
    confidence: float
    absolute: bool
    monotone_on_grid: bool

    def __repr__(self) -> str:
        kind = "KL" if self.absolute else "err"
        return (f"ErrorEstimate({kind} = {self.value:.6g} +- {self.stderr:.3g} nats, "
                f"{self.confidence:.0%} bounds [{self.lower:.6g}, {self.upper:.6g}])")


def _schedule_coefficients(sizes: NDArray[np.int64], n: int, absolute: bool) -> NDArray[np.float64]:
    """``c`` with ``err(Z, s) = sum_m c_m h_m`` (``m = 0..n-1``): ``c_{N_{j-1}} += s_j``, and ``-1`` everywhere unless absolute."""
    c = np.zeros(n) if absolute else -np.ones(n)
    starts = np.concatenate(([0], np.cumsum(sizes)[:-1]))
    np.add.at(c, starts, sizes.astype(np.float64))
    return c


def _interpolation_matrix(grid: NDArray[np.int64], n: int) -> NDArray[np.float64]:
    """``L`` (n x G) with ``h_m = sum_g L[m, g] h_g``: linear interpolation between grid points."""
    m = np.arange(n)
    right = np.clip(np.searchsorted(grid, m, side="left"), 1, grid.size - 1) if grid.size > 1 else np.zeros(n, int)
    out = np.zeros((n, grid.size))
    if grid.size == 1:
        out[:, 0] = 1.0
        return out
    left = right - 1
    span = (grid[right] - grid[left]).astype(np.float64)
    t = (m - grid[left]) / span
    out[m, left] = 1.0 - t
    out[m, right] += t
    return out


def _bracket_weights(c: NDArray[np.float64], grid: NDArray[np.int64], upper: bool) -> NDArray[np.float64]:
    """Weights on grid points bounding ``sum c_m h_m`` for any non-increasing ``h`` through the grid values.

    ``h_{g_r} <= h_m <= h_{g_l}`` for ``g_l <= m <= g_r``: for an upper bound a positive coefficient takes ``h_{g_l}``, a
    negative one ``h_{g_r}`` (and the other way round for a lower bound). Needs ``0`` and ``n - 1`` on the grid.
    """
    m = np.arange(c.size)
    left = np.searchsorted(grid, m, side="right") - 1
    right = np.searchsorted(grid, m, side="left")
    take_left = (c > 0) if upper else (c < 0)
    index = np.where(take_left, left, right)
    weights = np.zeros(grid.size)
    np.add.at(weights, index, c)
    return weights


# ---- the estimate ------------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class CurveEstimate:
    """An estimated curve of a model (nats): ``Z_i = h_0 - h_{i-1}`` from the per-grid-point means ``h``.

    ``target`` says what ``h`` is: ``"cross_entropy"`` (the masked cross-entropy ``g_m`` at the data's true tokens: the
    curve ``Z^g`` whose left-Riemann error is a learned model's schedule-dependent KL, SPEC §5.1) or ``"entropy"`` (the
    model's predictive entropy ``h^q_m``, its self-curve). ``Z`` is projected onto valid curves (``Z_1 = 0``,
    non-decreasing) and is what the solver takes; ``Z_raw`` is the unprojected interpolated estimate, ``stderr`` its
    standard error per position (sampling noise, correlations across grid points included), ``Z_low``/``Z_high`` the
    interpolation bracket of ``Z_raw`` (exact on a full grid). ``samples`` (G x N) holds each data row's job value per
    grid point: every error bar is computed from it. ``model_calls`` counts model calls, ``model_seconds`` the time inside
    them; the rest of ``total_seconds`` is this package's overhead.
    """

    Z: NDArray[np.float64]
    Z_raw: NDArray[np.float64]
    stderr: NDArray[np.float64]
    Z_low: NDArray[np.float64]
    Z_high: NDArray[np.float64]
    grid: NDArray[np.int64]
    h: NDArray[np.float64]
    h_stderr: NDArray[np.float64]
    samples: NDArray[np.float64] = field(repr=False)
    target: Target
    model_calls: int
    model_seconds: float
    total_seconds: float

    @property
    def n(self) -> int:
        """Generated positions per row (the curve's length)."""
        return int(self.Z.size)

    def __array__(self, dtype: Any = None, copy: Any = None) -> NDArray[Any]:
        """The projected curve ``Z``: so an estimate goes wherever a curve does (``optimal_schedule(est, k)``)."""
        return np.array(self.Z, dtype=dtype, copy=True)

    @property
    def monotone_on_grid(self) -> bool:
        """True when the measured ``h`` is non-increasing on the grid (within two standard errors of each step)."""
        steps = np.diff(self.h)
        slack = 2.0 * np.hypot(self.h_stderr[1:], self.h_stderr[:-1])
        return bool(np.all(steps <= slack + 1e-12))

    def _functional(self, c: NDArray[np.float64], confidence: float, offset: float, absolute: bool) -> ErrorEstimate:
        return _linear_bound([(self, c)], confidence, offset, absolute)

    def schedule_error(self, schedule: ArrayLike | Any, *, confidence: float = 0.95,
                       entropy: float | None = None) -> ErrorEstimate:
        """A schedule's expected error with a standard error and bounds covering noise and interpolation (SPEC §5.1).

        Without ``entropy``: ``err(Z, s) = sum_j s_j h_{N_{j-1}} - sum_m h_m`` (for ``Z^g``: the schedule-dependent part of
        the KL; differences between schedules are exact). With ``entropy = H(mu)`` (nats; for prompts the average answer
        entropy given the prompt): the sampler's absolute ``KL = sum_j s_j g_{N_{j-1}} - H(mu)``. O(n + G N).
        """
        sizes = as_sizes(schedule, self.n)
        absolute = entropy is not None
        offset = as_tolerance(entropy, "entropy") if absolute else 0.0
        return self._functional(_schedule_coefficients(sizes, self.n, absolute), confidence, offset, absolute)

    def min_steps(self, eps: float, *, confidence: float = 0.95, method: Any = "auto") -> Schedule:
        """The fewest ``k`` whose optimal schedule (on the estimated curve) has an upper confidence bound ``<= eps``
        (nats; :meth:`schedule_error`); ``error`` is the point estimate, ``bound`` that upper bound. This is what
        ``mdmsched.min_steps(est, eps, confidence=...)`` calls. Scans ``k = 1, 2, ...``: O(k (solve + n + G N))."""
        eps = as_tolerance(eps)
        for k in range(1, self.n + 1):
            candidate = optimal_schedule(self.Z, k, method=method)
            bound = self.schedule_error(candidate, confidence=confidence)
            if bound.upper <= eps or k == self.n:  # k = n reveals one token per step: error 0 exactly
                return Schedule(candidate.sizes, error=bound.value, bound=max(bound.upper, 0.0) if k < self.n else 0.0,
                                name=f"optimal (k={k}, {float(confidence):.0%} upper bound <= {eps:g})")
        raise AssertionError("unreachable: k = n always qualifies")

    def compare(self, first: ArrayLike | Any, second: ArrayLike | Any, *, confidence: float = 0.95) -> ErrorEstimate:
        """``err(first) - err(second)`` (nats) with a paired standard error and bounds: negative means ``first`` is better."""
        a = _schedule_coefficients(as_sizes(first, self.n, "first"), self.n, True)
        b = _schedule_coefficients(as_sizes(second, self.n, "second"), self.n, True)
        return self._functional(a - b, confidence, 0.0, False)


def _linear_bound(parts: Sequence[tuple[CurveEstimate, NDArray[np.float64]]], confidence: float, offset: float,
                  absolute: bool) -> ErrorEstimate:
    """``sum over parts of sum_m c_m h_m - offset`` with row-paired standard errors (all parts share the data rows)."""
    z = NormalDist().inv_cdf(as_confidence(confidence))
    rows = parts[0][0].samples.shape[1]

    def mean_and_se(kind: str) -> tuple[float, float]:
        per_row = np.zeros(rows)
        for est, c in parts:
            if kind == "value":
                weights = c @ _interpolation_matrix(est.grid, est.n)
            else:
                weights = _bracket_weights(c, est.grid, upper=kind == "upper")
            per_row += weights @ est.samples
        return float(per_row.mean()), float(per_row.std(ddof=1) / math.sqrt(rows))

    value, se = mean_and_se("value")
    high, high_se = mean_and_se("upper")
    low, low_se = mean_and_se("lower")
    monotone = all(est.monotone_on_grid for est, _ in parts)
    return ErrorEstimate(value - offset, se, high + z * high_se - offset, low - z * low_se - offset,
                         float(confidence), absolute, monotone)


# ---- plan -> run anywhere -> merge -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class EstimatePlan:
    """What to run: pure data, picklable, the same on every worker.

    ``free`` (N x n, or 1 x n when every row has the same layout) lists each row's generated positions in the order they
    are counted (the curve's positions); ``hidden`` (N or 1 x length bool, or None) marks positions masked in every call
    and never scored (later blocks). Job
    ``j = g * N + r`` is grid point ``grid[g]`` on row ``r``; batch ``b`` holds jobs ``b * jobs_per_batch ...``. Job ``j``'s
    random positions come from ``default_rng([seed, g, r])`` alone, so results do not depend on batching or sharding.
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

    @property
    def n(self) -> int:
        """Generated positions per row."""
        return int(self.free.shape[1])

    @property
    def num_jobs(self) -> int:
        """``len(grid) * N``."""
        return int(self.grid.size * self.rows)

    @property
    def num_batches(self) -> int:
        """Model calls of ``reps * jobs_per_batch`` rows each (the last may be smaller)."""
        return -(-self.num_jobs // self.jobs_per_batch)

    def shards(self, count: int) -> list[range]:
        """``count`` contiguous, near-equal ranges of batch indices covering every batch once (empty ones dropped)."""
        parts = as_count(count, "shards")
        bounds = np.linspace(0, self.num_batches, min(parts, self.num_batches) + 1).round().astype(int)
        return [range(int(a), int(b)) for a, b in zip(bounds[:-1], bounds[1:]) if b > a]


@dataclass(frozen=True)
class ShardResult:
    """Job values of a contiguous run of batches, to be placed by :func:`merge_shards`."""

    batches: range
    first_job: int
    values: NDArray[np.float64]
    model_calls: int
    model_seconds: float


def _as_rows(data: ArrayLike) -> NDArray[np.int64]:
    rows = np.asarray(data)
    if rows.dtype.kind not in "iu":
        raise TypeError(f"data must be integer token sequences, got dtype {rows.dtype}")
    if rows.ndim != 2 or rows.shape[0] < 2 or rows.shape[1] < 1:
        raise ValueError(f"data must be N x length with N >= 2 (a standard error needs two rows), got shape {rows.shape}")
    return as_tokens(rows, "data")


def _free_positions(region: ArrayLike | None, shape: tuple[int, int]) -> NDArray[np.int64]:
    """Generated positions per row (N x n; 1 x n when shared by all rows), from ``region`` (per position or per row)."""
    count, length = shape
    if region is None:
        return np.arange(length, dtype=np.int64)[None, :]
    marks = as_region(region, length, count)
    return np.nonzero(marks)[1].reshape(marks.shape[0], -1).astype(np.int64)


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


def plan_estimate(data_shape: tuple[int, int], *, region: ArrayLike | None = None, grid: ArrayLike | None = None,
                  reps: int = 1, batch_size: int = 256, seed: int | None = None,
                  target: Target = "cross_entropy", hidden: NDArray[np.bool_] | None = None,
                  stream: int = 0) -> EstimatePlan:
    """The job list of :func:`estimate_curve` for data of shape ``(N, length)`` (see :class:`EstimatePlan`).

    ``seed=None`` draws a fresh seed once; the plan records it, so every shard agrees.
    """
    if not isinstance(data_shape, (tuple, list)) or len(data_shape) != 2:
        raise TypeError(f"data_shape must be a pair (N, length), got {type(data_shape).__name__} {data_shape!r}")
    shape = (as_int(data_shape[0], "data rows"), as_int(data_shape[1], "data length"))
    if shape[0] < 2 or shape[1] < 1:
        raise ValueError(f"data must be N x length with N >= 2, got shape {shape}")
    require_memory(16 * shape[1], "the generated positions")  # before the first array of length ``length``
    free = _free_positions(region, shape)
    n = free.shape[1]
    points = _as_grid(grid, n)
    reps, batch_size = as_count(reps, "reps"), as_count(batch_size, "batch_size")
    require_memory(8 * points.size * shape[0] + 16 * free.size, "the estimation jobs")
    per_call = reps * min(max(1, batch_size // reps), points.size * shape[0])  # rows in one model call
    require_memory(40 * per_call * shape[1], f"one model call's batch ({per_call} rows of length {shape[1]})")
    base = as_seed(seed, generators=False)
    if base is None:
        base = int(np.random.SeedSequence().entropy)  # type: ignore[arg-type]
    lane = as_count(stream, "stream", 0)
    return EstimatePlan(shape[1], shape[0], np.ascontiguousarray(free), _as_hidden(hidden, shape), points, reps,
                        max(1, batch_size // reps), base, as_target(target), lane)


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


def run_shard(model: MaskedModel | Any, data: ArrayLike, plan: EstimatePlan, batches: range | None = None) -> ShardResult:
    """Run the batches ``batches`` (default: all) of ``plan`` on ``model`` and ``data``; the data must be the planned rows."""
    if not isinstance(plan, EstimatePlan):
        raise TypeError(f"plan must be an EstimatePlan (from plan_estimate), got {type(plan).__name__}")
    scorer = as_masked_model(model)
    rows = _as_rows(data)
    if rows.shape != (plan.rows, plan.length):
        raise ValueError(f"data has shape {rows.shape}, but the plan was made for {(plan.rows, plan.length)}")
    batches = range(plan.num_batches) if batches is None else batches
    if not isinstance(batches, range):
        raise TypeError(f"batches must be a range of batch indices (from plan.shards), got {type(batches).__name__}")
    if batches.step != 1 or batches.start < 0 or batches.stop > plan.num_batches:
        raise ValueError(f"batches must be a contiguous range within 0..{plan.num_batches}, got {batches}")
    first = batches.start * plan.jobs_per_batch
    last = min(batches.stop * plan.jobs_per_batch, plan.num_jobs)
    values = np.empty(max(0, last - first))
    calls, model_seconds = 0, 0.0
    n, reps = plan.n, plan.reps
    for b in batches:
        jobs = np.arange(b * plan.jobs_per_batch, min((b + 1) * plan.jobs_per_batch, plan.num_jobs))
        g_index, row_index = np.divmod(jobs, plan.rows)
        ranks = np.empty((jobs.size * reps, n), dtype=np.int64)
        for j, (g, r) in enumerate(zip(g_index.tolist(), row_index.tolist())):
            rng = np.random.default_rng([plan.seed, plan.stream, g, r])
            for rep in range(reps):  # a uniformly random permutation is a uniformly random rank per position
                ranks[j * reps + rep] = rng.permutation(n)
        row_of = np.repeat(row_index, reps)
        tokens = rows[row_of]
        masked_free = ranks >= np.repeat(plan.grid[g_index], reps)[:, None]  # the first m of the order are revealed
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
            scores = np.where(masked_free, np.take_along_axis(scores, free, axis=1), 0.0)
        per_model_row = scores.sum(axis=1) / masked_free.sum(axis=1)
        values[jobs[0] - first:jobs[-1] + 1 - first] = per_model_row.reshape(jobs.size, reps).mean(axis=1)
    return ShardResult(batches, first, values, calls, model_seconds)


def merge_shards(plan: EstimatePlan, results: Sequence[ShardResult], *, total_seconds: float = 0.0) -> CurveEstimate:
    """Place every shard's job values and compute the estimate; shards must cover every batch exactly once."""
    if not isinstance(plan, EstimatePlan):
        raise TypeError(f"plan must be an EstimatePlan (from plan_estimate), got {type(plan).__name__}")
    values = np.full(plan.num_jobs, np.nan)
    covered = np.zeros(plan.num_batches, dtype=np.int64)
    for result in results:
        _check_shard(plan, result)
        covered[result.batches.start:result.batches.stop] += 1
        values[result.first_job:result.first_job + result.values.size] = result.values
    if covered.size and (covered != 1).any():
        bad = int(np.flatnonzero(covered != 1)[0])
        raise ValueError(f"shards must cover every batch exactly once; batch {bad} is covered {covered[bad]} times")
    return _estimate_from_samples(plan, values.reshape(plan.grid.size, plan.rows),
                                  sum(r.model_calls for r in results), sum(r.model_seconds for r in results),
                                  total_seconds)


def _check_shard(plan: EstimatePlan, result: object) -> None:
    """A shard result that fits ``plan``: its batches lie in the plan, its values are its jobs' (finite) values."""
    if not isinstance(result, ShardResult):
        raise TypeError(f"results must be ShardResults (from run_shard), got {type(result).__name__}")
    batches = result.batches
    if not isinstance(batches, range) or batches.step != 1 or not 0 <= batches.start < batches.stop <= plan.num_batches:
        raise ValueError(f"a shard's batches must be a non-empty contiguous range within 0..{plan.num_batches}, "
                         f"got {batches!r}")
    first = batches.start * plan.jobs_per_batch
    count = min(batches.stop * plan.jobs_per_batch, plan.num_jobs) - first
    values = result.values
    if result.first_job != first or not isinstance(values, np.ndarray) or values.shape != (count,):
        raise ValueError(f"a shard of batches {batches} must start at job {first} and hold {count} values, got job "
                         f"{result.first_job!r} and {np.shape(values)}: was it run with another plan?")
    if values.dtype.kind != "f" or not np.isfinite(values).all():
        raise ValueError(f"a shard of batches {batches} holds non-finite or non-float values")


def _estimate_from_samples(plan: EstimatePlan, samples: NDArray[np.float64], calls: int, model_seconds: float,
                           total_seconds: float) -> CurveEstimate:
    n, rows = plan.n, plan.rows
    h = samples.mean(axis=1)
    covariance = np.atleast_2d(np.cov(samples, ddof=1))
    h_se = np.sqrt(np.diag(covariance) / rows)
    interp = _interpolation_matrix(plan.grid, n)
    h_all = interp @ h
    z_raw = h_all[0] - h_all
    # Z_i = h_0 - h_{i-1}: weights e_0 - L[i-1] on the grid values; variance w' C w / N.
    weights = -interp
    weights[:, 0] += 1.0
    stderr = np.sqrt(np.maximum(np.einsum("ig,gh,ih->i", weights, covariance, weights), 0.0) / rows)
    left = plan.grid[np.searchsorted(plan.grid, np.arange(n), side="right") - 1]
    right = plan.grid[np.searchsorted(plan.grid, np.arange(n), side="left")]
    index = {int(m): g for g, m in enumerate(plan.grid)}
    h_left = h[[index[int(m)] for m in left]]
    h_right = h[[index[int(m)] for m in right]]
    return CurveEstimate(project_monotone(z_raw), z_raw, stderr, h[0] - h_left, h[0] - h_right, plan.grid, h, h_se,
                         samples, plan.target, calls, model_seconds, total_seconds)


def _run(model: MaskedModel | Any, rows: NDArray[np.int64], plan: EstimatePlan, executor: Executor | None,
         shards: int | None) -> tuple[list[ShardResult], float]:
    start = time.perf_counter()
    if executor is None:
        results = [run_shard(model, rows, plan)]
    else:
        as_executor(executor)
        parts = plan.shards(8 if shards is None else shards)
        futures = [executor.submit(run_shard, model, rows, plan, part) for part in parts]
        results = [future.result() for future in futures]
    return results, time.perf_counter() - start


def estimate_curve(model: MaskedModel | Any, data: ArrayLike, *, target: Target = "cross_entropy",
                   region: ArrayLike | None = None, grid: ArrayLike | None = None, reps: int = 1,
                   batch_size: int = 256, seed: int | None = None, executor: Executor | None = None,
                   shards: int | None = None) -> CurveEstimate:
    """Estimate a model's curve from data rows ``data`` (N x length integer tokens).

    For every revealed count ``m`` on ``grid`` (default: every ``m`` up to 32 generated positions, else 32 evenly spaced
    counts; 0 and ``n - 1`` are always added) and every row (``reps`` random masks each), ``m`` random generated positions
    are revealed and the model's per-position numbers are averaged over the masked ones: one sample of ``h_m``.

    * ``target="cross_entropy"`` (default) averages ``-log q(x_i | revealed)`` at the true tokens: ``g_m``, the MDM
      validation loss at masking level ``m``. Use it with held-out data from the distribution you want to generate:
      ``Z^g`` is the curve whose optimal schedule minimises the model's expected KL to the data (SPEC §5.1).
    * ``target="entropy"`` averages the predictive entropy: the model's self-curve, the right object for the error
      relative to the model's own distribution, with rows sampled from the model itself.

    ``model``: anything with ``score(tokens, mask, target)`` (e.g. :class:`mdmsched.torch.TorchModel`), or a predictor
    ``predict(tokens, mask) -> probs (B x n x q)`` (wrapped in :class:`~mdmsched.models.ProbabilityModel`).
    ``region``: booleans per position (``(length,)``) or per row (``(N, length)``), True where the answer is generated;
    every other position (the prompt) stays revealed in every call; ``n`` = generated positions per row (equal across
    rows). ``executor``: any ``concurrent.futures.Executor`` (e.g. Dask's ``Client.get_executor()``); the result is
    bit-identical to the single-process run with the same ``seed``; ``model`` and ``data`` must pickle for process pools.
    Cost: ``ceil(G N reps / batch_size)`` model calls plus O(G N reps n) work here.
    """
    rows = _as_rows(data)
    plan = plan_estimate(rows.shape, region=region, grid=grid, reps=reps, batch_size=batch_size, seed=seed,
                         target=target)
    results, seconds = _run(model, rows, plan, executor, shards)
    return merge_shards(plan, results, total_seconds=seconds)


# ---- blocks (semi-autoregressive generation) ---------------------------------------------------------------------------


@dataclass(frozen=True)
class BlockCurveEstimate:
    """One :class:`CurveEstimate` per block (SPEC §5.1): block ``b``'s curve with the prompt and blocks ``< b`` revealed
    from the data and blocks ``> b`` masked. A blockwise schedule's expected error is the sum of its blocks' errors."""

    curves: tuple[CurveEstimate, ...]
    block_length: int

    @property
    def block_lengths(self) -> list[int]:
        """Generated positions per block (the last block may be shorter)."""
        return [c.n for c in self.curves]

    @property
    def n(self) -> int:
        """Generated positions per row."""
        return sum(self.block_lengths)

    def optimal_split(self, total_steps: int) -> Any:
        """The best blockwise schedule with ``total_steps`` model calls in all: steps split across blocks to minimise
        ``sum_b opt_{k_b}(Z^(b))`` (exact: each frontier is convex), each block's optimal schedule. O(L k n_b)."""
        curves = [c.Z for c in self.curves]
        counts = optimal_block_split(curves, total_steps)
        blocks = tuple(optimal_schedule(z, k) for z, k in zip(curves, counts))
        return BlockSchedule(blocks, name=f"blockwise B={self.block_length} (k={sum(counts)})")

    def schedule_error(self, schedule: Any, *, confidence: float = 0.95, entropy: float | None = None) -> ErrorEstimate:
        """``sum_b err(Z^(b), s^(b))`` with a row-paired standard error and bounds (see
        :meth:`CurveEstimate.schedule_error`); ``schedule``: a ``BlockSchedule`` or one size list per block. With
        ``entropy = H(answer | prompt)`` (nats) the sampler's absolute KL."""
        per_block = _block_sizes(schedule, self.block_lengths)
        absolute = entropy is not None
        offset = as_tolerance(entropy, "entropy") if absolute else 0.0
        parts = [(c, _schedule_coefficients(sizes, c.n, absolute)) for c, sizes in zip(self.curves, per_block)]
        return _linear_bound(parts, confidence, offset, absolute)

    def compare(self, first: Any, second: Any, *, confidence: float = 0.95) -> ErrorEstimate:
        """Paired ``err(first) - err(second)`` of two blockwise schedules (nats); negative means ``first`` is better."""
        a = _block_sizes(first, self.block_lengths)
        b = _block_sizes(second, self.block_lengths)
        parts = [(c, _schedule_coefficients(x, c.n, True) - _schedule_coefficients(y, c.n, True))
                 for c, x, y in zip(self.curves, a, b)]
        return _linear_bound(parts, confidence, 0.0, False)


def _block_sizes(schedule: Any, lengths: Sequence[int]) -> list[NDArray[np.int64]]:
    """Per-block step sizes from a ``BlockSchedule`` (``.blocks``) or a sequence of per-block size lists."""
    blocks = getattr(schedule, "blocks", schedule)
    if isinstance(blocks, (str, bytes)) or not hasattr(blocks, "__len__"):
        raise TypeError(f"schedule must be a BlockSchedule or one size list per block, got {type(schedule).__name__}")
    if len(blocks) != len(lengths):
        raise ValueError(f"schedule has {len(blocks)} blocks, the estimate {len(lengths)}")
    return [as_sizes(block, length, f"block {b} sizes") for b, (block, length) in enumerate(zip(blocks, lengths))]


def estimate_block_curves(model: MaskedModel | Any, data: ArrayLike, *, block_length: int,
                          region: ArrayLike | None = None, target: Target = "cross_entropy",
                          grid: ArrayLike | None = None, reps: int = 1, batch_size: int = 256, seed: int | None = None,
                          executor: Executor | None = None, shards: int | None = None) -> BlockCurveEstimate:
    """Per-block curves for semi-autoregressive generation: the generated positions of each row (``region``, default
    all) are cut into blocks of ``block_length`` in order; block ``b`` is estimated as :func:`estimate_curve` does, with
    the prompt and earlier blocks revealed from the data and later blocks masked (so the model predicts their
    marginal). ``grid`` applies within each block (clipped to its length). Same seed rules and cost per block."""
    rows = _as_rows(data)
    length = as_count(block_length, "block_length")
    free = _free_positions(region, rows.shape)
    checked = None if grid is None else _as_grid(grid, 2**62)  # integers >= 0; clipped to each block below
    base = plan_estimate(rows.shape, region=region, reps=reps, batch_size=batch_size, seed=seed, target=target)
    curves = []
    for b, start in enumerate(range(0, free.shape[1], length)):
        stop = min(start + length, free.shape[1])
        hidden = np.zeros((free.shape[0], rows.shape[1]), dtype=bool)  # one layout for all rows when it is shared
        np.put_along_axis(hidden, free[:, stop:], True, axis=1)
        block_grid = None if checked is None else np.unique(np.clip(checked, 0, stop - start - 1))
        block_region = np.zeros((free.shape[0], rows.shape[1]), dtype=bool)
        np.put_along_axis(block_region, free[:, start:stop], True, axis=1)
        if free.shape[0] == 1:
            block_region = block_region[0]
        plan = plan_estimate(rows.shape, region=block_region, grid=block_grid, reps=reps, batch_size=batch_size,
                             seed=base.seed, target=target, hidden=hidden, stream=b + 1)
        results, seconds = _run(model, rows, plan, executor, shards)
        curves.append(merge_shards(plan, results, total_seconds=seconds))
    return BlockCurveEstimate(tuple(curves), length)


__all__ = ["BlockCurveEstimate", "CurveEstimate", "ErrorEstimate", "EstimatePlan", "ShardResult", "default_grid", "estimate_block_curves", "estimate_curve",
           "merge_shards", "plan_estimate", "run_shard"]
