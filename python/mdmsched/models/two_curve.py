"""The worst-case error over a band ``g_low <= g <= g_high`` and its minimisers (SPEC §5.3), in level form.

``U(s) = sum_j [(s_j - 1) g_high[N_{j-1}] - sum_{m=N_{j-1}+1}^{N_j-1} g_low[m]]`` (nats). A thin layer over the solver's
``certified_*`` functions (C++, every method, exact): the estimate's curves come in already non-increasing, and the
``bound`` of each returned schedule is its ``U``.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from numpy.typing import NDArray

from .. import solve
from .._schedule import Schedule


def band_error(g_high: NDArray[np.float64], g_low: NDArray[np.float64], sizes: NDArray[np.int64]) -> float:
    """``U(s)`` for step sizes ``sizes`` (nats). O(n)."""
    return solve.certified_error(g_high, g_low, sizes)


def band_schedule(g_high: NDArray[np.float64], g_low: NDArray[np.float64], k: int, method: Any = "auto") -> Schedule:
    """The ``k``-step schedule minimising ``U``; its ``bound`` is that minimum."""
    found = solve.certified_schedule(g_high, g_low, k, method=method)
    return Schedule(found.sizes, bound=band_error(g_high, g_low, found.sizes))


def band_min_steps(g_high: NDArray[np.float64], g_low: NDArray[np.float64], eps: float,
                   method: Any = "auto") -> Schedule:
    """The fewest steps whose minimal ``U`` is ``<= eps`` (``k = n`` always qualifies: ``U = 0``)."""
    found = solve.certified_min_steps(g_high, g_low, eps, method=method)
    return Schedule(found.sizes, bound=band_error(g_high, g_low, found.sizes))


def band_frontier(g_high: NDArray[np.float64], g_low: NDArray[np.float64], k_max: int) -> NDArray[np.float64]:
    """``min_s U(s)`` over ``k``-step schedules for ``k = 1..k_max`` (non-increasing and convex in ``k``)."""
    return np.asarray(solve.certified_frontier(g_high, g_low, k_max), dtype=np.float64)


__all__ = ["band_error", "band_frontier", "band_min_steps", "band_schedule"]
