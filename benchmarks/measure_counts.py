"""Measurements behind BENCHMARKS.md "Count proposals worth verifying (issue 25.4)": how often ``optimise_counts``
confirms a win over LLaDA's equal split, on laws whose every count schedule's exact expected NLL is known.

Run: ``python benchmarks/measure_counts.py [runs] [folds] [problems]`` (300 runs per problem by default; minutes on 2 cores).
Truths: ``tests/helpers/count_problems.py`` (the exact expected teacher-forced NLL of every ``TopK(counts)``, ``sum_x mu(x)
nll(x)`` over all ``q^n`` sequences), so every proposal's true gain is known.
"""

from __future__ import annotations

import pathlib
import sys
import time
import warnings

import numpy as np

from mdmsched.models import ExactPredictor
from mdmsched.samplers import TopK, compare_samplers, confidence_cost_tables, optimal_counts, optimise_counts
from mdmsched.samplers.families import equal_counts

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent.parent / "tests"))
from count_problems import problems, truths  # tests/ on the path above

warnings.simplefilter("ignore")


def before(model: ExactPredictor, rows: np.ndarray, steps: int, seed: int) -> tuple[tuple[int, ...], bool]:
    """The procedure before issue 25.4: plain DP on a random half, two-sided 95% paired check on the other half."""
    order = np.random.default_rng([seed, rows.shape[0]]).permutation(rows.shape[0])
    cut = rows.shape[0] // 2
    table = confidence_cost_tables(model, rows[np.sort(order[:cut])])[0]
    counts = optimal_counts(table, steps).tolist()
    cmp = compare_samplers(model, rows[np.sort(order[cut:])], TopK([counts]), TopK(equal_counts(steps, [rows.shape[1]])),
                           seed=seed)
    return tuple(counts), bool(cmp.upper < 0)


def main(runs: int, folds: int = 3, only: str = "") -> None:
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
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 300, int(sys.argv[2]) if len(sys.argv) > 2 else 3,
         sys.argv[3] if len(sys.argv) > 3 else "")
