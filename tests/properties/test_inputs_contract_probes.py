"""Issue 19 (reliability round 3), the Python contract items: one regression test per item, each failing before its fix.

References are independent of the code under test: hand-computed cross-entropies, MaskGIT's rule re-implemented here
in float32, exit codes and exception types stated by the README's contract.
"""

from __future__ import annotations

import io
import json
import subprocess
import sys
import textwrap
import time
import warnings
from pathlib import Path
from typing import Any

import numpy as np
import pytest

import mdmsched
from mdmsched import cli
from mdmsched import distributions as D
from mdmsched import schedules as S

MASK_ID = 7  # a placeholder id outside the alphabet {0, 1}, as a real MDM's [MASK] token


def _run_cli(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    code = cli.main(list(args))
    out, err = capsys.readouterr()
    return code, out, err


def _one_line_exit_2(code: int, err: str) -> None:
    assert code == 2, (code, err)
    lines = err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("mdmsched: error: "), err


# ---- mdmsched table validates its source curve ---------------------------------------------------------------------

@pytest.mark.parametrize("text", ["[0, 9, 1, 10, 0.5, 11]", "[7]", "[-1e300]", "5"])
def test_table_refuses_invalid_source_curves(text: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "z.json"
    path.write_text(text)
    code, _, err = _run_cli(capsys, "table", str(path), "--lengths", "4", "--steps", "2")
    _one_line_exit_2(code, err)


def test_table_family_refuses_complex_arrays(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "family.npz"
    np.savez(path, **{"4": np.array([0.0, 1.0, 2.0, 3.0]) + 1j})
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # was: a ComplexWarning and the imaginary part dropped
        code, _, err = _run_cli(capsys, "table", "--family", str(path), "--lengths", "4", "--steps", "2")
    _one_line_exit_2(code, err)
    assert "complex" in err


# ---- models receive copies of their inputs -----------------------------------------------------------------------

def _in_place_predictor(probs_of: Any) -> Any:
    """A predictor that overwrites its inputs in place, as many MDM wrappers do."""

    def predict(tokens: np.ndarray, mask: np.ndarray) -> np.ndarray:
        out = probs_of(tokens.shape)
        tokens[mask] = MASK_ID
        mask[:] = False
        return out

    return predict


def test_probability_model_reads_true_tokens_not_the_placeholder() -> None:
    rng = np.random.default_rng(0)
    tokens = rng.integers(0, 2, size=(5, 6))
    mask = rng.random((5, 6)) < 0.5
    p1 = 0.8  # q(x = 1) everywhere

    def probs(shape: tuple[int, ...]) -> np.ndarray:
        return np.broadcast_to(np.array([1 - p1, p1]), (*shape, 2)).copy()

    model = mdmsched.ProbabilityModel(_in_place_predictor(probs))
    given_tokens, given_mask = tokens.copy(), mask.copy()
    scores = model.score(given_tokens, given_mask)
    expected = np.where(mask, np.where(tokens == 1, -np.log(p1), -np.log(1 - p1)), 0.0)  # by hand
    np.testing.assert_allclose(scores, expected, rtol=1e-12)
    assert np.array_equal(given_tokens, tokens) and np.array_equal(given_mask, mask)  # the caller's arrays untouched


class _MutatingScorer:
    """A MaskedModel whose score overwrites tokens and mask in place (after computing the right answer)."""

    def __init__(self) -> None:
        self.inner = mdmsched.ExactPredictor(D.markov_chain([[0.9, 0.1], [0.3, 0.7]], 4))
        self.model = mdmsched.ProbabilityModel(self.inner)
        self.n = 4

    def score(self, tokens: np.ndarray, mask: np.ndarray, target: str = "cross_entropy") -> np.ndarray:
        out = self.model.score(tokens, mask, target)  # type: ignore[arg-type]
        tokens[...] = MASK_ID
        mask[...] = ~mask
        return out

    def sample(self, tokens: np.ndarray, mask: np.ndarray, rng: np.random.Generator) -> np.ndarray:
        out = self.model.sample(tokens, mask, rng)
        tokens[...] = MASK_ID
        mask[...] = False
        return out


def test_estimate_and_sampler_loops_hand_models_copies() -> None:
    law = D.markov_chain([[0.9, 0.1], [0.3, 0.7]], 4)
    data = mdmsched.ExactPredictor(law).sample(40, np.random.default_rng(1))
    clean = mdmsched.ProbabilityModel(mdmsched.ExactPredictor(law))
    a = mdmsched.estimate_curve(clean, data, seed=3)
    b = mdmsched.estimate_curve(_MutatingScorer(), data, seed=3)
    np.testing.assert_array_equal(a.h, b.h)
    kl_a = mdmsched.expected_kl(law, clean, [2, 2], 50, seed=4)
    kl_b = mdmsched.expected_kl(law, _MutatingScorer(), [2, 2], 50, seed=4)
    np.testing.assert_array_equal(kl_a.values, kl_b.values)
    draws_a = mdmsched.simulate(clean, [1, 3], 30, seed=5)
    draws_b = mdmsched.simulate(_MutatingScorer(), [1, 3], 30, seed=5)
    np.testing.assert_array_equal(draws_a, draws_b)
    assert draws_b.max() < 2  # the placeholder never lands in a sample


# ---- MaskGIT's 1e-6 clip ------------------------------------------------------------------------------------------

def _maskgit_keep(n: int, ratios: np.ndarray) -> list[int]:
    """MaskGIT decode, re-implemented: mask_len = max(1, min(unknown - 1, floor(float32(n) * clip(r, 1e-6, 1))))."""
    kept, unknown = [], n
    for r in ratios.astype(np.float32):
        length = int(np.floor(np.float32(n) * np.clip(r, np.float32(1e-6), np.float32(1))))
        unknown = max(1, min(unknown - 1, length))
        kept.append(unknown)
    return kept


def test_mask_ratio_function_refuses_what_the_clip_cannot_express() -> None:
    n = 2_000_000
    with pytest.raises(ValueError, match="1e-6"):
        mdmsched.Schedule([n - 3, 2, 1]).mask_ratio_function()  # was: a function MaskGIT turns into [n-3, 1, 2]


@pytest.mark.parametrize("n", [1_000_000, 2_000_000, 3_000_001, 2**22 - 1])
def test_mask_ratio_function_round_trips_wherever_it_returns(n: int) -> None:
    rng = np.random.default_rng(n)
    accepted = 0
    for _ in range(60):
        k = int(rng.integers(2, 6))
        tail = np.sort(rng.choice(np.arange(1, 40), size=k - 1, replace=False))[::-1]  # masked counts M_1 > ... > 0
        masked = np.concatenate(([n], tail, [0]))
        sizes = -np.diff(masked)
        schedule = mdmsched.Schedule(sizes)
        try:
            f = schedule.mask_ratio_function()
        except ValueError:
            assert np.any((tail + 0.5) / n < 1e-6)  # refused only below the clip
            continue
        accepted += 1
        ratios = np.asarray([f(j / k) for j in range(1, k)], dtype=np.float32)
        assert _maskgit_keep(n, ratios) == tail.tolist()
    assert accepted > 0


# ---- token ids and sizes beyond int64 ----------------------------------------------------------------------------

def test_uint64_tokens_above_int64_are_refused_not_wrapped() -> None:
    data = np.zeros((4, 3), dtype=np.uint64)
    data[0, 0] = np.uint64(2**63)
    seen: list[int] = []

    class Recorder:
        def score(self, tokens: np.ndarray, mask: np.ndarray, target: str = "cross_entropy") -> np.ndarray:
            seen.append(int(tokens.min()))
            return np.zeros(tokens.shape)

    with pytest.raises(ValueError, match="data"):
        mdmsched.estimate_curve(Recorder(), data)
    with pytest.raises(ValueError, match="tokens"):
        mdmsched.ProbabilityModel(lambda t, m: np.full((*t.shape, 2), 0.5)).score(data, np.ones(data.shape, bool))
    with pytest.raises(ValueError, match="prompts"):
        mdmsched.simulate(np.full((2, 2, 2), 1 / 8), [1], 2, prompts=data[:1],
                          region=np.array([False, False, True]))
    assert not seen  # no negative id ever reached a model


def test_li_cai_bound_refuses_wrapping_uint64_sizes() -> None:
    z = np.array([0.0, 1.0, 2.0, 3.0])
    with pytest.raises(ValueError, match="sizes"):
        S.li_cai_bound(z, np.array([2**64 - 1, 5], dtype=np.uint64))  # was 12.0: sizes read as [-1, 5], sum 4
    assert S.li_cai_bound(np.array([0.0, 1.0, 3.0]), np.array([2, 1], dtype=np.uint64)) == 3.0  # (2 - 1) * Z_3


def test_one_size_validator() -> None:
    import mdmsched._schedule as schedule_module

    assert not hasattr(schedule_module, "as_step_sizes")  # the second validator of the same name is gone
    for bad in (np.array([2**63, 1], dtype=np.uint64), [2**63, 1]):
        with pytest.raises(ValueError, match="sizes"):
            mdmsched.Schedule(bad)
        with pytest.raises(ValueError, match="sizes"):
            mdmsched.schedule_error(np.zeros(3), bad)
    from mdmsched._validation import INT64_MAX

    assert INT64_MAX == 2**63 - 1


# ---- command line -------------------------------------------------------------------------------------------------

@pytest.mark.parametrize("command", [["solve"], ["frontier"], ["compare"], ["table", "--lengths", "4", "--steps", "2"]])
@pytest.mark.parametrize("suffix", [".json", ".txt"])
def test_deeply_nested_curve_files_are_one_line_errors(command: list[str], suffix: str, tmp_path: Path,
                                                       capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / f"deep{suffix}"
    path.write_text("[" * 100000 + "]" * 100000)
    code, _, err = _run_cli(capsys, command[0], str(path), *command[1:])
    _one_line_exit_2(code, err)


def test_deeply_nested_family_is_one_line_error(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "deep.json"
    path.write_text("[" * 100000 + "]" * 100000)
    code, _, err = _run_cli(capsys, "table", "--family", str(path), "--lengths", "4", "--steps", "2")
    _one_line_exit_2(code, err)
    path.write_text('{"4": ' + "[" * 100000 + "]" * 100000 + "}")
    code, _, err = _run_cli(capsys, "table", "--family", str(path), "--lengths", "4", "--steps", "2")
    _one_line_exit_2(code, err)


class _ClosedPipe(io.StringIO):
    def write(self, text: str) -> int:
        raise BrokenPipeError(32, "Broken pipe")


def test_closed_pipe_exits_quietly(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setattr(sys, "stdout", _ClosedPipe())
    code = cli.main(["frontier", "--example", "code", "--k-max", "8"])
    err = capsys.readouterr().err
    assert code == cli.EXIT_BROKEN_PIPE == 141 and err == ""


def test_closed_pipe_in_a_real_pipeline() -> None:
    script = textwrap.dedent("""
        import subprocess, sys
        proc = subprocess.Popen([sys.executable, "-m", "mdmsched", "table", "--example", "saturating", "--lengths",
                                 "64,128,256,512", "--steps", "2,4,8,16,32", "--json"],
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        proc.stdout.read(10)
        proc.stdout.close()  # what `| head -c 10` does
        err = proc.stderr.read()
        print(proc.wait(), repr(err.decode()))
    """)
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=120, check=True)
    code, err = out.stdout.split(" ", 1)
    # 141 (128 + SIGPIPE) when the write hit the closed pipe; 0 when the whole output fit in the pipe buffer before the
    # reader closed it (a race the machine's speed decides). Either way: quiet, no traceback, not exit 2.
    assert int(code) in (0, 141) and err.strip() == "''", out.stdout


@pytest.mark.parametrize("command", ["solve", "frontier", "compare"])
def test_curve_commands_need_a_file_or_example(command: str, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = _run_cli(capsys, command)
    _one_line_exit_2(code, err)
    assert "--example" in err and out == ""


# ---- sizes that do not fit: ValueError before allocating ---------------------------------------------------------

_UNDER_LIMIT = textwrap.dedent("""
    import resource, os, numpy as np, mdmsched
    from mdmsched import distributions as D
    with open("/proc/self/statm") as f:
        used = int(f.read().split()[0]) * os.sysconf("SC_PAGE_SIZE")
    resource.setrlimit(resource.RLIMIT_AS, (used + 2 * 2**30, resource.RLIM_INFINITY))  # 2 GiB more than now
    calls = {
        "total_correlation": lambda p: mdmsched.total_correlation(p),
        "estimate_average_entropies": lambda p: mdmsched.estimate_average_entropies(p, subsets_per_size=2),
        "ExactPredictor": lambda p: mdmsched.ExactPredictor(p),
    }
    for ndim in (24, 30, 31):
        p = np.broadcast_to(np.float64(0.5 ** ndim), (2,) * ndim)
        for name, call in calls.items():
            try:
                call(p)
                print(name, ndim, "ok")
            except Exception as exc:
                print(name, ndim, type(exc).__name__)
""")


def test_broadcast_tensors_are_refused_before_allocating() -> None:
    out = subprocess.run([sys.executable, "-c", _UNDER_LIMIT], capture_output=True, text=True, timeout=300, check=True)
    results = {(name, int(ndim)): kind for name, ndim, kind in (line.split() for line in out.stdout.splitlines())}
    for (name, ndim), kind in results.items():
        if ndim >= 30 or name == "estimate_average_entropies":  # 8-16 GiB copies; a 2^24-cell support of 24 coords
            assert kind == "ValueError", (name, ndim, kind)
        else:
            assert kind in ("ok", "ValueError"), (name, ndim, kind)
    assert len(results) == 9


def test_huge_schedules_and_curves_are_refused_before_allocating() -> None:
    with pytest.raises(ValueError, match="steps"):
        S.austin_schedule(2**40, 1.0, 1e-9)
    with pytest.raises(ValueError, match="n = "):
        D.mds_curve(2**40, 1, 2)
    with pytest.raises(ValueError, match="sizes"):
        mdmsched.compare(np.array([0.0, 1.0, 2.0]), 2, schedules=[[2**63, 1]])


def test_austin_schedule_with_a_ratio_beyond_the_double_range() -> None:
    s = S.austin_schedule(10, 1e300, 1e-300)  # dtc n / eps overflows: every step a single token
    assert s.tolist() == [1] * 10
    assert S.austin_schedule(10, 1.0, 1.0).tolist() == [1] * 3 + [3, 2, 2]  # L = round(sqrt(10)) = 3, 7 in 3 steps


# ---- silently accepted before -----------------------------------------------------------------------------------

def test_schedule_labels_are_non_negative() -> None:
    with pytest.raises(ValueError, match="error"):
        mdmsched.Schedule([1, 2], error=-5)
    with pytest.raises(ValueError, match="bound"):
        mdmsched.Schedule([1, 2], bound=-1)
    with pytest.raises(ValueError, match="bound"):
        mdmsched.Schedule.from_json('{"sizes": [1, 2], "bound": -1}')
    with pytest.raises(ValueError, match="error"):
        mdmsched.Schedule.from_json('{"sizes": [1, 2], "error": -1e-300}')
    assert mdmsched.Schedule([1, 2], error=0.0, bound=float("inf")).bound == float("inf")


def test_block_schedule_from_json_checks_n_k_and_error() -> None:
    blocks = mdmsched.BlockSchedule((mdmsched.Schedule([1, 2], error=0.5), mdmsched.Schedule([2], error=0.25)))
    good = json.loads(blocks.to_json())
    assert mdmsched.BlockSchedule.from_json(good) == blocks
    for key, value in (("n", 99), ("k", 77), ("error", 5.0)):
        with pytest.raises(ValueError, match=key):
            mdmsched.BlockSchedule.from_json({**good, key: value})


@pytest.mark.parametrize("progress", ["yes", 5, 1.0, None])
def test_progress_must_be_a_bool_or_callable(progress: Any) -> None:
    p = np.full((2, 2), 0.25)
    with pytest.raises(TypeError, match="progress"):
        mdmsched.subset_entropies(p, progress=progress)
    with pytest.raises(TypeError, match="progress"):
        mdmsched.average_entropies(p, progress=progress)
    np.testing.assert_allclose(mdmsched.subset_entropies(p, progress=[].append), [0, np.log(2), np.log(2), np.log(4)])


def test_simulate_refuses_an_n_that_contradicts_prompts() -> None:
    law = np.full((2, 2), 0.25)
    with pytest.raises(ValueError, match="n = 9"):
        mdmsched.simulate(law, [1], 3, n=9, prompts=np.zeros((1, 2), int), region=np.array([False, True]))
    out = mdmsched.simulate(law, [1], 3, n=2, prompts=np.zeros((1, 2), int), region=np.array([False, True]), seed=0)
    assert out.shape == (3, 2) and (out[:, 0] == 0).all()


def test_linear_code_needs_a_non_empty_generator() -> None:
    for shape in ((1, 0), (0, 3)):
        with pytest.raises(ValueError, match="generator"):
            D.linear_code_average_entropies(np.zeros(shape, int), 3)
    # [[1, 1]] over F_3: H(X_S) = log 3 for every non-empty S
    np.testing.assert_allclose(D.linear_code_average_entropies(np.array([[1, 1]]), 3), [0, np.log(3), np.log(3)])
    np.testing.assert_allclose(D.linear_code_average_entropies(np.array([[2**64 - 2, 1]], dtype=np.uint64), 3),
                               [0, np.log(3), np.log(3)])  # 2**64 - 2 = 1 mod 3: reduced before any int64 cast


def test_probability_model_sample_needs_a_generator() -> None:
    model = mdmsched.ProbabilityModel(lambda t, m: np.full((*t.shape, 2), 0.5))
    tokens, mask = np.zeros((1, 3), int), np.ones((1, 3), bool)
    with pytest.raises(TypeError, match="rng"):
        model.sample(tokens, mask, None)  # type: ignore[arg-type]  # was AttributeError
    assert model.sample(tokens, mask, np.random.default_rng(0)).shape == (1, 3)


def test_integral_floats_one_rule_for_sizes_and_passes() -> None:
    a = mdmsched.Schedule.from_json('{"sizes": [1.0, 2.0]}')  # was refused with a message about passes
    assert a == mdmsched.Schedule([1.0, 2.0]) == mdmsched.Schedule([1, 2])
    assert mdmsched.Schedule([1, 2], passes=[0.0, 1.0, 2.0]).passes.tolist() == [0, 1, 2]
    for text in ('{"sizes": [1.5, 2]}', '{"sizes": [1, 2], "passes": [1.5, 2]}'):
        key = "passes" if "passes" in text else "sizes"
        with pytest.raises(TypeError, match=key) as info:
            mdmsched.Schedule.from_json(text)
        assert key != "sizes" or "passes" not in str(info.value)
    with pytest.raises(TypeError, match="sizes"):
        mdmsched.Schedule([1.5, 1.5])


def test_exchangeable_check_refuses_before_copying_a_huge_broadcast_tensor() -> None:
    """Found by the full suite (an OOM kill at 24 GB): ``exchangeable=True`` on a broadcast ``(2,)*31`` view made a
    16 GiB float64 copy and then four tensor-sized temporaries per coordinate swap. It must refuse first, at once."""
    p = np.broadcast_to(np.float64(2.0**-31), (2,) * 31)
    start = time.perf_counter()
    with pytest.raises(ValueError, match="exchangeable=True"):
        mdmsched.average_entropies(p, exchangeable=True)
    assert time.perf_counter() - start < 1.0
