"""Regenerate ``maskgit_schedules.json``: run MaskGIT's own ``parallel_decode.decode`` (imported from a checkout of
google-research/maskgit; none of its code is copied here) with a dummy model and record how many positions each pass
reveals, for every mask function mdmsched implements on a wide (n, k) grid.

    pip install jax jaxlib
    python tests/data/make_maskgit_schedules.py --maskgit CHECKOUT --methods exp log --grid full --out a.json
    python tests/data/make_maskgit_schedules.py --maskgit CHECKOUT --methods cosine uniform pow2 pow3 \
        --grid reduced --out b.json
    python tests/data/make_maskgit_schedules.py --merge a.json b.json --out tests/data/maskgit_schedules.json
    # the wider grid of issue 28, kept apart (tests/data/maskgit_schedules_wide.json)
    python tests/data/make_maskgit_schedules.py --maskgit CHECKOUT --methods exp log --grid wide --out c.json
    python tests/data/make_maskgit_schedules.py --maskgit CHECKOUT --methods cosine uniform pow2 pow3 \
        --grid wide-reduced --out d.json
    python tests/data/make_maskgit_schedules.py --merge c.json d.json --out tests/data/maskgit_schedules_wide.json

The counts are what decode realised: where float32 Gumbel confidences tie at the cut-off, decode masks fewer than its
``mask_len`` (random; seen at n >= 1000), which ``tests/schedules/test_maskgit_peer.py`` lists. Not run by the tests (JAX is
not a dependency, and the full grid takes about an hour on 2 busy cores); the tests read the JSON it wrote.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import subprocess
import sys
import types
from pathlib import Path
from typing import Any

import numpy as np

MASK = -1
METHODS = ("exp", "log", "cosine", "uniform", "pow2", "pow3")
MID_N = [129, 150, 192, 200, 255, 256, 257, 300, 333, 384, 500, 511, 512, 513, 640, 700, 768, 1000, 1023, 1024,
         1025, 1500, 2000, 2047, 2048, 3000, 4095, 4096, 4097]
BIG_N = [16384, 65536, 1_000_003]
# (n values, k values). "full": every n <= 128 with k <= 32, mid-size n up to k = 256, three large n; "reduced" (for
# the rules whose arithmetic has no log or exp): k <= 16 and three large n at k <= 7.
GRIDS = {
    "full": [([*range(1, 129), *MID_N], [*range(1, 17), 20, 24, 32]), (MID_N, [48, 64, 128, 256]),
             (BIG_N, [2, 3, 4, 7, 12, 16, 32])],
    "reduced": [([*range(1, 129), *MID_N], list(range(1, 17))), (BIG_N, [2, 3, 4, 7])],
    # issue 28 (maskgit_schedules_wide.json): every k the grids above skip up to 48 (log and exp) or 32 (the rest),
    # for every n <= 128; n = 100, k = 30 is where XLA's float32 log moved a count
    "wide": [(list(range(1, 129)), [k for k in range(17, 49) if k not in (20, 24, 32)])],
    "wide-reduced": [(list(range(1, 129)), [k for k in range(17, 33) if k not in (20, 24, 32)])],
}


def _load_decode(checkout: Path) -> Any:
    import jax
    import jax.numpy as jnp

    # parallel_decode annotates with jnp.DeviceArray (removed from JAX) and decorates State with
    # flax.struct.dataclass (a frozen dataclass registered as a pytree): stand-ins, so flax is not needed
    if not hasattr(jnp, "DeviceArray"):
        jnp.DeviceArray = jax.Array

    def pytree_dataclass(cls: type) -> type:
        cls = dataclasses.dataclass(frozen=True)(cls)
        names = [f.name for f in dataclasses.fields(cls)]
        return jax.tree_util.register_dataclass(cls, data_fields=names, meta_fields=[])

    flax, struct = types.ModuleType("flax"), types.ModuleType("flax.struct")
    struct.dataclass = pytree_dataclass  # type: ignore[attr-defined]
    flax.struct = struct  # type: ignore[attr-defined]
    sys.modules.update({"flax": flax, "flax.struct": struct})
    sys.path.insert(0, str(checkout))
    from maskgit.libml import parallel_decode

    return parallel_decode.decode


def reveal_counts(decode: Any, ns: list[int], k: int, method: str) -> list[list[int]]:
    """One batched decode: row b has ns[b] masked positions (the rest known). The dummy model records how many
    positions are still masked at each call; pass j reveals masked_j - masked_{j+1} (the last pass reveals the rest)."""
    import jax
    import jax.numpy as jnp

    sizes = np.asarray(ns)
    inputs = np.where(np.arange(sizes.max())[None, :] < sizes[:, None], MASK, 0).astype(np.int32)
    seen: list[np.ndarray] = []

    def tokens_to_logits(ids: Any) -> Any:
        jax.debug.callback(lambda m: seen.append(np.asarray(m)), jnp.sum(ids == MASK, axis=-1), ordered=True)
        # logits that depend on the ids: constant ones make XLA constant-fold the model at every compile (slow)
        return (ids[..., None] == jnp.arange(2)).astype(jnp.float32)

    out = decode(jnp.asarray(inputs), jax.random.PRNGKey(0), tokens_to_logits, mask_token_id=MASK, num_iter=k,
                 mask_scheduling_method=method)
    jax.block_until_ready(out)
    jax.effects_barrier()
    masked = np.stack(seen, axis=1).astype(np.int64)
    assert masked.shape == (len(ns), k) and (masked[:, 0] == sizes).all()
    after = np.concatenate([masked[:, 1:], np.zeros((len(ns), 1), np.int64)], axis=1)
    return (masked - after).tolist()


def _cpu_model() -> str:
    # XLA compiles for the host: fused multiply-adds and vector widths follow the CPU, so it is part of the provenance
    cpuinfo = Path("/proc/cpuinfo")
    if cpuinfo.is_file():
        for line in cpuinfo.read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    return "unknown CPU"


WIDE_COMMAND = ("python tests/data/make_maskgit_schedules.py --maskgit <checkout> --commit <sha> --methods log exp "
                "--grid wide --out c.json; ... --methods cosine uniform pow2 pow3 --grid wide-reduced --out d.json; "
                "... --merge c.json d.json --out tests/data/maskgit_schedules_wide.json")


def _provenance(commit: str, grids: dict[str, str]) -> dict[str, Any]:
    import jax
    import jaxlib

    return {
        "repo": "google-research/maskgit",
        "files": ["maskgit/libml/mask_schedule.py", "maskgit/libml/parallel_decode.py (decode)"],
        "commit": commit,
        "jax": jax.__version__, "jaxlib": jaxlib.__version__,
        "platform": f"{_cpu_model()}, XLA CPU, float32 (JAX defaults)",
        "grids": grids,
        "command": (WIDE_COMMAND if any(g.startswith("wide") for g in grids.values()) else
                    "python tests/data/make_maskgit_schedules.py --maskgit <checkout> --methods exp log --grid full "
                    "--out a.json; ... --methods cosine uniform pow2 pow3 --grid reduced --out b.json; "
                    "... --merge a.json b.json --out tests/data/maskgit_schedules.json"),
        "how": "MaskGIT's decode() run as written with num_iter = k and mask_scheduling_method = method on a batch of "
               "rows with n masked positions each; a dummy model records the masked count before each pass. "
               "counts[i][j] = positions revealed at pass j for n[i]; zeros are passes MaskGIT runs that reveal nothing.",
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--maskgit", type=Path, help="a checkout of google-research/maskgit")
    parser.add_argument("--commit", help="the checkout's commit, when it is not a git work tree")
    parser.add_argument("--methods", nargs="+", default=list(METHODS))
    parser.add_argument("--grid", choices=sorted(GRIDS), default="full")
    parser.add_argument("--merge", nargs="+", type=Path, help="join the outputs of earlier runs instead")
    parser.add_argument("--out", type=Path, required=True)
    args = parser.parse_args()
    if args.merge:
        parts = [json.loads(path.read_text()) for path in args.merge]
        provenance = parts[0]["provenance"]
        provenance["grids"] = {m: g for part in parts for m, g in part["provenance"]["grids"].items()}
        cases = [case for part in parts for case in part["cases"]]
        args.out.write_text(json.dumps({"provenance": provenance, "cases": cases}, separators=(",", ":")) + "\n")
        return
    if args.maskgit is None:
        parser.error("--maskgit is required (unless --merge)")
    commit = args.commit or subprocess.run(["git", "-C", str(args.maskgit), "rev-parse", "HEAD"],
                                           capture_output=True, text=True, check=False).stdout.strip()
    if not commit:
        parser.error("--maskgit is not a git work tree: give --commit")
    decode = _load_decode(args.maskgit)
    cases = []
    for method in args.methods:
        for ns, ks in GRIDS[args.grid]:
            for k in ks:
                cases.append({"method": method, "num_iter": k, "n": ns,
                              "counts": reveal_counts(decode, ns, k, method)})
                print(method, max(ns), k, file=sys.stderr, flush=True)
    provenance = _provenance(commit, dict.fromkeys(args.methods, args.grid))
    args.out.write_text(json.dumps({"provenance": provenance, "cases": cases}, separators=(",", ":")) + "\n")


if __name__ == "__main__":
    main()
