"""What one forward pass tells a sampler that chooses its own positions (SPEC §5.2): per masked position the state
scores of ``q(. | x_R)`` -- max probability, top-1 minus top-2 margin, entropy (nats) -- and, in the same pass, the
teacher-forced ``-log q(x_i | x_R)`` at the row's token or one independent draw: the data type and its checks. The
protocol a model meets to produce it (:class:`~mdmsched.models.interface.StateModel`) lives with the other model
protocols in :mod:`mdmsched.models.interface`; the loop that runs rules on it is :mod:`mdmsched.samplers.loop`.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

#: Largest nats value a state score may hold (as ``interface.MAX_SCORE``: sums over rows and steps stay finite).
_MAX_NATS = 1e100
#: Probabilities (max, margin) may exceed 1 by this much (rounding of the model's own normalisation).
_PROB_SLACK = 1e-6


@dataclass(frozen=True)
class StateScores:
    """One forward pass at one state: ``(B, n)`` float64 arrays, meaningful at masked positions (0 elsewhere).

    ``max_prob`` = ``max_v q(v | x_R)``; ``margin`` = top-1 minus top-2 probability; ``entropy`` =
    ``H(q(. | x_R))`` in nats; ``nll`` = ``-log q(x_i | x_R)`` at the row's tokens (teacher forcing; None if not
    asked); ``draws`` = one independent draw per masked position (int64; None if not asked).
    """

    max_prob: NDArray[np.float64]
    margin: NDArray[np.float64]
    entropy: NDArray[np.float64]
    nll: NDArray[np.float64] | None = None
    draws: NDArray[np.int64] | None = None

    @classmethod
    def zeros(cls, shape: tuple[int, ...], *, nll: bool, draws: bool) -> StateScores:
        """Zero-filled arrays of ``shape`` (the caller fills the masked positions). O(B n)."""
        return cls(np.zeros(shape), np.zeros(shape), np.zeros(shape), np.zeros(shape) if nll else None,
                   np.zeros(shape, dtype=np.int64) if draws else None)

    def rows(self, index: NDArray[np.int64]) -> StateScores:
        """The scores of the rows ``index`` (a copy), e.g. the rows of one block. O(len(index) n)."""
        return StateScores(self.max_prob[index], self.margin[index], self.entropy[index],
                           None if self.nll is None else self.nll[index],
                           None if self.draws is None else self.draws[index])


def scores_from_probabilities(chunk: NDArray[np.float64], sums: NDArray[np.float64], out: StateScores,
                              rows: NDArray[np.int64], cols: NDArray[np.int64], truth: NDArray[np.int64] | None,
                              uniforms: NDArray[np.float64] | None) -> None:
    """Fill ``out`` at ``(rows, cols)`` from validated probability rows ``chunk`` (m, q) with row sums ``sums``.

    The top two come from one ``np.partition``; ``0 log 0 = 0``; draws are the inverse CDF at ``u * sum`` (a cell of
    probability 0 is never drawn). O(m q) time, one (m, q) scratch array.
    """
    q = chunk.shape[1]
    if q >= 2:
        top2 = np.partition(chunk, q - 2, axis=1)[:, q - 2:]
        first, second = top2[:, 1], top2[:, 0]
    else:
        first, second = chunk[:, 0], np.zeros(chunk.shape[0])
    out.max_prob[rows, cols] = first
    out.margin[rows, cols] = first - second
    logs = np.zeros_like(chunk)
    np.log(chunk, out=logs, where=chunk > 0)
    out.entropy[rows, cols] = np.maximum(-np.einsum("ij,ij->i", chunk, logs), 0.0)
    if truth is not None and out.nll is not None:
        picked = chunk[np.arange(chunk.shape[0]), truth]
        with np.errstate(divide="ignore"):
            out.nll[rows, cols] = -np.log(picked)  # a true token of probability 0 costs +inf: the checker refuses it
    if uniforms is not None and out.draws is not None:
        cumulative = np.cumsum(chunk, axis=1, out=logs)
        drawn = ((uniforms * sums)[:, None] >= cumulative).sum(axis=1)
        out.draws[rows, cols] = np.minimum(drawn, q - 1)


def check_state_scores(scores: object, mask: NDArray[np.bool_], *, nll: bool, draws: bool,
                       where: NDArray[np.bool_] | None = None) -> StateScores:
    """Validate what ``score_states`` returned: a :class:`StateScores` whose arrays have the mask's shape, with, at
    masked positions, ``max_prob`` in [0, 1], ``0 <= margin <= max_prob``, ``entropy`` and ``nll`` finite, ``>= 0`` and
    ``<= 1e100`` nats, ``draws`` integer ids ``>= 0``; ``nll``/``draws`` present when asked. Returns float64/int64
    copies with zeros at revealed positions and outside ``where`` when given (the positions that were asked for);
    rounding noise of ``1e-6`` below 0 or above 1 is clamped (the slack is absolute, so ``-1e80`` beside ``1e99`` is
    refused, issue 28.7).
    ``ValueError`` names the field. O(B n).
    """
    if not isinstance(scores, StateScores):
        raise TypeError(f"model.score_states returned {type(scores).__name__}; expected StateScores")
    mask = np.asarray(mask)
    if mask.dtype != np.bool_:
        raise TypeError(f"mask must be a bool array (True = masked), got dtype {mask.dtype}")
    if where is not None:  # only the positions the caller asked scores for (the current block's candidates)
        mask = mask & where

    def real(name: str, values: object, low: float, high: float, cap: float) -> NDArray[np.float64]:
        arr = np.asarray(values)
        if arr.dtype.kind not in "iuf":
            raise ValueError(f"model.score_states returned {name} of dtype {arr.dtype}; expected real numbers")
        if arr.shape != mask.shape:
            raise ValueError(f"model.score_states returned {name} of shape {arr.shape}; expected {mask.shape}")
        out = np.where(mask, arr, 0.0).astype(np.float64)
        if out.size:
            lowest, highest = float(out.min()), float(out.max())
            if not (np.isfinite(lowest) and np.isfinite(highest)):
                raise ValueError(f"model.score_states returned NaN or an infinite {name} at a masked position"
                                 + (" (a true token of probability 0)" if name == "nll" else ""))
            # absolute slack (float32 rounding of a ~0 entropy or nll); a huge value elsewhere excuses nothing
            if lowest < low - _PROB_SLACK or highest > high:
                bad = lowest if lowest < low else highest
                raise ValueError(f"model.score_states returned {name} = {bad!r} at a masked position, outside "
                                 f"[{low:g}, {high:g}]")
        np.clip(out, low, cap, out=out)
        return out

    top = real("max_prob", scores.max_prob, 0.0, 1.0 + _PROB_SLACK, 1.0)
    gap = real("margin", scores.margin, 0.0, 1.0 + _PROB_SLACK, 1.0)
    if (gap > top + _PROB_SLACK).any():
        raise ValueError("model.score_states returned a margin above the max probability at a masked position")
    np.minimum(gap, top, out=gap)
    ent = real("entropy", scores.entropy, 0.0, _MAX_NATS, _MAX_NATS)
    loss = None
    if nll:
        if scores.nll is None:
            raise ValueError("model.score_states returned nll=None although nll=True was asked")
        loss = real("nll", scores.nll, 0.0, _MAX_NATS, _MAX_NATS)
    drawn = None
    if draws:
        if scores.draws is None:
            raise ValueError("model.score_states returned draws=None although an rng was given")
        arr = np.asarray(scores.draws)
        if arr.dtype.kind not in "iu" or arr.shape != mask.shape:
            raise ValueError(f"model.score_states returned draws of {arr.dtype} {arr.shape}; expected integer token "
                             f"ids of shape {mask.shape}")
        drawn = np.where(mask, arr, 0).astype(np.int64)
        if drawn.size and int(drawn.min()) < 0:
            raise ValueError("model.score_states returned negative token ids in draws")
    return StateScores(top, gap, ent, loss, drawn)


__all__ = ["StateScores", "check_state_scores", "scores_from_probabilities"]
