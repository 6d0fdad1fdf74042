"""Side-by-side comparison of schedules on one curve: exact error, ratio to optimal, proven bounds."""

from __future__ import annotations

import contextlib
import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, cast

from numpy.typing import ArrayLike

from . import schedules as sch
from ._schedule import Schedule
from ._validation import as_curve, as_steps
from .solve import optimal_schedule, schedule_error


@dataclass(frozen=True)
class ComparisonRow:
    """One schedule evaluated on a curve; errors and bounds in nats."""

    name: str
    sizes: list[int]
    error: float
    ratio: float  # error / opt_k (1.0 when both are 0, inf when only opt_k is 0)
    bound: float | None  # the schedule's own proven guarantee, if it has one
    li_cai: float  # (s_max - 1) Z_n, valid for any schedule

    @property
    def k(self) -> int:
        return len(self.sizes)


@dataclass(frozen=True)
class ComparisonTable:
    """Rows sorted as given (the optimal schedule first); ``str(table)`` is a readable text table."""

    n: int
    k: int
    optimal_error: float
    rows: list[ComparisonRow]

    def to_dicts(self) -> list[dict[str, Any]]:
        """Rows as JSON-ready dicts with keys name, k, sizes, error, ratio, bound, li_cai."""
        return [
            {"name": r.name, "k": r.k, "sizes": r.sizes, "error": r.error,
             "ratio": r.ratio if math.isfinite(r.ratio) else None, "bound": r.bound, "li_cai": r.li_cai}
            for r in self.rows
        ]

    def to_text(self) -> str:
        """A fixed-width table: one line per schedule."""
        lines = [f"n = {self.n}, k = {self.k}, optimal expected KL = {self.optimal_error:.6g} nats",
                 f"{'schedule':<44} {'k':>5} {'error (nats)':>13} {'x optimal':>10} {'bound':>11} {'Li-Cai':>11}"]
        for r in self.rows:
            ratio = f"{r.ratio:.3f}" if math.isfinite(r.ratio) else "inf"
            bound = f"{r.bound:.4g}" if r.bound is not None else "-"
            lines.append(f"{r.name[:44]:<44} {r.k:>5} {r.error:>13.6g} {ratio:>10} {bound:>11} {r.li_cai:>11.4g}")
        return "\n".join(lines)

    def __str__(self) -> str:
        return self.to_text()


def default_schedules(z: ArrayLike, k: int) -> list[Schedule]:
    """The baselines compared by default: equal (LLaDA), cosine (MaskGIT), cos^2, geometric, the continuum
    approximation, the TC/DTC budget schedules when the budget allows (``zeta >= 2``), ASS (doubling steps, when
    ``2^k <= n``) and OpenDLM's seven mask-ratio shapes at their default parameters, all with ``k`` model calls
    (a peer pass that reveals nothing is a call: such a row shows fewer non-empty steps)."""
    curve = as_curve(z)
    n = curve.size
    out = [sch.equal(n, k), sch.cosine(n, k), sch.cosine_squared(n, k), sch.geometric_growth(n, k),
           sch.continuum_schedule(curve, k)]
    for kind in ("tc", "dtc"):
        with contextlib.suppress(ValueError):  # budget too small for a proven construction
            out.append(sch.budget_schedule(n, k, kind))
    if k < n.bit_length():  # 2^k <= n: ASS's own assert
        out.append(sch.practice.ass(n, k))
    out.extend(sch.practice.flexible(n, k, shape) for shape in sch.practice.FLEXIBLE_SHAPES)
    return out


def compare(z: ArrayLike, k: int, schedules: Sequence[Schedule | ArrayLike] | None = None) -> ComparisonTable:
    """Evaluate schedules on curve ``Z`` against the optimal ``k``-step schedule.

    ``schedules`` defaults to :func:`default_schedules`; plain size lists are accepted too. Each row holds the exact
    error ``err(Z, s)``, its ratio to ``opt_k``, the schedule's proven bound (if any) and the Li-Cai bound.
    O(k n) for the optimum plus O(n) per schedule.
    """
    curve = as_curve(z)
    k = as_steps(k, curve.size)
    best = optimal_schedule(curve, k)
    opt = float(best.error or 0.0)
    candidates = [best, *list(default_schedules(curve, k) if schedules is None else schedules)]
    rows = []
    for i, cand in enumerate(candidates):
        # Schedule validates the sizes itself: no int64 cast first (2**63 would be an OverflowError, not a ValueError)
        sched = cand if isinstance(cand, Schedule) else Schedule(cast(Any, cand), name=f"schedule {i}")
        error = schedule_error(curve, sched)
        ratio = error / opt if opt > 0 else 1.0 if error <= 1e-12 * max(1.0, float(curve.sum())) else math.inf
        rows.append(ComparisonRow(sched.name, sched.tolist(), error, ratio, sched.bound,
                                  sch.li_cai_bound(curve, sched)))
    return ComparisonTable(curve.size, k, opt, rows)


__all__ = ["ComparisonRow", "ComparisonTable", "compare", "default_schedules"]
