"""Measurements behind BENCHMARKS.md "Bounds after selection, estimator strategies (issues 25, 27.3, 28)".

Run: ``python benchmarks/measure_bounds.py [coverage|steps|variance]`` (all three by default; minutes on 2 cores).
Truths are exact: ``markov_curve`` (2-state chain ``[[0.9, 0.1], [0.2, 0.8]]``) and a rare-symbol model's closed form.
"""

from __future__ import annotations

import sys
import warnings

import numpy as np

import mdmsched
from mdmsched.distributions import markov_curve

P = np.array([[0.9, 0.1], [0.2, 0.8]])
warnings.simplefilter("ignore")


def split(big: mdmsched.CurveEstimate, rows: int) -> list[mdmsched.CurveEstimate]:
    return [big.subset(np.arange(r * rows, (r + 1) * rows)) for r in range(big.rows // rows)]


def markov(n: int, rows: int, runs: int, seed: int) -> list[mdmsched.CurveEstimate]:
    model = mdmsched.MarkovPredictor(P, n)
    return split(mdmsched.estimate_curve(model, model.sample(rows * runs, np.random.default_rng(seed)), seed=seed), rows)


def coverage() -> None:
    """Miss rates of bounds chosen on the data (300 data sets each)."""
    exact = markov_curve(P, 20)
    ests = markov(20, 60, 300, 1)
    for level in (0.9, 0.95):
        miss = sum(mdmsched.schedule_error(exact, s) > s.bound + 1e-12
                   for s in (mdmsched.min_steps(e, 0.5, confidence=level) for e in ests))
        print(f"min_steps default, n=20, 60 rows, eps=0.5, {level:.0%}: bound missed {miss}/300")
    exact = markov_curve(P, 30)
    ests = markov(30, 80, 300, 2)
    for k in (6, 12):
        for level in (0.9, 0.95):
            miss = sum(mdmsched.schedule_error(exact, s) > s.bound + 1e-12
                       for s in (e.certified_schedule(k, confidence=level, holdout=0.5) for e in ests))
            print(f"certified_schedule(k={k}, holdout=0.5), n=30, 80 rows, {level:.0%}: missed {miss}/300")


def steps() -> None:
    """Certified k vs the true fewest (n = 20, eps = 0.5, 95%)."""
    n, eps = 20, 0.5
    exact = markov_curve(P, n)
    true_k = mdmsched.min_steps(exact, eps).k
    for rows, runs in ((30, 100), (100, 100), (1000, 30)):
        out = []
        for e in markov(n, rows, runs, rows):
            d, b = e.min_steps(eps), e.min_steps(eps, holdout=None)
            h = e.min_steps(eps, holdout=0.5) if rows >= 40 else b
            out.append((d.k, b.k, h.k, mdmsched.schedule_error(exact, d) <= eps + 1e-12))
        o = np.array(out, dtype=float)
        print(f"N={rows}: true k {true_k}; median k default {np.median(o[:, 0]):.0f}, band {np.median(o[:, 1]):.0f}, "
              f"holdout only {np.median(o[:, 2]):.0f}; default valid {int(o[:, 3].sum())}/{runs}; default above band "
              f"{int((o[:, 0] > o[:, 1]).sum())}/{runs}")


class RareSymbol:
    """i.i.d. tokens, a rare symbol (3%) at model probability 1e-6 with no context rising to 3% (13.8-nat losses)."""

    mu = np.array([0.6, 0.37, 0.03])

    def __init__(self, n: int) -> None:
        t = np.arange(n) / (n - 1)
        rare = np.exp((1 - t) * np.log(1e-6) + t * np.log(0.03))
        self.n, self.q = n, np.stack(((1 - rare) * 0.6 / 0.97, (1 - rare) * 0.37 / 0.97, rare), axis=1)

    def curve(self) -> np.ndarray:
        g = -(np.log(self.q) * self.mu).sum(axis=1)
        return g[0] - g

    def sample(self, rows: int, rng: np.random.Generator) -> np.ndarray:
        return rng.choice(3, size=(rows, self.n), p=self.mu)

    def score(self, tokens, mask, target="cross_entropy"):  # type: ignore[no-untyped-def]
        return -np.log(self.q[(~mask).sum(axis=1)[:, None], tokens])


def variance() -> None:
    """Variance x row-forwards of a fixed schedule's error, independent / nested (same data, same budget)."""
    cases = []
    model = mdmsched.MarkovPredictor(P, 64)
    cases.append(("Markov n=64, 64 rows, k=8", model, model.sample(64 * 100, np.random.default_rng(3)), 64,
                  mdmsched.optimal_schedule(markov_curve(P, 64), 8).sizes))
    rare = RareSymbol(6)
    data = np.random.default_rng(4).choice(3, size=(100 * 300, 6), p=rare.mu)
    cases.append(("rare symbol n=6, 100 rows, [3,2,1]", rare, data, 100, np.array([3, 2, 1])))
    for name, m, d, rows, sizes in cases:
        vf = {}
        for est in ("independent", "nested"):
            values = [e.schedule_error(sizes, simultaneous=False).value
                      for e in split(mdmsched.estimate_curve(m, d, seed=5, estimator=est), rows)]
            vf[est] = np.var(values, ddof=1)
        print(f"{name}: variance x forwards independent / nested = {vf['independent'] / vf['nested']:.2f}x "
              f"({d.shape[0] // rows} data sets)")


if __name__ == "__main__":
    for part in sys.argv[1:] or ["coverage", "steps", "variance"]:
        {"coverage": coverage, "steps": steps, "variance": variance}[part]()
