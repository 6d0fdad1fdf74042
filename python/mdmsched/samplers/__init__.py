"""Samplers that choose their own positions and counts (SPEC §5.2): the rules (confidence order, thresholds, entropy
bounds, floor + threshold), their exact teacher-forced scoring on a model and data, and the sampling loop that runs
the same rules. Built on :mod:`mdmsched.models`; nothing below this floor imports it.

* :mod:`~mdmsched.samplers.loop` -- :func:`~mdmsched.samplers.loop.run_rule`, the one loop every rule and schedule
  runs in (teacher forcing and sampling), with the :class:`~mdmsched.samplers.loop.SelectionRule` protocol.
* :mod:`~mdmsched.samplers.generate` -- LLaDA-style :func:`~mdmsched.samplers.generate.generate` (a transfer table or
  a rule) and :func:`~mdmsched.samplers.generate.generate_with_rule` (torch models and any ``score_states`` model).
* :mod:`~mdmsched.samplers.simulate` -- :func:`simulate` (a schedule's sampler) and :func:`expected_kl` (Monte Carlo
  KL against a known law).
* :mod:`~mdmsched.samplers.rules` -- :class:`RandomOrder`, :class:`TopK`, :class:`Threshold`, :class:`Factor`,
  :class:`EntropyBounded`, :class:`FloorThreshold` over the base :class:`Rule`.
* :mod:`~mdmsched.samplers.early_commit` -- :class:`EarlyCommit`, Prophet's early commit (finish the block once the
  top-1/top-2 gap passes a threshold at every candidate). KLASS (KL-stable reveals) is not a rule here: it needs the
  full conditionals of past passes, which the loop does not give rules (docs: samplers guide).
* :mod:`~mdmsched.samplers.evaluate` -- :func:`evaluate_sampler`, :func:`compare_samplers` (plan -> run -> merge),
  :func:`sample_with_rule`.
* :mod:`~mdmsched.samplers.task` -- :func:`evaluate_task`, :func:`compare_tasks`: task accuracy by real generation with
  an interval clustered by prompt (SPEC §5.5); :class:`Task` for the map's accuracy axis.
* :mod:`~mdmsched.samplers.families` -- :class:`~mdmsched.samplers.families.Family` (a rule family over one hyperparameter), the default sweeps, and the closed-loop families (``closed_loop_family``).
* :mod:`~mdmsched.samplers.map` -- :func:`~mdmsched.samplers.map.sampler_map` -> :class:`~mdmsched.samplers.map.SamplerMap`: every family on one KL-vs-NFE map with
  the optimal random-order frontier.
* :mod:`~mdmsched.samplers.calibrate` -- :func:`~mdmsched.samplers.calibrate.calibrate`: the hyperparameter whose mean NFE is closest to a budget.
* :mod:`~mdmsched.samplers.counts` -- :func:`~mdmsched.samplers.counts.optimise_counts`: per-step counts for confidence order, proposed on some
  rows and verified on held-out rows against LLaDA's equal split.
"""

from __future__ import annotations

from .calibrate import Calibration, calibrate
from .counts import CountProposal, confidence_cost_tables, optimal_counts, optimise_counts
from .early_commit import EarlyCommit
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
from .families import CLOSED_LOOP_NAMES, FAMILY_NAMES, Family, closed_loop_family, default_family
from .generate import generate, generate_with_rule
from .loop import RuleRun, SelectionRule, run_rule
from .map import MapRow, SamplerMap, sampler_map
from .rules import SCORES, EntropyBounded, Factor, FloorThreshold, RandomOrder, Rule, Score, Threshold, TopK
from .simulate import KLEstimate, empirical_kl, expected_kl, simulate
from .task import (
    Task,
    TaskComparison,
    TaskEstimate,
    TaskPlan,
    TaskShard,
    accuracy_interval,
    compare_tasks,
    evaluate_task,
    merge_task_shards,
    plan_task,
    run_task_shard,
)

__all__ = [
    "CLOSED_LOOP_NAMES",
    "FAMILY_NAMES",
    "METHODS",
    "RESAMPLES",
    "SCORES",
    "Calibration",
    "CountProposal",
    "EarlyCommit",
    "EntropyBounded",
    "Factor",
    "Family",
    "FloorThreshold",
    "Interval",
    "KLEstimate",
    "MapRow",
    "Method",
    "RandomOrder",
    "Rule",
    "RuleRun",
    "SamplerComparison",
    "SamplerEstimate",
    "SamplerMap",
    "SamplerPlan",
    "SamplerShard",
    "Score",
    "SelectionRule",
    "Task",
    "TaskComparison",
    "TaskEstimate",
    "TaskPlan",
    "TaskShard",
    "Threshold",
    "TopK",
    "accuracy_interval",
    "calibrate",
    "closed_loop_family",
    "compare_samplers",
    "compare_tasks",
    "confidence_cost_tables",
    "default_family",
    "empirical_kl",
    "evaluate_sampler",
    "evaluate_task",
    "expected_kl",
    "generate",
    "generate_with_rule",
    "mean_interval",
    "merge_sampler_shards",
    "merge_task_shards",
    "optimal_counts",
    "optimise_counts",
    "plan_sampler",
    "plan_task",
    "run_rule",
    "run_sampler_shard",
    "run_task_shard",
    "sample_with_rule",
    "sampler_map",
    "simulate",
]
