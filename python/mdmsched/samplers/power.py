"""How many rows (issue 25.6): from a pilot's per-row values, the rows a target standard error needs, and the rows a
paired comparison needs to detect a stated gain with stated power.

Both use the normal approximation of a mean over rows with the pilot's sample variance as the truth: ``se(N) = s /
sqrt(N)``, so ``N = ceil(s^2 / se^2)``; a two-sided paired test at ``confidence`` detects a true mean difference
``gain`` with probability ``power`` when ``N >= ((z_{(1+c)/2} + z_power) s_d / gain)^2`` (``s_d`` the standard
deviation of the per-row differences). A small pilot's ``s`` is itself noisy (and heavy-tailed losses make it
optimistic): treat the answer as a plan, and re-check the standard error of the full run.
"""

from __future__ import annotations

import math
from statistics import NormalDist

import numpy as np
from numpy.typing import ArrayLike

from .._validation import as_confidence, as_real_array, as_tolerance


def _spread(values: ArrayLike, name: str) -> float:
    arr = as_real_array(values, name, ndim=1)
    if arr.size < 2 or not np.isfinite(arr).all():
        raise ValueError(f"{name} must be at least 2 finite per-row values (a pilot run), got shape {arr.shape}")
    return float(arr.std(ddof=1))


def _positive(value: object, name: str) -> float:
    checked = as_tolerance(value, name)
    if checked == 0:
        raise ValueError(f"{name} must be positive (nats), got {value!r}")
    return checked


def rows_for_stderr(values: ArrayLike, stderr: float) -> int:
    """Rows for a mean of per-row ``values`` (nats) to have standard error ``stderr``: ``ceil(s^2 / stderr^2)``
    (at least 2), ``s`` the pilot's standard deviation. O(N)."""
    spread, target = _spread(values, "values"), _positive(stderr, "stderr")
    return max(2, math.ceil((spread / target) ** 2 * (1 - 1e-12)))


def rows_to_detect(differences: ArrayLike, gain: float, *, power: float = 0.8, confidence: float = 0.95) -> int:
    """Rows for a paired comparison whose per-row ``differences`` (nats) the pilot gives to detect a true mean
    difference of ``gain`` nats with probability ``power`` by a two-sided test at ``confidence``:
    ``ceil(((z_{(1+confidence)/2} + z_power) s_d / gain)^2)``, at least 2. O(N)."""
    spread, size = _spread(differences, "differences"), _positive(gain, "gain")
    z = NormalDist().inv_cdf(0.5 + as_confidence(confidence) / 2) + NormalDist().inv_cdf(as_confidence(power, "power"))
    return max(2, math.ceil((z * spread / size) ** 2 * (1 - 1e-12)))


__all__ = ["rows_for_stderr", "rows_to_detect"]
