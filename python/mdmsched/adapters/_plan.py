"""A schedule as the per-block pass lists a sampler loop runs (shared by the torch adapters)."""

from __future__ import annotations

from typing import Any

from .._schedule import BlockSchedule, Schedule
from .._validation import as_count
from ..closed_loop import ClosedLoopPolicy

__all__ = ["block_layout", "plan_blocks", "plan_policies"]

#: Most blocks a layout lists (one entry each): a model-call count far beyond any real generation.
MAX_BLOCKS = 2**24


def plan_policies(plan: Any, name: str = "plan") -> list[ClosedLoopPolicy] | None:
    """``plan`` as closed-loop policies (one, or one per block), or None when it is an open-loop plan. The counts a
    closed-loop sampler commits come from :meth:`ClosedLoopPolicy.step_counts` at the state reached. O(blocks)."""
    if isinstance(plan, ClosedLoopPolicy):
        return [plan]
    if isinstance(plan, (list, tuple)) and plan and any(isinstance(p, ClosedLoopPolicy) for p in plan):
        if not all(isinstance(p, ClosedLoopPolicy) for p in plan):
            raise TypeError(f"{name} mixes ClosedLoopPolicy and other objects: give one policy per block")
        return list(plan)
    return None


def plan_blocks(plan: Any, name: str = "plan") -> list[list[int]]:
    """``plan`` (a :class:`Schedule` or :class:`BlockSchedule`) as one list of passes per block (zeros kept: a pass
    of 0 is a model call that reveals nothing). A ``Schedule`` is one block. O(total passes)."""
    if not isinstance(name, str):
        raise TypeError(f"name must be a string (the argument's name in messages), got {type(name).__name__}")
    if isinstance(plan, BlockSchedule):
        return [[int(p) for p in block.passes] for block in plan.blocks]
    if isinstance(plan, Schedule):
        return [[int(p) for p in plan.passes]]
    raise TypeError(f"{name} must be a mdmsched Schedule or BlockSchedule, got {type(plan).__name__}")


def block_layout(prompt_length: int, gen_length: int, block_length: int) -> list[int]:
    """Masked positions of each block a block-aligned sampler (diffusers ``LLaDA2Pipeline``, SDAR) runs: blocks tile
    the whole sequence from position 0, so the first generated block shares ``prompt_length % block_length``
    positions with the prompt and the last one runs to the block boundary past ``prompt_length + gen_length`` (those
    tail positions are masks the sampler fills too, then drops). O(blocks)."""
    # positions are int64 in every sampler: a prompt, canvas or block beyond 2**62 is no sequence
    prompt = as_count(prompt_length, "prompt_length", minimum=0, maximum=2**62)
    gen = as_count(gen_length, "gen_length", maximum=2**62)
    block = as_count(block_length, "block_length", maximum=2**62)
    first, last = prompt // block, -(-(prompt + gen) // block)
    if last - first > MAX_BLOCKS:  # one list entry per block: refuse before a list of billions
        raise ValueError(f"gen_length = {gen} in blocks of {block} is {last - first} blocks, more than {MAX_BLOCKS}")
    return [block - (prompt - b * block if b * block < prompt else 0) for b in range(first, last)]
