"""Argument checks shared by the public API (SPEC §7).

Every check runs before any large allocation and raises ``TypeError`` (wrong kind of object) or ``ValueError``
(right kind, bad value) naming the argument and the offending value.
"""

from __future__ import annotations

import math
import numbers
import os
from typing import Any

import numpy as np
from numpy.typing import NDArray

from . import _core

#: Relative tolerance for ``Z_1 = 0`` and for non-monotonicity of a curve (scaled by ``max(1, max|Z|)``).
CURVE_RTOL = 1e-9


def as_real_array(value: Any, name: str, *, ndim: int | None = None) -> NDArray[np.float64]:
    """``value`` as a C-contiguous float64 array of finite numbers (lists, float32, strided views all accepted)."""
    arr = np.asarray(value)
    if arr.dtype.kind not in "iuf":
        raise TypeError(f"{name} must be an array of real numbers, got dtype {arr.dtype}")
    if ndim is not None and arr.ndim != ndim:
        raise ValueError(f"{name} must be {ndim}-D, got shape {arr.shape}")
    out = np.ascontiguousarray(arr, dtype=np.float64)
    if out.size and not np.isfinite(out).all():
        idx = tuple(int(i) for i in np.argwhere(~np.isfinite(out))[0])
        raise ValueError(f"{name} must be finite, but {name}[{', '.join(map(str, idx))}] = {out[idx]}")
    return out


def as_curve(z: Any, name: str = "Z") -> NDArray[np.float64]:
    """Validated information curve ``Z_1..Z_n`` as float64.

    Rules (SPEC §7): finite, 1-D, length >= 1, ``|Z_1| <= tol`` and ``Z_{i+1} >= Z_i - tol`` with
    ``tol = 1e-9 * max(1, max|Z|)``. Violations within the tolerance are rounding noise: the returned copy has
    ``Z_1 = 0`` and is made non-decreasing by a running maximum. Larger violations raise ``ValueError``; use
    :func:`mdmsched.project_monotone` to project a noisy estimate explicitly.
    """
    if type(z) is np.ndarray and _core.is_clean_curve(z):
        return z.copy()  # common case (float64, contiguous, Z_1 == 0, non-decreasing): one O(n) pass in C++
    arr = as_real_array(z, name, ndim=1)
    if arr.size == 0:
        raise ValueError(f"{name} must have at least one entry")
    tol = CURVE_RTOL * max(1.0, float(np.max(np.abs(arr))))
    if abs(arr[0]) > tol:
        raise ValueError(f"{name}_1 must be 0 (a fresh position shares no information with nothing), got {float(arr[0])!r}")
    drops = np.flatnonzero(np.diff(arr) < -tol)
    if drops.size:
        i = int(drops[0])
        raise ValueError(
            f"{name} must be non-decreasing, but {name}[{i + 1}] = {float(arr[i + 1])!r} < {name}[{i}] = {float(arr[i])!r}; "
            "use mdmsched.project_monotone(Z) for noisy estimates"
        )
    clean = arr.copy()
    clean[0] = 0.0
    np.maximum.accumulate(clean, out=clean)
    return clean


def as_int(value: Any, name: str) -> int:
    """``value`` as a Python int; bools and non-integral numbers raise ``TypeError``."""
    if type(value) is int:  # the common case, without the numbers.Integral ABC check
        return value
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, numbers.Integral):
        raise TypeError(f"{name} must be an integer, got {type(value).__name__} {value!r}")
    return int(value)


def as_steps(k: Any, n: int, name: str = "k") -> int:
    """A step count ``1 <= k <= n``."""
    steps = as_int(k, name)
    if not 1 <= steps <= n:
        raise ValueError(f"{name} must satisfy 1 <= {name} <= n = {n}, got {steps}")
    return steps


def as_sizes(sizes: Any, n: int | None = None, name: str = "sizes") -> NDArray[np.int64]:
    """Step sizes ``s_1..s_k`` (any integer array-like or a :class:`~mdmsched.Schedule`): positive, summing to ``n``."""
    if hasattr(sizes, "sizes") and not isinstance(sizes, np.ndarray):
        sizes = sizes.sizes
    arr = np.asarray(sizes)
    if arr.size == 0:
        raise ValueError(f"{name} must be a non-empty 1-D sequence, got shape {arr.shape}")
    if arr.dtype.kind == "f" and np.isfinite(arr).all() and np.all(arr == np.round(arr)) and np.all(np.abs(arr) < 2**62):
        arr = arr.astype(np.int64)  # 3.0 is a fine step size
    if arr.dtype.kind not in "iu":
        raise TypeError(f"{name} must be integers, got dtype {arr.dtype}")
    if arr.ndim != 1 or arr.size == 0:
        raise ValueError(f"{name} must be a non-empty 1-D sequence, got shape {arr.shape}")
    if (arr < 1).any():
        bad = int(np.flatnonzero(arr < 1)[0])
        raise ValueError(f"{name} must be positive, but {name}[{bad}] = {arr[bad]}")
    out = np.ascontiguousarray(arr, dtype=np.int64)
    # Python ints when an int64 sum could overflow.
    total = sum(map(int, out)) if int(out.max()) > 2**62 // out.size else int(out.sum())
    if n is not None and total != n:
        raise ValueError(f"{name} must sum to n = {n}, got {total}")
    return out


def as_tolerance(eps: Any, name: str = "eps") -> float:
    """A finite, non-negative error target in nats."""
    if isinstance(eps, (bool, np.bool_)) or not isinstance(eps, numbers.Real):
        raise TypeError(f"{name} must be a real number, got {type(eps).__name__} {eps!r}")
    value = float(eps)
    if not np.isfinite(value) or value < 0:
        raise ValueError(f"{name} must be finite and >= 0, got {value!r}")
    return value


def available_memory_bytes() -> int:
    """Memory the OS reports as available now (falls back to 8 GiB where it cannot tell)."""
    try:
        return int(os.sysconf("SC_AVPHYS_PAGES") * os.sysconf("SC_PAGE_SIZE"))
    except (ValueError, OSError, AttributeError):
        return 8 * 2**30


def require_memory(need: int, what: str) -> None:
    """Refuse (``ValueError``) an allocation of ``need`` bytes for ``what`` that exceeds available memory."""
    available = available_memory_bytes()
    if need > available:
        raise ValueError(f"{what} would need {need / 2**30:.1f} GiB, more than the {available / 2**30:.1f} GiB available")


def as_log_scale(base: float | None) -> float:
    """Factor converting nats to ``base`` units (1 for ``None``): ``1 / ln(base)``."""
    if base is None:
        return 1.0
    if not isinstance(base, (int, float)) or isinstance(base, bool) or not base > 1 or not math.isfinite(base):
        raise ValueError(f"base must be a finite number > 1, got {base!r}")
    return 1.0 / math.log(base)
