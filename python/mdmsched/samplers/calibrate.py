"""Calibration: the hyperparameter of a rule family whose mean NFE is closest to a budget of forward passes, or --
reading the budget as a cap (``at_most=True``) -- the slowest (most accurate) one whose mean NFE is within the budget
with stated confidence.

What is monotone and what is not. At one fixed state, a lower threshold ``tau`` (:class:`Threshold`), a larger
``gamma`` (:class:`EntropyBounded`) or a larger ``f`` (:class:`Factor`) reveals a superset of the positions, and a
larger count budget ``k`` reveals more per step. But under teacher forcing the *next* state depends on what was
revealed, so a row's NFE -- and the mean over rows -- is **not guaranteed** monotone in the hyperparameter (it is, by
construction, for :class:`RandomOrder` / :class:`TopK` with ``k`` passes per block: NFE = ``sum_b min(k, B_b)``
exactly). It is usually monotone in practice, and it is always a step function (finitely many rows). The search
below bisects as if it were monotone, keeps every evaluation, and returns the evaluated point whose NFE is closest to
the budget (or, with ``at_most``, the slowest evaluated point whose upper confidence bound on the mean NFE is within
it); ``Calibration.evaluations`` shows what was seen so a user can check. The search plans once and scores every
distinct teacher-forced state once across all its evaluations (:class:`~mdmsched.samplers.sweep.StateCache`).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from statistics import NormalDist
from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray

from .._validation import as_confidence, as_count, as_data_rows, as_real, as_tolerance
from ..models.interface import StateModel
from .evaluate import Interval, SamplerEstimate, SamplerPlan, evaluate_sampler, mean_interval, plan_sampler
from .families import Family, default_family
from .loop import block_lengths
from .sweep import StateCache

#: Lower end of each built-in hyperparameter's search; an upper end only for ``tau`` (others double until they cross).
_LOW: dict[str, float] = {"tau": 0.0, "f": 1e-3, "gamma": 0.0}
_HIGH: dict[str, float] = {"tau": 1.0}


@dataclass(frozen=True)
class Calibration:
    """The calibrated hyperparameter: ``value`` of ``parameter`` for ``family``, its
    :class:`~mdmsched.samplers.evaluate.SamplerEstimate` ``estimate`` (mean NFE ``estimate.nfe``), and every
    ``(value, mean NFE)`` pair tried, in order (``evaluations``). ``at_most``: the budget was read as a cap, and
    ``upper`` (the one-sided upper confidence bound at ``confidence`` on the mean NFE, ``mean + z se`` over rows) is
    ``<= budget``; otherwise ``value`` is the evaluated point whose mean NFE is closest to ``budget`` (``upper`` is
    reported all the same). ``row_forwards``: rows the model scored over the whole search (each distinct state once,
    when run in this process). ``kl``: with ``calibrate(kl=eps)``, the interval (at ``confidence``, row bootstrap-t)
    of the chosen value's criterion -- its absolute expected KL (with ``entropy``) or its excess over the optimal
    random-order frontier at its mean NFE (nats; the frontier's own estimate taken as fixed); else None."""

    family: str
    parameter: str
    value: float
    budget: float
    estimate: SamplerEstimate = field(repr=False)
    evaluations: tuple[tuple[float, float], ...] = field(repr=False)
    at_most: bool = False
    upper: float = math.nan
    confidence: float = 0.95
    row_forwards: int = 0
    kl: Interval | None = None

    @property
    def nfe(self) -> float:
        """Mean NFE at the calibrated value."""
        return self.estimate.nfe


#: Most bisection rounds: 64 halve any double bracket to its last bit; more is a typo that would run for hours.
MAX_ITERATIONS = 64

def nfe_upper_bound(estimate: SamplerEstimate, confidence: float) -> float:
    """One-sided upper confidence bound on the mean NFE: ``mean + z_confidence * sd / sqrt(N)`` over the rows (the
    normal approximation; NFE per row is bounded in ``1..n``, so the mean is well behaved). O(N)."""
    rows = estimate.nfe_rows
    spread = float(rows.std(ddof=1)) / math.sqrt(rows.size) if rows.size > 1 else math.inf
    return estimate.nfe + NormalDist().inv_cdf(confidence) * spread


def calibrate(model: StateModel | Any, data: ArrayLike, family: str | Family, budget: float, *,
              low: float | None = None, high: float | None = None, iterations: int = 12, at_most: bool = False,
              kl: float | None = None, entropy: float | None = None,
              confidence: float = 0.95, region: ArrayLike | None = None, block_length: int | None = None,
              seed: int = 0, batch_size: int = 64, plan: SamplerPlan | None = None, cache_bytes: int | None = None,
              **same: Any) -> Calibration:
    """The ``family``'s hyperparameter whose mean NFE on ``data`` is closest to ``budget`` forward passes per row;
    with ``at_most=True``, the slowest (most accurate) evaluated one whose upper confidence bound on the mean NFE
    (one-sided, at ``confidence``: :func:`nfe_upper_bound`) is ``<= budget`` -- the budget as a cap
    (``ValueError`` when even the fastest end of the range exceeds it). With ``kl=eps`` (nats; ``budget`` then only
    names the target NFE scale and is ignored by the choice): the fastest evaluated value whose expected KL is
    within ``eps`` of the optimal random-order frontier at the same mean NFE (the frontier of the model's
    cross-entropy curve on the same rows, linear between integer passes: the best mix of two schedules; needs a
    model with ``score``), or -- with ``entropy = H(mu)`` -- whose absolute expected KL ``nll - H`` is below ``eps``;
    its interval is ``Calibration.kl`` (``ValueError`` when no evaluated value qualifies).

    ``family``: ``"threshold"`` (``tau`` in ``[0, 1]``), ``"factor"`` (``f``), ``"entropy_bounded"`` (``gamma``,
    nats), a count family (``"random"``, ``"top_k"``, ``"floor_threshold"``: integer ``k`` passes per block in
    ``1..B``; a larger ``high`` is the same rule as ``k = B`` and is cut there) or a
    :class:`~mdmsched.samplers.families.Family` (then give ``low`` and ``high``). Unbounded ranges (``f``, ``gamma``)
    start at 1 and double until the NFE is below the budget. Then bisection for ``iterations`` rounds (integers:
    until the bracket is two neighbours, whatever ``iterations``). ``region`` / ``block_length`` / ``seed`` /
    ``batch_size`` make one plan (or pass ``plan``) used by every evaluation; ``same`` goes to every
    :func:`evaluate_sampler` call (``executor``, ``shards``, ``progress``). In this process the evaluations share
    one :class:`~mdmsched.samplers.sweep.StateCache` (``cache_bytes``). Cost: ``iterations + 2`` evaluations or
    fewer (plus the doublings), each distinct state scored once.
    """
    rows = as_data_rows(data)
    target = as_tolerance(budget, "budget")
    rounds = as_count(iterations, "iterations", 1, MAX_ITERATIONS)
    level = as_confidence(confidence)
    if not isinstance(at_most, bool):
        raise TypeError(f"at_most must be True or False, got {type(at_most).__name__}")
    eps = None if kl is None else as_tolerance(kl, "kl")
    h = None if entropy is None else as_tolerance(entropy, "entropy")
    if eps is not None and at_most:
        raise ValueError("give at_most=True (a cap on NFE) or kl= (a cap on KL), not both")
    if h is not None and eps is None:
        raise ValueError("entropy= is used with kl= (an absolute KL target); give kl too")
    if plan is None:
        plan = plan_sampler(rows.shape, region=region, block_length=block_length, seed=seed, batch_size=batch_size)
    elif not isinstance(plan, SamplerPlan):
        raise TypeError(f"plan must be a SamplerPlan (from plan_sampler), got {type(plan).__name__}")
    elif region is not None or block_length is not None:
        raise ValueError("pass region and block_length to plan_sampler, not beside plan= (the plan decides them)")
    lengths = block_lengths(plan.n, plan.block_length)
    chosen = family if isinstance(family, Family) else default_family(family, lengths)
    integer = chosen.parameter == "k"
    if integer:
        a = float(as_count(low, "low")) if low is not None else 1.0
        b = float(as_count(high, "high")) if high is not None else float(max(lengths))
        b = min(b, float(max(lengths)))  # k >= the longest block: one token per pass everywhere, the same rule
    else:
        if low is None and chosen.parameter not in _LOW:
            raise ValueError(f"family {chosen.name!r} has no default range for {chosen.parameter!r}: give low (and "
                             f"high, or it doubles from max(1, 2 low))")
        a = _LOW[chosen.parameter] if low is None else as_real(low, "low")
        b = as_real(high, "high") if high is not None else _HIGH.get(chosen.parameter, math.nan)
    scorer = StateCache(model, cache_bytes) if same.get("executor") is None else model
    seen: dict[float, SamplerEstimate] = {}
    reference = None if eps is None or h is not None else _frontier_reference(model, rows, plan, same)

    def excess(est: SamplerEstimate) -> NDArray[np.float64]:
        """Per-row criterion of kl=: NLL minus H, or minus the frontier at this estimate's mean NFE."""
        if h is not None:
            return est.nll_rows - h
        assert reference is not None
        return est.nll_rows - float(np.interp(est.nfe, reference[0], reference[1]))

    def objective(value: float) -> float:
        """Mean NFE, its upper confidence bound when the budget is a cap, or the KL criterion under kl=."""
        if value not in seen:
            seen[value] = evaluate_sampler(scorer, rows, chosen.rule(value, lengths), plan=plan, **same)
        if eps is not None:
            return float(excess(seen[value]).mean())
        return nfe_upper_bound(seen[value], level) if at_most else seen[value].nfe

    if eps is not None:
        target = eps  # bisect on the KL criterion: it falls as the sampler slows (usually)

    order: list[float] = []

    def visit(value: float) -> float:
        order.append(value)
        return objective(value)

    if math.isnan(b):  # unbounded above: double from 1 until the NFE is on the other side of the budget
        b = max(1.0, 2 * a)
        side = visit(a) > target
        for _ in range(60):
            if (visit(b) > target) != side:
                break
            b *= 2
    if not a < b and not (integer and a == b):
        raise ValueError(f"low must be below high for {chosen.parameter!r}, got [{a:g}, {b:g}]")
    fa, fb = visit(a), visit(b)
    step = 0
    while integer or step < rounds:
        step += 1
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
    interval = None
    if eps is not None:
        good = [v for v in seen if float(excess(seen[v]).mean()) <= eps]
        if not good:
            closest = min(seen, key=lambda v: float(excess(seen[v]).mean()))
            raise ValueError(f"no {chosen.parameter} tried has expected KL within kl={eps:g} nats "
                             f"{'(absolute)' if h is not None else 'of the optimal random-order frontier'}; the "
                             f"closest: {chosen.parameter} = {closest:g}, {float(excess(seen[closest]).mean()):.4g} "
                             "nats")
        best = min(good, key=lambda v: (seen[v].nfe, seen[v].nll))
        interval = mean_interval(excess(seen[best]), confidence=level, seed=plan.seed)
    elif at_most:
        within = [v for v in seen if nfe_upper_bound(seen[v], level) <= target]
        if not within:
            fastest = min(seen, key=lambda v: nfe_upper_bound(seen[v], level))
            raise ValueError(f"no {chosen.parameter} tried keeps the mean NFE <= budget {target:g} at {level:.0%} "
                             f"confidence (fastest: {chosen.parameter} = {fastest:g}, mean NFE "
                             f"{seen[fastest].nfe:.4g}, upper bound {nfe_upper_bound(seen[fastest], level):.4g})")
        best = max(within, key=lambda v: (seen[v].nfe, -seen[v].nll))
    else:
        best = min(seen, key=lambda v: (abs(seen[v].nfe - target), seen[v].nll))
    forwards = scorer.row_forwards if isinstance(scorer, StateCache) else sum(
        int(e.nfe_rows.sum()) for e in seen.values())
    return Calibration(chosen.name, chosen.parameter, best, target, seen[best],
                       tuple((v, seen[v].nfe) for v in dict.fromkeys(order)), at_most,
                       nfe_upper_bound(seen[best], level), level, forwards, interval)


def _frontier_reference(model: Any, rows: NDArray[np.int64], plan: SamplerPlan,
                        same: dict[str, Any]) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """The optimal random-order frontier (passes, expected NLL sum) of ``model`` on ``rows`` under ``plan``'s layout,
    as the map computes it (one curve estimate per block)."""
    from .map import frontier_of

    region = None if plan.free.shape[1] == plan.length else _region_of(plan)
    passes, nll = frontier_of(model, rows, region, plan.block_length, plan.seed, same.get("executor"))
    return passes.astype(np.float64), nll


def _region_of(plan: SamplerPlan) -> NDArray[np.bool_]:
    """The plan's generated positions as a ``(rows, length)`` (or ``(length,)``) bool region."""
    region = np.zeros((plan.free.shape[0], plan.length), dtype=bool)
    np.put_along_axis(region, plan.free, True, axis=1)
    return region[0] if region.shape[0] == 1 else region


__all__ = ["Calibration", "calibrate", "nfe_upper_bound"]
