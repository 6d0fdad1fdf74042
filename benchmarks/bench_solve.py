"""Solver benchmarks: fast C++ (hull, Lagrangian), naive C++ and the NumPy reference DP on the same curves.

    python -m pytest benchmarks/bench_solve.py --full --benchmark-enable --benchmark-json=bench-solve.json
    python benchmarks/report.py bench-solve.json
"""

from __future__ import annotations

import numpy as np
import pytest
from _sizes import size

import mdmsched
from mdmsched import reference


def smooth_curve(n: int) -> np.ndarray:
    """A saturating curve Z_i = 1 - exp(-8 (i-1)/n) (nats), the shape of a chain-like dependence."""
    return 1.0 - np.exp(-8.0 * np.arange(n) / n)


def random_curve(n: int, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    return np.concatenate(([0.0], np.cumsum(rng.exponential(1.0 / n, n - 1))))


def continuum(z: np.ndarray, k: int) -> float:
    """The continuum approximation (SPEC §6) ``(sum sqrt(dZ))^2 / (2k)``: an independent closed form, within a few
    percent of ``opt_k`` on a smooth curve with ``k << n``."""
    return float(np.sum(np.sqrt(np.diff(z))) ** 2 / (2 * k))


N_MID, K_MID = size(512, 4096), size(16, 64)
Z_MID = random_curve(N_MID)


@pytest.fixture(scope="module")
def mid_reference() -> float:
    return reference.optimal_schedule(Z_MID, K_MID)[0]


@pytest.mark.benchmark(group=f"solve n={N_MID} k={K_MID}")
def test_solve_reference_numpy(benchmark):
    error, sizes = benchmark.pedantic(reference.optimal_schedule, args=(Z_MID, K_MID), rounds=1, iterations=1)
    # The NumPy DP against the C++ naive DP (separate code), and its schedule's error by the C++ evaluator.
    assert error == pytest.approx(mdmsched.optimal_schedule(Z_MID, K_MID, method="naive").error, rel=1e-9)
    assert error == pytest.approx(mdmsched.schedule_error(Z_MID, sizes), rel=1e-12)


@pytest.mark.benchmark(group=f"solve n={N_MID} k={K_MID}")
@pytest.mark.parametrize("method", ["naive", "hull", "lagrangian", "auto"])
def test_solve_cpp(benchmark, mid_reference, method):
    sched = benchmark(mdmsched.optimal_schedule, Z_MID, K_MID, method=method)
    assert sched.error == pytest.approx(mid_reference, rel=1e-9)


N_BIG, K_BIG = size(20_000, 1_000_000), size(100, 1000)


@pytest.mark.benchmark(group=f"solve n={N_BIG:,} k={K_BIG}")
@pytest.mark.parametrize("method", ["lagrangian", "auto"])  # the hull needs ~15 s at n = 10^6: see the k-scaling group
def test_solve_million(benchmark, method):
    z = smooth_curve(N_BIG)
    sched = benchmark.pedantic(mdmsched.optimal_schedule, args=(z, K_BIG), kwargs={"method": method}, rounds=3)
    assert sched.k == K_BIG
    assert sched.error == pytest.approx(continuum(z, K_BIG), rel=0.05)
    assert sched.error == pytest.approx(mdmsched.schedule_error(z, sched.sizes), rel=1e-12)


N_FRONT, K_FRONT = size(4096, 65_536), size(32, 256)


@pytest.mark.benchmark(group=f"frontier n={N_FRONT:,} k_max={K_FRONT}")
def test_frontier_hull(benchmark):
    z = smooth_curve(N_FRONT)
    front = benchmark.pedantic(mdmsched.error_frontier, args=(z, K_FRONT), rounds=3)
    for k in (1, 17, K_FRONT):  # the frontier (hull layers) against single solves by the Lagrangian search
        assert front[k - 1] == pytest.approx(mdmsched.optimal_schedule(z, k, method="lagrangian").error, rel=1e-9)
    assert front[K_FRONT - 1] == pytest.approx(continuum(z, K_FRONT), rel=0.05)


@pytest.mark.benchmark(group="frontier n=512 k_max=64")
@pytest.mark.parametrize("impl", ["reference", "naive", "hull"])
def test_frontier_small(benchmark, impl):
    z = random_curve(512, seed=3)
    # Each implementation against another one: the NumPy reference against the C++ naive DP, C++ against NumPy.
    if impl == "reference":
        front = benchmark.pedantic(reference.error_frontier, args=(z, 64), rounds=1)
        expected = mdmsched.error_frontier(z, 64, method="naive")
    else:
        front = benchmark(mdmsched.error_frontier, z, 64, method=impl)
        expected = reference.error_frontier(z, 64)
    np.testing.assert_allclose(front, expected, rtol=1e-9)


@pytest.mark.benchmark(group="scaling: lagrangian, k = n/64")
@pytest.mark.parametrize("n", size([2**12], [2**12, 2**14, 2**16, 2**18, 2**20]))
def test_scaling_lagrangian_n(benchmark, n):
    z = smooth_curve(n)
    sched = benchmark.pedantic(mdmsched.optimal_schedule, args=(z, n // 64), kwargs={"method": "lagrangian"}, rounds=3)
    assert sched.k == n // 64
    assert sched.error == pytest.approx(continuum(z, n // 64), rel=0.05)
    if n <= 2**12:  # the hull's k x n table is small here: an exact check by the other algorithm
        assert sched.error == pytest.approx(mdmsched.optimal_schedule(z, n // 64, method="hull").error, rel=1e-9)


N_SCALE = size(4096, 65_536)


@pytest.mark.benchmark(group=f"scaling: n = {N_SCALE:,}, k varies")
@pytest.mark.parametrize("method", ["hull", "lagrangian"])
@pytest.mark.parametrize("k", size([4, 64], [4, 16, 64, 256]))
def test_scaling_k(benchmark, method, k):
    z = smooth_curve(N_SCALE)
    sched = benchmark.pedantic(mdmsched.optimal_schedule, args=(z, k), kwargs={"method": method}, rounds=3)
    other = "lagrangian" if method == "hull" else "hull"  # the two exact algorithms check each other
    assert sched.k == k
    assert sched.error == pytest.approx(mdmsched.optimal_schedule(z, k, method=other).error, rel=1e-9)


@pytest.mark.benchmark(group=f"min_steps n={N_SCALE:,}")
def test_min_steps(benchmark):
    z = smooth_curve(N_SCALE)
    sched = benchmark.pedantic(mdmsched.min_steps, args=(z, 0.01), rounds=3)
    assert sched.error <= 0.01
    assert mdmsched.optimal_schedule(z, sched.k - 1).error > 0.01


@pytest.mark.benchmark(group="request size: n=256 k=32 (whole Python call)")
@pytest.mark.parametrize("impl", ["reference", "auto"])
def test_request_sized_solve(benchmark, impl):
    z = smooth_curve(256)
    if impl == "reference":
        error, _ = benchmark.pedantic(reference.optimal_schedule, args=(z, 32), rounds=3)
        expected = mdmsched.optimal_schedule(z, 32, method="naive").error
    else:
        error = benchmark(mdmsched.optimal_schedule, z, 32).error
        expected = reference.optimal_schedule(z, 32)[0]
    assert error == pytest.approx(expected, rel=1e-9)


# ---- issue 28: the core solve against one schedule_error, side by side ----------------------------------------------

REQUEST_CURVES = {"smooth": smooth_curve(256), "random": random_curve(256)}
REQUEST_SIZES = np.full(32, 8, dtype=np.int64)


@pytest.mark.benchmark(group="request size n=256 k=32, C++ via _core: solve vs one schedule_error")
@pytest.mark.parametrize("curve", ["smooth", "random"])
@pytest.mark.parametrize("call", ["solve", "certified_solve", "schedule_error"])
def test_request_core_vs_schedule_error(benchmark, curve, call):
    from mdmsched import _core

    z = REQUEST_CURVES[curve]
    if call == "schedule_error":
        error = benchmark(_core.schedule_error, z, REQUEST_SIZES)
        assert error == pytest.approx(reference.schedule_error(z, REQUEST_SIZES), rel=1e-12)
        return
    if call == "solve":
        error, breakpoints = benchmark(_core.solve, z, 32, "auto")
    else:
        error, breakpoints = benchmark(_core.certified_solve, z, z, 32, "auto")
    assert breakpoints.size == 33
    assert error == pytest.approx(reference.optimal_schedule(z, 32)[0], rel=1e-9)  # the NumPy reference DP
