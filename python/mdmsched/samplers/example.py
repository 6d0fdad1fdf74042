"""The built-in example model of the map (``mdmsched map``, the gallery): a sticky 3-state stationary Markov chain with
its exact conditionals as the model (:class:`~mdmsched.models.MarkovPredictor`) and its exact entropy ``H(mu)``."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from .._validation import as_count
from ..curves.families import stationary_distribution
from ..models.exact import MarkovPredictor

#: The example chain's transition matrix (sticky: each state repeats with probability 0.8-0.9).
STICKY_CHAIN = np.array([[0.9, 0.05, 0.05], [0.05, 0.9, 0.05], [0.1, 0.1, 0.8]])


@dataclass(frozen=True)
class MarkovExample:
    """``model`` (exact conditionals at length ``n``), ``rows`` (N x n samples of the chain) and ``entropy`` =
    ``H(mu) = H(pi) + (n - 1) H(P | pi)`` in nats."""

    model: MarkovPredictor
    rows: NDArray[np.int64]
    entropy: float


def markov_entropy(transition: NDArray[np.float64], n: int) -> float:
    """``H(pi) + (n - 1) sum_a pi_a H(P[a])`` (nats) of the stationary chain at length ``n``; ``0 log 0 = 0``. O(q^2)."""
    pi = stationary_distribution(transition)
    logs = np.log(np.where(transition > 0, transition, 1.0))
    rate = float(-(pi[:, None] * transition * logs).sum())
    return float(-(pi[pi > 0] * np.log(pi[pi > 0])).sum()) + (as_count(n, "n") - 1) * rate


def markov_region_entropy(transition: NDArray[np.float64], n: int, start: int, stop: int) -> float:
    """``H(X_start..X_stop-1 | the other positions)`` (nats) of the stationary chain at length ``n``: ``H(all)`` minus
    the entropy of the positions outside ``[start, stop)`` (the chain before, then ``X_stop`` given ``X_start-1``
    through ``P^(stop - start + 1)``, then the chain after). O(q^3 log n)."""
    length = as_count(n, "n")
    if not 0 <= start < stop <= length:
        raise ValueError(f"region must satisfy 0 <= start < stop <= n = {length}, got [{start}, {stop})")
    pi = stationary_distribution(transition)

    def row_entropy(matrix: NDArray[np.float64]) -> float:
        logs = np.log(np.where(matrix > 0, matrix, 1.0))
        return float(-(pi[:, None] * matrix * logs).sum())

    rest = markov_entropy(transition, start) if start > 0 else 0.0
    if stop < length:
        bridge = row_entropy(np.linalg.matrix_power(transition, stop - start + 1)) if start > 0 else \
            float(-(pi[pi > 0] * np.log(pi[pi > 0])).sum())
        rest += bridge + (length - 1 - stop) * row_entropy(transition)
    return markov_entropy(transition, length) - rest


def markov_example(n: int = 32, rows: int = 200, seed: int = 0) -> MarkovExample:
    """The sticky chain at length ``n`` with ``rows`` sampled rows (``np.random.default_rng(seed)``). O(rows n + n q^3)."""
    length = as_count(n, "n", 2)
    count = as_count(rows, "rows", 2)
    seed_value = as_count(seed, "seed", 0)
    model = MarkovPredictor(STICKY_CHAIN, length)
    return MarkovExample(model, model.sample(count, np.random.default_rng(seed_value)),
                         markov_entropy(STICKY_CHAIN, length))


__all__ = ["STICKY_CHAIN", "MarkovExample", "markov_entropy", "markov_example", "markov_region_entropy"]
