"""Issue 25.2 measurement (a prototype, not shipped): a control variate with a known mean for the curve estimators on
a learned-like model with 1e-5 holes on ~8% of tokens.

Per row and position i, ``w_i`` = the model's loss at the all-masked state (grid point 0, already computed); for a
masked set S (uniform given the row), ``E[mean_S w - mean_all w | x] = 0``, so ``mean_S loss - (mean_S w - mean_all
w)`` is unbiased. The nested estimator pairs each increment on one set, so this correction cancels there exactly.

Run: ``python benchmarks/measure_control_variate.py [data sets] [context]`` (seconds). Model: exact conditionals of
the 2-state chain ``[[0.9, 0.1], [0.2, 0.8]]``, n = 16, except token 1 at 24% of positions gets probability 1e-5 (always,
or with ``context`` only while its left neighbour is masked); 64 rows per data set; the fixed schedule is the exact
chain's optimal 4-step one; the ratio is of variances at equal row-forwards.
"""
import sys

import numpy as np

import mdmsched
from mdmsched.distributions import markov_curve

P = np.array([[0.9, 0.1], [0.2, 0.8]])
n = 16
CONTEXT = len(sys.argv) > 2 and sys.argv[2] == "context"
rng0 = np.random.default_rng(0)
hole_pos = rng0.random(n) < 0.24  # holes: token 1 at these positions gets probability 1e-5 (~8% of tokens)
base = mdmsched.MarkovPredictor(P, n)

def losses(tokens, mask):
    probs = base(tokens, mask)  # (rows, n, q) predictive probabilities
    p = np.take_along_axis(probs, tokens[..., None], axis=2)[..., 0]
    hole = hole_pos[None, :] & (tokens == 1)
    if CONTEXT:  # a hole only while the left neighbour is masked: the loss depends on the state
        hole &= np.concatenate((np.ones((tokens.shape[0], 1), bool), mask[:, :-1]), axis=1)
    p = np.where(hole, 1e-5, p)
    return np.where(mask, -np.log(p), 0.0)

sizes = mdmsched.optimal_schedule(markov_curve(P, n), 4).sizes
coef = np.zeros(n)
ends = np.concatenate(([0], np.cumsum(sizes)))
for a, b in zip(ends[:-1], ends[1:]):
    coef[a] += b - a
coef -= 1.0  # err = sum_m coef_m g_m

def estimate(x, kind, rng):
    rows = x.shape[0]
    if kind == "independent":
        g = np.zeros((n, rows))
        for m in range(n):
            ranks = np.argsort(rng.random((rows, n)), axis=1).argsort(axis=1)
            mask = ranks >= m
            l = losses(x, mask)
            g[m] = l.sum(1) / mask.sum(1)
        return coef @ g
    ranks = np.argsort(rng.random((rows, n)), axis=1).argsort(axis=1)
    w = losses(x, np.ones_like(x, dtype=bool))
    here, still = np.zeros((n, rows)), np.zeros((n, rows))
    for m in range(n):
        mask = ranks >= m
        l = losses(x, mask)
        nxt = ranks >= m + 1
        if kind == "cv":
            c = w - w.mean(axis=1, keepdims=True)
            l = l - np.where(mask, c, 0.0)
        here[m] = np.where(mask, l, 0).sum(1) / mask.sum(1)
        still[m] = np.where(nxt, l, 0).sum(1) / np.maximum(nxt.sum(1), 1)
    inc = still[:-1] - here[1:]
    g = here[0][None, :] - np.concatenate((np.zeros((1, rows)), np.cumsum(inc, axis=0)))
    return coef @ g

rows, sets = 64, int(sys.argv[1]) if len(sys.argv) > 1 else 200
data = base.sample(rows * sets, np.random.default_rng(1))
out = {}
for kind in ("independent", "nested", "cv"):
    rng = np.random.default_rng(2)
    vals = [estimate(data[s * rows:(s + 1) * rows], kind, rng).mean() for s in range(sets)]
    out[kind] = (np.mean(vals), np.var(vals, ddof=1))
    print(kind, "mean {:.4f} var {:.3g}".format(*out[kind]), flush=True)
print("variance ratio independent/nested {:.2f}, independent/cv {:.2f}, nested/cv {:.2f}".format(
    out["independent"][1] / out["nested"][1], out["independent"][1] / out["cv"][1], out["nested"][1] / out["cv"][1]))
