"""Simultaneous confidence bands from data rows (SPEC §5.3): bounds on several row means at once.

Each data row gives one value per statistic (an ``N x L`` matrix ``X``; the statistics are an estimate's level ``g_0``
and its increments ``g_{m_l} - g_{m_{l+1}}`` between grid points, in nats). A band is ``mean_l +- c se_l`` with one
multiplier ``c`` for all ``l``, calibrated so that every ``l`` is covered at once with probability ``>= confidence``:

* ``"ramps"`` (default): not a box at all, see :mod:`.ramps` (bounds every *step's* error at once); where it does
  not apply (several curves, an absolute KL, ``n > RAMP_MAX_POSITIONS``) the box at Bonferroni-t below.
* ``"bonferroni"``: Student-t quantile at ``1 - (1 - confidence) / L`` (Cornish-Fisher expansion).
* ``"bootstrap"``: the row bootstrap of the studentised max-statistic (bootstrap-t): ``c`` is the
  ``confidence`` quantile of ``max_l (mean_l - mean*_l) / se*_l`` over resamples of the rows. It adapts to the correlation
  between statistics and, being studentised, to skewed (heavy-tailed) per-row values. ``B`` resamples cost two
  ``(B x N) @ (N x L)`` products.

Measured (BENCHMARKS.md, issue 20) with the nested estimator, whose increments are nearly uncorrelated (so Bonferroni
loses little): at equal (>= nominal) coverage Bonferroni-t is the tighter of the two -- certified ``min_steps`` median
k = 14 vs 15 (2-state Markov, n = 40, N = 1000, 40 runs, both 100% valid), and on heavy-tailed losses (N = 100, a
symbol of 3% mass at probability 1e-6) a fixed schedule's simultaneous bound is 0.30 vs 0.43 nats above the estimate
with coverage 99.0% vs 99.7% over 300 runs. It needs no resampling, so it is the box used where the ramps do not apply.

Statistics whose rows are all equal (``se = 0``, e.g. an increment that is exactly 0 on every row) are **not** known
exactly: a rare event (two masked neighbours at the last grid step, probability ~5% per row) may simply not have occurred
in ``N`` rows. They borrow the largest standard error of the other statistics (:func:`band_stderr`) and count in the
Bonferroni level; only when every statistic is constant on every row is the band of zero width (nothing to borrow; the
rows then carry no information about any spread). Issue 28.2: the old zero width certified an error of 0 that was 0.0038.
"""

from __future__ import annotations

import math
from statistics import NormalDist
from typing import Literal

import numpy as np
from numpy.typing import NDArray

BandCalibration = Literal["ramps", "bootstrap", "bonferroni"]
Sides = Literal["upper", "lower", "two"]
CALIBRATIONS: tuple[BandCalibration, ...] = ("ramps", "bonferroni", "bootstrap")
#: The ramp band (:mod:`.ramps`) where it applies (one curve, ``n <= RAMP_MAX_POSITIONS``, relative errors), else the
#: box below at Bonferroni-t (issue 25.3: measured tighter at equal coverage, BENCHMARKS.md "Ramp band").
DEFAULT_CALIBRATION: BandCalibration = "ramps"


def box_calibration(calibration: BandCalibration) -> BandCalibration:
    """The box band's calibration for ``calibration``: ``"ramps"`` has no box form and falls back to Bonferroni-t."""
    return "bonferroni" if calibration == "ramps" else calibration
#: Bootstrap resamples of the max-statistic: the 95% quantile's own Monte Carlo error is then ~1-2% of ``c``.
BOOTSTRAP_RESAMPLES = 1000


def student_t_quantile(p: float, dof: int) -> float:
    """The ``p`` quantile of Student's t with ``dof`` degrees of freedom (Cornish-Fisher in ``1/dof``; exact as
    ``dof -> inf``, within ~1e-3 relative for ``dof >= 10``; for ``dof < 3`` the Cauchy/``dof = 2`` closed forms)."""
    if dof == 1:
        return math.tan(math.pi * (p - 0.5))
    if dof == 2:
        a = 4.0 * p * (1.0 - p)
        return (2.0 * p - 1.0) * math.sqrt(2.0 / a)
    z = NormalDist().inv_cdf(p)
    v = float(dof)
    return (z + (z**3 + z) / (4 * v) + (5 * z**5 + 16 * z**3 + 3 * z) / (96 * v**2)
            + (3 * z**7 + 19 * z**5 + 17 * z**3 - 15 * z) / (384 * v**3)
            + (79 * z**9 + 776 * z**7 + 1482 * z**5 - 1920 * z**3 - 945 * z) / (92160 * v**4))


def band_stderr(x: NDArray[np.float64]) -> NDArray[np.float64]:
    """Standard error per column of ``x`` (``N x L``), a constant column (``se = 0``) taking the largest ``se`` of the
    others (see the module doc). O(N L)."""
    se = x.std(axis=0, ddof=1) / math.sqrt(x.shape[0])
    live = se > 0
    if live.any():
        se = np.where(live, se, se[live].max())
    return np.asarray(se, dtype=np.float64)


def band_multiplier(x: NDArray[np.float64], confidence: float, sides: Sides, calibration: BandCalibration,
                    seed: int) -> float:
    """The multiplier ``c`` of the band ``mean +- c se`` over the columns of ``x`` (``N x L``); see the module doc.

    ``sides="upper"``: ``true_l <= mean_l + c se_l`` for all ``l``; ``"lower"``: ``>=  mean_l - c se_l``; ``"two"``:
    both. O(B N L) for the bootstrap (as matrix products), O(N L) for Bonferroni."""
    rows = x.shape[0]
    se = x.std(axis=0, ddof=1) / math.sqrt(rows)
    live = se > 0
    if not live.any():
        return 0.0
    if calibration == "bonferroni":  # constant columns count too: they borrow a standard error (band_stderr)
        alpha = (1.0 - confidence) / se.size / (2 if sides == "two" else 1)
        return student_t_quantile(1.0 - alpha, rows - 1)
    x = x[:, live]  # a constant column's resampled t is 0: it cannot raise the maximum
    mean = x.mean(axis=0)
    rng = np.random.default_rng([seed, 0x5EED_BA2D])
    picks = rng.integers(0, rows, (BOOTSTRAP_RESAMPLES, rows))
    offsets = np.arange(BOOTSTRAP_RESAMPLES)[:, None] * rows
    counts = np.bincount((picks + offsets).ravel(), minlength=BOOTSTRAP_RESAMPLES * rows)
    weights = counts.reshape(BOOTSTRAP_RESAMPLES, rows) / rows
    centred = x - mean  # resample means and variances from centred values: no cancellation
    boot_mean = weights @ centred
    boot_var = np.maximum(weights @ centred**2 - boot_mean**2, 0.0) * rows / (rows - 1)
    boot_se = np.sqrt(boot_var / rows)
    floor = 1e-12 * (np.abs(mean) + se[live])  # a resample of identical rows: no studentisation, t = 0 for it
    t = np.where(boot_se > floor, -boot_mean / np.maximum(boot_se, floor), 0.0)  # (mean - mean*) / se*
    if sides == "upper":
        stat = t.max(axis=1)
    elif sides == "lower":
        stat = (-t).max(axis=1)
    else:
        stat = np.abs(t).max(axis=1)
    return float(np.quantile(stat, confidence, method="higher"))


def band(x: NDArray[np.float64], confidence: float, sides: Sides, calibration: BandCalibration,
         seed: int) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """``(low, high)`` per column of ``x``, holding for every column at once (``-inf``/``+inf`` on an unbounded side)."""
    mean = x.mean(axis=0)
    se = band_stderr(x)
    c = band_multiplier(x, confidence, sides, calibration, seed)
    high = mean + c * se if sides != "lower" else np.full_like(mean, np.inf)
    low = mean - c * se if sides != "upper" else np.full_like(mean, -np.inf)
    return low, high


__all__ = ["BOOTSTRAP_RESAMPLES", "CALIBRATIONS", "DEFAULT_CALIBRATION", "BandCalibration", "Sides", "band", "band_multiplier",
           "band_stderr", "box_calibration", "student_t_quantile"]
