"""Summarise a pytest-benchmark JSON file as a Markdown table: median per benchmark and its ratio to the group's
reference (the entry whose name contains "reference", else the slowest).

    python -m pytest benchmarks/ --full --benchmark-enable --benchmark-json=bench.json && python benchmarks/report.py bench.json
"""

from __future__ import annotations

import json
import sys
from collections import defaultdict
from pathlib import Path


def _fmt(seconds: float) -> str:
    for unit, scale in (("s", 1.0), ("ms", 1e-3), ("µs", 1e-6)):
        if seconds >= scale:
            return f"{seconds / scale:.3g} {unit}"
    return f"{seconds * 1e9:.3g} ns"


def main(path: str) -> None:
    with Path(path).open() as handle:
        data = json.load(handle)
    groups: dict[str, list[dict]] = defaultdict(list)
    for bench in data["benchmarks"]:
        groups[bench.get("group") or bench["name"]].append(bench)
    print(f"machine: {data['machine_info'].get('cpu', {}).get('brand_raw', '?')}, "
          f"{data['machine_info'].get('python_version')}, {data['datetime']}\n")
    print("| group | benchmark | median | rounds | speed-up vs baseline (reference, else slowest) |")
    print("|---|---|---|---|---|")
    for group, benches in groups.items():
        refs = [b for b in benches if "reference" in b["name"]]
        ref = refs[0] if refs else max(benches, key=lambda b: b["stats"]["median"])
        for b in sorted(benches, key=lambda b: b["stats"]["median"]):
            ratio = ref["stats"]["median"] / b["stats"]["median"]
            name = b["name"].split("[")[0].removeprefix("test_")
            params = b["name"][len(b["name"].split("[")[0]):]
            base = ref["name"].removeprefix("test_")
            cell = "baseline" if b is ref else f"{ratio:,.1f}x vs {base}"
            print(f"| {group} | {name}{params} | {_fmt(b['stats']['median'])} | {b['stats']['rounds']} | {cell} |")


if __name__ == "__main__":
    main(sys.argv[1])
