"""Shared sweeps on a TRAINED network (issue 25.1, "and the trained tiny MDM's number"): row-forwards of every default
rule evaluated alone vs one shared sweep, on the tiny transformer MDM of ``examples/train_tiny_mdm.py`` trained here.

    python benchmarks/measure_sweep_trained.py [--rows 40] [--train-seconds 120] [--block 8]

The model is trained on CPU (one torch thread) on the example's q = 6 Markov chain (prompt 8 + answer 32, the answer
generated in blocks of ``--block``); every rule of every default family (``default_family``) is then teacher-forced on
``--rows`` fresh chain rows, once rule by rule (``evaluate_sampler``) and once as a shared sweep (``evaluate_sweep``).
Row-forwards rule by rule are the rules' summed per-row NFE (each pass scores one row once); the sweep's are the distinct
states it sent to the model (``SweepResult.row_forwards``). Every rule's NLL and NFE must agree bit for bit.
Not a test (minutes); its numbers are in BENCHMARKS.md ("Shared sweeps").
"""

from __future__ import annotations

import argparse
import time

import numpy as np
from _examples import load_example

import mdmsched
import mdmsched.torch
from mdmsched.samplers import evaluate_sampler, evaluate_sweep
from mdmsched.samplers.families import FAMILY_NAMES, default_family


def main() -> None:
    import torch

    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=40)
    parser.add_argument("--train-seconds", type=float, default=120.0)
    parser.add_argument("--block", type=int, default=8)
    args = parser.parse_args()
    torch.set_num_threads(1)
    tiny = load_example("train_tiny_mdm")
    q, prompt, gen = 6, 8, 32
    n = prompt + gen
    chain = mdmsched.MarkovPredictor(tiny.make_chain(q, 0), n)
    net = tiny.TinyMDM(q, n)
    start = time.perf_counter()
    history = tiny.train(net, chain, prompt, seconds=args.train_seconds, batch=128, lr=2e-3, seed=0, log_every=60.0)
    net.eval()
    print(f"trained {time.perf_counter() - start:.0f} s, last masked CE {history[-1][1]:.3f} nats at step "
          f"{history[-1][0]}")
    model = mdmsched.torch.TorchModel(net, mask_id=q, vocab=q)
    data = chain.sample(args.rows, np.random.default_rng(1))
    region = np.arange(n) >= prompt
    lengths = [args.block] * (gen // args.block)
    rules = [default_family(f, lengths).rule(v, lengths) for f in FAMILY_NAMES for v in default_family(f, lengths).values]
    kwargs = {"region": region, "block_length": args.block, "seed": 0, "batch_size": 20}
    start = time.process_time()
    alone = [evaluate_sampler(model, data, rule, **kwargs) for rule in rules]
    alone_cpu = time.process_time() - start
    start = time.process_time()
    shared = evaluate_sweep(model, data, rules, **kwargs)
    shared_cpu = time.process_time() - start
    separate = int(sum(int(est.nfe_rows.sum()) for est in alone))
    same = sum(np.array_equal(a.nll_rows, s.nll_rows) and np.array_equal(a.nfe_rows, s.nfe_rows)
               for a, s in zip(alone, shared.estimates))
    print(f"{len(rules)} rules x {args.rows} rows, blocks of {args.block}: rule by rule {separate} row-forwards "
          f"({alone_cpu:.1f} CPU s), shared sweep {shared.row_forwards} ({shared_cpu:.1f} CPU s): "
          f"{separate / shared.row_forwards:.2f}x fewer forwards, {alone_cpu / shared_cpu:.2f}x CPU; "
          f"{same}/{len(rules)} rules bit for bit equal")
    for rule, a, s in zip(rules, alone, shared.estimates):
        if not (np.array_equal(a.nll_rows, s.nll_rows) and np.array_equal(a.nfe_rows, s.nfe_rows)):
            print(f"  differs: {rule!r}: max |nll| difference {np.abs(a.nll_rows - s.nll_rows).max():.3g} nats, "
                  f"NFE {a.nfe_rows.sum()} alone vs {s.nfe_rows.sum()} shared")
            for size in (40, 8, 7):  # the same rule alone at other batch sizes: the network's own float32 rounding
                other = evaluate_sampler(model, data, rule, **{**kwargs, "batch_size": size})
                print(f"    alone at batch_size {size} vs 20: max |nll| difference "
                      f"{np.abs(other.nll_rows - a.nll_rows).max():.3g} nats, NFE {other.nfe_rows.sum()}")


if __name__ == "__main__":
    main()
