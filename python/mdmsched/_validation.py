"""Argument checks shared by the public API (SPEC §7).

Every check runs before any large allocation and raises ``TypeError`` (wrong kind of object) or ``ValueError``
(right kind, bad value) naming the argument and the offending value.
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Iterable, Sequence
from concurrent.futures import Executor
from typing import Any

import numpy as np
from numpy.typing import NDArray

import mdmsched._core as _core  # noqa: PLR0402  a plain import of the extension module, not of the package face

from ._memory import available_memory_bytes as available_memory_bytes  # noqa: PLC0414  explicit re-export (tests patch it here)

#: Relative tolerance for ``Z_1 = 0`` and for non-monotonicity of a curve (scaled by ``max(1, max|Z|)``).
CURVE_RTOL = 1e-9

#: Tolerance for "probabilities sum to 1": ``max(1e-9 * sqrt(size), 8 * eps(dtype) * log2(2 + size))``.
NORMALISATION_TOL = 1e-9

#: ``min_steps`` accepts ``opt_k <= eps * (1 + MIN_STEPS_RTOL)``: the solver's schedule errors are sums of
#: non-negative terms accumulated in extended precision and rounded once, so they lie within a few ulps of the exact
#: value; an ``eps`` equal to an exact ``opt_k`` (rounded to double) therefore returns that ``k``.
MIN_STEPS_RTOL = 4 * float(np.finfo(np.float64).eps)

#: Largest int64: unsigned inputs above it would wrap to negatives in an int64 conversion.
INT64_MAX = 2**63 - 1

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
    if out.size and not all_finite(out):
        idx = first_index(out, lambda v: ~np.isfinite(v))
        raise ValueError(f"{name} must be finite, but {name}[{', '.join(map(str, idx))}] = {out[idx]}")
    return out


def all_finite(arr: NDArray[np.floating[Any]]) -> bool:
    """Whether every entry is finite, without a full-size bool temporary: NaN propagates through min/max and an
    infinity is the min or the max. O(size), O(1) extra memory."""
    return arr.size == 0 or bool(np.isfinite(arr.min()) and np.isfinite(arr.max()))


def first_index(arr: NDArray[Any], bad: Any, chunk: int = 1 << 20) -> tuple[int, ...]:
    """Index of the first entry (C order) where the elementwise test ``bad`` holds, scanning in chunks so the error
    path never allocates a tensor-sized mask. ``bad`` must hold somewhere."""
    flat = arr.reshape(-1)
    for lo in range(0, flat.size, chunk):
        hits = np.flatnonzero(bad(flat[lo:lo + chunk]))
        if hits.size:
            return tuple(int(i) for i in np.unravel_index(lo + int(hits[0]), arr.shape))
    raise AssertionError("first_index: no entry matched")


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


def as_shape_pair(shape: Any, name: str, rows: str, length: str, minimum_rows: int = 1) -> tuple[int, int]:
    """A ``(rows, length)`` pair of counts (a tuple or list of two integers, each within int64): not a pair is a
    ``TypeError``, three entries or out-of-range counts a ``ValueError``."""
    if not isinstance(shape, (tuple, list)):
        raise TypeError(f"{name} must be a pair ({rows}, {length}), got {type(shape).__name__} {shape!r}")
    if len(shape) != 2:
        raise ValueError(f"{name} must be a pair ({rows}, {length}), got {len(shape)} entries {tuple(shape)!r}")
    return (as_count(shape[0], f"{name}[0] ({rows})", minimum_rows, INT64_MAX),
            as_count(shape[1], f"{name}[1] ({length})", 1, INT64_MAX))


def as_seed(seed: Any, name: str = "seed", *, generators: bool = True) -> Any:
    """A seed for ``np.random.default_rng``: None or an integer >= 0 (bools are ``TypeError``, like every integer
    argument), and with ``generators`` also a ``Generator``/``BitGenerator``/``SeedSequence``, returned as given.

    Functions that record the seed (``plan_estimate``: every shard must draw the same positions) take
    ``generators=False``."""
    if seed is None:
        return None
    if generators and isinstance(seed, (np.random.Generator, np.random.BitGenerator, np.random.SeedSequence)):
        return seed
    value = as_count(seed, name, 0)
    return value


def as_executor(executor: Any) -> Executor | None:
    """None (work in this process) or a ``concurrent.futures.Executor`` to shard work on (a process pool, a dask
    client's ``get_executor()``); anything else is a ``TypeError`` before any work is split."""
    if executor is not None and not isinstance(executor, Executor):
        raise TypeError(f"executor must be a concurrent.futures.Executor, got {type(executor).__name__}")
    return executor


def as_region(region: Any, length: int, rows: int | None = None, name: str = "region") -> NDArray[np.bool_]:
    """Generated positions as bools of shape ``(1, length)`` or ``(rows, length)`` (True = generated).

    ``region`` is a bool array of shape ``(length,)`` (one layout for every row) or, when ``rows`` is given,
    ``(rows, length)``; every row must mark the same number ``>= 1`` of positions. A non-bool array is a ``TypeError``
    (0/1 integers are not taken for masks), a wrong shape or count a ``ValueError``. O(rows * length).
    """
    marks = np.asarray(region)
    if marks.dtype != np.bool_:
        raise TypeError(f"{name} must be a boolean array (True = generated position), got dtype {marks.dtype}")
    shapes = [(length,)] if rows is None else [(length,), (rows, length)]
    if marks.shape not in shapes:
        raise ValueError(f"{name} must have shape {' or '.join(map(str, shapes))}, got {marks.shape}")
    marks = marks.reshape(-1, length)
    per_row = marks.sum(axis=1)
    if per_row.min() != per_row.max():
        bad = int(np.flatnonzero(per_row != per_row[0])[0])
        raise ValueError(f"{name} must mark the same number of generated positions in every row: row 0 has "
                         f"{per_row[0]}, row {bad} has {per_row[bad]}")
    if per_row[0] < 1:
        raise ValueError(f"{name} marks no generated position")
    return np.ascontiguousarray(marks)


def as_data_rows(data: Any, name: str = "data", minimum: int = 2) -> NDArray[np.int64]:
    """Data rows ``N x length`` of integer token ids (int64, ids below ``2**63``), ``N >= minimum`` (a standard error
    needs two rows). Wrong dtype: ``TypeError``; wrong shape: ``ValueError``. O(N length)."""
    rows = np.asarray(data)
    if rows.dtype.kind not in "iu":
        raise TypeError(f"{name} must be integer token sequences, got dtype {rows.dtype}")
    if rows.ndim != 2 or rows.shape[0] < minimum or rows.shape[1] < 1:
        raise ValueError(f"{name} must be N x length with N >= {minimum}"
                         f"{' (a standard error needs two rows)' if minimum == 2 else ''}, got shape {rows.shape}")
    return as_tokens(rows, name)


def as_free_positions(region: Any, shape: tuple[int, int]) -> NDArray[np.int64]:
    """Generated positions per row (``N x n``; ``1 x n`` when shared by all rows), in order, from ``region`` (None: all
    positions; bools per position or per row, as :func:`as_region`). O(N length)."""
    count, length = shape
    if region is None:
        require_memory(8 * length, f"the {length} generated positions")
        return np.arange(length, dtype=np.int64)[None, :]
    marks = as_region(region, length, count)
    return np.nonzero(marks)[1].reshape(marks.shape[0], -1).astype(np.int64)


def _real_number(value: Any, name: str, what: str = "a real number") -> float:
    """``float(value)`` for a ``numbers.Real`` (Python and numpy floats/ints); bools and strings are ``TypeError``."""
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, numbers.Real):
        raise TypeError(f"{name} must be {what}, got {type(value).__name__} {value!r}")
    return float(value)


def as_real(value: Any, name: str) -> float:
    """A finite real scalar (``numbers.Real``: Python and numpy floats/ints; bools and strings raise ``TypeError``)."""
    out = _real_number(value, name)
    if not math.isfinite(out):
        raise ValueError(f"{name} must be finite, got {out!r}")
    return out


def as_confidence(confidence: Any, name: str = "confidence") -> float:
    """A confidence level strictly between 0 and 1 (``numbers.Real``)."""
    value = _real_number(confidence, name, "a real number in (0, 1)")
    if not 0.0 < value < 1.0:
        raise ValueError(f"{name} must be in (0, 1), got {value!r}")
    return value


#: Largest magnitude of per-row values an interval takes: their squares and sums must stay finite in double.
MAX_SAMPLE_MAGNITUDE = 1e150


def as_samples(values: Any, name: str = "values", minimum: int = 2) -> NDArray[np.float64]:
    """Per-row values (nats, scores) as a 1-D float64 array of at least ``minimum`` finite numbers with
    ``|x| <= MAX_SAMPLE_MAGNITUDE`` (a variance of larger values overflows to inf and the interval to NaN). Wrong
    dtype (bool, complex, object, str): ``TypeError``; wrong shape, too few, non-finite or too large: ``ValueError``."""
    arr = np.asarray(values)
    if arr.dtype.kind == "b":
        raise TypeError(f"{name} must be real numbers, got dtype bool")
    arr = as_real_array(arr, name, ndim=1)
    if arr.size < minimum:
        raise ValueError(f"{name} must hold at least {minimum} numbers (one per row), got shape {arr.shape}")
    if float(np.max(np.abs(arr))) > MAX_SAMPLE_MAGNITUDE:
        raise ValueError(f"{name} must be at most {MAX_SAMPLE_MAGNITUDE:g} in magnitude (their variance would "
                         f"overflow), got {float(np.max(np.abs(arr)))!r}")
    return arr


def as_choice(value: Any, name: str, choices: Sequence[str]) -> str:
    """One of the names ``choices`` (``TypeError`` for a non-string, ``ValueError`` for another string)."""
    if not isinstance(value, str):
        raise TypeError(f"{name} must be one of {tuple(choices)}, got {type(value).__name__} {value!r}")
    if value not in choices:
        raise ValueError(f"{name} must be one of {tuple(choices)}, got {value!r}")
    return value


def as_method(method: Any) -> str:
    """A solver method name from :data:`METHODS` (the list the C++ core validates against): a non-string is a
    ``TypeError``, another string a ``ValueError``."""
    return as_choice(method, "method", METHODS)


def as_flag(value: Any, name: str) -> bool:
    """A bool option (``True``/``False``, numpy bools too); ``"yes"``, ``2`` or ``[True]`` are a ``TypeError`` (a
    truthy object would silently mean "on")."""
    if not isinstance(value, (bool, np.bool_)):
        raise TypeError(f"{name} must be True or False, got {type(value).__name__} {value!r}")
    return bool(value)


def integral_array(value: Any, name: str) -> NDArray[np.integer[Any]]:
    """The one rule for arrays of counts and ids: an integer dtype, or floats that are all exactly integers below
    ``2**62`` in magnitude (``[1.0, 2.0]``, as JSON or ``np.round`` give them), converted to int64; ``1.7``,
    NaN, complex, strings and objects raise ``TypeError`` (never truncated). Unsigned values above ``2**63 - 1``
    raise ``ValueError``: int64 would wrap them to negatives. (Scalars follow :func:`as_int`: ``2.0`` is refused.)"""
    arr = np.asarray(value)
    if arr.dtype.kind == "f" and all_finite(arr) and np.all(arr == np.round(arr)) and \
            (arr.size == 0 or float(np.max(np.abs(arr))) < 2**62):
        arr = arr.astype(np.int64)
    if arr.dtype.kind in "fO" and isinstance(value, (list, tuple)) and _python_ints(value):
        # numpy turns [2**63, 1] into float64 and [2**64, 1] into objects: integers, but too large for int64
        raise ValueError(f"{name} must be integers within int64 (|x| <= 2**63 - 1), got {max(map(abs, value))}")
    if arr.dtype.kind not in "iu":
        raise TypeError(f"{name} must be integers, got dtype {arr.dtype} values {arr.ravel()[:4].tolist()}")
    if arr.dtype.kind == "u" and arr.size and int(arr.max()) > INT64_MAX:
        raise ValueError(f"{name} must be <= 2**63 - 1 (int64), got {int(arr.max())}")
    return arr


def _python_ints(values: list[Any] | tuple[Any, ...]) -> bool:
    """Whether a flat list holds only integers (bools excluded)."""
    return all(isinstance(v, numbers.Integral) and not isinstance(v, (bool, np.bool_)) for v in values)


def as_int_array(value: Any, name: str) -> NDArray[np.int64]:
    """An integer array as int64 under the :func:`integral_array` rule."""
    return np.asarray(integral_array(value, name), dtype=np.int64)


def as_counts(value: Any, name: str, minimum: int = 0, maximum: int | None = None) -> NDArray[np.int64]:
    """An integer array (any shape) with every entry in ``minimum..maximum``: :func:`as_count`'s rule, vectorised."""
    out = as_int_array(value, name)
    if out.size and (int(out.min()) < minimum or (maximum is not None and int(out.max()) > maximum)):
        upper = "" if maximum is None else f" and <= {maximum}"
        raise ValueError(f"{name} must be >= {minimum}{upper}, got {int(out.min())}..{int(out.max())}")
    return out


def as_tokens(value: Any, name: str) -> NDArray[np.int64]:
    """Token ids as a C-contiguous int64 array: integer dtype (floats are refused: ids are never rounded), values
    ``< 2**63`` (a uint64 id above would wrap to a negative id on the way to the model). O(size)."""
    arr = np.asarray(value)
    if arr.dtype.kind not in "iu":
        raise TypeError(f"{name} must be integer token ids, got dtype {arr.dtype}")
    if arr.dtype.kind == "u" and arr.size and int(arr.max()) > INT64_MAX:
        raise ValueError(f"{name} must be token ids <= 2**63 - 1, got {int(arr.max())}")
    return np.ascontiguousarray(arr, dtype=np.int64)


def as_progress(progress: Any) -> Any:
    """``progress=``: a bool (``True`` = a bar on stderr) or a callable taking the fraction done; ``"yes"`` or ``5``
    raise ``TypeError`` (they would silently mean "on")."""
    if isinstance(progress, (bool, np.bool_)) or callable(progress):
        return progress
    raise TypeError(f"progress must be True, False or a callable(fraction), got {type(progress).__name__} {progress!r}")


def as_generator(rng: Any, name: str = "rng") -> np.random.Generator:
    """A ``numpy.random.Generator`` (``np.random.default_rng(seed)`` makes one); anything else is a ``TypeError``."""
    if not isinstance(rng, np.random.Generator):
        raise TypeError(f"{name} must be a numpy.random.Generator (np.random.default_rng(seed)), got "
                        f"{type(rng).__name__}")
    return rng


def as_nats_label(value: Any, name: str) -> float:
    """A schedule's ``error``/``bound`` label (nats): a real number, not NaN and ``>= 0`` (a KL is never negative);
    ``+inf`` (an error that overflowed double precision) is kept. Strings and bools are a ``TypeError``."""
    if isinstance(value, np.ndarray) and value.ndim == 0 and value.dtype.kind in "iuf":
        value = value[()]
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, numbers.Real):
        raise TypeError(f"{name} must be a real number (nats) or None, got {type(value).__name__} {value!r}")
    out = float(value)
    if math.isnan(out) or out < 0:
        raise ValueError(f"{name} must be a number >= 0 (nats), got {out!r}")
    return out


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
    """Allowed ``|sum(p) - 1|`` for ``size`` probabilities stored as ``dtype``: the one "sums to 1" rule (dense laws,
    transition-matrix rows, predictor rows; the binding's raw check uses the same formula for float64).

    ``max(1e-9 * sqrt(size), 8 * eps(dtype) * log2(2 + size))``: rounding of the stored values, e.g. a float32
    tensor of 1/9s sums to ``1 + 7.5e-9``, plus the summation that produced them, is accepted.
    """
    eps = float(np.finfo(dtype).eps) if np.dtype(dtype).kind == "f" else 0.0
    return max(NORMALISATION_TOL * math.sqrt(max(1, size)), 8 * eps * math.log2(2 + size))


def as_unnormalised_probabilities(p: Any, name: str) -> tuple[NDArray[np.float64], float]:
    """Finite, non-negative values summing to 1 within :func:`probability_tolerance`, returned with their sum
    ``total`` and not renormalised: a float64 C-contiguous input comes back as is (no copy), for callers that divide
    by ``total`` as they read (the dense lattice walk)."""
    original = np.asarray(p)
    arr = as_real_array(original, name)
    if arr.size and float(arr.min()) < 0:
        idx = first_index(arr, lambda v: v < 0)
        raise ValueError(f"{name} must be non-negative, but {name}[{', '.join(map(str, idx))}] = {arr[idx]}")
    total = float(arr.sum())
    if not abs(total - 1.0) <= probability_tolerance(original.dtype, arr.size):
        raise ValueError(f"{name} must sum to 1 (unnormalised: the sum is {total!r})")
    return arr, total


def as_probabilities(p: Any, name: str) -> NDArray[np.float64]:
    """Finite, non-negative values summing to 1 within :func:`probability_tolerance`; returned renormalised (float64)."""
    original = np.asarray(p)
    arr, total = as_unnormalised_probabilities(original, name)
    if np.may_share_memory(arr, original):
        require_memory(8 * arr.size, f"a renormalised copy of {name} (shape {arr.shape})")
        return np.ascontiguousarray(arr / total)
    arr /= total  # our own copy: renormalise in place (no second tensor-sized allocation)
    return arr


def as_steps(k: Any, n: int, name: str = "k") -> int:
    """A step count ``1 <= k <= n``."""
    steps = as_int(k, name)
    if not 1 <= steps <= n:
        raise ValueError(f"{name} must satisfy 1 <= {name} <= n = {n}, got {steps}")
    if steps > 2**22:  # callers build length-k arrays; below 64 MiB not worth a system call per request
        require_memory(16 * steps, f"{steps} steps")
    return steps


def as_sizes(sizes: Any, n: int | None = None, name: str = "sizes") -> NDArray[np.int64]:
    """Step sizes ``s_1..s_k`` (any integer array-like or a :class:`~mdmsched.Schedule`): positive, summing to ``n``.

    The one size validator (the schedule type, the solver, bounds, estimates and the sampler all call it); integers
    follow :func:`integral_array`. O(k)."""
    if hasattr(sizes, "sizes") and not isinstance(sizes, np.ndarray):
        sizes = sizes.sizes
    arr = np.asarray(sizes)
    if arr.size == 0:
        raise ValueError(f"{name} must be a non-empty 1-D sequence, got shape {arr.shape}")
    arr = integral_array(sizes, name)  # 3.0 is a fine step size; uint64 above 2**63 - 1 is refused, never wrapped
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


def as_step_costs(cost: Any, name: str = "cost") -> NDArray[np.float64]:
    """A step-cost matrix ``(n + 1) x (n + 1)`` in nats (``n >= 1``; ``+inf`` allowed: a step that may not be taken;
    NaN and ``-inf`` refused), as C-contiguous float64. O(n^2)."""
    arr = np.asarray(cost)
    if arr.dtype.kind not in "iuf":
        raise TypeError(f"{name} must be an array of real numbers, got dtype {arr.dtype}")
    if arr.ndim != 2 or arr.shape[0] != arr.shape[1] or arr.shape[0] < 2:
        raise ValueError(f"{name} must be a square (n + 1) x (n + 1) matrix with n >= 1, got shape {arr.shape}")
    if not (arr.dtype == np.float64 and arr.flags.c_contiguous):
        require_memory(8 * arr.size, f"a float64 copy of {name} (shape {arr.shape})")
    out = np.ascontiguousarray(arr, dtype=np.float64)
    bad = np.isnan(out) | (out == -np.inf)
    if bad.any():
        idx = first_index(out, lambda v: np.isnan(v) | (v == -np.inf))
        raise ValueError(f"{name} must hold real costs or +inf, but {name}[{', '.join(map(str, idx))}] = {out[idx]}")
    return out


def as_tolerance(eps: Any, name: str = "eps") -> float:
    """A finite, non-negative error target in nats."""
    value = _real_number(eps, name)
    if not np.isfinite(value) or value < 0:
        raise ValueError(f"{name} must be finite and >= 0, got {value!r}")
    return value


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
