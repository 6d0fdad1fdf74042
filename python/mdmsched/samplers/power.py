"""How many rows (issue 25.6): from a pilot's per-row values, the rows a target standard error needs, and the rows a
paired comparison needs to detect a stated gain with stated power.

The formula (normal approximation with the pilot's standard deviation as the truth) lives on the ground floor in
``mdmsched._power``, shared with the curve estimates (``CurveEstimate.rows_for``, ``ErrorEstimate.rows_to_detect``);
here it takes the pilot's per-row values. A small pilot's spread is itself noisy (heavy-tailed losses make it
optimistic): treat the answer as a plan, and re-check the standard error of the full run.
"""

from __future__ import annotations

from numpy.typing import ArrayLike

from .._power import pilot_spread, rows_for_spread, rows_to_detect_spread


def rows_for_stderr(values: ArrayLike, stderr: float) -> int:
    """Rows for a mean of per-row ``values`` (nats) to have standard error ``stderr``: ``ceil(s^2 / stderr^2)``
    (at least 2), ``s`` the pilot's standard deviation. O(N)."""
    return rows_for_spread(pilot_spread(values, "values"), stderr)


def rows_to_detect(differences: ArrayLike, gain: float, *, power: float = 0.8, confidence: float = 0.95) -> int:
    """Rows for a paired comparison whose per-row ``differences`` (nats) the pilot gives to detect a true mean
    difference of ``gain`` nats with probability ``power`` by a two-sided test at ``confidence``:
    ``ceil(((z_{(1+confidence)/2} + z_power) s_d / gain)^2)``, at least 2. O(N)."""
    return rows_to_detect_spread(pilot_spread(differences, "differences"), gain, power=power, confidence=confidence)


__all__ = ["rows_for_stderr", "rows_to_detect"]
