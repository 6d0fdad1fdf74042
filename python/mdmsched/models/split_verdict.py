"""LLaDA's equal split of a step budget over blocks, and the verdict of a data-chosen split against it (issue 25.6).

A split chosen on the data is only worth using when a paired comparison that survives the choice (the simultaneous
band, or rows that played no part in choosing) shows it better than the equal split; otherwise the answer is "keep
your equal split", said in the returned schedule's ``verdict``.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from numpy.typing import NDArray


def equal_steps(lengths: Sequence[int], total: int) -> list[int]:
    """Steps per block: ``total // blocks`` each, the remainder to the first blocks (LLaDA divides evenly and
    refuses a remainder), each capped at its block's length with what a cap frees going to the first blocks with
    room. Needs ``blocks <= total <= sum(lengths)``. O(blocks^2) at most."""
    count = len(lengths)
    steps = [min(total // count + (b < total % count), int(length)) for b, length in enumerate(lengths)]
    left = total - sum(steps)
    for b, length in enumerate(lengths):
        extra = min(left, int(length) - steps[b])
        steps[b] += extra
        left -= extra
    return steps


def equal_sizes(length: int, steps: int) -> NDArray[np.int64]:
    """LLaDA's ``get_num_transfer_tokens`` for one block: ``length // steps`` per step, the remainder to the first
    steps. O(steps)."""
    return np.asarray([length // steps + (j < length % steps) for j in range(steps)], dtype=np.int64)


def equal_split(lengths: Sequence[int], total: int) -> list[NDArray[np.int64]]:
    """Per-block step sizes of LLaDA's equal split of ``total`` steps over blocks of ``lengths``."""
    return [equal_sizes(int(length), k) for length, k in zip(lengths, equal_steps(lengths, total))]


def verdict_text(beats: bool, value: float, lower: float, upper: float, confidence: float, how: str) -> str:
    """The answer in words: the paired difference (chosen minus equal, nats) and what to do."""
    numbers = f"{value:+.4g} nats [{lower:.4g}, {upper:.4g}] at {confidence:.0%} ({how})"
    if beats:
        return f"use this split: it beats LLaDA's equal split by {numbers}"
    return f"keep your equal split: this split is not significantly better than LLaDA's equal split ({numbers})"


__all__ = ["equal_sizes", "equal_split", "equal_steps", "verdict_text"]
