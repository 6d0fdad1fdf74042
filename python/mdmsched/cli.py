"""The ``mdmsched`` command line. Bad input ends with a one-line message on stderr and exit code 2."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any, Sequence

import numpy as np
from numpy.typing import NDArray

from .examples import EXAMPLES, example_curve
from .solve import Schedule, min_steps, optimal_schedule


class CliError(Exception):
    """Bad input from the command line: reported in one line, exit code 2."""


def load_curve(path: str) -> NDArray[np.float64]:
    """A curve from ``.npy``, ``.csv``/``.txt`` (numbers separated by commas or white space) or ``.json`` (a list)."""
    file = Path(path)
    if not file.is_file():
        raise CliError(f"no such curve file: {path}")
    try:
        if file.suffix == ".npy":
            return np.asarray(np.load(file, allow_pickle=False), dtype=np.float64)
        if file.suffix == ".json":
            data = json.loads(file.read_text())
            if isinstance(data, dict):
                data = data.get("Z", data.get("curve"))
            return np.asarray(data, dtype=np.float64)
        text = file.read_text().replace(",", " ")
        return np.asarray([float(tok) for tok in text.split()], dtype=np.float64)
    except (ValueError, TypeError, OSError) as exc:
        raise CliError(f"cannot read a curve from {path}: {exc}") from None


def _curve_from_args(args: argparse.Namespace) -> tuple[NDArray[np.float64], str]:
    if args.curve is not None:
        return load_curve(args.curve), args.curve
    name = args.example or "saturating"
    return example_curve(name), f"example '{name}'"


def _schedule_dict(schedule: Schedule) -> dict[str, Any]:
    return {
        "name": schedule.name,
        "n": schedule.n,
        "k": schedule.k,
        "sizes": schedule.tolist(),
        "breakpoints": [int(b) for b in schedule.breakpoints],
        "error": schedule.error,
    }


def _cmd_solve(args: argparse.Namespace) -> None:
    z, source = _curve_from_args(args)
    if args.eps is not None:
        schedule = min_steps(z, args.eps, method=args.method)
    else:
        steps = args.steps if args.steps is not None else min(16, z.size)
        schedule = optimal_schedule(z, steps, method=args.method)
    if args.json:
        print(json.dumps({"source": source, "tc": float(np.sum(z)), "schedule": _schedule_dict(schedule)}))
        return
    print(f"curve: {source}, n = {z.size}, TC = sum(Z) = {float(np.sum(z)):.6g} nats")
    print(f"optimal {schedule.k}-step schedule (expected KL = {schedule.error:.6g} nats):")
    print("  sizes:", " ".join(map(str, schedule.tolist())))


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="mdmsched", description="Optimal unmasking schedules for masked diffusion models.")
    sub = parser.add_subparsers(dest="command")
    solve = sub.add_parser("solve", help="optimal schedule for a curve (file or built-in example)")
    solve.add_argument("curve", nargs="?", help="curve file: .npy, .csv/.txt or .json (Z_1..Z_n, nats)")
    solve.add_argument("--example", choices=sorted(EXAMPLES), help="a built-in example curve instead of a file")
    budget = solve.add_mutually_exclusive_group()
    budget.add_argument("--steps", "-k", type=int, help="exact number of steps (default 16)")
    budget.add_argument("--eps", type=float, help="fewest steps with expected KL <= EPS nats")
    solve.add_argument("--method", default="auto", choices=["auto", "fast", "naive", "hull", "lagrangian"])
    solve.add_argument("--json", action="store_true", help="machine-readable output")
    solve.set_defaults(func=_cmd_solve)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``mdmsched`` console script."""
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.command is None:  # no subcommand: show the main job on the built-in example
        args = parser.parse_args(["solve"])
    try:
        args.func(args)
    except (CliError, ValueError, TypeError) as exc:
        print(f"mdmsched: error: {exc}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
