"""Argument checks shared by the public API (SPEC §7).

Every check runs before any large allocation and raises ``TypeError`` (wrong kind of object) or ``ValueError``
(right kind, bad value) naming the argument and the offending value.
"""

from __future__ import annotations

import math
import numbers
import os
from collections.abc import Iterable, Sequence
from typing import Any

import numpy as np
from numpy.typing import NDArray

from . import _core

#: Relative tolerance for ``Z_1 = 0`` and for non-monotonicity of a curve (scaled by ``max(1, max|Z|)``).
CURVE_RTOL = 1e-9

#: Tolerance for "probabilities sum to 1": ``max(1e-9 * sqrt(size), 8 * eps(dtype) * log2(2 + size))``.
NORMALISATION_TOL = 1e-9

#: ``min_steps`` accepts ``opt_k <= eps * (1 + MIN_STEPS_RTOL)``: the solver's schedule errors are sums of
#: non-negative terms accumulated in extended precision and rounded once, so they lie within a few ulps of the exact
#: value; an ``eps`` equal to an exact ``opt_k`` (rounded to double) therefore returns that ``k``.
MIN_STEPS_RTOL = 4 * float(np.finfo(np.float64).eps)

#: Solver method names: the single list. The C++ bindings own it (``_core.METHODS``) and validate against it.
METHODS: tuple[str, ...] = tuple(_core.METHODS)


def as_real_array(value: Any, name: str, *, ndim: int | None = None) -> NDArray[np.float64]:
    """``value`` as a C-contiguous float64 array of finite numbers (lists, float32, strided views all accepted).

    The memory of the float64 copy is checked from ``arr.shape`` before it is made (a broadcast view of a few bytes
    can stand for terabytes).
    """
    arr = np.asarray(value)
    if arr.dtype.kind not in "iuf":
        raise TypeError(f"{name} must be an array of real numbers, got dtype {arr.dtype}")
    if ndim is not None and arr.ndim != ndim:
        raise ValueError(f"{name} must be {ndim}-D, got shape {arr.shape}")
    if not (arr.dtype == np.float64 and arr.flags.c_contiguous):
        require_memory(8 * math.prod(arr.shape), f"a float64 copy of {name} (shape {arr.shape})")
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


def as_level_curve(g: Any, name: str) -> NDArray[np.float64]:
    """Validated level curve ``g_0..g_{n-1}`` (nats per token after ``m`` revealed) as a non-increasing float64 copy.

    Rules: finite, 1-D, length >= 1, ``g_{m+1} <= g_m + tol`` with ``tol = CURVE_RTOL * max(1, max|g|)``. Rises
    within the tolerance are rounding noise and are removed by a running minimum; larger rises raise ``ValueError``
    (a band's upper curve must be non-increasing: the certified step cost is Monge only then, SPEC §5.3). O(n).
    """
    arr = as_real_array(g, name, ndim=1)
    if arr.size == 0:
        raise ValueError(f"{name} must have at least one entry")
    tol = CURVE_RTOL * max(1.0, float(np.max(np.abs(arr))))
    with np.errstate(over="ignore"):  # a difference beyond DBL_MAX is a drop (-inf) or a rise (+inf): compared below
        rises = np.flatnonzero(np.diff(arr) > tol)
    if rises.size:
        i = int(rises[0])
        raise ValueError(
            f"{name} must be non-increasing, but {name}[{i + 1}] = {float(arr[i + 1])!r} > {name}[{i}] = {float(arr[i])!r}"
        )
    return np.minimum.accumulate(arr)


def as_band_lower(g_low: Any, g_high: NDArray[np.float64], name: str = "g_low") -> NDArray[np.float64]:
    """The lower curve of a band ``g_low <= g_high`` (same length as the validated ``g_high``) as float64.

    Excesses ``g_low_m > g_high_m`` within ``CURVE_RTOL * max(1, max|g|)`` are rounding noise and are clipped to
    ``g_high_m``; larger ones raise ``ValueError``. ``g_low`` need not be monotone. O(n).
    """
    arr = as_real_array(g_low, name, ndim=1)
    if arr.size != g_high.size:
        raise ValueError(f"{name} must have the same length as g_high ({g_high.size}), got {arr.size}")
    tol = CURVE_RTOL * max(1.0, float(np.max(np.abs(arr))), float(np.max(np.abs(g_high))))
    with np.errstate(over="ignore"):  # an overflowing difference is +-inf and compares correctly
        above = np.flatnonzero(arr - g_high > tol)
    if above.size:
        i = int(above[0])
        raise ValueError(f"{name} must be <= g_high, but {name}[{i}] = {float(arr[i])!r} > g_high[{i}] = {float(g_high[i])!r}")
    return np.minimum(arr, g_high)


def band_curves(g_high: NDArray[np.float64], g_low: NDArray[np.float64]) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """A validated band in the solver's Z-form: ``(L, P)`` with ``L_i = g_hi_0 - g_hi_{i-1}`` (the step heights,
    non-decreasing from 0) and ``P_i = g_hi_0 - g_lo_{i-1} >= L_i`` (the curve the prefix sums run over).

    ``ValueError`` naming the curve whose span ``g_hi_0 - g`` overflows a double. O(n).
    """
    top = g_high[0]
    with np.errstate(over="ignore", invalid="ignore"):
        heights = top - g_high
        prefix = top - g_low
    for curve, name in ((heights, "g_high"), (prefix, "g_low")):
        if not np.isfinite(curve).all():
            raise ValueError(f"{name}: g_high[0] - {name} exceeds the largest double; rescale the curves")
    # Subtraction rounds monotonically, so L stays non-decreasing and P >= L; enforce both exactly anyway.
    np.maximum.accumulate(heights, out=heights)
    return heights, np.maximum(prefix, heights)


def as_int(value: Any, name: str) -> int:
    """``value`` as a Python int; bools and non-integral numbers raise ``TypeError``.

    Accepts any ``numbers.Integral`` (Python and numpy integers); ``2.7`` and ``2.0`` are refused, never truncated.
    """
    if type(value) is int:  # the common case, without the numbers.Integral ABC check
        return value
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, numbers.Integral):
        raise TypeError(f"{name} must be an integer, got {type(value).__name__} {value!r}")
    return int(value)


def as_count(value: Any, name: str, minimum: int = 1, maximum: int | None = None) -> int:
    """An integer size/count/batch argument with ``minimum <= value <= maximum``, checked before any allocation."""
    out = as_int(value, name)
    if out < minimum or (maximum is not None and out > maximum):
        upper = "" if maximum is None else f" and <= {maximum}"
        raise ValueError(f"{name} must be >= {minimum}{upper}, got {out}")
    return out


def as_real(value: Any, name: str) -> float:
    """A finite real scalar (``numbers.Real``: Python and numpy floats/ints; bools and strings raise ``TypeError``)."""
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, numbers.Real):
        raise TypeError(f"{name} must be a real number, got {type(value).__name__} {value!r}")
    out = float(value)
    if not math.isfinite(out):
        raise ValueError(f"{name} must be finite, got {out!r}")
    return out


def as_confidence(confidence: Any, name: str = "confidence") -> float:
    """A confidence level strictly between 0 and 1 (``numbers.Real``)."""
    if isinstance(confidence, (bool, np.bool_)) or not isinstance(confidence, numbers.Real):
        raise TypeError(f"{name} must be a real number in (0, 1), got {type(confidence).__name__} {confidence!r}")
    value = float(confidence)
    if not 0.0 < value < 1.0:
        raise ValueError(f"{name} must be in (0, 1), got {value!r}")
    return value


def as_choice(value: Any, name: str, choices: Sequence[str]) -> str:
    """One of the names ``choices`` (``TypeError`` for a non-string, ``ValueError`` for another string)."""
    if not isinstance(value, str):
        raise TypeError(f"{name} must be one of {tuple(choices)}, got {type(value).__name__} {value!r}")
    if value not in choices:
        raise ValueError(f"{name} must be one of {tuple(choices)}, got {value!r}")
    return value


def as_method(method: Any) -> str:
    """A solver method name from :data:`METHODS` (the list the C++ core validates against)."""
    if not isinstance(method, str) or method not in METHODS:
        raise ValueError(f"method must be one of {METHODS}, got {method!r}")
    return method


def as_int_array(value: Any, name: str) -> NDArray[np.int64]:
    """An integer array as int64: integer dtypes, or floats that are exactly integers (``1.0``); ``1.7`` raises
    ``TypeError`` instead of being truncated."""
    arr = np.asarray(value)
    if arr.dtype.kind == "f" and np.isfinite(arr).all() and np.all(arr == np.round(arr)) and np.all(np.abs(arr) < 2**62):
        arr = arr.astype(np.int64)
    if arr.dtype.kind not in "iu" or arr.dtype == np.uint64:
        raise TypeError(f"{name} must be integers, got {arr.dtype} values {arr.ravel()[:4].tolist()}")
    return np.asarray(arr, dtype=np.int64)


def require_attributes(obj: Any, names: Iterable[str], name: str, what: str) -> None:
    """``TypeError`` unless ``obj`` has every attribute in ``names`` (duck-typed interfaces such as an exact model)."""
    missing = [attr for attr in names if not hasattr(obj, attr)]
    if missing:
        raise TypeError(f"{name} must be {what}; got {type(obj).__name__} without {', '.join(missing)}")


def check_cells(shape: Iterable[int], limit: int, what: str, max_axes: int = 62) -> int:
    """Product of ``shape`` (a lazy iterable is fine), refusing (``ValueError``) as soon as it exceeds ``limit`` or
    has more than ``max_axes`` axes.

    Stops at the first axis that crosses a limit, so ``itertools.repeat(2, 10**9)`` is refused at once. O(min(axes)).
    """
    cells = 1
    for count, size in enumerate(shape, start=1):
        if count > max_axes:
            raise ValueError(f"{what} would have more than {max_axes} axes (one per coordinate)")
        cells *= int(size)
        if cells > limit:
            raise ValueError(f"{what} has more than {limit} cells (already {cells} after {count} axes)")
    return cells


def probability_tolerance(dtype: np.dtype[Any], size: int) -> float:
    """Allowed ``|sum(p) - 1|`` for ``size`` probabilities stored as ``dtype``.

    ``max(1e-9 * sqrt(size), 8 * eps(dtype) * log2(2 + size))``: rounding of the stored values, e.g. a float32
    tensor of 1/9s sums to ``1 + 7.5e-9``, plus the summation that produced them, is accepted.
    """
    eps = float(np.finfo(dtype).eps) if np.dtype(dtype).kind == "f" else 0.0
    return max(NORMALISATION_TOL * math.sqrt(max(1, size)), 8 * eps * math.log2(2 + size))


def as_probabilities(p: Any, name: str) -> NDArray[np.float64]:
    """Finite, non-negative values summing to 1 within :func:`probability_tolerance`; returned renormalised (float64)."""
    original = np.asarray(p)
    arr = as_real_array(original, name)
    if arr.size and (arr < 0).any():
        idx = tuple(int(i) for i in np.argwhere(arr < 0)[0])
        raise ValueError(f"{name} must be non-negative, but {name}[{', '.join(map(str, idx))}] = {arr[idx]}")
    total = float(arr.sum())
    if not abs(total - 1.0) <= probability_tolerance(original.dtype, arr.size):
        raise ValueError(f"{name} must sum to 1 (unnormalised: the sum is {total!r})")
    if np.may_share_memory(arr, original):
        return np.ascontiguousarray(arr / total)
    arr /= total  # our own copy: renormalise in place (no second tensor-sized allocation)
    return arr


def min_steps_target(eps: float) -> float:
    """The threshold ``min_steps`` compares ``opt_k`` with: ``eps * (1 + MIN_STEPS_RTOL)`` (see the constant)."""
    return eps * (1.0 + MIN_STEPS_RTOL)


def curve_scale(curve: NDArray[np.float64]) -> float:
    """For a curve validated by :func:`as_curve`: a power of two ``s`` such that ``s * Z`` keeps the solver's sums and products far from overflow/underflow.

    1 for ordinary curves. Near ``DBL_MAX`` (``max|Z| (n+1)^2 > 2^1000``: sums of ``n`` values and penalties times
    step counts could overflow) the solver runs on ``s * Z`` with ``s * max|Z| (n+1)^2 <= 2^1000``; tiny curves
    (``max|Z| < 2^-500``) are scaled up by at most ``2^1000``. Scaling by a power of two is exact, except that when
    scaling down, entries below ``2^-1022 / s`` (over ~2^1000 times smaller than ``max|Z|``) lose bits or round
    to 0; reported errors are always recomputed on the original curve.
    """
    # A validated curve is non-decreasing from Z_1 = 0, so max|Z| = Z_n: O(1).
    big = abs(float(curve[-1])) if curve.size else 0.0
    n = curve.size + 1
    if big == 0.0 or (big * n * n <= 2.0**1000 and big >= 2.0**-500):
        return 1.0
    exponent = math.frexp(big)[1] + 2 * math.frexp(float(n))[1]  # 2^exponent >= max|Z| (n+1)^2
    if big >= 2.0**-500:
        return math.ldexp(1.0, 1000 - exponent)
    return math.ldexp(1.0, min(1000, -exponent))  # a denormal curve is scaled up by at most 2^1000 (s finite)


def scaled(curve: NDArray[np.float64], scale: float) -> NDArray[np.float64]:
    """``scale * curve``, without a copy when ``scale == 1`` (the ordinary case)."""
    return curve if scale == 1.0 else curve * scale


def unscale_errors(values: Any, scale: float, what: str) -> NDArray[np.float64]:
    """Errors computed on ``scale * Z`` (see :func:`curve_scale`) back in the curve's unit; refuses (``ValueError``)
    a result that does not fit in a double instead of returning ``inf``."""
    if isinstance(values, float) and scale == 1.0 and math.isfinite(values):
        return np.asarray(values)  # the common scalar case, without array arithmetic
    with np.errstate(over="ignore"):  # an overflow is reported below, as a ValueError naming what overflowed
        out = np.asarray(values, dtype=np.float64) / scale
    if not np.isfinite(out).all():
        raise ValueError(f"{what} exceeds the largest double (~1.8e308); rescale the curve (e.g. to bits or a smaller unit)")
    return out


def as_steps(k: Any, n: int, name: str = "k") -> int:
    """A step count ``1 <= k <= n``."""
    steps = as_int(k, name)
    if not 1 <= steps <= n:
        raise ValueError(f"{name} must satisfy 1 <= {name} <= n = {n}, got {steps}")
    if steps > 2**22:  # callers build length-k arrays; below 64 MiB not worth a system call per request
        require_memory(16 * steps, f"{steps} steps")
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


def as_log_scale(base: Any) -> float:
    """Factor converting nats to ``base`` units (1 for ``None``): ``1 / ln(base)``.

    ``base`` is any ``numbers.Real`` > 1 (``np.float32(2)`` too); strings and bools raise ``TypeError``.
    """
    if base is None:
        return 1.0
    value = as_real(base, "base")
    if not value > 1:
        raise ValueError(f"base must be a finite number > 1, got {base!r}")
    return 1.0 / math.log(value)
