"""Prophet's early commit as a rule (SPEC §5.2): once the model is sure everywhere in the block, finish the block.

Peer: Prophet (pixeli99/Prophet, ``generate_earlyexit.py`` @ 460afe4, ``generate`` with ``analyze_gap=True``): after
each forward pass it averages the top-1 minus top-2 *logit* gap over an answer window of 5 positions and, once the
average passes a phase threshold (``early_exit_thresholds={'early': 7.5, 'mid': 5.0, 'late': 2.5}`` for progress
``< 0.33``, ``< 0.67``, else), fills every masked position of the sequence with its argmax in that pass; otherwise
LLaDA's ``low_confidence`` top-k with equal counts (``get_num_transfer_tokens``) runs.

mdmsched's :class:`EarlyCommit` is the block form of that rule (the form issue 26 asks for): the gap is checked at
*every* candidate (the current block's masked positions) rather than averaged over a window fixed in advance, one
threshold replaces the three phases, and it commits the rest of the *block* (later blocks still run), so the rule
needs no answer position and stays a function of the current state. Gap ``"logit"`` is Prophet's
``log p1 - log p2`` (``log(max_prob / (max_prob - margin))``, +inf when the runner-up has probability 0), ``"prob"``
the probability margin ``p1 - p2``. Because it sees only the current state's scores it is inside SPEC §5.2's class,
so teacher-forced scoring is exact for it (checked by brute force in ``tests/samplers/test_samplers_exact.py``).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any, Literal

import numpy as np
from numpy.typing import NDArray

from .._validation import as_choice, as_tolerance
from ..models.interface import StateScores
from .rules import Rule, TopK

Gap = Literal["logit", "prob"]
#: The gaps :class:`EarlyCommit` can test.
GAPS: tuple[Gap, ...] = ("logit", "prob")
#: Default threshold on the logit gap (nats): Prophet's middle phase (``'mid': 5.0``).
PROPHET_THRESHOLD = 5.0


def logit_gap(scores: StateScores) -> NDArray[np.float64]:
    """``log p1 - log p2`` per position from ``max_prob`` and ``margin`` (``p2 = max_prob - margin``), in nats;
    +inf where ``p2 = 0``. O(B n)."""
    second = scores.max_prob - scores.margin
    with np.errstate(divide="ignore", invalid="ignore"):
        gap = np.log(scores.max_prob) - np.log(second)
    return np.where(second > 0, gap, np.inf)


class EarlyCommit(Rule):
    """Commit the whole rest of the block once every candidate's top-1/top-2 gap is ``>= threshold``; otherwise
    let ``base`` choose.

    ``base``: a :class:`Rule`, or a schedule (sizes, one list per block or a ``BlockSchedule``) for Prophet's default,
    LLaDA ``low_confidence`` = :class:`TopK` by max probability with those counts (``equal`` split per block:
    ``mdmsched.practice.equal``). ``threshold`` (default 5.0 nats, Prophet's middle phase) applies to ``gap``:
    ``"logit"`` (Prophet's, nats) or ``"prob"`` (``p1 - p2``, in [0, 1]). Randomised when ``base`` is. O(B n log n)
    per call (the base rule's cost).
    """

    def __init__(self, base: Any, threshold: float = PROPHET_THRESHOLD, gap: Gap = "logit") -> None:
        self.base: Rule = base if isinstance(base, Rule) else TopK(base)
        self.gap: Gap = "logit" if as_choice(gap, "gap", GAPS) == "logit" else "prob"
        # a gap is never negative: a negative threshold would commit every position at once
        self.threshold = as_tolerance(threshold, "threshold")
        if self.gap == "prob" and not 0 <= self.threshold <= 1:
            raise ValueError(f"threshold must be in [0, 1] for gap='prob' (a probability margin), got "
                             f"{self.threshold!r}")
        self.randomised = self.base.randomised
        self.uses_scores = True

    def __repr__(self) -> str:
        return f"EarlyCommit({self.base!r}, threshold={self.threshold:g}, gap={self.gap!r})"

    def validate(self, block_lengths: Sequence[int]) -> None:
        self.base.validate(block_lengths)

    def sure(self, scores: StateScores, candidates: NDArray[np.bool_]) -> NDArray[np.bool_]:
        """Rows whose every candidate has gap ``>= threshold`` (rows without candidates: False). O(B n)."""
        gap = logit_gap(scores) if self.gap == "logit" else scores.margin
        passed = np.where(candidates, gap >= self.threshold, True)
        return np.asarray(passed.all(axis=1) & candidates.any(axis=1), dtype=bool)

    def choose(self, scores: StateScores, candidates: NDArray[np.bool_], step: NDArray[np.int64], block: int,
               uniforms: Callable[[tuple[int, int]], NDArray[np.float64]]) -> NDArray[np.bool_]:
        chosen = np.asarray(self.base.choose(scores, candidates, step, block, uniforms), dtype=bool)
        sure = self.sure(scores, candidates)
        return np.where(sure[:, None], candidates, chosen)


__all__ = ["GAPS", "PROPHET_THRESHOLD", "EarlyCommit", "Gap", "logit_gap"]
