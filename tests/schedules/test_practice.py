"""Peer-exact practice rules (issue 11): every case of the peers' fixture, exact k for mdmsched's own constructions,
and round trips of every sampler-facing form."""

from __future__ import annotations

import json
import math
import subprocess
import sys
from collections import defaultdict
from pathlib import Path
from typing import Any, Callable

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import mdmsched
from mdmsched import schedules as S
from mdmsched.schedule import BlockSchedule, Schedule
from mdmsched.schedules import practice as P
from mdmsched.schedules._float32 import cos32

#: The peers' fixture (provenance in tests/data/README.md): part of the repository, so every clone runs every case.
FIXTURE = Path(__file__).resolve().parents[1] / "data" / "practice_schedules.json"


def _cases() -> dict[str, list[dict[str, Any]]]:
    grouped: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for case in json.loads(FIXTURE.read_text())["cases"]:
        grouped[case["rule"]].append(case)
    return dict(grouped)


CASES = _cases()

RULES: dict[str, Callable[[dict[str, Any]], Schedule | BlockSchedule]] = {
    "llada_equal": lambda a: P.equal(a["n"], a["steps"]),
    "diffusers_block_refinement": lambda a: P.equal(a["block_length"], a["num_inference_steps"]),
    "diffusers_uniform_quota": lambda a: P.diffusers_uniform(a["block_length"], a["num_inference_steps"]),
    "dllm_linear": lambda a: P.dllm(a["n"], a["steps"], alpha="linear"),
    "dllm_cosine": lambda a: P.dllm(a["n"], a["steps"], alpha="cosine"),
    "dream": lambda a: P.dream(a["n"], a["steps"], eps=a["eps"]),
    "dus_block": lambda a: P.dus(a["block_length"]),
    "llada_generate_blocks": lambda a: P.llada_blocks(a["gen_length"], a["block_length"], a["steps"]),
    "fastdllm_generate_blocks": lambda a: P.fastdllm_blocks(a["gen_length"], a["block_length"], a["steps"]),
}


def _maskgit_rule(method: str) -> Callable[[dict[str, Any]], Schedule]:
    return lambda a: P.maskgit(a["n"], a["num_iter"], method=method)


RULES.update({f"maskgit_{m}": _maskgit_rule(m) for m in P.MASKGIT_METHODS})

def test_every_fixture_rule_has_an_implementation():
    assert set(CASES) <= set(RULES), f"rules without an implementation: {sorted(set(CASES) - set(RULES))}"
    assert set(RULES) <= set(CASES), f"rules without fixture cases: {sorted(set(RULES) - set(CASES))}"


@pytest.mark.parametrize("rule", sorted(RULES))
def test_fixture_counts_match_the_peer(rule):
    mismatches = []
    for case in CASES.get(rule, []):
        got = RULES[rule](case["args"])
        if got.passes.tolist() != case["counts"]:
            mismatches.append((case["args"], got.passes.tolist()[:12], case["counts"][:12]))
        # the theory's schedule is the non-empty passes, and covers every position
        assert got.tolist() == [c for c in case["counts"] if c > 0]
        assert sum(got.tolist()) == got.n
    assert not mismatches, f"{len(mismatches)} of {len(CASES.get(rule, []))} cases differ, e.g. {mismatches[:3]}"


def test_llada_equal_and_diffusers_uniform_by_hand():
    assert P.equal(10, 4).passes.tolist() == [3, 3, 2, 2]
    assert P.equal(3, 5).passes.tolist() == [1, 1, 1, 0, 0] and P.equal(3, 5).tolist() == [1, 1, 1]
    assert P.diffusers_uniform(10, 4).passes.tolist() == [3, 2, 3, 2]  # ceil(10 j / 4) = 3, 5, 8, 10
    assert P.diffusers_uniform(2, 3).passes.tolist() == [1, 1, 0]  # ceil(2 j / 3) = 1, 2, 2


def test_dus_by_hand():
    assert P.dus(16).tolist() == [2, 2, 4, 8]  # strides 8, 4, 2, 1: offsets {0, 8}, {4, 12}, {2, 6, ...}, odd
    assert P.dus(100).tolist() == [2, 2, 8, 8, 16, 64]
    assert P.dus(1).tolist() == [1]


def test_llada_blocks_asserts_and_forms():
    with pytest.raises(ValueError, match="multiple of block_length"):
        P.llada_blocks(10, 4, 4)
    with pytest.raises(ValueError, match="multiple of the number of blocks"):
        P.llada_blocks(8, 4, 3)
    with pytest.raises(ValueError, match="steps must be >= 1"):
        P.llada_blocks(8, 4, 0)
    b = P.llada_blocks(8, 4, 10)
    assert b.passes.tolist() == [1, 1, 1, 1, 0, 1, 1, 1, 1, 0] and b.k == 8 and b.n == 8
    assert b.num_transfer_tokens().tolist() == [[1, 1, 1, 1, 0], [1, 1, 1, 1, 0]]
    assert b.num_transfer_tokens(batch=3).shape == (2, 3, 5)
    assert P.fastdllm_blocks(8, 4, 10).passes.tolist() == [1] * 8


@settings(max_examples=25, deadline=None)
@given(n=st.integers(1, 3000), k=st.integers(1, 300))
def test_dream_and_dllm_match_torch(n, k):
    """The peers' own float32 arithmetic, run in torch, on (n, k) beyond the fixture (k > n included)."""
    torch = pytest.importorskip("torch")
    t = torch.linspace(1, 1e-3, k + 1)
    masked, expected = n, []
    for i in range(k):
        c = int(torch.tensor(masked, dtype=torch.int64) / 1 * (1 - t[i + 1] / t[i])) if i < k - 1 else masked
        expected.append(c)
        masked -= c
    assert P.dream(n, k).passes.tolist() == expected
    for kind in ("linear", "cosine"):
        def alpha(x: float, kind: str = kind) -> Any:
            x_t = torch.as_tensor(x, dtype=torch.float32)
            return 1 - x_t if kind == "linear" else 1 - torch.cos((math.pi / 2) * (1 - x_t))
        left, counts = n, []
        for j in range(k):
            ratio = ((1 - alpha((k - 1 - j) / k)) / (1 - alpha((k - j) / k))).item()
            c = min(left, int(torch.round(torch.tensor(left, dtype=torch.float64) * (1 - ratio))))
            counts.append(c)
            left -= c
            if left == 0:
                break
        if kind == "cosine":  # torch's float32 cos depends on its build (MKL, SLEEF): compare where it agrees
            grid = (math.pi / 2) * (1 - torch.arange(k + 1, dtype=torch.float64).div(k).to(torch.float32))
            if not np.array_equal(torch.cos(grid).numpy(), cos32(grid.numpy())):
                continue
        assert P.dllm(n, k, alpha=kind).passes.tolist() == [c for c in counts if c > 0]


def test_cos32_is_faithfully_rounded():
    """Within one float32 ulp of the true cosine (float64 reference) on random and edge arguments."""
    rng = np.random.default_rng(7)
    x = np.concatenate([(rng.random(200_000) - 0.5) * 240, [0.0, -0.0, math.pi / 2, math.pi, 124.99]]).astype(np.float32)
    got = cos32(x).astype(np.float64)
    truth = np.cos(x.astype(np.float64))
    ulp = np.spacing(np.abs(truth).astype(np.float32)).astype(np.float64)
    assert np.all(np.abs(got - truth) <= ulp), float(np.max(np.abs(got - truth) / ulp))
    assert float(cos32(np.float32(0))) == 1.0
    with pytest.raises(ValueError, match="cos32 needs"):
        cos32(np.float32(125.0))


def test_dllm_cosine_counts_do_not_depend_on_torch():
    """The same counts in a process where torch cannot be imported (the rule never asks torch)."""
    code = ("import sys; sys.modules['torch'] = None\n"
            "from mdmsched.schedules import practice as P\n"
            "print([P.dllm(n, k, alpha='cosine').passes.tolist() for n, k in ((1024, 1024), (300, 48), (50, 7))])")
    blocked = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120, check=False)
    assert blocked.returncode == 0, blocked.stderr
    here = [P.dllm(n, k, alpha="cosine").passes.tolist() for n, k in ((1024, 1024), (300, 48), (50, 7))]
    assert blocked.stdout.strip() == str(here)


def test_k_greater_than_n_is_accepted_where_the_peer_accepts_it():
    for sched in (P.equal(3, 7), P.maskgit(3, 7), P.dream(3, 7), P.diffusers_uniform(3, 7)):
        assert sched.passes.size == 7 and sched.passes.sum() == 3 and sched.k <= 3
    assert P.maskgit(1, 2).passes.tolist() == [0, 1]  # MaskGIT keeps one masked until its last pass
    assert P.dream(5, 5).passes[0] == 0  # Dream's first pass at k = n reveals nothing
    with pytest.raises(ValueError, match="method"):
        P.maskgit(10, 3, method="pow2.5")
    with pytest.raises(ValueError, match="alpha"):
        P.dllm(10, 3, alpha="square")
    with pytest.raises(ValueError, match="model calls"):  # refused before allocating 10**12 passes
        P.equal(5, 10**12)
    assert P.diffusers_uniform(10**15, 3 * 2**20).passes.sum() == 10**15  # no int64 overflow in j * n


# ---- exactly k steps --------------------------------------------------------------------------------------------


def _clamp_loop(n: int, k: int, targets: list[int]) -> list[int]:
    bp = [0]
    for j in range(1, k):
        bp.append(min(n - (k - j), max(bp[-1] + 1, targets[j - 1])))
    return [*bp, n]


@settings(max_examples=300, deadline=None)
@given(data=st.data(), n=st.integers(1, 60))
def test_exact_k_closed_form_matches_the_forward_clamp(data, n):
    k = data.draw(st.integers(1, n))
    targets = data.draw(st.lists(st.integers(-5, n + 5), min_size=k - 1, max_size=k - 1))
    assert S.exact_k_breakpoints(n, k, targets).tolist() == _clamp_loop(n, k, targets)


def _pairs_up_to_200() -> list[tuple[int, int]]:
    """Every (n, k) with k <= n <= 60, and for 60 < n <= 200 the edges k = 1, 2, 3, n-2, n-1, n plus 8 random k
    (all 20100 pairs take ~30 s through the public constructors on a loaded machine; the shared clamp is checked
    against its loop form above)."""
    rng = np.random.default_rng(11)
    pairs = [(n, k) for n in range(1, 61) for k in range(1, n + 1)]
    for n in range(61, 201):
        ks = {1, 2, 3, n - 2, n - 1, n} | {int(k) for k in rng.integers(1, n + 1, size=8)}
        pairs += [(n, k) for k in sorted(ks)]
    return pairs


def test_own_constructions_give_exactly_k_steps_for_k_up_to_n_200():
    curves = {n: 1 - np.exp(-3 * np.arange(n) / n) for n in range(1, 201)}  # Z_1 = 0, increasing
    for n, k in _pairs_up_to_200():
        fractions = (1 - np.arange(1, k + 1) / k) ** 2
        for sched in (S.cosine_squared(n, k), S.geometric_growth(n, k), S.continuum_schedule(curves[n], k),
                      S.from_mask_fractions(n, fractions)):
            sizes = sched.sizes
            assert sizes.size == k and sizes.min() >= 1 and sizes.sum() == n, (sched.name, n, k)


# ---- sampler-facing forms ----------------------------------------------------------------------------------------

sizes_strategy = st.lists(st.integers(1, 300), min_size=1, max_size=60)


@settings(max_examples=150, deadline=None)
@given(sizes=sizes_strategy, zeros=st.lists(st.integers(0, 60), max_size=5))
def test_schedule_json_and_num_transfer_tokens_round_trip(sizes, zeros):
    passes = list(sizes)
    for z in zeros:
        passes.insert(min(z, len(passes)), 0)
    s = Schedule(np.asarray(sizes), error=1 / 3, name="x", bound=math.pi, passes=np.asarray(passes))
    back = Schedule.from_json(s.to_json())
    assert back == s and back.passes.tolist() == passes and back.name == "x"
    assert back.error == s.error and back.bound == s.bound  # bit for bit
    table = s.num_transfer_tokens(batch=2)
    assert table.dtype == np.int64 and table.shape == (2, len(passes)) and table[1].tolist() == passes
    assert Schedule(np.asarray(sizes)) != s or not zeros  # passes are part of the schedule


@settings(max_examples=150, deadline=None)
@given(sizes=sizes_strategy)
def test_mask_ratio_function_reproduces_sizes_under_maskgit_rule(sizes):
    s = Schedule(np.asarray(sizes))
    r = s.mask_ratio_function()
    k = s.k
    t = np.float32(np.arange(1, k, dtype=np.float32) * (np.float32(1) / np.float32(k)))  # MaskGIT's float32 t
    ratios = np.asarray([r(float(v)) for v in t], dtype=np.float32)
    assert P.maskgit_counts(s.n, ratios).tolist() == sizes
    assert r(0.0) == 1.0 and r(1.0) == 0.0


@settings(max_examples=150, deadline=None)
@given(sizes=sizes_strategy)
def test_dllm_alpha_grid_reproduces_sizes_under_dllm_rounding(sizes):
    s = Schedule(np.asarray(sizes))
    grid = s.dllm_alpha_grid()
    assert grid[0] == 1.0 and grid[-1] == 0.0 and grid.size == s.k + 1
    counts = P.dllm_counts(s.n, grid.astype(np.float32))
    assert [c for c in counts.tolist() if c > 0] == sizes


def test_block_schedule_forms_round_trip():
    curves = [np.concatenate(([0.0], np.cumsum(np.full(b - 1, 0.1 * (i + 1))))) for i, b in enumerate((8, 8, 5))]
    bs = S.blockwise(21, 8, total_steps=7, curves=curves)
    assert isinstance(bs, BlockSchedule) and bs.k == 7 and bs.n == 21 and bs.block_lengths == [8, 8, 5]
    assert bs.error == pytest.approx(sum(b.error for b in bs.blocks))
    assert bs.error == pytest.approx(sum(mdmsched.schedule_error(c, b) for c, b in zip(curves, bs.blocks)))
    back = BlockSchedule.from_json(bs.to_json())
    assert back == bs and back.error == bs.error and back.tolist() == bs.tolist()
    table = bs.num_transfer_tokens()
    assert table.dtype == np.int64 and table.shape == (3, max(b.k for b in bs.blocks))
    assert [row[row > 0].tolist() for row in table] == [b.tolist() for b in bs.blocks]
    assert bs.flat().tolist() == bs.tolist()
    llada = P.llada_blocks(64, 16, 12)
    assert BlockSchedule.from_json(json.loads(llada.to_json())) == llada


def test_schedule_equality_ignores_labels():
    assert Schedule(np.asarray([2, 1]), name="a", error=1.0) == Schedule(np.asarray([2, 1]), name="b")
    assert len({Schedule(np.asarray([2, 1]), name="a"), Schedule(np.asarray([2, 1]), name="b")}) == 1
    with pytest.raises(ValueError, match="non-zero passes"):
        Schedule(np.asarray([2, 1]), passes=np.asarray([1, 2]))


def test_compare_shows_peer_names():
    z = mdmsched.example_curve("saturating")
    names = [row.name for row in mdmsched.compare(z, 8).rows]
    assert any(name.startswith("LLaDA equal") for name in names)
    assert any(name.startswith("MaskGIT cosine") for name in names)
    assert any(name.startswith("geometric growth") for name in names)


def test_import_is_lazy_about_matplotlib():
    code = ("import sys, mdmsched; assert 'matplotlib' not in sys.modules; "
            "assert mdmsched.reference.schedule_error([0.0, 1.0], [2]) == 1.0; mdmsched.plot; "
            "assert 'matplotlib' not in sys.modules")
    subprocess.run([sys.executable, "-c", code], check=True)
