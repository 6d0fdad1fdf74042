"""Train a byte-level masked diffusion model on the Python standard library's own source (issue 24, real data).

    python examples/stdlib_mdm.py --minutes 10 --out runs/stdlib          # CPU default (2 cores: about 10 min)
    python examples/stdlib_mdm.py --device cuda --minutes 5 --width 256 --layers 6 --out runs/stdlib-gpu

Data (``stdlib_data.py``): the interpreter's stdlib ``.py`` files without test suites or site-packages, split 80/10/10
by a hash of each file's relative path; training windows of ``--length`` bytes at random offsets of the train split.
Model and objective (``stdlib_model.py``): conv + transformer byte MDM, the MDLM/LLaDA ELBO (``t ~ U(1e-3, 1)``,
masked positions weighted ``1/t``). Training stops at ``--minutes`` of wall time (or ``--max-steps``).

Acceptance (printed, and asserted unless ``--no-check``): the validation split's masked cross-entropy at 15% masking
is at least ``--min-gap`` (0.5) nats/byte below that at 90% -- otherwise context does not help the model and every
sampler ties.

``--out DIR`` gets ``model.pt`` (state dict), ``config.json`` (model config, corpus summary, objective, time),
``curve.json`` and ``curve.csv`` (training curve: step, seconds, train masked CE, validation CE at 15% / 90%).
"""

from __future__ import annotations

import argparse
import csv
import json
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import torch

sys.path.insert(0, str(Path(__file__).resolve().parent))
from stdlib_data import load_corpus, sample_windows
from stdlib_model import (
    ByteMDM,
    ModelConfig,
    cosine_lr,
    elbo_loss,
    masked_cross_entropy,
    save_checkpoint,
)

LOW, HIGH = 0.15, 0.90  # the acceptance check's masking ratios


def acceptance(ce_low: float, ce_high: float, min_gap: float) -> tuple[bool, float]:
    """``(passed, gap)``: ``gap = ce_high - ce_low`` (nats/byte) and whether it is at least ``min_gap``."""
    gap = ce_high - ce_low
    return bool(gap >= min_gap), gap


def parse(argv: Sequence[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--minutes", type=float, default=10.0, help="training wall time (default 10)")
    p.add_argument("--max-steps", type=int, default=None, help="stop after this many steps (default: time only)")
    p.add_argument("--device", default="cpu")
    p.add_argument("--width", type=int, default=128)
    p.add_argument("--layers", type=int, default=3)
    p.add_argument("--heads", type=int, default=4)
    p.add_argument("--kernel", type=int, default=7, help="1-D convolution width in front of the transformer")
    p.add_argument("--length", type=int, default=128, help="window length n (bytes)")
    p.add_argument("--batch", type=int, default=64)
    p.add_argument("--lr", type=float, default=2e-3)
    p.add_argument("--eval-rows", type=int, default=512, help="validation windows for the curve and the check")
    p.add_argument("--eval-every", type=float, default=60.0, help="seconds between validation points")
    p.add_argument("--min-gap", type=float, default=0.5)
    p.add_argument("--no-check", action="store_true", help="print the acceptance check without asserting it")
    p.add_argument("--threads", type=int, default=1, help="torch CPU threads (1: fastest on a shared 2-core machine)")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--out", type=Path, default=None)
    return p.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> dict[str, Any]:
    args = parse(argv)
    torch.set_num_threads(args.threads)
    torch.manual_seed(args.seed)
    rng = np.random.default_rng(args.seed)
    corpus = load_corpus()
    summary = corpus.summary()
    print(f"Python {summary['python']}: {summary['total_files']} files, {summary['total_bytes']:,} bytes "
          f"(train/validation/test files {summary['files']})", flush=True)
    config = ModelConfig(length=args.length, width=args.width, layers=args.layers, heads=args.heads,
                         kernel=args.kernel)
    net = ByteMDM(config).to(args.device)
    params = sum(p.numel() for p in net.parameters())
    print(f"training a {params:,}-parameter byte MDM for {args.minutes:g} min on {args.device}", flush=True)
    valid = sample_windows(corpus.data["validation"], args.eval_rows, args.length, np.random.default_rng(12345))

    def evaluate() -> tuple[float, float]:
        net.eval()
        low = masked_cross_entropy(net, valid, LOW, seed=1, device=args.device)
        high = masked_cross_entropy(net, valid, HIGH, seed=2, device=args.device)
        net.train()
        return low, high

    opt = torch.optim.AdamW(net.parameters(), lr=args.lr, weight_decay=0.01, betas=(0.9, 0.98))
    budget = 60.0 * args.minutes
    curve: list[dict[str, float]] = []
    net.train()
    start = time.perf_counter()
    last_eval = start
    step, window, count = 0, 0.0, 0
    while True:
        elapsed = time.perf_counter() - start
        for group in opt.param_groups:
            group["lr"] = cosine_lr(args.lr, elapsed / budget, step)
        x = torch.from_numpy(sample_windows(corpus.data["train"], args.batch, args.length, rng)).to(args.device)
        loss, mean_ce = elbo_loss(net, x, rng)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(net.parameters(), 1.0)
        opt.step()
        step += 1
        window += mean_ce
        count += 1
        now = time.perf_counter()
        done = now - start >= budget or (args.max_steps is not None and step >= args.max_steps)
        if now - last_eval >= args.eval_every or done:
            train_seconds = now - start
            low, high = evaluate()
            curve.append({"step": step, "seconds": round(train_seconds, 1), "train_masked_ce": window / count,
                          "valid_ce_15": low, "valid_ce_90": high})
            print(f"  step {step:6d}  {train_seconds:6.0f} s  train masked CE {window / count:.3f}  "
                  f"validation CE @15% {low:.3f}  @90% {high:.3f} nats/byte", flush=True)
            window, count = 0.0, 0
            last_eval = time.perf_counter()
            start += last_eval - now  # evaluation time is not training time
        if done:
            break
    seconds = time.perf_counter() - start
    low, high = curve[-1]["valid_ce_15"], curve[-1]["valid_ce_90"]
    passed, gap = acceptance(low, high, args.min_gap)
    print(f"acceptance: validation masked CE {low:.3f} @15% vs {high:.3f} @90% nats/byte: gap {gap:.3f} "
          f"({'>=' if passed else '<'} {args.min_gap}) -> {'PASS' if passed else 'FAIL'}", flush=True)
    result = {"corpus": summary, "objective": "MDLM/LLaDA ELBO: t~U(1e-3,1) per row, masked CE weighted 1/t, / (B n)",
              "parameters": params, "steps": step, "train_seconds": round(seconds, 1), "device": args.device,
              "threads": args.threads, "batch": args.batch, "lr": args.lr, "seed": args.seed,
              "acceptance": {"ce_15": low, "ce_90": high, "gap": gap, "min_gap": args.min_gap, "passed": passed}}
    if args.out is not None:
        save_checkpoint(net.cpu(), args.out, result)
        (args.out / "curve.json").write_text(json.dumps(curve, indent=1))
        with (args.out / "curve.csv").open("w", newline="") as f:
            writer = csv.DictWriter(f, fieldnames=list(curve[0]))
            writer.writeheader()
            writer.writerows(curve)
        print(f"saved {args.out}/model.pt, config.json, curve.json, curve.csv", flush=True)
    if not args.no_check:
        assert passed, f"acceptance failed: CE gap {gap:.3f} < {args.min_gap} nats/byte (15% vs 90% masking)"
    return {**result, "curve": curve, "net": net}


if __name__ == "__main__":
    main()
