"""Adapters to the samplers people run: diffusers ``LLaDA2Pipeline``, LLaDA-style ``generate`` loops, Dream / MDLM
time grids, and a serving lookup. ``import mdmsched.adapters`` imports neither torch nor diffusers: the torch-facing
adapters import them when called, and the diffusers scheduler lives in :mod:`mdmsched.adapters.diffusers` (import it
explicitly; it needs the ``[diffusers]`` extra)."""

from __future__ import annotations

from ._plan import block_layout, plan_blocks
from .hf import hf_forward
from .llada import block_transfer_tokens, transfer_tokens
from .timegrid import ddpm_time_grid, dream_time_grid

__all__ = ["block_layout", "block_transfer_tokens", "ddpm_time_grid", "dream_time_grid", "hf_forward", "plan_blocks",
           "transfer_tokens"]
