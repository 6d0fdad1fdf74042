"""LLaDA-lineage drop-ins (issue 18.2) against LLaDA's own generate logic: LLaDA's ``get_num_transfer_tokens``
written from its description (equal split of each row's masked count, the remainder to the first passes), its block
loop with a random-confidence stand-in for the model, and the peers' fixtures of counts produced by their code."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Callable

import numpy as np
import pytest

torch = pytest.importorskip("torch")

import mdmsched
from mdmsched.adapters import block_transfer_tokens, transfer_tokens
from mdmsched.schedule import BlockSchedule, Schedule
from mdmsched.schedules import practice

MASK = 99


def _fixture(rule: str) -> list[dict[str, Any]]:
    for parent in Path(__file__).resolve().parents:
        for path in (parent / "tests" / "data" / "practice_schedules.json",
                     parent / "shared" / "peers" / "practice_schedules.json"):
            if path.is_file():
                return [c for c in json.loads(path.read_text())["cases"] if c["rule"] == rule]
    pytest.skip("the peers' fixture practice_schedules.json is absent")


def llada_reference(mask_index: Any, steps: int) -> Any:
    """LLaDA's rule: row r splits its masked count m_r into ``steps`` passes of ``m_r // steps``, the first
    ``m_r % steps`` passes one more; int64 (batch, steps) on the mask's device."""
    counts = mask_index.sum(dim=1, keepdim=True)
    out = (counts // steps).repeat(1, steps).to(torch.int64)
    out += (torch.arange(steps, device=mask_index.device) < counts % steps).to(torch.int64)
    return out


def llada_generate(batch: int, prompt: int, gen_length: int, block_length: int, steps: int,
                   counts: Callable[..., Any], block_aware: bool = False, stop_when_revealed: bool = False,
                   seed: int = 0) -> list[list[list[int]]]:
    """LLaDA's ``generate`` block loop (low-confidence remasking, confidences random): the tokens committed per
    block, per pass, per row. ``stop_when_revealed`` is Fast-dLLM's loop (it leaves a revealed block)."""
    gen = torch.Generator().manual_seed(seed)
    x = torch.full((batch, prompt + gen_length), MASK, dtype=torch.long)
    x[:, :prompt] = 1
    blocks = gen_length // block_length
    per_block = steps // blocks
    trace: list[list[list[int]]] = []
    for b in range(blocks):
        lo, hi = prompt + b * block_length, prompt + (b + 1) * block_length
        block_mask = x[:, lo:hi] == MASK
        table = counts(block_mask, per_block, b) if block_aware else counts(block_mask, per_block)
        trace.append([])
        for i in range(per_block):
            if stop_when_revealed and not bool((x[:, lo:hi] == MASK).any()):
                break
            mask = x == MASK
            confidence = torch.rand(x.shape, generator=gen)
            confidence[:, hi:] = -np.inf
            confidence = torch.where(mask, confidence, torch.tensor(-np.inf))
            commit = torch.zeros_like(mask)
            for r in range(batch):
                _, idx = torch.topk(confidence[r], k=int(table[r, i]))
                commit[r, idx] = True
            x[commit] = 2
            trace[b].append(commit.sum(dim=1).tolist())
    assert not bool((x == MASK).any())
    return trace


def test_equal_counts_match_the_fixture_and_the_reference() -> None:
    cases = _fixture("llada_equal")
    assert cases
    for case in cases:
        n, steps = case["args"]["n"], case["args"]["steps"]
        mask = torch.zeros((3, n + 2), dtype=torch.bool)
        mask[:, 1:n + 1] = True
        ours = transfer_tokens(practice.equal(n, steps))(mask, steps)
        ref = llada_reference(mask, steps)
        assert ours.dtype == ref.dtype == torch.int64 and ours.device == ref.device and ours.shape == ref.shape
        assert torch.equal(ours, ref), case
        assert ours[0].tolist() == case["counts"], case


def test_generate_blocks_match_the_fixture_per_row_per_block() -> None:
    cases = _fixture("llada_generate_blocks") + _fixture("fastdllm_generate_blocks")
    assert cases
    for case in cases:
        a = case["args"]
        g, b, s = a["gen_length"], a["block_length"], a["steps"]
        fast = case["rule"].startswith("fastdllm")
        plan = (practice.fastdllm_blocks if fast else practice.llada_blocks)(g, b, s)
        ref = llada_generate(2, 3, g, b, s, llada_reference, stop_when_revealed=fast)
        ours = llada_generate(2, 3, g, b, s, transfer_tokens(practice.equal(b, s // (g // b))),
                              stop_when_revealed=fast)
        aware = llada_generate(2, 3, g, b, s, block_transfer_tokens(plan), block_aware=True, stop_when_revealed=fast)
        assert ours == ref == aware, case
        assert [c[0] for block in ours for c in block] == case["counts"], case


def test_uneven_budgets_per_block_run_exactly_in_a_fast_dllm_loop() -> None:
    """mdmsched's optimal split across blocks (different pass counts per block) through the block-aware drop-in:
    a loop with one ``steps`` (the largest block's) commits each block's plan, row by row."""
    rng = np.random.default_rng(3)
    for trial in range(5):
        blocks, length = int(rng.integers(2, 5)), int(rng.integers(3, 9))
        curves = [np.concatenate(([0.0], np.cumsum(rng.random(length - 1) * (i + 1)))) for i in range(blocks)]
        total = int(rng.integers(blocks, blocks * length + 1))
        budgets = mdmsched.optimal_block_split(curves, total)
        plan = BlockSchedule(tuple(mdmsched.optimal_schedule(z, k) for z, k in zip(curves, budgets)))
        widest = max(budgets)
        trace = llada_generate(3, 5, blocks * length, length, widest * blocks, block_transfer_tokens(plan),
                               block_aware=True, stop_when_revealed=True, seed=trial)
        assert trace == [[[s] * 3 for s in block.tolist()] for block in plan.blocks]
        table = block_transfer_tokens(plan)(torch.ones((2, length), dtype=torch.bool), widest, 0)
        assert table.tolist() == [plan.blocks[0].tolist() + [0] * (widest - budgets[0])] * 2


def test_errors() -> None:
    get = transfer_tokens(Schedule([2, 3]))
    with pytest.raises(ValueError, match="row 1 of mask_index has 4 masked positions, but the plan reveals 5"):
        get(torch.tensor([[True] * 5, [True] * 4 + [False]]), 2)
    with pytest.raises(ValueError, match="steps=1, but the plan runs 2 passes"):
        get(torch.ones((1, 5), dtype=torch.bool), 1)
    with pytest.raises(TypeError, match="2-D bool torch tensor"):
        get(torch.ones((1, 5), dtype=torch.long), 2)
    with pytest.raises(TypeError, match="2-D bool torch tensor"):
        get(np.ones((1, 5), dtype=bool), 2)
    with pytest.raises(TypeError, match="steps must be an integer"):
        get(torch.ones((1, 5), dtype=torch.bool), 2.0)
    assert get(torch.ones((2, 5), dtype=torch.bool), 4).tolist() == [[2, 3, 0, 0]] * 2
    plan = BlockSchedule((Schedule([1]), Schedule([2, 2])))
    with pytest.raises(ValueError, match="block_transfer_tokens"):
        transfer_tokens(plan)
    with pytest.raises(ValueError, match="block must be < 2"):
        block_transfer_tokens(plan)(torch.ones((1, 4), dtype=torch.bool), 2, 2)
    with pytest.raises(TypeError, match="plan must be a mdmsched Schedule"):
        transfer_tokens([1, 2])


def test_importing_the_adapters_imports_neither_torch_nor_diffusers() -> None:
    import subprocess
    import sys

    code = ("import sys, mdmsched, mdmsched.adapters; "
            "print(sorted(m for m in ('torch', 'diffusers', 'transformers') if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], check=True, capture_output=True, text=True).stdout
    assert out.strip() == "[]"
