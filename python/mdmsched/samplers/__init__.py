"""Samplers that choose their own positions and counts (SPEC §5.2): the rules (confidence order, thresholds, entropy
bounds, floor + threshold), their exact teacher-forced scoring on a model and data, and the sampling loop that runs
the same rules. Built on :mod:`mdmsched.models`; nothing below this floor imports it.

* :mod:`~mdmsched.samplers.rules` -- :class:`RandomOrder`, :class:`TopK`, :class:`Threshold`, :class:`Factor`,
  :class:`EntropyBounded`, :class:`FloorThreshold` over the base :class:`Rule`.
* :mod:`~mdmsched.samplers.evaluate` -- :func:`evaluate_sampler`, :func:`compare_samplers` (plan -> run -> merge),
  :func:`sample_with_rule`.
"""

from __future__ import annotations

from .evaluate import (
    METHODS,
    RESAMPLES,
    Interval,
    Method,
    SamplerComparison,
    SamplerEstimate,
    SamplerPlan,
    SamplerShard,
    compare_samplers,
    evaluate_sampler,
    mean_interval,
    merge_sampler_shards,
    plan_sampler,
    run_sampler_shard,
    sample_with_rule,
)
from .rules import SCORES, EntropyBounded, Factor, FloorThreshold, RandomOrder, Rule, Score, Threshold, TopK

__all__ = [
    "METHODS",
    "RESAMPLES",
    "SCORES",
    "EntropyBounded",
    "Factor",
    "FloorThreshold",
    "Interval",
    "Method",
    "RandomOrder",
    "Rule",
    "SamplerComparison",
    "SamplerEstimate",
    "SamplerPlan",
    "SamplerShard",
    "Score",
    "Threshold",
    "TopK",
    "compare_samplers",
    "evaluate_sampler",
    "mean_interval",
    "merge_sampler_shards",
    "plan_sampler",
    "run_sampler_shard",
    "sample_with_rule",
]
