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

import numpy as np

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
    longest = max(block_lengths) if block_lengths else 1
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
    chosen = sweep if values is None else tuple(float(v) for v in values)
    if not chosen:
        raise ValueError(f"family {name!r} needs at least one value")
    if parameter == "k" and any(v < 1 or v != int(v) for v in chosen):
        raise ValueError(f"family {name!r} sweeps passes per block k: integers >= 1, got {list(chosen)}")
    return Family(name, parameter, chosen, make)


__all__ = ["FAMILY_NAMES", "FLOOR_TAU", "Family", "count_budgets", "default_family", "equal_counts"]
