"""Measurements behind BENCHMARKS.md "Tight honest bounds (issue 25.3)": the simultaneous band's coverage after the
package's own selection and its widths, Bonferroni-t vs the row bootstrap-t of the max-statistic, and the held-out
alternatives, at N = 30, 100, 1000 rows.

Run: ``python benchmarks/measure_band.py`` (minutes on 2 cores). Truth: ``markov_curve`` of the 2-state chain
``[[0.9, 0.1], [0.2, 0.8]]``, n = 20 (exact); eps = 0.5 nats (true fewest k = 6), certified 6-step schedule.
"""

from __future__ import annotations

import sys
import warnings

import numpy as np

import mdmsched
from mdmsched.distributions import markov_curve
from mdmsched.models.two_curve import band_min_steps, band_schedule

P = np.array([[0.9, 0.1], [0.2, 0.8]])
warnings.simplefilter("ignore")


def main(sizes: list[tuple[int, int]]) -> None:
    n, eps, k, level = 20, 0.5, 6, 0.95
    exact = markov_curve(P, n)
    true_k = mdmsched.min_steps(exact, eps).k
    model = mdmsched.MarkovPredictor(P, n)
    for rows, runs in sizes:
        big = mdmsched.estimate_curve(model, model.sample(rows * runs, np.random.default_rng(rows)), seed=rows)
        out: dict[str, list[tuple[float, bool, int, bool]]] = {"bonferroni": [], "bootstrap": [], "holdout": []}
        for r in range(runs):
            est = big.subset(np.arange(r * rows, (r + 1) * rows))
            for cal in ("bonferroni", "bootstrap"):
                high, low = est.certified_curves(level, calibration=cal)
                chosen = band_schedule(high, low, k)
                err = mdmsched.schedule_error(exact, chosen)
                fewest = band_min_steps(high, low, eps)
                out[cal].append((float(chosen.bound) - err, err <= float(chosen.bound) + 1e-12, fewest.k,
                                 mdmsched.schedule_error(exact, fewest) <= eps + 1e-12))
            if rows >= 40:
                held = est.certified_schedule(k, confidence=level, holdout=0.5)
                err = mdmsched.schedule_error(exact, held)
                fewest = est.min_steps(eps, confidence=level)
                out["holdout"].append((float(held.bound) - err, err <= float(held.bound) + 1e-12, fewest.k,
                                       mdmsched.schedule_error(exact, fewest) <= eps + 1e-12))
        for name, rows_out in out.items():
            if not rows_out:
                continue
            o = np.array(rows_out, dtype=float)
            print(f"N={rows} ({runs} runs) {name}: certified k={k} bound - true error median {np.median(o[:, 0]):.3f} "
                  f"nats, covered {int(o[:, 1].sum())}/{runs}; min_steps(eps={eps}) median k {np.median(o[:, 2]):.0f} "
                  f"(true {true_k}), valid {int(o[:, 3].sum())}/{runs}", flush=True)


if __name__ == "__main__":
    main([(30, 200), (100, 200), (1000, 40)] if len(sys.argv) < 2 else [(int(sys.argv[1]), int(sys.argv[2]))])
