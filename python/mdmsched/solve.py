"""The schedule solver: exact error of a schedule and optimal schedules (SPEC §3-4).

Curves ``Z`` are in nats (or whatever unit the caller's entropies use; errors come back in the same unit).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np
from numpy.typing import ArrayLike, NDArray

from . import _core, _validation
from ._validation import CURVE_RTOL, as_curve, as_real_array, as_sizes, as_steps, as_tolerance

Method = Literal["auto", "fast", "naive", "hull", "lagrangian"]

#: Refuse solver scratch allocations above this many bytes (the argmin table of the naive/hull DP is k*(n+1) int32).
MAX_SOLVER_BYTES = 8 * 2**30


@dataclass(frozen=True, eq=False)
class Schedule:
    """An unmasking schedule: ``k`` steps revealing ``sizes[j] >= 1`` positions each, ``sum(sizes) = n``.

    ``error`` is ``err(Z, s)`` in nats when the schedule was evaluated on a curve (``None`` otherwise); ``name`` says
    where it came from; ``bound`` is a proven upper bound on its error, where one exists.
    """

    sizes: NDArray[np.int64]
    error: float | None = None
    name: str = "schedule"
    bound: float | None = None
    _breakpoints: NDArray[np.int64] = field(init=False, repr=False)

    def __post_init__(self) -> None:
        sizes = as_sizes(self.sizes).copy()
        sizes.setflags(write=False)
        breakpoints = np.concatenate(([0], np.cumsum(sizes))).astype(np.int64)
        breakpoints.setflags(write=False)
        object.__setattr__(self, "sizes", sizes)
        object.__setattr__(self, "_breakpoints", breakpoints)
        if self.error is not None:
            object.__setattr__(self, "error", float(self.error))
        if self.bound is not None:
            object.__setattr__(self, "bound", float(self.bound))

    @classmethod
    def from_breakpoints(cls, breakpoints: ArrayLike, **kwargs: Any) -> Schedule:
        """Schedule from ``N_0 = 0 < N_1 < ... < N_k = n``."""
        bp = np.asarray(breakpoints)
        if bp.ndim != 1 or bp.size < 2 or bp[0] != 0:
            raise ValueError(f"breakpoints must be 1-D, start at 0 and have at least 2 entries, got {bp!r}")
        return cls(np.diff(bp), **kwargs)

    @property
    def breakpoints(self) -> NDArray[np.int64]:
        """``N_0 = 0, N_1, ..., N_k = n``: positions revealed after each step."""
        return self._breakpoints

    @property
    def k(self) -> int:
        """Number of steps (model calls)."""
        return int(self.sizes.size)

    @property
    def n(self) -> int:
        """Sequence length."""
        return int(self._breakpoints[-1])

    def tolist(self) -> list[int]:
        """Step sizes as plain ints, ready to paste into a sampler config."""
        return [int(s) for s in self.sizes]

    def __len__(self) -> int:
        return self.k

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Schedule):
            return NotImplemented
        return bool(np.array_equal(self.sizes, other.sizes)) and self.error == other.error and self.name == other.name

    def __hash__(self) -> int:
        return hash((tuple(self.tolist()), self.error, self.name))

    def __repr__(self) -> str:
        sizes = self.tolist()
        shown = ", ".join(map(str, sizes)) if len(sizes) <= 16 else ", ".join(map(str, sizes[:12])) + ", ..."
        parts = [f"name={self.name!r}", f"k={self.k}", f"n={self.n}", f"sizes=[{shown}]"]
        if self.error is not None:
            parts.append(f"error={self.error:.6g}")
        if self.bound is not None:
            parts.append(f"bound={self.bound:.6g}")
        return f"Schedule({', '.join(parts)})"


def schedule_error(z: ArrayLike, sizes: ArrayLike | Schedule) -> float:
    """``err(Z, s)``: the left-Riemann error of schedule ``s`` on curve ``Z`` (SPEC §3), in nats.

    Equals the expected ``KL(mu || sampler output)`` when ``Z`` is ``mu``'s information curve. ``sizes`` may be a
    :class:`Schedule`. O(n).
    """
    curve = as_curve(z)
    steps = as_sizes(sizes, curve.size)
    return float(_core.schedule_error(curve, steps))


def _check_memory(n: int, k: int, method: str) -> None:
    need = int(_core.solve_memory_bytes(n, k, "auto" if method == "fast" else method))
    limit = min(MAX_SOLVER_BYTES, _validation.available_memory_bytes())
    if need > limit:
        raise ValueError(
            f"method={method!r} with n={n}, k={k} needs {need / 2**30:.1f} GiB of scratch memory "
            f"(limit {limit / 2**30:.1f} GiB); use method='lagrangian' (O(n) memory)"
        )


def _check_method(method: Any) -> Method:
    allowed = ("auto", "fast", "naive", "hull", "lagrangian")
    if method not in allowed:
        raise ValueError(f"method must be one of {allowed}, got {method!r}")
    checked: Method = method
    return checked


def optimal_schedule(z: ArrayLike, k: int, *, method: Method = "auto") -> Schedule:
    """The k-step schedule minimising ``err(Z, s)`` (exactly ``k`` steps, each >= 1); its ``error`` is ``opt_k``.

    Methods (all exact; ties are broken deterministically, possibly differently per method):
    ``"naive"`` plain DP, O(k n^2); ``"hull"`` per-layer monotone convex-hull trick, O(k n) time and an O(k n)
    int32 table; ``"lagrangian"`` penalty search with an exact-k splice, O(n log range) time and O(n) memory;
    ``"auto"``/``"fast"`` pick hull for k <= 8 and lagrangian otherwise.
    """
    curve = as_curve(z)
    steps = as_steps(k, curve.size)
    method = _check_method(method)
    _check_memory(curve.size, steps, method)
    error, breakpoints = _core.solve(curve, steps, method)
    return Schedule.from_breakpoints(breakpoints, error=error, name=f"optimal (k={steps})")


def error_frontier(z: ArrayLike, k_max: int | None = None, *, method: Method = "auto") -> NDArray[np.float64]:
    """``opt_k`` for ``k = 1..k_max`` (default ``n``), in nats: the error-vs-steps curve to pick a budget from.

    One layered sweep gives every ``opt_k``: O(k_max n) time with the hull (``"naive"``: O(k_max n^2)), O(n) memory.
    Non-increasing and convex in ``k``; ``opt_1 = TC = sum(Z)`` and ``opt_n = 0``.
    """
    curve = as_curve(z)
    k_max = curve.size if k_max is None else as_steps(k_max, curve.size, "k_max")
    method = _check_method(method)
    return np.asarray(_core.error_frontier(curve, k_max, method), dtype=np.float64)


def min_steps(z: ArrayLike, eps: float, *, method: Method = "auto") -> Schedule:
    """The fewest-step schedule with ``opt_k <= eps`` (nats), and that schedule.

    ``"auto"``/``"fast"``/``"lagrangian"``: one penalty search brackets the crossing on the convex hull of ``opt_k``
    and splices the schedule, O(n log range). ``"naive"``/``"hull"``: a binary search over ``k`` (``opt_k`` is
    non-increasing) with that solver, O(log n) solves.
    """
    curve = as_curve(z)
    eps = as_tolerance(eps)
    method = _check_method(method)
    n = curve.size
    if method in ("auto", "fast", "lagrangian"):
        error, breakpoints = _core.min_steps(curve, eps)
        k = len(breakpoints) - 1
        return Schedule.from_breakpoints(breakpoints, error=error, name=f"optimal (k={k}, error <= {eps:g})")
    lo, hi = 1, n  # invariant: opt_hi <= eps (opt_n = 0, by one token per step)
    best = Schedule(np.ones(n, dtype=np.int64), error=0.0, name=f"optimal (k={n})")
    while lo < hi:
        mid = (lo + hi) // 2
        candidate = optimal_schedule(curve, mid, method=method)
        if candidate.error is not None and candidate.error <= eps:
            hi, best = mid, candidate
        else:
            lo = mid + 1
    return best


def project_monotone(z: ArrayLike) -> NDArray[np.float64]:
    """Euclidean projection of a noisy curve onto valid curves: ``Z_1 = 0`` and non-decreasing.

    Isotonic regression (pool-adjacent-violators) of ``Z_2..Z_n`` followed by clipping at 0, which is the exact L2
    projection onto ``{0 = Z_1 <= Z_2 <= ... <= Z_n}``. O(n). Use it on estimated curves before solving.
    """
    arr = as_real_array(z, "Z", ndim=1)
    if arr.size == 0:
        raise ValueError("Z must have at least one entry")
    out = np.zeros_like(arr)
    out[1:] = np.maximum(_isotonic(arr[1:]), 0.0)
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


__all__ = [
    "CURVE_RTOL",
    "Schedule",
    "error_frontier",
    "min_steps",
    "optimal_schedule",
    "project_monotone",
    "schedule_error",
]
