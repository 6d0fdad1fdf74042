"""Measurements behind BENCHMARKS.md "Ramp band (issue 25.3)": the box band (Bonferroni-t over g_0 and the increments)
vs the ramp band (every step's error at once, :mod:`mdmsched.models.ramps`) on the same data sets.

Run: ``python benchmarks/measure_ramps.py [markov|rare|context] [N runs]`` (all three models at N = 30, 100, 1000 by
default; minutes on 2 cores); ``python benchmarks/measure_ramps.py small`` for the 30-row trial of ramps with the
Bonferroni multiplier vs the box (heavy tails); ``python benchmarks/measure_ramps.py rows`` for the
default's misses at 20-99 rows on the rare symbol (1000 data sets). ``calibration="ramps"`` is the box below ``RAMP_MIN_ROWS`` (100) rows
since that rule was shipped; the table's 30-row ramp numbers were measured before it (ramps forced). Models and truths:

* ``markov``: 2-state chain ``[[0.9, 0.1], [0.2, 0.8]]``, n = 20, exact conditionals; truth ``markov_curve`` (exact).
* ``rare``: i.i.d. tokens, a symbol of 3% mass given model probability 1e-6 with no context (13.8-nat losses), n = 20;
  truth in closed form.
* ``context``: the chain's conditionals with 1e-5 holes on token 1 at ~24% of positions while the left neighbour is
  masked (``measure_control_variate.py context``), n = 16; truth: the nested estimate from 200000 rows (its standard
  error is printed; far below the widths).

Per data set and band: the certified k-step schedule (covered = its exact error <= its bound; width = bound - exact
error), ``min_steps(eps, holdout=None)`` (valid = exact error <= eps), and "band held" = every step's exact cost within
the band at once (the simultaneous event itself). Plus the default ``min_steps`` (band and held-out test at half the
error rate each) and the held-out test alone.
"""

from __future__ import annotations

import sys
import warnings

import numpy as np
from measure_bounds import RareSymbol  # the same model (benchmarks/ is on sys.path when run as a script)

import mdmsched
from mdmsched.distributions import markov_curve
from mdmsched.models.curve_estimate import _band_for

P = np.array([[0.9, 0.1], [0.2, 0.8]])
warnings.simplefilter("ignore")




class ContextHoles:
    """The chain's exact conditionals, but token 1 at ~24% of positions gets probability 1e-5 while its left neighbour
    is masked (a learned model's rare confident mistakes that depend on the state)."""

    def __init__(self, n: int) -> None:
        self.n, self.base = n, mdmsched.MarkovPredictor(P, n)
        self.holes = np.random.default_rng(0).random(n) < 0.24

    def sample(self, rows: int, rng: np.random.Generator) -> np.ndarray:
        return self.base.sample(rows, rng)

    def score(self, tokens, mask, target="cross_entropy"):  # type: ignore[no-untyped-def]
        probs = self.base(tokens, mask)
        p = np.take_along_axis(probs, tokens[..., None], axis=2)[..., 0]
        left_masked = np.concatenate((np.ones((tokens.shape[0], 1), bool), mask[:, :-1]), axis=1)
        p = np.where(self.holes[None, :] & (tokens == 1) & left_masked, 1e-5, p)
        return np.where(mask, -np.log(p), 0.0)

    def curve(self) -> np.ndarray:
        big = mdmsched.estimate_curve(self, self.sample(200_000, np.random.default_rng(99)), seed=99)
        print(f"context truth: Z_n = {big.Z_raw[-1]:.4f} +- {big.stderr[-1]:.4f} (200000 rows)")
        return np.asarray(big.Z_raw)


def model(name: str):  # type: ignore[no-untyped-def]
    if name == "markov":
        m = mdmsched.MarkovPredictor(P, 20)
        return m, markov_curve(P, 20), 6
    if name == "rare":
        r = RareSymbol(20)
        return r, r.curve(), 4
    c = ContextHoles(16)
    return c, c.curve(), 4


def step_costs(z: np.ndarray) -> np.ndarray:
    """Exact cost of every step a -> b on the curve ``z`` ((n + 1) x (n + 1))."""
    n = z.size
    prefix = np.concatenate(([0.0], np.cumsum(z)))
    a = np.arange(n + 1)[:, None]
    b = np.arange(n + 1)[None, :]
    left = z[np.minimum(a, n - 1)]
    cost = prefix[np.maximum(b, a)] - prefix[a] - (b - a) * left
    return np.where(b > a, cost, 0.0)


def run(name: str, rows: int, runs: int) -> None:
    m, exact, k = model(name)
    n = exact.size
    eps = 0.25 * mdmsched.schedule_error(exact, [n]) if name != "markov" else 0.5
    true_k = mdmsched.min_steps(exact, eps).k
    true_costs = step_costs(exact)
    big = mdmsched.estimate_curve(m, m.sample(rows * runs, np.random.default_rng(rows + 7)), seed=rows)
    out: dict[str, list[list[float]]] = {}
    for r in range(runs):
        est = big.subset(np.arange(r * rows, (r + 1) * rows))
        for cal in ("bonferroni", "ramps"):
            row: list[float] = []
            for level in (0.9, 0.95):
                chosen = est.certified_schedule(k, confidence=level, calibration=cal)
                err = mdmsched.schedule_error(exact, chosen)
                fewest = est.min_steps(eps, confidence=level, holdout=None, calibration=cal)
                row += [float(chosen.bound) - err, err <= chosen.bound + 1e-12, fewest.k,
                        mdmsched.schedule_error(exact, fewest) <= eps + 1e-12]
            if cal == "ramps":
                high = est._step_bounds(0.95, "upper")[1]
                row.append(bool(np.all(true_costs <= high + 1e-12)))
            else:  # the box's own event: every increment below its upper end
                d_high = _band_for([est], 0.95, "upper", False, "bonferroni")[0][3]
                true_d = exact[est.grid[1:]] - exact[est.grid[:-1]]
                row.append(bool(np.all(true_d <= d_high + 1e-12)))
            if rows >= 40:
                default = est.min_steps(eps, confidence=0.95, calibration=cal)
                held = est.min_steps(eps, confidence=0.95, holdout=0.5, calibration=cal)
                row += [default.k, mdmsched.schedule_error(exact, default) <= eps + 1e-12, held.k,
                        default.k > row[6]]
            out.setdefault(cal, []).append(row)
    print(f"== {name}, n = {n}, N = {rows} ({runs} data sets), k = {k}, eps = {eps:.3g} (true fewest {true_k})")
    for cal, rows_out in out.items():
        o = np.array(rows_out, dtype=float)
        text = (f"{cal:>10}: 90%: width {np.median(o[:, 0]):.3f} covered {int(o[:, 1].sum())}, k {np.median(o[:, 2]):.0f} "
                f"valid {int(o[:, 3].sum())} | 95%: width {np.median(o[:, 4]):.3f} covered {int(o[:, 5].sum())}, "
                f"k {np.median(o[:, 6]):.0f} (mean {o[:, 6].mean():.2f}) valid {int(o[:, 7].sum())}")
        text += f" | band event held {int(o[:, 8].sum())}"
        if o.shape[1] > 9:
            text += (f" | default k {np.median(o[:, 9]):.0f} (mean {o[:, 9].mean():.2f}) valid {int(o[:, 10].sum())}, "
                     f"held-out alone k {np.median(o[:, 11]):.0f} (mean {o[:, 11].mean():.2f}), default > band "
                     f"{int(o[:, 12].sum())}")
        print(text, flush=True)


def small_rows(rows: int = 30, runs: int = 300) -> None:
    """The box vs ramps with the Bonferroni multiplier (no bootstrap) at 30 rows on heavy tails, 90% and 95%."""
    from mdmsched.models.ramps import step_bounds
    from mdmsched.models.step_costs import best_schedule, fewest_steps
    from mdmsched.models.two_curve import band_min_steps, band_schedule

    cases = [("rare n=20", RareSymbol(20), 4, 52), ("rare n=10", RareSymbol(10), 3, 53), ("context n=16", ContextHoles(16), 4, 52)]
    for name, m, k, seed in cases:
        exact = m.curve()
        n = exact.size
        eps = 0.25 * mdmsched.schedule_error(exact, [n])
        big = mdmsched.estimate_curve(m, m.sample(rows * runs, np.random.default_rng(seed)), seed=seed)
        res: dict[tuple[str, float], list[tuple[float, ...]]] = {}
        for r in range(runs):
            est = big.subset(np.arange(r * rows, (r + 1) * rows))
            for level in (0.9, 0.95):
                g_high, g_low = est.certified_curves(level, calibration="bonferroni")
                high = step_bounds(est.samples, est.grid, n, level, "upper", False, r)[1]
                for key, s, f in (("box", band_schedule(g_high, g_low, k), band_min_steps(g_high, g_low, eps)),
                                  ("ramps-bonferroni", best_schedule(high, k), fewest_steps(high, eps))):
                    e = mdmsched.schedule_error(exact, s)
                    res.setdefault((key, level), []).append((e <= s.bound + 1e-12, s.bound - e, f.k,
                                                             mdmsched.schedule_error(exact, f) <= eps + 1e-12))
        for (key, level), v in res.items():
            o = np.array(v, dtype=float)
            print(f"{name} N={rows} {key} {level:.0%}: covered {int(o[:, 0].sum())}/{runs}, width {np.median(o[:, 1]):.3f}, "
                  f"min_steps mean k {o[:, 2].mean():.2f} valid {int(o[:, 3].sum())}", flush=True)


def rows_sweep(runs: int = 1000) -> None:
    """The default band below and at ``RAMP_MIN_ROWS`` on the rare symbol (n = 10, k = 3, 95%): certified bound and
    ``min_steps`` misses at 20-99 rows, as is and at half the error rate (a wider margin)."""
    n, k, level = 10, 3, 0.95
    model = RareSymbol(n)
    exact = model.curve()
    eps = 0.25 * mdmsched.schedule_error(exact, [n])
    for rows in (20, 30, 50, 80, 99):
        big = mdmsched.estimate_curve(model, model.sample(rows * runs, np.random.default_rng(1000 + rows)), seed=1000 + rows)
        ests = [big.subset(np.arange(r * rows, (r + 1) * rows)) for r in range(runs)]
        for name, c in (("as is", level), ("half the error rate", 1 - (1 - level) / 2)):
            missed = invalid = 0
            for est in ests:
                chosen = est.certified_schedule(k, confidence=c)
                missed += mdmsched.schedule_error(exact, chosen) > chosen.bound + 1e-12
                fewest = est.min_steps(eps, confidence=c, holdout=None)
                invalid += mdmsched.schedule_error(exact, fewest) > eps + 1e-12
            print(f"rare n=10 N={rows} {name}: certified bound missed {missed}/{runs}, min_steps err > eps "
                  f"{invalid}/{runs}", flush=True)


if __name__ == "__main__":
    if sys.argv[1:2] == ["small"]:
        small_rows()
        sys.exit()
    if sys.argv[1:2] == ["rows"]:
        rows_sweep()
        sys.exit()
    names = [sys.argv[1]] if len(sys.argv) > 1 else ["markov", "rare", "context"]
    sizes = [(int(sys.argv[2]), int(sys.argv[3]))] if len(sys.argv) > 3 else [(30, 300), (100, 300), (1000, 100)]
    for model_name in names:
        for n_rows, n_runs in sizes:
            run(model_name, n_rows, n_runs)
