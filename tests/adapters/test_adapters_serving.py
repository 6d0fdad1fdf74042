"""The serving lookup (issue 18.5) against ``mdmsched table`` JSON output: loaded in a process where mdmsched cannot
be imported, its answers equal the optimal schedules mdmsched computes for the same (n, B, k)."""

from __future__ import annotations

import json
import math
import subprocess
import sys
import textwrap
from fractions import Fraction
from pathlib import Path

import pytest
from closed_loop_reference import bellman_policy

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


# ---- one home: build, validate, save, load; issue 28 item 10 regressions ----------------------------------------


def test_build_save_load_round_trip_with_a_policy(tmp_path: Path) -> None:
    z = fit_curve(example_curve("markov"), 12, "interp")
    count, value = bellman_policy(z, 5)
    built = serving.build_table({12: z}, [3, 5], [None, 4], policies={12: count})
    path = tmp_path / "t.json"
    serving.save_table(built, path)
    table = serving.ScheduleTable.load(path)
    assert table.counts(12, 5) == [mdmsched.optimal_schedule(z, 5).tolist()]
    policy = table.policy(12)
    assert policy.k == 5 and policy.count(0, 5) == count[0, 4] and policy.count(11, 1) == 1
    # replaying the stored policy from (0, k) costs opt_k: the table keeps the DP's answer
    revealed, cost = 0, 0.0
    for left in range(5, 0, -1):
        c = policy.count(revealed, left)
        cost += float(sum(z[i] - z[revealed] for i in range(revealed, revealed + c)))
        revealed += c
    assert revealed == 12 and cost == pytest.approx(mdmsched.optimal_schedule(z, 5).error, abs=1e-12)
    assert cost == pytest.approx(value[5, 0], abs=1e-12)
    with pytest.raises(ValueError, match=r"passes_left must be in 1\.\.5"):
        policy.count(0, 6)
    with pytest.raises(ValueError, match=r"revealed must be in 0\.\.11"):
        policy.count(-1, 1)
    with pytest.raises(serving.TableMiss, match=r"policies for n in \[12\]"):
        table.policy(24)


def test_cli_writes_what_build_table_builds(tables: dict[str, Path]) -> None:
    written = json.loads(tables["8"].read_text())
    z = example_curve("markov")
    built = serving.build_table({n: fit_curve(z, n, "interp") for n in LENGTHS}, STEPS, [8])
    assert written["schedules"] == json.loads(json.dumps(built["schedules"]))
    assert written["skipped"] == built["skipped"] and written["format"] == serving.FORMAT


def test_commit_refuses_another_blocks_index(tables: dict[str, Path]) -> None:
    t = serving.ScheduleTable.load(tables["8"])
    blocks = len(t.counts(24, 8, 8))
    with pytest.raises(ValueError, match=rf"block must be in 0\.\.{blocks - 1}, got -1"):
        t.commit(24, 8, 8, -1, 0)  # used to return the last block's count
    with pytest.raises(ValueError, match="block must be in"):
        t.commit(24, 8, 8, blocks, 0)
    with pytest.raises(ValueError, match="step must be in"):
        t.commit(24, 8, 8, 0, -1)
    with pytest.raises(TypeError, match="block must be an integer"):
        t.commit(24, 8, 8, True, 0)


@pytest.mark.parametrize("payload", [
    {"format": serving.FORMAT},  # used to be KeyError('schedules')
    {"format": serving.FORMAT, "schedules": []},
    {"format": serving.FORMAT, "schedules": {"12": {"full": {"3": {"k": 3, "num_transfer_tokens": "abc"}}}}},
    {"format": serving.FORMAT, "schedules": {"12": {"full": {"3": {"k": 3, "num_transfer_tokens": [[4, 4, 3]]}}}}},
    {"format": serving.FORMAT, "schedules": {"12": {"full": {"3": {"k": 3, "num_transfer_tokens": [[4, 4, 2, 2]]}}}}},
    {"format": serving.FORMAT, "schedules": {"x": {}}},
    {"format": serving.FORMAT, "schedules": {}, "policies": {"3": {"k": 2, "count": [[2, 1], [2, 1], [1, 0]]}}},
    {"format": serving.FORMAT, "schedules": {}, "policies": {"3": {"k": 2, "count": [[3, 3], [2, 1], [1, 0]]}}},
])
def test_malformed_tables_are_one_value_error(tmp_path: Path, payload: dict) -> None:
    path = tmp_path / "bad.json"
    path.write_text(json.dumps(payload))
    with pytest.raises(ValueError, match="malformed mdmsched table"):
        serving.ScheduleTable.load(path)


def test_unreadable_files_are_one_value_error(tmp_path: Path) -> None:
    deep = tmp_path / "deep.json"
    deep.write_text("[" * 200_000 + "]" * 200_000)  # used to raise RecursionError
    with pytest.raises(ValueError, match="not a JSON table"):
        serving.ScheduleTable.load(deep)
    binary = tmp_path / "bin.json"
    binary.write_bytes(b"\xff\xfe{")
    with pytest.raises(ValueError, match="not a JSON table"):
        serving.ScheduleTable.load(binary)


def test_a_device_is_not_read_to_the_end(tmp_path: Path) -> None:
    if not Path("/dev/zero").exists():
        pytest.skip("no /dev/zero")
    link = tmp_path / "table.json"
    link.symlink_to("/dev/zero")  # used to be read until memory ran out
    with pytest.raises(ValueError, match="larger than max_bytes = 4096"):
        serving.ScheduleTable.load(link, max_bytes=4096)
    with pytest.raises(ValueError, match="larger than max_bytes"):
        serving.ScheduleTable.load(link)  # the default cap, 64 MiB


def test_untabulated_length_names_the_table_and_nearest_rescales(tables: dict[str, Path]) -> None:
    t = serving.ScheduleTable.load(tables["None"])
    with pytest.raises(serving.TableMiss, match=r"the table has n in \[12, 24\]; nearest=True"):
        t.counts(13, 4)
    assert isinstance(serving.TableMiss("x"), KeyError)
    # 22 is nearest to 24: breakpoints N_j of the n = 24 optimum scaled by 22/24, rounded half up (exact fractions)
    source = t.counts(24, 8)[0]
    got = t.entry(22, 8, nearest=True)
    want = [math.floor(Fraction(sum(source[:j]) * 22, 24) + Fraction(1, 2)) for j in range(1, 8)]
    assert want == sorted(set(want)) and want[0] > 0 and want[-1] < 22  # no clamp needed here
    assert got["rescaled_from"] == 24 and [sum(got["sizes"][:j]) for j in range(1, 8)] == want
    assert sum(got["sizes"]) == 22
    tiny = t.entry(3, 8, nearest=True)  # more steps than tokens: one token per step
    assert tiny["sizes"] == [1, 1, 1]
    with pytest.raises(serving.TableMiss, match="no schedules for n = 13"):
        serving.ScheduleTable.load(tables["8"]).counts(13, 4, 8, nearest=True)  # blocks: no rescaling


# ---- mdmsched table --policy (issue 26.3) --------------------------------------------------------------------------------


def test_cli_policy_round_trip_equals_closed_loop_policy(tmp_path: Path) -> None:
    loaded = {}
    for block_length, extra in ((None, []), (8, ["--block-lengths", "8"])):
        path = tmp_path / f"policy_{block_length}.json"
        subprocess.run([sys.executable, "-m", "mdmsched", "table", "--example", "markov", "--lengths", "12,20",
                        "--steps", "3,5,30", *extra, "--policy", "--out", str(path)], check=True, capture_output=True)
        loaded[block_length] = serving.ScheduleTable.load(path)
    z = example_curve("markov")
    checked = 0
    for n in (12, 20):
        curve = fit_curve(z, n, "interp")
        for block_length, table in loaded.items():
            lengths = [n] if block_length is None else [min(8, n - s) for s in range(0, n, 8)]
            for k in (3, 5):
                if k < len(lengths):
                    continue
                blocks = table.entry(n, k, block_length)["blocks"]
                for b, (length, sizes) in enumerate(zip(lengths, blocks)):
                    stored = table.policy(n, k, block_length, b)
                    block_curve = curve if len(lengths) == 1 else fit_curve(curve, length, "interp")
                    want = mdmsched.closed_loop_policy(block_curve, len(sizes))
                    assert (stored.n, stored.k) == (want.n, want.k) == (length, len(sizes))
                    for revealed in range(length):
                        for left in range(1, stored.k + 1):
                            feasible = left <= length - revealed  # the table's 0 where no plan exists
                            expected = want.count(revealed, left) if feasible else 0
                            assert stored.count(revealed, left) == expected, (n, b, revealed, left)
                    # replayed from (0, k_b), the stored policy commits the stored schedule's block
                    revealed, replay = 0, []
                    for left in range(stored.k, 0, -1):
                        replay.append(stored.count(revealed, left))
                        revealed += replay[-1]
                    assert replay == sizes, (n, block_length, k, b)
                    checked += 1
    assert checked >= 10
    table = loaded[8]
    # only the budgets the table holds; k = 30 > n was skipped for both lengths
    with pytest.raises(serving.TableMiss, match="--policy"):
        table.policy(12, 30)
    with pytest.raises(ValueError, match=r"block must be in 0\.\.1"):
        table.policy(12, 5, 8, 2)
    with pytest.raises(serving.TableMiss, match="policies for n in"):
        table.policy(12)  # no per-length policy was given
    # a table edited so the blocks' budgets no longer add up to k is refused on load
    raw = json.loads(path.read_text())
    raw["block_policies"]["12"]["8"]["5"][1] = raw["block_policies"]["12"]["8"]["3"][1]
    with pytest.raises(ValueError, match="add up to"):
        serving.ScheduleTable(raw)


def test_policy_entry_takes_a_closed_loop_policy() -> None:
    z = fit_curve(example_curve("markov"), 12, "interp")
    count, _ = bellman_policy(z, 5)
    policy = mdmsched.closed_loop_policy(z, 5)
    assert serving.policy_entry(policy, 12) == serving.policy_entry(count, 12)
