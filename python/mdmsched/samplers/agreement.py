"""Does KL predict task accuracy? Kendall's tau between the samplers' KL and accuracy rankings at matched NFE, with a
bootstrap interval, and the plain area under accuracy vs tokens per forward (the map's two axes, SPEC §5.2 / §5.5).

Within one NFE budget a pair of samplers *agrees* when the one with the lower expected NLL (= lower KL; ``H(mu)`` is
shared) has the higher accuracy. Per budget: Kendall's tau-b of ``(-nll, accuracy)``; pooled: the mean of the budgets'
taus weighted by their number of pairs. The interval resamples prompts (the accuracy side, the same prompts for every
sampler) and data rows (the KL side, the same rows for every sampler) together, budgets fixed.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike, NDArray

from .._validation import as_confidence, as_count, as_real_array

#: Bootstrap resamples of :func:`rank_agreement`.
AGREEMENT_RESAMPLES = 999
#: Default budget width: samplers whose mean NFE lies within one factor of this of each other share a budget.
BUDGET_RATIO = 1.25


@dataclass(frozen=True)
class BudgetTau:
    """One budget: rows with mean NFE in ``[low, high)``, their ``count``, tau-b (NaN when undefined: fewer than two
    rows, or all tied on one side) and its weight (the number of pairs, 0 when tau is undefined)."""

    low: float
    high: float
    count: int
    tau: float
    weight: int


@dataclass(frozen=True)
class RankAgreement:
    """Pooled Kendall's tau between the KL and accuracy rankings at matched NFE: ``tau`` in [-1, 1] (1: the lower-KL
    sampler is always the more accurate), the bootstrap percentile interval ``[lower, upper]`` at ``confidence``, and
    ``per_budget``. ``str()`` says it in words."""

    tau: float
    lower: float
    upper: float
    confidence: float
    per_budget: tuple[BudgetTau, ...]

    def __str__(self) -> str:
        if math.isnan(self.tau):
            return "no NFE budget holds two samplers with distinct KL and accuracy: the rankings cannot be compared"
        verdict = ("agrees with" if self.lower > 0 else "disagrees with" if self.upper < 0
                   else "is not distinguishable from chance against")
        return (f"at equal forward passes, on this task the KL ranking {verdict} the accuracy ranking: "
                f"tau = {self.tau:.3f} [{self.lower:.3f}, {self.upper:.3f}] ({self.confidence:.0%} bootstrap over "
                f"prompts and rows; {sum(b.weight for b in self.per_budget)} pairs in "
                f"{sum(b.weight > 0 for b in self.per_budget)} budgets)")


def kendall_tau_b(x: ArrayLike, y: ArrayLike) -> float:
    """Kendall's tau-b of two equal-length samples (``(C - D) / sqrt((P - T_x)(P - T_y))``; NaN when either side is
    all tied or fewer than two values). O(m^2)."""
    a, b = np.asarray(x, dtype=np.float64), np.asarray(y, dtype=np.float64)
    if a.size < 2:
        return math.nan
    upper = np.triu_indices(a.size, 1)
    da = np.sign(a[:, None] - a[None, :])[upper]
    db = np.sign(b[:, None] - b[None, :])[upper]
    denom = math.sqrt(float(np.count_nonzero(da)) * float(np.count_nonzero(db)))
    return math.nan if denom == 0.0 else float((da * db).sum()) / denom


def nfe_budgets(nfe: ArrayLike, ratio: float = BUDGET_RATIO) -> NDArray[np.float64]:
    """Budget edges for mean NFEs: geometric, ``min * ratio^j``, covering every value (the last edge just above the
    maximum). O(rows)."""
    values = as_real_array(nfe, "nfe", ndim=1)
    if values.size == 0 or (values <= 0).any():
        raise ValueError("nfe must be non-empty and > 0")
    low = float(values.min())
    count = math.floor(math.log(float(values.max()) / low) / math.log(ratio)) + 2
    return np.asarray(low * ratio ** np.arange(count), dtype=np.float64)


def _pooled(nll: NDArray[np.float64], acc: NDArray[np.float64], groups: list[NDArray[np.int64]]
            ) -> tuple[float, list[tuple[float, int]]]:
    parts = []
    for g in groups:
        tau = kendall_tau_b(-nll[g], acc[g])
        parts.append((tau, 0 if math.isnan(tau) else g.size * (g.size - 1) // 2))
    total = sum(w for _, w in parts)
    pooled = math.nan if total == 0 else sum(t * w for t, w in parts if w) / total
    return pooled, parts


def rank_agreement(nfe: ArrayLike, nll_rows: ArrayLike, prompt_accuracy: ArrayLike, *,
                   budgets: Sequence[float] | ArrayLike | None = None, confidence: float = 0.95,
                   resamples: int = AGREEMENT_RESAMPLES, seed: int = 0) -> RankAgreement:
    """Kendall's tau between KL and accuracy rankings within NFE budgets, pooled, with a bootstrap interval.

    ``nfe`` (R,) each sampler's mean NFE (decides its budget); ``nll_rows`` (R x N) each sampler's per-data-row NLL sum
    (nats; the same rows for all samplers); ``prompt_accuracy`` (R x P) each sampler's per-prompt mean score.
    ``budgets``: increasing NFE edges (a row with ``edges[j] <= nfe < edges[j+1]`` is in budget ``j``; default
    :func:`nfe_budgets`). The interval: ``resamples`` joint resamples of prompts and data rows
    (``default_rng([seed, 0xA9EE])``), percentile. O(resamples R (N + P + R))."""
    level = as_confidence(confidence)
    count = as_count(resamples, "resamples")
    nfe_arr = as_real_array(nfe, "nfe", ndim=1)
    nll = as_real_array(nll_rows, "nll_rows", ndim=2)
    acc = as_real_array(prompt_accuracy, "prompt_accuracy", ndim=2)
    if nll.shape[0] != nfe_arr.size or acc.shape[0] != nfe_arr.size:
        raise ValueError(f"nll_rows and prompt_accuracy need one row per sampler ({nfe_arr.size}), got "
                         f"{nll.shape[0]} and {acc.shape[0]}")
    edges = nfe_budgets(nfe_arr) if budgets is None else as_real_array(budgets, "budgets", ndim=1)
    if edges.size < 2 or (np.diff(edges) <= 0).any():
        raise ValueError("budgets must be at least 2 increasing NFE edges")
    which = np.searchsorted(edges, nfe_arr, side="right") - 1
    bins = range(edges.size - 1)
    groups = [np.flatnonzero(which == j) for j in bins]
    tau, parts = _pooled(nll.mean(axis=1), acc.mean(axis=1), groups)
    per_budget = tuple(BudgetTau(float(edges[j]), float(edges[j + 1]), int(groups[j].size), t, w)
                       for j, (t, w) in zip(bins, parts))
    if math.isnan(tau):
        return RankAgreement(tau, math.nan, math.nan, level, per_budget)
    rng = np.random.default_rng([seed, 0xA9EE])
    taus = np.empty(count)
    for k in range(count):
        rows = rng.integers(0, nll.shape[1], nll.shape[1])
        prompts = rng.integers(0, acc.shape[1], acc.shape[1])
        taus[k] = _pooled(nll[:, rows].mean(axis=1), acc[:, prompts].mean(axis=1), groups)[0]
    taus = taus[~np.isnan(taus)]
    low, high = np.quantile(taus, [(1 - level) / 2, (1 + level) / 2]) if taus.size else (math.nan, math.nan)
    return RankAgreement(tau, float(low), float(high), level, per_budget)


def accuracy_tpf_area(tokens_per_forward: ArrayLike, accuracy: ArrayLike) -> float:
    """Trapezoid area under accuracy against tokens per forward (points sorted by TPF; 0 for one point). A plain
    area, not d3LLM's AUP score (whose exact definition is not reproduced here). O(m log m)."""
    tpf = as_real_array(tokens_per_forward, "tokens_per_forward", ndim=1)
    acc = as_real_array(accuracy, "accuracy", ndim=1)
    if tpf.size != acc.size or tpf.size == 0:
        raise ValueError(f"tokens_per_forward and accuracy must be non-empty and of one length, got {tpf.size} and "
                         f"{acc.size}")
    order = np.argsort(tpf, kind="stable")
    x, y = tpf[order], acc[order]
    return float(((x[1:] - x[:-1]) * (y[1:] + y[:-1]) / 2).sum())


__all__ = ["AGREEMENT_RESAMPLES", "BUDGET_RATIO", "BudgetTau", "RankAgreement", "accuracy_tpf_area", "kendall_tau_b",
           "nfe_budgets", "rank_agreement"]
