"""The information curve of a trained model (SPEC §5, last item): ``h_m`` is the average predictive entropy of a
still-masked position after ``m`` random positions are revealed; then ``Z_i = h_0 - h_{i-1}``."""

from __future__ import annotations

import math
import time
from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike, NDArray

from ._validation import as_int, as_int_array, require_memory
from .curve import project_monotone
from .predictors import Predictor, check_predictions


@dataclass(frozen=True)
class CurveEstimate:
    """An estimated information curve (nats).

    ``Z`` is projected onto valid curves (``Z_1 = 0``, non-decreasing); ``Z_raw`` is the unprojected estimate with
    standard errors ``stderr``. ``grid`` holds the revealed counts ``m`` where ``h`` (with ``h_stderr``) was
    measured; other ``m`` are interpolated linearly. ``model_calls`` counts predictor calls, ``model_seconds`` the
    time spent inside them (the rest of the run is this package's overhead).
    """

    Z: NDArray[np.float64]
    Z_raw: NDArray[np.float64]
    stderr: NDArray[np.float64]
    grid: NDArray[np.int64]
    h: NDArray[np.float64]
    h_stderr: NDArray[np.float64]
    model_calls: int
    model_seconds: float
    total_seconds: float


def default_grid(n: int, points: int = 32) -> NDArray[np.int64]:
    """Revealed counts ``m``: every ``m = 0..n-1`` for short sequences, else ``points`` evenly spaced values."""
    if n <= points:
        return np.arange(n, dtype=np.int64)
    return np.unique(np.round(np.linspace(0, n - 1, points)).astype(np.int64))


def _masked_entropies(probs: NDArray[np.float64], mask: NDArray[np.bool_]) -> NDArray[np.float64]:
    """Predictive entropy (nats) at every masked position, 0 elsewhere; logs only where they are needed."""
    out = np.zeros(mask.shape)
    picked = probs[mask]
    out[mask] = -np.einsum("ij,ij->i", picked, np.log(np.maximum(picked, 1e-300)))
    return out


def estimate_curve(predict: Predictor, data: ArrayLike, *, sizes: ArrayLike | None = None, reps: int = 1,
                   batch_size: int = 256, seed: int | None = None) -> CurveEstimate:
    """Estimate ``Z`` from a masked model's predictions on sequences ``data`` (N x n ints, from the target
    distribution or from the model itself).

    For every ``m`` in ``sizes`` (default :func:`default_grid`) and every data row (``reps`` times), ``m`` random
    positions are revealed and the model's predictive entropies at the still-masked positions are averaged: one
    sample of ``h_m``. ``h_m`` is their mean, with a standard error; ``Z_i = h_0 - h_{i-1}``. Cost:
    ``ceil(len(grid) * N * reps / batch_size)`` model calls plus O(that * batch_size * n * q) arithmetic.
    """
    start = time.perf_counter()
    rows = np.asarray(data)
    if rows.dtype.kind not in "iu":
        raise TypeError(f"data must be integer token sequences, got dtype {rows.dtype}")
    if rows.ndim != 2 or rows.shape[0] < 2 or rows.shape[1] < 1:
        raise ValueError(f"data must be N x n with N >= 2 (a standard error needs two rows), got shape {rows.shape}")
    n = rows.shape[1]
    grid = default_grid(n) if sizes is None else np.unique(as_int_array(sizes, "sizes"))
    if grid.size == 0 or grid.min() < 0 or grid.max() > n - 1:
        raise ValueError(f"sizes must be revealed counts in 0..{n - 1}")
    if grid[0] != 0:
        grid = np.concatenate(([0], grid))  # h_0 anchors Z
    reps, batch_size = as_int(reps, "reps"), as_int(batch_size, "batch_size")
    if reps < 1 or batch_size < 1:
        raise ValueError("reps and batch_size must be >= 1")
    require_memory(24 * grid.size * rows.shape[0] * reps, "the estimation jobs")
    rng = np.random.default_rng(seed)

    # Every (grid point, row, rep) is one job: a row of tokens and a mask with m revealed positions.
    jobs_m = np.repeat(grid, rows.shape[0] * reps)
    jobs_row = np.tile(np.repeat(np.arange(rows.shape[0]), reps), grid.size)
    samples = np.empty(jobs_m.size)
    calls, model_seconds = 0, 0.0
    for lo in range(0, jobs_m.size, batch_size):
        m = jobs_m[lo:lo + batch_size]
        tokens = rows[jobs_row[lo:lo + batch_size]].astype(np.int64)
        order = np.argsort(rng.random(tokens.shape), axis=1)  # a random order of positions per row
        ranks = np.empty_like(order)
        np.put_along_axis(ranks, order, np.arange(n), axis=1)
        mask = ranks >= m[:, None]  # the first m positions of the order are revealed
        t0 = time.perf_counter()
        raw = predict(tokens, mask)
        model_seconds += time.perf_counter() - t0
        calls += 1
        entropies = _masked_entropies(check_predictions(raw, tokens.shape[0], n, mask), mask)
        samples[lo:lo + batch_size] = entropies.sum(axis=1) / mask.sum(axis=1)
    per_m = samples.reshape(grid.size, -1)
    h = per_m.mean(axis=1)
    h_se = per_m.std(axis=1, ddof=1) / math.sqrt(per_m.shape[1])
    all_m = np.arange(n)
    h_all = np.interp(all_m, grid, h)
    se_all = np.interp(all_m, grid, h_se)
    z_raw = h_all[0] - h_all
    stderr = np.sqrt(se_all**2 + se_all[0] ** 2)
    stderr[0] = 0.0
    return CurveEstimate(project_monotone(z_raw), z_raw, stderr, grid, h, h_se, calls, model_seconds,
                         time.perf_counter() - start)
