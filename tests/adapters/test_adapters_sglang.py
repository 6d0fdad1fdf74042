"""The SGLang plug-in (mdmsched.adapters.sglang): its pure decision functions against the closed-loop policy on every
state and against FloorThreshold; its YAML config; its install; and the class run by SGLang's REAL base class.

The last test loads ``sglang/srt/dllm/algorithm/base.py`` of sglang==0.5.23 (installed with ``pip install --no-deps
sglang==0.5.23``: its files only) as a module and drives ``DllmAlgorithm.run`` (its ``_run_sync`` and ``_run_fdfo``
loops) with a stand-in model runner. base.py's imports pull SGLang's whole server (torchvision, CUDA torch), so these
modules are stubbed with the names base.py reads at import: ``sglang.srt.dllm.algorithm`` (``get_algorithm``),
``sglang.srt.dllm.config`` (``DllmConfig``), ``sglang.srt.layers.logits_processor`` (``LogitsProcessorOutput``),
``sglang.srt.model_executor.forward_batch_info`` (``ForwardBatch``), ``sglang.srt.model_executor.model_runner``
(``ModelRunner``), ``sglang.srt.server_args`` (``ServerArgs``), ``sglang.srt.utils`` (``is_npu``, returning False);
all but ``is_npu`` are annotations or used only by ``from_server_args``, which the test does not call. Skipped where
sglang's files or torch are absent.
"""

from __future__ import annotations

import importlib.util
import sys
import types
from pathlib import Path

import numpy as np
import pytest
from closed_loop_reference import bellman_policy

import mdmsched
from mdmsched.adapters import serving
from mdmsched.adapters.sglang import PlanConfig, commit_mask, install, make_algorithm, planned_count, uninstall
from mdmsched.curves.examples import example_curve
from mdmsched.curves.hygiene import fit_curve
from mdmsched.models.interface import StateScores
from mdmsched.samplers import FloorThreshold

N, K = 16, 5


@pytest.fixture(scope="module")
def table_path(tmp_path_factory: pytest.TempPathFactory) -> Path:
    z = fit_curve(example_curve("markov"), N, "interp")
    count, _ = bellman_policy(z, K)
    curves = {m: fit_curve(example_curve("markov"), m, "interp") for m in (12, N)}
    path = tmp_path_factory.mktemp("sglang") / "table.json"
    serving.save_table(serving.build_table(curves, [3, K, N], policies={N: count}), path)
    return path


def test_planned_count_is_the_policy_on_every_state(table_path: Path) -> None:
    table = serving.ScheduleTable.load(table_path)
    config = PlanConfig(table=str(table_path), steps=K)
    count, _ = bellman_policy(fit_curve(example_curve("markov"), N, "interp"), K)
    checked = 0
    for revealed in range(N):
        for left in range(1, K + 1):
            got = planned_count(table, config, N, N - revealed, K - left)
            if left <= N - revealed:
                assert got == count[revealed, left - 1], (revealed, left)
                checked += 1
            else:  # more passes than masked positions: the policy at passes_left = masked
                assert got == count[revealed, N - revealed - 1]
    assert checked == sum(min(K, N - r) for r in range(N))


def test_without_a_policy_the_schedule_is_replayed(table_path: Path) -> None:
    table = serving.ScheduleTable.load(table_path)
    config = PlanConfig(table=str(table_path), steps=K, policy=False)
    plan = mdmsched.optimal_schedule(fit_curve(example_curve("markov"), N, "interp"), K).tolist()
    masked, got = N, []
    for done in range(K):
        got.append(planned_count(table, config, N, masked, done))
        masked -= got[-1]
    assert got == plan and masked == 0
    # 12 is tabulated without a policy: the schedule even with policy=True; 13 is not: the nearest length, rescaled
    assert planned_count(table, PlanConfig(table=str(table_path), steps=3), 12, 12, 0) == table.counts(12, 3)[0][0]
    assert planned_count(table, PlanConfig(table=str(table_path), steps=3), 13, 13, 0) >= 1
    with pytest.raises(ValueError, match="no schedules for n = 13"):
        planned_count(table, PlanConfig(table=str(table_path), steps=3, nearest=False), 13, 13, 0)


def test_commit_mask_is_floor_threshold() -> None:
    rng = np.random.default_rng(5)
    for _ in range(300):
        b, length = int(rng.integers(1, 4)), int(rng.integers(1, 9))
        masked = rng.random((b, length)) < 0.7
        masked[:, 0] |= ~masked.any(axis=1)
        conf = np.round(rng.random((b, length)), 1)  # ties on purpose: lower position first
        counts = rng.integers(0, length + 2, size=b)
        tau = float(rng.choice([0.3, 0.8, 1.5]))
        got = commit_mask(conf, masked, counts, tau)
        scores = StateScores(conf, np.zeros_like(conf), np.zeros_like(conf))
        for r in range(b):  # FloorThreshold: max(count, #conf > tau) most confident, one row at a time
            rule = FloorThreshold([int(max(counts[r], 1)), length], tau=tau)
            want = rule.select(scores.rows(np.array([r])), masked[r:r + 1], np.zeros(1, dtype=np.int64), 0,
                               np.random.default_rng(0))
            assert (got[r] == want[0]).all()
    assert not commit_mask(np.ones((1, 3)), np.zeros((1, 3), bool), np.array([2]), None).any()


def test_config_round_trips_and_bad_configs_are_one_error(table_path: Path) -> None:
    config = PlanConfig(table=str(table_path), steps=8, tau=0.9, policy=False, block_size=32)
    assert PlanConfig.from_yaml(config.to_yaml()) == config
    assert PlanConfig.from_yaml(f"table: {table_path}\nsteps: 4\n") == PlanConfig(str(table_path), 4)
    bad = {"steps: 8\n": (ValueError, "missing key"), f"table: {table_path}\nsteps: 8\nalpha: 1\n":
           (ValueError, "unknown key"), f"table: {table_path}\nsteps: 0\n": (ValueError, "steps"),
           f"table: {table_path}\nsteps: '8'\n": (TypeError, "steps"), f"table: {table_path}\nsteps: 8\ntau: -1\n":
           (ValueError, "tau"), f"table: {table_path}\nsteps: 8\npolicy: maybe\n": (TypeError, "policy"),
           "- 1\n- 2\n": (TypeError, "mapping"), "table: [\n": (ValueError, "not YAML")}
    for text, (error, words) in bad.items():
        with pytest.raises(error, match=words):
            PlanConfig.from_yaml(text)


def test_install_writes_one_module(tmp_path: Path) -> None:
    folder = tmp_path / "sglang" / "srt" / "dllm" / "algorithm"
    folder.mkdir(parents=True)
    (folder / "base.py").write_text("")
    target = install(tmp_path / "sglang")
    assert target == folder / "mdmsched_plan.py" and "Algorithm = make_algorithm()" in target.read_text()
    assert uninstall(tmp_path / "sglang") and not target.exists() and not uninstall(tmp_path / "sglang")
    with pytest.raises(ValueError, match=r"no base\.py"):
        install(tmp_path)


# ---- SGLang's real base class -------------------------------------------------------------------------------------


def _sglang_base(monkeypatch: pytest.MonkeyPatch):
    torch = pytest.importorskip("torch")
    spec = importlib.util.find_spec("sglang")
    if spec is None or spec.origin is None:
        pytest.skip("sglang's files are not installed (pip install --no-deps sglang==0.5.23)")
    base_py = Path(spec.origin).parent / "srt" / "dllm" / "algorithm" / "base.py"
    stubs = {
        "sglang": {}, "sglang.srt": {}, "sglang.srt.dllm": {}, "sglang.srt.layers": {},
        "sglang.srt.model_executor": {},
        "sglang.srt.dllm.algorithm": {"get_algorithm": lambda config: None},
        "sglang.srt.dllm.config": {"DllmConfig": object},
        "sglang.srt.layers.logits_processor": {"LogitsProcessorOutput": object},
        "sglang.srt.model_executor.forward_batch_info": {"ForwardBatch": object},
        "sglang.srt.model_executor.model_runner": {"ModelRunner": object},
        "sglang.srt.server_args": {"ServerArgs": object},
        "sglang.srt.utils": {"is_npu": lambda: False},
    }
    for name, attrs in stubs.items():
        module = types.ModuleType(name)
        module.__path__ = []
        module.__dict__.update(attrs)
        monkeypatch.setitem(sys.modules, name, module)
    loader = importlib.util.spec_from_file_location("sglang.srt.dllm.algorithm.base", base_py)
    assert loader is not None and loader.loader is not None
    base = importlib.util.module_from_spec(loader)
    monkeypatch.setitem(sys.modules, loader.name, base)
    loader.loader.exec_module(base)
    return torch, base.DllmAlgorithm


class _Runner:
    """A stand-in model runner: logits that depend on the position and the tokens (so confidences move), counted."""

    def __init__(self, torch, vocab: int) -> None:
        self.torch, self.vocab, self.forwards = torch, vocab, 0

    def forward(self, batch, pp_proxy_tensors=None):
        del pp_proxy_tensors
        self.forwards += 1
        ids = batch.input_ids.double()
        g = self.torch.Generator().manual_seed(int(ids.sum()) % 10_000)
        logits = self.torch.randn(ids.numel(), self.vocab, generator=g, dtype=self.torch.float64) * 3
        out = types.SimpleNamespace(full_logits=logits.float())
        return types.SimpleNamespace(logits_output=out, can_run_graph=False)


@pytest.mark.parametrize("fdfo", [False, True])
def test_runs_under_sglangs_base_class(monkeypatch: pytest.MonkeyPatch, table_path: Path, tmp_path: Path,
                                       fdfo: bool) -> None:
    torch, base = _sglang_base(monkeypatch)
    algorithm_cls = make_algorithm()
    assert base in algorithm_cls.__mro__ and algorithm_cls.__name__ == "MdmschedPlan"
    log = tmp_path / "blocks.log"
    mask_id, batch = 99, 2
    config = types.SimpleNamespace(block_size=N, mask_id=mask_id, first_done_first_out_mode=fdfo,
                                   algorithm_config={"table": str(table_path), "steps": K, "log": str(log)})
    algo = algorithm_cls(config)
    ids = torch.full((batch * N,), mask_id, dtype=torch.long)
    forward_batch = types.SimpleNamespace(batch_size=batch, input_ids=ids, dllm_prompt_mask=None)
    runner = _Runner(torch, vocab=7)
    if fdfo:
        states = None
        for _ in range(N + 2):
            _, _, accepted, states, _ = algo.run(runner, forward_batch, states)
            if all(a == N for a in accepted):
                break
    else:
        algo.run(runner, forward_batch)
    assert not (ids == mask_id).any()
    # the pure plan (no tau): K passes that commit, then one that reports the block done; the log says the same
    assert runner.forwards == K + 1
    assert log.read_text().split("\n")[:batch] == [f"{N} {K + 1}"] * batch
    if not fdfo:  # one token per pass (the schedule for k = N): SGLang's loop must allow N + 1 forwards
        config.algorithm_config = {"table": str(table_path), "steps": N, "policy": False}
        ids.fill_(mask_id)
        runner.forwards = 0
        algorithm_cls(config).run(runner, forward_batch)
        assert runner.forwards == N + 1 and not (ids == mask_id).any()
