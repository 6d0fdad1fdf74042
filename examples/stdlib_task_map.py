"""Task accuracy and KL on real data, end to end (issue 24 item 4): the standard-library byte MDM restoring masked
spans of held-out source lines, every sampler family at a few NFE budgets.

    python examples/stdlib_mdm.py --out runs/stdlib                       # train first (CPU, about 10 min)
    python examples/stdlib_task_map.py --checkpoint runs/stdlib --out runs/stdlib/task_map.json

Items (``stdlib_task.py``): ``--items`` spans of ``--span`` bytes in test-split lines (scored), and
``--calibration-items`` from the validation split, on which the random-order curve ``Z^g`` is estimated (for the
optimal schedule) and the adaptive rules are calibrated to each budget -- so nothing is tuned on the scored items.

Per budget ``k`` (forward passes for the span): RandomOrder with LLaDA's equal split and with the optimal schedule of
the estimated curve, TopK by max probability and by margin (equal split), Threshold (``tau``), EntropyBounded
(``gamma``) and FloorThreshold (floor counts ``k'``, ``tau = 0.9``) calibrated on the validation items to mean NFE
closest to ``k``. Each rule is scored on the same test items on both axes:

* KL: the teacher-forced NLL of the span (``evaluate_sampler``), ``E[NLL] = KL + H(span | context)``: the
  constant is unknown, so the table reports NLL (nats per span) and only differences are KLs;
* accuracy: exact match of the span and "the restored line tokenizes" (``stdlib_scorers``), from samples drawn
  with the rule (``evaluate_task``: the package's when it exists, else ``stdlib_task_eval``'s stand-in).

Then Kendall's tau-b between the KL ranking and the accuracy ranking of the rules within each budget (pooled over
budgets, item-bootstrap interval), and the paired optimal-vs-equal-split comparison on both axes.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
import warnings
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import torch

import mdmsched
from mdmsched.samplers import (
    EntropyBounded,
    FloorThreshold,
    RandomOrder,
    Threshold,
    TopK,
    calibrate,
    compare_samplers,
    evaluate_sampler,
    sampler_map,
)
from mdmsched.samplers.families import FLOOR_TAU, equal_counts
from mdmsched.torch import TorchModel

sys.path.insert(0, str(Path(__file__).resolve().parent))
import stdlib_task_eval as standin
from stdlib_data import MASK_ID, VOCAB, load_corpus
from stdlib_model import load_checkpoint
from stdlib_scorers import SCORERS
from stdlib_task import make_items, write_jsonl

evaluate_task = getattr(mdmsched.samplers, "evaluate_task", None) or standin.evaluate_task
compare_tasks = getattr(mdmsched.samplers, "compare_tasks", None) or standin.compare_tasks
BATCH = 256  # rows per forward pass


def parse(argv: Sequence[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--checkpoint", type=Path, required=True, help="directory written by stdlib_mdm.py --out")
    p.add_argument("--items", type=int, default=512, help="scored test-split items")
    p.add_argument("--calibration-items", type=int, default=128, help="validation-split items (curve, calibration)")
    p.add_argument("--span", type=int, default=8, help="masked bytes per item")
    p.add_argument("--budgets", type=int, nargs="+", default=[2, 3, 4], help="NFE budgets for the span")
    p.add_argument("--samples", type=int, default=1, help="samples per prompt for the accuracy")
    p.add_argument("--map", action="store_true", help="also run sampler_map (KL side, default sweeps + frontier)")
    p.add_argument("--threads", type=int, default=1)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--jsonl", type=Path, default=None, help="write the scored items as JSONL (mdmsched map --task)")
    p.add_argument("--out", type=Path, default=None, help="JSON with every number")
    return p.parse_args(argv)


def optimal_for(curve: Any, budget: int) -> tuple[Any, list[str]]:
    """The optimal schedule of the estimated curve in ``budget`` steps, and the warnings it gave (a curve
    indistinguishable from flat gets the certified schedule instead, with a ``FlatCurveWarning``)."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        schedule = curve.optimal_schedule(budget)
    return schedule, [str(w.message) for w in caught]


def rules_for(budget: int, span: int, curve: Any, model: Any, calib: Any, region: np.ndarray,
              seed: int) -> dict[str, tuple[Any, dict[str, Any]]]:
    """Every rule at one budget, with how it was set (calibrated values and their validation NFE)."""
    counts = equal_counts(budget, [span])
    optimal, caught = optimal_for(curve, budget)
    out: dict[str, tuple[Any, dict[str, Any]]] = {
        "random equal": (RandomOrder(counts), {"sizes": counts[0]}),
        "random optimal": (RandomOrder(optimal), {"sizes": [int(s) for s in optimal.sizes],
                                                  "warnings": caught}),
        "top-k max_prob": (TopK(counts, "max_prob"), {"sizes": counts[0]}),
        "top-k margin": (TopK(counts, "margin"), {"sizes": counts[0]}),
    }
    for name, family, make in (("threshold", "threshold", Threshold),
                               ("entropy bounded", "entropy_bounded", EntropyBounded),
                               ("floor+threshold", "floor_threshold",
                                lambda v: FloorThreshold(equal_counts(int(v), [span]), tau=FLOOR_TAU))):
        cal = calibrate(model, calib.references, family, budget, region=region, seed=seed, iterations=8,
                        batch_size=BATCH)
        out[name] = (make(cal.value), {cal.parameter: cal.value, "validation_nfe": cal.nfe})
    return out


def task_scores(model: Any, items: Any, rule: Any, samples: int, seed: int) -> dict[str, Any]:
    """Every metric of :data:`SCORERS` for one rule, from the same samples: the stand-in returns its completed rows,
    so one generation serves all metrics; otherwise one ``evaluate_task`` call per metric with the same seed."""
    same = {"references": items.references, "region": items.region, "samples_per_prompt": samples, "seed": seed}
    first = evaluate_task(model, items.prompts, rule, SCORERS["exact"], **same)
    outputs = getattr(first, "outputs", None)
    out = {"exact": first}
    for metric, score in list(SCORERS.items())[1:]:
        if outputs is None:
            out[metric] = evaluate_task(model, items.prompts, rule, score, **same)
        else:
            out[metric] = standin.rescore(first, items.prompts, items.references, score)
    return out


def main(argv: Sequence[str] | None = None) -> dict[str, Any]:
    args = parse(argv)
    torch.set_num_threads(args.threads)
    started = time.perf_counter()
    net, meta = load_checkpoint(args.checkpoint)
    length = meta["model"]["length"]
    model = TorchModel(net, mask_id=MASK_ID, vocab=VOCAB)
    corpus = load_corpus()
    test = make_items(corpus, args.items, n=length, span=args.span, split="test", seed=args.seed)
    calib = make_items(corpus, args.calibration_items, n=length, span=args.span, split="validation", seed=args.seed)
    region = test.region
    if args.jsonl is not None:
        write_jsonl(test, args.jsonl)
    print(f"{len(test)} test items, {len(calib)} validation items, span {args.span} of {length} bytes; "
          f"evaluate_task: {evaluate_task.__module__}", flush=True)
    curve = mdmsched.estimate_curve(model, calib.references, region=region, reps=4, seed=args.seed)
    print(f"curve g_0 = {curve.h[0]:.3f} nats/byte (all masked), g_(n-1) = {curve.h[-1]:.3f} (one masked)", flush=True)

    rows: list[dict[str, Any]] = []
    per_rule: list[dict[str, Any]] = []
    for budget in args.budgets:
        for name, (rule, setting) in rules_for(budget, args.span, curve, model, calib, region, args.seed).items():
            kl = evaluate_sampler(model, test.references, rule, region=region, seed=args.seed, batch_size=BATCH)
            scores = task_scores(model, test, rule, args.samples, args.seed)
            row = {"budget": budget, "rule": name, "repr": repr(rule), "setting": setting,
                   "nll": kl.nll, "nll_stderr": kl.stderr, "teacher_nfe": kl.nfe,
                   "sample_nfe": scores["exact"].nfe,
                   **{f"{m}": s.accuracy for m, s in scores.items()},
                   **{f"{m}_lower": s.lower for m, s in scores.items()},
                   **{f"{m}_upper": s.upper for m, s in scores.items()}}
            rows.append(row)
            per_rule.append({"kl": kl.nll_rows, "budget": budget, **{m: s.values for m, s in scores.items()}})
            print(f"  k={budget} {name:16s} NLL {kl.nll:7.3f} +- {kl.stderr:.3f}  NFE {kl.nfe:.2f}/{row['sample_nfe']:.2f}"
                  f"  exact {row['exact']:.3f} [{row['exact_lower']:.3f}, {row['exact_upper']:.3f}]"
                  f"  tokenizes {row['tokenizes']:.3f}  bytes {row['byte_accuracy']:.3f}", flush=True)

    groups = [r["budget"] for r in per_rule]
    taus = {}
    for metric in SCORERS:
        tau, low, high = standin.kendall_tau_interval([r["kl"] for r in per_rule], [r[metric] for r in per_rule],
                                                      groups, seed=args.seed)
        taus[metric] = {"tau": tau, "lower": low, "upper": high}
        print(f"Kendall tau-b (-KL vs {metric}, within budgets): {tau:.3f} [{low:.3f}, {high:.3f}]", flush=True)

    paired = []
    for budget in args.budgets:
        counts = equal_counts(budget, [args.span])
        schedule, _ = optimal_for(curve, budget)
        optimal = RandomOrder(schedule)
        kl = compare_samplers(model, test.references, optimal, RandomOrder(counts), region=region, seed=args.seed,
                              batch_size=BATCH)
        entry = {"budget": budget, "optimal": [int(v) for v in schedule.sizes], "equal": counts[0],
                 "kl_diff": kl.value, "kl_lower": kl.lower, "kl_upper": kl.upper}
        line = f"  k={budget} optimal - equal split: KL {kl.value:+.3f} [{kl.lower:+.3f}, {kl.upper:+.3f}] nats"
        for metric in ("exact", "tokenizes"):
            acc = compare_tasks(model, test.prompts, optimal, RandomOrder(counts), SCORERS[metric],
                                references=test.references, region=region, samples_per_prompt=args.samples,
                                seed=args.seed)
            entry.update({f"{metric}_diff": acc.value, f"{metric}_lower": acc.lower, f"{metric}_upper": acc.upper})
            line += f", {metric} {acc.value:+.3f} [{acc.lower:+.3f}, {acc.upper:+.3f}]"
        paired.append(entry)
        print(line, flush=True)

    result: dict[str, Any] = {"checkpoint": str(args.checkpoint), "model": meta["model"], "items": len(test),
                              "calibration_items": len(calib), "span": args.span, "budgets": args.budgets,
                              "samples_per_prompt": args.samples, "seed": args.seed,
                              "evaluate_task": evaluate_task.__module__,
                              "curve_g": curve.h.tolist(), "rows": rows, "kendall_tau": taus, "paired": paired}
    if args.map:
        kl_map = sampler_map(model, test.references, region=region, seed=args.seed)
        result["sampler_map"] = kl_map.to_dict()
        print(f"sampler_map: {kl_map}", flush=True)
    result["seconds"] = round(time.perf_counter() - started, 1)
    if args.out is not None:
        args.out.write_text(json.dumps(result, indent=1))
        print(f"saved {args.out}", flush=True)
    return result


if __name__ == "__main__":
    main()
