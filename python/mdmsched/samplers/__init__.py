"""Samplers that choose their own positions and counts (SPEC §5.2): the rules (confidence order, thresholds, entropy
bounds, floor + threshold), their teacher-forced scoring on a model and data, the KL-vs-NFE map, and the generation
loop that runs the same rules. Built on :mod:`mdmsched.models`; nothing below this floor imports it.
"""

from __future__ import annotations

__all__: list[str] = []
