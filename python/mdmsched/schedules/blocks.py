"""Semi-autoregressive (blockwise) schedules: blocks generated left to right, steps split across blocks evenly or
optimally (SPEC §5.1, blocks).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
from numpy.typing import ArrayLike

from .._schedule import BlockSchedule
from .._validation import as_count, as_curve, as_int, require_memory
from ..solve import optimal_block_split, optimal_schedule
from .practice import equal
from .shapes import _positive_n

# Peak bytes per block of building a BlockSchedule without curves (tracemalloc: ~600 B at B = 1, n = 1e5), rounded up.
_BYTES_PER_BLOCK = 1024


def blockwise(n: int, block_length: int, *, steps_per_block: int | Sequence[int] | None = None,
              total_steps: int | None = None, curves: Sequence[ArrayLike] | None = None) -> BlockSchedule:
    """Blocks of ``block_length`` positions generated left to right (LLaDA / Dream semi-autoregressive sampling).

    Give either ``steps_per_block`` (one count for all blocks, or one per block) or ``total_steps`` (split across
    blocks). With per-block ``curves`` (each block's information curve given the previous blocks), steps are split
    optimally across blocks -- greedily by marginal gain ``opt_b(k) - opt_b(k+1)``, exact because each block's
    frontier is convex -- and each block uses its optimal schedule; ``error`` is then the sum of the blocks' errors.
    Without curves, ``total_steps`` is split as evenly as possible (earlier blocks get the remainder) and each block
    uses the equal split. The last block may be shorter. Returns a :class:`BlockSchedule` (``blocks[b]`` over block
    ``b``'s own positions; ``num_transfer_tokens()`` is the table a LLaDA-style loop indexes). O(blocks * B * k)
    with curves.
    """
    n = _positive_n(n)
    block_length = as_count(block_length, "block_length")
    blocks = -(-n // block_length)
    # One Schedule per block: refuse before building a billion of them (issue 28).
    require_memory(blocks * _BYTES_PER_BLOCK, f"{blocks} block schedules")
    lengths = [min(block_length, n - start) for start in range(0, n, block_length)]
    if (steps_per_block is None) == (total_steps is None):
        raise ValueError("give exactly one of steps_per_block and total_steps")
    if curves is not None:
        if isinstance(curves, (str, bytes)) or not hasattr(curves, "__len__"):
            raise TypeError(f"curves must be a sequence of per-block curves, got {type(curves).__name__}")
        if len(curves) != blocks:
            raise ValueError(f"curves must have one curve per block ({blocks}), got {len(curves)}")
        block_curves = [as_curve(c, f"curves[{b}]") for b, c in enumerate(curves)]
        for b, (c, length) in enumerate(zip(block_curves, lengths)):
            if c.size != length:
                raise ValueError(f"curves[{b}] must have {length} entries (the block's length), got {c.size}")
    if steps_per_block is not None:
        # A scalar (even a wrong kind, which as_count names below) is one count for every block.
        sequence = isinstance(steps_per_block, (Sequence, np.ndarray)) and not isinstance(steps_per_block, (str, bytes))
        per: list[Any] = list(steps_per_block) if sequence else [steps_per_block] * blocks  # type: ignore[arg-type]
        if len(per) != blocks:
            raise ValueError(f"steps_per_block must have one entry per block ({blocks}), got {len(per)}")
        counts = []
        for s, length in zip(per, lengths):
            count = as_count(s, "steps_per_block")
            counts.append(min(count, length))  # a block cannot take more steps than it has tokens
    else:
        total = as_int(total_steps, "total_steps")
        if not blocks <= total <= n:
            raise ValueError(f"total_steps must be between the number of blocks ({blocks}) and n = {n}, got {total}")
        counts = _even_split(total, lengths) if curves is None else optimal_block_split(block_curves, total)
    blocks_out = tuple(optimal_schedule(block_curves[b], count) if curves is not None else equal(length, count)
                       for b, (count, length) in enumerate(zip(counts, lengths)))
    return BlockSchedule(blocks_out, name=f"blockwise B={block_length} (k={sum(counts)})")


def _even_split(total: int, lengths: list[int]) -> list[int]:
    """Steps per block as even as possible, never more than a block's length (surplus moves to later blocks)."""
    counts = [1] * len(lengths)
    left = total - len(lengths)
    while left:
        moved = False
        for b in range(len(lengths)):
            if left and counts[b] < lengths[b]:
                counts[b] += 1
                left -= 1
                moved = True
        if not moved:
            break
    return counts


__all__ = ["blockwise"]
