"""Hostile-input probe of every public API (issue 28): run the case table of ``tests/helpers/hostile_cases.py`` in
worker subprocesses and classify every case.

    python benchmarks/probe_hostile.py [--json out.json] [--floor samplers] [--api NAME] [--quiet]

Each worker runs a chunk of cases under a per-case ``signal.alarm`` (10 s: "hang") and an address-space limit
(``RLIMIT_AS``, 4 GiB: a ``MemoryError`` means "allocated before refusing"). A worker that dies (a segfault, an abort)
leaves the cases it reported; the first unreported case is re-run alone to attribute the crash, and the rest of the
chunk goes on in a fresh worker.

Classes: pass, crash, hang, memory, wrong-answer (an answer came back but fails the case's check), silent (an error
was expected, an answer came back), wrong-type (another exception than the expected one), unexpected-refusal (an
``ok`` case raised). Cases listed in ``hostile_cases.ALLOWED`` with a reason count as pass ("allowed").
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import subprocess
import sys
import time
from collections import Counter, defaultdict
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
HELPERS = ROOT / "tests" / "helpers"
CLASSES = ("pass", "allowed", "crash", "hang", "memory", "wrong-answer", "silent", "wrong-type", "unexpected-refusal")
CASE_SECONDS = 10
ADDRESS_SPACE = 4 * 2**30


class Hang(BaseException):
    """Raised by the alarm: a BaseException so the package's ``except Exception`` cannot swallow it."""


def _classify(case: Any, outcome: str, result: Any) -> tuple[str, str]:
    """(class, detail) for ``case`` whose call raised ``outcome`` (an exception class name) or returned (``"ok"``)."""
    expected = set(case.expected.split("|"))
    if outcome == "Hang":
        return "hang", f"no answer in {CASE_SECONDS} s"
    if outcome == "MemoryError":
        return "memory", "MemoryError: allocated before refusing"
    if outcome == "ok":
        if "ok" not in expected:
            return "silent", f"returned {type(result).__name__} where {case.expected} was expected"
        if case.check is not None:
            try:
                problem = case.check(result)
            except Exception as exc:  # noqa: BLE001 -- a result the check cannot read is a wrong answer
                problem = f"unreadable answer: {type(exc).__name__}: {exc}"
            if problem:
                return "wrong-answer", problem
        return "pass", ""
    if outcome in expected:
        return "pass", ""
    if "ok" in expected and expected == {"ok"}:
        return "unexpected-refusal", outcome
    return "wrong-type", outcome


def _is_expected_subclass(exc: BaseException, expected: str) -> bool:
    """A package exception that subclasses an expected builtin (``FileFormatError`` is a ``ValueError``) counts."""
    import builtins

    for name in expected.split("|"):
        cls = getattr(builtins, name, None)
        if isinstance(cls, type) and isinstance(exc, cls) and type(exc).__module__.startswith("mdmsched"):
            return True
    return False


def worker(indices: list[int]) -> None:
    """Run the cases ``indices``, one JSON line per case on stdout (flushed, so a crash loses only the current case)."""
    import resource
    import warnings

    resource.setrlimit(resource.RLIMIT_AS, (ADDRESS_SPACE, resource.getrlimit(resource.RLIMIT_AS)[1]))
    sys.path.insert(0, str(HELPERS))
    sys.setrecursionlimit(3000)
    warnings.simplefilter("ignore")
    import hostile_cases

    cases = hostile_cases.load_all()

    def alarm(signum: int, frame: Any) -> None:
        raise Hang

    signal.signal(signal.SIGALRM, alarm)
    out = sys.stdout
    for i in indices:
        case = cases[i]
        result: Any = None
        started = time.perf_counter()
        signal.alarm(CASE_SECONDS)
        try:
            result = case.run()
            outcome, message = "ok", ""
        except Hang:
            outcome, message = "Hang", ""
        except BaseException as exc:  # noqa: BLE001 -- every escape is classified, SystemExit and RecursionError too
            outcome = type(exc).__name__
            if _is_expected_subclass(exc, case.expected):
                outcome = case.expected.split("|")[0]
            message = " ".join(str(exc).split())[:200]
        finally:
            signal.alarm(0)
        try:
            cls, detail = _classify(case, outcome, result)
        except Hang:
            cls, detail = "hang", "the answer check did not finish"
        if (case.api, case.arg, case.label) in hostile_cases.ALLOWED and cls != "pass":
            cls, detail = "allowed", hostile_cases.ALLOWED[(case.api, case.arg, case.label)]
        out.write(json.dumps({"i": i, "class": cls, "outcome": outcome, "detail": detail or message,
                              "seconds": round(time.perf_counter() - started, 4)}) + "\n")
        out.flush()


def _run_chunk(indices: list[int], timeout: float) -> tuple[dict[int, dict[str, Any]], int | None]:
    """Results of one worker over ``indices`` and its return code (None when it was killed for time)."""
    cmd = [sys.executable, str(Path(__file__).resolve()), "--worker", ",".join(map(str, indices))]
    env = {**os.environ, "OMP_NUM_THREADS": "1", "OPENBLAS_NUM_THREADS": "1", "MKL_NUM_THREADS": "1",
           "MPLBACKEND": "Agg"}
    try:
        proc = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, env=env, cwd=str(ROOT), check=False)
        stdout, code = proc.stdout, proc.returncode
    except subprocess.TimeoutExpired as exc:
        stdout = exc.stdout.decode() if isinstance(exc.stdout, bytes) else (exc.stdout or "")
        code = None
    results = {}
    for line in stdout.splitlines():
        if line.startswith("{"):
            row = json.loads(line)
            results[row["i"]] = row
    return results, code


def run_probe(indices: list[int], chunk: int = 100000) -> dict[int, dict[str, Any]]:
    """Every case in ``indices`` classified; crashed workers are resumed after attributing the crash."""
    results: dict[int, dict[str, Any]] = {}
    todo = list(indices)
    while todo:
        batch = todo[:chunk]
        got, _code = _run_chunk(batch, timeout=CASE_SECONDS * 3 + 2 * len(batch))
        results.update(got)
        missing = [i for i in batch if i not in got]
        if missing:
            suspect = missing[0]
            alone, alone_code = _run_chunk([suspect], timeout=CASE_SECONDS * 3 + 30)
            if suspect in alone:
                results[suspect] = alone[suspect]
            else:
                cls = "hang" if alone_code is None else "crash"
                results[suspect] = {"i": suspect, "class": cls, "outcome": f"exit {alone_code}",
                                    "detail": "worker died" if cls == "crash" else "worker killed for time", "seconds": None}
            todo = missing[1:] + todo[len(batch):]
        else:
            todo = todo[len(batch):]
    return results


def summarise(cases: list[Any], results: dict[int, dict[str, Any]]) -> dict[str, Any]:
    per_api: dict[str, Counter[str]] = defaultdict(Counter)
    per_floor: dict[str, Counter[str]] = defaultdict(Counter)
    for i, row in results.items():
        per_api[cases[i].api][row["class"]] += 1
        per_floor[cases[i].floor][row["class"]] += 1
    totals: Counter[str] = Counter(row["class"] for row in results.values())
    failures = [{"case": cases[i].key, "expected": cases[i].expected, **results[i]}
                for i in sorted(results) if results[i]["class"] not in ("pass", "allowed")]
    return {"cases": len(results), "totals": {c: totals.get(c, 0) for c in CLASSES},
            "per_floor": {f: dict(c) for f, c in sorted(per_floor.items())},
            "per_api": {a: dict(c) for a, c in sorted(per_api.items())}, "failures": failures}


def _table(title: str, rows: dict[str, dict[str, int]]) -> str:
    head = f"{title:<40}" + "".join(f"{c[:8]:>9}" for c in ("cases", *CLASSES))
    lines = [head]
    for name, counts in rows.items():
        lines.append(f"{name[:40]:<40}{sum(counts.values()):>9}" + "".join(f"{counts.get(c, 0):>9}" for c in CLASSES))
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--worker", help=argparse.SUPPRESS)
    parser.add_argument("--json", help="write the summary (totals, per floor, per API, failures) here")
    parser.add_argument("--floor", help="only this floor's cases")
    parser.add_argument("--api", help="only cases whose API name contains this")
    parser.add_argument("--quiet", action="store_true", help="only the totals and failures")
    args = parser.parse_args(argv)
    if args.worker is not None:
        worker([int(i) for i in args.worker.split(",") if i])
        return 0
    sys.path.insert(0, str(HELPERS))
    import hostile_cases

    cases = hostile_cases.load_all()
    chosen = [i for i, c in enumerate(cases)
              if (args.floor is None or c.floor == args.floor) and (args.api is None or args.api in c.api)]
    started = time.perf_counter()
    results = run_probe(chosen)
    summary = summarise(cases, results)
    summary["seconds"] = round(time.perf_counter() - started, 1)
    if not args.quiet:
        print(_table("API", summary["per_api"]))
        print()
    print(_table("floor", summary["per_floor"]))
    print(_table("TOTAL", {"all": summary["totals"]}))
    print(f"\n{summary['cases']} cases in {summary['seconds']} s; non-pass cases:")
    for row in summary["failures"]:
        print(f"  {row['class']:<18} {row['case']}: expected {row['expected']}, got {row['outcome']} {row['detail'][:150]}")
    if args.json:
        Path(args.json).write_text(json.dumps(summary, indent=1))
    bad = sum(summary["totals"][c] for c in CLASSES[2:])
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
