"""Calibration: the hyperparameter of a rule family whose mean NFE is closest to a budget of forward passes.

What is monotone and what is not. At one fixed state, a lower threshold ``tau`` (:class:`Threshold`), a larger
``gamma`` (:class:`EntropyBounded`) or a larger ``f`` (:class:`Factor`) reveals a superset of the positions, and a
larger count budget ``k`` reveals more per step. But under teacher forcing the *next* state depends on what was
revealed, so a row's NFE -- and the mean over rows -- is **not guaranteed** monotone in the hyperparameter (it is, by
construction, for :class:`RandomOrder` / :class:`TopK` with ``k`` passes per block: NFE = ``sum_b min(k, B_b)``
exactly). It is usually monotone in practice, and it is always a step function (finitely many rows). The search
below bisects as if it were monotone, keeps every evaluation, and returns the evaluated point whose NFE is closest to
the budget; ``Calibration.evaluations`` shows what was seen so a user can check.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

from numpy.typing import ArrayLike

from .._validation import as_count, as_data_rows, as_real, as_tolerance
from ..models.interface import StateModel
from .evaluate import SamplerEstimate, evaluate_sampler, plan_sampler
from .families import Family, default_family
from .loop import block_lengths

#: Lower end of each built-in hyperparameter's search; an upper end only for ``tau`` (others double until they cross).
_LOW: dict[str, float] = {"tau": 0.0, "f": 1e-3, "gamma": 0.0}
_HIGH: dict[str, float] = {"tau": 1.0}


@dataclass(frozen=True)
class Calibration:
    """The calibrated hyperparameter: ``value`` of ``parameter`` for ``family``, its :class:`~mdmsched.samplers.evaluate.SamplerEstimate`
    ``estimate`` (mean NFE ``estimate.nfe``, closest to ``budget`` among the evaluations), and every
    ``(value, mean NFE)`` pair tried, in order (``evaluations``)."""

    family: str
    parameter: str
    value: float
    budget: float
    estimate: SamplerEstimate = field(repr=False)
    evaluations: tuple[tuple[float, float], ...] = field(repr=False)

    @property
    def nfe(self) -> float:
        """Mean NFE at the calibrated value."""
        return self.estimate.nfe


def calibrate(model: StateModel | Any, data: ArrayLike, family: str | Family, budget: float, *,
              low: float | None = None, high: float | None = None, iterations: int = 12,
              **same: Any) -> Calibration:
    """The ``family``'s hyperparameter whose mean NFE on ``data`` is closest to ``budget`` forward passes per row.

    ``family``: ``"threshold"`` (``tau`` in ``[0, 1]``), ``"factor"`` (``f``), ``"entropy_bounded"`` (``gamma``,
    nats), a count family (``"random"``, ``"top_k"``, ``"floor_threshold"``: integer ``k`` passes per block in
    ``1..B``) or a :class:`~mdmsched.samplers.families.Family` (then give ``low`` and ``high``). Unbounded ranges (``f``, ``gamma``) start at 1 and
    double until the NFE is below the budget. Then bisection for ``iterations`` rounds (integers: until the bracket
    is two neighbours). ``same`` goes to every :func:`evaluate_sampler` call (``region``, ``block_length``,
    ``seed``, ...). Cost: ``iterations + 2`` evaluations or fewer (plus the doublings).
    """
    rows = as_data_rows(data)
    target = as_tolerance(budget, "budget")
    rounds = as_count(iterations, "iterations")
    plan = plan_sampler(rows.shape, region=same.get("region"), block_length=same.get("block_length"))
    lengths = block_lengths(plan.n, plan.block_length)
    chosen = family if isinstance(family, Family) else default_family(family, lengths)
    integer = chosen.parameter == "k"
    if integer:
        a, b = 1.0, float(max(lengths))
    else:
        if low is None and chosen.parameter not in _LOW:
            raise ValueError(f"family {chosen.name!r} has no default range for {chosen.parameter!r}: give low (and "
                             f"high, or it doubles from max(1, 2 low))")
        a = _LOW[chosen.parameter] if low is None else as_real(low, "low")
        b = as_real(high, "high") if high is not None else _HIGH.get(chosen.parameter, math.nan)
    if integer and (low is not None or high is not None):
        a = float(as_count(low, "low")) if low is not None else a
        b = float(as_count(high, "high")) if high is not None else b
    seen: dict[float, SamplerEstimate] = {}

    def nfe_at(value: float) -> float:
        if value not in seen:
            seen[value] = evaluate_sampler(model, rows, chosen.rule(value, lengths), **same)
        return seen[value].nfe

    order: list[float] = []

    def visit(value: float) -> float:
        order.append(value)
        return nfe_at(value)

    if math.isnan(b):  # unbounded above: double from 1 until the NFE is on the other side of the budget
        b = max(1.0, 2 * a)
        side = visit(a) > target
        for _ in range(60):
            if (visit(b) > target) != side:
                break
            b *= 2
    if not a < b:
        raise ValueError(f"low must be below high for {chosen.parameter!r}, got [{a:g}, {b:g}]")
    fa, fb = visit(a), visit(b)
    for _ in range(rounds):
        if (fa - target) * (fb - target) > 0 or target in (fa, fb):
            break  # the budget is outside the bracket (or hit): the closer end is the answer
        mid = math.floor((a + b) / 2) if integer else (a + b) / 2
        if integer and (mid <= a or mid >= b):
            break
        fm = visit(mid)
        if (fm - target) * (fa - target) > 0:
            a, fa = mid, fm
        else:
            b, fb = mid, fm
    best = min(seen, key=lambda v: (abs(seen[v].nfe - target), seen[v].nll))
    return Calibration(chosen.name, chosen.parameter, best, target, seen[best],
                       tuple((v, seen[v].nfe) for v in dict.fromkeys(order)))


__all__ = ["Calibration", "calibrate"]
