"""Measure closed-loop schedules (SPEC §5.4, issue 26): policy build cost, lookup cost, and what re-planning and EOS
settling buy on the map (Markov models with exact conditionals; teacher forcing, so every KL is exact per row).

    python benchmarks/measure_closed_loop.py [rows]

Not a test (a minute or two); its numbers are in BENCHMARKS.md.
"""

from __future__ import annotations

import sys
import time

import numpy as np

import mdmsched
from mdmsched import _core
from mdmsched.models import MarkovPredictor
from mdmsched.samplers import FloorThreshold, RandomOrder, TopK, evaluate_sampler
from mdmsched.samplers.example import markov_example
from mdmsched.samplers.families import equal_counts


def best_of(fn, repeat=3):
    times = []
    for _ in range(repeat):
        t = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t)
    return min(times)


def policy_cost() -> None:
    print("| n | k | policy build (s) | tables (MB) | one optimal_schedule (s) | ratio | lookup count() (us) |")
    print("|---|---|---|---|---|---|---|")
    rng = np.random.default_rng(0)
    for n, k in ((256, 32), (1024, 64), (4096, 256)):
        z = np.concatenate(([0.0], np.cumsum(rng.random(n - 1))))
        build = best_of(lambda z=z, k=k: mdmsched.closed_loop_policy(z, k))
        solve = best_of(lambda z=z, k=k: mdmsched.optimal_schedule(z, k))
        policy = mdmsched.closed_loop_policy(z, k)
        t = time.perf_counter()
        for i in range(20000):
            policy.count(i % n, 1 + i % k)
        lookup = (time.perf_counter() - t) / 20000 * 1e6
        mb = _core.closed_loop_memory_bytes(n, k) / 1e6
        print(f"| {n} | {k} | {build:.4f} | {mb:.2f} | {solve:.4f} | {build / solve:.1f} | {lookup:.2f} |")


def markov_map(rows: int) -> None:
    ex = markov_example(n=32, rows=rows, seed=0)
    curve = mdmsched.estimate_curve(ex.model, ex.rows, seed=0)
    print(f"\nSticky 3-state Markov, n = 32, {rows} rows, H(mu) = {ex.entropy:.3f} nats; KL = mean NLL - H(mu) "
          "(+- row standard error).")
    print("| rule | k | open loop, equal counts: NFE / KL | open loop, optimal counts: NFE / KL | "
          "closed loop: NFE / KL |")
    print("|---|---|---|---|---|")
    for name, make in (("RandomOrder", RandomOrder), ("TopK max_prob", TopK),
                       ("FloorThreshold 0.9", lambda c: FloorThreshold(c, 0.9)),
                       ("FloorThreshold 0.7", lambda c: FloorThreshold(c, 0.7))):
        for k in (4, 8, 16):
            policy = mdmsched.closed_loop_policy(curve, k)
            cells = []
            for counts in (equal_counts(k, [32]), [policy.schedule().sizes.tolist()], policy):
                est = evaluate_sampler(ex.model, ex.rows, make(counts), seed=1)
                cells.append(f"{est.nfe:.2f} / {est.nll - ex.entropy:.3f} +- {est.stderr:.3f}")
            print(f"| {name} | {k} | " + " | ".join(cells) + " |")


def equal_nfe(rows: int) -> None:
    """Floor + threshold swept over k; KL at matched mean NFE by linear interpolation along each family's curve."""
    ex = markov_example(n=32, rows=rows, seed=0)
    curve = mdmsched.estimate_curve(ex.model, ex.rows, seed=0)
    ks = (2, 3, 4, 6, 8, 10, 12, 16, 20, 24, 32)
    targets = (4.0, 8.0, 12.0, 16.0, 24.0)
    print("\nFloor + threshold on the sticky Markov chain: KL (nats) at equal mean NFE, interpolated along the k sweep "
          f"{ks}.")
    print("| tau | counts | " + " | ".join(f"KL at NFE {t:g}" for t in targets) + " |")
    print("|---|---|" + "---|" * len(targets))
    for tau in (0.7, 0.9):
        for label in ("open loop, equal split", "open loop, optimal plan", "closed loop"):
            points = []
            for k in ks:
                policy = mdmsched.closed_loop_policy(curve, k)
                counts = {"open loop, equal split": equal_counts(k, [32]),
                          "open loop, optimal plan": [policy.schedule().sizes.tolist()],
                          "closed loop": policy}[label]
                est = evaluate_sampler(ex.model, ex.rows, FloorThreshold(counts, tau), seed=1)
                points.append((est.nfe, est.nll - ex.entropy))
            points.sort()
            nfe, kl = np.array(points).T
            cells = [f"{np.interp(t, nfe, kl):.3f}" if nfe[0] <= t <= nfe[-1] else "-" for t in targets]
            print(f"| {tau} | {label} | " + " | ".join(cells) + " |")


def eos_chain(rows: int) -> None:
    # States 0, 1 (sticky) and 2 = EOS (absorbing); position 0 is a prompt token in {0, 1}; answers of 31 positions.
    P = np.array([[0.88, 0.07, 0.05], [0.07, 0.88, 0.05], [0.0, 0.0, 1.0]])
    n = 32
    model = MarkovPredictor(P, n)
    rng = np.random.default_rng(0)
    data = np.zeros((rows, n), dtype=np.int64)
    data[:, 0] = rng.integers(0, 2, rows)
    for t in range(1, n):
        u = rng.random(rows)
        data[:, t] = (u[:, None] > np.cumsum(P[data[:, t - 1]], axis=1)).sum(axis=1)
    region = np.arange(n) > 0
    dist, entropy = np.array([0.5, 0.5, 0.0]), 0.0
    logs = np.log(np.where(P > 0, P, 1.0))
    for _ in range(1, n):
        entropy += float(dist @ -(P * logs).sum(axis=1))
        dist = dist @ P
    eos_at = np.where((data == 2).any(axis=1), (data == 2).argmax(axis=1), n)
    curve = mdmsched.estimate_curve(model, data, region=region, seed=0)
    print(f"\nMarkov chain with an absorbing EOS, 31 answer positions after a 1-token prompt, {rows} rows, "
          f"H(answer | prompt) = {entropy:.3f} nats, mean answer length {eos_at.mean() - 1:.1f}.")
    print("| rule | k | no EOS option: NFE / KL | eos_id=2: NFE / KL | closed loop + eos_id=2: NFE / KL |")
    print("|---|---|---|---|---|")
    for name, make in (("RandomOrder", RandomOrder), ("TopK max_prob", TopK)):
        for k in (4, 8, 16):
            policy = mdmsched.closed_loop_policy(curve, k)
            plan = [policy.schedule().sizes.tolist()]
            cells = []
            for counts, eos in ((plan, None), (plan, 2), (policy, 2)):
                est = evaluate_sampler(model, data, make(counts), region=region, seed=1, eos_id=eos)
                cells.append(f"{est.nfe:.2f} / {est.nll - entropy:.3f} +- {est.stderr:.3f}")
            print(f"| {name} | {k} | " + " | ".join(cells) + " |")


if __name__ == "__main__":
    count = int(sys.argv[1]) if len(sys.argv) > 1 else 400
    policy_cost()
    markov_map(count)
    equal_nfe(count)
    eos_chain(count)
