"""The curve estimators as strategies (issue 27.3): one :class:`Estimator` subclass each, chosen by name through
:func:`make_estimator`, so the plan -> run -> merge code asks the strategy instead of switching on a name.

An estimator decides three things, all from a job ``(grid point g, data row r)`` and its one forward pass:

* ``order_key(seed, stream, g, r)``: the seed of the job's random orders (shared across ``g`` for nested masks);
* ``job_values(scores, ranks, level, following, reps)``: what the job reports (per-position nats averaged);
* ``level_samples(per_job)``: the per-row level estimates ``g_{m_g}`` (G x N) from every job's values.

Each returned level is unbiased for ``g_{m_g}`` (SPEC §5): a uniformly random position outside a uniformly random
revealed set. Measured (BENCHMARKS.md): variance x row-forwards of a fixed schedule's error on a 2-state Markov chain
(n = 64, 64 rows) is ~6x lower with ``"nested"`` than with ``"independent"``; antithetic orders (a rep's reversed
order as the next rep) did not improve on it per forward (5.4x vs 5.1x at reps = 2), so no such estimator is offered.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from typing import ClassVar, Literal

import numpy as np
from numpy.typing import NDArray

from .._validation import as_choice

EstimatorName = Literal["nested", "independent"]


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
                   following: NDArray[np.int64], reps: int) -> NDArray[np.float64]:
        """Per job (``jobs`` or ``jobs x values_per_job``): from ``scores`` (``jobs * reps`` x n nats, 0 where
        revealed), each model row's ``ranks`` and its job's revealed count ``level`` and next grid count
        ``following`` (per model row). O(jobs reps n)."""

    @abstractmethod
    def level_samples(self, per_job: NDArray[np.float64]) -> NDArray[np.float64]:
        """Levels per grid point and row (G x N, nats) from every job's values (G x N [x values_per_job])."""

    def values_shape(self, jobs: int) -> tuple[int, ...]:
        """The shape of ``jobs`` jobs' values in a shard."""
        return (jobs,) if self.values_per_job == 1 else (jobs, self.values_per_job)


def _average(scores: NDArray[np.float64], keep: NDArray[np.bool_], reps: int) -> NDArray[np.float64]:
    """Per job: the mean over its reps of the mean score over the kept positions."""
    per_row = np.where(keep, scores, 0.0).sum(axis=1) / keep.sum(axis=1)
    return np.asarray(per_row.reshape(-1, reps).mean(axis=1))


class NestedEstimator(Estimator):
    """Nested masks (the default): one order per row and repetition shared by every grid point; a job reports its
    level over the positions masked there and over those still masked at the next grid point, and a row's increment
    ``g_{m_g} - g_{m_{g+1}}`` is paired on the positions masked at both (see :mod:`.estimate`)."""

    name = "nested"
    values_per_job = 2

    def order_key(self, seed: int, stream: int, g: int, r: int) -> list[int]:  # noqa: ARG002  shared by every g
        return [seed, stream, r]

    def job_values(self, scores: NDArray[np.float64], ranks: NDArray[np.int64], level: NDArray[np.int64],
                   following: NDArray[np.int64], reps: int) -> NDArray[np.float64]:
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
                   following: NDArray[np.int64], reps: int) -> NDArray[np.float64]:  # noqa: ARG002
        return _average(scores, ranks >= level[:, None], reps)

    def level_samples(self, per_job: NDArray[np.float64]) -> NDArray[np.float64]:
        return np.asarray(per_job)


_REGISTRY: dict[str, type[Estimator]] = {cls.name: cls for cls in (NestedEstimator, IndependentEstimator)}
ESTIMATORS: tuple[EstimatorName, ...] = ("nested", "independent")


def make_estimator(name: object) -> Estimator:
    """The estimator called ``name`` (one of :data:`ESTIMATORS`; ``TypeError``/``ValueError`` naming ``estimator``)."""
    return _REGISTRY[as_choice(name, "estimator", ESTIMATORS)]()


__all__ = ["ESTIMATORS", "Estimator", "EstimatorName", "IndependentEstimator", "NestedEstimator", "make_estimator"]
