"""Task accuracy of a sampler and rank agreement with KL: a local stand-in for ``mdmsched.samplers.evaluate_task`` /
``compare_tasks`` (issue 24, being built on main), plus Kendall's tau with an item-bootstrap interval.

:func:`evaluate_task` generates with :func:`mdmsched.samplers.sample_with_rule` (the rule picks the positions, the
model fills them) and scores each completed row with ``score(prompt_row, output_row, reference) -> [0, 1]``. The
driver uses the package's ``evaluate_task`` when it exists and this one otherwise.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from statistics import NormalDist
from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray

from mdmsched.samplers import Rule, mean_interval, sample_with_rule

__all__ = ["TaskComparison", "TaskEstimate", "compare_tasks", "evaluate_task", "kendall_tau", "kendall_tau_interval",
           "pooled_tau", "rescore", "wilson"]

Score = Callable[[NDArray[np.int64], NDArray[np.int64], NDArray[np.int64]], float]


def wilson(successes: float, trials: int, confidence: float = 0.95) -> tuple[float, float]:
    """Wilson score interval for a binomial proportion ``successes / trials``."""
    z = NormalDist().inv_cdf(0.5 + confidence / 2)
    p = successes / trials
    centre = (p + z * z / (2 * trials)) / (1 + z * z / trials)
    half = z / (1 + z * z / trials) * math.sqrt(p * (1 - p) / trials + z * z / (4 * trials * trials))
    return max(0.0, centre - half), min(1.0, centre + half)


@dataclass(frozen=True)
class TaskEstimate:
    """Mean score over prompts (``accuracy``) with a two-sided interval ``[lower, upper]`` (Wilson when every value
    is 0 or 1, else the normal interval over prompts), mean NFE, ``values`` (per prompt, mean over its samples),
    ``nfe_rows`` (per generated row), ``outputs`` (the completed rows)."""

    accuracy: float
    lower: float
    upper: float
    nfe: float
    tokens_per_forward: float
    values: NDArray[np.float64] = field(repr=False)
    nfe_rows: NDArray[np.int64] = field(repr=False)
    outputs: NDArray[np.int64] = field(repr=False)


def evaluate_task(model: Any, prompts: ArrayLike, rule: Rule, score: Score, *, references: ArrayLike | None = None,
                  region: ArrayLike | None = None, block_length: int | None = None, samples_per_prompt: int = 1,
                  seed: int = 0, confidence: float = 0.95, batch_size: int = 256) -> TaskEstimate:
    """Generate ``samples_per_prompt`` completions of every prompt row (``region``: the generated positions, shared by
    all rows) with ``rule`` and score each against its reference. Cost: about NFE model calls per batch."""
    rows = np.asarray(prompts, dtype=np.int64)
    refs = rows if references is None else np.asarray(references, dtype=np.int64)
    count = rows.shape[0]
    run = sample_with_rule(model, rule, count * samples_per_prompt, prompts=rows, region=region,
                           block_length=block_length, seed=seed, batch_size=batch_size)
    # sample_with_rule reuses prompts cyclically: generated row j belongs to prompt j % count.
    scores = np.array([score(rows[j % count], run.tokens[j], refs[j % count]) for j in range(run.tokens.shape[0])])
    values = scores.reshape(samples_per_prompt, count).mean(axis=0)
    mean, lower, upper = _summary(values, confidence)
    nfe = float(run.nfe.mean())
    generated = int(np.asarray(region).sum()) if region is not None else rows.shape[1]
    return TaskEstimate(mean, lower, upper, nfe, generated / nfe, values, run.nfe, run.tokens)


def _summary(values: NDArray[np.float64], confidence: float) -> tuple[float, float, float]:
    """Mean over prompts and its interval: Wilson when every value is 0 or 1, else normal."""
    count = values.size
    mean = float(values.mean())
    if np.isin(values, (0.0, 1.0)).all():
        lower, upper = wilson(float(values.sum()), count, confidence)
    else:
        z = NormalDist().inv_cdf(0.5 + confidence / 2)
        se = float(values.std(ddof=1) / math.sqrt(count))
        lower, upper = mean - z * se, mean + z * se
    return mean, lower, upper


def rescore(estimate: TaskEstimate, prompts: ArrayLike, references: ArrayLike, score: Score, *,
            confidence: float = 0.95) -> TaskEstimate:
    """The same completed rows scored with another ``score`` (no generation)."""
    rows, refs = np.asarray(prompts, dtype=np.int64), np.asarray(references, dtype=np.int64)
    count = rows.shape[0]
    scores = np.array([score(rows[j % count], estimate.outputs[j], refs[j % count])
                       for j in range(estimate.outputs.shape[0])])
    values = scores.reshape(-1, count).mean(axis=0)
    mean, lower, upper = _summary(values, confidence)
    return TaskEstimate(mean, lower, upper, estimate.nfe, estimate.tokens_per_forward, values, estimate.nfe_rows,
                        estimate.outputs)


@dataclass(frozen=True)
class TaskComparison:
    """Paired ``first - second`` accuracy over the same prompts: value, stderr, interval (row bootstrap-t)."""

    value: float
    stderr: float
    lower: float
    upper: float
    first: TaskEstimate = field(repr=False)
    second: TaskEstimate = field(repr=False)


def compare_tasks(model: Any, prompts: ArrayLike, first: Rule, second: Rule, score: Score, *,
                  confidence: float = 0.95, **same: Any) -> TaskComparison:
    """Paired accuracy difference of two rules on the same prompts and seed."""
    a = evaluate_task(model, prompts, first, score, confidence=confidence, **same)
    b = evaluate_task(model, prompts, second, score, confidence=confidence, **same)
    diff = a.values - b.values
    if not diff.any():
        return TaskComparison(0.0, 0.0, 0.0, 0.0, a, b)
    iv = mean_interval(diff, confidence=confidence, method="bootstrap-t", seed=same.get("seed", 0))
    return TaskComparison(iv.value, iv.stderr, iv.lower, iv.upper, a, b)


def kendall_tau(x: ArrayLike, y: ArrayLike) -> float:
    """Kendall's tau-b of two equal-length sequences (ties in either count in neither concordant nor discordant
    pairs, and shrink the normaliser); NaN when either is constant. O(m^2) for m points."""
    a, b = np.asarray(x, dtype=np.float64), np.asarray(y, dtype=np.float64)
    i, j = np.triu_indices(a.size, k=1)
    sa, sb = np.sign(a[i] - a[j]), np.sign(b[i] - b[j])
    denominator = math.sqrt(float((sa != 0).sum()) * float((sb != 0).sum()))
    return float((sa * sb).sum() / denominator) if denominator > 0 else math.nan


def pooled_tau(groups: Sequence[tuple[NDArray[np.float64], NDArray[np.float64]]]) -> float:
    """Kendall's tau-b over pairs *within* each group only (pairs across groups are not compared): concordant minus
    discordant pairs summed over groups, over the pooled tau-b normaliser. One group: :func:`kendall_tau`."""
    num, pairs_a, pairs_b = 0.0, 0.0, 0.0
    for x, y in groups:
        i, j = np.triu_indices(len(x), k=1)
        sa, sb = np.sign(x[i] - x[j]), np.sign(y[i] - y[j])
        num += float((sa * sb).sum())
        pairs_a += float((sa != 0).sum())
        pairs_b += float((sb != 0).sum())
    denominator = math.sqrt(pairs_a * pairs_b)
    return num / denominator if denominator > 0 else math.nan


def kendall_tau_interval(kl_rows: Sequence[NDArray[np.float64]], accuracy_rows: Sequence[NDArray[np.float64]],
                         groups: Sequence[int], *, resamples: int = 999, confidence: float = 0.95,
                         seed: int = 0) -> tuple[float, float, float]:
    """``(tau, lower, upper)``: tau-b between ``-KL`` and accuracy, pairs compared only within a group (one group =
    one NFE budget: "at matched NFE"), and its percentile interval over item resamples (every rule's per-item KL
    and accuracy resampled with the same items, so the pairing is kept). ``kl_rows[r]`` / ``accuracy_rows[r]``:
    per-item values of rule ``r`` on the same items; ``groups[r]``: its budget."""
    kl, acc = np.asarray(kl_rows, dtype=np.float64), np.asarray(accuracy_rows, dtype=np.float64)
    labels = np.asarray(groups)

    def tau(items: NDArray[np.int64]) -> float:
        means_kl, means_acc = -kl[:, items].mean(axis=1), acc[:, items].mean(axis=1)
        return pooled_tau([(means_kl[labels == g], means_acc[labels == g]) for g in np.unique(labels)])

    count = kl.shape[1]
    point = tau(np.arange(count))
    rng = np.random.default_rng(seed)
    draws = np.array([tau(rng.integers(0, count, count)) for _ in range(resamples)])
    draws = draws[np.isfinite(draws)]
    if draws.size == 0:
        return point, math.nan, math.nan
    low, high = np.quantile(draws, [(1 - confidence) / 2, (1 + confidence) / 2])
    return point, float(low), float(high)
