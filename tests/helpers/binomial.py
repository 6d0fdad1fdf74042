"""Binomial intervals for the coverage tests' assertion messages (one helper for every coverage test)."""

from __future__ import annotations

import math


def wilson(hits: int, runs: int, z: float = 1.959964) -> str:
    """``hits``/``runs``, the observed rate and its Wilson interval (95% at the default ``z``)."""
    rate = hits / runs
    centre = (rate + z * z / (2 * runs)) / (1 + z * z / runs)
    half = z * math.sqrt(rate * (1 - rate) / runs + z * z / (4 * runs * runs)) / (1 + z * z / runs)
    return f"{hits}/{runs} = {rate:.1%} (95% Wilson CI {centre - half:.1%}..{centre + half:.1%})"
