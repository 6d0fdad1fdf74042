"""LLaDA-style semi-autoregressive generation, driven by a transfer table or by any rule -- both through the one loop
(:func:`mdmsched.samplers.loop.run_rule`): a table is the rule ``RandomOrder`` with the table's counts per block.

Random streams (changed in this release, when the table loop merged into the rule loop): the reveal order is drawn
step by step inside the loop (``rng.random`` per candidate position) instead of one permutation per block up front,
so a table-driven ``generate`` with a given ``rng`` draws different (equally distributed) samples than before;
sampling and teacher forcing with equally seeded generators still follow the same positions.
"""

from __future__ import annotations

from typing import Any, overload

import numpy as np
from numpy.typing import ArrayLike, NDArray

from .._validation import as_count, as_region, as_tokens
from ..models.interface import SamplingModel
from .loop import DrawScoreStates, RuleRun, SelectionRule, run_rule
from .rules import RandomOrder


def _own_rows(rows: ArrayLike) -> NDArray[np.int64]:
    """The rows to generate into, as our own int64 copy (generated tokens are written into it): 2-D integers."""
    tokens = as_tokens(rows, "rows")  # integers; uint64 ids beyond int64 refused, never wrapped
    if tokens.ndim != 2 or 0 in tokens.shape:
        raise ValueError(f"rows must be 2-D (B x n) with B, n >= 1, got shape {tokens.shape}")
    if tokens.size and int(tokens.min()) < 0:
        raise ValueError(f"rows must be token ids >= 0, got {int(tokens.min())}")
    return np.array(tokens, dtype=np.int64)


def _teacher_rows(teacher: ArrayLike, tokens: NDArray[np.int64], gen_mask: NDArray[np.bool_]) -> NDArray[np.int64]:
    """The true rows of teacher forcing: integers of the rows' shape that agree with them on the prompt (a copy)."""
    truth = np.asarray(teacher)
    if truth.dtype.kind not in "iu":
        raise TypeError(f"teacher must be an integer array, got dtype {truth.dtype}")
    if truth.shape != tokens.shape:
        raise ValueError(f"teacher must have the shape of rows {tokens.shape}, got {truth.shape}")
    if (truth[~gen_mask] != tokens[~gen_mask]).any():
        raise ValueError("teacher must equal rows outside the region (the prompt)")
    return np.array(truth, dtype=np.int64)


def _region_mask(region: ArrayLike | int, shape: tuple[int, int]) -> NDArray[np.bool_]:
    n = shape[1]
    if isinstance(region, (bool, np.bool_)):
        raise TypeError("region must be a prompt length (int) or a bool mask array, got a single bool")
    if isinstance(region, (int, np.integer)):
        prompt_length = int(region)
        if not 0 <= prompt_length < n:
            raise ValueError(f"prompt_length (region) must satisfy 0 <= prompt_length < n = {n}, got {prompt_length}")
        out = np.zeros(shape, dtype=bool)
        out[:, prompt_length:] = True
        return out
    marks = as_region(region, n, shape[0])
    return np.ascontiguousarray(np.broadcast_to(marks, shape))


def _transfer_table(table: ArrayLike, lengths: list[int], batch: int) -> NDArray[np.int64]:
    """``(num_blocks, B, max_steps)`` counts from a ``(num_blocks, max_steps)`` or per-row ``(num_blocks, B, max_steps)``
    table; every ``[b, row]`` sums to block ``b``'s length."""
    arr = np.asarray(table)
    if arr.dtype.kind not in "iu":
        raise TypeError(f"num_transfer_tokens must be an integer array, got dtype {arr.dtype}")
    if arr.ndim == 2:
        arr = np.broadcast_to(arr[:, None, :], (arr.shape[0], batch, arr.shape[1]))
    if arr.ndim != 3 or arr.shape[:2] != (len(lengths), batch):
        raise ValueError(f"num_transfer_tokens must be ({len(lengths)}, max_steps) (one row per block) or "
                         f"({len(lengths)}, {batch}, max_steps), got shape {np.shape(table)}")
    if (arr < 0).any():
        raise ValueError("num_transfer_tokens must be non-negative")
    for b, length in enumerate(lengths):  # entries <= the block's length first: the int64 row sums cannot wrap
        if arr[b].size and int(arr[b].max()) > length:
            raise ValueError(f"num_transfer_tokens[{b}] must sum to the block's length {length}, got an entry "
                             f"{int(arr[b].max())}")
    sums = arr.astype(np.int64).sum(axis=2)
    for b, length in enumerate(lengths):
        if (sums[b] != length).any():
            raise ValueError(f"num_transfer_tokens[{b}] must sum to the block's length {length}, got "
                             f"{int(sums[b][sums[b] != length][0])}")
    return np.ascontiguousarray(arr, dtype=np.int64)


@overload
def generate(model: SamplingModel, rows: ArrayLike, region: ArrayLike | int, num_transfer_tokens: ArrayLike,
             block_length: int, *, rng: np.random.Generator, teacher: None = None,
             rule: None = None) -> NDArray[np.int64]: ...


@overload
def generate(model: SamplingModel, rows: ArrayLike, region: ArrayLike | int, num_transfer_tokens: ArrayLike,
             block_length: int, *, rng: np.random.Generator,
             teacher: ArrayLike, rule: None = None) -> tuple[NDArray[np.int64], NDArray[np.float64]]: ...


@overload
def generate(model: Any, rows: ArrayLike, region: ArrayLike | int, num_transfer_tokens: None,
             block_length: int | None, *, rng: np.random.Generator, teacher: ArrayLike | None = None,
             rule: SelectionRule) -> RuleRun: ...


def generate(model: Any, rows: ArrayLike, region: ArrayLike | int, num_transfer_tokens: ArrayLike | None,
             block_length: int | None, *, rng: np.random.Generator, teacher: ArrayLike | None = None,
             rule: SelectionRule | None = None, eos_id: int | None = None, pad_after_eos: bool = True) -> Any:
    """LLaDA-style semi-autoregressive generation with random remasking, driven by a ``num_transfer_tokens`` table.

    ``rows`` (``B x n`` token ids) supply the prompt: every position outside ``region`` stays revealed throughout.
    ``region`` marks the generated positions -- a bool array ``(n,)`` or ``(B, n)`` (the same count ``G`` per row) or
    an int prompt length (positions ``prompt_length..n-1``). The generated positions of each row, in order, are cut
    into blocks of ``block_length`` (the last may be shorter). Block ``b`` is generated left to right: the prompt and
    blocks ``< b`` are revealed, blocks ``> b`` masked; step ``j`` reveals ``num_transfer_tokens[b, j]`` uniformly
    random still-masked positions of the block (each row its own), each drawn independently from the model's
    conditional ``q(. | revealed)``. ``num_transfer_tokens`` is ``(num_blocks, max_steps)`` integers, zero padded, each
    row summing to its block's length (``BlockSchedule.num_transfer_tokens()``), or ``(num_blocks, B, max_steps)`` with
    per-row counts (``num_transfer_tokens(batch=B)``). A step whose count is zero in every row reveals nothing and is
    skipped here without a forward call; a real sampler that loops over every ``j`` spends one there.
    Runs through :func:`~mdmsched.samplers.loop.run_rule` with ``RandomOrder(table counts)``.

    The reveal order is drawn from ``rng`` step by step (the loop's ``RandomOrder``), so sampling and teacher runs with
    equally seeded ``rng`` follow the same positions. Rows with different per-row tables run as separate groups.

    With ``teacher=x`` (``B x n`` true rows, equal to ``rows`` outside the region) nothing is sampled: each step
    reveals the true tokens of ``x`` and adds the model's ``-log q(x_i | revealed)`` at those positions, and the call
    returns ``(x, nll)`` with ``nll`` the per-row sum (nats). For ``x ~ mu``, ``log mu(x_region | x_prompt) + nll`` is
    an unbiased sample of the sampler's expected KL against ``mu`` (SPEC §5.1). Without a teacher it returns the
    generated rows. Cost: one ``model`` call per non-zero step, ``O(B n)`` host work per step.

    With ``rule=`` (a :class:`mdmsched.samplers.Rule`: top-k by confidence, thresholds, entropy bounds, ...) the rule
    chooses the positions and their number at each step instead of the table (pass ``num_transfer_tokens=None``; a
    schedule-driven rule carries its own counts): see :func:`generate_with_rule`, which this calls. It returns a
    :class:`~mdmsched.samplers.loop.RuleRun` with the rows, ``nfe`` and per-step ``counts`` (and ``nll`` with ``teacher``).

    ``eos_id`` / ``pad_after_eos``: once a row commits EOS, its still-masked generated positions after it are filled
    with EOS without forward passes (:mod:`mdmsched.samplers.eos`).
    """
    if rule is not None:
        if num_transfer_tokens is not None:
            raise ValueError("num_transfer_tokens must be None with rule= (the rule decides how many to reveal)")
        return generate_with_rule(model, rows, region, block_length, rule, rng=rng, teacher=teacher, eos_id=eos_id,
                                  pad_after_eos=pad_after_eos)
    if num_transfer_tokens is None:
        raise ValueError("num_transfer_tokens is needed without rule= (the counts of each block's steps)")
    if block_length is None:
        raise ValueError("block_length is needed without rule=")
    if not isinstance(rng, np.random.Generator):
        raise TypeError(f"rng must be a numpy.random.Generator, got {type(rng).__name__}")
    needed = "sample" if teacher is None else "score"
    if not callable(getattr(model, needed, None)):
        raise TypeError(f"model must have a {needed}() method (e.g. a TorchModel), got {type(model).__name__}")
    tokens = _own_rows(rows)
    batch, n = tokens.shape
    gen_mask = _region_mask(region, (batch, n))
    block_length = as_count(block_length, "block_length")
    generated = int(gen_mask[0].sum())
    lengths = [min(block_length, generated - s) for s in range(0, generated, block_length)]
    table = _transfer_table(num_transfer_tokens, lengths, batch)
    if teacher is not None:
        tokens = _teacher_rows(teacher, tokens, gen_mask)
    free = np.nonzero(gen_mask)[1].reshape(batch, generated)
    scorer = DrawScoreStates(model)
    nll = np.zeros(batch, dtype=np.float64)
    # Rows with the same table share every forward pass; rows whose per-row tables differ run as separate groups
    # (zero entries are dropped: a step that reveals nothing costs no forward pass here).
    flat = table.transpose(1, 0, 2).reshape(batch, -1)
    _, first_row, group_of = np.unique(flat, axis=0, return_index=True, return_inverse=True)
    for group in np.argsort(first_row).tolist():  # groups in the order of their first row
        rows_in = np.flatnonzero(group_of.reshape(-1) == group)
        sizes = [block[block > 0] for block in table[:, rows_in[0], :]]
        # Each row's reveal order comes from its own generator (seeded from rng before any draw), so a sampling run
        # and a teacher run with equally seeded rng follow the same positions whatever the model draws.
        row_rngs = [np.random.default_rng(seed) for seed in rng.integers(0, 2**63, size=rows_in.size).tolist()]
        run = run_rule(scorer, tokens[rows_in], free[rows_in], block_length, RandomOrder(sizes),
                       teacher=teacher is not None, rng=rng, row_rngs=row_rngs, eos_id=eos_id,
                       pad_after_eos=pad_after_eos)
        tokens[rows_in] = run.tokens
        if run.nll is not None:
            nll[rows_in] = run.nll
    return tokens if teacher is None else (tokens, nll)


def generate_with_rule(model: Any, rows: ArrayLike, region: ArrayLike | int, block_length: int | None,
                       rule: Any, *, rng: np.random.Generator, teacher: ArrayLike | None = None,
                       eos_id: int | None = None, pad_after_eos: bool = True) -> RuleRun:
    """Semi-autoregressive generation where ``rule`` (any :class:`mdmsched.samplers.Rule`, or an object with its
    ``select``) chooses the positions at each step -- the sampler :func:`mdmsched.samplers.evaluate_sampler` scores.

    ``rows``/``region``/``block_length`` as :func:`generate` (``block_length`` None: one block). Each row moves through
    its blocks on its own; one ``model.score_states`` forward pass per step serves every row still generating, and the
    chosen positions are drawn independently from ``q(. | revealed)`` (or, with ``teacher=x``, revealed from the true
    rows while ``-log q`` is summed). Returns a :class:`~mdmsched.samplers.loop.RuleRun`: ``tokens``, ``nll`` (teacher only),
    ``nfe`` and per-step ``counts`` per row. At most ``n`` forward passes, ``O(B n log n)`` host work per pass.
    ``eos_id``/``pad_after_eos``: the tail after a committed EOS is settled without forward passes (see
    :func:`~mdmsched.samplers.loop.run_rule`).
    """
    if not isinstance(rng, np.random.Generator):
        raise TypeError(f"rng must be a numpy.random.Generator, got {type(rng).__name__}")
    if not callable(getattr(model, "score_states", None)):
        raise TypeError(f"model must have a score_states() method (e.g. a TorchModel), got {type(model).__name__}")
    if not callable(getattr(rule, "select", None)):
        raise TypeError(f"rule must have a select() method (a mdmsched.samplers Rule), got {type(rule).__name__}")
    tokens = _own_rows(rows)
    batch, n = tokens.shape
    gen_mask = _region_mask(region, (batch, n))
    length = None if block_length is None else as_count(block_length, "block_length")
    if teacher is not None:
        tokens = _teacher_rows(teacher, tokens, gen_mask)
    free = np.nonzero(gen_mask)[1].reshape(batch, -1)
    return run_rule(model, tokens, free, length, rule, teacher=teacher is not None, rng=rng, eos_id=eos_id,
                    pad_after_eos=pad_after_eos)


__all__ = ["generate", "generate_with_rule"]
