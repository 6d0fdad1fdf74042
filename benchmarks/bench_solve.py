"""Solver benchmarks: fast C++ (hull, Lagrangian), naive C++ and the NumPy reference DP on the same curves.

    python -m pytest benchmarks/bench_solve.py --benchmark-enable --benchmark-json=bench-solve.json
    python benchmarks/report.py bench-solve.json
"""

from __future__ import annotations

import numpy as np
import pytest

import mdmsched
from mdmsched import reference


def smooth_curve(n: int) -> np.ndarray:
    """A saturating curve Z_i = 1 - exp(-8 (i-1)/n) (nats), the shape of a chain-like dependence."""
    return 1.0 - np.exp(-8.0 * np.arange(n) / n)


def random_curve(n: int, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    return np.concatenate(([0.0], np.cumsum(rng.exponential(1.0 / n, n - 1))))


N_MID, K_MID = 4096, 64
Z_MID = random_curve(N_MID)


@pytest.fixture(scope="module")
def mid_reference() -> float:
    return reference.optimal_schedule(Z_MID, K_MID)[0]


@pytest.mark.benchmark(group=f"solve n={N_MID} k={K_MID}")
def test_solve_reference_numpy(benchmark, mid_reference):
    error, _ = benchmark.pedantic(reference.optimal_schedule, args=(Z_MID, K_MID), rounds=1, iterations=1)
    assert error == pytest.approx(mid_reference, rel=1e-9)


@pytest.mark.benchmark(group=f"solve n={N_MID} k={K_MID}")
@pytest.mark.parametrize("method", ["naive", "hull", "lagrangian", "auto"])
def test_solve_cpp(benchmark, mid_reference, method):
    sched = benchmark(mdmsched.optimal_schedule, Z_MID, K_MID, method=method)
    assert sched.error == pytest.approx(mid_reference, rel=1e-9)


@pytest.mark.benchmark(group="solve n=1,000,000 k=1000")
@pytest.mark.parametrize("method", ["lagrangian", "auto"])  # the hull needs ~15 s here: see the k-scaling group
def test_solve_million(benchmark, method):
    z = smooth_curve(1_000_000)
    sched = benchmark.pedantic(mdmsched.optimal_schedule, args=(z, 1000), kwargs={"method": method}, rounds=3)
    assert sched.k == 1000
    # Continuum approximation (SPEC §6) as an independent sanity check: within a few percent on a smooth curve.
    continuum = np.sum(np.sqrt(np.diff(z))) ** 2 / (2 * 1000)
    assert sched.error == pytest.approx(continuum, rel=0.05)


@pytest.mark.benchmark(group="frontier n=65,536 k_max=256")
def test_frontier_hull(benchmark):
    z = smooth_curve(65_536)
    front = benchmark.pedantic(mdmsched.error_frontier, args=(z, 256), rounds=3)
    for k in (1, 17, 256):
        assert front[k - 1] == pytest.approx(mdmsched.optimal_schedule(z, k, method="lagrangian").error, rel=1e-9)


@pytest.mark.benchmark(group="frontier n=512 k_max=64")
@pytest.mark.parametrize("impl", ["reference", "naive", "hull"])
def test_frontier_small(benchmark, impl):
    z = random_curve(512, seed=3)
    expected = reference.error_frontier(z, 64)
    if impl == "reference":
        front = benchmark.pedantic(reference.error_frontier, args=(z, 64), rounds=1)
    else:
        front = benchmark(mdmsched.error_frontier, z, 64, method=impl)
    np.testing.assert_allclose(front, expected, rtol=1e-9)


@pytest.mark.benchmark(group="scaling: lagrangian, k = n/64")
@pytest.mark.parametrize("n", [2**12, 2**14, 2**16, 2**18, 2**20])
def test_scaling_lagrangian_n(benchmark, n):
    z = smooth_curve(n)
    sched = benchmark.pedantic(mdmsched.optimal_schedule, args=(z, n // 64), kwargs={"method": "lagrangian"}, rounds=3)
    assert sched.k == n // 64


@pytest.mark.benchmark(group="scaling: n = 65,536, k varies")
@pytest.mark.parametrize("method", ["hull", "lagrangian"])
@pytest.mark.parametrize("k", [4, 16, 64, 256])
def test_scaling_k(benchmark, method, k):
    z = smooth_curve(65_536)
    sched = benchmark.pedantic(mdmsched.optimal_schedule, args=(z, k), kwargs={"method": method}, rounds=3)
    assert sched.k == k


@pytest.mark.benchmark(group="min_steps n=65,536")
def test_min_steps(benchmark):
    z = smooth_curve(65_536)
    sched = benchmark.pedantic(mdmsched.min_steps, args=(z, 0.01), rounds=3)
    assert sched.error <= 0.01
    assert mdmsched.optimal_schedule(z, sched.k - 1).error > 0.01


@pytest.mark.benchmark(group="request size: n=256 k=32 (whole Python call)")
@pytest.mark.parametrize("impl", ["reference", "auto"])
def test_request_sized_solve(benchmark, impl):
    z = smooth_curve(256)
    expected = reference.optimal_schedule(z, 32)[0]
    if impl == "reference":
        error, _ = benchmark.pedantic(reference.optimal_schedule, args=(z, 32), rounds=3)
    else:
        error = benchmark(mdmsched.optimal_schedule, z, 32).error
    assert error == pytest.approx(expected, rel=1e-9)
