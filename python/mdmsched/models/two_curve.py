"""The worst-case error over a band ``g_low <= g <= g_high`` and its minimisers (SPEC §5.3), in level form.

``U(s) = sum_j [(s_j - 1) g_high[N_{j-1}] - sum_{m=N_{j-1}+1}^{N_j-1} g_low[m]]`` (nats): a step cost
``c(a, b) = (b - a - 1) g_high[a] - (P_b - P_{a+1})`` with ``P_b = sum_{m<b} g_low[m]``. When the two curves are equal
this is the plain left-Riemann error of ``Z_i = g_0 - g_{i-1}`` and the package's C++ solvers answer. Otherwise the
solver's ``certified_*`` functions answer when the installed ``mdmsched.solve`` has them; until then this module's NumPy
dynamic programme does (O(k n^2) time, O(n^2) memory per layer) -- exact, for the moderate ``n`` of coarse grids.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from numpy.typing import NDArray

from .. import solve
from .._schedule import Schedule
from .._validation import require_memory


def band_error(g_high: NDArray[np.float64], g_low: NDArray[np.float64], sizes: NDArray[np.int64]) -> float:
    """``U(s)`` for step sizes ``sizes`` (nats). O(n)."""
    starts = np.concatenate(([0], np.cumsum(sizes)[:-1]))
    inner = np.ones(g_low.size, dtype=bool)
    inner[starts] = False
    return float(np.dot(sizes - 1, g_high[starts]) - g_low[inner].sum())


def _as_curve(g: NDArray[np.float64]) -> NDArray[np.float64]:
    """``Z_i = g_0 - g_{i-1}`` (``i = 1..n``): equal curves make ``U`` the plain error of this curve."""
    return np.asarray(g[0] - g, dtype=np.float64)


def _costs(g_high: NDArray[np.float64], g_low: NDArray[np.float64]) -> NDArray[np.float64]:
    """``c[a, b]`` for ``0 <= a < b <= n`` (``+inf`` elsewhere)."""
    n = g_high.size
    require_memory(8 * (n + 1) ** 2, f"the band's step-cost table (n = {n})")
    prefix = np.concatenate(([0.0], np.cumsum(g_low)))
    a = np.arange(n + 1)[:, None]
    b = np.arange(n + 1)[None, :]
    high = np.concatenate((g_high, [0.0]))[:, None]
    cost = (b - a - 1) * high - (prefix[None, :] - prefix[np.minimum(a + 1, n)])
    cost = np.where(b > a + 1, cost, np.where(b > a, 0.0, np.inf))
    return cost


def _layers(g_high: NDArray[np.float64], g_low: NDArray[np.float64], k_max: int,
            stop_at: float | None = None) -> tuple[list[float], list[NDArray[np.int64]]]:
    """Optimal ``U`` for ``k = 1..`` (up to ``k_max``, or until it is ``<= stop_at``) and their argmin tables."""
    n = g_high.size
    cost = _costs(g_high, g_low)
    best = cost[0].copy()  # one step from 0 to b
    values, parents = [float(best[n])], [np.zeros(n + 1, dtype=np.int64)]
    while len(values) < k_max and (stop_at is None or values[-1] > stop_at):
        total = best[:, None] + cost
        arg = np.argmin(total, axis=0)
        best = total[arg, np.arange(n + 1)]
        values.append(float(best[n]))
        parents.append(arg.astype(np.int64))
    return values, parents


def _trace(parents: list[NDArray[np.int64]], n: int) -> NDArray[np.int64]:
    cuts, b = [n], n
    for table in reversed(parents[1:]):
        b = int(table[b])
        cuts.append(b)
    cuts.append(0)
    return np.asarray(np.diff(np.asarray(cuts[::-1], dtype=np.int64)), dtype=np.int64)


def band_schedule(g_high: NDArray[np.float64], g_low: NDArray[np.float64], k: int, method: Any = "auto") -> Schedule:
    """The ``k``-step schedule minimising ``U``; its ``bound`` is that minimum."""
    if np.array_equal(g_high, g_low):
        best = solve.optimal_schedule(_as_curve(g_high), k, method=method)
        return Schedule(best.sizes, bound=band_error(g_high, g_low, best.sizes))
    native = getattr(solve, "certified_schedule", None)
    if native is not None:
        found: Schedule = native(g_high, g_low, k, method=method)
        return Schedule(found.sizes, bound=band_error(g_high, g_low, found.sizes))
    _, parents = _layers(g_high, g_low, k)
    sizes = _trace(parents, g_high.size)
    return Schedule(sizes, bound=band_error(g_high, g_low, sizes))


def band_min_steps(g_high: NDArray[np.float64], g_low: NDArray[np.float64], eps: float,
                   method: Any = "auto") -> Schedule:
    """The fewest steps whose minimal ``U`` is ``<= eps`` (``k = n`` always qualifies: ``U = 0``)."""
    n = g_high.size
    if np.array_equal(g_high, g_low):
        best = solve.min_steps(_as_curve(g_high), eps, method=method)
        return Schedule(best.sizes, bound=band_error(g_high, g_low, best.sizes))
    if eps <= 0.0:  # zero-cost steps only: the farthest reach from each start is optimal (g_high non-increasing)
        return Schedule(_zero_cost_cover(g_high, g_low), bound=0.0)
    native = getattr(solve, "certified_min_steps", None)
    if native is not None:
        found: Schedule = native(g_high, g_low, eps)
        return Schedule(found.sizes, bound=band_error(g_high, g_low, found.sizes))
    values, parents = _layers(g_high, g_low, n, stop_at=eps)
    sizes = _trace(parents, n) if values[-1] <= eps else np.ones(n, dtype=np.int64)
    return Schedule(sizes, bound=band_error(g_high, g_low, sizes))


def band_frontier(g_high: NDArray[np.float64], g_low: NDArray[np.float64], k_max: int) -> NDArray[np.float64]:
    """``min_s U(s)`` over ``k``-step schedules for ``k = 1..k_max`` (non-increasing and convex in ``k``)."""
    if np.array_equal(g_high, g_low):
        return solve.error_frontier(_as_curve(g_high), k_max)
    native = getattr(solve, "certified_frontier", None)
    if native is not None:
        return np.asarray(native(g_high, g_low, k_max), dtype=np.float64)
    values, _ = _layers(g_high, g_low, k_max)
    return np.asarray(values)


def _zero_cost_cover(g_high: NDArray[np.float64], g_low: NDArray[np.float64]) -> NDArray[np.int64]:
    """Fewest steps of cost exactly 0: a step from ``a`` may cover ``m`` while ``g_low[m] == g_high[a]``."""
    n, sizes, a = g_high.size, [], 0
    while a < n:
        b = a + 1
        while b < n and g_low[b] >= g_high[a]:
            b += 1
        sizes.append(b - a)
        a = b
    return np.asarray(sizes, dtype=np.int64)


__all__ = ["band_error", "band_frontier", "band_min_steps", "band_schedule"]
