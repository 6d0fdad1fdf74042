"""Issue 25.2 measurements: curve and fixed-schedule estimators on heavy tails (BENCHMARKS.md "Heavy-tail estimator").

Run: ``python benchmarks/measure_heavytail.py [fixed|optk|decompose|package] [model ...]`` (models: markov, rare, context,
holes, parity; minutes on 2 cores). Every estimator here is a NumPy re-implementation of the per-row arithmetic (the models
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
* ``direct``: every interior level, each paired directly with its step's left end on one order (n forwards);
  ``branch``: the same with a fresh start set per step and a fresh extension of it per interior level.
* ``antithetic``: nested on an order and on its reverse, level 0 shared (2n - 1 forwards).
* ``cvP``: nested plus the neighbour control variate with period ``P`` (n + P forwards; ``cv4`` is what
  ``estimator="neighbour_cv"`` ships with ``cv4s``'s coefficient); ``cvPb``: a coefficient per level fitted on the
  other half of the data set's rows (cross-fitted, unbiased); ``cvPs``: one coefficient pooled over the levels,
  cross-fitted and clipped to ``[0, 1]`` (what ships). ``KINDS=independent,nested,cv4s`` picks ``fixed``'s designs.

* ``subgridS`` (``optk`` only, ``OPTK_KINDS=...``): level 0 plus a random-offset stride-``S`` sub-grid of one order
  per row, each sampled level weighted ``S`` (Horvitz-Thompson): ~n/S + 1 forwards.

``package`` runs the shipped estimators through ``mdmsched.estimate_curve`` (full grid) at equal forwards per data set.
``decompose`` splits a fixed schedule's per-row variance into the data part ``Var_x E[e|x]`` (exact ``E[e|x]``
per row; the floor of every one-order-per-row design) and the mask part ``E_x Var(e|x)``.
"""

from __future__ import annotations

import os
import sys
import time

import numpy as np
from heavytail_models import MODELS, Model, P

import mdmsched
from mdmsched.curves.hygiene import project_monotone
from mdmsched.distributions import markov_curve

#: The designs ``fixed`` compares (``KINDS=independent,nested,cv4s`` in the environment picks others).
KINDS = os.environ["KINDS"].split(",") if "KINDS" in os.environ else [
    "independent", "nested", "nested2", "antithetic", "steps", "steps2", "cv2", "cv3", "cv4"]
CASES = {"markov": (64, 8, 150), "rare": (100, 3, 1000), "context": (64, 4, 1000), "holes": (64, 4, 1000),
         "parity": (64, 4, 300)}


def ranks_of(rng: np.random.Generator, rows: int, n: int) -> np.ndarray:
    return np.argsort(rng.random((rows, n)), axis=1).argsort(axis=1)


def masked_mean(values: np.ndarray, mask: np.ndarray) -> np.ndarray:
    return np.where(mask, values, 0.0).sum(axis=1) / np.maximum(mask.sum(axis=1), 1)


def neighbour_correction(model: Model, x: np.ndarray, ranks: np.ndarray, period: int) -> np.ndarray:
    """The control variate of ``nested_cv`` (n x rows), to subtract from the nested levels: for each ordered pair of
    neighbours ``(j, i)``, ``D_ji (psi - E psi)`` with ``D_ji`` = loss of ``i`` all masked minus loss of ``i`` in the
    fixed state revealing every position ``= j mod period`` (order-free: ``period`` extra forwards per row), and
    ``psi_m`` = the share of ``i``'s drop the nested levels see when ``j`` is revealed while ``i`` is masked
    (``-1/(n - rank_j - 1)`` from level ``rank_j + 1`` on), whose mean under a uniform order is ``-m / (n (n - 1))``."""
    n, rows = model.n, x.shape[0]
    base = model.losses(x, np.ones_like(x, dtype=bool))
    states = [model.losses(x, np.broadcast_to(np.arange(n) % period != c, x.shape)) for c in range(period)]
    levels = np.arange(n)[:, None]
    out = np.zeros((n, rows))
    expected = -levels / (n * (n - 1))
    for i in range(n):
        for j in (i - 1, i + 1):
            if not 0 <= j < n:
                continue
            drop = base[:, i] - states[j % period][:, i]
            seen = ranks[:, j] < ranks[:, i]  # j revealed (at level rank_j + 1) while i is still masked
            psi = np.where(seen[None, :] & (levels > ranks[:, j][None, :]), -1.0 / np.maximum(n - ranks[:, j] - 1, 1)[None, :], 0.0)
            out += drop[None, :] * (psi - expected)
    return out


def curve_rows(model: Model, x: np.ndarray, kind: str, rng: np.random.Generator) -> tuple[np.ndarray, int]:
    """Per-row level estimates (n x rows) and forwards per row."""
    n, rows = model.n, x.shape[0]
    if kind.startswith("cv"):  # cv2 / cv3: nested with the neighbour control variate of period 2 / 3 (b: fitted)
        period = int(kind[2:].rstrip("bs"))
        levels, f = curve_rows(model, x, "nested", rng)
        correction = neighbour_correction(model, x, curve_rows.last_ranks, period)  # type: ignore[attr-defined]
        curve_rows.last_cv = correction  # type: ignore[attr-defined]
        return (levels if kind[-1] in "bs" else levels - correction), f + period
    if kind == "independent":
        out = np.empty((n, rows))
        for m in range(n):
            mask = ranks_of(rng, rows, n) >= m
            out[m] = masked_mean(model.losses(x, mask), mask)
        return out, n
    if kind.startswith("subgrid"):  # idea b: levels {0} + a random-offset stride-s sub-grid, nested, HT weight s
        stride = int(kind[7:])
        levels, _ = curve_rows(model, x, "nested", rng)  # the row's nested levels (only the sampled ones are used)
        offset = rng.integers(1, stride + 1, size=rows)
        m = np.arange(n)[:, None]
        keep = (m >= 1) & ((m - offset[None, :]) % stride == 0)
        used = 1 + keep.sum(axis=0)  # forwards: level 0 and the sampled levels
        return np.where(m == 0, levels, np.where(keep, stride * levels, 0.0)), float(used.mean())  # type: ignore[return-value]
    orders = 2 if kind in ("nested2", "antithetic") else 1
    all_masked = model.losses(x, np.ones_like(x, dtype=bool))  # level 0: the same state for every order
    total = np.zeros((n, rows))
    first = ranks_of(rng, rows, n)
    for o in range(orders):
        ranks = first if o == 0 else (n - 1 - first if kind == "antithetic" else ranks_of(rng, rows, n))
        here, still = np.zeros((n, rows)), np.zeros((n, rows))
        for m in range(n):
            mask = ranks >= m
            loss = all_masked if m == 0 else model.losses(x, mask)
            here[m], still[m] = masked_mean(loss, mask), masked_mean(loss, ranks >= m + 1)
        curve_rows.last_ranks = ranks  # type: ignore[attr-defined]
        inc = still[:-1] - here[1:]
        total += here[0][None, :] - np.concatenate((np.zeros((1, rows)), np.cumsum(inc, axis=0)))
    return total / orders, orders * (n - 1) + 1


def cross_fitted(levels: np.ndarray, cv: np.ndarray, per_set: int) -> np.ndarray:
    """Per data set of ``per_set`` rows: ``levels - beta cv`` with one coefficient per level fitted by least squares on
    the other half of the set's rows (two folds: unbiased, since a row's coefficient never saw its own order)."""
    out = levels.copy()
    for start in range(0, levels.shape[1] - per_set + 1, per_set):
        rows = np.arange(start, start + per_set)
        folds = (rows[::2], rows[1::2])
        for mine, other in (folds, folds[::-1]):
            y, c = levels[:, other], cv[:, other]
            yc, cc = y - y.mean(axis=1, keepdims=True), c - c.mean(axis=1, keepdims=True)
            beta = (yc * cc).sum(axis=1) / np.maximum((cc * cc).sum(axis=1), 1e-300)
            out[:, mine] = levels[:, mine] - beta[:, None] * cv[:, mine]
    return out


def cross_fitted_pooled(levels: np.ndarray, cv: np.ndarray, per_set: int) -> np.ndarray:
    """As :func:`cross_fitted` with ONE coefficient pooled over every level (fitted on the other half's rows)."""
    out = levels.copy()
    for start in range(0, levels.shape[1] - per_set + 1, per_set):
        rows = np.arange(start, start + per_set)
        folds = (rows[::2], rows[1::2])
        for mine, other in (folds, folds[::-1]):
            y, c = levels[:, other], cv[:, other]
            yc, cc = y - y.mean(axis=1, keepdims=True), c - c.mean(axis=1, keepdims=True)
            beta = min(max((yc * cc).sum() / max((cc * cc).sum(), 1e-300), 0.0), 1.0)  # between nested and 1
            out[:, mine] = levels[:, mine] - beta * cv[:, mine]
    return out


def coefficients(sizes: np.ndarray, n: int) -> np.ndarray:
    c = -np.ones(n)
    np.add.at(c, np.concatenate(([0], np.cumsum(sizes)[:-1])), sizes.astype(float))
    return c


def steps_rows(model: Model, x: np.ndarray, sizes: np.ndarray, interior: int,
               rng: np.random.Generator, branch: bool = False) -> tuple[np.ndarray, int]:
    """Per-row estimates of err(s) from the left ends plus ``interior`` random interior levels per step (0: all)."""
    n, rows = model.n, x.shape[0]
    ranks = ranks_of(rng, rows, n)
    ends = np.concatenate(([0], np.cumsum(sizes)))
    value, forwards = np.zeros(rows), 0
    for a, b in zip(ends[:-1].tolist(), ends[1:].tolist()):
        inner = b - a - 1
        if inner == 0:
            continue
        take = inner if interior == 0 else min(interior, inner)
        if branch:  # a fresh start set per step
            ranks = ranks_of(rng, rows, n)
        left = model.losses(x, ranks >= a)
        picks = np.argsort(rng.random((rows, inner)), axis=1)[:, :take] + a + 1  # levels without replacement
        for t in range(take):
            if branch:  # a fresh extension of the start set per interior level: independent given the start
                after = np.where(ranks >= a, ranks_of(rng, rows, n) + n, ranks)  # keep the first a, reshuffle the rest
                now = after.argsort(axis=1).argsort(axis=1)
            else:
                now = ranks
            mask = now >= picks[:, t:t + 1]
            value += inner / take * masked_mean(left - model.losses(x, mask), mask)
        forwards += 1 + take
    return value, forwards


def fixed_schedule(name: str, model: Model, k: int) -> np.ndarray:
    """The schedules of the earlier measurements: rare [3, 2, 1]; else the exact chain's optimal k-step schedule."""
    if name == "rare":
        return np.array([3, 2, 1])
    return np.asarray(mdmsched.optimal_schedule(markov_curve(P, model.n), k).sizes)


def fixed(name: str, sets: int) -> None:
    model = MODELS[name]()
    rows, k, _ = CASES[name]
    g = model.levels()
    sizes = fixed_schedule(name, model, k)
    truth = coefficients(sizes, model.n) @ g
    budget = rows * model.n
    rng = np.random.default_rng(1)
    x = model.sample(rows * sets * 2, rng)  # enough rows for the cheapest design
    out = {}
    for kind in KINDS:
        r = np.random.default_rng(2)
        t0 = time.perf_counter()
        if kind in ("steps", "steps2"):
            per_row, f = steps_rows(model, x, sizes, 1 if kind == "steps" else 2, r)
        else:
            m = x[: min(x.shape[0], budget * sets // model.n)]
            levels, f = curve_rows(model, m, kind, r)
            if kind.endswith("b"):
                levels = cross_fitted(levels, curve_rows.last_cv, max(1, budget // f))  # type: ignore[attr-defined]
            if kind.endswith("s"):
                levels = cross_fitted_pooled(levels, curve_rows.last_cv, max(1, budget // f))  # type: ignore[attr-defined]
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
    for kind in os.environ.get("OPTK_KINDS", "independent,nested,nested2,cv4,cv4s").split(","):
        r = np.random.default_rng(4)
        levels, f = curve_rows(model, x, kind, r)
        per_set = max(2, int(rows * model.n // f))
        if kind.endswith("b"):
            levels = cross_fitted(levels, curve_rows.last_cv, per_set)  # type: ignore[attr-defined]
        if kind.endswith("s"):
            levels = cross_fitted_pooled(levels, curve_rows.last_cv, per_set)  # type: ignore[attr-defined]
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
    _rows, k, _ = CASES[name]
    sizes = fixed_schedule(name, model, k)
    c = coefficients(sizes, model.n)
    x = model.sample(rows_used, np.random.default_rng(5))
    data = model.row_levels(x) @ c  # E[e | x]: every unbiased design has it
    print(f"{model.name}, s = {sizes.tolist()}, {rows_used} rows: Var_x E[e|x] = {data.var(ddof=1):.4g} "
          f"(x n forwards = {data.var(ddof=1) * model.n:.4g})")
    for kind in ("independent", "nested", "antithetic", "steps", "direct", "branch", "cv4"):
        r = np.random.default_rng(6)
        if kind in ("steps", "direct", "branch", "branch2"):
            e, f = steps_rows(model, x, sizes, {"steps": 1, "direct": 0, "branch": 0, "branch2": 2}[kind], r,
                              kind.startswith("branch"))
        else:
            levels, f = curve_rows(model, x, kind, r)
            e = c @ levels
        total = e.var(ddof=1)
        mask_part = np.mean((e - data) ** 2)  # E_x Var(e|x) (e - E[e|x] is uncorrelated with E[e|x])
        print(f"  {kind:11s} forwards/row {f:2d}: per-row var {total:.4g} = data {data.var(ddof=1):.4g} + mask "
              f"{mask_part:.4g}; var x forwards {total * f:.4g}; ceiling for {f} forwards/row, one order: "
              f"{data.var(ddof=1) * f:.4g}")


def package(name: str, sets: int) -> None:
    """The shipped estimators through ``mdmsched.estimate_curve`` at equal forwards per data set: variance x forwards
    of a fixed schedule's ``schedule_error(...).value`` and MSE of the estimated ``opt_k`` (``optimal_schedule(est.Z,
    k).error``) against the exact values, as ratios over ``"independent"``."""
    import warnings

    warnings.simplefilter("ignore")
    model = MODELS[name]()
    rows, k, _ = CASES[name]
    g = model.levels()
    sizes = fixed_schedule(name, model, k)
    truth = coefficients(sizes, model.n) @ g
    exact_opt = mdmsched.optimal_schedule(g[0] - g, k).error
    budget = rows * model.n
    out = {}
    for est in ("independent", "nested", "neighbour_cv"):
        per_row = model.n + (min(4, model.n) if est == "neighbour_cv" else 0)
        per_set = round(budget / per_row)
        x = model.sample(per_set * sets, np.random.default_rng(11))
        t0 = time.perf_counter()
        big = mdmsched.estimate_curve(model, x, grid=np.arange(model.n), seed=12, estimator=est)
        fixed_values, opt_values = [], []
        for s in range(sets):
            sub = big.subset(np.arange(s * per_set, (s + 1) * per_set))
            fixed_values.append(sub.schedule_error(sizes, simultaneous=False).value)
            opt_values.append(mdmsched.optimal_schedule(sub.Z, k).error)
        fv, ov = np.array(fixed_values), np.array(opt_values)
        out[est] = (fv.var(ddof=1) * per_set * per_row, np.mean((ov - exact_opt) ** 2) * per_set * per_row)
        print(f"{model.name}: {est:12s} {per_set} rows x {per_row} forwards, {sets} sets: fixed {sizes.tolist()} mean "
              f"{fv.mean():.4f} (exact {truth:.4f}) var x forwards {out[est][0]:.4g}; opt_{k} mean {ov.mean():.4f} "
              f"(exact {exact_opt:.4f}) MSE x forwards {out[est][1]:.4g} ({time.perf_counter() - t0:.0f} s)", flush=True)
    print(f"  {model.name}: ratio independent / estimator, fixed schedule; opt_{k}: " + ", ".join(
        f"{e} {out['independent'][0] / v[0]:.2f}x; {out['independent'][1] / v[1]:.2f}x" for e, v in out.items()
        if e != "independent"), flush=True)


if __name__ == "__main__":
    what = sys.argv[1] if len(sys.argv) > 1 else "fixed"
    names = sys.argv[2:] or list(CASES)
    for nm in names:
        if what == "decompose":
            decompose(nm)
        else:
            {"fixed": fixed, "optk": optk, "package": package}[what](nm, CASES[nm][2])
