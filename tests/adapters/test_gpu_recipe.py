"""The GPU recipe's pieces that run without a GPU: benchmarks/gpu/llada_plan.py builds its rows, states its forward
passes before running (and spends exactly those), and writes a schedule the lm-eval plug-in takes; the shell script
parses."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import numpy as np
import pytest

torch = pytest.importorskip("torch")

from lm_eval_fixtures import MASK_ID, TinyMDM
from scripts import load_script

from mdmsched.adapters import hf_forward
from mdmsched.adapters.sampler_args import sampler_from_args
from mdmsched.models.torch import TorchModel

GPU = Path(__file__).resolve().parents[2] / "benchmarks" / "gpu"


def _plan_module():  # type: ignore[no-untyped-def]
    return load_script(GPU / "llada_plan.py")


def test_answer_rows() -> None:
    rows, region = _plan_module().answer_rows([[1, 2], [3, 4, 5]], [[7], [8, 9, 10, 11]], 3, 0)
    np.testing.assert_array_equal(rows, [[1, 2, 7, 0, 0, 0], [3, 4, 5, 8, 9, 10]])
    np.testing.assert_array_equal(region, [[0, 0, 1, 1, 1, 0], [0, 0, 0, 1, 1, 1]])


def test_plan_costs_what_it_says_and_feeds_the_plugin(tmp_path: Path) -> None:
    plan = _plan_module()
    gen = np.random.default_rng(0)
    prompts = [list(gen.integers(0, 200, size=int(s))) for s in gen.integers(3, 7, size=6)]
    answers = [list(gen.integers(0, 200, size=int(s))) for s in gen.integers(2, 9, size=6)]
    rows, region = plan.answer_rows(prompts, answers, 8, 10)
    module = TinyMDM(seed=0)
    calls = []
    forward = hf_forward(module)

    def counted(x):  # type: ignore[no-untyped-def]
        calls.append(x.shape[0])
        return forward(x)

    counted.shift = "none"  # type: ignore[attr-defined]
    scorer = TorchModel(module, MASK_ID, forward=counted)
    settings = {"block_length": 4, "steps": 6, "reps": 1, "seed": 3, "batch_size": 4, "grid_points": 3}
    stated = plan.make_plan(None, rows, region, dry_run=True, **settings)["forward_passes"]
    result = plan.make_plan(scorer, rows, region, **settings)
    assert len(calls) == stated == result["forward_passes"] > 0
    path = tmp_path / "plan.json"
    path.write_text(json.dumps(result["schedule"]))
    choice = sampler_from_args("top_k", gen_length=8, block_length=4, schedule=str(path))
    assert choice.block_lengths == [4, 4]
    assert sum(len(b["sizes"]) for b in result["schedule"]["blocks"]) == 6
    assert np.isfinite(result["optimal_error"]) and np.isfinite(result["equal_split_error"])


@pytest.mark.skipif(shutil.which("bash") is None, reason="no bash")
def test_the_recipe_parses() -> None:
    subprocess.run(["bash", "-n", str(GPU / "gsm8k_llada.sh")], check=True)
