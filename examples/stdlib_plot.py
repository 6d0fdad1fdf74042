"""The record's figure for the standard-library example: training curve and accuracy against KL per rule.

    python examples/stdlib_plot.py runs/stdlib/curve.json runs/stdlib/task_map.json docs/stdlib-realdata.png [metric]

``metric``: the accuracy axis, ``tokenizes`` (default), ``exact`` or ``byte_accuracy``.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import matplotlib as mpl

mpl.use("Agg")
import matplotlib.pyplot as plt


def main(curve_path: str, task_path: str, out: str, metric: str = "tokenizes") -> None:
    curve = json.loads(Path(curve_path).read_text())
    task = json.loads(Path(task_path).read_text())
    fig, (left, right) = plt.subplots(1, 2, figsize=(9, 3.4), dpi=90)
    seconds = [p["seconds"] / 60 for p in curve]
    left.plot(seconds, [p["valid_ce_15"] for p in curve], "o-", ms=3, label="validation, 15% masked")
    left.plot(seconds, [p["valid_ce_90"] for p in curve], "s-", ms=3, label="validation, 90% masked")
    left.set(xlabel="training minutes (CPU, 1 thread)", ylabel="masked CE (nats/byte)", title="training")
    left.legend(fontsize=8)
    markers = dict(zip(sorted({r["rule"] for r in task["rows"]}), "os^vDP*X"))
    colours = dict(zip(task["budgets"], ["C0", "C1", "C2", "C3", "C4"]))
    for row in task["rows"]:
        right.errorbar(row["nll"], row[metric], xerr=row["nll_stderr"],
                       yerr=[[row[metric] - row[f"{metric}_lower"]], [row[f"{metric}_upper"] - row[metric]]],
                       fmt=markers[row["rule"]], color=colours[row["budget"]], ms=5, lw=0.7)
    for rule, m in markers.items():
        right.plot([], [], m, color="grey", label=rule)
    for budget, c in colours.items():
        right.plot([], [], "-", color=c, label=f"{budget} passes")
    right.set(xlabel=f"NLL of the {task['span']}-byte span (nats) = KL + const", ylabel={"tokenizes": "restored line tokenizes", "exact": "exact match"}.get(metric, metric),
              title=f"{task['items']} held-out spans")
    right.legend(fontsize=6, ncol=2)
    fig.tight_layout()
    fig.savefig(out)


if __name__ == "__main__":
    main(*sys.argv[1:5])
