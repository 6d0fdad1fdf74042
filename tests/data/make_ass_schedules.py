"""Regenerate ``ass_schedules.json``: run ASS's own code (yjyddq/EOSER-ASS-RL ``eval/generate.py``, imported from a
checkout; none of its code is copied here) and record how many positions each pass reveals.

    python tests/data/make_ass_schedules.py --peer CHECKOUT --out tests/data/ass_schedules.json

Two kinds of case:

* ``"generate"``: ``ass_generate(model, prompt, tokenizer=None, steps, gen_length, block_num)`` run as written with
  a dummy model (two-token vocabulary, logits that depend on the position so confidences do not tie) that records
  how many generated positions are still masked before each forward pass; ``passes[j]`` = positions revealed by
  pass ``j``, ``left_masked`` = positions still masked at the end. Where ASS's own code refuses (its asserts) or fails
  (an index past ``num_transfer_tokens``), ``error`` holds the exception's type instead.
* ``"function"``: ``get_num_transfer_tokens_ass(prompt, steps, [gen_length])`` (one block of ``gen_length``): the
  count list the function itself computes.

``torch.distributed`` is initialised as a single-process gloo group (``ass_generate`` calls ``dist.get_rank()`` for
its progress bar); ``torch.autocast(device_type="cuda")`` disables itself on a CPU-only torch. Not run by the tests
(torch is optional); the tests read the JSON it wrote.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import subprocess
import sys
import warnings
from pathlib import Path
from typing import Any

MASK = 126336  # ass_generate's default mask_id
SMALL = list(range(1, 131))
MID = [200, 255, 256, 257, 300, 333, 500, 511, 512, 513, 1000, 1023, 1024, 1025, 2047, 2048, 2049, 4095, 4096]
# around powers of two, where ASS's float32 log2 can round up to the next integer
BIG = sorted({v for m in range(13, 23) for v in (2**m - 1, 2**m, 2**m + 1)})


class _Out:
    def __init__(self, logits: Any) -> None:
        self.logits = logits


class _Recorder:
    """A stand-in model: records the masked count of the generated region before each pass."""

    def __init__(self, prompt_length: int) -> None:
        self.prompt_length = prompt_length
        self.masked: list[int] = []

    def __call__(self, x: Any) -> _Out:
        import torch

        self.masked.append(int((x[0, self.prompt_length:] == MASK).sum()))
        positions = torch.arange(x.shape[1], dtype=torch.float32)
        # confidence falls with the position (no ties): logits (0, 1 + position / length)
        logits = torch.stack([torch.zeros_like(positions), 1.0 + positions / x.shape[1]], dim=-1)
        return _Out(logits[None].expand(x.shape[0], -1, -1))


def _load(checkout: Path) -> Any:
    spec = importlib.util.spec_from_file_location("ass_peer_generate", checkout / "eval" / "generate.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _generate(peer: Any, n: int, steps: int, block_num: int) -> dict[str, Any]:
    import torch

    prompt = torch.full((1, 3), 7, dtype=torch.long)
    model = _Recorder(prompt.shape[1])
    case: dict[str, Any] = {"kind": "generate", "gen_length": n, "steps": steps, "block_num": block_num}
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            x = peer.ass_generate(model, prompt, None, steps=steps, gen_length=n, block_num=block_num)
    except (AssertionError, IndexError, RuntimeError, ValueError) as exc:
        case["error"] = type(exc).__name__
        return case
    left = int((x[0, prompt.shape[1]:] == MASK).sum())
    after = [*model.masked[1:], left]
    case["passes"] = [m - a for m, a in zip(model.masked, after)]
    case["left_masked"] = left
    return case


def _function(peer: Any, n: int, steps: int) -> dict[str, Any]:
    import torch

    counts = peer.get_num_transfer_tokens_ass(torch.zeros((1, 3), dtype=torch.long), steps, [n])
    return {"kind": "function", "gen_length": n, "steps": steps, "counts": counts[0].tolist()}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--peer", type=Path, required=True, help="a checkout of yjyddq/EOSER-ASS-RL")
    parser.add_argument("--commit", help="the checkout's commit, when it is not a git work tree")
    parser.add_argument("--out", type=Path, required=True)
    args = parser.parse_args()
    commit = args.commit or subprocess.run(["git", "-C", str(args.peer), "rev-parse", "HEAD"],
                                           capture_output=True, text=True, check=False).stdout.strip()
    if not commit:
        parser.error("--peer is not a git work tree: give --commit")
    import torch
    import torch.distributed as dist

    os.environ.setdefault("MASTER_ADDR", "127.0.0.1")
    os.environ.setdefault("MASTER_PORT", "29517")
    dist.init_process_group("gloo", rank=0, world_size=1)
    peer = _load(args.peer)
    cases = []
    for n in SMALL + MID:
        top = n.bit_length()  # floor(log2 n) + 1: one past the largest steps ASS accepts
        for steps in range(1, top + 1):
            for block_num in range(1, steps + 2):
                cases.append(_generate(peer, n, steps, block_num))
            cases.append(_function(peer, n, steps))
    for n in BIG:
        for steps in (n.bit_length() - 1, n.bit_length()):
            for block_num in (1, 2, steps):
                cases.append(_generate(peer, n, steps, block_num))
        print(n, file=sys.stderr, flush=True)
    dist.destroy_process_group()
    provenance = {
        "repo": "yjyddq/EOSER-ASS-RL", "commit": commit, "file": "eval/generate.py",
        "functions": ["ass_generate", "get_num_transfer_tokens_ass"],
        "torch": torch.__version__, "platform": "CPU (torch float32 log2 for ASS's S)",
        "command": "python tests/data/make_ass_schedules.py --peer <checkout> --out tests/data/ass_schedules.json",
        "how": __doc__.split("\n\n", 2)[2].split("\n\n``torch")[0],
    }
    args.out.write_text(json.dumps({"provenance": provenance, "cases": cases}, separators=(",", ":")) + "\n")


if __name__ == "__main__":
    main()
