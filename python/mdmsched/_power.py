"""How many rows (issue 25.6), the formula every estimate shares: from a pilot's per-row spread, the rows a target
standard error needs and the rows a paired comparison needs to detect a stated gain with stated power.

Normal approximation of a mean over independent rows with the pilot's standard deviation ``s`` (nats) as the truth:
``se(N) = s / sqrt(N)``, so ``N = ceil(s^2 / se^2)``; a two-sided test at ``confidence`` detects a true mean
difference ``gain`` with probability ``power`` when ``N >= ((z_{(1+c)/2} + z_power) s_d / gain)^2`` (``s_d`` the
standard deviation of the per-row differences). A small pilot's ``s`` is itself noisy (heavy-tailed losses make it
optimistic): the answer is a plan; re-check the standard error of the full run. Ground floor: the sampler estimates
(``samplers/power.py``) and the curve estimates (``models/curve_estimate.py``) both call it.
"""

from __future__ import annotations

import math
from statistics import NormalDist

import numpy as np
from numpy.typing import ArrayLike

from ._validation import as_confidence, as_real_array, as_tolerance

#: a ratio that lands on an integer up to rounding (s / se exactly 20 -> 400 rows, not 401)
_ROUNDING = 1 - 1e-12


def pilot_spread(values: ArrayLike, name: str) -> float:
    """The sample standard deviation (``ddof=1``) of a pilot's per-row values; at least 2 finite values. O(N)."""
    arr = as_real_array(values, name, ndim=1)
    if arr.size < 2 or not np.isfinite(arr).all():
        raise ValueError(f"{name} must be at least 2 finite per-row values (a pilot run), got shape {arr.shape}")
    return float(arr.std(ddof=1))


def _positive(value: object, name: str) -> float:
    checked = as_tolerance(value, name)
    if checked == 0:
        raise ValueError(f"{name} must be positive (nats), got {value!r}")
    return checked


def rows_for_spread(spread: float, stderr: float) -> int:
    """Rows for a mean of per-row values with standard deviation ``spread`` (nats) to have standard error
    ``stderr``: ``ceil(spread^2 / stderr^2)``, at least 2. O(1)."""
    s, target = as_tolerance(spread, "spread"), _positive(stderr, "stderr")
    return max(2, math.ceil((s / target) ** 2 * _ROUNDING))


def rows_to_detect_spread(spread: float, gain: float, *, power: float = 0.8, confidence: float = 0.95) -> int:
    """Rows for a paired comparison whose per-row differences have standard deviation ``spread`` (nats) to detect a
    true mean difference ``gain`` with probability ``power`` by a two-sided test at ``confidence``:
    ``ceil(((z_{(1+confidence)/2} + z_power) spread / gain)^2)``, at least 2. O(1)."""
    s, size = as_tolerance(spread, "spread"), _positive(gain, "gain")
    z = NormalDist().inv_cdf(0.5 + as_confidence(confidence) / 2) + NormalDist().inv_cdf(as_confidence(power, "power"))
    return max(2, math.ceil((z * s / size) ** 2 * _ROUNDING))
