"""Task accuracy and KL on real data, end to end (issue 24 item 4): the standard-library byte MDM restoring masked
spans of held-out source lines, every sampler family at a few NFE budgets, on one map with both axes.

    python examples/stdlib_mdm.py --out runs/stdlib                       # train first (CPU, about 10 min)
    python examples/stdlib_task_map.py --checkpoint runs/stdlib --out runs/stdlib/task_map.json

Items (``stdlib_task.py``): ``--items`` spans of ``--span`` bytes in test-split lines (scored), and
``--calibration-items`` from the validation split, on which the random-order curve ``Z^g`` is estimated (for the
optimal schedule) and the adaptive rules are calibrated to each budget -- so nothing is tuned on the scored items.

Per budget ``k`` (forward passes for the span): RandomOrder with LLaDA's equal split and with the optimal schedule of
the estimated curve, TopK by max probability and by margin (equal split), Threshold (``tau``), EntropyBounded
(``gamma``) and FloorThreshold (floor counts ``k'``, ``tau = 0.9``) calibrated on the validation items to mean NFE
closest to ``k``. One :func:`mdmsched.samplers.sampler_map` call with ``task=`` scores each rule on the same test
items on both axes:

* KL: the teacher-forced NLL of the span, ``E[NLL] = KL + H(span | context)``: the constant is unknown, so the table
  reports NLL (nats per span) and only differences are KLs;
* accuracy (``evaluate_task``: real generation, the rule choosing and the model drawing): "the restored line
  tokenizes" (the map's task score) and, rescored from the same generated rows, exact match of the span and byte
  accuracy (``stdlib_scorers``); intervals clustered by prompt (``accuracy_interval``).

Then Kendall's tau-b between the KL and accuracy rankings within each budget (``rank_agreement``, pooled, bootstrap
over prompts and rows) per metric, and the paired optimal-vs-equal-split comparison (``compare_samplers`` /
``compare_tasks``) at every budget where the two schedules differ.
"""

from __future__ import annotations

import argparse
import dataclasses
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
    Family,
    FloorThreshold,
    RandomOrder,
    Task,
    Threshold,
    TopK,
    calibrate,
    compare_samplers,
    compare_tasks,
    sampler_map,
)
from mdmsched.samplers.agreement import rank_agreement
from mdmsched.samplers.families import FLOOR_TAU, equal_counts
from mdmsched.samplers.task import accuracy_interval
from mdmsched.torch import TorchModel

sys.path.insert(0, str(Path(__file__).resolve().parent))
from stdlib_data import MASK_ID, VOCAB, load_corpus
from stdlib_model import load_checkpoint
from stdlib_scorers import SCORERS
from stdlib_task import TaskItems, make_items, write_jsonl

BATCH = 256  # rows per forward pass
PRIMARY = "tokenizes"  # the map's task score; the others are rescored from the same generated rows


def parse(argv: Sequence[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--checkpoint", type=Path, required=True, help="directory written by stdlib_mdm.py --out")
    p.add_argument("--items", type=int, default=512, help="scored test-split items")
    p.add_argument("--calibration-items", type=int, default=128, help="validation-split items (curve, calibration)")
    p.add_argument("--span", type=int, default=8, help="masked bytes per item")
    p.add_argument("--budgets", type=int, nargs="+", default=[2, 3, 4], help="NFE budgets for the span")
    p.add_argument("--samples", type=int, default=1, help="samples per prompt for the accuracy")
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


def families_for(budgets: Sequence[int], span: int, curve: Any, model: Any, calib: TaskItems,
                 seed: int) -> tuple[list[Family], dict[str, Any]]:
    """The seven rule families over the budgets (adaptive ones at their calibrated values, in budget order) and how
    each value was set."""
    optimal = {k: optimal_for(curve, k) for k in budgets}
    ks = tuple(float(k) for k in budgets)
    families = [
        Family("random equal", "k", ks, lambda v, b: RandomOrder(equal_counts(int(v), b))),
        Family("random optimal", "k", ks, lambda v, _: RandomOrder(optimal[int(v)][0])),
        Family("top-k max_prob", "k", ks, lambda v, b: TopK(equal_counts(int(v), b), "max_prob")),
        Family("top-k margin", "k", ks, lambda v, b: TopK(equal_counts(int(v), b), "margin")),
    ]
    settings: dict[str, Any] = {"optimal": {k: {"sizes": [int(s) for s in optimal[k][0].sizes],
                                                "equal": equal_counts(k, [span])[0], "warnings": optimal[k][1]}
                                            for k in budgets}}
    for name, family, make in (("threshold", "threshold", lambda v, _: Threshold(v)),
                               ("entropy bounded", "entropy_bounded", lambda v, _: EntropyBounded(v)),
                               ("floor+threshold", "floor_threshold",
                                lambda v, b: FloorThreshold(equal_counts(int(v), b), tau=FLOOR_TAU))):
        found = [calibrate(model, calib.references, family, k, region=calib.region, seed=seed, iterations=8,
                           batch_size=BATCH) for k in budgets]
        settings[name] = [{"budget": k, c.parameter: c.value, "validation_nfe": c.nfe} for k, c in zip(budgets, found)]
        families.append(Family(name, found[0].parameter, tuple(c.value for c in found), make))
        print(f"  calibrated {name}: " + ", ".join(f"k={k}: {c.parameter}={c.value:.4g} (NFE {c.nfe:.2f})"
                                                  for k, c in zip(budgets, found)), flush=True)
    return families, settings


def rescore(estimate: Any, items: TaskItems, score: Any) -> Any:
    """The same generated rows (``estimate.outputs``, row ``p * S + s``) scored with another ``score``, with the
    package's clustered interval."""
    samples = estimate.samples_per_prompt
    values = np.array([score(items.prompts[r // samples], estimate.outputs[r], items.references[r // samples])
                       for r in range(estimate.outputs.shape[0])])
    mean, lower, upper = accuracy_interval(values, samples, estimate.confidence)
    return dataclasses.replace(estimate, accuracy=mean, lower=lower, upper=upper, values=values)


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
    print(f"{len(test)} test items, {len(calib)} validation items, span {args.span} of {length} bytes", flush=True)
    curve = mdmsched.estimate_curve(model, calib.references, region=region, reps=4, seed=args.seed)
    print(f"curve g_0 = {curve.h[0]:.3f} nats/byte (all masked), g_(n-1) = {curve.h[-1]:.3f} (one masked)", flush=True)
    families, settings = families_for(args.budgets, args.span, curve, model, calib, args.seed)

    task = Task(test.prompts, SCORERS[PRIMARY], references=list(test.references), region=region,
                samples_per_prompt=args.samples)
    kl_map = sampler_map(model, test.references, families, region=region, seed=args.seed, batch_size=BATCH,
                         task=task)
    edges = [k - 0.5 for k in args.budgets] + [args.budgets[-1] + 0.5]  # by the teacher-forced mean NFE
    per_metric: dict[str, list[Any]] = {PRIMARY: [row.task for row in kl_map.rows]}
    for metric, score in SCORERS.items():
        if metric != PRIMARY:
            per_metric[metric] = [rescore(row.task, test, score) for row in kl_map.rows]
    rows = []
    for j, row in enumerate(kl_map.rows):
        entry = {"budget": args.budgets[j % len(args.budgets)],  # each family's values are in budget order
                 "rule": row.family, "parameter": row.parameter, "value": row.value, "repr": row.rule,
                 "nll": row.nll, "nll_stderr": row.stderr, "teacher_nfe": row.nfe, "sample_nfe": row.task_nfe}
        for metric, estimates in per_metric.items():
            est = estimates[j]
            entry.update({metric: est.accuracy, f"{metric}_lower": est.lower, f"{metric}_upper": est.upper})
        rows.append(entry)
        print(f"  {row.family:16s} {row.parameter}={row.value:<8.4g} NLL {row.nll:7.3f} +- {row.stderr:.3f}  "
              f"NFE {row.nfe:.2f}/{row.task_nfe:.2f}  exact {entry['exact']:.3f} [{entry['exact_lower']:.3f}, "
              f"{entry['exact_upper']:.3f}]  tokenizes {entry['tokenizes']:.3f} [{entry['tokenizes_lower']:.3f}, "
              f"{entry['tokenizes_upper']:.3f}]  bytes {entry['byte_accuracy']:.3f}", flush=True)

    taus = {}
    nll_rows = np.stack([row.estimate.nll_rows for row in kl_map.rows])
    nfe = [row.nfe for row in kl_map.rows]
    for metric, estimates in per_metric.items():
        agree = rank_agreement(nfe, nll_rows, np.stack([e.prompt_accuracies for e in estimates]), budgets=edges,
                               seed=args.seed)
        taus[metric] = {"tau": agree.tau, "lower": agree.lower, "upper": agree.upper, "summary": str(agree),
                        "per_budget": [dataclasses.asdict(b) for b in agree.per_budget]}
        print(f"Kendall tau-b (-KL vs {metric}): {agree}", flush=True)

    paired = []
    for budget in args.budgets:
        schedule, equal = settings["optimal"][budget]["sizes"], settings["optimal"][budget]["equal"]
        entry: dict[str, Any] = {"budget": budget, "optimal": schedule, "equal": equal}
        if schedule == equal:
            entry["note"] = "the optimal schedule is LLaDA's equal split: the difference is 0 by construction"
            paired.append(entry)
            print(f"  k={budget}: optimal = equal split {equal}", flush=True)
            continue
        optimal, even = RandomOrder([schedule]), RandomOrder([equal])
        kl = compare_samplers(model, test.references, optimal, even, region=region, seed=args.seed, batch_size=BATCH)
        entry.update(kl_diff=kl.value, kl_lower=kl.lower, kl_upper=kl.upper)
        line = f"  k={budget} optimal {schedule} - equal {equal}: KL {kl.value:+.3f} [{kl.lower:+.3f}, {kl.upper:+.3f}]"
        for metric in ("exact", "tokenizes"):
            acc = compare_tasks(model, test.prompts, optimal, even, SCORERS[metric], references=list(test.references),
                                region=region, samples_per_prompt=args.samples, seed=args.seed, batch_size=BATCH)
            entry.update({f"{metric}_diff": acc.value, f"{metric}_lower": acc.lower, f"{metric}_upper": acc.upper})
            line += f", {metric} {acc.value:+.3f} [{acc.lower:+.3f}, {acc.upper:+.3f}]"
        paired.append(entry)
        print(line, flush=True)

    result: dict[str, Any] = {"checkpoint": str(args.checkpoint), "model": meta["model"], "items": len(test),
                              "calibration_items": len(calib), "span": args.span, "budgets": args.budgets,
                              "samples_per_prompt": args.samples, "seed": args.seed, "settings": settings,
                              "curve_g": curve.h.tolist(), "rows": rows, "kendall_tau": taus, "paired": paired,
                              "frontier": {"nfe": kl_map.frontier_nfe.tolist(), "nll": kl_map.frontier_nll.tolist()},
                              "seconds": round(time.perf_counter() - started, 1)}
    if args.out is not None:
        args.out.write_text(json.dumps(result, indent=1, default=float))
        print(f"saved {args.out}", flush=True)
    return result


if __name__ == "__main__":
    main()
