"""The serving lookup (issue 18.5) against ``mdmsched table`` JSON output: loaded in a process where mdmsched cannot
be imported, its answers equal the optimal schedules mdmsched computes for the same (n, B, k)."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

import mdmsched
from mdmsched.adapters import serving
from mdmsched.curves.examples import example_curve
from mdmsched.curves.hygiene import fit_curve
from mdmsched.schedules import blockwise

LENGTHS, STEPS, BLOCKS = (12, 24), (3, 4, 8), (8,)


@pytest.fixture(scope="module")
def tables(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """Two tables from the CLI: one block of n ("None"), and blocks of 8 ("8")."""
    folder = tmp_path_factory.mktemp("table")
    out = {}
    for key, extra in (("None", []), ("8", ["--block-lengths", "8"])):
        out[key] = folder / f"table_{key}.json"
        subprocess.run([sys.executable, "-m", "mdmsched", "table", "--example", "markov", "--lengths",
                        ",".join(map(str, LENGTHS)), "--steps", ",".join(map(str, STEPS)), *extra,
                        "--out", str(out[key])], check=True, capture_output=True)
    return out


def test_lookup_without_mdmsched_equals_the_optimal_schedules(tables: dict[str, Path]) -> None:
    paths = {key: str(path) for key, path in tables.items()}
    script = textwrap.dedent(f"""
        import importlib.util, json, sys
        sys.modules["mdmsched"] = None  # any mdmsched import now fails
        sys.modules["numpy"] = None
        spec = importlib.util.spec_from_file_location("serving", {str(Path(serving.__file__))!r})
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        paths = {paths!r}
        out = {{}}
        for n in {LENGTHS!r}:
            for b in (None, 8):
                t = module.ScheduleTable.load(paths[str(b)])
                for k in {STEPS!r}:
                    try:
                        out[f"{{n}}/{{b}}/{{k}}"] = [t.counts(n, k, b), t.commit(n, k, b, 0, 0)]
                    except KeyError:
                        out[f"{{n}}/{{b}}/{{k}}"] = None
        print(json.dumps(out))
    """)
    answers = json.loads(subprocess.run([sys.executable, "-c", script], check=True, capture_output=True,
                                        text=True).stdout)
    z = example_curve("markov")
    for n in LENGTHS:
        curve = fit_curve(z, n, "interp")
        for k in STEPS:
            full = mdmsched.optimal_schedule(curve, k).tolist()
            assert answers[f"{n}/None/{k}"] == [[full], full[0]]
            lengths = [min(8, n - s) for s in range(0, n, 8)]
            if k < len(lengths):
                assert answers[f"{n}/8/{k}"] is None  # infeasible: fewer steps than blocks
                continue
            plan = blockwise(n, 8, total_steps=k, curves=[fit_curve(curve, m, "interp") for m in lengths])
            width = max(b.k for b in plan.blocks)
            assert answers[f"{n}/8/{k}"] == [[b.tolist() + [0] * (width - b.k) for b in plan.blocks],
                                             plan.blocks[0].tolist()[0]]


def test_budgets_and_misses(tables: dict[str, Path]) -> None:
    t = serving.ScheduleTable.load(str(tables["8"]))
    assert t.counts(24, 7, 8, at_most=True) == t.counts(24, 4, 8)  # the largest tabulated k <= 7
    assert t.commit(24, 8, 8, 2, 10) == 0  # past a block's last step
    t = serving.ScheduleTable.load(str(tables["None"]))
    with pytest.raises(KeyError, match="no schedules for n = 13"):
        t.counts(13, 4)
    with pytest.raises(KeyError, match="k in"):
        t.counts(24, 7)
    with pytest.raises(KeyError, match="block length 4"):
        t.counts(24, 4, 4)
    with pytest.raises(ValueError, match="not an mdmsched table"):
        serving.ScheduleTable({"schedules": {}})
