"""The curve estimators as strategies (issue 27.3): one :class:`Estimator` subclass each, chosen by name through
:func:`make_estimator`, so the plan -> run -> merge code asks the strategy instead of switching on a name.

An estimator decides, from a job ``(point g, data row r)`` and its one forward pass (points ``g < G`` are the grid's
revealed counts; an estimator may add ``extra_states(n)`` order-free states per row, points ``G, G + 1, ...``):

* ``order_key(seed, stream, g, r)``: the seed of the job's random orders (shared across ``g`` for nested masks);
* ``masked(ranks, level, state)``: which generated positions the job's forward masks;
* ``job_values(scores, ranks, level, following, reps, point=, grid=)``: what the job reports;
* ``level_samples(per_job)``: the per-row level estimates ``g_{m_g}`` (G x N) from every job's values.

Each returned level is unbiased for ``g_{m_g}`` (SPEC §5): a uniformly random position outside a uniformly random
revealed set. Measured (BENCHMARKS.md, variance x row-forwards of a fixed schedule's error against ``"independent"``):
``"nested"`` 8-13x on a 2-state Markov chain (n = 64) but only ~2x on a learned-like model whose rare tokens lose
11.5 nats while their left neighbour is masked; ``"neighbour_cv"`` 6.2x there (and 9.7x on the chain). Antithetic
orders (a rep's reversed order as the next rep) did not improve on nested per forward, so none is offered.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from typing import ClassVar, Literal

import numpy as np
from numpy.typing import NDArray

from .._validation import as_choice

EstimatorName = Literal["nested", "independent", "neighbour_cv"]


class Estimator(ABC):
    """A curve estimator: how a job's orders are drawn, what it reports, how rows' levels are assembled."""

    name: ClassVar[EstimatorName]
    #: Numbers a job reports (the trailing axis of a shard's ``values``; 1: a flat vector).
    values_per_job: ClassVar[int]

    @abstractmethod
    def order_key(self, seed: int, stream: int, g: int, r: int) -> list[int]:
        """The ``numpy.random.default_rng`` seed of job ``(g, r)``'s orders (a pure function: sharding-invariant)."""

    @abstractmethod
    def job_values(self, scores: NDArray[np.float64], ranks: NDArray[np.int64], level: NDArray[np.int64],
                   following: NDArray[np.int64], reps: int, *, point: NDArray[np.int64],
                   grid: NDArray[np.int64]) -> NDArray[np.float64]:
        """Per job (``values_shape(jobs, G)``): from ``scores`` (``jobs * reps`` x n nats, 0 where revealed), each
        model row's ``ranks``, its job's revealed count ``level``, next grid count ``following`` and ``point`` (its
        job's index: ``< G`` a grid point, else an extra state), and the plan's ``grid``. O(jobs reps n)."""

    @abstractmethod
    def level_samples(self, per_job: NDArray[np.float64]) -> NDArray[np.float64]:
        """Levels per grid point and row (G x N, nats) from every job's values ((G + extra) x N [x values])."""

    def extra_states(self, n: int) -> int:  # noqa: ARG002  none unless the estimator needs them
        """Order-free forwards per data row and repetition beyond the grid's (jobs after the grid points')."""
        return 0

    def masked(self, ranks: NDArray[np.int64], level: NDArray[np.int64],
               state: NDArray[np.int64]) -> NDArray[np.bool_]:  # noqa: ARG002  no extra states here
        """Generated positions masked in each model row's forward: the first ``level`` of its order are revealed
        (``state >= 0``: the row is extra state ``state``)."""
        return np.asarray(ranks >= level[:, None])

    def values_shape(self, jobs: int, grid_points: int) -> tuple[int, ...]:  # noqa: ARG002  fixed width here
        """The shape of ``jobs`` jobs' values in a shard of a plan with ``grid_points`` grid points."""
        return (jobs,) if self.values_per_job == 1 else (jobs, self.values_per_job)

    def averages(self, values: NDArray[np.float64]) -> NDArray[np.float64]:
        """The part of a shard's values that are averages of per-position nats (never negative in a real run)."""
        return values


def _average(scores: NDArray[np.float64], keep: NDArray[np.bool_], reps: int) -> NDArray[np.float64]:
    """Per job: the mean over its reps of the mean score over the kept positions."""
    per_row = np.where(keep, scores, 0.0).sum(axis=1) / keep.sum(axis=1)
    return np.asarray(per_row.reshape(-1, reps).mean(axis=1))


class NestedEstimator(Estimator):
    """Nested masks (the default): one order per row and repetition shared by every grid point; a job reports its
    level over the positions masked there and over those still masked at the next grid point, and a row's increment
    ``g_{m_g} - g_{m_{g+1}}`` is paired on the positions masked at both (see :mod:`.estimate`)."""

    name: ClassVar[EstimatorName] = "nested"
    values_per_job = 2

    def order_key(self, seed: int, stream: int, g: int, r: int) -> list[int]:  # noqa: ARG002  shared by every g
        return [seed, stream, r]

    def job_values(self, scores: NDArray[np.float64], ranks: NDArray[np.int64], level: NDArray[np.int64],
                   following: NDArray[np.int64], reps: int, *, point: NDArray[np.int64],  # noqa: ARG002
                   grid: NDArray[np.int64]) -> NDArray[np.float64]:  # noqa: ARG002
        here = _average(scores, ranks >= level[:, None], reps)
        still = _average(scores, ranks >= following[:, None], reps)  # same forward, positions masked at the next point
        return np.stack((here, still), axis=1)

    def level_samples(self, per_job: NDArray[np.float64]) -> NDArray[np.float64]:
        increments = per_job[:-1, :, 1] - per_job[1:, :, 0]  # row r's g -> g+1 on the positions masked at both
        rows = per_job.shape[1]
        return np.asarray(per_job[0, :, 0][None, :]
                          - np.concatenate((np.zeros((1, rows)), np.cumsum(increments, axis=0))))


class IndependentEstimator(Estimator):
    """Every job draws its own orders (the estimator before issue 20; kept for comparison)."""

    name = "independent"
    values_per_job = 1

    def order_key(self, seed: int, stream: int, g: int, r: int) -> list[int]:
        return [seed, stream, g, r]

    def job_values(self, scores: NDArray[np.float64], ranks: NDArray[np.int64], level: NDArray[np.int64],
                   following: NDArray[np.int64], reps: int, *, point: NDArray[np.int64],  # noqa: ARG002
                   grid: NDArray[np.int64]) -> NDArray[np.float64]:  # noqa: ARG002
        return _average(scores, ranks >= level[:, None], reps)

    def level_samples(self, per_job: NDArray[np.float64]) -> NDArray[np.float64]:
        return np.asarray(per_job)


#: ``"neighbour_cv"``'s order-free states: state ``c`` reveals the generated positions whose index is ``c`` mod this.
NEIGHBOUR_PERIOD = 4


class NeighbourEstimator(NestedEstimator):
    """Nested masks with a control variate for neighbours (issue 25.2): for learned models where a token's loss
    hinges on an adjacent token (a 10+ nat loss while its neighbour is masked), which nested pairing cannot average out.

    Per row, ``P = min(4, n)`` extra forwards at order-free states (state ``c`` reveals the generated positions with
    index ``= c mod P``; neighbours are consecutive generated positions) give, for each ordered pair of neighbours
    ``(j, i)``, the drop ``D_ji = s_0(i) - s_{j mod P}(i)`` of ``i``'s score (level 0 minus the state revealing ``j``).
    Nested sees ``j``'s effect on ``i`` in increment ``l`` when ``j`` is revealed in ``(m_l, m_{l+1}]`` and ``i`` is
    still masked at ``m_{l+1}``, with weight ``phi = 1 / (n - m_{l+1})``; the increment becomes
    ``d_l - beta sum_{(j, i)} D_ji (phi_jil - E_l)``, ``E_l = (m_{l+1} - m_l) / (n (n - 1))``, with ``beta`` in
    ``[0, 1]`` fitted by least squares on the other half of the rows (:func:`cross_fitted_coefficients`).

    Unbiased: ``D_ji`` comes from states fixed before the order is drawn, and under a uniformly random order
    ``P(rank_j in [m_l, m_{l+1}), rank_i >= m_{l+1}) = (m_{l+1} - m_l)(n - m_{l+1}) / (n (n - 1))``, so
    ``E[phi_jil | x] = E_l`` and the correction has mean 0 given the row, whatever ``beta`` (fitted on other rows'
    orders). Rows stay the units of every error bar (``beta`` is one number from thousands). Cost: ``reps * P`` more
    forwards per row; a job reports ``G + 1`` numbers (nested's two, then its share of the row's ``G - 1``
    corrections). Measured
    (BENCHMARKS.md): ~6x variance x forwards over ``"independent"`` where nested gets 2x, and about nested's gain on
    a smooth chain; on tiny ``n`` the extra forwards cost more than they save, so ``"nested"`` stays the default.
    O(jobs reps n) per batch.
    """

    name: ClassVar[EstimatorName] = "neighbour_cv"
    values_per_job = 0  # depends on the grid: see values_shape

    def extra_states(self, n: int) -> int:
        return min(NEIGHBOUR_PERIOD, n) if n >= 2 else 0  # one position has no neighbour

    def masked(self, ranks: NDArray[np.int64], level: NDArray[np.int64],
               state: NDArray[np.int64]) -> NDArray[np.bool_]:
        out = np.asarray(ranks >= level[:, None])
        states = state >= 0
        if states.any():
            index = np.arange(ranks.shape[1])
            out[states] = index[None, :] % self.extra_states(ranks.shape[1]) != state[states][:, None]
        return out

    def values_shape(self, jobs: int, grid_points: int) -> tuple[int, ...]:
        return (jobs, grid_points + 1)

    def averages(self, values: NDArray[np.float64]) -> NDArray[np.float64]:
        return values[..., :2]

    def job_values(self, scores: NDArray[np.float64], ranks: NDArray[np.int64], level: NDArray[np.int64],
                   following: NDArray[np.int64], reps: int, *, point: NDArray[np.int64],
                   grid: NDArray[np.int64]) -> NDArray[np.float64]:
        on_grid = point[::reps] < grid.size  # one point per job (its reps share it)
        nested = np.where(on_grid[:, None], super().job_values(scores, ranks, level, following, reps, point=point,
                                                                grid=grid), 0.0)  # a state's averages are unused
        correction = np.zeros((scores.shape[0], grid.size - 1))
        active = (point == 0) | (point >= grid.size)  # level 0 and the states carry the control variate
        if active.any():
            correction[active] = self._correction(scores[active], ranks[active], point[active], grid)
        return np.concatenate((nested, correction.reshape(on_grid.size, reps, -1).mean(axis=1)), axis=1)

    def _correction(self, scores: NDArray[np.float64], ranks: NDArray[np.int64], point: NDArray[np.int64],
                    grid: NDArray[np.int64]) -> NDArray[np.float64]:
        """Each model row's share of its row's increment corrections (model rows x G - 1): level-0 rows add
        ``s_0(i) (phi - E)`` over every neighbour pair, state-``c`` rows subtract ``s_c(i) (phi - E)`` over the pairs
        whose ``j = c mod P``; other rows add nothing."""
        rows, n = ranks.shape
        intervals = grid.size - 1
        out = np.zeros((rows, intervals))
        if intervals == 0 or n < 2:
            return out
        period = self.extra_states(n)
        expected = np.diff(grid) / (n * (n - 1.0))
        interval = np.searchsorted(grid, ranks, side="right") - 1  # rank_j in [m_l, m_{l+1}): revealed in (m_l, m_{l+1}]
        valid = interval < intervals  # rank n - 1 (the last revealed) is never seen on the grid
        after = grid[np.minimum(interval + 1, intervals)]  # m_{l+1}
        weight = np.where(valid, 1.0 / np.maximum(n - after, 1), 0.0)
        state = point - grid.size
        sign = np.where(point == 0, 1.0, np.where(state >= 0, -1.0, 0.0))
        flat = np.arange(rows)[:, None] * intervals
        for step in (-1, 1):  # j = i - 1 (left neighbour), j = i + 1 (right neighbour)
            i = np.arange(max(0, -step), n - max(0, step))
            j = i + step
            use = np.where(state[:, None] >= 0, j[None, :] % period == state[:, None], True)
            value = sign[:, None] * np.where(use, scores[:, i], 0.0)
            seen = valid[:, j] & (ranks[:, i] >= after[:, j])
            contribution = np.where(seen, value * weight[:, j], 0.0)
            out += np.bincount((flat + np.where(seen, interval[:, j], 0)).ravel(), contribution.ravel(),
                               minlength=rows * intervals).reshape(rows, intervals)
            out -= value.sum(axis=1)[:, None] * expected[None, :]
        return out

    def level_samples(self, per_job: NDArray[np.float64]) -> NDArray[np.float64]:
        points, rows = per_job.shape[2] - 1, per_job.shape[1]
        levels = super().level_samples(per_job[:points, :, :2])
        correction = per_job[:, :, 2:].sum(axis=0).T  # (G - 1) x N: every job's share of its row's corrections
        variate = np.concatenate((np.zeros((1, rows)), -np.cumsum(correction, axis=0)))  # on the levels, mean 0
        return np.asarray(levels - cross_fitted_coefficients(levels, variate) * variate)


def cross_fitted_coefficients(levels: NDArray[np.float64], variate: NDArray[np.float64]) -> NDArray[np.float64]:
    """Per data row, the control variate's coefficient: least squares of the levels on the variate (G x N each),
    pooled over every level, fitted on the OTHER fold's rows (folds: even and odd rows) and clipped to ``[0, 1]``
    (0: nested; 1: a neighbour's effect independent of the rest of the context). A row's coefficient never sees its
    own order, so the correction keeps mean 0 given the row (unbiased). O(G N)."""
    out = np.zeros(levels.shape[1])
    folds = np.arange(levels.shape[1]) % 2
    for fold in (0, 1):
        other = folds != fold
        if other.sum() < 2:
            continue  # too few rows to fit: nested
        y, c = levels[:, other], variate[:, other]
        y, c = y - y.mean(axis=1, keepdims=True), c - c.mean(axis=1, keepdims=True)
        spread = float((c * c).sum())
        out[folds == fold] = min(max(float((y * c).sum()) / spread, 0.0), 1.0) if spread > 0 else 0.0
    return out


_REGISTRY: dict[str, type[Estimator]] = {cls.name: cls for cls in (NestedEstimator, IndependentEstimator,
                                                                     NeighbourEstimator)}
ESTIMATORS: tuple[EstimatorName, ...] = ("nested", "independent", "neighbour_cv")


def make_estimator(name: object) -> Estimator:
    """The estimator called ``name`` (one of ``ESTIMATORS``; ``TypeError``/``ValueError`` naming ``estimator``)."""
    return _REGISTRY[as_choice(name, "estimator", ESTIMATORS)]()


__all__ = ["ESTIMATORS", "NEIGHBOUR_PERIOD", "Estimator", "EstimatorName", "IndependentEstimator", "NeighbourEstimator",
           "NestedEstimator", "cross_fitted_coefficients", "make_estimator"]
