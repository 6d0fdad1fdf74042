"""SGLang plug-in: a ``DllmAlgorithm`` that commits by an mdmsched table or closed-loop policy (SPEC §5.4).

Follows ``sglang==0.5.23`` (PyPI; its wheel records no commit id; ``python/sglang/srt/dllm/algorithm/base.py``
sha256 ``44e9d9ab...``): SGLang runs a request block by block (``block_size`` positions, LLaDA2: 32); per block it
calls ``init_step_state(forward_batch)`` (one state per request), then after each forward pass ``step(forward_batch,
full_logits, states)``, which writes the committed tokens into ``forward_batch.input_ids`` in place and returns, per
request, whether the block had nothing left to commit at that pass (so the block's last forward persists its KV), at
most ``max_steps(block_size)`` times. Algorithms are found only inside SGLang's own package
(``sglang.srt.dllm.algorithm``, by the module attribute ``Algorithm``), so::

    python -m mdmsched.adapters.sglang install      # writes sglang/srt/dllm/algorithm/mdmsched_plan.py
    python -m sglang.launch_server --model-path inclusionAI/LLaDA2.0-mini --dllm-algorithm MdmschedPlan \\
        --dllm-algorithm-config plan.yaml

``plan.yaml`` (keys of :class:`PlanConfig`; ``python -m mdmsched.adapters.sglang config --table table.json --steps 8``
writes one)::

    table: /path/table.json   # mdmsched table --lengths 32 --steps 4,8,16 --out table.json
    steps: 8                  # forward passes per block the plan aims at (the table's k)
    tau: 0.95                 # also commit every masked position whose max probability is > tau (> 1: the pure plan)

Per block with ``m`` masked positions at its first pass, the count at each pass is the floor: the closed-loop
policy's ``count(m - masked, passes_left)`` when the table holds a policy for ``m`` (re-planning from the state
reached, so positions a threshold committed early shorten the rest of the plan), else the table's schedule for
``(m, steps)`` indexed by the pass. The top-``count`` masked positions by max probability are committed, plus every
masked position above ``tau`` (the floor + threshold rule of LLaDA2 / diffusers, mdmsched's
:class:`~mdmsched.samplers.rules.FloorThreshold`). The decision is the pure NumPy functions :func:`planned_count` and
:func:`commit_mask` (no sglang or torch import), tested against the policy on every state; only
:func:`make_algorithm` imports SGLang and torch.
"""

from __future__ import annotations

import argparse
import math
import os
import sys
from collections.abc import Mapping
from dataclasses import asdict, dataclass, fields
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray

from .._validation import as_count, as_int_array, as_real_array, as_tolerance
from .serving import ScheduleTable, TableMiss

__all__ = ["ALGORITHM_NAME", "SGLANG_VERSION", "PlanConfig", "commit_mask", "install", "make_algorithm",
           "planned_count", "uninstall"]

#: The SGLang release this plug-in follows.
SGLANG_VERSION = "0.5.23"
#: The name to pass to ``--dllm-algorithm``.
ALGORITHM_NAME = "MdmschedPlan"
_MODULE = "mdmsched_plan.py"


@dataclass(frozen=True)
class PlanConfig:
    """The plug-in's ``--dllm-algorithm-config`` keys. ``table``: path of an ``mdmsched table`` file; ``steps``: the
    budget ``k`` per block; ``tau``: confidence threshold (``None`` or ``> 1``: the pure plan); ``policy``: use the
    table's closed-loop policy for the block's masked count when it has one; ``at_most``: without an exact ``k``,
    the largest tabulated ``k <= steps``; ``nearest``: without the block's masked count ``m``, the nearest tabulated
    length rescaled; ``block_size``: SGLang's own key (its block length), passed through; ``log``: a file to which
    each finished block appends ``masked forwards`` (one line; what ``benchmarks/gpu/sglang_check.sh`` reads)."""

    table: str
    steps: int
    tau: float | None = None
    policy: bool = True
    at_most: bool = True
    nearest: bool = True
    block_size: int | None = None
    log: str | None = None

    def __post_init__(self) -> None:
        def fail(name: str, what: str, value: Any, kind: type[Exception] = TypeError) -> None:
            raise kind(f"dllm algorithm config: {name} must be {what}, got {type(value).__name__} {value!r}")

        if not isinstance(self.table, str):
            fail("table", "a path (string)", self.table)
        if not self.table:
            fail("table", "a non-empty path", self.table, ValueError)
        if type(self.steps) is not int:
            fail("steps", "an integer number of passes", self.steps)
        if not 1 <= self.steps <= 2**62:
            fail("steps", "a positive number of passes (at most 2**62)", self.steps, ValueError)
        if self.tau is not None:
            if isinstance(self.tau, bool) or not isinstance(self.tau, (int, float)):
                fail("tau", "a number or null", self.tau)
            if not math.isfinite(self.tau) or self.tau < 0:
                fail("tau", "finite and non-negative (above 1: the pure plan)", self.tau, ValueError)
        for name in ("policy", "at_most", "nearest"):
            if not isinstance(getattr(self, name), bool):
                fail(name, "true or false", getattr(self, name))
        if self.block_size is not None and type(self.block_size) is not int:
            fail("block_size", "an integer or absent", self.block_size)
        if self.block_size is not None and not 1 <= self.block_size <= 2**62:
            fail("block_size", "positive (at most 2**62)", self.block_size, ValueError)
        if self.log is not None and not isinstance(self.log, str):
            fail("log", "a path (string) or absent", self.log)

    @classmethod
    def from_mapping(cls, mapping: Any) -> PlanConfig:
        """From the YAML mapping SGLang hands the algorithm (``DllmConfig.algorithm_config``): one error naming the
        key -- ``ValueError`` for a missing or unknown key or a bad value, ``TypeError`` for a value of the wrong
        kind (or a config that is not a mapping)."""
        if not isinstance(mapping, Mapping):
            raise TypeError(f"dllm algorithm config must be a mapping, got {type(mapping).__name__}")
        known = [f.name for f in fields(cls)]
        unknown = sorted(set(mapping) - set(known) - {"capture_input_preparation"})  # an SGLang-wide key
        if unknown:
            raise ValueError(f"dllm algorithm config: unknown key(s) {unknown}; {ALGORITHM_NAME} takes {known}")
        missing = [name for name in ("table", "steps") if name not in mapping]
        if missing:
            raise ValueError(f"dllm algorithm config: missing key(s) {missing} ({ALGORITHM_NAME} needs table, steps)")
        return cls(**{k: mapping[k] for k in known if k in mapping})

    @classmethod
    def from_yaml(cls, text: str) -> PlanConfig:
        """Parse YAML as SGLang does (``yaml.safe_load``); a YAML syntax error is a ``ValueError`` too."""
        import yaml

        if not isinstance(text, (str, bytes)):
            raise TypeError(f"text must be YAML text (str), got {type(text).__name__}")
        try:
            data = yaml.safe_load(text)
        except yaml.YAMLError as exc:
            raise ValueError(f"dllm algorithm config is not YAML: {exc}") from None
        return cls.from_mapping(data or {})

    def to_yaml(self) -> str:
        """The YAML file SGLang reads (JSON scalars, which YAML reads back exactly); ``None`` keys are left out."""
        import json

        return "".join(f"{k}: {json.dumps(v)}\n" for k, v in asdict(self).items() if v is not None)

    def load_table(self) -> ScheduleTable:
        return ScheduleTable.load(self.table)


def planned_count(table: ScheduleTable, config: PlanConfig, masked_at_start: int, masked_now: int,
                  passes_done: int) -> int:
    """The floor for the next pass of a block that had ``masked_at_start`` masked positions and has ``masked_now``
    after ``passes_done`` passes: the policy's ``count(masked_at_start - masked_now, passes_left)`` (``passes_left =
    steps - passes_done`` clamped to ``1..masked_now``) when ``config.policy`` and the table has a policy for
    ``masked_at_start``, else the schedule's count at pass ``passes_done`` (its last pass's when past it). Always in
    ``1..masked_now``. O(1) lookups."""
    if not isinstance(table, ScheduleTable):
        raise TypeError(f"table must be a ScheduleTable (ScheduleTable.load), got {type(table).__name__}")
    if not isinstance(config, PlanConfig):
        raise TypeError(f"config must be a PlanConfig, got {type(config).__name__}")
    masked_at_start = as_count(masked_at_start, "masked_at_start", 1, 2**62)
    masked_now = as_count(masked_now, "masked_now", 0, masked_at_start)  # a block only loses masked positions
    passes_done = as_count(passes_done, "passes_done", 0, 2**62)
    if masked_now < 1:
        return 0
    if config.policy and str(masked_at_start) in table.policies:
        policy = table.policy(masked_at_start)
        left = min(max(config.steps - passes_done, 1), masked_now, policy.k)
        return policy.count(masked_at_start - masked_now, left)
    try:
        row = table.counts(masked_at_start, config.steps, at_most=config.at_most, nearest=config.nearest)[0]
    except TableMiss as exc:
        raise ValueError(f"{ALGORITHM_NAME}: {exc}") from None
    plan = [c for c in row if c]
    count = plan[passes_done] if passes_done < len(plan) else masked_now
    return max(1, min(count, masked_now))


def commit_mask(confidence: NDArray[np.floating[Any]], masked: NDArray[np.bool_], counts: NDArray[np.integer[Any]],
                tau: float | None) -> NDArray[np.bool_]:
    """Positions to commit, ``(B, L)`` bool: in each row the ``counts[r]`` masked positions of highest
    ``confidence`` (ties: lower position first; at least one, at most all masked), plus every masked position with
    confidence ``> tau`` (none when ``tau`` is None). Rows without masked positions commit nothing.
    O(B L log L)."""
    conf = as_real_array(confidence, "confidence", ndim=2)  # finite: a NaN confidence would sort anywhere
    mask = np.asarray(masked)
    if mask.dtype != np.bool_:
        raise TypeError(f"masked must be a bool array (True = masked), got dtype {mask.dtype}")
    if conf.shape != mask.shape:
        raise ValueError(f"confidence and masked must be (B, L) arrays of one shape, got {conf.shape}, {mask.shape}")
    wanted = as_int_array(counts, "counts").reshape(-1)
    if wanted.size != conf.shape[0]:
        raise ValueError(f"counts must hold one count per row ({conf.shape[0]}), got {wanted.size}")
    tau = None if tau is None else as_tolerance(tau, "tau")  # finite, >= 0; above 1 means "the floor only"
    available = mask.sum(axis=1)
    take = np.minimum(np.maximum(wanted, 1), available)  # documented clamp: at least one, at most all masked
    order = np.argsort(np.where(mask, -conf, np.inf), axis=1, kind="stable")
    ranks = np.empty_like(order)
    np.put_along_axis(ranks, order, np.broadcast_to(np.arange(conf.shape[1]), conf.shape), axis=1)
    out: NDArray[np.bool_] = (ranks < take[:, None]) & mask
    if tau is not None:
        out |= mask & (conf > tau)
    return out


def make_algorithm(base: type[Any] | None = None) -> type[Any]:
    """The ``DllmAlgorithm`` subclass ``MdmschedPlan`` (imports torch and, unless ``base`` is given,
    ``sglang.srt.dllm.algorithm.base.DllmAlgorithm``). Its ``__init__(config)`` reads ``config.algorithm_config``
    (:class:`PlanConfig`) and loads the table once; the state per request is a dict (masked count at the block's first
    pass, passes done)."""
    import torch

    if base is None:
        from sglang.srt.dllm.algorithm.base import DllmAlgorithm

        base = DllmAlgorithm
    parent: type[Any] = base

    def __init__(self: Any, config: Any) -> None:
        parent.__init__(self, config)
        raw = dict(config.algorithm_config or {})
        raw.setdefault("block_size", config.block_size)
        self.plan = PlanConfig.from_mapping(raw)
        self.table = self.plan.load_table()

    def init_step_state(self: Any, forward_batch: Any) -> list[dict[str, int | None]]:
        del self  # one fresh state per request: the masked count at the block's first pass, the passes done
        return [{"masked_at_start": None, "passes": 0} for _ in range(forward_batch.batch_size)]

    def max_steps(self: Any, block_size: int) -> int:
        del self
        return block_size + 1  # every pass commits >= 1 position, then one pass reports the block done

    def step(self: Any, forward_batch: Any, full_logits: Any, states: list[dict[str, Any]]) -> list[bool]:
        batch = forward_batch.batch_size
        logits = full_logits.view(batch, self.block_size, full_logits.shape[-1])
        input_ids = forward_batch.input_ids.view(batch, self.block_size)
        masked = input_ids == self.mask_id
        prompt = getattr(forward_batch, "dllm_prompt_mask", None)
        if prompt is not None:
            masked = torch.where(prompt, False, masked)
        probs = torch.softmax(logits.float(), dim=-1)
        confidence, tokens = probs.max(dim=-1)
        masked_np = masked.cpu().numpy()
        left = masked_np.sum(axis=1)
        counts = np.zeros(batch, dtype=np.int64)
        for r in range(batch):
            state = states[r]
            if left[r] == 0:
                if state["masked_at_start"] is not None and self.plan.log:
                    with Path(self.plan.log).open("a", encoding="utf-8") as f:
                        f.write(f"{state['masked_at_start']} {state['passes'] + 1}\n")
                    state["masked_at_start"] = None
                continue
            if state["masked_at_start"] is None:
                state["masked_at_start"] = int(left[r])
            counts[r] = planned_count(self.table, self.plan, state["masked_at_start"], int(left[r]), state["passes"])
            state["passes"] += 1
        chosen = commit_mask(confidence.float().cpu().numpy(), masked_np, counts, self.plan.tau)
        chosen_t = torch.from_numpy(chosen).to(input_ids.device)
        new_ids = torch.where(chosen_t, tokens.to(input_ids.dtype), input_ids)
        forward_batch.input_ids.copy_(new_ids.view(-1))  # in place: SGLang keeps the tensor (CUDA graphs)
        return [bool(v) for v in left == 0]

    return type(ALGORITHM_NAME, (parent,), {
        "__init__": __init__, "init_step_state": init_step_state, "max_steps": max_steps, "step": step,
        "__doc__": "Commits by an mdmsched table or closed-loop policy as a floor, plus positions above tau.",
        "__module__": __name__,
    })


# ---- installing into SGLang's algorithm package ----------------------------------------------------------------


def _algorithm_dir(sglang_dir: str | os.PathLike[str] | None) -> Path:
    if sglang_dir is None:
        import importlib.util

        spec = importlib.util.find_spec("sglang")  # locates the package without importing it
        if spec is None or spec.origin is None:
            raise ValueError("sglang is not installed here: pip install 'mdmsched[sglang]' (or pass --sglang-dir)")
        sglang_dir = Path(spec.origin).parent
    folder = Path(sglang_dir) / "srt" / "dllm" / "algorithm"
    if not (folder / "base.py").is_file():
        raise ValueError(f"{folder} has no base.py: not SGLang's dllm algorithm package (SGLang {SGLANG_VERSION})")
    return folder


def install(sglang_dir: str | os.PathLike[str] | None = None) -> Path:
    """Write ``mdmsched_plan.py`` (three lines: ``Algorithm = make_algorithm()``) into SGLang's algorithm package,
    where ``--dllm-algorithm MdmschedPlan`` finds it. Returns the file's path."""
    target = _algorithm_dir(sglang_dir) / _MODULE
    target.write_text("# Written by `python -m mdmsched.adapters.sglang install`: SGLang loads dLLM algorithms only "
                      "from this package.\nfrom mdmsched.adapters.sglang import make_algorithm\n\n"
                      "Algorithm = make_algorithm()\n", encoding="utf-8")
    return target


def uninstall(sglang_dir: str | os.PathLike[str] | None = None) -> bool:
    """Remove the module :func:`install` wrote; False when it was not there."""
    target = _algorithm_dir(sglang_dir) / _MODULE
    if not target.exists():
        return False
    target.unlink()
    return True


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m mdmsched.adapters.sglang", description=__doc__.split("\n\n")[0])
    sub = parser.add_subparsers(dest="command", required=True)
    for name in ("install", "uninstall"):
        cmd = sub.add_parser(name, help=f"{name} the plug-in module in SGLang's algorithm package")
        cmd.add_argument("--sglang-dir", help="the sglang package folder (default: the installed one)")
    cfg = sub.add_parser("config", help="write a --dllm-algorithm-config YAML (checked by loading its table)")
    cfg.add_argument("--table", required=True)
    cfg.add_argument("--steps", type=int, required=True)
    cfg.add_argument("--tau", type=float)
    cfg.add_argument("--no-policy", action="store_true")
    cfg.add_argument("--out", help="file to write (default: stdout)")
    args = parser.parse_args(argv)
    try:
        if args.command == "install":
            sys.stdout.write(f"{install(args.sglang_dir)}\n")
        elif args.command == "uninstall":
            sys.stdout.write("removed\n" if uninstall(args.sglang_dir) else "not installed\n")
        else:
            config = PlanConfig(table=str(Path(args.table).resolve()), steps=args.steps, tau=args.tau,
                                policy=not args.no_policy)
            config.load_table()
            text = config.to_yaml()
            if args.out:
                Path(args.out).write_text(text, encoding="utf-8")
            else:
                sys.stdout.write(text)
    except (ValueError, TypeError, OSError) as exc:
        sys.stderr.write(f"error: {exc}\n")
        return 2
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
