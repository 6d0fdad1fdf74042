"""Measure the certified constructions of SPEC §5.3 on issue 20's case (2-state Markov, n = 40, eps = 0.5, N rows).

    python benchmarks/measure_certified.py [runs] [rows] [full|coarse]

Prints, per construction, how often the certified schedule's true error is <= eps (valid) and the median certified k
against the true fewest k. Not a test (minutes of work); its numbers are in BENCHMARKS.md.
"""

from __future__ import annotations

import sys
import warnings

import numpy as np

import mdmsched
from mdmsched.distributions import markov_curve
from mdmsched.models.bands import student_t_quantile
from mdmsched.models.two_curve import band_min_steps

P = np.array([[0.9, 0.1], [0.2, 0.8]])
N_POS, EPS = 40, 0.5


def level_box(est, confidence=0.95):
    """Box band on the levels (two-sided Bonferroni-t over the grid), monotone brackets, two-curve min_steps."""
    s = est.samples
    rows = s.shape[1]
    mean, se = s.mean(axis=1), s.std(axis=1, ddof=1) / np.sqrt(rows)
    c = student_t_quantile(1 - (1 - confidence) / (2 * s.shape[0]), rows - 1)
    hi, lo = np.minimum.accumulate(mean + c * se), np.maximum.accumulate((mean - c * se)[::-1])[::-1]
    m = np.arange(est.n)
    left = np.searchsorted(est.grid, m, side="right") - 1
    right = np.searchsorted(est.grid, m, side="left")
    return band_min_steps(hi[left], lo[right], EPS)


def main(runs: int, rows: int, grid_kind: str) -> None:
    model = mdmsched.MarkovPredictor(P, N_POS)
    exact = markov_curve(P, N_POS)
    true_k = mdmsched.min_steps(exact, EPS).k
    grid = np.arange(N_POS) if grid_kind == "full" else None
    results: dict[str, list[tuple[int, bool]]] = {}
    data_rng = np.random.default_rng(2026)
    for run in range(runs):
        data = model.sample(rows, data_rng)
        for estimator in ("nested", "independent"):
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                est = mdmsched.estimate_curve(model, data, grid=grid, seed=run, estimator=estimator)
            found = {
                "box band on levels (Bonferroni-t)": level_box(est),
                "increments band (bootstrap-t max)": mdmsched.models.two_curve.band_min_steps(
                    *est.certified_curves(0.95), EPS),
                "increments band (Bonferroni-t)": mdmsched.models.two_curve.band_min_steps(
                    *est.certified_curves(0.95, calibration="bonferroni"), EPS),
                "holdout 1/2 + fixed sequence": est.min_steps(EPS, confidence=0.95, holdout=0.5),
                "holdout 1/3 + fixed sequence": est.min_steps(EPS, confidence=0.95, holdout=1 / 3),
            }
            for name, sched in found.items():
                results.setdefault(f"{estimator:11s} {name}", []).append(
                    (sched.k, mdmsched.schedule_error(exact, sched) <= EPS + 1e-12))
    print(f"true fewest k = {true_k}; {runs} runs, N = {rows}, {grid_kind} grid")
    for name, rs in results.items():
        ks = np.array([k for k, _ in rs])
        valid = np.mean([v for _, v in rs])
        print(f"{name:55s} valid {valid:6.1%}  median k {np.median(ks):5.1f} ({np.median(ks) / true_k:.2f}x)  "
              f"range {ks.min()}-{ks.max()}")


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 20, int(sys.argv[2]) if len(sys.argv) > 2 else 1000,
         sys.argv[3] if len(sys.argv) > 3 else "full")
