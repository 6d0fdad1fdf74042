"""``mdmsched.torch``: the import path users type, kept working: :class:`TorchModel` (the torch backend,
:mod:`mdmsched.models.torch`) and the generation loops that run it (:mod:`mdmsched.samplers.generate`)."""

from __future__ import annotations

from .models.torch import TorchModel
from .samplers.generate import generate, generate_with_rule

__all__ = ["TorchModel", "generate", "generate_with_rule"]
