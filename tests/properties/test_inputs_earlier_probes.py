"""Regression tests for every example in issue 12 ("one validation layer that cannot be bypassed").

Expected values come from first principles (closed forms, exact arithmetic, definitions), never from the code under
test. Grouped as in the issue: garbage returned, wrong answers, wrong exception type / late failure, valid input
refused, CLI.
"""

from __future__ import annotations

import json
import math
import subprocess
import sys
import time
from fractions import Fraction

import numpy as np
import pytest
from curves import exact_error

import mdmsched
from mdmsched import _core, _validation
from mdmsched import schedules as S
from mdmsched.curves import families as D
from mdmsched.io import strict_json

UNIFORM3 = np.full((2, 2, 2), 0.125)
STICKY = np.array([[0.9, 0.1], [0.2, 0.8]])


# ---- garbage returned ------------------------------------------------------------------------------------------


def test_simulate_and_expected_kl_refuse_non_positive_batch_size():
    for bad in (-1, 0):
        with pytest.raises(ValueError, match="batch_size"):
            mdmsched.simulate(mdmsched.ExactPredictor(UNIFORM3), [1, 1, 1], 10, batch_size=bad)
        with pytest.raises(ValueError, match="batch_size"):
            mdmsched.expected_kl(mdmsched.MarkovPredictor(STICKY, 3), None, [1, 1, 1], 10, batch_size=bad)
    with pytest.raises(TypeError, match="batch_size"):
        mdmsched.simulate(mdmsched.ExactPredictor(UNIFORM3), [1, 1, 1], 10, batch_size=2.5)  # type: ignore[arg-type]


def test_direct_distribution_construction_is_validated():
    with pytest.raises(ValueError, match="non-negative"):
        mdmsched.Distribution(np.array([[0], [1]]), np.array([1.5, -0.5]))
    with pytest.raises(TypeError, match="outcomes must be integers"):
        mdmsched.Distribution(np.array([[0.5], [1.2]]), np.array([0.5, 0.5]))  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="one entry per outcome"):
        mdmsched.Distribution(np.array([[0], [1]]), np.array([1.0]))
    with pytest.raises(ValueError, match="sum to 1"):
        mdmsched.Distribution(np.array([[0], [1]]), np.array([0.5, 0.6]))
    with pytest.raises(ValueError, match="finite"):
        mdmsched.Distribution(np.array([[0], [1]]), np.array([np.nan, 1.0]))
    ok = mdmsched.Distribution(np.array([[0, 1], [1, 0]]), np.array([0.25, 0.75]))  # lists and views are converted
    assert ok.outcomes.dtype == np.int64 and ok.probs.dtype == np.float64 and ok.n == 2


def test_raw_core_validates_probabilities_and_lattice_size():
    for bad in (np.array([np.nan, 1.0]), np.array([-0.5, 1.5]), np.array([0.5, 0.6])):
        rows = np.array([[0], [1]])
        for function, args in ((_core.dense_lattice, (bad, False)), (_core.dense_marginal_entropies, (bad,)),
                               (_core.dense_prefix_entropies, (bad,)), (_core.sparse_lattice, (rows, bad, False)),
                               (_core.sparse_marginal_entropies, (rows, bad))):
            with pytest.raises(ValueError, match=r"finite non-negative probability|must sum to 1"):
                function(*args)
    rows = np.random.default_rng(0).integers(0, 2, size=(8, 40))
    start = time.perf_counter()
    with pytest.raises(ValueError, match="2\\^n subsets"):
        _core.sparse_lattice(rows, np.full(8, 1 / 8), False)
    assert time.perf_counter() - start < 1.0  # refused, not minutes of work
    assert _core.MAX_LATTICE_N == mdmsched.curves.exact.MAX_LATTICE_N == 30


def test_float_arguments_that_must_be_integers_are_refused_not_truncated():
    with pytest.raises(TypeError, match="n must be an integer"):
        mdmsched.MarkovPredictor(STICKY, 2.7)  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="grid must hold integers"):  # the issue's `sizes=` is `grid=` now
        mdmsched.estimate_curve(mdmsched.ExactPredictor(UNIFORM3), np.zeros((4, 3), dtype=int), grid=[1.7])
    assert mdmsched.MarkovPredictor(STICKY, np.int32(3)).n == 3  # numpy integers are integers
    est = mdmsched.estimate_curve(mdmsched.ExactPredictor(UNIFORM3), np.zeros((4, 3), dtype=int), grid=[1.0], seed=0)
    assert est.grid.tolist() == [0, 1, 2]  # exactly integral floats are fine (0 and n - 1 always added)


# ---- wrong answers ---------------------------------------------------------------------------------------------


def test_error_frontier_never_negative_on_huge_dynamic_range():
    rng = np.random.default_rng(12)
    for _ in range(20):
        steps = 10.0 ** rng.uniform(-12, 12, size=rng.integers(2, 200))
        steps[rng.random(steps.size) < 0.3] = 0.0  # flat stretches: exact zeros in the frontier
        z = np.concatenate(([0.0], np.cumsum(steps)))
        for method in ("auto", "naive", "hull"):
            if method == "naive" and z.size > 60:
                continue
            front = mdmsched.error_frontier(z, method=method)
            assert (front >= 0).all()
            # opt_n = 0 exactly; the DP's rounding is ~u * n * max|Z| and may only leave it slightly above 0.
            assert front[-1] <= 1e-15 * z.size * z[-1]


def test_min_steps_returns_k_when_eps_is_an_exact_opt_k():
    # Found by the Fraction oracle: opt_4, opt_5, opt_6 are nearly collinear; eps = opt_5 must give k = 5.
    z = np.concatenate(([0.0], np.cumsum([1e-12] * 5 + [2.0**-30, 1e-12])))
    exact = [Fraction(v) for v in z]
    best_five = min(exact_error(exact, sizes) for sizes in _compositions(len(z), 5))
    eps = float(best_five)
    assert all(exact_error(exact, sizes) > best_five for sizes in _compositions(len(z), 4))
    for method in ("auto", "lagrangian", "hull", "naive"):
        assert mdmsched.min_steps(z, eps, method=method).k == 5, method  # type: ignore[arg-type]


def test_min_steps_and_errors_near_dbl_max():
    z = np.array([0.0, 1e308, 1e308])  # opt_1 = 2e308 overflows; opt_2 = 0 by steps (1, 2)
    got = mdmsched.min_steps(z, 1e308)
    assert got.k == 2 and got.error == 0.0
    assert mdmsched.optimal_schedule(z, 2).tolist() == [1, 2]
    with pytest.raises(ValueError, match="largest double"):
        mdmsched.error_frontier(z)  # opt_1 is not representable: refused, not inf
    with pytest.raises(ValueError, match="largest double"):
        mdmsched.schedule_error(z, [3])
    big = np.array([0.0, 1.5e308, 1.5e308, 1.7e308])
    # Steps (1, 2, 1) cost 0 + 0 + 0 and (1, 3) costs 0 + (0 + 0.2e308): exact answers despite sums beyond DBL_MAX.
    assert mdmsched.optimal_schedule(big, 3).tolist() == [1, 2, 1] and mdmsched.optimal_schedule(big, 3).error == 0.0
    assert mdmsched.optimal_schedule(big, 2).error == pytest.approx(0.2e308, rel=1e-14)
    assert mdmsched.min_steps(big, 0.0).k == 3


def test_project_monotone_does_not_overflow():
    out = mdmsched.project_monotone([0, 1.5e308, 1.5e308, 0])
    # Exact L2 projection: pool the three trailing values, mean (1.5 + 1.5 + 0) / 3 * 1e308 = 1e308.
    np.testing.assert_allclose(out, [0.0, 1e308, 1e308, 1e308], rtol=1e-15)


def test_linear_code_average_entropies_needs_a_prime_field():
    with pytest.raises(ValueError, match="prime"):
        D.linear_code_average_entropies(np.array([[1, 2, 3]]), 4)
    with pytest.raises(TypeError, match="integer"):
        D.linear_code_average_entropies(np.array([[1.5, 2.0]]), 3)
    # [1, 1, 1] over F_3: every non-empty subset has rank 1, so e_m = log 3 for m >= 1.
    np.testing.assert_allclose(D.linear_code_average_entropies(np.array([[1, 1, 1]]), 3),
                               [0.0] + [math.log(3)] * 3)


def test_ising_chain_is_finite_at_strong_coupling():
    np.testing.assert_array_equal(D.ising_chain(1000.0), np.eye(2))  # frozen ferromagnet: spins never flip
    np.testing.assert_array_equal(D.ising_chain(-1000.0), [[0.0, 1.0], [1.0, 0.0]])  # perfect antiferromagnet
    for j, h in [(1000.0, 1.0), (1e300, 0.0), (-700.0, 3.0)]:
        p = D.ising_chain(j, h)
        assert np.isfinite(p).all() and np.allclose(p.sum(axis=1), 1.0)
    # Moderate coupling, h = 0: P = [[a, 1-a], [1-a, a]] with a = e^J / (e^J + e^-J).
    a = math.exp(0.7) / (math.exp(0.7) + math.exp(-0.7))
    np.testing.assert_allclose(D.ising_chain(0.7), [[a, 1 - a], [1 - a, a]], rtol=1e-14)


def test_information_curve_of_an_estimate_converts_units_once():
    p = D.markov_chain(STICKY, 4)
    exact_bits = mdmsched.information_curve(p, base=2)
    in_bits = mdmsched.estimate_average_entropies(p, subsets_per_size=10, seed=0, base=2)  # all sizes exact
    in_nats = mdmsched.estimate_average_entropies(p, subsets_per_size=10, seed=0)
    assert in_bits.base == 2.0 and in_nats.base is None
    np.testing.assert_allclose(mdmsched.information_curve(in_bits, base=2), exact_bits, atol=1e-12)
    np.testing.assert_allclose(mdmsched.information_curve(in_nats, base=2), exact_bits, atol=1e-12)
    np.testing.assert_allclose(mdmsched.information_curve(in_bits), exact_bits * math.log(2), atol=1e-12)


def test_average_entropies_of_a_distribution_refuses_the_exchangeable_flag():
    d = mdmsched.Distribution.from_samples(np.array([[0, 1], [1, 0]]))
    with pytest.raises(ValueError, match="exchangeable"):
        mdmsched.average_entropies(d, exchangeable=True)
    np.testing.assert_allclose(mdmsched.average_entropies(d), [0.0, math.log(2), math.log(2)])


# ---- wrong exception type / late failure -----------------------------------------------------------------------


@pytest.mark.parametrize("ndim", [31, 35, 40])
def test_broadcast_tensors_are_refused_before_allocation(ndim):
    p = np.broadcast_to(np.float64(2.0**-ndim), (2,) * ndim)
    for call in (mdmsched.information_curve, mdmsched.average_entropies, mdmsched.subset_entropies):
        with pytest.raises(ValueError, match=r"subset lattice of n = \d+ coordinates"):
            call(p)
    if ndim >= 35:  # >= 256 GiB as float64: the memory guard refuses, numpy never raises MemoryError
        for call in (mdmsched.total_correlation, mdmsched.Distribution.from_dense, mdmsched.ExactPredictor):
            with pytest.raises(ValueError, match="GiB"):
                call(p)
        with pytest.raises(ValueError, match="GiB"):
            mdmsched.average_entropies(p, exchangeable=True)


def test_theory_schedules_refuse_overflowing_ratios():
    with pytest.raises(ValueError, match="overflows"):
        S.tc_schedule(10, 1e10, 1e-300)
    with pytest.raises(ValueError, match="overflows"):
        S.dtc_schedule(10, 1e300, 1e-300)
    assert S.tc_schedule(10, 1e10, 1e-200).tolist() == [1] * 10  # zeta >= n + 1: single steps


def test_expected_kl_needs_an_exact_target():
    # A plain predictor cannot be a target (it cannot sample or score sequences): a clear TypeError, not AttributeError.
    with pytest.raises(TypeError, match="exact law"):
        mdmsched.expected_kl(lambda t, m: np.full((*t.shape, 2), 0.5), None, [1, 1, 1], 10)
    # A dense tensor is an exact law: wrapped in ExactPredictor (independent uniform coordinates: no error).
    assert mdmsched.expected_kl(UNIFORM3, None, [1, 1, 1], 10, seed=0).mean == pytest.approx(0.0, abs=1e-12)


def test_base_must_be_a_real_number():
    with pytest.raises(TypeError, match="base"):
        mdmsched.information_curve(UNIFORM3, base="2")  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="base"):
        mdmsched.total_correlation(UNIFORM3, base=True)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="base"):
        mdmsched.total_correlation(UNIFORM3, base=1.0)


def test_size_guards_are_fast():
    for call in (lambda: D.uniform(10**9, 2), lambda: D.parity_code(10**9), lambda: D.markov_chain(STICKY, 10**9),
                 lambda: D.uniform(10**9, 1)):
        start = time.perf_counter()
        with pytest.raises(ValueError, match=r"dense tensor (would have more than 62 axes|has more than \d+ cells)"):
            call()
        assert time.perf_counter() - start < 1.0


# ---- valid input refused ---------------------------------------------------------------------------------------


def test_deterministic_chain_simulates_and_impossible_evidence_is_uniform():
    flip = mdmsched.MarkovPredictor([[0, 1], [1, 0]], 4)
    samples = mdmsched.simulate(flip, [2, 2], 200, seed=0)
    assert samples.shape == (200, 4) and set(np.unique(samples)) <= {0, 1}
    # x_0 = 0 and x_2 = 1 cannot both hold (P^2 = I): position 1's conditional is defined as uniform.
    probs = flip(np.array([[0, 0, 1, 0]]), np.array([[False, True, False, True]]))
    np.testing.assert_allclose(probs[0, 1], [0.5, 0.5])
    np.testing.assert_allclose(probs[0, 3], [1.0, 0.0])  # after x_2 = 1 the chain flips to 0
    # A single step must match the exact law: alternating sequences, each with probability 1/2.
    one_step = mdmsched.simulate(flip, [1, 1, 1, 1], 400, seed=1)
    assert np.all(one_step[:, 1:] != one_step[:, :-1])


def test_float32_probabilities_of_one_ninth_are_accepted():
    p = np.full((3, 3), 1 / 9, dtype=np.float32)
    assert abs(float(p.astype(np.float64).sum()) - 1.0) > 1e-9  # float32 rounding: the old 1e-9 rule refused it
    np.testing.assert_allclose(mdmsched.information_curve(p), [0.0, 0.0], atol=1e-12)
    assert mdmsched.Distribution.from_support(np.arange(9)[:, None], np.full(9, 1 / 9, dtype=np.float32)).n == 1
    with pytest.raises(ValueError, match="sum to 1"):
        mdmsched.information_curve(np.full((3, 3), 1 / 9 + 1e-6, dtype=np.float32))


def test_predictions_at_unmasked_rows_are_ignored():
    class Sloppy:
        n = 3

        def __call__(self, tokens, mask):
            out = np.full((*tokens.shape, 2), 0.5)
            out[~mask] = np.nan  # "ignored" per the documented interface
            return out

    assert mdmsched.simulate(Sloppy(), [1, 1, 1], 5, seed=0).shape == (5, 3)
    est = mdmsched.estimate_curve(Sloppy(), np.zeros((4, 3), dtype=int), seed=0)
    np.testing.assert_allclose(est.Z, 0.0, atol=1e-15)

    class SloppyExact(mdmsched.ExactPredictor):
        def __call__(self, tokens, mask):
            out = super().__call__(tokens, mask)
            out[~mask] = -7.0
            return out

    value, _ = mdmsched.expected_kl(SloppyExact(UNIFORM3), None, [1, 1, 1], 50, seed=0)
    assert value == pytest.approx(0.0, abs=1e-12)  # independent uniform coordinates: no error at any schedule


def test_numpy_scalar_base_is_accepted():
    z2 = mdmsched.information_curve(D.markov_chain(STICKY, 3), base=2)
    np.testing.assert_array_equal(mdmsched.information_curve(D.markov_chain(STICKY, 3), base=np.float32(2)), z2)
    assert mdmsched.total_correlation(UNIFORM3, base=np.int64(2)) == pytest.approx(0.0, abs=1e-12)


# ---- CLI -------------------------------------------------------------------------------------------------------


def _cli(*args: str, cwd) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "mdmsched", *args], capture_output=True, text=True, timeout=120,
                          cwd=cwd, check=False)


def _one_line_error(result: subprocess.CompletedProcess[str]) -> None:
    assert result.returncode == 2, (result.returncode, result.stderr)
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("mdmsched: error: "), result.stderr
    assert "Traceback" not in result.stderr


def test_cli_corrupt_files_are_one_line_errors(tmp_path):
    (tmp_path / "empty.npy").write_bytes(b"")
    np.savez(tmp_path / "full.npz", outcomes=np.zeros((3, 2), dtype=int), probs=np.full(3, 1 / 3))
    data = (tmp_path / "full.npz").read_bytes()
    (tmp_path / "trunc.npz").write_bytes(data[: len(data) // 2])
    np.save(tmp_path / "complex.npy", np.array([0.0, 1j, 2.0]))
    np.save(tmp_path / "complex_p.npy", np.full((2, 2), 0.25 + 0j))
    for args in (["solve", "empty.npy"], ["curve", "empty.npy"], ["curve", "trunc.npz"], ["solve", "complex.npy"],
                 ["curve", "complex_p.npy"], ["frontier", "complex.npy"]):
        _one_line_error(_cli(*args, cwd=tmp_path))


def test_cli_usage_errors_are_one_line(tmp_path):
    np.save(tmp_path / "z.npy", np.array([0.0, 1.0, 1.0]))
    for args in (["bogus"], ["solve", "z.npy", "--steps", "2.5"], ["solve", "z.npy", "--method", "magic"],
                 ["solve", "z.npy", "--steps", "2", "--eps", "0.1"], ["frontier", "--nope"]):
        _one_line_error(_cli(*args, cwd=tmp_path))


def test_cli_json_is_strict():
    def refuse(token: str) -> None:
        raise AssertionError(f"non-standard JSON constant {token}")

    text = strict_json({"a": math.inf, "b": [1.0, -math.inf, {"c": math.nan}], "d": 2})
    data = json.loads(text, parse_constant=refuse)
    assert data["a"] is None and data["b"][1] is None and data["b"][2]["c"] is None and data["d"] == 2
    assert "a = inf" in data["notes"][0] and "b[2].c = nan" in data["notes"][0]
    assert "notes" not in json.loads(strict_json({"a": 1.0}))


# ---- helpers -----------------------------------------------------------------------------------------------------


def _compositions(n: int, k: int):
    """All ordered step sizes s_1..s_k >= 1 summing to n."""
    if k == 1:
        yield [n]
        return
    for first in range(1, n - k + 2):
        for rest in _compositions(n - first, k - 1):
            yield [first, *rest]


def test_method_names_have_one_source():
    from typing import get_args

    from mdmsched.solve import Method

    assert _validation.METHODS == tuple(_core.METHODS) == get_args(Method)
    with pytest.raises(ValueError, match="method must be one of"):
        _core.solve(np.array([0.0, 1.0]), 1, "magic")
