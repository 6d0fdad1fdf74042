"""Text arguments to samplers (mdmsched.adapters.sampler_args): every rule name, every count source (LLaDA's equal
split, `mdmsched solve --json`, Schedule / BlockSchedule JSON, an `mdmsched table` file), and one clear error naming
the argument for each bad value."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from mdmsched import BlockSchedule, Schedule
from mdmsched.adapters.sampler_args import arg_count, sampler_from_args
from mdmsched.cli import main as cli_main
from mdmsched.samplers.rules import EntropyBounded, Factor, FloorThreshold, RandomOrder, Threshold, TopK


def _counts(rule: Any, block: int, steps: int) -> list[int]:
    """The counts a counted rule reveals at steps 0..steps-1 of ``block``."""
    return rule.counts.at(np.arange(steps), block, np.ones((steps, 1), dtype=bool)).tolist()  # open loop: any state


def test_rules_without_counts() -> None:
    for text, kind, attr, value in [("threshold", Threshold, "tau", 0.9), ("threshold:0.25", Threshold, "tau", 0.25),
                                    ("entropy_bounded", EntropyBounded, "gamma", 0.1),
                                    ("entropy_bounded:2", EntropyBounded, "gamma", 2.0),
                                    ("factor:0.5", Factor, "f", 0.5)]:
        got = sampler_from_args(text, gen_length=12, block_length=4)
        assert isinstance(got.rule, kind) and getattr(got.rule, attr) == value
        assert got.block_lengths == [4, 4, 4]
    assert sampler_from_args("threshold", gen_length=10, block_length=4).block_lengths == [4, 4, 2]


def test_llada_equal_split_from_steps() -> None:
    """steps=K over gen_length/block_length blocks: K/blocks passes per block, n // k each, remainder first."""
    got = sampler_from_args("top_k", gen_length=14, block_length=7, steps=6)
    assert isinstance(got.rule, TopK) and got.rule.score == "max_prob"
    assert got.block_lengths == [7, 7]
    assert _counts(got.rule, 0, 3) == [3, 2, 2] and _counts(got.rule, 1, 3) == [3, 2, 2]
    margin = sampler_from_args("top_k:margin", gen_length=8, steps=2).rule
    assert isinstance(margin, TopK) and margin.score == "margin" and _counts(margin, 0, 2) == [4, 4]
    random = sampler_from_args("random", gen_length=8, steps=3).rule
    assert isinstance(random, RandomOrder) and _counts(random, 0, 3) == [3, 3, 2]
    floor = sampler_from_args("floor_threshold", gen_length=8, block_length=4, steps=4).rule
    assert isinstance(floor, FloorThreshold) and floor.tau == 0.95 and _counts(floor, 1, 2) == [2, 2]


def test_schedule_files_in_every_format(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    # `mdmsched solve --json` output, as the command writes it
    assert cli_main(["solve", "--example", "demo", "--steps", "3", "--json"]) in (None, 0)
    solved = json.loads(capsys.readouterr().out)
    sizes = solved["schedule"]["sizes"]
    n = sum(sizes)
    (tmp_path / "solve.json").write_text(json.dumps(solved))
    one = sampler_from_args("top_k", gen_length=n, schedule=str(tmp_path / "solve.json"))
    assert one.block_lengths == [n] and _counts(one.rule, 0, len(sizes)) == sizes
    # the same schedule in every block of gen_length = 2 n
    per_block = sampler_from_args("random", gen_length=2 * n, block_length=n, schedule=str(tmp_path / "solve.json"))
    assert per_block.block_lengths == [n, n] and _counts(per_block.rule, 1, len(sizes)) == sizes
    # Schedule.to_json and BlockSchedule.to_json
    (tmp_path / "s.json").write_text(Schedule([1, 2, 3]).to_json())
    assert _counts(sampler_from_args("top_k", gen_length=6, schedule=str(tmp_path / "s.json")).rule, 0, 3) == [1, 2, 3]
    blocks = BlockSchedule((Schedule([2, 1]), Schedule([1, 1, 2])))
    (tmp_path / "b.json").write_text(blocks.to_json())
    got = sampler_from_args("floor_threshold:0.5", gen_length=7, schedule=str(tmp_path / "b.json"))
    assert got.block_lengths == [3, 4]
    assert _counts(got.rule, 0, 2) == [2, 1] and _counts(got.rule, 1, 3) == [1, 1, 2]


def test_table_lookup(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "table.json"
    cli_main(["table", "--example", "demo", "--lengths", "16", "--steps", "3,8", "--block-lengths", "8",
              "--out", str(out)])
    capsys.readouterr()
    entry = json.loads(out.read_text())["schedules"]["16"]["8"]["3"]
    assert entry["blocks"][0] != entry["blocks"][1]  # 3 steps over 2 blocks: the blocks differ, so order matters
    got = sampler_from_args("top_k", gen_length=16, block_length=8, table=str(out), steps=3)
    assert got.block_lengths == [8, 8]
    for b, sizes in enumerate(entry["blocks"]):
        assert _counts(got.rule, b, len(sizes)) == sizes
    with pytest.raises(ValueError, match=re.escape(f"table={str(out)!r}")):
        sampler_from_args("top_k", gen_length=16, block_length=8, table=str(out), steps=5)
    with pytest.raises(ValueError, match="is an mdmsched table: pass it as table="):
        sampler_from_args("top_k", gen_length=16, block_length=8, schedule=str(out))


@pytest.mark.parametrize(("kwargs", "named"), [
    ({"rule": "nucleus"}, "rule='nucleus': unknown rule"),
    ({"rule": "threshold:1.5"}, "rule='threshold:1.5': tau"),
    ({"rule": "threshold:high"}, "rule='threshold:high': 'high' is not a number"),
    ({"rule": "entropy_bounded:-1"}, "rule='entropy_bounded:-1': gamma"),
    ({"rule": "factor:0"}, "rule='factor:0': f"),
    ({"rule": "top_k:confidence", "steps": 2}, "rule='top_k:confidence': score"),
    ({"rule": "random:3", "steps": 2}, "rule='random:3': random takes no value"),
    ({"rule": "top_k"}, "rule='top_k' needs its counts"),
    ({"rule": "threshold", "steps": 4}, "steps=4: rule 'threshold' chooses its own counts"),
    ({"rule": "threshold", "schedule": "p.json"}, "schedule='p.json': rule 'threshold'"),
    ({"rule": "top_k", "steps": 0}, "steps=0"),
    ({"rule": "top_k", "steps": "many"}, "steps='many' is not an integer"),
    ({"rule": "top_k", "steps": 3, "block_length": 4}, "steps=3"),  # 2 blocks: LLaDA needs steps % blocks == 0
    ({"rule": "top_k", "schedule": "/no/such.json"}, "schedule='/no/such.json': cannot read the file"),
    ({"rule": "top_k", "table": "/no/such.json"}, "table= needs steps="),
    ({"rule": "top_k", "table": "/no/such.json", "steps": 4}, "table='/no/such.json': cannot read the file"),
    ({"rule": "top_k", "schedule": "a.json", "table": "b.json"}, "give schedule= or table=, not both"),
    ({"rule": "top_k", "schedule": "a.json", "steps": 4}, "steps=4: schedule= fixes the steps"),
    ({"rule": "top_k", "steps": 4, "block_length": 0}, "block_length=0"),
])
def test_bad_values_are_one_value_error(kwargs: dict[str, Any], named: str) -> None:
    with pytest.raises(ValueError, match="^" + re.escape(named)):
        sampler_from_args(gen_length=8, **kwargs)


def test_bad_files(tmp_path: Path) -> None:
    broken = tmp_path / "broken.json"
    broken.write_text("{not json")
    with pytest.raises(ValueError, match=re.escape(f"schedule={str(broken)!r}: not valid JSON")):
        sampler_from_args("top_k", gen_length=8, schedule=str(broken))
    wrong = tmp_path / "wrong.json"
    wrong.write_text(Schedule([2, 2]).to_json())
    with pytest.raises(ValueError, match=re.escape(f"schedule={str(wrong)!r} covers 4 positions but the blocks")):
        sampler_from_args("top_k", gen_length=8, schedule=str(wrong))
    blocks = tmp_path / "blocks.json"
    blocks.write_text(BlockSchedule((Schedule([2, 2]), Schedule([4]))).to_json())
    with pytest.raises(ValueError, match="are not gen_length 8 cut into block_length 2"):
        sampler_from_args("top_k", gen_length=8, block_length=2, schedule=str(blocks))
    with pytest.raises(ValueError, match="covers 8 positions, gen_length is 9"):
        sampler_from_args("top_k", gen_length=9, schedule=str(blocks))
    nothing = tmp_path / "nothing.json"
    nothing.write_text("[1, 2]")
    with pytest.raises(ValueError, match=re.escape(f"schedule={str(nothing)!r}")):
        sampler_from_args("top_k", gen_length=3, schedule=str(nothing))


def test_wrong_kinds_are_type_errors() -> None:
    with pytest.raises(TypeError, match=r"^rule=5 must be one of"):
        sampler_from_args(5, gen_length=8)
    with pytest.raises(TypeError, match=r"^steps=2.5: steps must be an integer"):
        sampler_from_args("top_k", gen_length=8, steps=2.5)
    with pytest.raises(TypeError, match=r"^schedule=3 must be a path"):
        sampler_from_args("top_k", gen_length=8, schedule=3)
    assert arg_count("12", "steps") == 12 and arg_count(0, "seed", 0) == 0
