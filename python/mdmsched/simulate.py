"""Run the MDM sampler itself (SPEC §1) and measure the KL error a schedule really has."""

from __future__ import annotations

import math
from typing import Union

import numpy as np
from numpy.typing import ArrayLike, NDArray

from ._validation import as_count, as_int, as_sizes, require_attributes, require_memory
from .distribution import as_dense
from .predictors import ExactModel, ExactPredictor, Predictor, check_predictions
from .schedule import Schedule

Model = Union[Predictor, ArrayLike]


def _as_predictor(model: Model) -> Predictor:
    return model if callable(model) else ExactPredictor(model)


def _random_steps(rng: np.random.Generator, batch: int, n: int, sizes: NDArray[np.int64]) -> NDArray[np.int64]:
    """step[b, i] = the step at which position i of row b is revealed (uniformly random positions per step)."""
    order = np.argsort(rng.random((batch, n)), axis=1)
    step_of_rank = np.repeat(np.arange(sizes.size), sizes)
    steps = np.empty((batch, n), dtype=np.int64)
    np.put_along_axis(steps, order, np.broadcast_to(step_of_rank, (batch, n)), axis=1)
    return steps


def simulate(model: Model, schedule: ArrayLike | Schedule, num_samples: int, *, n: int | None = None,
             seed: int | None = None, batch_size: int = 1024) -> NDArray[np.int64]:
    """Draw ``num_samples`` sequences with the MDM sampler: at step ``j`` reveal ``s_j`` uniformly random masked
    positions, each drawn independently from the predicted marginal given what is revealed. ``model`` is a
    predictor (``n`` defaults to its ``n`` attribute, else the schedule's length) or a dense distribution (wrapped in :class:`ExactPredictor`).
    ``k`` model calls per batch of ``batch_size`` sequences.
    """
    batch_size = as_count(batch_size, "batch_size")
    predict = _as_predictor(model)
    sizes = as_sizes(schedule)
    if n is None:  # the predictor's own length when it has one, else the schedule's
        n = getattr(predict, "n", int(sizes.sum()))
    length = as_int(n, "n")
    sizes = as_sizes(sizes, length)
    count = as_int(num_samples, "num_samples")
    if count < 1:
        raise ValueError(f"num_samples must be >= 1, got {count}")
    require_memory(8 * count * length, "the samples")
    rng = np.random.default_rng(seed)
    out = np.empty((count, length), dtype=np.int64)
    for lo in range(0, count, batch_size):
        batch = min(batch_size, count - lo)
        steps = _random_steps(rng, batch, length, sizes)
        tokens = np.zeros((batch, length), dtype=np.int64)
        for j in range(sizes.size):
            mask = steps >= j
            probs = check_predictions(predict(tokens, mask), batch, length, mask)
            cumulative = np.cumsum(probs, axis=2)
            draws = (rng.random((batch, length, 1)) > cumulative).sum(axis=2)
            now = steps == j
            tokens[now] = np.minimum(draws, probs.shape[2] - 1)[now]
        out[lo:lo + batch] = tokens
    return out


def empirical_kl(samples: ArrayLike, p: ArrayLike, *, pseudocount: float = 0.5) -> float:
    """Plug-in ``KL(mu || nu_hat)`` (nats) of an explicit target ``p`` against the empirical law of ``samples``,
    smoothed with ``pseudocount`` per cell so that it stays finite. Biased upward by about
    ``(support - 1) / (2 N)``; for comparisons at equal N on small n."""
    target = as_dense(p)
    rows = np.asarray(samples)
    if rows.dtype.kind not in "iu":
        raise TypeError(f"samples must be integer token sequences, got dtype {rows.dtype}")
    if rows.ndim != 2 or rows.shape[0] == 0 or rows.shape[1] != target.ndim:
        raise ValueError(f"samples must be N x {target.ndim} with N >= 1, got shape {rows.shape}")
    if (rows < 0).any() or (rows >= np.asarray(target.shape)).any():
        raise ValueError(f"samples must hold symbols 0..q_i-1 for the alphabets {target.shape}")
    counts = np.zeros(target.shape)
    np.add.at(counts, tuple(rows.T), 1.0)
    nu = (counts + pseudocount) / (rows.shape[0] + pseudocount * counts.size)
    support = target > 0
    return float(np.sum(target[support] * np.log(target[support] / nu[support])))


def expected_kl(model: ExactModel, schedule: ArrayLike | Schedule, num_samples: int, *, seed: int | None = None,
                batch_size: int = 1024) -> tuple[float, float]:
    """Monte Carlo estimate of the theorem's quantity, ``E_partition KL(mu || nu_partition)`` (nats), with its
    standard error: draw ``x ~ mu`` and a random ordered partition with the schedule's sizes, and average
    ``log mu(x) - sum_j sum_{i in step j} log p(x_i | x revealed before step j)``. Unbiased; needs a model that
    knows its own law (:class:`ExactPredictor`, :class:`MarkovPredictor`). ``k`` model calls per batch.
    """
    require_attributes(model, ("n", "sample", "log_prob"), "model",
                       "an exact model that knows its own law (ExactPredictor, MarkovPredictor)")
    batch_size = as_count(batch_size, "batch_size")
    sizes = as_sizes(schedule, model.n)
    count = as_int(num_samples, "num_samples")
    if count < 2:
        raise ValueError(f"num_samples must be >= 2, got {count}")
    require_memory(8 * count, "the per-sample log-ratios")
    rng = np.random.default_rng(seed)
    values = np.empty(count)
    for lo in range(0, count, batch_size):
        batch = min(batch_size, count - lo)
        x = model.sample(batch, rng)
        steps = _random_steps(rng, batch, model.n, sizes)
        log_nu = np.zeros(batch)
        for j in range(sizes.size):
            probs = check_predictions(model(x, steps >= j), batch, model.n, steps >= j)
            picked = np.take_along_axis(probs, x[..., None], axis=2)[..., 0]
            with np.errstate(divide="ignore", invalid="ignore"):  # rows at unmasked positions are not used
                log_nu += np.sum(np.where(steps == j, np.log(picked), 0.0), axis=1)
        values[lo:lo + batch] = model.log_prob(x) - log_nu
    return float(values.mean()), float(values.std(ddof=1) / math.sqrt(count))
