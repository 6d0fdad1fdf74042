"""mdmsched: optimal unmasking schedules for masked diffusion models.

The expected KL error of an unmasking schedule equals the left-Riemann error of the distribution's information curve
``Z`` (Chen, Cong & Li, COLT 2026); the best k-step schedule is an exact 1-D optimal partition, solved in C++.
"""

from __future__ import annotations

import importlib
from importlib.metadata import PackageNotFoundError
from importlib.metadata import version as _dist_version
from typing import Any

from . import curves, distributions, models, practice, samplers, schedules
from ._schedule import BlockSchedule, Schedule
from .closed_loop import ClosedLoopPolicy, block_policies, closed_loop_policy
from .compare import ComparisonTable, compare
from .curves import (
    EXAMPLES,
    Distribution,
    EntropyEstimate,
    average_entropies,
    dual_total_correlation,
    estimate_average_entropies,
    example_curve,
    information_curve,
    project_monotone,
    subset_entropies,
    total_correlation,
)
from .models import (
    BlockCurveEstimate,
    CurveEstimate,
    ErrorEstimate,
    ExactPredictor,
    FlatCurveWarning,
    MarkovPredictor,
    MaskedModel,
    NonMonotoneWarning,
    Predictor,
    ProbabilityModel,
    estimate_block_curves,
    estimate_curve,
    merge_shards,
    plan_block_estimate,
    plan_estimate,
    run_shard,
)
from .samplers import (
    EarlyCommit,
    EntropyBounded,
    Factor,
    FloorThreshold,
    KLEstimate,
    RandomOrder,
    Rule,
    SamplerComparison,
    SamplerEstimate,
    Threshold,
    TopK,
    compare_samplers,
    empirical_kl,
    evaluate_sampler,
    expected_kl,
    sample_with_rule,
    simulate,
)
from .solve import (
    certified_error,
    certified_frontier,
    certified_min_steps,
    certified_schedule,
    error_frontier,
    min_steps,
    optimal_block_split,
    optimal_schedule,
    schedule_error,
)

try:
    __version__ = _dist_version("mdmsched")  # the one version source is pyproject.toml ([project] version)
except PackageNotFoundError:  # pragma: no cover - imported from a source tree that was never installed
    __version__ = "0+unknown"

__all__ = [
    "EXAMPLES",
    "BlockCurveEstimate",
    "BlockSchedule",
    "ClosedLoopPolicy",
    "ComparisonTable",
    "CurveEstimate",
    "Distribution",
    "EarlyCommit",
    "EntropyBounded",
    "EntropyEstimate",
    "ErrorEstimate",
    "ExactPredictor",
    "Factor",
    "FlatCurveWarning",
    "FloorThreshold",
    "KLEstimate",
    "MarkovPredictor",
    "MaskedModel",
    "NonMonotoneWarning",
    "Predictor",
    "ProbabilityModel",
    "RandomOrder",
    "Rule",
    "SamplerComparison",
    "SamplerEstimate",
    "Schedule",
    "Threshold",
    "TopK",
    "__version__",
    "average_entropies",
    "block_policies",
    "certified_error",
    "certified_frontier",
    "certified_min_steps",
    "certified_schedule",
    "closed_loop_policy",
    "compare",
    "compare_samplers",
    "curves",
    "distributions",
    "dual_total_correlation",
    "empirical_kl",
    "error_frontier",
    "estimate_average_entropies",
    "estimate_block_curves",
    "estimate_curve",
    "evaluate_sampler",
    "example_curve",
    "expected_kl",
    "information_curve",
    "merge_shards",
    "min_steps",
    "models",
    "optimal_block_split",
    "optimal_schedule",
    "plan_block_estimate",
    "plan_estimate",
    "plot",
    "practice",
    "project_monotone",
    "reference",
    "run_shard",
    "sample_with_rule",
    "samplers",
    "schedule_error",
    "schedules",
    "simulate",
    "subset_entropies",
    "total_correlation",
]


def __getattr__(name: str) -> Any:
    """``mdmsched.reference`` and ``mdmsched.plot`` load on first use (``plot`` needs matplotlib only when a plot is
    drawn; importing ``mdmsched`` never imports matplotlib)."""
    if name in ("reference", "plot"):
        return importlib.import_module(f".{name}", __name__)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
