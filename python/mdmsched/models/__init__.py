"""A learned model: its interface, exact reference models, curve estimation and simulation (SPEC §5.1).

* :mod:`~mdmsched.models.interface` -- :class:`~mdmsched.MaskedModel` (``score(tokens, mask, target)``, one number per
  position, nats), :class:`~mdmsched.ProbabilityModel` over ``(B, n, q)`` predictors, ``check_scores``.
* :mod:`~mdmsched.models.exact` -- :class:`~mdmsched.ExactPredictor`, :class:`~mdmsched.MarkovPredictor`.
* :mod:`~mdmsched.models.estimate` -- the model's curve with error bars (plan -> run -> merge, any executor).
* :mod:`~mdmsched.models.state_scores` -- :class:`StateScores`, what one forward pass (``score_states``) tells a rule:
  max probability, margin, entropy, teacher-forced ``-log q``, draws.
* ``mdmsched.models.torch`` -- :class:`TorchModel`, the torch backend (needs torch; also ``mdmsched.torch``; not
  imported here, so ``import mdmsched`` never imports torch).

How a model is *run* (the rule loop, generation, simulation, Monte Carlo KL) lives one floor up in
:mod:`mdmsched.samplers`; the old names here (``run_rule``, ``RuleRun``, ``SelectionRule``, ``simulate``,
``expected_kl``, ``empirical_kl``, ``KLEstimate``) still resolve, with a ``DeprecationWarning``.
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
    StateModel,
    StateScores,
    Target,
    check_scores,
    check_state_scores,
)

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
    "MarkovPredictor",
    "MaskedModel",
    "NonMonotoneWarning",
    "Predictor",
    "ProbabilityModel",
    "SamplingModel",
    "ShardResult",
    "StateModel",
    "StateScores",
    "Target",
    "check_scores",
    "check_state_scores",
    "estimate_block_curves",
    "estimate_curve",
    "merge_shards",
    "plan_block_estimate",
    "plan_estimate",
    "run_shard",
]

#: Names that moved up to :mod:`mdmsched.samplers` (the loops live with the samplers), forwarded with a warning.
_MOVED = {"run_rule": "loop", "RuleRun": "loop", "SelectionRule": "loop", "simulate": "simulate",
          "expected_kl": "simulate", "empirical_kl": "simulate", "KLEstimate": "simulate"}


def __getattr__(name: str) -> object:
    if name in _MOVED:
        import importlib
        import warnings

        target = f"mdmsched.samplers.{_MOVED[name]}"
        warnings.warn(f"mdmsched.models.{name} moved to {target}.{name}", DeprecationWarning, stacklevel=2)
        return getattr(importlib.import_module(target), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
