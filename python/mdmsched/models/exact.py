"""Masked-model predictors: the interface ``estimate_curve`` and ``simulate`` call, plus exact predictors for
explicit distributions and Markov chains (for testing, teaching and checking schedules end to end).

A *predictor* is any callable ``predict(tokens, mask) -> probs`` with ``tokens`` (B x n ints), ``mask`` (B x n bool,
True = masked) and ``probs`` (B x n x q): for each masked position, the model's distribution of its token given the
unmasked ones. Rows for unmasked positions are ignored. To wrap a PyTorch MDM::

    def predict(tokens, mask):
        x = torch.as_tensor(np.where(mask, MASK_ID, tokens), device=device)
        with torch.no_grad():
            logits = model(x).logits[..., :vocab_size]       # (B, n, q)
        return torch.softmax(logits.double(), -1).cpu().numpy()
"""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike, NDArray

from .._validation import as_count, require_memory
from ..curves.distribution import as_dense
from ..curves.families import _transition, stationary_distribution
from .interface import ProbabilityModel, StateScores, check_batch


class ExactPredictor:
    """True conditionals of an explicit dense distribution ``p`` of shape ``(q,) * n`` (small n).

    Each call slices ``p`` at the revealed tokens and sums out the rest: O(B n q^n). Given evidence of probability 0
    the conditionals are uniform (documented convention; the sampler can produce such evidence).
    """

    def __init__(self, p: ArrayLike) -> None:
        self.p = as_dense(p)
        if len(set(self.p.shape)) != 1:
            raise ValueError(f"ExactPredictor needs one alphabet for every position, got shape {self.p.shape}")
        self.n = self.p.ndim
        self.q = self.p.shape[0]
        self._flat = self.p.ravel()

    def __call__(self, tokens: NDArray[np.int64], mask: NDArray[np.bool_]) -> NDArray[np.float64]:
        tokens, mask = check_batch(tokens, mask, self.n, self.q)
        out = np.empty((*tokens.shape, self.q))
        for b in range(tokens.shape[0]):
            index = tuple(slice(None) if mask[b, i] else int(tokens[b, i]) for i in range(self.n))
            conditional = self.p[index]  # axes: the masked positions, in order
            total = conditional.sum()
            masked = np.flatnonzero(mask[b])
            for axis, i in enumerate(masked):
                others = tuple(a for a in range(len(masked)) if a != axis)
                out[b, i] = conditional.sum(axis=others) / total if total > 0 else 1.0 / self.q
            out[b, ~mask[b]] = np.eye(self.q)[tokens[b, ~mask[b]]]
        return out

    def score_states(self, tokens: NDArray[np.int64], mask: NDArray[np.bool_], *, nll: bool = True,
                     rng: np.random.Generator | None = None,
                     uniforms: NDArray[np.float64] | None = None,
                     where: NDArray[np.bool_] | None = None) -> StateScores:
        """State scores, teacher-forced ``-log q`` and draws from one call of the exact conditionals (SPEC §5.2); see
        :meth:`ProbabilityModel.score_states`. O(B n q^n)."""
        return ProbabilityModel(self).score_states(tokens, mask, nll=nll, rng=rng, uniforms=uniforms, where=where)

    def sample(self, count: int, rng: np.random.Generator) -> NDArray[np.int64]:
        cells = rng.choice(self._flat.size, size=count, p=self._flat)
        return np.stack(np.unravel_index(cells, self.p.shape), axis=1).astype(np.int64)

    def log_prob(self, tokens: NDArray[np.int64]) -> NDArray[np.float64]:
        with np.errstate(divide="ignore"):
            return np.asarray(np.log(self.p[tuple(np.asarray(tokens).T)]), dtype=np.float64)

    def log_marginal(self, tokens: NDArray[np.int64], positions: NDArray[np.int64]) -> NDArray[np.float64]:
        """``log mu(x_P)`` of each row's tokens at the sorted positions ``P`` (the prompt's law). O(size + B ``|P|``)."""
        keep = np.asarray(positions, dtype=np.int64)
        others = tuple(i for i in range(self.n) if i not in set(keep.tolist()))
        marginal = self.p.sum(axis=others) if others else self.p
        if keep.size == 0:
            return np.zeros(np.asarray(tokens).shape[0])
        with np.errstate(divide="ignore"):
            return np.asarray(np.log(marginal[tuple(np.asarray(tokens)[:, keep].T)]), dtype=np.float64)


class MarkovPredictor:
    """Exact conditionals of the stationary Markov chain with transition ``P`` at length ``n`` (n in the thousands).

    Given the revealed positions, a masked position depends only on its nearest revealed neighbours ``L < i < R``:
    ``p(x_i | ...) oc P^{i-L}[x_L, x_i] P^{R-i}[x_i, x_R]`` (``pi`` replaces the left factor when there is no
    ``L``, 1 the right one when there is no ``R``) -- forward-backward reduced to matrix powers, vectorised over the
    batch: O(B n q) per call after an O(n q^3) table of powers. Given evidence of probability 0 (possible for chains
    with zero transitions, since the sampler reveals a step's positions independently) the conditional is uniform.
    """

    def __init__(self, transition: ArrayLike, n: int) -> None:
        self.P = _transition(transition)
        self.n = as_count(n, "n")  # an integer: 2.7 is refused, never truncated
        self.q = self.P.shape[0]
        require_memory(8 * (self.n + 1) * self.q * self.q, "the table of matrix powers")
        self.pi = stationary_distribution(self.P)
        powers = np.empty((self.n + 1, self.q, self.q))
        powers[0] = np.eye(self.q)
        for g in range(1, self.n + 1):
            powers[g] = powers[g - 1] @ self.P
        self.powers = powers

    def __call__(self, tokens: NDArray[np.int64], mask: NDArray[np.bool_]) -> NDArray[np.float64]:
        tokens, mask = check_batch(tokens, mask, self.n, self.q)
        batch, n = tokens.shape
        idx = np.broadcast_to(np.arange(n), (batch, n))
        left = np.maximum.accumulate(np.where(~mask, idx, -1), axis=1)  # nearest revealed at or before i
        right = np.minimum.accumulate(np.where(~mask, idx, n)[:, ::-1], axis=1)[:, ::-1]
        has_left, has_right = left >= 0, right < n
        left_tok = np.take_along_axis(tokens, np.clip(left, 0, n - 1), axis=1)
        right_tok = np.take_along_axis(tokens, np.clip(right, 0, n - 1), axis=1)
        left_factor = np.where(has_left[..., None], self.powers[np.clip(idx - left, 0, n), left_tok, :], self.pi)
        # powers[g, :, x_R] with (B, n) index arrays around a slice: numpy puts the (B, n) axes first -> (B, n, q).
        right_factor = np.where(has_right[..., None], self.powers[np.clip(right - idx, 0, n), :, right_tok], 1.0)
        probs = left_factor * right_factor
        # Evidence of probability 0 (the sampler draws a step's positions independently, so it can reveal x_L, x_R
        # that the chain cannot join): the conditional is undefined and is taken to be uniform, as in ExactPredictor.
        total = probs.sum(axis=2, keepdims=True)
        probs = np.divide(probs, total, out=np.full_like(probs, 1.0 / self.q), where=total > 0)
        return np.asarray(probs, dtype=np.float64)

    def score_states(self, tokens: NDArray[np.int64], mask: NDArray[np.bool_], *, nll: bool = True,
                     rng: np.random.Generator | None = None,
                     uniforms: NDArray[np.float64] | None = None,
                     where: NDArray[np.bool_] | None = None) -> StateScores:
        """State scores, teacher-forced ``-log q`` and draws from one call of the exact conditionals (SPEC §5.2); see
        :meth:`ProbabilityModel.score_states`. O(B n q)."""
        return ProbabilityModel(self).score_states(tokens, mask, nll=nll, rng=rng, uniforms=uniforms, where=where)

    def sample(self, count: int, rng: np.random.Generator) -> NDArray[np.int64]:
        out = np.empty((count, self.n), dtype=np.int64)
        out[:, 0] = rng.choice(self.q, size=count, p=self.pi)
        cumulative = np.cumsum(self.P, axis=1)
        for t in range(1, self.n):
            u = rng.random(count)[:, None]
            out[:, t] = np.minimum((u > cumulative[out[:, t - 1]]).sum(axis=1), self.q - 1)
        return out

    def log_prob(self, tokens: NDArray[np.int64]) -> NDArray[np.float64]:
        x = np.asarray(tokens, dtype=np.int64)
        with np.errstate(divide="ignore"):
            return np.asarray(np.log(self.pi[x[:, 0]]) + np.log(self.P[x[:, :-1], x[:, 1:]]).sum(axis=1),
                              dtype=np.float64)

    def log_marginal(self, tokens: NDArray[np.int64], positions: NDArray[np.int64]) -> NDArray[np.float64]:
        """``log mu(x_P)`` at the sorted positions ``P``: ``log pi(x_{p_1}) + sum log P^{gap}[x_{p_i}, x_{p_{i+1}}]``."""
        x = np.asarray(tokens, dtype=np.int64)
        keep = np.asarray(positions, dtype=np.int64)
        if keep.size == 0:
            return np.zeros(x.shape[0])
        gaps = np.diff(keep)
        with np.errstate(divide="ignore"):
            out = np.log(self.pi[x[:, keep[0]]])
            for g, a, b in zip(gaps.tolist(), keep[:-1].tolist(), keep[1:].tolist()):
                out = out + np.log(self.powers[g, x[:, a], x[:, b]])
        return np.asarray(out, dtype=np.float64)


__all__ = ["ExactPredictor", "MarkovPredictor"]
