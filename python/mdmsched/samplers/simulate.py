"""Run the MDM sampler itself (SPEC §1, §5.1) and measure the KL error a schedule really has.

A schedule is the rule ``RandomOrder(schedule)`` run by the one loop (:func:`mdmsched.samplers.loop.run_rule`): each
model call reveals the step's count of uniformly random masked positions; a blockwise schedule (``.blocks``, or one
size list per block) does so within each block, so later blocks stay masked while a block is generated. Positions
outside ``region`` (the prompt) are revealed throughout.

Random streams (changed when these loops merged into the rule loop): reveal positions are drawn step by step from the
same generator as the model's draws, instead of one permutation per batch up front; results are equally distributed
but not the draws of earlier releases for the same seed.
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any, Union

import numpy as np
from numpy.typing import ArrayLike, NDArray

from .._validation import as_count, as_region, as_seed, as_sizes, as_tokens, require_memory
from ..curves.distribution import as_dense
from ..models.exact import ExactPredictor
from ..models.interface import ExactModel, MaskedModel, Predictor, as_masked_model
from .loop import DrawScoreStates, run_rule
from .rules import RandomOrder

Model = Union[MaskedModel, Predictor, ArrayLike]


def _as_target_law(law: Any) -> ExactModel:
    """An exact law that can sample and score: ExactPredictor / MarkovPredictor as is, a dense tensor wrapped."""
    if all(hasattr(law, name) for name in ("sample", "log_prob", "log_marginal", "n")) and callable(law):
        exact: ExactModel = law
        return exact
    if isinstance(law, (np.ndarray, list, tuple)):
        return ExactPredictor(law)
    raise TypeError("law must be an exact law (ExactPredictor, MarkovPredictor or a dense probability tensor), "
                    f"got {type(law).__name__}")


def _as_sampler(model: Any) -> MaskedModel:
    if isinstance(model, (np.ndarray, list, tuple)):
        return as_masked_model(ExactPredictor(model))
    sampler = as_masked_model(model)
    if not callable(getattr(sampler, "sample", None)):
        raise TypeError(f"model must be able to draw tokens (a sample(tokens, mask, rng) method, or a predictor of "
                        f"probabilities), got {type(model).__name__} with score only")
    return sampler


def _region_positions(region: ArrayLike | None, length: int) -> NDArray[np.int64]:
    if region is None:
        return np.arange(length, dtype=np.int64)
    return np.flatnonzero(as_region(region, length)[0]).astype(np.int64)


def _block_steps(schedule: Any, n: int) -> list[NDArray[np.int64]]:
    """Step sizes per block: one block for a plain schedule, ``.blocks`` (or a list of lists) for a blockwise one."""
    blocks = getattr(schedule, "blocks", None)
    if blocks is None and isinstance(schedule, (list, tuple)) and schedule and not np.isscalar(schedule[0]):
        blocks = schedule
    if blocks is None:
        return [as_sizes(schedule, n, "schedule")]
    per_block = [as_sizes(block, None, f"block {b} sizes") for b, block in enumerate(blocks)]
    total = sum(int(s.sum()) for s in per_block)
    if total != n:
        raise ValueError(f"the blocks of schedule cover {total} positions, but {n} are generated")
    return per_block


def simulate(model: Model, schedule: Any, num_samples: int, *, n: int | None = None, prompts: ArrayLike | None = None,
             region: ArrayLike | None = None, seed: int | None = None, batch_size: int = 1024) -> NDArray[np.int64]:
    """Draw ``num_samples`` sequences with the MDM sampler: at each step reveal the scheduled number of uniformly random
    masked positions, each drawn independently from the model's conditional given what is revealed.

    ``model``: anything with ``sample(tokens, mask, rng)`` and ``score`` (e.g. :class:`mdmsched.torch.TorchModel`), a
    predictor returning probabilities, or a dense distribution. ``schedule``: sizes, a ``Schedule`` or a blockwise
    schedule. With ``prompts`` (rows of the full length, reused cyclically) and ``region`` (True = generated), prompt
    positions are copied from ``prompts`` and only the region is generated. ``n`` defaults to the predictor's ``n``,
    else the schedule's length. One model call per step per batch of ``batch_size`` rows.
    """
    sampler = _as_sampler(model)
    count = as_count(num_samples, "num_samples", 1)
    batch_size = as_count(batch_size, "batch_size", 1)
    if prompts is not None:
        prompt_rows = np.asarray(prompts)
        if prompt_rows.dtype.kind not in "iu":
            raise TypeError(f"prompts must be integer token ids, got dtype {prompt_rows.dtype}")
        if prompt_rows.ndim != 2 or prompt_rows.shape[0] < 1:
            raise ValueError(f"prompts must be a non-empty 2-D integer array, got {prompt_rows.dtype} {prompt_rows.shape}")
        prompt_rows = as_tokens(prompt_rows, "prompts")  # uint64 ids >= 2**63 refused, never wrapped
        length = int(prompt_rows.shape[1])
        if n is not None and as_count(n, "n", 1) != length:
            raise ValueError(f"n = {n} contradicts prompts of length {length} (n is the full length; omit it or "
                             "make them agree)")
    else:
        if region is not None:
            raise ValueError("region needs prompts (the tokens of the positions that are not generated)")
        default = getattr(model, "n", getattr(sampler, "n", None))  # a dense law's n is its predictor's
        if n is not None:
            length = as_count(n, "n", 1)
        elif isinstance(default, (int, np.integer)):
            length = int(default)
        else:
            length = int(sum(int(s.sum()) for s in _block_steps(schedule, _total(schedule))))
        prompt_rows = None
    require_memory(8 * count * length * 3, "the samples")  # before the first array of length ``length``
    if prompt_rows is None:
        prompt_rows = np.zeros((1, length), dtype=np.int64)
    positions = _region_positions(region, length)
    blocks = _block_steps(schedule, positions.size)
    rule, lengths, scorer = RandomOrder(blocks), [int(b.sum()) for b in blocks], DrawScoreStates(sampler)
    rng = np.random.default_rng(as_seed(seed))
    out = np.empty((count, length), dtype=np.int64)
    for lo in range(0, count, batch_size):
        batch = min(batch_size, count - lo)
        tokens = prompt_rows[np.arange(lo, lo + batch) % prompt_rows.shape[0]].astype(np.int64)
        out[lo:lo + batch] = run_rule(scorer, tokens, positions[None, :], lengths, rule, teacher=False, rng=rng).tokens
    return out


def _total(schedule: Any) -> int:
    blocks = getattr(schedule, "blocks", None)
    if blocks is not None:
        return sum(int(as_sizes(b).sum()) for b in blocks)
    if isinstance(schedule, (list, tuple)) and schedule and not np.isscalar(schedule[0]):
        return sum(int(as_sizes(b).sum()) for b in schedule)
    return int(as_sizes(schedule).sum())


def empirical_kl(samples: ArrayLike, p: ArrayLike, *, pseudocount: float = 0.5) -> float:
    """Plug-in ``KL(mu || nu_hat)`` (nats) of an explicit target ``p`` against the empirical law of ``samples``,
    smoothed with ``pseudocount`` per cell so that it stays finite. Biased upward by about
    ``(support - 1) / (2 N)``; for comparisons at equal N on small n. ``pseudocount`` must be a finite real > 0."""
    if isinstance(pseudocount, (bool, np.bool_)) or not isinstance(pseudocount, numbers.Real):
        raise TypeError(f"pseudocount must be a real number > 0, got {type(pseudocount).__name__} {pseudocount!r}")
    if not (math.isfinite(float(pseudocount)) and float(pseudocount) > 0):
        raise ValueError(f"pseudocount must be finite and > 0 (the KL stays finite), got {float(pseudocount)!r}")
    target = as_dense(p)
    rows = np.asarray(samples)
    if rows.dtype.kind not in "iu":
        raise TypeError(f"samples must be integer token sequences, got dtype {rows.dtype}")
    if rows.ndim != 2 or rows.shape[0] == 0 or rows.shape[1] != target.ndim:
        raise ValueError(f"samples must be N x {target.ndim} with N >= 1, got shape {rows.shape}")
    if (rows < 0).any() or (rows >= np.asarray(target.shape)).any():
        raise ValueError(f"samples must hold symbols 0..q_i-1 for the alphabets {target.shape}")
    counts = np.zeros(target.shape)
    np.add.at(counts, tuple(rows.T), 1.0)
    # divided through by the pseudocount: the same ratio, finite however large the pseudocount
    nu = (counts / pseudocount + 1.0) / (rows.shape[0] / pseudocount + counts.size)
    support = target > 0
    return float(np.sum(target[support] * np.log(target[support] / nu[support])))


@dataclass(frozen=True)
class KLEstimate:
    """Monte Carlo estimate of the sampler's expected KL (nats): ``mean``, its standard error, and the per-sample
    values (same order as the draws, so two schedules run with one seed can be compared pairwise)."""

    mean: float
    stderr: float
    values: NDArray[np.float64] = field(repr=False)

    def __iter__(self) -> Iterator[float]:  # ``mean, se = expected_kl(...)``
        return iter((self.mean, self.stderr))


def expected_kl(law: Any, model: Model | None, schedule: Any, num_samples: int, *,
                region: ArrayLike | None = None, seed: int | None = None, batch_size: int = 1024) -> KLEstimate:
    """Unbiased Monte Carlo of ``E_S KL(mu || nu_q^S)`` (nats): the expected KL of the sampler that uses ``model``'s
    conditionals ``q`` against the target law ``mu``, over the sampler's random positions (SPEC §5.1).

    Draw ``x ~ mu`` and a random assignment of positions to steps; the sample is ``log mu(x_gen | x_prompt) +
    sum_t sum_{i revealed at t} -log q(x_i | revealed before t)`` (teacher forcing in the one rule loop). ``law``: the exact target law ``mu`` (``ExactPredictor``,
    ``MarkovPredictor`` or a dense tensor); ``model``: a masked model or predictor (``None``: the target's own
    conditionals, giving the theorem's ``err(Z, s)``). ``region`` (True = generated; default all) keeps the prompt
    revealed; ``schedule`` may be blockwise (later blocks masked while a block is generated). Per sample: ``k`` model
    calls per batch; mean, standard error and per-sample values are returned.
    """
    law = _as_target_law(law)
    scorer = as_masked_model(law if model is None else (ExactPredictor(model) if isinstance(model, np.ndarray)
                                                        else model))
    length = as_count(law.n, "law.n", 1)
    count = as_count(num_samples, "num_samples", 2)
    batch_size = as_count(batch_size, "batch_size", 1)
    require_memory(8 * count + 24 * min(batch_size, count) * length, "the per-sample log-ratios")
    positions = _region_positions(region, length)
    prompt = np.setdiff1d(np.arange(length), positions)
    blocks = _block_steps(schedule, positions.size)
    rule, lengths, teacher = RandomOrder(blocks), [int(b.sum()) for b in blocks], DrawScoreStates(scorer)
    rng = np.random.default_rng(as_seed(seed))
    values = np.empty(count)
    for lo in range(0, count, batch_size):
        batch = min(batch_size, count - lo)
        x = law.sample(batch, rng)
        run = run_rule(teacher, x, positions[None, :], lengths, rule, teacher=True, rng=rng)
        assert run.nll is not None
        values[lo:lo + batch] = law.log_prob(x) - law.log_marginal(x, prompt) + run.nll
    return KLEstimate(float(values.mean()), float(values.std(ddof=1) / math.sqrt(count)), values)


__all__ = ["KLEstimate", "empirical_kl", "expected_kl", "simulate"]
