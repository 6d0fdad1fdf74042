"""Per-step counts for confidence-ordered rules (SPEC §5.2, last point): propose on some rows, verify on the others.

Under teacher forcing the state after a step depends on which positions the rule took, so a count schedule's cost is
not a sum of independent step costs and the DP of §4 is not exact for :class:`TopK` / :class:`FloorThreshold`. The
proposal here is that DP anyway, on the per-block cost table

    c(a, b) = mean over proposal rows of the NLL (nats) of the b - a most confident masked positions of the block
              at the state reached by revealing the a most confident ones one at a time,

which is exact for schedules ``[1, ..., 1, m]`` and a heuristic otherwise. The proposal is then **verified** by
teacher-forced evaluation on held-out rows, paired against LLaDA's equal split with the same number of passes per
block (``mdmsched.practice.equal``, i.e. ``llada_blocks``), and the result says plainly when it does
not beat it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np
from numpy.typing import ArrayLike, NDArray

from .._validation import as_choice, as_confidence, as_count, as_data_rows, as_real, require_memory
from ..models.interface import StateModel, as_state_model
from ..models.state_scores import check_state_scores
from .evaluate import SamplerComparison, compare_samplers, plan_sampler
from .families import equal_counts
from .loop import block_lengths
from .rules import SCORES, FloorThreshold, Rule, Score, TopK

RuleKind = Literal["top_k", "floor_threshold"]
#: The rules whose counts :func:`optimise_counts` proposes.
RULE_KINDS: tuple[RuleKind, ...] = ("top_k", "floor_threshold")


def _as_score(score: Any) -> Score:
    return as_choice(score, "score", SCORES)  # type: ignore[return-value]


def confidence_cost_tables(model: StateModel | Any, data: ArrayLike, *, region: ArrayLike | None = None,
                           block_length: int | None = None, score: Score = "max_prob",
                           batch_size: int = 64) -> list[NDArray[np.float64]]:
    """Per block ``b`` the ``(B_b + 1) x (B_b + 1)`` table ``c[a, e]`` (nats, mean over rows; ``+inf`` for
    ``e <= a``) defined in the module docstring, with the prompt and earlier blocks revealed from the data and later
    blocks masked. Ranking by ``score`` (higher first; ties: lower position first, as :class:`TopK`).
    Cost: ``sum_b B_b = n`` model calls per batch of rows, O(batch n^2) here, O(B_b^2) memory per block."""
    scorer = as_state_model(model)
    rows = as_data_rows(data)
    kind = _as_score(score)
    plan = plan_sampler(rows.shape, region=region, block_length=block_length, batch_size=batch_size)
    lengths = block_lengths(plan.n, plan.block_length)
    require_memory(8 * max(lengths) ** 2 * 2, "the count cost table")
    tables = [np.zeros((length + 1, length + 1)) for length in lengths]
    for lo in range(0, plan.rows, plan.batch_size):
        hi = min(lo + plan.batch_size, plan.rows)
        tokens = rows[lo:hi]
        free = np.broadcast_to(plan.free if plan.free.shape[0] == 1 else plan.free[lo:hi], (hi - lo, plan.n))
        start = 0
        for b, length in enumerate(lengths):
            _add_block_costs(scorer, tokens, free, start, length, kind, tables[b])
            start += length
    for cost in tables:
        np.divide(cost, plan.rows, out=cost)
        cost[np.tril_indices(cost.shape[0])] = np.inf
    return tables


def _add_block_costs(model: StateModel, tokens: NDArray[np.int64], free: NDArray[np.int64], start: int, length: int,
                     score: Score, table: NDArray[np.float64]) -> None:
    """Add this batch's row sums of ``c[a, e]`` for one block to ``table``: ``length`` model calls."""
    batch = tokens.shape[0]
    mask = np.zeros(tokens.shape, dtype=bool)
    np.put_along_axis(mask, free[:, start:], True, axis=1)
    block = free[:, start:start + length]
    revealed = np.zeros((batch, length), dtype=bool)
    rows = np.arange(batch)[:, None]
    for a in range(length):
        scores = check_state_scores(model.score_states(tokens, mask, nll=True), mask, nll=True, draws=False)
        value = {"max_prob": scores.max_prob, "margin": scores.margin, "neg_entropy": -scores.entropy}[score]
        key = np.where(revealed, np.inf, -value[rows, block])  # ascending key = descending score
        order = np.argsort(key, axis=1, kind="stable")[:, :length - a]
        assert scores.nll is not None
        losses = scores.nll[rows, block][rows, order]
        table[a, a + 1:] += np.cumsum(losses, axis=1).sum(axis=0)
        top = block[np.arange(batch), order[:, 0]]
        mask[np.arange(batch), top] = False
        revealed[np.arange(batch), order[:, 0]] = True


def optimal_counts(table: ArrayLike, steps: int) -> NDArray[np.int64]:
    """The ``steps`` sizes (each ``>= 1``) minimising ``sum_j c[N_{j-1}, N_j]`` over ``0 = N_0 < ... < N_steps = B``
    (the DP of SPEC §4 on a general cost table; only entries above the diagonal, ``a < e``, are steps and read; they
    must be finite). Ties go to the smallest previous end. O(steps B^2) time, O(steps B) memory."""
    cost = np.asarray(table, dtype=np.float64)
    if cost.ndim != 2 or cost.shape[0] != cost.shape[1] or cost.shape[0] < 2:
        raise ValueError(f"table must be a square (B+1) x (B+1) array with B >= 1, got shape {cost.shape}")
    size = cost.shape[0] - 1
    k = as_count(steps, "steps", 1, size)
    forward = np.triu(np.ones(cost.shape, dtype=bool), 1)  # a -> e with a < e: a step reveals at least one token
    if not np.isfinite(cost[forward]).all():
        raise ValueError("table must hold finite costs above the diagonal (a step from a to e > a), got NaN or inf")
    cost = np.where(forward, cost, np.inf)  # the diagonal and below are not steps (issue 28.5: they were taken)
    best = np.full((k + 1, size + 1), np.inf)
    arg = np.zeros((k + 1, size + 1), dtype=np.int64)
    best[0, 0] = 0.0
    for j in range(1, k + 1):
        total = best[j - 1][:, None] + cost  # total[a, e] = best path to a in j-1 steps, then a -> e
        arg[j] = np.argmin(total, axis=0)
        best[j] = total[arg[j], np.arange(size + 1)]
    ends = [size]
    for j in range(k, 0, -1):
        ends.append(int(arg[j, ends[-1]]))
    return np.asarray(np.diff(np.asarray(ends[::-1], dtype=np.int64)), dtype=np.int64)


def path_cost(table: NDArray[np.float64], sizes: Sequence[int] | NDArray[np.int64]) -> float:
    """``sum_j c[N_{j-1}, N_j]`` of a size list on a cost table (nats). O(steps)."""
    ends = np.concatenate(([0], np.cumsum(np.asarray(sizes, dtype=np.int64))))
    return float(table[ends[:-1], ends[1:]].sum())


@dataclass(frozen=True)
class CountProposal:
    """A proposed count schedule and its held-out verification.

    ``counts``: one size list per block (the proposal); ``baseline_counts``: LLaDA's equal split with the same
    passes per block; ``rule`` / ``baseline``: the two rules compared; ``proposal_cost`` / ``baseline_cost``: their
    costs on the proposal rows' table (nats; exact only for ``[1, ..., 1, m]``); ``comparison``: the paired
    held-out ``proposed - baseline`` (:class:`SamplerComparison`, nats; negative = proposal better); ``beats``: True
    only when the whole interval is below 0 (beyond rounding); ``verdict``: that, in words. ``proposal_rows`` /
    ``heldout_rows``: the data row indices used for each part.
    """

    counts: tuple[tuple[int, ...], ...]
    baseline_counts: tuple[tuple[int, ...], ...]
    rule: Rule = field(repr=False)
    baseline: Rule = field(repr=False)
    proposal_cost: float
    baseline_cost: float
    comparison: SamplerComparison = field(repr=False)
    beats: bool
    verdict: str
    proposal_rows: NDArray[np.int64] = field(repr=False)
    heldout_rows: NDArray[np.int64] = field(repr=False)


def _make_rule(kind: RuleKind, counts: list[list[int]], score: Score, tau: float) -> Rule:
    return TopK(counts, score=score) if kind == "top_k" else FloorThreshold(counts, tau=tau)


def optimise_counts(model: StateModel | Any, data: ArrayLike, steps: int, *, rule: RuleKind = "top_k",
                    score: Score = "max_prob", tau: float = 0.9, proposal_fraction: float = 0.5,
                    region: ArrayLike | None = None, block_length: int | None = None, seed: int = 0,
                    confidence: float = 0.95, batch_size: int = 64) -> CountProposal:
    """Propose per-step counts with ``steps`` passes per block for a :class:`TopK` (``rule="top_k"``, by ``score``)
    or :class:`FloorThreshold` (``rule="floor_threshold"``, counts as floors, threshold ``tau``, ranking by max
    probability) rule on a random ``proposal_fraction`` of the rows, and verify it on the rest against LLaDA's equal
    split (see :class:`CountProposal`). ``seed`` draws the split and seeds the evaluations.

    Cost: ``n`` model calls per batch of proposal rows for the tables, O(steps B^2) per block for the DP, then two
    teacher-forced evaluations of the held-out rows (about ``2 steps`` calls per block per batch).
    """
    rows = as_data_rows(data)
    if not isinstance(rule, str) or rule not in RULE_KINDS:
        raise (TypeError if not isinstance(rule, str) else ValueError)(
            f"rule must be one of {RULE_KINDS}, got {rule!r}")
    kind: RuleKind = rule
    ranking = _as_score(score) if kind == "top_k" else "max_prob"
    threshold = as_real(tau, "tau")
    fraction = as_real(proposal_fraction, "proposal_fraction")
    if not 0.0 < fraction < 1.0:
        raise ValueError(f"proposal_fraction must be in (0, 1), got {fraction!r}")
    level = as_confidence(confidence)
    split_seed = as_count(seed, "seed", 0)
    count = rows.shape[0]
    cut = round(fraction * count)
    if cut < 1 or count - cut < 2:
        raise ValueError(f"proposal_fraction {fraction:g} of {count} rows leaves {cut} proposal and {count - cut} "
                         f"held-out rows; need >= 1 and >= 2")
    plan = plan_sampler(rows.shape, region=region, block_length=block_length, batch_size=batch_size)
    lengths = block_lengths(plan.n, plan.block_length)
    per_block = as_count(steps, "steps", 1, max(lengths))
    order = np.random.default_rng([split_seed, count]).permutation(count)
    proposal, heldout = np.sort(order[:cut]), np.sort(order[cut:])
    region_rows = region if region is None or np.ndim(region) == 1 else np.asarray(region)[proposal]
    tables = confidence_cost_tables(model, rows[proposal], region=region_rows, block_length=block_length,
                                    score=ranking, batch_size=batch_size)
    counts = [optimal_counts(t, min(per_block, t.shape[0] - 1)).tolist() for t in tables]
    baseline_counts = equal_counts(per_block, lengths)
    proposed, baseline = _make_rule(kind, counts, ranking, threshold), _make_rule(kind, baseline_counts, ranking,
                                                                                 threshold)
    held_region = region if region is None or np.ndim(region) == 1 else np.asarray(region)[heldout]
    comparison = compare_samplers(model, rows[heldout], proposed, baseline, confidence=level, region=held_region,
                                  block_length=block_length, seed=split_seed, batch_size=batch_size)
    scale = 1e-9 * (1.0 + abs(comparison.second.nll))
    beats = comparison.upper < -scale
    if beats:
        verdict = (f"the proposal beats LLaDA's equal split on {heldout.size} held-out rows: "
                   f"{comparison.value:+.4g} nats [{comparison.lower:.4g}, {comparison.upper:.4g}] at "
                   f"{level:.0%}")
    else:
        verdict = (f"the proposal does NOT beat LLaDA's equal split on {heldout.size} held-out rows: "
                   f"{comparison.value:+.4g} nats [{comparison.lower:.4g}, {comparison.upper:.4g}] at "
                   f"{level:.0%}; use the equal split")
    return CountProposal(tuple(tuple(c) for c in counts), tuple(tuple(c) for c in baseline_counts), proposed,
                         baseline, sum(path_cost(t, c) for t, c in zip(tables, counts)),
                         sum(path_cost(t, c) for t, c in zip(tables, baseline_counts)), comparison, beats, verdict,
                         proposal, heldout)


__all__ = ["RULE_KINDS", "CountProposal", "RuleKind", "confidence_cost_tables", "optimal_counts", "optimise_counts",
           "path_cost"]
