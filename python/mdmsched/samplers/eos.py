"""End of sequence inside the rule loop (variable-length answers): once an EOS is committed, the tail is settled.

Convention (LLaDA's, ``pad_after_eos=True``): a data row's answer is EOS-padded, so everything after its first EOS
is EOS. When the loop commits an EOS at generated position ``e`` (the ``e``-th position of the generated region, in
order, across all blocks), every still-masked generated position after ``e`` is filled with EOS at once: counted as
revealed, no forward pass spent, and a closed-loop policy re-plans the rest of its block from the state reached.
The sampler fills those positions with probability 1, so under teacher forcing they add ``-log 1 = 0`` to the
row's NLL, and SPEC §5.2's identity holds unchanged (the rule's choice still depends only on the revealed state).
A data row whose tokens after a committed EOS are not all EOS has probability 0 under the sampler (infinite NLL):
it is refused (``ValueError``). ``pad_after_eos=False`` stops instead: the positions after ``e`` leave the loop
(never revealed, never scored; their tokens are left as they were).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import NDArray

from .._validation import INT64_MAX, as_count

__all__ = ["EosOption", "as_eos"]


@dataclass(frozen=True)
class EosOption:
    """``eos_id`` (a token id >= 0) and whether the tail after a committed EOS is padded with EOS."""

    eos_id: int
    pad_after_eos: bool = True

    def settle(self, tokens: NDArray[np.int64], mask: NDArray[np.bool_], free: NDArray[np.int64],
               teacher: bool) -> NDArray[np.bool_]:
        """Settles the tails of ``tokens``/``mask`` (B x length, changed in place) after each row's first committed
        EOS among its generated positions ``free`` (B x n, in order); returns the (B, length) positions settled now.
        O(B n)."""
        values = np.take_along_axis(tokens, free, axis=1)
        masked = np.take_along_axis(mask, free, axis=1)
        committed = ~masked & (values == self.eos_id)
        has = committed.any(axis=1)
        first = np.where(has, committed.argmax(axis=1), free.shape[1])
        tail = masked & (np.arange(free.shape[1])[None, :] > first[:, None])
        settled = np.zeros_like(mask)
        np.put_along_axis(settled, free, tail, axis=1)
        if not settled.any():
            return settled
        if self.pad_after_eos:
            if teacher:
                bad = settled & (tokens != self.eos_id)
                if bad.any():
                    row, col = (int(v[0]) for v in np.nonzero(bad))
                    raise ValueError(f"data row {row} has token {int(tokens[row, col])} at position {col}, after a "
                                     f"committed EOS (eos_id={self.eos_id}); with pad_after_eos=True the answer must "
                                     "be EOS-padded (the sampler gives that row probability 0)")
            else:
                tokens[settled] = self.eos_id
        mask[settled] = False
        return settled


def as_eos(eos_id: Any, pad_after_eos: Any) -> EosOption | None:
    """The EOS option (None when ``eos_id`` is None), validated."""
    if not isinstance(pad_after_eos, (bool, np.bool_)):
        raise TypeError(f"pad_after_eos must be a bool, got {type(pad_after_eos).__name__}")
    if eos_id is None:
        return None
    return EosOption(as_count(eos_id, "eos_id", 0, INT64_MAX), bool(pad_after_eos))  # a token id: within int64
