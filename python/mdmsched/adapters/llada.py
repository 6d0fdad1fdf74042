"""Drop-ins for LLaDA's ``get_num_transfer_tokens(mask_index, steps)`` that return a schedule's counts (torch).

LLaDA's function takes the ``(batch, L)`` bool mask of one block and the number of passes, and returns an int64
``(batch, steps)`` tensor on the mask's device whose row ``r`` is the equal split of row ``r``'s masked positions.
:func:`transfer_tokens` returns the same shape, dtype and device holding the plan's counts, so the one-line change in
a LLaDA / Fast-dLLM / SDAR / DUS style ``generate`` is::

    get_num_transfer_tokens = mdmsched.adapters.transfer_tokens(plan)            # every block runs plan
    num_transfer_tokens = block_transfer_tokens(plan)(block_mask_index, steps, num_block)   # per-block plans

torch is imported when a returned function is called, never at ``import mdmsched``.
"""

from __future__ import annotations

from typing import Any, Callable

from .._validation import as_count, require_memory
from ._plan import plan_blocks

__all__ = ["block_transfer_tokens", "transfer_tokens"]


def _table(passes: list[int], mask_index: Any, steps: Any, where: str) -> Any:
    """The ``(batch, steps)`` int64 table of ``passes`` (trailing zeros when ``steps`` is larger) on the mask's
    device, after checking every row has ``sum(passes)`` masked positions. O(batch * (L + steps))."""
    import torch

    if not isinstance(mask_index, torch.Tensor) or mask_index.dtype != torch.bool or mask_index.ndim != 2:
        kind = f"{mask_index.dtype} tensor of shape {tuple(mask_index.shape)}" if isinstance(mask_index, torch.Tensor) \
            else type(mask_index).__name__
        raise TypeError(f"mask_index must be a 2-D bool torch tensor (batch, block positions), got {kind}")
    width = as_count(steps, "steps")
    require_memory(8 * width * max(1, int(mask_index.shape[0])), f"the ({mask_index.shape[0]}, {width}) transfer table")
    if width < len(passes):
        raise ValueError(f"steps={width}, but {where} runs {len(passes)} passes: the loop must run at least that many "
                         "(extra passes commit 0)")
    masked = mask_index.sum(dim=1)
    want = sum(passes)
    wrong = torch.nonzero(masked != want)
    if wrong.numel():
        row = int(wrong[0, 0])
        raise ValueError(f"row {row} of mask_index has {int(masked[row])} masked positions, but {where} reveals {want}")
    row_counts = torch.zeros(width, dtype=torch.int64, device=mask_index.device)
    row_counts[: len(passes)] = torch.tensor(passes, dtype=torch.int64)
    return row_counts.unsqueeze(0).expand(mask_index.shape[0], width).clone()


def transfer_tokens(plan: Any) -> Callable[[Any, int], Any]:
    """``get_num_transfer_tokens(mask_index, steps)`` for a :class:`~mdmsched.Schedule` run in every block (or a
    one-block :class:`~mdmsched.BlockSchedule`): int64 ``(batch, steps)`` on ``mask_index.device``, every row the
    plan's ``passes``. ``steps`` must be at least ``len(passes)`` (more gives trailing zeros); every row of
    ``mask_index`` must have ``plan.n`` masked positions, else ``ValueError`` (LLaDA would silently split a
    different count). O(batch * (L + steps)) per call."""
    blocks = plan_blocks(plan)
    if len(blocks) != 1:
        raise ValueError(f"a plan of {len(blocks)} blocks needs the block index: use block_transfer_tokens(plan)")
    passes = blocks[0]

    def get_num_transfer_tokens(mask_index: Any, steps: int) -> Any:
        return _table(passes, mask_index, steps, "the plan")

    return get_num_transfer_tokens


def block_transfer_tokens(plan: Any) -> Callable[[Any, int, int], Any]:
    """``get_num_transfer_tokens(mask_index, steps, block)`` for a :class:`~mdmsched.BlockSchedule`: block
    ``block``'s counts (uneven budgets per block included), shape/dtype/device as LLaDA's. A loop with one ``steps``
    for every block passes the largest block's pass count: shorter blocks get trailing zeros, which a Fast-dLLM style
    loop skips (it leaves a block once it is revealed) and LLaDA's runs as passes that commit nothing. O(batch *
    (L + steps)) per call."""
    blocks = plan_blocks(plan)

    def get_num_transfer_tokens(mask_index: Any, steps: int, block: int) -> Any:
        b = as_count(block, "block", minimum=0)
        if b >= len(blocks):
            raise ValueError(f"block must be < {len(blocks)} (the plan's blocks), got {b}")
        return _table(blocks[b], mask_index, steps, f"block {b} of the plan")

    return get_num_transfer_tokens
