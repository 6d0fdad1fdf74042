"""Measurements behind BENCHMARKS.md "Count proposals worth verifying (issue 25.4)": how often ``optimise_counts``
confirms a win over LLaDA's equal split, on laws whose every count schedule's exact expected NLL is known.

Run: ``python benchmarks/measure_counts.py [runs] [folds] [problems]`` (300 runs per problem by default; minutes on 2 cores).
Truths: the exact expected teacher-forced NLL of ``TopK(counts)`` with the exact model, ``sum_x mu(x) nll(x)`` over
all ``q^n`` sequences (:func:`truths`), so every proposal's true gain is known.
"""

from __future__ import annotations

import itertools
import sys
import time
import warnings

import numpy as np

from mdmsched.models import ExactPredictor
from mdmsched.samplers import TopK, compare_samplers, confidence_cost_tables, evaluate_sampler, optimal_counts, \
    optimise_counts
from mdmsched.samplers.families import equal_counts

warnings.simplefilter("ignore")


def mixed_law(seed: int = 6, concentration: float = 0.3, alpha: float = 0.3) -> np.ndarray:
    """``(1 - alpha) mu + alpha prod_i mu_i`` for ``mu ~ Dirichlet(concentration)`` on ``3^6``: shrinking toward the
    product of its marginals shrinks every schedule's gain (0 at ``alpha = 1``). Default: true gain 0.136 nats."""
    p = np.random.default_rng(seed).dirichlet(np.full(3 ** 6, concentration)).reshape((3,) * 6)
    product = np.ones(())
    for i in range(6):
        product = np.multiply.outer(product, p.sum(axis=tuple(j for j in range(6) if j != i)))
    return (1 - alpha) * p + alpha * product


def problems() -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """name -> (data law, model law). ``gain`` / ``hard``: the best split beats (2, 2, 2) by 0.136 / 0.132 nats
    (paired sd 0.64 / 1.03 per row); ``null``: a 2^6 law with a mismatched model where (2, 2, 2) is truly best
    (runner-up +0.005 nats, paired sd 0.55)."""
    hard = np.random.default_rng(10).dirichlet(np.full(3 ** 6, 0.1)).reshape((3,) * 6)
    rng = np.random.default_rng(1021)
    p = rng.dirichlet(np.full(64, 0.5)).reshape((2,) * 6)
    other = rng.dirichlet(np.full(64, 0.5)).reshape((2,) * 6)
    lam = rng.uniform(0.2, 0.8)
    law = mixed_law()
    return {"gain": (law, law), "hard": (hard, hard), "null": (p, lam * p + (1 - lam) * other)}


def truths(p: np.ndarray, model_law: np.ndarray, steps: int) -> dict[tuple[int, ...], float]:
    """Exact expected NLL (nats) of every ``TopK`` count schedule with ``steps`` passes (one block)."""
    n, q = p.ndim, p.shape[0]
    model = ExactPredictor(model_law)
    every = np.array(list(itertools.product(range(q), repeat=n)))
    out = {}
    for cuts in itertools.combinations(range(1, n), steps - 1):
        counts = tuple(int(x) for x in np.diff((0, *cuts, n)))
        out[counts] = float(p.reshape(-1) @ evaluate_sampler(model, every, TopK([list(counts)])).nll_rows)
    return out


def before(model: ExactPredictor, rows: np.ndarray, steps: int, seed: int) -> tuple[tuple[int, ...], bool]:
    """The procedure before issue 25.4: plain DP on a random half, two-sided 95% paired check on the other half."""
    order = np.random.default_rng([seed, rows.shape[0]]).permutation(rows.shape[0])
    cut = rows.shape[0] // 2
    table = confidence_cost_tables(model, rows[np.sort(order[:cut])])[0]
    counts = optimal_counts(table, steps).tolist()
    cmp = compare_samplers(model, rows[np.sort(order[cut:])], TopK([counts]), TopK(equal_counts(steps, [rows.shape[1]])),
                           seed=seed)
    return tuple(counts), bool(cmp.upper < 0)


def main(runs: int, folds: int = 2, only: str = "") -> None:
    steps, size = 3, 200
    for name, (p, model_law) in problems().items():
        if only and name not in only.split(","):
            continue
        t0 = time.perf_counter()
        truth = truths(p, model_law, steps)
        equal = truth[(2, 2, 2)]
        worst = max(truth, key=truth.get)
        model, sampler = ExactPredictor(model_law), ExactPredictor(p)
        data_rng = np.random.default_rng(7)
        old_wins = new_wins = old_worst = new_worst = 0
        new_gain = old_gain = 0.0
        for seed in range(runs):
            rows = sampler.sample(size, data_rng)
            counts, wins = before(model, rows, steps, seed)
            old_wins += wins
            old_worst += counts == worst
            old_gain += equal - truth[counts]
            out = optimise_counts(model, rows, steps, seed=seed, folds=folds)
            new_wins += out.beats
            new_worst += out.counts[0] == worst
            new_gain += equal - truth[out.counts[0]]
        print(f"{name} (folds={folds}): best gain {equal - min(truth.values()):.3f} nats, N={size}, {runs} runs: wins before "
              f"{old_wins}/{runs}, after {new_wins}/{runs}; proposed the worst split before {old_worst}, after "
              f"{new_worst}; mean true gain of the proposal before {old_gain / runs:+.3f}, after {new_gain / runs:+.3f}"
              f" ({time.perf_counter() - t0:.0f} s)", flush=True)


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 300, int(sys.argv[2]) if len(sys.argv) > 2 else 2,
         sys.argv[3] if len(sys.argv) > 3 else "")
