"""Pure-NumPy reference implementations: simple, obviously correct, slow. The C++ core is tested and benchmarked
against these. They validate nothing beyond what they need; call them with valid inputs.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike, NDArray


def schedule_error(z: ArrayLike, sizes: ArrayLike) -> float:
    """``err(Z, s) = sum_i (Z_i - Z_{start of i's step})`` by repeating each step's left height. O(n)."""
    curve = np.asarray(z, dtype=np.float64)
    steps = np.asarray(sizes, dtype=np.int64)
    starts = np.concatenate(([0], np.cumsum(steps)[:-1]))
    return float(np.sum(curve - np.repeat(curve[starts], steps)))


def _layers(z: ArrayLike, k: int, exact_k: bool) -> tuple[NDArray[np.float64], NDArray[np.int64], list[float]]:
    """The O(k n^2) DP ``D_j(b) = min_a D_{j-1}(a) + c(a, b)``, vectorised over ``a`` for each ``b``."""
    curve = np.asarray(z, dtype=np.float64)
    n = curve.size
    prefix = np.concatenate(([0.0], np.cumsum(curve)))
    prev = np.full(n + 1, np.inf)
    prev[0] = 0.0
    arg = np.full((k + 1, n + 1), -1, dtype=np.int64)
    last_values = []
    for j in range(1, k + 1):
        cur = np.full(n + 1, np.inf)
        hi = n - (k - j) if exact_k else n
        for b in range(j, hi + 1):
            a = np.arange(j - 1, b)
            values = prev[a] + (prefix[b] - prefix[a]) - (b - a) * curve[a]
            best = int(np.argmin(values))  # first minimum: smallest a on ties
            cur[b] = values[best]
            arg[j, b] = a[best]
        last_values.append(float(cur[n]))
        prev = cur
    return prev, arg, last_values


def optimal_schedule(z: ArrayLike, k: int) -> tuple[float, NDArray[np.int64]]:
    """``(opt_k, sizes)`` for exactly ``k`` steps by the plain DP. O(k n^2) time, O(k n) memory."""
    curve = np.asarray(z, dtype=np.float64)
    n = curve.size
    _, arg, _ = _layers(curve, k, exact_k=True)
    breakpoints = [n]
    for j in range(k, 0, -1):
        breakpoints.append(int(arg[j, breakpoints[-1]]))
    sizes = np.asarray(np.diff(breakpoints[::-1]), dtype=np.int64)
    return schedule_error(curve, sizes), sizes


def error_frontier(z: ArrayLike, k_max: int) -> NDArray[np.float64]:
    """``opt_k`` for ``k = 1..k_max`` from one layered DP sweep. O(k_max n^2)."""
    _, _, values = _layers(z, k_max, exact_k=False)
    return np.asarray(values)


# ---- certified (two-curve) schedules over a band g_lo <= g <= g_hi of level curves (SPEC §5.3) ---------------


def certified_error(g_high: ArrayLike, g_low: ArrayLike, sizes: ArrayLike) -> float:
    """``U(s) = sum_j [(s_j - 1) g_hi[N_{j-1}] - sum_{m=N_{j-1}+1}^{N_j - 1} g_lo[m]]``: the largest ``err`` of ``s``
    over every level curve inside the band, step by step from the definition. O(n)."""
    hi = np.asarray(g_high, dtype=np.float64)
    lo = np.asarray(g_low, dtype=np.float64)
    total, start = 0.0, 0
    for size in np.asarray(sizes, dtype=np.int64).tolist():
        total += float(np.sum(hi[start] - lo[start + 1 : start + size]))
        start += size
    return total


def _certified_layers(
    g_high: ArrayLike, g_low: ArrayLike, k: int, exact_k: bool
) -> tuple[NDArray[np.int64], list[float]]:
    """The O(k n^2) DP with the two-curve step cost ``c^U(a, b) = (b - a - 1) g_hi[a] - (P_lo[b] - P_lo[a+1])``."""
    hi = np.asarray(g_high, dtype=np.float64)
    lo = np.asarray(g_low, dtype=np.float64)
    n = hi.size
    p_lo = np.concatenate(([0.0], np.cumsum(lo)))  # P_lo[b] = sum_{m<b} g_lo[m]
    prev = np.full(n + 1, np.inf)
    prev[0] = 0.0
    arg = np.full((k + 1, n + 1), -1, dtype=np.int64)
    last_values = []
    for j in range(1, k + 1):
        cur = np.full(n + 1, np.inf)
        for b in range(j, (n - (k - j) if exact_k else n) + 1):
            a = np.arange(j - 1, b)
            values = prev[a] + (b - a - 1) * hi[a] - (p_lo[b] - p_lo[a + 1])
            best = int(np.argmin(values))
            cur[b], arg[j, b] = values[best], a[best]
        last_values.append(float(cur[n]))
        prev = cur
    return arg, last_values


def certified_schedule(g_high: ArrayLike, g_low: ArrayLike, k: int) -> tuple[float, NDArray[np.int64]]:
    """``(min U, sizes)`` over schedules of exactly ``k`` steps by the plain two-curve DP. O(k n^2) time."""
    n = np.asarray(g_high).size
    arg, _ = _certified_layers(g_high, g_low, k, exact_k=True)
    breakpoints = [n]
    for j in range(k, 0, -1):
        breakpoints.append(int(arg[j, breakpoints[-1]]))
    sizes = np.asarray(np.diff(breakpoints[::-1]), dtype=np.int64)
    return certified_error(g_high, g_low, sizes), sizes


def certified_frontier(g_high: ArrayLike, g_low: ArrayLike, k_max: int) -> NDArray[np.float64]:
    """``min U`` over ``k``-step schedules for ``k = 1..k_max`` (DP values, not recomputed). O(k_max n^2)."""
    _, values = _certified_layers(g_high, g_low, k_max, exact_k=False)
    return np.asarray(values)


# ---- entropies of a dense distribution (SPEC §2, §5): marginalise every subset from the full tensor ----------


def _entropy(p: NDArray[np.float64]) -> float:
    """Shannon entropy in nats, with ``0 log 0 = 0``."""
    nz = p[p > 0]
    return float(-np.sum(nz * np.log(nz)))


def subset_entropies(p: ArrayLike) -> NDArray[np.float64]:
    """``H(X_S)`` for every subset ``S`` (index = bitmask, bit i = coordinate i), nats. O(2^n * prod(q))."""
    tensor = np.asarray(p, dtype=np.float64)
    n = tensor.ndim
    out = np.empty(2**n)
    for mask in range(2**n):
        summed = tuple(i for i in range(n) if not (mask >> i) & 1)
        out[mask] = _entropy(np.asarray(tensor.sum(axis=summed)))
    return out


def average_entropies(p: ArrayLike) -> NDArray[np.float64]:
    """``e_m`` = mean of ``H(X_S)`` over ``|S| = m``, for ``m = 0..n`` (nats)."""
    h = subset_entropies(p)
    n = int(np.log2(h.size))
    sizes = np.array([bin(mask).count("1") for mask in range(h.size)])
    return np.array([h[sizes == m].mean() for m in range(n + 1)])


def information_curve(p: ArrayLike) -> NDArray[np.float64]:
    """``Z_i = e_1 - (e_i - e_{i-1})``, ``i = 1..n`` (nats)."""
    e = average_entropies(p)
    return np.asarray(e[1] - np.diff(e), dtype=np.float64)


def total_correlation(p: ArrayLike) -> float:
    """``TC = sum_i H(X_i) - H(X)`` (nats)."""
    h = subset_entropies(p)
    n = int(np.log2(h.size))
    return float(sum(h[1 << i] for i in range(n)) - h[-1])


def dual_total_correlation(p: ArrayLike) -> float:
    """``DTC = H(X) - sum_i H(X_i | X_{-i})`` with ``H(X_i | X_{-i}) = H(X) - H(X_{-i})`` (nats)."""
    h = subset_entropies(p)
    n = int(np.log2(h.size))
    full = h[-1]
    return float(full - sum(full - h[(h.size - 1) ^ (1 << i)] for i in range(n)))


__all__ = [
    "average_entropies",
    "certified_error",
    "certified_frontier",
    "certified_schedule",
    "dual_total_correlation",
    "error_frontier",
    "information_curve",
    "optimal_schedule",
    "schedule_error",
    "subset_entropies",
    "total_correlation",
]
