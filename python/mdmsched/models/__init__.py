"""A learned model: its interface, exact reference models, curve estimation and simulation (SPEC §5.1).

* :mod:`~mdmsched.models.interface` -- :class:`~mdmsched.MaskedModel` (``score(tokens, mask, target)``, one number per
  position, nats), :class:`~mdmsched.ProbabilityModel` over ``(B, n, q)`` predictors, ``check_scores``.
* :mod:`~mdmsched.models.exact` -- :class:`~mdmsched.ExactPredictor`, :class:`~mdmsched.MarkovPredictor`.
* :mod:`~mdmsched.models.estimate` -- the model's curve with error bars (plan -> run -> merge, any executor).
* :mod:`~mdmsched.models.state_scores`, :mod:`~mdmsched.models.rule_loop` -- ``score_states`` (one forward pass:
  max probability, margin, entropy, teacher-forced ``-log q``, draws) and the one loop that runs a position-choosing rule.
* :mod:`~mdmsched.models.simulate` -- the sampler itself and Monte Carlo KL against a known target.
* ``mdmsched.models.torch`` -- :class:`TorchModel` and ``generate`` (needs torch; also ``mdmsched.torch``; not imported
  here, so ``import mdmsched`` never imports torch).
"""

from __future__ import annotations

from .estimate import (
    BlockCurveEstimate,
    CurveEstimate,
    ErrorEstimate,
    EstimatePlan,
    FlatCurveWarning,
    NonMonotoneWarning,
    ShardResult,
    estimate_block_curves,
    estimate_curve,
    merge_shards,
    plan_block_estimate,
    plan_estimate,
    run_shard,
)
from .exact import ExactPredictor, MarkovPredictor
from .interface import (
    MAX_SCORE,
    TARGETS,
    ExactModel,
    MaskedModel,
    Predictor,
    ProbabilityModel,
    SamplingModel,
    SelectionRule,
    StateModel,
    StateScores,
    Target,
    check_scores,
    check_state_scores,
)
from .rule_loop import RuleRun, run_rule
from .simulate import KLEstimate, empirical_kl, expected_kl, simulate

__all__ = [
    "MAX_SCORE",
    "TARGETS",
    "BlockCurveEstimate",
    "CurveEstimate",
    "ErrorEstimate",
    "EstimatePlan",
    "ExactModel",
    "ExactPredictor",
    "FlatCurveWarning",
    "KLEstimate",
    "MarkovPredictor",
    "MaskedModel",
    "NonMonotoneWarning",
    "Predictor",
    "ProbabilityModel",
    "RuleRun",
    "SamplingModel",
    "SelectionRule",
    "ShardResult",
    "StateModel",
    "StateScores",
    "Target",
    "check_scores",
    "check_state_scores",
    "empirical_kl",
    "estimate_block_curves",
    "estimate_curve",
    "expected_kl",
    "merge_shards",
    "plan_block_estimate",
    "plan_estimate",
    "run_rule",
    "run_shard",
    "simulate",
]
