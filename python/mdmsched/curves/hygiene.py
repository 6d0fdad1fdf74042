"""Curve hygiene: from average entropies to a curve, projection of a noisy curve onto valid curves, and fitting a curve
to another sequence length (SPEC §2, §5). Everything in the caller's unit (nats by default).
"""

from __future__ import annotations

import math

import numpy as np
from numpy.typing import ArrayLike, NDArray

from .._validation import as_choice, as_count, as_curve, as_real_array, require_memory


def curve_from_entropies(e: ArrayLike) -> NDArray[np.float64]:
    """``Z_i = e_1 - (e_i - e_{i-1})`` from average entropies ``e_0..e_n``. O(n)."""
    entropies = as_real_array(e, "e", ndim=1)
    if entropies.size < 2:
        raise ValueError(f"e must hold e_0..e_n with n >= 1, got {entropies.size} values")
    z = entropies[1] - np.diff(entropies)
    z[0] = 0.0  # e_1 - (e_1 - e_0) with e_0 = 0 is 0 exactly; rounding would leave ~1e-16
    return np.asarray(z, dtype=np.float64)


def fit_curve(z: NDArray[np.float64], length: int, how: str = "interp") -> NDArray[np.float64]:
    """The curve ``z`` (length ``m``) for a sequence of ``length``: ``interp`` reads ``Z`` as a function of the
    revealed fraction ``(i - 1) / (m - 1)`` and interpolates it linearly at ``(i - 1) / (length - 1)`` (so ``Z_1`` and
    ``Z_m`` are kept); ``truncate`` takes the first ``length`` entries (needs ``length <= m``)."""
    z = as_curve(z, "z")
    length = as_count(length, "length")
    how = as_choice(how, "how", ("interp", "truncate"))
    require_memory(16 * length, f"a curve of length {length}")  # the result and linspace's grid
    if how == "truncate":
        if length > z.size:
            raise ValueError(f"--fit truncate needs curves at least as long as every length: {z.size} < {length}")
        return z[:length].copy()
    if z.size == 1 or length == 1:
        return np.full(length, z[0] if length == 1 else 0.0)
    return np.interp(np.linspace(0.0, 1.0, length), np.linspace(0.0, 1.0, z.size), z)


def project_monotone(z: ArrayLike) -> NDArray[np.float64]:
    """Euclidean projection of a noisy curve onto valid curves: ``Z_1 = 0`` and non-decreasing.

    Isotonic regression (pool-adjacent-violators) of ``Z_2..Z_n`` followed by clipping at 0, which is the exact L2
    projection onto ``{0 = Z_1 <= Z_2 <= ... <= Z_n}``. O(n). Use it on estimated curves before solving.
    """
    arr = as_real_array(z, "Z", ndim=1)
    if arr.size == 0:
        raise ValueError("Z must have at least one entry")
    # Pooled means sum up to n values: near DBL_MAX they would overflow, so pool on a power-of-two rescaled copy
    # (exact) with max|Z| <= 1 and scale back (means never exceed max|Z|, so the result stays finite).
    big = float(np.max(np.abs(arr)))
    scale = math.ldexp(1.0, -math.frexp(big)[1]) if big > 2.0**900 else 1.0
    out = np.zeros_like(arr)
    out[1:] = np.maximum(_isotonic(arr[1:] * scale), 0.0) / scale
    return out


def _isotonic(y: NDArray[np.float64]) -> NDArray[np.float64]:
    """Least-squares non-decreasing fit (pool adjacent violators), O(len(y))."""
    means: list[float] = []
    counts: list[int] = []
    for value in y.tolist():
        mean, count = value, 1
        while means and means[-1] > mean:
            prev_mean, prev_count = means.pop(), counts.pop()
            mean = (prev_mean * prev_count + mean * count) / (prev_count + count)
            count += prev_count
        means.append(mean)
        counts.append(count)
    return np.repeat(np.asarray(means, dtype=np.float64), counts)


__all__ = ["curve_from_entropies", "fit_curve", "project_monotone"]
