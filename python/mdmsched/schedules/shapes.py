"""Schedule shapes that mdmsched constructs (SPEC §6): cos^2, geometric growth, a user's mask-fraction curve, and the
forward clamp that makes every construction return exactly ``k`` non-empty steps whenever ``1 <= k <= n``
(:func:`exact_k_breakpoints`). Rounding rules are part of each docstring.
"""

from __future__ import annotations

import math

import numpy as np
from numpy.typing import ArrayLike, NDArray

from .._schedule import Schedule
from .._validation import as_count, as_int_array, as_real, as_real_array, as_steps


def _positive_n(n: int) -> int:
    value = as_count(n, "n", 1, 2**62)  # a length beyond int64 would overflow the breakpoints' int64 arithmetic
    return value


def exact_k_breakpoints(n: int, k: int, targets: ArrayLike) -> NDArray[np.int64]:
    """Breakpoints ``0 = N_0 < N_1 < ... < N_k = n`` nearest a rounded target ``R_1..R_{k-1}`` with every step >= 1.

    The forward clamp ``N_j = min(n - (k - j), max(N_{j-1} + 1, R_j))`` keeps one token for this step and one for
    each step still to come, so ``1 <= k <= n`` always gives exactly ``k`` non-empty steps. It equals the closed form
    ``N_j = j + min(n - k, max(0, max_{i <= j} (R_i - i)))``, evaluated here in O(k) numpy.
    """
    n = _positive_n(n)
    k = as_steps(k, n)
    r = as_int_array(targets, "targets")
    if r.shape != (k - 1,):
        raise ValueError(f"targets must be the k - 1 = {k - 1} inner targets R_1..R_(k-1), got shape {r.shape}")
    return _clamped_breakpoints(n, k, r)


def _clamped_breakpoints(n: int, k: int, targets: ArrayLike) -> NDArray[np.int64]:
    """:func:`exact_k_breakpoints` for this package's own, already valid ``n``, ``k`` and ``k - 1`` targets."""
    r = np.asarray(targets, dtype=np.int64)
    j = np.arange(1, k, dtype=np.int64)
    inner = j + np.clip(np.maximum.accumulate(r - j) if r.size else r, 0, n - k)
    return np.concatenate(([0], inner, [n])).astype(np.int64)


def _exact_k(n: int, k: int, targets: ArrayLike, name: str, bound: float | None = None) -> Schedule:
    sizes = np.diff(_clamped_breakpoints(n, k, targets))
    return Schedule(sizes, name=f"{name} (k={k})", bound=bound)


def cosine_squared(n: int, k: int) -> Schedule:
    """The cos^2 ("Fisher-Rao") bell: ``alpha_t = cos^2(pi t / 2)`` on a uniform time grid; few tokens at both ends.

    Rounding: after step ``t`` the number still masked is ``M_t = floor(n cos^2(pi t / 2k) + 1/2)`` (round half up),
    ``M_k = 0``; the breakpoints ``n - M_t`` are then clamped forward (:func:`exact_k_breakpoints`) so every step
    reveals at least one token: exactly ``k`` steps for ``1 <= k <= n``. O(k).
    """
    n = _positive_n(n)
    k = as_steps(k, n)
    t = np.arange(1, k)
    masked = np.floor(n * np.cos(np.pi * t / (2 * k)) ** 2 + 0.5).astype(np.int64)
    return _exact_k(n, k, n - masked, "cosine^2")


def geometric_growth(n: int, k: int | None = None, *, ratio: float | None = None) -> Schedule:
    """Geometrically growing steps: the revealed count ``N_j`` grows by a constant factor (1, 1, 2, 4, 8, ... for
    ``ratio = 2``). Not DUS: DUS's dilated levels are :func:`mdmsched.practice.dus`.

    Without ``k``: ``N_1 = 1``, ``N_j = min(n, max(N_{j-1} + 1, ceil(ratio N_{j-1})))``. With ``k``: targets
    ``R_j = floor(n^{j/k} + 1/2)`` (growth ratio ``n^{1/k}``), clamped forward (:func:`exact_k_breakpoints`), so
    every step is non-empty and there are exactly ``k`` of them for ``1 <= k <= n``. ``ratio`` defaults to 2 and
    cannot be combined with ``k`` (``k`` fixes the ratio; ``ValueError``). O(k).
    """
    n = _positive_n(n)
    if ratio is not None and not as_real(ratio, "ratio") > 1:  # numbers.Real: np.float32(2) fine, "2" a TypeError
        raise ValueError(f"ratio must be a finite number > 1, got {ratio!r}")
    if k is not None and ratio is not None:
        raise ValueError("give k or ratio, not both: with k steps the growth ratio is n^(1/k)")
    if k is not None:
        k = as_steps(k, n)
        targets = np.floor(float(n) ** (np.arange(1, k) / k) + 0.5).astype(np.int64)
        return _exact_k(n, k, targets, "geometric growth n^(j/k)")
    ratio = 2.0 if ratio is None else float(ratio)
    breakpoints = [0]
    while breakpoints[-1] < n:
        last = breakpoints[-1]
        breakpoints.append(1 if last == 0 else min(n, max(last + 1, math.ceil(ratio * last))))
    sizes = np.diff(breakpoints)
    return Schedule(sizes, name=f"geometric growth x{ratio:g} (k={sizes.size})")



def from_mask_fractions(n: int, fractions: ArrayLike, name: str = "custom") -> Schedule:
    """Any user curve of "fraction still masked after step t", ``t = 1..k``: non-increasing in [0, 1], ending at 0.

    Rounding: ``M_t = floor(n f_t + 1/2)``. When ``k <= n`` the breakpoints ``n - M_t`` are clamped forward
    (:func:`exact_k_breakpoints`), so the schedule has exactly ``k`` non-empty steps; when ``k > n`` some steps must
    be empty and they are dropped. O(k).
    """
    if not isinstance(name, str):  # it labels the schedule; a number here is a misplaced argument
        raise TypeError(f"name must be a string, got {type(name).__name__} {name!r}")
    n = _positive_n(n)
    f = as_real_array(fractions, "fractions", ndim=1)
    if f.size == 0:
        raise ValueError("fractions must have at least one entry")
    if (f < 0).any() or (f > 1).any():
        raise ValueError("fractions must lie in [0, 1]")
    if (np.diff(f) > 0).any():
        raise ValueError("fractions must be non-increasing (the masked fraction only shrinks)")
    if f[-1] != 0:
        raise ValueError(f"the last fraction must be 0 (everything revealed), got {f[-1]!r}")
    masked = np.floor(n * f + 0.5).astype(np.int64)
    if f.size <= n:
        return _exact_k(n, f.size, n - masked[:-1], name)
    sizes = -np.diff(np.concatenate(([n], masked)))
    sizes = sizes[sizes > 0]
    return Schedule(sizes, name=f"{name} (k={sizes.size})")


# ---- schedules from theory ------------------------------------------------------------------------------------


__all__ = ["cosine_squared", "exact_k_breakpoints", "from_mask_fractions", "geometric_growth"]
