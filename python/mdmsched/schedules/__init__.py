"""Unmasking schedules: how they are made (SPEC §6).

* :mod:`~mdmsched.schedules.practice` -- peer-exact rules (LLaDA, MaskGIT, DUS, Dream, dllm, diffusers, Fast-dLLM),
  with the passes that reveal nothing as the peers run them; also importable as ``mdmsched.practice``.
* :mod:`~mdmsched.schedules.shapes` -- mdmsched's own constructions (cos^2, geometric growth, mask fractions), exactly
  ``k`` non-empty steps whenever ``1 <= k <= n``.
* :mod:`~mdmsched.schedules.theory` -- TC / DTC / budget / Austin / continuum schedules and the Li-Cai bound.
* :mod:`~mdmsched.schedules.blocks` -- semi-autoregressive blocks (:func:`~mdmsched.schedules.blocks.blockwise`).

Every function returns a :class:`~mdmsched.Schedule` (or :class:`~mdmsched.BlockSchedule`) with steps >= 1 summing to
``n``; ``equal`` = LLaDA's split and ``cosine`` = MaskGIT's are re-exported here for convenience.
"""

from __future__ import annotations

from . import practice
from .blocks import blockwise
from .practice import cosine, dus, equal
from .shapes import cosine_squared, exact_k_breakpoints, from_mask_fractions, geometric_growth
from .theory import austin_schedule, budget_schedule, continuum_schedule, dtc_schedule, li_cai_bound, tc_schedule

__all__ = [
    "austin_schedule",
    "blockwise",
    "budget_schedule",
    "continuum_schedule",
    "cosine",
    "cosine_squared",
    "dtc_schedule",
    "dus",
    "equal",
    "exact_k_breakpoints",
    "from_mask_fractions",
    "geometric_growth",
    "li_cai_bound",
    "practice",
    "tc_schedule",
]
