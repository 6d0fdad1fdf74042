"""The rules practitioners run to choose *which* masked positions to reveal, and often *how many* (SPEC §5.2).

Every rule sees only the state: the scores of ``q(. | x_R)`` at the masked positions (:class:`~mdmsched.models.state_scores.StateScores`), the
candidates (masked positions of the current block), the step index within the block, the block, and independent
randomness. So teacher-forced scoring (:func:`mdmsched.samplers.evaluate_sampler`) is exact for all of them. Where a
peer scores the *sampled* token (its confidence ``q(y_i)`` of a draw ``y_i``), the rule here uses the distribution's
max probability instead -- what the peer scores at temperature 0 -- because a choice that depends on the committed
values leaves the class of SPEC §5.2 and its formula fails.

Ties in a score are broken by position (the lower index first), on every loop. One call of :meth:`Rule.select` costs
O(B n log n) (a sort per row) and no model work.
"""

from __future__ import annotations

import math
import numbers
from abc import ABC, abstractmethod
from collections.abc import Callable, Sequence
from typing import Any, Literal

import numpy as np
from numpy.typing import NDArray

from .._validation import as_count, as_sizes
from ..closed_loop import ClosedLoopPolicy
from ..models.interface import StateScores

Score = Literal["max_prob", "margin", "neg_entropy"]
#: The state scores a :class:`TopK` rule can rank by (higher = revealed first).
SCORES: tuple[Score, ...] = ("max_prob", "margin", "neg_entropy")


def _as_bound(value: Any, name: str, *, low: float, high: float = math.inf, open_low: bool = False) -> float:
    """A finite real hyperparameter in ``[low, high]`` (``(low, high]`` when ``open_low``); bools refused."""
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, numbers.Real):
        raise TypeError(f"{name} must be a real number, got {type(value).__name__} {value!r}")
    out = float(value)
    if not math.isfinite(out) or out < low or (open_low and out == low) or out > high:
        bracket = "(" if open_low else "["
        upper = "inf)" if high == math.inf else f"{high:g}]"
        raise ValueError(f"{name} must be finite and in {bracket}{low:g}, {upper}, got {out!r}")
    return out


class _Counts:
    """Per-step counts of a schedule: one size list used in every block, or one per block (``BlockSchedule``)."""

    def __init__(self, schedule: Any) -> None:
        blocks = getattr(schedule, "blocks", None)
        if blocks is None and isinstance(schedule, (list, tuple)) and schedule \
                and (hasattr(schedule[0], "sizes") or np.ndim(schedule[0]) >= 1):
            blocks = schedule  # one size list (or Schedule) per block
        if isinstance(schedule, (str, bytes)) or schedule is None:
            raise TypeError(f"schedule must be a Schedule, BlockSchedule, list of sizes or one size list per block, "
                            f"got {type(schedule).__name__}")
        if blocks is None:
            self.shared: NDArray[np.int64] | None = as_sizes(schedule, None, "schedule")
            self.per_block: list[NDArray[np.int64]] = []
        else:
            self.shared = None
            self.per_block = [as_sizes(b, None, f"schedule block {i}") for i, b in enumerate(blocks)]
            if not self.per_block:
                raise ValueError("schedule must have at least one block")

    def validate(self, block_lengths: Sequence[int]) -> None:
        if self.shared is not None:
            total = int(self.shared.sum())
            bad = [length for length in block_lengths if length != total]
            if bad:
                raise ValueError(f"schedule covers {total} positions but a block has {bad[0]} (block lengths "
                                 f"{list(block_lengths)}); pass one size list per block (a BlockSchedule)")
            return
        if len(self.per_block) != len(block_lengths):
            raise ValueError(f"schedule has {len(self.per_block)} blocks, the sampler {len(block_lengths)}")
        for b, (sizes, length) in enumerate(zip(self.per_block, block_lengths)):
            if int(sizes.sum()) != length:
                raise ValueError(f"schedule block {b} covers {int(sizes.sum())} positions, the block has {length}")

    def at(self, step: NDArray[np.int64], block: int, candidates: NDArray[np.bool_]) -> NDArray[np.int64]:
        """Counts for each row's step (past the last step: the last count, as diffusers clamps)."""
        del candidates  # open loop: the plan does not look at the state
        if self.shared is not None:
            sizes = self.shared
        else:
            if not 0 <= block < len(self.per_block):
                raise ValueError(f"block must be in 0..{len(self.per_block) - 1} for this schedule, got {block}")
            sizes = self.per_block[block]
        return sizes[np.minimum(step, sizes.size - 1)]

    def __repr__(self) -> str:
        if self.shared is not None:
            return f"[{', '.join(map(str, self.shared[:6].tolist()))}{', ...' if self.shared.size > 6 else ''}]"
        return f"<{len(self.per_block)} blocks>"


class _PolicyCounts:
    """Closed-loop counts (SPEC §5.4): one :class:`~mdmsched.ClosedLoopPolicy` used in every block, or one per block.

    At each pass the count is ``policy.count(revealed, passes_left)`` with ``revealed = n_block - #candidates`` (the
    block's positions no longer masked: revealed by earlier passes, by a threshold, or filled after an EOS) and
    ``passes_left = k - step`` (the block's budget less the passes spent in it); once the budget is spent
    (``passes_left <= 0``) the pass reveals every remaining candidate. O(B) per pass (a table lookup).
    """

    def __init__(self, policy: Any) -> None:
        policies = [policy] if isinstance(policy, ClosedLoopPolicy) else list(policy)
        if not policies or not all(isinstance(p, ClosedLoopPolicy) for p in policies):
            raise TypeError("policy must be a ClosedLoopPolicy or a non-empty sequence of them (one per block)")
        self.policies = policies

    def _policy(self, block: int) -> ClosedLoopPolicy:
        if len(self.policies) == 1:
            return self.policies[0]
        if not 0 <= block < len(self.policies):
            raise ValueError(f"block must be in 0..{len(self.policies) - 1} for these policies, got {block}")
        return self.policies[block]

    def validate(self, block_lengths: Sequence[int]) -> None:
        if len(self.policies) > 1 and len(self.policies) != len(block_lengths):
            raise ValueError(f"policy has {len(self.policies)} blocks, the sampler {len(block_lengths)}")
        for b, length in enumerate(block_lengths):
            n = self._policy(b).n
            if n != length:
                raise ValueError(f"policy for block {b} covers {n} positions, the block has {length}")

    def at(self, step: NDArray[np.int64], block: int, candidates: NDArray[np.bool_]) -> NDArray[np.int64]:
        return self._policy(block).step_counts(candidates.sum(axis=1), step)

    def __repr__(self) -> str:
        return repr(self.policies[0]) if len(self.policies) == 1 else f"<{len(self.policies)} policies: " \
            + ", ".join(p.fingerprint for p in self.policies) + ">"


def _count_source(schedule: Any) -> _Counts | _PolicyCounts:
    """A closed-loop policy (or one per block) re-plans after every pass; anything else is a fixed schedule."""
    if isinstance(schedule, ClosedLoopPolicy) or (
            isinstance(schedule, (list, tuple)) and any(isinstance(p, ClosedLoopPolicy) for p in schedule)):
        return _PolicyCounts(schedule)
    return _Counts(schedule)


def _sorted(key: NDArray[np.float64], candidates: NDArray[np.bool_]) -> NDArray[np.float64]:
    """Each row's candidate keys in ascending order, then ``+inf`` for the non-candidates."""
    return np.sort(np.where(candidates, key, np.inf), axis=1)


def _smallest(key: NDArray[np.float64], counts: NDArray[np.int64], candidates: NDArray[np.bool_],
              ordered: NDArray[np.float64] | None = None) -> NDArray[np.bool_]:
    """The ``counts[r]`` candidates of smallest ``key`` in each row (at least one where a row has candidates; ties:
    the lower position first) -- the same set as ranking every position, without the argsort and rank scatter.

    The ``take``-th smallest candidate key ``v`` of each row comes from one ``np.partition`` when every row takes the
    same count (O(n)), else from ``ordered`` (each row's candidate keys ascending, ``+inf`` after; sorted here when not
    given: O(n log n) values only); then ``key < v`` plus the first ``take - #{key < v}`` positions with ``key == v``.
    """
    available = candidates.sum(axis=1)
    take = np.minimum(np.maximum(counts, 1), available)
    masked = np.where(candidates, key, np.inf)
    index = np.maximum(take - 1, 0)
    if ordered is None and take.size and (take == take[0]).all():
        kth = np.partition(masked, int(index[0]), axis=1)[:, int(index[0])][:, None]
    else:
        if ordered is None:
            ordered = _sorted(key, candidates)
        kth = np.take_along_axis(ordered, index[:, None], axis=1)
    below = candidates & (masked < kth)
    tied = candidates & (masked == kth)
    room = (take - below.sum(axis=1))[:, None]
    out: NDArray[np.bool_] = below | (tied & (np.cumsum(tied, axis=1) <= room))
    out[take == 0] = False
    return out


def _checked_state(scores: object, candidates: object, step: object,
                   block: object) -> tuple[NDArray[np.bool_], NDArray[np.int64], int]:
    """``select``'s inputs, validated: candidates (B, n) bool of the scores' shape, one step >= 0 per row, block >= 0."""
    if not isinstance(scores, StateScores):
        raise TypeError(f"scores must be StateScores (from model.score_states), got {type(scores).__name__}")
    cand = np.asarray(candidates)
    if cand.dtype != np.bool_ or cand.ndim != 2 or cand.shape != np.shape(scores.max_prob):
        raise ValueError(f"candidates must be a bool array of the scores' shape {np.shape(scores.max_prob)}, "
                         f"got {cand.dtype} {cand.shape}")
    steps = np.asarray(step)
    if steps.dtype.kind not in "iu" or steps.shape != (cand.shape[0],) or (steps.size and steps.min() < 0):
        raise ValueError(f"step must be {cand.shape[0]} integers >= 0 (one per row), got {steps.dtype} {steps.shape}")
    index = as_count(block, "block", 0)
    return cand, steps.astype(np.int64), index


class Rule(ABC):
    """Base of the position-choosing rules (optuna's ``BaseSampler`` style): subclass it and implement :meth:`Rule.choose`;
    ``select`` validates the loop's inputs and calls it.

    ``randomised`` says whether the rule draws randomness (the teacher-forced evaluation then gives each row its own
    generator, so results do not depend on batching). ``uses_scores`` says whether it looks at the model's scores
    (False only for random positions: such a rule also runs on a model that can only draw and score).
    :meth:`validate` checks the rule against the block lengths before a loop starts (a schedule must cover each block).
    """

    randomised: bool = False
    uses_scores: bool = True

    def validate(self, block_lengths: Sequence[int]) -> None:  # noqa: B027  an optional hook: most rules fit any block
        """Refuse (``ValueError``) a rule that cannot run on blocks of these lengths. O(blocks)."""

    def select(self, scores: StateScores, candidates: NDArray[np.bool_], step: NDArray[np.int64], block: int,
               rng: np.random.Generator) -> NDArray[np.bool_]:
        """The positions to reveal, ``(B, n)`` bool: a non-empty subset of ``candidates`` for every row that has one.

        ``scores`` come from one forward pass at the current state; ``candidates`` are the masked positions of the
        current block; ``step[r]`` counts the forward passes row ``r`` already spent in this block; ``block`` is the
        block's index. O(B n log n).
        """
        if not isinstance(rng, np.random.Generator):
            raise TypeError(f"rng must be a numpy.random.Generator, got {type(rng).__name__}")
        return self.choose(scores, *_checked_state(scores, candidates, step, block), rng.random)

    def select_rows(self, scores: StateScores, candidates: NDArray[np.bool_], step: NDArray[np.int64], block: int,
                    rngs: Sequence[np.random.Generator]) -> NDArray[np.bool_]:
        """``select`` with one generator per row: row ``r`` draws only from ``rngs[r]`` (its ``n`` uniforms per
        call, as ``select`` on that row alone would), so a row's choice does not depend on the rows beside it."""
        state = _checked_state(scores, candidates, step, block)
        if len(rngs) != state[0].shape[0] or not all(isinstance(g, np.random.Generator) for g in rngs):
            raise TypeError(f"rngs must be {state[0].shape[0]} numpy.random.Generators (one per row)")

        def uniforms(shape: tuple[int, int]) -> NDArray[np.float64]:
            return np.stack([g.random(shape[1]) for g in rngs]) if shape[0] else np.zeros(shape)

        return self.choose(scores, *state, uniforms)

    @abstractmethod
    def choose(self, scores: StateScores, candidates: NDArray[np.bool_], step: NDArray[np.int64], block: int,
               uniforms: Callable[[tuple[int, int]], NDArray[np.float64]]) -> NDArray[np.bool_]:
        """The rule itself, on validated inputs: ``scores`` of one forward pass (``(B, n)`` arrays), ``candidates``
        ``(B, n)`` bool (the current block's masked positions), ``step[r]`` (passes row ``r`` spent in this block),
        ``block``, and ``uniforms(shape)``, its only source of randomness (U[0, 1) doubles, row-major). Returns
        ``(B, n)`` bool, a non-empty subset of each row's candidates (the loop refuses anything else)."""


class RandomOrder(Rule):
    """Uniformly random positions with a fixed schedule's counts: the sampler of the theorem (SPEC §1, §5.1).

    Peer: LLaDA (``ML-GSAI/LLaDA``, ``generate.py``, ``remasking='random'``): the confidence is a fresh
    ``torch.rand`` per position and the top ``num_transfer_tokens[j]`` are revealed, i.e. a uniform random subset of
    the block's masked positions; counts from ``get_num_transfer_tokens`` (equal split, the remainder to the first
    steps; defaults ``steps=128, gen_length=128, block_length=128``). ``schedule``: a ``Schedule``, a list of sizes
    (used in every block, as LLaDA's ``steps // num_blocks`` per block) or a ``BlockSchedule`` / one size list per
    block. Randomised: its exact KL is ``err(Z^g, s) + L_n`` in expectation.

    ``schedule`` may instead be a :class:`~mdmsched.ClosedLoopPolicy` (or one per block): the count of each pass is
    then ``policy.count(revealed_in_block, passes_left_in_block)`` at the state reached (closed loop, SPEC §5.4;
    exactly optimal for random positions), and when the block's budget is spent the pass reveals the rest.
    """

    randomised = True
    uses_scores = False

    def __init__(self, schedule: Any) -> None:
        self.counts = _count_source(schedule)

    def __repr__(self) -> str:
        return f"RandomOrder({self.counts!r})"

    def validate(self, block_lengths: Sequence[int]) -> None:
        self.counts.validate(block_lengths)

    def choose(self, scores: StateScores, candidates: NDArray[np.bool_], step: NDArray[np.int64], block: int,
               uniforms: Callable[[tuple[int, int]], NDArray[np.float64]]) -> NDArray[np.bool_]:
        del scores  # the theorem's sampler ignores the model's outputs
        keys = uniforms(candidates.shape)
        return _smallest(keys, self.counts.at(step, block, candidates), candidates)


class TopK(Rule):
    """The schedule's count of the most confident positions at each step.

    ``score="max_prob"``: LLaDA ``low_confidence`` (``ML-GSAI/LLaDA``, ``generate.py``: ``x0_p`` = probability of
    ``x0``, the argmax of Gumbel-noised logits, top ``num_transfer_tokens[j]``; defaults ``temperature=0``,
    ``remasking='low_confidence'``) and Dream ``maskgit_plus`` (``HKUNLP/Dream``, ``generation_utils.py``
    ``_sample``: confidence of the sampled token). At temperature > 0 both score the *sampled* token; this is the
    state-only variant (the max probability), their rule at temperature 0. ``"margin"``: Dream ``topk_margin``
    (top-1 minus top-2 probability). ``"neg_entropy"``: Dream ``entropy`` (``sum p log p``, higher first).
    Dream's count per step is ``int(m (1 - s/t))`` on ``linspace(1, eps, steps + 1)`` (default ``alg='origin'``,
    ``steps=512``, ``eps=1e-3``): pass those counts as ``schedule`` (zero-count steps, which Dream still spends a
    forward pass on, are dropped here). ``temperature``: Dream's ``alg_temp`` (default None = deterministic top-k);
    when set, positions are drawn without replacement with probabilities ``softmax(score / temperature)``
    (``torch.multinomial`` there, Gumbel-top-k here: the same law), and the rule is randomised. ``schedule`` may be a
    :class:`~mdmsched.ClosedLoopPolicy` (counts re-planned from the state reached, as in :class:`RandomOrder`).
    """

    def __init__(self, schedule: Any, score: Score = "max_prob", *, temperature: float | None = None) -> None:
        self.counts = _count_source(schedule)
        if not isinstance(score, str):
            raise TypeError(f"score must be one of {SCORES}, got {type(score).__name__} {score!r}")
        if score not in SCORES:
            raise ValueError(f"score must be one of {SCORES}, got {score!r}")
        self.score: Score = score
        self.temperature = None if temperature is None else _as_bound(temperature, "temperature", low=0.0,
                                                                      open_low=True)
        self.randomised = self.temperature is not None

    def __repr__(self) -> str:
        extra = "" if self.temperature is None else f", temperature={self.temperature:g}"
        return f"TopK({self.counts!r}, score={self.score!r}{extra})"

    def validate(self, block_lengths: Sequence[int]) -> None:
        self.counts.validate(block_lengths)

    def choose(self, scores: StateScores, candidates: NDArray[np.bool_], step: NDArray[np.int64], block: int,
               uniforms: Callable[[tuple[int, int]], NDArray[np.float64]]) -> NDArray[np.bool_]:
        value = {"max_prob": scores.max_prob, "margin": scores.margin, "neg_entropy": -scores.entropy}[self.score]
        if self.temperature is not None:  # Gumbel-top-k = sequential draws without replacement from the softmax
            # score + T * Gumbel ranks like score / T + Gumbel (T > 0) without overflowing for tiny T (issue 28.7)
            value = value - self.temperature * np.log(-np.log(uniforms(candidates.shape)))
        return _smallest(-value, self.counts.at(step, block, candidates), candidates)


class Threshold(Rule):
    """Every candidate with max probability ``>= tau``, and always the most confident one.

    Peer: Fast-dLLM (``NVlabs/Fast-dLLM``, ``llada/generate.py``, ``get_transfer_index`` with ``threshold``): top-k
    over all masked positions of the block, then every position but the first whose confidence is ``< threshold`` is
    dropped. Its confidence is the probability of ``x0`` (the argmax at temperature 0; the sampled token above 0):
    this is the state-only variant, the max probability. Default ``tau = 0.9`` (the value Fast-dLLM's examples and
    evaluation scripts use; ``generate``'s own default is None = off). ``0 <= tau <= 1``.
    """

    def __init__(self, tau: float = 0.9) -> None:
        self.tau = _as_bound(tau, "tau", low=0.0, high=1.0)

    def __repr__(self) -> str:
        return f"Threshold(tau={self.tau:g})"

    def choose(self, scores: StateScores, candidates: NDArray[np.bool_], step: NDArray[np.int64], block: int,
               uniforms: Callable[[tuple[int, int]], NDArray[np.float64]]) -> NDArray[np.bool_]:
        del step, block, uniforms  # a state rule: the scores alone decide
        counts = ((scores.max_prob >= self.tau) & candidates).sum(axis=1)
        return _smallest(-scores.max_prob, counts, candidates)


class Factor(Rule):
    """Fast-dLLM's ``factor`` rule: as many of the most confident positions as pass a rising threshold.

    Peer: Fast-dLLM (``NVlabs/Fast-dLLM``, ``llada/generate.py``, ``get_transfer_index_dynamic``, default
    ``factor=1``): with the block's ``M`` masked confidences sorted descending ``c_(0) >= c_(1) >= ...`` and
    thresholds ``t_0 = -1``, ``t_i = 1 - f / (i + 2)``, the count is the first ``i`` with ``c_(i) < t_i``; as in the
    peer's loop, a first failure at the last position (``i = M - 1``) or none at all reveals all ``M``. The
    confidence is the max probability (the state-only variant of the peer's ``x0`` probability). ``f > 0``.
    """

    def __init__(self, f: float = 1.0) -> None:
        self.f = _as_bound(f, "f", low=0.0, open_low=True)

    def __repr__(self) -> str:
        return f"Factor(f={self.f:g})"

    def choose(self, scores: StateScores, candidates: NDArray[np.bool_], step: NDArray[np.int64], block: int,
               uniforms: Callable[[tuple[int, int]], NDArray[np.float64]]) -> NDArray[np.bool_]:
        del step, block, uniforms  # a state rule: the scores alone decide
        available = candidates.sum(axis=1)
        descending = -_sorted(-scores.max_prob, candidates)  # (B, n): candidates first, then -inf
        i = np.arange(candidates.shape[1])
        thresholds = 1.0 - self.f / (i + 2.0)
        thresholds[0] = -1.0
        fails = (descending < thresholds) & (i < available[:, None])
        first_fail = np.where(fails.any(axis=1), fails.argmax(axis=1), available)
        counts = np.where(first_fail >= available - 1, available, first_fail)
        return _smallest(-scores.max_prob, counts, candidates, ordered=-descending)


class EntropyBounded(Rule):
    """The EB-sampler: the longest run of lowest-entropy positions whose entropies, less the largest, sum to ``<= gamma``.

    Peer: EB-sampler (Ben-Hamu et al., "Accelerated Sampling from Masked Diffusion Models via Entropy Bounded
    Unmasking", 2025), as in transformers' DiffusionGemma sampler (``SampleFromPredictions``: sort entropies
    ascending, accept where ``cumsum(sorted) - sorted <= entropy_bound``, ``entropy_bound = 0.1``) and SGLang's
    ``_entropy_bound_mask`` (``cumsum - cummax``, the same set). Entropies in nats. ``gamma >= 0``; the
    lowest-entropy position is always revealed.
    """

    def __init__(self, gamma: float = 0.1) -> None:
        self.gamma = _as_bound(gamma, "gamma", low=0.0)

    def __repr__(self) -> str:
        return f"EntropyBounded(gamma={self.gamma:g})"

    def choose(self, scores: StateScores, candidates: NDArray[np.bool_], step: NDArray[np.int64], block: int,
               uniforms: Callable[[tuple[int, int]], NDArray[np.float64]]) -> NDArray[np.bool_]:
        del step, block, uniforms  # a state rule: the scores alone decide
        ascending = _sorted(scores.entropy, candidates)
        finite = np.where(np.isfinite(ascending), ascending, 0.0)
        before = np.cumsum(finite, axis=1) - finite  # entropy of the strictly earlier positions: non-decreasing
        counts = ((before <= self.gamma) & np.isfinite(ascending)).sum(axis=1)
        return _smallest(scores.entropy, counts, candidates, ordered=ascending)


class FloorThreshold(Rule):
    """A schedule's count as a floor, more when more positions are confident: ``max(count_j, #{conf > tau})``.

    Peer: diffusers ``BlockRefinementScheduler.step`` (``huggingface/diffusers``,
    ``src/diffusers/schedulers/scheduling_block_refinement.py``; defaults ``block_length=32``,
    ``num_inference_steps=32``, ``threshold=0.95``, ``minimal_topk=1``): if at least ``count_j`` masked positions
    have confidence ``> threshold`` all of them are committed, else the top ``count_j``; ``count_j`` is the equal
    split of the block (step index clamped to the last). The LLaDA2 / SDAR ``low_confidence_dynamic`` decoders use the
    same floor + threshold rule. The peer's confidence is the sampled token's probability; this is the state-only
    variant (max probability). ``tau >= 0``; ``tau >= 1`` is the pure schedule (a :class:`TopK` by max probability).

    Closed loop: with a :class:`~mdmsched.ClosedLoopPolicy` as ``schedule`` the floor is re-planned after every
    commit from the state actually reached, ``count = policy.count(revealed_in_block, passes_left_in_block)``: a
    threshold pass that revealed extra positions lowers the later floors instead of spending the original plan.
    """

    def __init__(self, schedule: Any, tau: float = 0.95) -> None:
        self.counts = _count_source(schedule)
        self.tau = _as_bound(tau, "tau", low=0.0)

    def __repr__(self) -> str:
        return f"FloorThreshold({self.counts!r}, tau={self.tau:g})"

    def validate(self, block_lengths: Sequence[int]) -> None:
        self.counts.validate(block_lengths)

    def choose(self, scores: StateScores, candidates: NDArray[np.bool_], step: NDArray[np.int64], block: int,
               uniforms: Callable[[tuple[int, int]], NDArray[np.float64]]) -> NDArray[np.bool_]:
        del uniforms  # deterministic
        confident = ((scores.max_prob > self.tau) & candidates).sum(axis=1)
        counts = np.maximum(self.counts.at(step, block, candidates), confident)
        return _smallest(-scores.max_prob, counts, candidates)


__all__ = ["SCORES", "EntropyBounded", "Factor", "FloorThreshold", "RandomOrder", "Rule", "Score", "Threshold", "TopK"]
