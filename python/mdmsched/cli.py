"""The ``mdmsched`` command line (also ``python -m mdmsched``).

Subcommands: ``demo``, ``solve``, ``frontier``, ``compare``, ``curve``, ``table``, ``map``. Every one takes ``--json`` for machine-readable
output on stdout (keys documented in the README and in ``mdmsched --help``). Bad input ends with a one-line message on
stderr and exit code 2, never a traceback.
"""

from __future__ import annotations

import argparse
import os
import sys
import zipfile
from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path
from typing import Any, NoReturn

import numpy as np
from numpy.typing import NDArray

from ._schedule import Schedule
from ._validation import METHODS, as_curve
from .adapters.serving import build_table
from .compare import compare
from .curves.exact import average_entropies, dual_total_correlation, information_curve, total_correlation
from .curves.examples import EXAMPLES, demo_distribution, example_curve
from .curves.hygiene import curve_from_entropies, fit_curve
from .io import load_curve, load_curve_family, load_distribution, save_curve, strict_json
from .solve import error_frontier, min_steps, optimal_schedule

JSON_KEYS = """JSON output (--json), one object on stdout:
  solve:    command, source, n, tc, schedule{name, n, k, sizes, breakpoints, error}
  frontier: command, source, n, k_max, errors (errors[k-1] = opt_k, nats)
  compare:  command, source, n, k, optimal_error, rows[{name, k, sizes, error, ratio, bound, li_cai}]
  curve:    command, source, n, Z, e, tc, dtc, out
  demo:     command, n, Z, tc, dtc, optimal[schedule...], comparison{k, optimal_error, rows}, plots
  table:    command, format, source, fit, units, lengths, steps, block_lengths, skipped[[n, B, k]],
            schedules{"<n>": {"<B>": {"<k>": {k, error, sizes, blocks, num_transfer_tokens}}}}
            (B = "full" without --block-lengths; blocks[b] = block b's step sizes; num_transfer_tokens[b][i] =
            tokens to commit at step i of block b, zero-padded: a LLaDA-style loop indexes it directly);
            with --policy also block_policies{"<n>": {"<B>": {"<k>": [{k, count} per block]}}}
  map:      command, model, rows_used, seed, n, block_length, entropy, units, rows[{family, parameter, value, rule, nfe,
            tokens_per_forward, nll, stderr, kl}], frontier{nfe, nll, kl, offset}, calibrated{family, parameter,
            value, budget, nfe, nll, stderr, kl} (with --budget); with --task each row adds accuracy, lower, upper,
            task_nfe, task_tokens_per_forward, and the object adds kl_predicts_accuracy{tau, lower, upper,
            confidence, summary} and accuracy_tpf_area{family: area}
All entropies and errors are in nats."""


class CliError(Exception):
    """Bad input from the command line: reported in one line, exit code 2."""


#: Exceptions that mean "bad input" (files, arguments, values): one line on stderr and exit code 2, no traceback.
#: EOFError: an empty .npy; BadZipFile: a truncated .npz; KeyError: a missing array inside an .npz.
#: RecursionError: an input nested too deeply for a decoder (the package itself never recurses on its data).
INPUT_ERRORS = (CliError, ValueError, TypeError, OSError, MemoryError, EOFError, OverflowError, KeyError,
                zipfile.BadZipFile, RecursionError)

#: Exit code after a closed output pipe (``mdmsched ... | head``): 128 + SIGPIPE, what a Unix tool killed by the
#: signal reports, with nothing printed.
EXIT_BROKEN_PIPE = 141


class OneLineParser(argparse.ArgumentParser):
    """An ArgumentParser whose usage errors are one line on stderr (``mdmsched: error: ...``) and exit code 2."""

    def error(self, message: str) -> NoReturn:
        self.exit(2, f"mdmsched: error: {' '.join(message.split())} (see mdmsched --help)\n")


def _curve_from_args(args: argparse.Namespace) -> tuple[NDArray[np.float64], str]:
    """The source curve, validated as every solver input is (finite, 1-D, ``Z_1 = 0``, non-decreasing)."""
    if args.curve is not None and args.example is not None:
        raise CliError("give a curve file or --example, not both")
    if args.curve is not None:
        raw = load_curve(args.curve)
        try:
            return as_curve(raw), args.curve
        except (ValueError, TypeError) as exc:
            raise CliError(f"{args.curve}: {exc}") from None
    if args.example is None:  # never a silent built-in answer to a forgotten file name
        raise CliError(f"{args.command} needs a curve file or --example NAME (one of {', '.join(sorted(EXAMPLES))})")
    return example_curve(args.example), f"example:{args.example}"


def schedule_dict(schedule: Schedule) -> dict[str, Any]:
    """A schedule as JSON-ready dict."""
    return {"name": schedule.name, "n": schedule.n, "k": schedule.k, "sizes": schedule.tolist(),
            "breakpoints": [int(b) for b in schedule.breakpoints], "error": schedule.error}


def _emit(args: argparse.Namespace, payload: dict[str, Any], text: str) -> None:
    out = getattr(args, "out", None)
    if out and args.command in ("solve", "frontier", "compare", "table"):
        Path(out).write_text(strict_json(payload) + "\n")  # the JSON result, for other tools
        text += f"\nwrote {out}"
    print(strict_json(payload) if args.json else text)


def _cmd_solve(args: argparse.Namespace) -> None:
    z, source = _curve_from_args(args)
    if args.eps is not None:
        schedule = min_steps(z, args.eps, method=args.method)
    else:
        schedule = optimal_schedule(z, args.steps if args.steps is not None else min(16, z.size), method=args.method)
    text = (f"curve: {source}, n = {z.size}, TC = sum(Z) = {float(np.sum(z)):.6g} nats\n"
            f"optimal {schedule.k}-step schedule, expected KL = {schedule.error:.6g} nats\n"
            f"sizes: {' '.join(map(str, schedule.tolist()))}")
    if args.plot:
        from .plot import plot_curve

        text += f"\nwrote {_save_plot(plot_curve(z, schedule), args.plot)}"
    _emit(args, {"command": "solve", "source": source, "n": int(z.size), "tc": float(np.sum(z)),
                 "schedule": schedule_dict(schedule)}, text)


def _cmd_frontier(args: argparse.Namespace) -> None:
    z, source = _curve_from_args(args)
    k_max = args.k_max if args.k_max is not None else min(z.size, 64)
    errors = error_frontier(z, k_max)
    text = "\n".join([f"curve: {source}, n = {z.size}", "    k   optimal expected KL (nats)"] +
                     [f"{k:5d}   {e:.6g}" for k, e in enumerate(errors, start=1)])
    if args.plot:
        from .plot import plot_frontier

        text += f"\nwrote {_save_plot(plot_frontier(z, k_max), args.plot)}"
    _emit(args, {"command": "frontier", "source": source, "n": int(z.size), "k_max": int(k_max),
                 "errors": errors.tolist()}, text)


def _cmd_compare(args: argparse.Namespace) -> None:
    z, source = _curve_from_args(args)
    table = compare(z, args.steps if args.steps is not None else min(16, z.size))
    _emit(args, {"command": "compare", "source": source, "n": table.n, "k": table.k,
                 "optimal_error": table.optimal_error, "rows": table.to_dicts()}, f"curve: {source}\n{table}")


def _int_list(text: str, what: str) -> list[int]:
    try:
        values = [int(tok) for tok in text.replace(",", " ").split()]
    except ValueError:
        raise CliError(f"{what} must be integers separated by commas, got {text!r}") from None
    if not values or min(values) < 1:
        raise CliError(f"{what} must be positive integers, got {text!r}")
    return sorted(set(values))


def _cmd_table(args: argparse.Namespace) -> None:
    lengths = _int_list(args.lengths, "--lengths")
    steps = _int_list(args.steps, "--steps")
    block_lengths: list[int | None] = list(_int_list(args.block_lengths, "--block-lengths")) if args.block_lengths \
        else [None]
    if args.family is not None:
        if args.curve is not None or args.example is not None:
            raise CliError("give a curve file, --example or --family, not two of them")
        family, source = load_curve_family(args.family), args.family
        missing = [n for n in lengths if n not in family]
        if missing:
            raise CliError(f"{args.family} has no curve for length(s) {missing}; it has {sorted(family)}")
        per_length = {n: family[n] for n in lengths}
    else:
        z, source = _curve_from_args(args)
        per_length = {n: fit_curve(z, n, args.fit) for n in lengths}
    for n in lengths:
        as_curve(per_length[n], f"curve for length {n}")  # the CLI's message names the length before any solving
    built = build_table(per_length, steps, block_lengths, fit=args.fit, closed_loop=args.policy)
    schedules, skipped = built["schedules"], built["skipped"]
    count = sum(len(v) for b in schedules.values() for v in b.values())
    payload = {"command": "table", "source": source, **built, "fit": None if args.family is not None else args.fit}
    text = (f"curve: {source}; {count} optimal schedules for lengths {lengths}, steps {steps}"
            + (f", block lengths {payload['block_lengths']}" if args.block_lengths else "")
            + (f"; skipped {len(skipped)} infeasible (n, B, k)" if skipped else "")
            + ("; with the closed-loop policy of each" if args.policy else ""))
    if not args.out and not args.json:
        text += "\n(use --out FILE or --json to get the table)"
    _emit(args, payload, text)


def _wants_progress(args: argparse.Namespace) -> bool:
    return bool(args.progress or sys.stderr.isatty())


def _cmd_curve(args: argparse.Namespace) -> None:
    dist = load_distribution(args.distribution)
    e = average_entropies(dist, progress=_wants_progress(args))
    z = curve_from_entropies(e)
    tc, dtc = total_correlation(dist), dual_total_correlation(dist)
    if args.out:
        save_curve(z, args.out)
    text = (f"distribution: {args.distribution}, n = {z.size}, TC = {tc:.6g} nats, DTC = {dtc:.6g} nats\n"
            f"Z = {np.array2string(z, precision=5)}" + (f"\nwritten to {args.out}" if args.out else ""))
    _emit(args, {"command": "curve", "source": args.distribution, "n": int(z.size), "Z": z.tolist(),
                 "e": e.tolist(), "tc": tc, "dtc": dtc, "out": args.out}, text)


def _cmd_demo(args: argparse.Namespace) -> None:
    p = demo_distribution()
    z = information_curve(p, progress=_wants_progress(args))
    tc, dtc = total_correlation(p), dual_total_correlation(p)
    optimal = [optimal_schedule(z, k) for k in (2, 4, 8)]
    table = compare(z, 4)
    plots = [] if args.no_plots else _demo_plots(z, optimal[1], Path(args.out or "."))
    lines = [
        "mdmsched demo: 16 binary tokens, 70% Ising chain + 30% even-parity code",
        f"information curve Z (nats): {np.array2string(z, precision=4, max_line_width=110)}",
        f"TC = {tc:.5g} nats (error of one step), DTC = {dtc:.5g} nats",
        "",
        "optimal schedules (sizes to paste into a sampler):",
    ]
    lines += [f"  k = {s.k}: {s.tolist()}  expected KL = {s.error:.5g} nats" for s in optimal]
    lines += ["", str(table), ""]
    lines += [f"wrote {path}" for path in plots] if plots else ["(plots skipped)"]
    _emit(args, {"command": "demo", "n": int(z.size), "Z": z.tolist(), "tc": tc, "dtc": dtc,
                 "optimal": [schedule_dict(s) for s in optimal],
                 "comparison": {"k": table.k, "optimal_error": table.optimal_error, "rows": table.to_dicts()},
                 "plots": plots}, "\n".join(lines))


def _real_list(text: str, what: str) -> list[float]:
    try:
        values = [float(part) for part in text.split(",") if part.strip()]
    except ValueError:
        raise CliError(f"{what} must be comma-separated numbers, got {text!r}") from None
    if not values:
        raise CliError(f"{what} must list at least one number, got {text!r}")
    return values


def _cmd_map(args: argparse.Namespace) -> None:
    from .samplers import calibrate, default_family, sampler_map
    from .samplers.demo_model import STICKY_CHAIN, markov_example, markov_region_entropy
    from .samplers.families import FAMILY_NAMES

    task = None
    if args.task is not None:
        from .io import load_task_jsonl

        task = load_task_jsonl(args.task, args.score, args.samples,
                               decode=lambda tokens: " ".join(str(int(t)) for t in tokens))
        if args.n is not None and args.n != task.prompts.shape[1]:
            raise CliError(f"--n {args.n} differs from the --task prompts' length {task.prompts.shape[1]}")
        args.n = int(task.prompts.shape[1])
    args.n = 32 if args.n is None else args.n
    example = markov_example(args.n, args.rows, args.seed)
    names = FAMILY_NAMES if args.families is None else tuple(p.strip() for p in args.families.split(",") if p.strip())
    unknown = [name for name in names if name not in FAMILY_NAMES]
    if unknown or not names:
        raise CliError(f"--families must be names from {','.join(FAMILY_NAMES)}, got {args.families!r}")
    lengths = [min(args.block_length or args.n, args.n - s) for s in range(0, args.n, args.block_length or args.n)]
    families = [default_family(name, lengths, _real_list(args.taus, "--taus") if name == "threshold" and args.taus
                               else None) for name in names]
    entropy = example.entropy
    if task is not None:  # the data rows generate the first line's span given the rest: H(X_span | X_rest)
        span = np.flatnonzero(task.region[0])
        entropy = markov_region_entropy(STICKY_CHAIN, args.n, int(span[0]), int(span[-1]) + 1)
        example = replace(example, entropy=entropy)
    result = sampler_map(example.model, example.rows, families, block_length=args.block_length, seed=args.seed,
                         entropy=example.entropy, progress=_wants_progress(args), task=task,
                         region=None if task is None else task.region[0])
    payload: dict[str, Any] = {"command": "map", "model": "sticky 3-state Markov chain (exact conditionals)",
                               "rows_used": int(example.rows.shape[0]), "seed": args.seed, **result.to_dict()}
    header = (f"model: sticky 3-state Markov chain, n = {result.n}, {example.rows.shape[0]} rows, "
              f"H(mu) = {example.entropy:.4f} nats, block length {args.block_length or 'none'}")
    columns = (f"{'family':16s} {'param':>6s} {'value':>8s} {'NFE':>8s} {'tok/fwd':>8s} {'KL (nats)':>10s} "
               f"{'+-':>7s}")
    lines = [header, columns]
    for row in result.rows:
        lines.append(f"{row.family:16s} {row.parameter:>6s} {row.value:8.4g} {row.nfe:8.3f} "
                     f"{row.tokens_per_forward:8.3f} {row.nll - example.entropy:10.4f} {row.stderr:7.3f}")
    lines.append(f"KL = mean NLL sum over the {example.rows.shape[0]} rows minus H(mu) (exact here): an estimate, "
                 "so a KL within about 2 standard errors (+-) of 0, even a negative one, is sampling noise; "
                 "without H(mu) a map's numbers are the KL up to that constant")
    lines.append("optimal random order (frontier): " + ", ".join(
        f"NFE {k}: {v - example.entropy:.4f}" for k, v in zip(result.frontier_nfe.tolist(), result.frontier_nll)
        if k in (1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1024) or k == result.frontier_nfe[-1]))
    if result.has_task:
        lines.append(f"task {args.task}: {task.prompts.shape[0]} prompts x {args.samples} samples, score "  # type: ignore[union-attr]
                     f"{args.score}")
        for row in result.rows:
            lines.append(f"{row.family:16s} {row.value:8.4g} accuracy {row.accuracy:.3f} [{row.lower:.3f}, "
                         f"{row.upper:.3f}] at {row.task_tokens_per_forward:.3f} tokens/forward")
        lines.append(str(result.kl_predicts_accuracy()))
        lines.append("area under accuracy vs tokens/forward (trapezoid): " + ", ".join(
            f"{name} {area:.3f}" for name, area in result.accuracy_tpf_area().items()))
    if args.budget is not None:
        tuned = calibrate(example.model, example.rows, args.calibrate, args.budget, block_length=args.block_length,
                          seed=args.seed)
        est = tuned.estimate
        payload["calibrated"] = {"family": tuned.family, "parameter": tuned.parameter, "value": tuned.value,
                                 "budget": tuned.budget, "nfe": est.nfe, "nll": est.nll, "stderr": est.stderr,
                                 "kl": est.nll - example.entropy}
        lines.append(f"calibrated {tuned.family}: {tuned.parameter} = {tuned.value:.6g} gives mean NFE "
                     f"{est.nfe:.3f} (budget {tuned.budget:g}), KL {est.nll - example.entropy:.4f} +- "
                     f"{est.stderr:.3f} nats")
    text = "\n".join(lines)
    if args.plot:
        from .plot import plot_sampler_map

        text += f"\nwrote {_save_plot(plot_sampler_map(result), args.plot)}"
    _emit(args, payload, text)


def _save_plot(drawn: Any, path: str) -> str:
    """Save ``drawn`` (a Figure, or an Axes: its figure) as a PNG and close it."""
    import matplotlib.pyplot as plt

    figure = drawn if hasattr(drawn, "savefig") else drawn.figure
    figure.savefig(path, dpi=110, bbox_inches="tight")
    plt.close(figure)
    return path


def _use_agg() -> None:
    try:
        import matplotlib as mpl
    except ImportError:
        raise CliError("plotting needs matplotlib: pip install 'mdmsched[plot]'") from None
    mpl.use("Agg")


def _demo_plots(z: NDArray[np.float64], schedule: Schedule, folder: Path) -> list[str]:
    try:
        _use_agg()
    except CliError:
        print("mdmsched: matplotlib is not installed, skipping plots (pip install 'mdmsched[plot]')", file=sys.stderr)
        return []
    from .plot import plot_curve, plot_frontier

    folder.mkdir(parents=True, exist_ok=True)
    return [_save_plot(plot_curve(z, schedule), str(folder / "mdmsched-curve.png")),
            _save_plot(plot_frontier(z, z.size), str(folder / "mdmsched-frontier.png"))]


def build_parser() -> argparse.ArgumentParser:
    """The argument parser (exposed for documentation and tests)."""
    parser = OneLineParser(prog="mdmsched", description="Optimal unmasking schedules for masked diffusion models.",
                                     epilog=JSON_KEYS, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="command")

    def curve_input(p: argparse.ArgumentParser) -> None:
        p.add_argument("curve", nargs="?", help="curve file Z_1..Z_n (nats): .npy, .csv/.txt or .json")
        p.add_argument("--example", choices=sorted(EXAMPLES), help="a built-in example curve instead of a file")
        p.add_argument("--json", action="store_true", help="machine-readable output")
        p.add_argument("--out", help="also write the JSON result to this file")

    demo = sub.add_parser("demo", help="exact curve, optimal schedules, baselines and plots for a built-in example")
    demo.add_argument("--out", help="folder for the PNG plots (default: current folder)")
    demo.add_argument("--no-plots", action="store_true", help="only print the tables")
    demo.add_argument("--progress", action="store_true", help="progress bar on stderr")
    demo.add_argument("--json", action="store_true", help="machine-readable output")
    demo.set_defaults(func=_cmd_demo)

    solve = sub.add_parser("solve", help="optimal schedule for a curve")
    curve_input(solve)
    budget = solve.add_mutually_exclusive_group()
    budget.add_argument("--steps", "-k", type=int, help="exact number of steps (default 16)")
    budget.add_argument("--eps", type=float, help="fewest steps with expected KL <= EPS nats")
    solve.add_argument("--method", default="auto", choices=METHODS,
                       help="solver (all exact): auto (default; hull for k <= 8, else lagrangian), naive (plain DP, "
                            "O(k n^2)), hull (convex-hull-trick DP, O(k n) time and memory), lagrangian (penalty "
                            "search with an exact-k splice, O(n) memory)")
    solve.add_argument("--plot", metavar="PNG", help="draw the curve with the schedule's staircase to this PNG file")
    solve.set_defaults(func=_cmd_solve)

    frontier = sub.add_parser("frontier", help="optimal error for every step count k = 1..K")
    curve_input(frontier)
    frontier.add_argument("--k-max", type=int, help="largest k (default min(n, 64))")
    frontier.add_argument("--plot", metavar="PNG", help="draw the error-vs-steps frontier to this PNG file")
    frontier.set_defaults(func=_cmd_frontier)

    comp = sub.add_parser("compare", help="practical and theory-driven schedules against the optimum")
    curve_input(comp)
    comp.add_argument("--steps", "-k", type=int, help="step budget (default 16)")
    comp.set_defaults(func=_cmd_compare)

    table = sub.add_parser(
        "table", help="JSON lookup table of optimal schedules over lengths x budgets x block lengths",
        description="Optimal schedules for every (length n, block length B, steps k) of a grid, as one JSON object a "
                    "serving stack can load with json alone: table['schedules'][str(n)][str(B) or 'full'][str(k)] "
                    "holds k, error (nats), sizes, blocks and num_transfer_tokens. One curve (file or --example) is "
                    "fitted to each length (--fit); a --family file gives one curve per length instead. With "
                    "--block-lengths each block's curve is the length-n curve fitted to the block's length and the "
                    "k steps are split optimally across blocks. Infeasible combinations (k > n, fewer steps than "
                    "blocks) are listed under 'skipped'.")
    curve_input(table)
    table.add_argument("--family", help="per-length curves: .npz with one array per length (key '256' or 'n256'), "
                                        "or .json {\"256\": [...], ...}")
    table.add_argument("--lengths", required=True, help="sequence lengths n, comma separated (e.g. 128,256)")
    table.add_argument("--steps", "-k", required=True, help="step budgets k, comma separated (e.g. 16,32,64)")
    table.add_argument("--block-lengths", help="semi-autoregressive block lengths B, comma separated (default: "
                                               "one block of n)")
    table.add_argument("--fit", choices=["interp", "truncate"], default="interp",
                       help="how one curve is fitted to each length: interp (default; Z as a function of the "
                            "revealed fraction, linearly interpolated) or truncate (first n entries)")
    table.add_argument("--policy", action="store_true",
                       help="also store, next to each schedule, the closed-loop policy of each block (SPEC 5.4: the "
                            "optimal count from every state (revealed, passes left)) under "
                            "table['block_policies'][str(n)][str(B) or 'full'][str(k)][block] = {k, count}; "
                            "ScheduleTable.policy(n, k, B, block) reads it")
    table.set_defaults(func=_cmd_table)

    smap = sub.add_parser(
        "map", help="KL-vs-NFE map of samplers (confidence order, thresholds, entropy bounds) on a built-in model",
        description="Scores every sampler family (random order, top-k, floor + threshold, threshold, factor, entropy "
                    "bound) by teacher forcing on rows of a sticky 3-state Markov chain with its exact conditionals "
                    "as the model, next to the optimal random-order frontier (SPEC 5.2). KL in nats.")
    smap.add_argument("--n", type=int, help="sequence length (default 32, or the --task prompts' length)")
    smap.add_argument("--rows", type=int, default=200, help="data rows sampled from the chain (default 200)")
    smap.add_argument("--seed", type=int, default=0, help="seed of the rows and the rules (default 0)")
    smap.add_argument("--block-length", type=int, help="semi-autoregressive block length (default: one block)")
    smap.add_argument("--families", help="comma-separated family names (default: all)")
    smap.add_argument("--taus", help="threshold sweep for the threshold family, comma separated")
    smap.add_argument("--budget", type=float, help="also calibrate --calibrate's hyperparameter to this mean NFE")
    smap.add_argument("--calibrate", default="threshold",
                      choices=["threshold", "factor", "entropy_bounded", "random", "top_k", "floor_threshold"],
                      help="family to calibrate with --budget (default threshold)")
    smap.add_argument("--task", metavar="FILE.jsonl",
                      help='also score every sampler by real generation on a task: one JSON object per line, '
                           '{"prompt": [ints, the full row], "reference": [ints] or "text", "region": [start, stop]} '
                           "(generated positions prompt[start:stop]; reference: the full true row, its generated "
                           "tokens, or a string for --score regex:...; other keys ignored). Prompts are rows of "
                           "the built-in chain (tokens 0..2, length --n); the chain's data rows are scored on the first line's region. Adds accuracy with a prompt-clustered "
                           "interval to every row and says whether KL ranks the samplers as accuracy does")
    smap.add_argument("--score", default="exact",
                      help="task score: exact (default; generated tokens equal the reference's) or regex:PATTERN "
                           "(first capture group on the generated tokens written as space-separated ids)")
    smap.add_argument("--samples", type=int, default=1, help="samples per task prompt (default 1)")
    smap.add_argument("--plot", metavar="PNG", help="draw the map to this PNG file")
    smap.add_argument("--progress", action="store_true", help="progress bar on stderr")
    smap.add_argument("--json", action="store_true", help="machine-readable output")
    smap.set_defaults(func=_cmd_map)

    curve = sub.add_parser("curve", help="information curve of a distribution (dense .npy, support .npz, samples)")
    curve.add_argument("distribution", help=".npy dense tensor or integer samples; .npz outcomes+probs or samples; "
                                            ".csv integer samples")
    curve.add_argument("--out", help="write the curve to this file (.npy, .json or text)")
    curve.add_argument("--progress", action="store_true", help="progress bar on stderr")
    curve.add_argument("--json", action="store_true", help="machine-readable output")
    curve.set_defaults(func=_cmd_curve)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``mdmsched`` console script: returns the exit code."""
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.command is None:
        parser.print_help()
        return 0
    try:
        if getattr(args, "plot", None):
            _use_agg()
        args.func(args)
        sys.stdout.flush()  # a closed pipe shows up here at the latest, inside the handler below
    except BrokenPipeError:  # the reader went away (| head): not an input error; exit quietly like a Unix tool
        _silence_stdout()
        return EXIT_BROKEN_PIPE
    except INPUT_ERRORS as exc:
        message = " ".join(str(exc).split()) or type(exc).__name__
        print(f"mdmsched: error: {message}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("mdmsched: interrupted", file=sys.stderr)
        return 130
    return 0


def _silence_stdout() -> None:
    """Point stdout at /dev/null so the interpreter's final flush cannot raise on the closed pipe again."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        os.close(devnull)
    except (OSError, ValueError, AttributeError):  # stdout without a file descriptor (a test's StringIO): nothing to do
        pass


if __name__ == "__main__":
    sys.exit(main())


__all__ = ["build_parser", "main"]
