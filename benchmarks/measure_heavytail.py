"""Issue 25.2 measurements: curve and fixed-schedule estimators on heavy tails (BENCHMARKS.md "Heavy-tail estimator").

Run: ``python benchmarks/measure_heavytail.py [fixed|optk|decompose] [model ...]`` (models: markov, rare, context,
holes; minutes on 2 cores). Every estimator here is a NumPy re-implementation of the per-row arithmetic (the models
are closed-form loss functions, so a forward is one vectorised call); the ratios are variance (or MSE against the exact
value) x row-forwards, against ``independent`` on the same budget.

Designs, per data row (``x``), one uniformly random order ``pi`` (ranks) unless said:

* ``independent``: every level ``m = 0..n-1`` with its own order; n forwards.
* ``nested``: one order for every level, increments paired on the positions masked at both; n forwards.
* ``nested2``: two orders, the all-masked forward (level 0) shared: 2n - 1 forwards.
* ``steps``: a fixed schedule's error only: per step ``(a, b)`` with ``b - a >= 2`` the forwards at ``a`` and at ONE
  uniformly random interior level ``m``, paired on the positions masked at ``m``, weight ``b - a - 1``; 2 forwards
  per such step. Unbiased: ``E[(b-a-1)(ghat_a - ghat_m)] = sum_{m=a+1}^{b-1} (g_a - g_m)``, and a uniform position
  outside the first m of a uniform order is uniform outside the first a.
* ``steps2``: the same with two interior levels per step (a random pair without replacement), weight ``(b-a-1)/2``.
"""

from __future__ import annotations

import sys
import time

import numpy as np
from heavytail_models import MODELS, Model

import mdmsched
from mdmsched.curves.hygiene import project_monotone

CASES = {"markov": (64, 8, 150), "rare": (100, 3, 300), "context": (64, 4, 300), "holes": (64, 4, 300)}


def ranks_of(rng: np.random.Generator, rows: int, n: int) -> np.ndarray:
    return np.argsort(rng.random((rows, n)), axis=1).argsort(axis=1)


def masked_mean(values: np.ndarray, mask: np.ndarray) -> np.ndarray:
    return np.where(mask, values, 0.0).sum(axis=1) / np.maximum(mask.sum(axis=1), 1)


def curve_rows(model: Model, x: np.ndarray, kind: str, rng: np.random.Generator) -> tuple[np.ndarray, int]:
    """Per-row level estimates (n x rows) and forwards per row."""
    n, rows = model.n, x.shape[0]
    if kind == "independent":
        out = np.empty((n, rows))
        for m in range(n):
            mask = ranks_of(rng, rows, n) >= m
            out[m] = masked_mean(model.losses(x, mask), mask)
        return out, n
    orders = 2 if kind == "nested2" else 1
    all_masked = model.losses(x, np.ones_like(x, dtype=bool))  # level 0: the same state for every order
    total = np.zeros((n, rows))
    for _ in range(orders):
        ranks = ranks_of(rng, rows, n)
        here, still = np.zeros((n, rows)), np.zeros((n, rows))
        for m in range(n):
            mask = ranks >= m
            loss = all_masked if m == 0 else model.losses(x, mask)
            here[m], still[m] = masked_mean(loss, mask), masked_mean(loss, ranks >= m + 1)
        inc = still[:-1] - here[1:]
        total += here[0][None, :] - np.concatenate((np.zeros((1, rows)), np.cumsum(inc, axis=0)))
    return total / orders, orders * (n - 1) + 1


def coefficients(sizes: np.ndarray, n: int) -> np.ndarray:
    c = -np.ones(n)
    np.add.at(c, np.concatenate(([0], np.cumsum(sizes)[:-1])), sizes.astype(float))
    return c


def steps_rows(model: Model, x: np.ndarray, sizes: np.ndarray, interior: int,
               rng: np.random.Generator) -> tuple[np.ndarray, int]:
    """Per-row estimates of err(s) from the left ends plus ``interior`` random interior levels per step."""
    n, rows = model.n, x.shape[0]
    ranks = ranks_of(rng, rows, n)
    ends = np.concatenate(([0], np.cumsum(sizes)))
    value, forwards = np.zeros(rows), 0
    for a, b in zip(ends[:-1].tolist(), ends[1:].tolist()):
        inner = b - a - 1
        if inner == 0:
            continue
        take = min(interior, inner)
        left = model.losses(x, ranks >= a)
        picks = np.argsort(rng.random((rows, inner)), axis=1)[:, :take] + a + 1  # levels without replacement
        for t in range(take):
            mask = ranks >= picks[:, t:t + 1]
            value += inner / take * masked_mean(left - model.losses(x, mask), mask)
        forwards += 1 + take
    return value, forwards


def fixed(name: str, sets: int) -> None:
    model = MODELS[name]()
    rows, k, _ = CASES[name]
    g = model.levels()
    exact_z = g[0] - g
    sizes = np.asarray(mdmsched.optimal_schedule(exact_z, k).sizes) if name != "rare" else np.array([3, 2, 1])
    truth = coefficients(sizes, model.n) @ g
    budget = rows * model.n
    rng = np.random.default_rng(1)
    x = model.sample(rows * sets * 2, rng)  # enough rows for the cheapest design
    out = {}
    for kind in ("independent", "nested", "nested2", "steps", "steps2"):
        r = np.random.default_rng(2)
        t0 = time.perf_counter()
        if kind in ("steps", "steps2"):
            per_row, f = steps_rows(model, x, sizes, 1 if kind == "steps" else 2, r)
        else:
            m = x[: min(x.shape[0], budget * sets // model.n)]
            levels, f = curve_rows(model, m, kind, r)
            per_row = coefficients(sizes, model.n) @ levels
        per_set = max(1, budget // f)
        used = per_row[: (per_row.size // per_set) * per_set].reshape(-1, per_set)[:sets].mean(axis=1)
        var_row = per_row.var(ddof=1)
        out[kind] = (var_row * f, used.var(ddof=1) * budget, per_row.mean(), used.shape[0], f)
        print(f"{model.name}, s = {sizes.tolist()}: {kind:11s} forwards/row {f:3d}  mean {per_row.mean():.5f} "
              f"(exact {truth:.5f}, z {(per_row.mean() - truth) / np.sqrt(var_row / per_row.size):+.2f})  "
              f"var x forwards: per row {var_row * f:.4g}, per data set {used.var(ddof=1) * budget:.4g} "
              f"({used.shape[0]} sets of {per_set} rows; {time.perf_counter() - t0:.1f} s)", flush=True)
    base = out["independent"]
    print("  ratio independent / design (per-row variance x forwards; per data set):",
          ", ".join(f"{k} {base[0] / v[0]:.2f}x; {base[1] / v[1]:.2f}x" for k, v in out.items() if k != "independent"))


def optk(name: str, sets: int) -> None:
    """MSE of the estimated opt_k (projected estimated curve, optimal k-step error) vs the exact opt_k."""
    model = MODELS[name]()
    rows, k, _ = CASES[name]
    g = model.levels()
    exact = mdmsched.optimal_schedule(g[0] - g, k).error
    rng = np.random.default_rng(3)
    x = model.sample(rows * sets, rng)
    out = {}
    for kind in ("independent", "nested", "nested2"):
        r = np.random.default_rng(4)
        levels, f = curve_rows(model, x, kind, r)
        per_set = max(2, rows * model.n // f)
        vals = []
        for s in range(x.shape[0] // per_set):
            mean = levels[:, s * per_set:(s + 1) * per_set].mean(axis=1)
            vals.append(mdmsched.optimal_schedule(project_monotone(mean[0] - mean), k).error)
        vals = np.array(vals)
        mse = float(np.mean((vals - exact) ** 2))
        out[kind] = mse
        print(f"{model.name}, opt_{k}: {kind:11s} {per_set} rows x {f} forwards, {vals.size} sets: mean {vals.mean():.5f}"
              f" (exact {exact:.5f}), bias {vals.mean() - exact:+.5f}, sd {vals.std(ddof=1):.5f}, MSE {mse:.4g}",
              flush=True)
    print("  MSE ratio independent / design (same forwards):",
          ", ".join(f"{k} {out['independent'] / v:.2f}x" for k, v in out.items() if k != "independent"))


def decompose(name: str, rows_used: int = 20000) -> None:
    """Per-row variance of a fixed schedule's error = data part Var_x E[e|x] + mask part E_x Var(e|x)."""
    model = MODELS[name]()
    rows, k, _ = CASES[name]
    g = model.levels()
    sizes = np.asarray(mdmsched.optimal_schedule(g[0] - g, k).sizes)
    c = coefficients(sizes, model.n)
    x = model.sample(rows_used, np.random.default_rng(5))
    data = model.row_levels(x) @ c  # E[e | x]: every unbiased design has it
    print(f"{model.name}, s = {sizes.tolist()}, {rows_used} rows: Var_x E[e|x] = {data.var(ddof=1):.4g} "
          f"(x n forwards = {data.var(ddof=1) * model.n:.4g})")
    for kind in ("independent", "nested", "steps"):
        r = np.random.default_rng(6)
        if kind == "steps":
            e, f = steps_rows(model, x, sizes, 1, r)
        else:
            levels, f = curve_rows(model, x, kind, r)
            e = c @ levels
        total = e.var(ddof=1)
        mask_part = np.mean((e - data) ** 2)  # E_x Var(e|x) (e - E[e|x] is uncorrelated with E[e|x])
        print(f"  {kind:11s} forwards/row {f:2d}: per-row var {total:.4g} = data {data.var(ddof=1):.4g} + mask "
              f"{mask_part:.4g}; var x forwards {total * f:.4g}; ceiling for {f} forwards/row, one order: "
              f"{data.var(ddof=1) * f:.4g}")


if __name__ == "__main__":
    what = sys.argv[1] if len(sys.argv) > 1 else "fixed"
    names = sys.argv[2:] or list(CASES)
    for nm in names:
        if what == "decompose":
            decompose(nm)
        else:
            {"fixed": fixed, "optk": optk}[what](nm, CASES[nm][2])
