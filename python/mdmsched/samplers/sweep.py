"""Shared sweeps: many rules teacher-forced on the same rows, each distinct model state scored once (issue 25.1).

Under teacher forcing the state after a step depends only on the row and the revealed set, so the forward pass at a
state -- :class:`~mdmsched.models.StateScores` -- is a function of what the model sees: the row's tokens and its mask.
A sweep over a family's hyperparameters (or over every family of the map) visits the same states again and again
(measured on the map's defaults: 280,606 row-forwards for 49,675 distinct states). :class:`StateCache` wraps the model
and scores each distinct ``(tokens, mask)`` once, handing back the stored scores when a rule reaches a state another
rule (or an earlier step) already scored; the rules' choices, NLL sums and NFE are therefore **bit for bit** those of
evaluating each rule alone (each rule still runs the one loop, :func:`~mdmsched.samplers.loop.run_rule`, with its own
per-row generators ``default_rng([seed, r])``). The cache is bounded (``cache_bytes``): past it the oldest states are
evicted and scored again if met again, which costs forwards but never changes a result.
"Bit for bit" assumes the model scores a state the same whichever batch it is in: a float32 network whose rows' last
bits depend on the batch size (BLAS blocking) differs from rule-by-rule evaluation by what ``batch_size`` alone changes
(2-3e-7 nats on the trained tiny MDM, BENCHMARKS.md "Shared sweeps").

:func:`evaluate_sweep` runs a list of rules on one plan (:class:`SweepPlan` states the row-forwards before running: at
most ``rows x n`` per rule without sharing -- exact for count rules -- and the shared bound, every rule starting from
the same all-masked state) and reports what it actually scored.
"""

from __future__ import annotations

import hashlib
import time
from collections.abc import Sequence
from concurrent.futures import Executor
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray

from .._shards import DEFAULT_SHARDS, as_report, run_shards
from .._validation import as_count, as_data_rows, available_memory_bytes, require_memory
from ..models.interface import StateModel, as_state_model, model_inputs
from ..models.state_scores import StateScores, check_state_scores
from .evaluate import (
    SamplerEstimate,
    SamplerPlan,
    SamplerShard,
    fixed_passes,
    merge_sampler_shards,
    plan_sampler,
    run_sampler_shard,
)
from .loop import accepts_keyword, block_lengths
from .rules import Rule

#: Default cache budget: 1 GiB, or a quarter of the memory available now if that is less.
DEFAULT_CACHE_BYTES = 2**30
#: Bytes a cached state costs beyond its score arrays (key, dict slot, array headers), for the budget.
_ENTRY_OVERHEAD = 256


def _default_budget() -> int:
    return int(min(DEFAULT_CACHE_BYTES, available_memory_bytes() // 4))


def as_cache_bytes(cache_bytes: Any) -> int:
    """A cache budget in bytes: None -> :data:`DEFAULT_CACHE_BYTES` (or a quarter of available memory, if less);
    an integer >= 0 (0 = no caching), refused (``ValueError``) when the memory is not available."""
    if cache_bytes is None:
        return _default_budget()
    budget: int = as_count(cache_bytes, "cache_bytes", 0)
    require_memory(budget, f"the state cache (cache_bytes={budget})")
    return budget


class StateCache:
    """A :class:`~mdmsched.models.StateModel` that scores each distinct teacher-forced state of ``model`` once.

    ``score_states(tokens, mask, nll=True, rng=None)`` (teacher forcing) looks every row up by a 128-bit BLAKE2b
    digest of its tokens and mask (everything the model sees, and the true tokens ``-log q`` is read at); rows not
    yet stored -- each distinct one once, however often it occurs in the batch -- go to ``model.score_states`` in one
    call, and their validated scores are stored while the total stays within ``cache_bytes`` (oldest evicted first).
    Sampling calls (``rng`` given, ``nll=False``, or any other keyword such as ``uniforms=``) pass straight
    through. ``row_forwards`` counts the distinct states the model scored, ``padded_rows`` the extra copies sent (a
    lone state goes as two identical rows: a one-row batch takes another BLAS path in torch networks, whose last
    bits differ), ``model_calls`` the calls, ``hits`` the rows served from the cache. The stored scores are exactly
    what the model returned for that row (validated as the loop validates them), so results are those of the bare
    model provided the model scores a row the same whatever rows share its batch of two or more (true of the
    package's NumPy models and, measured, of a CPU torch transformer; a model whose rows interact in a batch, or a
    GPU kernel that changes with the batch size, can differ in the last bits). O(B n) per call here beyond the model.
    """

    def __init__(self, model: StateModel | Any, cache_bytes: int | None = None) -> None:
        self.model = as_state_model(model)
        self.scores_known = bool(getattr(self.model, "scores_known", True))
        self._narrow = accepts_keyword(self.model, "where")  # the model reduces only the positions asked for
        self.cache_bytes = as_cache_bytes(cache_bytes)
        self.stored_bytes = 0
        self.row_forwards = 0
        self.padded_rows = 0
        self.model_calls = 0
        self.hits = 0
        self._store: dict[bytes, NDArray[np.float64]] = {}

    def __len__(self) -> int:
        return len(self._store)

    def __getstate__(self) -> dict[str, Any]:  # a process-pool copy starts empty: the cache is local to a process
        state = dict(self.__dict__)
        state["_store"], state["stored_bytes"] = {}, 0
        return state

    def clear(self) -> None:
        """Forget every stored state (the counters stay)."""
        self._store.clear()
        self.stored_bytes = 0

    def score_states(self, tokens: NDArray[np.int64], mask: NDArray[np.bool_], *, nll: bool = True,
                     rng: np.random.Generator | None = None, where: NDArray[np.bool_] | None = None,
                     **extra: Any) -> StateScores:
        narrow = {} if where is None or not self._narrow else {"where": where}
        if rng is not None or not nll or extra:  # sampling (or anything beyond teacher forcing): not a state function
            self.model_calls += 1
            self.row_forwards += int(np.shape(mask)[0])
            model: Any = self.model  # where= / uniforms= are optional keywords, outside the StateModel protocol
            passed: StateScores = model.score_states(*model_inputs(tokens, mask), nll=nll, rng=rng, **narrow, **extra)
            return passed
        tokens, mask = model_inputs(tokens, mask)
        # the scored positions are part of the state's key (the loop asks for the current block's candidates)
        keys = _state_keys(tokens, mask, None if not narrow else np.asarray(where, dtype=np.bool_))
        found: dict[bytes, NDArray[np.float64]] = {}
        todo: dict[bytes, int] = {}
        for i, key in enumerate(keys):
            if key in found or key in todo:
                continue
            stored = self._store.get(key)
            if stored is None:
                todo[key] = i
            else:
                found[key] = stored
        if todo:
            rows = np.fromiter(todo.values(), dtype=np.int64, count=len(todo))
            # A one-row batch takes another kernel path in BLAS-backed networks (matrix-vector: last-bit differences
            # from the same row in a larger batch); score one row as two copies so every state is scored alike.
            sent = np.repeat(rows, 2) if rows.size == 1 else rows
            chosen = {} if not narrow else {"where": np.asarray(where, dtype=np.bool_)[sent].copy()}
            scorer: Any = self.model
            raw = scorer.score_states(*model_inputs(tokens[sent], mask[sent]), nll=True, rng=None, **chosen)
            fresh = check_state_scores(raw, mask[sent], nll=True, draws=False, where=chosen.get("where"))
            assert fresh.nll is not None
            stacked = np.stack([fresh.max_prob, fresh.margin, fresh.entropy, fresh.nll], axis=1)  # (m, 4, length)
            self.model_calls += 1
            self.row_forwards += int(rows.size)
            self.padded_rows += int(sent.size - rows.size)
            for j, key in enumerate(todo):
                found[key] = stacked[j]
                self._remember(key, stacked[j])
        self.hits += len(keys) - len(todo)
        table = np.stack([found[key] for key in keys]) if keys else np.zeros((0, 4, mask.shape[1]))
        return StateScores(table[:, 0], table[:, 1], table[:, 2], table[:, 3], None)

    def _remember(self, key: bytes, scores: NDArray[np.float64]) -> None:
        """Store a copy of one row's scores unless it alone exceeds the budget; evict the oldest to make room."""
        cost = scores.nbytes + _ENTRY_OVERHEAD
        if cost > self.cache_bytes:
            return
        while self._store and self.stored_bytes + cost > self.cache_bytes:
            oldest = next(iter(self._store))
            self.stored_bytes -= self._store.pop(oldest).nbytes + _ENTRY_OVERHEAD
        self._store[key] = scores.copy()
        self.stored_bytes += cost


def _state_keys(tokens: NDArray[np.int64], mask: NDArray[np.bool_],
                where: NDArray[np.bool_] | None = None) -> list[bytes]:
    """128-bit BLAKE2b digest of each row's state: its tokens (the true ones at masked positions too), its mask and the
    positions whose scores are asked for (``where``, when given), packed into one byte string per row. O(B n)."""
    rows = tokens.shape[0]
    parts = [np.ascontiguousarray(tokens, dtype=np.int64).view(np.uint8).reshape(rows, -1), np.packbits(mask, axis=1)]
    if where is not None:
        parts.append(np.packbits(where, axis=1))
    packed = np.concatenate(parts, axis=1)
    return [hashlib.blake2b(row.tobytes(), digest_size=16).digest() for row in packed]


@dataclass(frozen=True)
class SweepPlan:
    """``rules`` run on one :class:`~mdmsched.samplers.evaluate.SamplerPlan` (``sampler``), with what they will cost,
    stated before anything runs: ``passes[j]`` the row-forwards of rule ``j`` alone (exact for count rules, the bound
    ``rows x n`` for adaptive ones), ``separate`` their sum (every rule evaluated alone), ``shared`` the bound of the
    shared sweep (``separate - (rules - 1) x rows``: every rule's first state of a row is the same)."""

    sampler: SamplerPlan
    rules: tuple[Rule, ...] = field(repr=False)
    passes: tuple[int, ...]
    exact: bool

    @property
    def separate(self) -> int:
        """Row-forwards when each rule is evaluated alone (exact if every rule is a count rule, else a bound)."""
        return int(sum(self.passes))

    @property
    def shared(self) -> int:
        """Upper bound on the row-forwards of the shared sweep (distinct states): ``separate`` less the first state of
        every row, which all rules share (``(rules - 1) x rows``)."""
        return int(self.separate - (len(self.rules) - 1) * self.sampler.rows)

    def cost(self) -> str:
        """The plan's cost line (printed by ``progress=True`` before running)."""
        word = "" if self.exact else "at most "
        return (f"{len(self.rules)} rules x {self.sampler.rows} rows: {word}{self.separate} row-forwards evaluated "
                f"one by one; shared sweep at most {self.shared} ({self.sampler.num_batches} batches of up to "
                f"{self.sampler.batch_size} rows)")


def plan_sweep(data_shape: tuple[int, int], rules: Sequence[Rule], *, plan: SamplerPlan | None = None,
               region: ArrayLike | None = None, block_length: int | None = None, seed: int = 0,
               batch_size: int = 64) -> SweepPlan:
    """The :class:`SweepPlan` of ``rules`` on data of shape ``(N, length)`` (a given ``plan`` is used as is)."""
    if plan is None:
        plan = plan_sampler(data_shape, region=region, block_length=block_length, seed=seed, batch_size=batch_size)
    elif not isinstance(plan, SamplerPlan):
        raise TypeError(f"plan must be a SamplerPlan (from plan_sampler), got {type(plan).__name__}")
    if isinstance(rules, (Rule, str, bytes)) or not isinstance(rules, Sequence):
        raise TypeError(f"rules must be a non-empty sequence of Rules, got {type(rules).__name__}")
    if not rules:
        raise ValueError("rules must hold at least one Rule")
    for rule in rules:
        if not isinstance(rule, Rule):
            raise TypeError(f"rules must be mdmsched.samplers Rules (RandomOrder, TopK, Threshold, ...), got "
                            f"{type(rule).__name__}")
    lengths = block_lengths(plan.n, plan.block_length)
    fixed = [fixed_passes(rule, lengths) for rule in rules]
    passes = tuple(plan.rows * (plan.n if f is None else min(f, plan.n)) for f in fixed)
    return SweepPlan(plan, tuple(rules), passes, all(f is not None for f in fixed))


@dataclass(frozen=True)
class SweepResult:
    """One :class:`~mdmsched.samplers.evaluate.SamplerEstimate` per rule (``estimates``, in the plan's order), and
    what the sweep cost: ``row_forwards`` (distinct states the model scored, plus any re-scored after eviction),
    ``padded_rows`` (copies sent beside a lone state, see :class:`StateCache`), ``model_calls``, ``hits`` (rows
    served from the cache) and the ``plan``."""

    estimates: tuple[SamplerEstimate, ...]
    plan: SweepPlan = field(repr=False)
    row_forwards: int
    model_calls: int
    hits: int
    total_seconds: float = 0.0
    padded_rows: int = 0


def _sweep_shard(model: Any, rows: NDArray[np.int64], rules: Sequence[Rule], plan: SamplerPlan,
                 cache_bytes: int, batches: range) -> tuple[list[SamplerShard], int, int, int, int]:
    """Every rule on the rows of ``batches``, batch by batch, through one cache (cleared between batches: states of
    different rows never coincide unless the rows do)."""
    cache = StateCache(model, cache_bytes)
    out: list[list[SamplerShard]] = [[] for _ in rules]
    for b in batches:
        for j, rule in enumerate(rules):
            out[j].append(run_sampler_shard(cache, rows, rule, plan, range(b, b + 1)))
        cache.clear()
    shards = [_joined(parts) for parts in out]
    return shards, cache.row_forwards, cache.model_calls, cache.hits, cache.padded_rows


def _joined(parts: list[SamplerShard]) -> SamplerShard:
    """Consecutive one-batch shards of one rule as one shard."""
    first = parts[0]
    return SamplerShard(range(first.batches.start, parts[-1].batches.stop), first.first_row,
                        np.concatenate([p.nll for p in parts]), np.concatenate([p.nfe for p in parts]),
                        sum(p.model_calls for p in parts), first.plan)


def evaluate_sweep(model: StateModel | Any, data: ArrayLike, rules: Sequence[Rule], *, region: ArrayLike | None = None,
                   block_length: int | None = None, seed: int = 0, batch_size: int = 64,
                   plan: SamplerPlan | None = None, cache_bytes: int | None = None,
                   executor: Executor | None = None, shards: int | None = None,
                   progress: bool | Any = False) -> SweepResult:
    """:func:`~mdmsched.samplers.evaluate_sampler` of every rule of ``rules`` on the same rows, scoring each distinct
    state once per batch (:class:`StateCache`): the estimates equal those of evaluating each rule alone, bit for bit.

    ``plan``: a :class:`~mdmsched.samplers.evaluate.SamplerPlan` made once (else ``region`` / ``block_length`` /
    ``seed`` / ``batch_size`` make one). ``cache_bytes``: the cache budget per process (default 1 GiB or a quarter of
    the available memory; refused when more than is available); past it old states are evicted (re-scored when met
    again, results unchanged). ``progress``: True prints the plan's cost (:meth:`SweepPlan.cost`) and a bar over
    batches; a callable gets ``(done, total)`` batches. ``executor`` / ``shards``: batches split across processes,
    each with its own cache. Cost: the distinct states of each batch, at most :attr:`SweepPlan.shared` row-forwards,
    plus ``O(rules x batch n log n)`` per pass here.
    """
    start = time.perf_counter()
    rows = as_data_rows(data)
    if plan is not None and (region is not None or block_length is not None):
        raise ValueError("pass region and block_length to plan_sampler, not beside plan= (the plan decides them)")
    sweep = plan_sweep(rows.shape, rules, plan=plan, region=region, block_length=block_length, seed=seed,
                       batch_size=batch_size)
    sampler = sweep.sampler
    if rows.shape != (sampler.rows, sampler.length):
        raise ValueError(f"data has shape {rows.shape}, but the plan was made for {(sampler.rows, sampler.length)}")
    budget = as_cache_bytes(cache_bytes)
    report = as_report(progress, f"teacher-forcing {len(sweep.rules)} rules", sweep.cost())
    count = DEFAULT_SHARDS if shards is None else as_count(shards, "shards")
    parts = sampler.shards(sampler.num_batches if executor is None else count)
    results = run_shards(_sweep_shard, (model, rows, sweep.rules, sampler, budget), parts, executor=executor,
                         report=report, total=sampler.num_batches)
    seconds = time.perf_counter() - start
    estimates = tuple(merge_sampler_shards(sampler, [r[0][j] for r in results], rule, total_seconds=seconds)
                      for j, rule in enumerate(sweep.rules))
    return SweepResult(estimates, sweep, sum(r[1] for r in results), sum(r[2] for r in results),
                       sum(r[3] for r in results), seconds, sum(r[4] for r in results))


__all__ = ["DEFAULT_CACHE_BYTES", "StateCache", "SweepPlan", "SweepResult", "as_cache_bytes", "evaluate_sweep",
           "plan_sweep"]
