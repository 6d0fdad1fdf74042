"""Closed loop on trained models (issue 26.1): does re-planning the counts from the state reached beat the open-loop
plan at equal mean NFE when the model is learned, not exact?

    python benchmarks/measure_closed_loop_trained.py tiny [--rows 200] [--train-seconds 180] [--train-steps S]
    python benchmarks/measure_closed_loop_trained.py stdlib [--rows 128] [--checkpoint ../wt-realdata/runs/stdlib]

(a) ``tiny``: the tiny transformer MDM of ``examples/train_tiny_mdm.py`` trained on CPU (1 torch thread) on its
Markov chain (prompt 8 + answer 32); the chain's entropy is known, so KL = mean NLL - H(answer | prompt).
(b) ``stdlib``: the standard-library byte MDM (``examples/stdlib_model.py`` checkpoint); rows are 128-byte windows of
the held-out test split with the middle ``--span`` bytes generated; ``H(span | context)`` is unknown, so the tables
give mean NLL (nats per row) and only differences between cells are KLs.

Both: the random-order curve ``Z^g`` is estimated (``mdmsched.estimate_curve``) on the first half of the rows and
every KL / NLL is measured by teacher forcing (``evaluate_sampler``) on the other half, with shared seeds. Floor +
threshold (``FloorThreshold``) with three counts (LLaDA's equal split, the optimal plan, the closed-loop policy) is
swept over ``k`` and interpolated to equal mean NFE; RandomOrder closed vs open at each ``k``. Answer checks: the
policy's own plan from revealed 0 is an optimal schedule of the curve (same error as ``optimal_schedule``), RandomOrder
closed loop equals RandomOrder with that plan row for row (same NLL to 1e-9), and the open-loop RandomOrder NLL agrees
with the curve's predicted schedule error within 4 standard errors (``tiny`` only; there the entropy is known).

Not a test (minutes); its numbers are in BENCHMARKS.md ("Closed-loop schedules and EOS settling").
"""

from __future__ import annotations

import argparse
import math
import sys
import time
from pathlib import Path

import numpy as np
from _examples import load_example

import mdmsched
import mdmsched.torch  # TorchModel (torch is needed by both models)
from mdmsched.samplers import FloorThreshold, RandomOrder, evaluate_sampler
from mdmsched.samplers.families import equal_counts


def tiny_setup(rows: int, seconds: float, steps: int | None = None):
    import torch

    tiny = load_example("train_tiny_mdm")
    torch.set_num_threads(1)
    q, prompt, gen = 6, 8, 32
    n = prompt + gen
    chain = mdmsched.MarkovPredictor(tiny.make_chain(q, 0), n)
    net = tiny.TinyMDM(q, n)
    t = time.perf_counter()
    tiny.train(net, chain, prompt, seconds=seconds, batch=128, lr=2e-3, seed=0, log_every=60.0, max_steps=steps)
    print(f"trained the tiny MDM for {time.perf_counter() - t:.0f} s")
    model = mdmsched.torch.TorchModel(net, mask_id=q, vocab=q)
    data = chain.sample(2 * rows, np.random.default_rng(1))
    logs = np.log(np.where(chain.P > 0, chain.P, 1.0))
    rate = float(chain.pi @ -np.sum(chain.P * logs, axis=1))
    return model, data, np.arange(n) >= prompt, gen * rate, f"tiny MDM (q = {q}, prompt {prompt} + answer {gen})"


def stdlib_setup(rows: int, checkpoint: str, span: int):
    import torch

    torch.set_num_threads(1)
    load_example("stdlib_data")
    data_mod = sys.modules["stdlib_data"]
    model_mod = load_example("stdlib_model")
    net, meta = model_mod.load_checkpoint(checkpoint)
    n = int(meta["model"]["length"])
    model = mdmsched.torch.TorchModel(net, mask_id=data_mod.MASK_ID, vocab=data_mod.VOCAB)
    corpus = data_mod.load_corpus()
    data = data_mod.sample_windows(corpus.data["test"], 2 * rows, n, np.random.default_rng(7))
    at = (n - span) // 2
    region = (np.arange(n) >= at) & (np.arange(n) < at + span)
    return model, data, region, 0.0, f"stdlib byte MDM (n = {n}, middle {span} bytes generated, test windows)"


def measure(model, data, region, entropy: float, title: str, ks: tuple[int, ...], targets: tuple[float, ...],
            taus: tuple[float, ...]) -> None:
    half = data.shape[0] // 2
    fit, held = data[:half], data[half:]
    m = int(np.sum(region))
    t = time.perf_counter()
    curve = mdmsched.estimate_curve(model, fit, region=region, reps=2, seed=0)
    print(f"\n{title}: curve on {half} rows ({time.perf_counter() - t:.0f} s), KL on the other {held.shape[0]}; "
          f"m = {m} generated positions; entropy {'known' if entropy else 'unknown (NLL shown)'}")
    axis = "KL" if entropy else "NLL"

    kept = {}

    def run(rule, key=None):
        est = evaluate_sampler(model, held, rule, region=region, seed=1)
        if key is not None:
            kept[key] = est
        return est.nfe, est.nll - entropy, est.stderr

    print(f"| k | RandomOrder equal split: {axis} | RandomOrder optimal plan: {axis} | RandomOrder closed loop: {axis} "
          f"| predicted err(Z^g, plan) |")
    print("|---|---|---|---|---|")
    policies = {}
    for k in ks:
        policy = mdmsched.closed_loop_policy(curve, k)
        policies[k] = policy
        plan = policy.schedule()
        best = mdmsched.optimal_schedule(curve, k)
        # answer check 1: the policy's plan from revealed 0 is optimal for the same curve
        assert math.isclose(float(plan.error), float(best.error), rel_tol=1e-9, abs_tol=1e-9), (k, plan, best)
        even = run(RandomOrder(equal_counts(k, [m])))
        open_ = run(RandomOrder([plan.sizes.tolist()]))
        closed = run(RandomOrder(policy))
        # answer check 2: random positions never deviate from the plan, so the closed loop replays it row for row
        assert abs(open_[1] - closed[1]) <= 1e-9 and open_[0] == closed[0], (k, open_, closed)
        predicted = curve.schedule_error(plan, entropy=0.0)
        if entropy:  # answer check 3: the held-out NLL of the plan agrees with the fit half's predicted error
            gap = abs(open_[1] + entropy - predicted.value)
            assert gap <= 4 * math.hypot(open_[2], predicted.stderr) + 1e-9, (k, open_, predicted)
        cells = [f"{c[1]:.3f} +- {c[2]:.3f}" for c in (even, open_, closed)]
        print(f"| {k} | " + " | ".join(cells) + f" | {predicted.value - entropy:.3f} +- {predicted.stderr:.3f} |")

    print(f"\nFloorThreshold: {axis} at equal mean NFE, interpolated along k = {ks}")
    print("| tau | counts | " + " | ".join(f"{axis} at NFE {t:g}" for t in targets) + " |")
    print("|---|---|" + "---|" * len(targets))
    for tau in taus:
        for label in ("open loop, equal split", "open loop, optimal plan", "closed loop"):
            points = []
            for k in ks:
                counts = {"open loop, equal split": equal_counts(k, [m]),
                          "open loop, optimal plan": [policies[k].schedule().sizes.tolist()],
                          "closed loop": policies[k]}[label]
                nfe, value, _ = run(FloorThreshold(counts, tau), (tau, label, k))
                points.append((nfe, value))
            points.sort()
            nfe_axis, values = np.array(points).T
            cells = [f"{np.interp(t, nfe_axis, values):.3f}" if nfe_axis[0] <= t <= nfe_axis[-1] else "-"
                     for t in targets]
            raw = ", ".join(f"{a:.2f}:{b:.2f}" for a, b in points)
            print(f"| {tau} | {label} | " + " | ".join(cells) + " |")
            print(f"    (mean NFE : {axis} along k = {ks}: {raw})")
    print("\nFloorThreshold, closed loop minus open loop (optimal plan) at the same k, paired over rows and seeds: "
          "mean NFE difference; NLL difference +- paired standard error (nats)")
    print("| tau | " + " | ".join(f"k = {k}" for k in ks) + " |")
    print("|---|" + "---|" * len(ks))
    for tau in taus:
        cells = []
        for k in ks:
            closed, open_ = kept[(tau, "closed loop", k)], kept[(tau, "open loop, optimal plan", k)]
            d = closed.nll_rows - open_.nll_rows
            se = float(d.std(ddof=1)) / math.sqrt(d.size)
            cells.append(f"{closed.nfe - open_.nfe:+.2f}; {d.mean():+.3f} +- {se:.3f}")
        print(f"| {tau} | " + " | ".join(cells) + " |")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("which", choices=("tiny", "stdlib"))
    parser.add_argument("--rows", type=int, default=None, help="rows per half (curve half, KL half)")
    parser.add_argument("--train-seconds", type=float, default=180.0)
    parser.add_argument("--train-steps", type=int, default=None, help="stop training at this step (reproducible)")
    parser.add_argument("--checkpoint", default=str(Path(__file__).resolve().parents[2] / "wt-realdata/runs/stdlib"))
    parser.add_argument("--span", type=int, default=32)
    parser.add_argument("--taus", default=None, help="FloorThreshold thresholds, comma separated")
    args = parser.parse_args()
    start = time.perf_counter()
    if args.which == "tiny":
        setup = tiny_setup(args.rows or 200, args.train_seconds, args.train_steps)
        taus = (0.3, 0.5, 0.7, 0.9)
    else:
        setup = stdlib_setup(args.rows or 128, args.checkpoint, args.span)
        taus = (0.5, 0.7, 0.9)
    if args.taus:
        taus = tuple(float(t) for t in args.taus.split(","))
    measure(*setup, ks=(2, 3, 4, 6, 8, 12, 16, 24, 32), targets=(4.0, 8.0, 12.0, 16.0), taus=taus)
    print(f"\ntotal {time.perf_counter() - start:.0f} s")


if __name__ == "__main__":
    main()
