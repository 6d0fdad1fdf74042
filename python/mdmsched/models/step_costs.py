"""Schedules minimising a sum of arbitrary step costs: the certified solvers of the ramp band (:mod:`.ramps`).

``cost[a, b]`` (nats, ``(n + 1) x (n + 1)``; entries with ``a >= b`` are ignored) is the cost of one step revealing counts
``a..b-1``; a schedule costs the sum over its steps. The ramp band's costs carry a square root of a quadratic form,
so neither the quadrangle inequality nor convexity in ``k`` is known: these are the plain dynamic programs
``D_k(b) = min_{a < b} D_{k-1}(a) + cost[a, b]`` (SPEC §4), exact for any costs. Ties go to the smallest ``a``
(deterministic). O(k n^2) time, O(k n) memory for the argmins.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

from .._schedule import Schedule
from .._validation import as_count, as_sizes, as_step_costs, as_steps, as_tolerance


def schedule_cost(cost: NDArray[np.float64], sizes: NDArray[np.int64]) -> float:
    """The sum of ``cost`` over the schedule's steps (nats). O(k)."""
    cost = as_step_costs(cost)
    sizes = as_sizes(sizes, cost.shape[0] - 1, "sizes")
    ends = np.cumsum(sizes)
    starts = ends - sizes
    return float(cost[starts, ends].sum())


def _layers(cost: NDArray[np.float64], k_max: int, stop: float | None) -> tuple[list[NDArray[np.float64]],
                                                                                list[NDArray[np.int64]]]:
    """``D_1..D_k`` (each over ``b = 0..n``) and their argmins, up to ``k_max`` or the first ``D_k(n) <= stop``."""
    n = cost.shape[0] - 1
    forward = np.arange(n + 1)[:, None] < np.arange(n + 1)[None, :]
    cost = np.where(forward, cost, np.inf)  # only steps a -> b with a < b exist, whatever the matrix holds below
    first = cost[0].copy()
    layers, choices = [first], [np.zeros(n + 1, dtype=np.int64)]
    while len(layers) < k_max and not (stop is not None and layers[-1][n] <= stop):
        total = layers[-1][:, None] + cost  # [a, b]: reach a in k-1 steps, then step a -> b
        pick = np.argmin(total, axis=0)
        layers.append(total[pick, np.arange(n + 1)])
        choices.append(pick.astype(np.int64))
    return layers, choices


def _trace(choices: list[NDArray[np.int64]], k: int, n: int) -> NDArray[np.int64]:
    ends = [n]
    for layer in range(k - 1, 0, -1):
        ends.append(int(choices[layer][ends[-1]]))
    ends.append(0)
    return np.asarray(np.diff(np.array(ends[::-1], dtype=np.int64)), dtype=np.int64)


def best_schedule(cost: NDArray[np.float64], k: int) -> Schedule:
    """The ``k``-step schedule of least total cost; ``bound`` is that cost. O(k n^2)."""
    cost = as_step_costs(cost)
    n = cost.shape[0] - 1
    k = as_steps(k, n)
    layers, choices = _layers(cost, k, None)
    if not np.isfinite(layers[k - 1][n]):
        raise ValueError(f"cost allows no {k}-step schedule of finite cost")
    sizes = _trace(choices, k, n)
    return Schedule(sizes, bound=max(float(layers[k - 1][n]), 0.0))


def fewest_steps(cost: NDArray[np.float64], eps: float) -> Schedule:
    """The fewest steps whose least total cost is ``<= eps`` (``k = n`` qualifies when single-token steps cost 0);
    ``bound`` is that cost. O(k n^2) for the ``k`` found."""
    cost = as_step_costs(cost)
    eps = as_tolerance(eps)
    n = cost.shape[0] - 1
    layers, choices = _layers(cost, n, eps)
    k = len(layers)
    if not layers[-1][n] <= eps:
        raise ValueError(f"no schedule of at most n = {n} steps costs <= eps = {eps} (least: {layers[-1][n]:.6g} nats)")
    sizes = _trace(choices, k, n)
    return Schedule(sizes, bound=max(float(layers[k - 1][n]), 0.0))


def cost_frontier(cost: NDArray[np.float64], k_max: int) -> NDArray[np.float64]:
    """The least total cost of ``k``-step schedules for ``k = 1..k_max`` (nats). O(k_max n^2)."""
    cost = as_step_costs(cost)
    n = cost.shape[0] - 1
    k_max = as_count(k_max, "k_max", 1, n)
    layers, _ = _layers(cost, k_max, None)
    return np.array([layer[n] for layer in layers], dtype=np.float64)


__all__ = ["best_schedule", "cost_frontier", "fewest_steps", "schedule_cost"]
