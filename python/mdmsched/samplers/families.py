"""Families of rules swept over one hyperparameter, for the KL-vs-NFE map (:func:`~mdmsched.samplers.map.sampler_map`).

A :class:`Family` is a name, the hyperparameter's name, its values and a constructor ``make(value, block_lengths) ->
Rule``. Count-budget families take ``k`` = forward passes per block and give each block LLaDA's equal split of its
length into ``min(k, length)`` steps (``mdmsched.practice.equal``), so a block of length ``B`` costs
exactly ``min(k, B)`` passes under :class:`RandomOrder` / :class:`TopK` and at most that under
:class:`FloorThreshold`.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from .._validation import as_counts, as_curve, as_real_array, as_tolerance
from ..closed_loop import ClosedLoopPolicy, block_policies
from ..schedules.practice import equal
from .early_commit import EarlyCommit
from .rules import EntropyBounded, Factor, FloorThreshold, RandomOrder, Rule, Threshold, TopK

#: Threshold of the floor + threshold family (diffusers' ``BlockRefinementScheduler`` default is 0.95).
FLOOR_TAU = 0.9
#: The names :func:`default_family` knows, in the order the map draws them.
FAMILY_NAMES: tuple[str, ...] = ("random", "top_k", "floor_threshold", "threshold", "factor", "entropy_bounded",
                                 "early_commit")


@dataclass(frozen=True)
class Family:
    """One rule family over one hyperparameter: ``make(value, block_lengths)`` builds the rule for one ``value`` of
    ``parameter``; ``values`` are swept in order."""

    name: str
    parameter: str
    values: tuple[float, ...]
    make: Callable[[float, Sequence[int]], Rule]

    def rule(self, value: float, block_lengths: Sequence[int]) -> Rule:
        """The family's rule at ``value`` for blocks of ``block_lengths``."""
        return self.make(value, block_lengths)


def equal_counts(k: int, block_lengths: Sequence[int]) -> list[list[int]]:
    """LLaDA's equal split of every block into ``min(k, length)`` steps: one size list per block (plain lists: the
    rules read a list of lists as per-block counts). O(k blocks)."""
    return [[int(s) for s in equal(length, min(int(k), length)).sizes] for length in block_lengths]


def count_budgets(length: int, points: int = 6) -> tuple[float, ...]:
    """About ``points`` passes-per-block budgets from 1 to ``length``, geometrically spaced (distinct integers)."""
    values = np.unique(np.round(np.geomspace(1, max(length, 1), max(points, 2))).astype(int))
    return tuple(float(v) for v in values)


def default_family(name: str, block_lengths: Sequence[int], values: Sequence[float] | None = None) -> Family:
    """A built-in family with its default sweep (``values`` replaces it).

    ``"random"``: :class:`RandomOrder` with equal counts, ``k`` passes per block; ``"top_k"``: :class:`TopK` by max
    probability (LLaDA ``low_confidence``) with the same counts; ``"floor_threshold"``: :class:`FloorThreshold` with
    those counts as floors and ``tau = 0.9``; ``"threshold"``: :class:`Threshold` ``tau``; ``"factor"``:
    :class:`Factor` ``f``; ``"entropy_bounded"``: :class:`EntropyBounded` ``gamma`` (nats); ``"early_commit"``:
    :class:`EarlyCommit` over the logit-gap ``threshold`` (nats) with LLaDA ``low_confidence`` one token per pass as
    its base (Prophet's setting, ``steps = gen_length``).
    """
    if not isinstance(name, str):
        raise TypeError(f"family must be a Family or one of {FAMILY_NAMES}, got {type(name).__name__} {name!r}")
    lengths = as_counts(block_lengths, "block_lengths", 1)
    if lengths.ndim != 1 or lengths.size == 0:
        raise ValueError(f"block_lengths must be a non-empty list of block lengths, got shape {lengths.shape}")
    longest = int(lengths.max())
    sweeps: dict[str, tuple[str, tuple[float, ...], Callable[[float, Sequence[int]], Rule]]] = {
        "random": ("k", count_budgets(longest), lambda v, b: RandomOrder(equal_counts(int(v), b))),
        "top_k": ("k", count_budgets(longest), lambda v, b: TopK(equal_counts(int(v), b))),
        "floor_threshold": ("k", count_budgets(longest),
                            lambda v, b: FloorThreshold(equal_counts(int(v), b), tau=FLOOR_TAU)),
        "threshold": ("tau", (0.5, 0.7, 0.8, 0.9, 0.95, 0.99), lambda v, _: Threshold(v)),
        "factor": ("f", (0.25, 0.5, 1.0, 2.0, 4.0), lambda v, _: Factor(v)),
        "entropy_bounded": ("gamma", (0.01, 0.1, 0.3, 1.0, 3.0), lambda v, _: EntropyBounded(v)),
        "early_commit": ("threshold", (0.25, 0.5, 1.0, 2.5, 5.0, 7.5),
                         lambda v, b: EarlyCommit(equal_counts(max(b), b), threshold=v)),
    }
    if name not in sweeps:
        raise ValueError(f"family must be a Family or one of {FAMILY_NAMES}, got {name!r}")
    parameter, sweep, make = sweeps[name]
    chosen = sweep if values is None else tuple(map(float, as_real_array(values, "values", ndim=1)))
    if not chosen:
        raise ValueError(f"family {name!r} needs at least one value")
    if parameter == "k" and any(v < 1 or v != int(v) for v in chosen):
        raise ValueError(f"family {name!r} sweeps passes per block k: integers >= 1, got {list(chosen)}")
    return Family(name, parameter, chosen, make)


#: The closed-loop families :func:`closed_loop_family` builds (they need the curve the policy is planned on).
CLOSED_LOOP_NAMES: tuple[str, ...] = ("closed_loop_random", "closed_loop_top_k", "closed_loop_floor_threshold")


def _block_curves(curves: object) -> list[Any]:
    """One curve per block: a BlockCurveEstimate's estimates, one estimate or 1-D curve, or a sequence of curves."""
    if hasattr(curves, "curves"):
        return list(curves.curves)
    if hasattr(curves, "Z") or (isinstance(curves, np.ndarray) and curves.ndim == 1):
        return [curves]
    if not isinstance(curves, (list, tuple)) or not curves:
        raise TypeError(f"curves must be a curve, an estimate or a non-empty sequence of them, got "
                        f"{type(curves).__name__}")
    return [curves] if all(np.ndim(c) == 0 for c in curves) else list(curves)


def closed_loop_family(name: str, curves: object, values: Sequence[float] | None = None, *,
                       tau: float = FLOOR_TAU) -> Family:
    """A closed-loop family (SPEC §5.4) over ``k`` = passes per block: each block's rule looks its count up in a
    :class:`~mdmsched.ClosedLoopPolicy` of that block's curve with budget ``min(k, length)``, at the state reached.

    ``curves``: one curve per block (arrays, :class:`~mdmsched.CurveEstimate` s, or a ``BlockCurveEstimate``; a single
    curve or estimate for one block), e.g. the map's own ``SamplerMap.curve``. ``"closed_loop_random"``:
    :class:`RandomOrder`; ``"closed_loop_top_k"``: :class:`TopK` by max probability; ``"closed_loop_floor_threshold"``:
    :class:`FloorThreshold` at ``tau`` with the floor re-planned after every commit. Default sweep: as the open-loop
    count families. Policies are built once per ``(k, blocks)``: O(k n log n) each.
    """
    if not isinstance(name, str):
        raise TypeError(f"name must be one of {CLOSED_LOOP_NAMES}, got {type(name).__name__}")
    if name not in CLOSED_LOOP_NAMES:
        raise ValueError(f"name must be one of {CLOSED_LOOP_NAMES}, got {name!r}")
    tau = as_tolerance(tau, "tau")  # finite, >= 0 (above 1: the floor alone, as FloorThreshold's tau)
    block_curves = _block_curves(curves)
    for i, curve in enumerate(block_curves):  # checked now, not at the first sweep value
        as_curve(getattr(curve, "Z", curve), f"curves[{i}]")
    lengths = [int(np.size(getattr(c, "Z", c))) for c in block_curves]
    cache: dict[int, tuple[ClosedLoopPolicy, ...]] = {}

    def policies(k: int, block_lengths: Sequence[int]) -> list[ClosedLoopPolicy]:
        if list(block_lengths) != lengths:
            raise ValueError(f"the curves' block lengths {lengths} differ from the sampler's {list(block_lengths)}")
        if k not in cache:
            cache[k] = block_policies(block_curves, [min(k, length) for length in lengths])
        return list(cache[k])

    makers: dict[str, Callable[[float, Sequence[int]], Rule]] = {
        "closed_loop_random": lambda v, b: RandomOrder(policies(int(v), b)),
        "closed_loop_top_k": lambda v, b: TopK(policies(int(v), b)),
        "closed_loop_floor_threshold": lambda v, b: FloorThreshold(policies(int(v), b), tau=tau),
    }
    chosen = count_budgets(max(lengths)) if values is None else tuple(map(float, as_real_array(values, "values", ndim=1)))
    if not chosen or any(v < 1 or v != int(v) for v in chosen):
        raise ValueError(f"family {name!r} sweeps passes per block k: integers >= 1, got {list(chosen)}")
    return Family(name, "k", chosen, makers[name])


__all__ = ["CLOSED_LOOP_NAMES", "FAMILY_NAMES", "FLOOR_TAU", "Family", "closed_loop_family", "count_budgets",
           "default_family", "equal_counts"]
