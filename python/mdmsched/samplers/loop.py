"""The one loop that runs a position-choosing rule (SPEC §5.2), for teacher-forced scoring and for sampling alike.

Each row moves through its semi-autoregressive blocks on its own: the prompt is revealed, the current block's masked
positions are the candidates, later blocks stay masked. One forward pass (``model.score_states``) per iteration
serves every row still generating; the rule picks a non-empty subset of each row's candidates, which is then revealed
-- with the true tokens (``teacher=True``, adding ``-log q(x_i | x_R)`` to the row's NLL) or with the model's
independent draws (sampling). A row stops costing forward passes as soon as its last block is full, so its NFE and
per-step counts are its own. The rule may be any object with ``select`` (:class:`SelectionRule`; the package's rules
derive from :class:`mdmsched.samplers.Rule`). A schedule is the rule ``RandomOrder(schedule)``, so :func:`simulate`,
table-driven :func:`~mdmsched.samplers.generate.generate` and every sampler run through this one loop; a model that only
draws and scores (``sample`` / ``score``, no ``score_states``) runs rules that ignore the model's scores through
:class:`DrawScoreStates`.
"""

from __future__ import annotations

import inspect
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Protocol, runtime_checkable

import numpy as np
from numpy.typing import NDArray

from ..models.interface import StateModel, check_samples, check_scores, model_inputs
from ..models.state_scores import StateScores, check_state_scores
from .eos import as_eos


@runtime_checkable
class SelectionRule(Protocol):
    """What the loop asks of a rule (:class:`mdmsched.samplers.Rule` and its subclasses): ``select`` returns a ``(B, n)``
    bool array, a non-empty subset of ``candidates`` for every row that still has candidates."""

    def select(self, scores: StateScores, candidates: NDArray[np.bool_], step: NDArray[np.int64], block: int,
               rng: np.random.Generator) -> NDArray[np.bool_]: ...


class DrawScoreStates:
    """A model with only ``sample(tokens, mask, rng)`` and/or ``score(tokens, mask, target)`` seen as a
    :class:`~mdmsched.models.StateModel` for rules that never look at the model's scores (``uses_scores = False``:
    random positions with a schedule's counts). Confidence scores are not computed (zeros); ``nll`` comes from
    ``score(..., "cross_entropy")``, draws from ``sample``. One model call per ``score_states`` call."""

    scores_known = False

    def __init__(self, model: Any) -> None:
        self.model = model

    def score_states(self, tokens: NDArray[np.int64], mask: NDArray[np.bool_], *, nll: bool = True,
                     rng: np.random.Generator | None = None) -> StateScores:
        out = StateScores.zeros(mask.shape, nll=False, draws=False)
        loss = drawn = None
        if nll:  # the model gets its own copies: it may overwrite them, the checks read the caller's
            loss = check_scores(self.model.score(*model_inputs(tokens, mask), "cross_entropy"), mask)
        if rng is not None:
            drawn = check_samples(self.model.sample(*model_inputs(tokens, mask), rng), tokens, mask)
        return StateScores(out.max_prob, out.margin, out.entropy, loss, drawn)


@dataclass(frozen=True)
class RuleRun:
    """What a rule-driven run did, per row: ``tokens`` (B x length: the generated rows, or the true rows under teacher
    forcing), ``nll`` (B,) the teacher-forced sum of ``-log q`` in nats (None when sampling), ``nfe`` (B,) forward
    passes spent on the row, ``counts`` (B x max NFE) the positions revealed at each of them (zero padded), and
    ``model_calls`` the ``score_states`` calls made (None where a caller built the run without counting them)."""

    tokens: NDArray[np.int64] = field(repr=False)
    nll: NDArray[np.float64] | None
    nfe: NDArray[np.int64]
    counts: NDArray[np.int64] = field(repr=False)
    model_calls: int | None = None


class PassCounts:
    """What a row-scored estimate shares (sampler scoring, task evaluation): per-row forward passes ``nfe_rows`` over
    ``n`` generated positions each, and the two speed figures read from them."""

    __slots__ = ()
    if TYPE_CHECKING:  # fields of the frozen dataclass that mixes this in
        nfe_rows: NDArray[np.int64]
        n: int

    @property
    def nfe(self) -> float:
        """Mean forward passes per row."""
        return float(self.nfe_rows.mean())

    @property
    def tokens_per_forward(self) -> float:
        """``n / mean NFE``: generated positions per forward pass."""
        return self.n / self.nfe


def accepts_keyword(model: Any, name: str) -> bool:
    """Whether ``model.score_states`` takes the optional keyword ``name`` (``where``: reduce only the positions a rule
    can pick; ``uniforms``: per-position uniforms for its draws)."""
    try:
        parameters = inspect.signature(model.score_states).parameters
    except (TypeError, ValueError):  # a builtin or C extension: no signature to read
        return False
    return name in parameters or any(p.kind is inspect.Parameter.VAR_KEYWORD for p in parameters.values())


def block_lengths(generated: int, block_length: int | Sequence[int] | None) -> list[int]:
    """Lengths of the blocks the ``generated`` positions are cut into: equal blocks of ``block_length`` (the last may be
    shorter; one block if None), or the given lengths (a sequence summing to ``generated``, e.g. a ``BlockSchedule``'s)."""
    if block_length is not None and not isinstance(block_length, (int, np.integer)):
        lengths = [int(v) for v in block_length]
        if sum(lengths) != generated or min(lengths, default=0) < 1:
            raise ValueError(f"block lengths {lengths[:8]} must be positive and sum to the {generated} generated "
                             "positions")
        return lengths
    size = generated if block_length is None else int(block_length)
    return [min(size, generated - start) for start in range(0, generated, size)]


def run_rule(model: StateModel, tokens: NDArray[np.int64], free: NDArray[np.int64],
             block_length: int | Sequence[int] | None,
             rule: SelectionRule | Any, *, teacher: bool, rng: np.random.Generator,
             row_rngs: Sequence[np.random.Generator] | None = None,
             draw_rngs: Sequence[np.random.Generator] | None = None, eos_id: int | None = None,
             pad_after_eos: bool = True) -> RuleRun:
    """Run ``rule`` on the rows ``tokens`` (B x length, int64; the true rows when ``teacher``) whose generated
    positions are ``free`` (B x n or 1 x n column indices, in order), cut into blocks of ``block_length`` (an int, or
    the blocks' lengths as a sequence).

    ``rng`` drives the model's draws (sampling) and the rule; with ``row_rngs`` (one generator per row) a randomised
    rule (``rule.randomised``, assumed True when absent) draws each row's randomness from the row's own generator
    (through ``rule.select_rows`` when it has one, else one ``select`` call per row), so a row's result does not
    depend on the rows beside it. With ``draw_rngs`` (one generator per row; sampling only) the model's draws for a
    row come from that row's generator alone: each pass takes ``length`` uniforms from it per live row and hands them
    to ``score_states(..., uniforms=)`` in one batched call; a model whose ``score_states`` takes no ``uniforms`` is
    called once per live row with the row's generator instead (same results for every batch size, more calls). So
    with ``row_rngs`` and ``draw_rngs`` a row's output depends only on its own generators. At most ``n``
    iterations, each one ``score_states`` call plus O(B n log n) here.

    ``eos_id``: once a row commits that token at a generated position ``e``, its still-masked generated positions
    after ``e`` (all blocks) are settled at once without a forward pass (:mod:`mdmsched.samplers.eos`): filled with
    EOS and counted as revealed in that pass's ``counts`` (``pad_after_eos=True``, LLaDA's convention; under teacher
    forcing they add 0 to the NLL and the data must be EOS-padded), or dropped (``pad_after_eos=False``). Blocks left
    with nothing masked are skipped, and a closed-loop rule re-plans from the state reached.
    """
    eos = as_eos(eos_id, pad_after_eos)
    if not getattr(model, "scores_known", True) and getattr(rule, "uses_scores", True):
        raise TypeError(f"rule {rule!r} ranks positions by the model's scores, but the model has no score_states() "
                        "(only sample/score): use a model with score_states (TorchModel, a predictor) or RandomOrder")
    batch, length = tokens.shape
    free = np.broadcast_to(free, (batch, free.shape[1]))
    n = free.shape[1]
    lengths = block_lengths(n, block_length)
    validate = getattr(rule, "validate", None)
    if callable(validate):
        validate(lengths)
    block_index = np.repeat(np.arange(len(lengths)), lengths)
    block_of = np.full((batch, length), -1, dtype=np.int64)
    np.put_along_axis(block_of, free, np.broadcast_to(block_index, free.shape), axis=1)
    tokens = np.array(tokens, dtype=np.int64, copy=True)
    mask = block_of >= 0
    current = np.zeros(batch, dtype=np.int64)
    step = np.zeros(batch, dtype=np.int64)
    nfe = np.zeros(batch, dtype=np.int64)
    nll = np.zeros(batch) if teacher else None
    per_pass: list[NDArray[np.int64]] = []
    per_row = row_rngs is not None and bool(getattr(rule, "randomised", True))
    narrow = accepts_keyword(model, "where")
    row_draws = draw_rngs is not None and not teacher
    if row_draws and len(draw_rngs) != batch:  # type: ignore[arg-type]
        raise ValueError(f"draw_rngs must hold one generator per row ({batch}), got {len(draw_rngs)}")  # type: ignore[arg-type]
    batched_draws = row_draws and accepts_keyword(model, "uniforms")
    calls = 0
    for _ in range(n + 1):
        live = np.flatnonzero(current < len(lengths))
        if live.size == 0:
            break
        sub_mask = mask[live]
        candidates = sub_mask & (block_of[live] == current[live, None])
        # scores are needed at the current block's candidates only (a rule picks there; nll and draws are used there)
        extra = {"where": candidates.copy()} if narrow else {}
        if row_draws and not batched_draws:
            assert draw_rngs is not None
            scores = _stack_scores([check_state_scores(
                model.score_states(*model_inputs(tokens[r:r + 1], mask[r:r + 1]), nll=False, rng=draw_rngs[r],
                                   **({"where": candidates[i:i + 1].copy()} if narrow else {})),
                mask[r:r + 1], nll=False, draws=True, where=candidates[i:i + 1])
                for i, r in enumerate(live.tolist())])
            calls += live.size
        else:
            if batched_draws:
                assert draw_rngs is not None
                uniforms = np.stack([draw_rngs[r].random(length) for r in live.tolist()])
                drawing: Any = model  # the optional uniforms= keyword is not part of the StateModel protocol
                raw = drawing.score_states(*model_inputs(tokens[live], sub_mask), nll=False, uniforms=uniforms,
                                           **extra)
            else:
                raw = model.score_states(*model_inputs(tokens[live], sub_mask), nll=teacher,
                                         rng=None if teacher else rng, **extra)
            scores = check_state_scores(raw, sub_mask, nll=teacher, draws=not teacher, where=candidates)
            calls += 1
        chosen = np.zeros_like(candidates)
        for block in np.unique(current[live]).tolist():
            group = np.flatnonzero(current[live] == block)
            by_rows = getattr(rule, "select_rows", None) if per_row else None
            if per_row and callable(by_rows):
                assert row_rngs is not None
                chosen[group] = _checked(by_rows(scores.rows(group), candidates[group], step[live[group]], block,
                                                 [row_rngs[int(i)] for i in live[group]]), candidates[group], rule)
            elif per_row:
                assert row_rngs is not None
                for g in group.tolist():
                    one = np.array([g])
                    chosen[g] = _checked(rule.select(scores.rows(one), candidates[one], step[live[one]], block,
                                                     row_rngs[int(live[g])]), candidates[one], rule)[0]
            else:
                chosen[group] = _checked(rule.select(scores.rows(group), candidates[group], step[live[group]], block,
                                                     rng), candidates[group], rule)
        if teacher:
            assert nll is not None
            assert scores.nll is not None
            nll[live] += np.where(chosen, scores.nll, 0.0).sum(axis=1)
        else:
            assert scores.draws is not None
            rows = tokens[live]
            rows[chosen] = scores.draws[chosen]
            tokens[live] = rows
        mask[live] = sub_mask & ~chosen
        revealed = np.zeros(batch, dtype=np.int64)
        revealed[live] = chosen.sum(axis=1)
        if eos is not None:
            rows, row_mask = tokens[live], mask[live]
            settled = eos.settle(rows, row_mask, free[live], teacher)
            tokens[live], mask[live] = rows, row_mask
            if eos.pad_after_eos:
                revealed[live] += settled.sum(axis=1)
        per_pass.append(revealed)
        nfe[live] += 1
        step[live] += 1
        for _ in range(len(lengths)):  # move on past every block with nothing masked (an EOS may empty several)
            going = np.flatnonzero(current < len(lengths))
            done = ~(mask[going] & (block_of[going] == current[going, None])).any(axis=1)
            if not done.any():
                break
            current[going[done]] += 1
            step[going[done]] = 0
    if (current < len(lengths)).any():  # unreachable: every pass reveals >= 1 position of every live row
        raise RuntimeError("the rule loop did not finish within n passes")
    counts = np.stack(per_pass, axis=1) if per_pass else np.zeros((batch, 0), dtype=np.int64)
    return RuleRun(tokens, nll, nfe, counts, calls)


def _stack_scores(parts: list[StateScores]) -> StateScores:
    """Row-wise concatenation of one-row scores (the per-row calls of a model without ``uniforms``)."""
    def cat(name: str) -> Any:
        values = [getattr(p, name) for p in parts]
        return None if values[0] is None else np.concatenate(values)
    return StateScores(cat("max_prob"), cat("margin"), cat("entropy"), cat("nll"), cat("draws"))


def _checked(chosen: object, candidates: NDArray[np.bool_], rule: Any) -> NDArray[np.bool_]:
    """The rule's answer, refused unless it is a bool array of the candidates' shape, inside them and non-empty."""
    arr = np.asarray(chosen)
    if arr.dtype != np.bool_ or arr.shape != candidates.shape:
        raise ValueError(f"rule {rule!r} returned {arr.dtype} {arr.shape} from select; expected bool {candidates.shape}")
    if (arr & ~candidates).any():
        raise ValueError(f"rule {rule!r} chose a position that is not a candidate (revealed, or outside the block)")
    if not arr.any(axis=1).all():
        raise ValueError(f"rule {rule!r} chose no position for a row that has candidates (the loop would not end)")
    return arr


__all__ = ["DrawScoreStates", "PassCounts", "RuleRun", "SelectionRule", "accepts_keyword", "block_lengths", "run_rule"]
