"""Simultaneous bounds on every step's error at once: the ramp band (SPEC §5.3, issue 25.3).

A schedule's error is a sum over its steps, and a step revealing counts ``a..b-1`` (``0 <= a < b <= n``) costs
``sum_{m=a+1}^{b-1} (g_a - g_m) >= 0`` (nats). Between grid points ``m_0 = 0 < ... < m_{G-1} = n - 1`` each ``g_m`` is
taken at the worst end of its bracket, which makes the step's bound a linear functional of the increments
``d_l = g_{m_l} - g_{m_{l+1}}``, a **ramp** (on a full grid ``R_ab(d) = sum_{l=a}^{b-2} (b - 1 - l) d_l``):

* upper: ``alpha d_{l_a} + sum_{l > l_a} max(0, b - 1 - m_l) d_l``, ``l_a`` the grid cell of ``a`` (``m_{l_a} <= a``),
  ``alpha = b - 1 - a``;
* lower: ``alpha d_{l_a} + sum_{l > l_a} max(0, b - m_{l+1}) d_l`` with ``alpha = max(0, b - m_{l_a+1})`` when ``a`` is a
  grid point, else ``alpha = -max(0, min(b, m_{l_a+1}) - 1 - a)`` (the bracket's lower end can fall below the step).

Every partition of ``0..n`` into steps is a schedule, so "every schedule's error is within the sum of its steps' bounds"
holds exactly when every ramp is covered: the family made simultaneous is the ``n (n - 1) / 2`` ramps with ``b - a >= 2``
(single-token steps cost exactly 0), not the ``G - 1`` increments. Each ramp gets its own studentised bound
``R_ab(mean) +- c se(R_ab)``, ``se`` the standard error of the per-row ramp value (so the correlation between increments
counts), one ``c`` for all: by default the Gaussian multiplier bootstrap of ``max_ab t_ab`` (the ramps overlap, so the
effective number of tests is far below their count) carried to Student-t, never above the Bonferroni-t quantile at
``1 - (1 - confidence) / (n (n - 1) / 2)`` per side (:func:`multiplier_bootstrap`, :func:`ramp_multiplier`). A box over increments adds
``sum_l w_l c_l se_l`` per step; the ramp adds ``c sqrt(w' Sigma w / N)``, much less for long steps. A constant increment
(``se = 0`` on these rows by chance) borrows the largest variance of the others, as in :func:`.bands.band_stderr`.
Each step's true error is ``>= 0`` for a non-increasing ``g`` (what the brackets assume), so bounds are clipped at 0.

Cost: ``O(n G^2 + n^2)`` time, ``O(n^2)`` memory (the step-cost matrix); the certified solvers on it are plain dynamic
programs (:mod:`.step_costs`), so the ramp band is used for ``n <= RAMP_MAX_POSITIONS`` and grids of at least
``RAMP_MIN_GRID_POINTS`` points (coarser grids: the box, as tight there) from ``RAMP_MIN_ROWS`` rows (fewer: the box,
which held on heavy tails where the ramps' far-tail t quantiles did not).
"""

from __future__ import annotations

import math
from statistics import NormalDist

import numpy as np
from numpy.typing import NDArray

from .._validation import as_choice, as_confidence, as_count, as_counts, as_flag, as_real_array, require_memory
from .bands import BOOTSTRAP_RESAMPLES, Sides, student_t_quantile

#: Fewest grid points for the ramp band: with fewer, steps span few increments and the box is as tight or tighter
#: (measured, 2-state chain n = 20, certified 3- and 6-step bounds ramp / box median: 1.02-1.04 at G = 3-4, 0.95-0.99
#: at 6, 0.83-0.94 at 11; BENCHMARKS.md "Ramp band"). A rule on the grid alone, fixed before the data: valid.
RAMP_MIN_GRID_POINTS = 6
#: Fewest data rows for the ramp band: at 30 rows with heavy-tailed losses its certified bounds missed 18-21/300 at
#: nominal 95% where the box missed 4-6/300 (a 3% symbol at model probability 1e-6, n = 20; state-dependent 1e-5 holes,
#: n = 16); from 100 rows both held (BENCHMARKS.md "Ramp band"). A rule on the row count alone, fixed before the data.
RAMP_MIN_ROWS = 100
#: Largest ``n`` for the ramp band: its step-cost matrices are ``(n + 1)^2`` and the certified solvers ``O(k n^2)``.
RAMP_MAX_POSITIONS = 512


def ramp_count(n: int) -> int:
    """The ramps with ``b - a >= 2`` over ``0 <= a < b <= n``: ``n (n - 1) / 2``, the Bonferroni family size."""
    return n * (n - 1) // 2


def ramp_multiplier(n: int, rows: int, confidence: float, sides: Sides) -> float:
    """``c`` by Bonferroni: Student-t (``rows - 1`` dof) at ``1 - (1 - confidence) / count`` per side (both sides: half
    each). O(1)."""
    count = max(ramp_count(n), 1)
    alpha = (1.0 - confidence) / count / (2 if sides == "two" else 1)
    return student_t_quantile(1.0 - alpha, rows - 1)


def multiplier_bootstrap(samples: NDArray[np.float64], grid: NDArray[np.int64], n: int, confidence: float,
                         sides: Sides, seed: int, known_se: dict[bool, NDArray[np.float64]] | None = None) -> float:
    """``c`` from the Gaussian multiplier bootstrap of ``max_ab t_ab`` over the ramps (it sees their correlation: long
    ramps overlap), carried to Student-t: the Gaussian quantile ``c_z`` gives a per-ramp tail ``1 - Phi(c_z)`` (an
    effective number of tests), and ``c`` is the t quantile (``rows - 1`` dof) at that tail, never above Bonferroni's.
    ``B = BOOTSTRAP_RESAMPLES`` draws ``xi ~ N(0, 1)`` per row; ``t*_ab = w_ab . (D_c xi) / (sqrt(N (N - 1)) se_ab)``
    (unit variance given the rows).
    O(B (n G + n^2)) time, chunked to ~5e6 numbers at once. ``known_se``: the ramps' standard errors by side
    (``True`` = upper) when already computed."""
    rows = samples.shape[1]
    d = samples[:-1] - samples[1:]
    if d.shape[0] == 0 or ramp_count(n) == 0:
        return 0.0
    centred = d - d.mean(axis=1, keepdims=True)
    rng = np.random.default_rng([seed, 0x4A3B_5EED])
    xi = rng.standard_normal((rows, BOOTSTRAP_RESAMPLES))
    draws = centred @ xi  # (G - 1) x B: sum_i xi_i (d_i - mean d)
    cell, _ = _cells(grid, n)
    steps = (np.arange(n + 1)[None, :] - np.arange(n + 1)[:, None]) >= 2
    parts = []
    for upper, sign in ((True, 1.0), (False, -1.0)):
        if (sides == "upper" and not upper) or (sides == "lower" and upper):
            continue
        alpha, v = ramp_weights(grid, n, upper)
        se = known_se[upper] if known_se and upper in known_se else ramp_moments(samples, grid, n, upper)[1]
        live = steps & (se > 0)
        if live.any():
            starts, ends = np.nonzero(live)
            parts.append((alpha[live], cell[starts], ends, v, se[live] * math.sqrt(rows * (rows - 1)), sign))
    if not parts:
        return 0.0
    stat = np.full(BOOTSTRAP_RESAMPLES, -np.inf)
    chunk = max(1, 5_000_000 // max(sum(p[0].size for p in parts) + (n + 1) * d.shape[0], 1))
    for start in range(0, BOOTSTRAP_RESAMPLES, chunk):
        u = draws[:, start:start + chunk]  # (G - 1) x b
        for alpha, la, b, v, scale, sign in parts:
            weighted = v[:, :, None] * u[None, :, :]  # (n + 1) x (G - 1) x b
            tail = np.cumsum(weighted[:, ::-1], axis=1)[:, ::-1]  # tail[b, j] = sum_{l >= j} v[b, l] u_l
            after = np.zeros_like(tail)
            after[:, :-1] = tail[:, 1:]
            value = alpha[:, None] * u[la] + after[b, la]
            t = sign * value / scale[:, None]
            stat[start:start + chunk] = np.maximum(stat[start:start + chunk], t.max(axis=0))
    c_z = float(np.quantile(stat, confidence, method="higher"))
    tail_p = max(1.0 - NormalDist().cdf(c_z), 1e-300)
    return min(student_t_quantile(1.0 - tail_p, rows - 1), ramp_multiplier(n, rows, confidence, sides))


def _cells(grid: NDArray[np.int64], n: int) -> tuple[NDArray[np.int64], NDArray[np.bool_]]:
    """Per ``a = 0..n``: the grid cell ``l_a`` (largest ``l`` with ``m_l <= a``, at most ``G - 2``) and ``a`` on the grid."""
    a = np.arange(n + 1)
    cell = np.clip(np.searchsorted(grid, a, side="right") - 1, 0, max(grid.size - 2, 0))
    on_grid = np.isin(a, grid)
    return cell.astype(np.int64), on_grid


def ramp_weights(grid: NDArray[np.int64], n: int, upper: bool) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """``(alpha, v)``: ``alpha[a, b]`` the coefficient of ``d_{l_a}`` and ``v[b, l]`` that of ``d_l`` for ``l > l_a``
    (see the module doc). O(n G + n^2)."""
    a = np.arange(n + 1)[:, None]
    b = np.arange(n + 1)[None, :]
    cell, on_grid = _cells(grid, n)
    left = grid[:-1][None, :]  # m_l for the increment l
    right = grid[1:][None, :]  # m_{l+1}
    bs = np.arange(n + 1)[:, None]
    if upper:
        alpha = (b - 1 - a).astype(np.float64)
        v = np.maximum(bs - 1 - left, 0).astype(np.float64)
    else:
        nxt = grid[np.minimum(cell + 1, grid.size - 1)][:, None]  # m_{l_a + 1}
        alpha = np.where(on_grid[:, None], np.maximum(b - nxt, 0), -np.maximum(np.minimum(b, nxt) - 1 - a, 0))
        alpha = alpha.astype(np.float64)
        v = np.maximum(bs - right, 0).astype(np.float64)
    alpha = np.where(b - a >= 2, alpha, 0.0)
    return alpha, v


def ramp_moments(samples: NDArray[np.float64], grid: NDArray[np.int64], n: int,
                 upper: bool) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """``(mean, se)``, ``(n + 1) x (n + 1)``: every step ramp's mean over the rows and its standard error (0 where
    ``b - a < 2``). ``samples``: per-row levels at the grid points (G x N). O(n G^2 + n^2)."""
    rows = samples.shape[1]
    require_memory(6 * 8 * (n + 1) ** 2, f"the ramp band's step-cost matrices (n = {n})")
    alpha, v = ramp_weights(grid, n, upper)
    cell, _ = _cells(grid, n)
    d = samples[:-1] - samples[1:]
    if d.shape[0] == 0:
        zero = np.zeros((n + 1, n + 1))
        return zero, zero.copy()
    mean_d = d.mean(axis=1)
    cov = np.atleast_2d(np.cov(d, ddof=1)) if rows > 1 else np.zeros((d.shape[0], d.shape[0]))
    var = np.diag(cov).copy()
    live = var > 0
    if live.any() and not live.all():  # a constant increment borrows the largest variance, as an independent one
        cov = cov + np.diag(np.where(live, 0.0, var[live].max()))
    # S(l0, b) = sum_{l > l0} v[b, l] d_l: its mean, its variance and its covariance with d_{l0}, for every (l0, b)
    width = d.shape[0]
    tail_mean = np.zeros((n + 1, width))
    tail_var = np.zeros((n + 1, width))
    tail_cov = np.zeros((n + 1, width))
    for b in range(n + 1):
        vb = v[b]
        weighted = cov * vb[None, :]  # Sigma_{i l} v_l
        suffix = np.cumsum(weighted[:, ::-1], axis=1)[:, ::-1]  # suffix[i, j] = sum_{l >= j} Sigma_{i l} v_l
        after = np.zeros(width)
        after[:-1] = suffix[np.arange(width - 1), np.arange(1, width)]  # sum_{l > i} Sigma_{i l} v_l
        term = vb**2 * np.diag(cov) + 2.0 * vb * after  # the i-th addend of Var(sum_{l >= i} v_l d_l)
        tail_var[b, :-1] = np.cumsum(term[::-1])[::-1][1:]
        tail_cov[b] = after
        tail_mean[b, :-1] = np.cumsum((vb * mean_d)[::-1])[::-1][1:]
    la = cell[:, None]
    bb = np.arange(n + 1)[None, :]
    mean = alpha * mean_d[la] + tail_mean[bb, la]
    variance = alpha**2 * cov[la, la] + 2.0 * alpha * tail_cov[bb, la] + tail_var[bb, la]
    steps = (bb - np.arange(n + 1)[:, None]) >= 2
    mean = np.where(steps, mean, 0.0)
    se = np.where(steps, np.sqrt(np.maximum(variance, 0.0) / rows), 0.0)
    return mean, se


def step_bounds(samples: NDArray[np.float64], grid: NDArray[np.int64], n: int, confidence: float,
                sides: Sides, bootstrap: bool = False, seed: int = 0) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """``(low, high)`` step-cost matrices ``(n + 1) x (n + 1)`` (nats; ``+inf`` where ``a >= b``): with probability
    ``>= confidence`` every step ``a -> b`` has ``low[a, b] <= cost <= high[a, b]`` at once (``sides`` says which are
    bounded: an unbounded side is ``0`` below, ``+inf`` above). ``samples``: per-row levels at the grid points (G x N,
    ``N >= 2``). O(n G^2 + n^2) (+ the bootstrap's O(B (n G + n^2)))."""
    samples = as_real_array(samples, "samples", ndim=2)
    grid = as_counts(grid, "grid")
    n = as_count(n, "n")
    if grid.ndim != 1 or grid.size != samples.shape[0] or grid.size < 2 or grid[0] != 0 or (np.diff(grid) <= 0).any() \
            or grid[-1] >= n:
        raise ValueError(f"grid must be increasing revealed counts from 0 below n = {n}, one per row of samples "
                         f"({samples.shape[0]}), got {grid.tolist()[:8]}")
    confidence = as_confidence(confidence)
    sides = as_choice(sides, "sides", ("upper", "lower", "two"))  # type: ignore[assignment]
    bootstrap = as_flag(bootstrap, "bootstrap")
    rows = as_count(samples.shape[1], "samples' rows (columns)", minimum=2)
    moments = {upper: ramp_moments(samples, grid, n, upper) for upper in (True, False)
               if (upper and sides != "lower") or (not upper and sides != "upper")}
    c = (multiplier_bootstrap(samples, grid, n, confidence, sides, seed, {k: v[1] for k, v in moments.items()})
         if bootstrap else ramp_multiplier(n, rows, confidence, sides))
    a = np.arange(n + 1)[:, None]
    b = np.arange(n + 1)[None, :]
    invalid = a >= b
    single = (b - a) == 1
    high = np.full((n + 1, n + 1), np.inf)
    low = np.zeros((n + 1, n + 1))
    if sides != "lower":
        mean, se = moments[True]
        high = np.maximum(mean + c * se, 0.0)
        high[single] = 0.0
    if sides != "upper":
        mean, se = moments[False]
        low = np.maximum(mean - c * se, 0.0)
        low[single] = 0.0
    high[invalid] = np.inf
    low[invalid] = np.inf
    return low, high


__all__ = ["RAMP_MAX_POSITIONS", "RAMP_MIN_GRID_POINTS", "RAMP_MIN_ROWS", "multiplier_bootstrap", "ramp_count", "ramp_moments", "ramp_multiplier", "ramp_weights",
           "step_bounds"]
