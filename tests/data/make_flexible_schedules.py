"""Regenerate ``flexible_schedules.json``: run OpenDLM's own ``FlexibleUnmaskingScheduler`` (Jianguo99/OpenDLM
``opendlm/sampler/scheduler/flexible.py``, imported from a checkout; none of its code is copied here) and record its
``transfer_nums`` (tokens revealed per step, zeros included) for every shape on a grid of lengths and steps.

    python tests/data/make_flexible_schedules.py --peer CHECKOUT --out tests/data/flexible_schedules.json

Only ``opendlm/sampler/scheduler/{base,flexible}.py`` are loaded (as the package ``opendlm.sampler.scheduler``
without running ``opendlm/__init__.py``, which imports transformers and the models). Needs torch and numpy; not run
by the tests, which read the JSON it wrote.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import subprocess
import sys
import types
from pathlib import Path
from typing import Any

SHAPES = ("linear", "cosine", "square", "cubic", "exponential", "sqrt", "log")
LENGTHS = [*range(1, 33), 40, 50, 64, 100, 127, 128, 255, 256, 257, 1000, 1024]
STEPS = [*range(1, 21), 24, 32, 64, 100]
EXP_K = [5, 1, 0.5, 20, -2]  # 5 is the peer's default
LOG_A = [9, 1, 99, -0.5]  # 9 is the peer's default


def _load(checkout: Path) -> Any:
    root = checkout / "opendlm" / "sampler" / "scheduler"
    for name in ("opendlm", "opendlm.sampler"):
        package = types.ModuleType(name)
        package.__path__ = []  # namespace stand-ins: opendlm/__init__.py is not run
        sys.modules[name] = package
    spec = importlib.util.spec_from_file_location("opendlm.sampler.scheduler", root / "__init__.py",
                                                  submodule_search_locations=[str(root)])
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module.FlexibleUnmaskingScheduler


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--peer", type=Path, required=True, help="a checkout of Jianguo99/OpenDLM")
    parser.add_argument("--commit", help="the checkout's commit, when it is not a git work tree")
    parser.add_argument("--out", type=Path, required=True)
    args = parser.parse_args()
    commit = args.commit or subprocess.run(["git", "-C", str(args.peer), "rev-parse", "HEAD"],
                                           capture_output=True, text=True, check=False).stdout.strip()
    if not commit:
        parser.error("--peer is not a git work tree: give --commit")
    import numpy as np
    import torch

    scheduler = _load(args.peer)
    cases = []
    for shape in SHAPES:
        params = [{"exp_k": k} for k in EXP_K] if shape == "exponential" else \
            [{"log_a": a} for a in LOG_A] if shape == "log" else [{}]
        for extra in params:
            for n in LENGTHS:
                for k in STEPS:
                    counts = scheduler(gen_length=n, timesteps=k, schedule_type=shape, **extra).transfer_nums
                    cases.append({"shape": shape, **extra, "n": n, "k": k, "counts": counts.tolist()})
    provenance = {
        "repo": "Jianguo99/OpenDLM", "commit": commit, "file": "opendlm/sampler/scheduler/flexible.py",
        "class": "FlexibleUnmaskingScheduler(gen_length=n, timesteps=k, schedule_type=shape, exp_k, log_a)"
                 ".transfer_nums",
        "torch": torch.__version__, "numpy": np.__version__,
        "command": "python tests/data/make_flexible_schedules.py --peer <checkout> "
                   "--out tests/data/flexible_schedules.json",
    }
    args.out.write_text(json.dumps({"provenance": provenance, "cases": cases}, separators=(",", ":")) + "\n")


if __name__ == "__main__":
    main()
