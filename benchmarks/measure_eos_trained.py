"""EOS settling on a trained tiny MDM (issue 26.2): how many forwards does ``eos_id`` save, at what KL change, when
the model is learned rather than exact?

    python benchmarks/measure_eos_trained.py [--rows 400] [--train-seconds 240] [--train-steps S]

The chain is ``measure_closed_loop.py``'s ``eos_chain``: states 0, 1 (sticky) and 2 = EOS (absorbing), position 0 a
prompt token uniform on {0, 1}, 31 answer positions. The network and training loop are ``examples/train_tiny_mdm.py``'s
(``TinyMDM``, ``train``; 1 torch thread). The random-order curve ``Z^g`` is estimated on the first half of the rows,
every KL is measured by teacher forcing (``evaluate_sampler``, seed 1) on the other half: KL = mean NLL -
H(answer | prompt), the chain's exact conditional entropy. Answer check: without ``eos_id`` a count rule spends
exactly ``k`` forwards.

Not a test (a few minutes, mostly training); its numbers are in BENCHMARKS.md ("Closed-loop schedules and EOS
settling").
"""

from __future__ import annotations

import argparse
import math
import time
from typing import Any

import numpy as np
from _examples import load_example

import mdmsched
import mdmsched.torch  # TorchModel
from mdmsched.samplers import RandomOrder, TopK, evaluate_sampler

EOS = 2
# eos_chain's transition matrix: 0 and 1 sticky, each leaves for EOS with probability 0.05; EOS absorbs.
TRANSITION = np.array([[0.88, 0.07, 0.05], [0.07, 0.88, 0.05], [0.0, 0.0, 1.0]])
PROMPT_DIST = np.array([0.5, 0.5, 0.0])


class EosChain:
    """The chain as ``train`` needs it (``q``, ``n``, ``sample``): the prompt token is uniform on {0, 1}, not the
    stationary law (which is all EOS)."""

    def __init__(self, n: int) -> None:
        self.q, self.n, self.P = 3, n, TRANSITION

    def sample(self, count: int, rng: np.random.Generator) -> np.ndarray:
        out = np.zeros((count, self.n), dtype=np.int64)
        out[:, 0] = rng.integers(0, 2, count)
        for t in range(1, self.n):
            u = rng.random(count)
            out[:, t] = (u[:, None] > np.cumsum(self.P[out[:, t - 1]], axis=1)).sum(axis=1)
        return np.minimum(out, self.q - 1)  # guard against cumsum rounding just below 1


def answer_entropy(n: int) -> float:
    """H(x_1..x_{n-1} | x_0) in nats: the sum of the per-step entropy rates under the law of the previous state."""
    logs = np.log(np.where(TRANSITION > 0, TRANSITION, 1.0))
    per_state = -(TRANSITION * logs).sum(axis=1)
    dist, total = PROMPT_DIST.copy(), 0.0
    for _ in range(1, n):
        total += float(dist @ per_state)
        dist = dist @ TRANSITION
    return total


def train_model(n: int, seconds: float, steps: int | None, seed: int = 0) -> Any:
    """Train ``TinyMDM`` on the EOS chain (prompt 1) and wrap it in ``TorchModel`` (mask id 3)."""
    import torch

    tiny = load_example("train_tiny_mdm")
    torch.set_num_threads(1)
    chain = EosChain(n)
    net = tiny.TinyMDM(chain.q, n)
    if seconds > 0:
        tiny.train(net, chain, 1, seconds=seconds, batch=128, lr=2e-3, seed=seed, log_every=60.0, max_steps=steps)
    net.eval()
    return mdmsched.torch.TorchModel(net, mask_id=chain.q, vocab=chain.q)


def measure(model: Any, data: np.ndarray, ks: tuple[int, ...] = (4, 8, 16)) -> list[dict[str, Any]]:
    """Curve on the first half of ``data``; for each rule and k: open-loop plan without / with ``eos_id``, closed loop
    with ``eos_id``, each ``(nfe, kl, stderr)`` on the second half, plus the paired EOS-minus-plain KL difference."""
    n = data.shape[1]
    region = np.arange(n) > 0
    entropy = answer_entropy(n)
    half = data.shape[0] // 2
    fit, held = data[:half], data[half:]
    curve = mdmsched.estimate_curve(model, fit, region=region, seed=0)
    results = []
    for name, make in (("RandomOrder", RandomOrder), ("TopK max_prob", TopK)):
        for k in ks:
            policy = mdmsched.closed_loop_policy(curve, k)
            plan = [policy.schedule().sizes.tolist()]
            cells = {}
            for label, counts, eos in (("plain", plan, None), ("eos", plan, EOS), ("closed+eos", policy, EOS)):
                cells[label] = evaluate_sampler(model, held, make(counts), region=region, seed=1, eos_id=eos)
            # answer check: a count rule without EOS settling spends exactly k forwards on every row
            assert cells["plain"].nfe == k, (name, k, cells["plain"].nfe)
            diff = cells["eos"].nll_rows - cells["plain"].nll_rows
            closed_diff = cells["closed+eos"].nll_rows - cells["plain"].nll_rows
            results.append({
                "rule": name, "k": k,
                **{label: (est.nfe, est.nll - entropy, est.stderr) for label, est in cells.items()},
                "delta_kl": (float(diff.mean()), float(diff.std(ddof=1) / math.sqrt(diff.size))),
                "closed_delta_kl": (float(closed_diff.mean()),
                                    float(closed_diff.std(ddof=1) / math.sqrt(closed_diff.size))),
            })
    return results


def print_table(results: list[dict[str, Any]]) -> None:
    print("| rule | k | no EOS option: NFE / KL | eos_id=2: NFE / KL | closed loop + eos_id=2: NFE / KL | "
          "eos_id minus no EOS: forwards saved; KL change (paired) | closed loop + eos_id minus no EOS: same |")
    print("|---|---|---|---|---|---|---|")
    for r in results:
        cells = [f"{nfe:.2f} / {kl:.3f} +- {se:.3f}" for nfe, kl, se in (r["plain"], r["eos"], r["closed+eos"])]
        for label, delta in (("eos", "delta_kl"), ("closed+eos", "closed_delta_kl")):
            cells.append(f"{r['plain'][0] - r[label][0]:.2f}; {r[delta][0]:+.3f} +- {r[delta][1]:.3f}")
        print(f"| {r['rule']} | {r['k']} | " + " | ".join(cells) + " |")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=400, help="rows per half (curve half, KL half)")
    parser.add_argument("--train-seconds", type=float, default=240.0)
    parser.add_argument("--train-steps", type=int, default=None, help="stop training at this step (reproducible)")
    args = parser.parse_args()
    n = 32
    start = time.perf_counter()
    model = train_model(n, args.train_seconds, args.train_steps)
    print(f"trained in {time.perf_counter() - start:.0f} s")
    data = EosChain(n).sample(2 * args.rows, np.random.default_rng(1))
    eos_at = np.where((data == EOS).any(axis=1), (data == EOS).argmax(axis=1), n)
    print(f"\nTrained tiny MDM on the absorbing-EOS chain, 31 answer positions after a 1-token prompt, "
          f"{args.rows} + {args.rows} rows, H(answer | prompt) = {answer_entropy(n):.3f} nats, "
          f"mean answer length {eos_at.mean() - 1:.1f}.")
    print_table(measure(model, data))
    print(f"\ntotal {time.perf_counter() - start:.0f} s")


if __name__ == "__main__":
    main()
