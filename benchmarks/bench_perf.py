"""Issue 14 benchmarks: request-sized solves, slow-mixing Markov curves, the sharded lattice and the p log p floor.

    python -m pytest benchmarks/bench_perf.py --full --benchmark-enable --benchmark-json=bench-perf.json
    python benchmarks/report.py bench-perf.json
"""

from __future__ import annotations

from concurrent.futures import ProcessPoolExecutor

import numpy as np
import pytest
from _sizes import size

import mdmsched
from mdmsched import _core, reference
from mdmsched.curves import families as D

# ---- request-sized solve -----------------------------------------------------------------------------------------

Z256 = 1.0 - np.exp(-8.0 * np.arange(256) / 256)


@pytest.fixture(scope="module")
def z256_optimum() -> float:
    return reference.optimal_schedule(Z256, 32)[0]


@pytest.mark.benchmark(group="request size: n=256 k=32, after issue 14")
def test_request_whole_call(benchmark, z256_optimum):
    sched = benchmark(mdmsched.optimal_schedule, Z256, 32)
    assert sched.k == 32 and sched.error == pytest.approx(z256_optimum, rel=1e-9)


@pytest.mark.benchmark(group="request size: n=256 k=32, after issue 14")
def test_request_core_solve(benchmark, z256_optimum):
    error, breakpoints = benchmark(_core.solve, Z256, 32, "auto")
    assert breakpoints.size == 33 and error == pytest.approx(z256_optimum, rel=1e-9)
    assert error == pytest.approx(reference.schedule_error(Z256, np.diff(breakpoints)), rel=1e-12)


# ---- slow-mixing Markov chain ------------------------------------------------------------------------------------

SLOW = np.array([[0.999, 0.001], [0.001, 0.999]])
N_SLOW = size(10_000, 100_000)


def slow_chain_total_correlation(n: int) -> float:
    """``sum Z = TC = (n - 1) (H(pi) - H(X_2 | X_1))`` for the symmetric chain (pi uniform): a closed form."""
    flip = 0.001
    return (n - 1) * (np.log(2.0) + flip * np.log(flip) + (1 - flip) * np.log1p(-flip))


@pytest.fixture(scope="module")
def slow_exact() -> np.ndarray:
    return D.markov_curve(SLOW, N_SLOW, tol=0)


@pytest.mark.benchmark(group=f"Markov curve n={N_SLOW:,}, 2 states, flip prob 0.001")
def test_slow_markov_reference_exact_sum(benchmark):
    z = benchmark.pedantic(D.markov_curve, args=(SLOW, N_SLOW), kwargs={"tol": 0}, rounds=1)
    assert float(np.sum(z)) == pytest.approx(slow_chain_total_correlation(N_SLOW), rel=1e-9)
    small = reference.information_curve(D.markov_chain(SLOW, 10))  # the same sums at n = 10, by enumeration
    np.testing.assert_allclose(D.markov_curve(SLOW, 10, tol=0), small, atol=1e-12)


@pytest.mark.benchmark(group=f"Markov curve n={N_SLOW:,}, 2 states, flip prob 0.001")
def test_slow_markov_truncated(benchmark, slow_exact):
    z = benchmark.pedantic(D.markov_curve, args=(SLOW, N_SLOW), rounds=5)
    # tol * I(X_1; X_2) plus the rounding of e_m ~ m H(pi) ~ 7e4 nats in the exact path's O(nG) running sums.
    assert np.abs(z - slow_exact).max() < 1e-12 * slow_exact[-1] + 1e-9


# ---- sharded lattice ---------------------------------------------------------------------------------------------

N_SHARD = size(14, 20)
P20 = np.random.default_rng(4).dirichlet(np.full(2**N_SHARD, 0.5)).reshape((2,) * N_SHARD)


@pytest.fixture(scope="module")
def p20_single() -> np.ndarray:
    return mdmsched.average_entropies(P20, threads=2)


@pytest.mark.benchmark(group=f"average entropies, binary n={N_SHARD}: single process vs shards on a process pool")
@pytest.mark.parametrize("threads", [1, 2])
def test_lattice20_single_process(benchmark, p20_single, threads):
    e = benchmark.pedantic(mdmsched.average_entropies, args=(P20,), kwargs={"threads": threads}, rounds=1)
    assert np.array_equal(e, p20_single)
    # Independent checks: e_1 from the single-coordinate marginals, e_n = H(X).
    singles = [reference._entropy(P20.sum(axis=tuple(j for j in range(N_SHARD) if j != i))) for i in range(N_SHARD)]
    assert e[1] == pytest.approx(np.mean(singles), abs=1e-12)
    assert e[-1] == pytest.approx(reference._entropy(P20.ravel()), abs=1e-10)
    cells = 3.0**N_SHARD  # (1+q)^n marginal cells, one log each
    if benchmark.stats is not None:  # None when run once as a test (--benchmark-disable)
        benchmark.extra_info["ns_per_marginal_cell_per_thread"] = benchmark.stats.stats.median * threads / cells * 1e9


@pytest.mark.benchmark(group=f"average entropies, binary n={N_SHARD}: single process vs shards on a process pool")
@pytest.mark.parametrize("workers", size([2], [1, 2, 4]))
def test_lattice20_sharded(benchmark, p20_single, workers):
    with ProcessPoolExecutor(max_workers=workers) as pool:
        list(pool.map(abs, range(workers)))  # start the workers before timing
        e = benchmark.pedantic(mdmsched.average_entropies, args=(P20,),
                               kwargs={"threads": 1, "executor": pool, "shards": 16}, rounds=1)
    assert np.array_equal(e, p20_single)  # bit-identical to the single-process walk


# ---- the p log p floor -------------------------------------------------------------------------------------------

FLOOR_CELLS, FLOOR_REPEATS = 4096, size(200, 20_000)  # 32 KiB: in L1/L2


@pytest.mark.benchmark(group=f"p log p floor: 4096 in-cache cells x {FLOOR_REPEATS:,}")
def test_plogp_floor(benchmark):
    x = np.random.default_rng(5).random(FLOOR_CELLS) / FLOOR_CELLS
    h = benchmark.pedantic(_core.plogp_floor, args=(x, FLOOR_REPEATS), rounds=5)
    assert h == pytest.approx(float(-np.sum(x * np.log(x))), rel=1e-12)
    if benchmark.stats is not None:  # None when run once as a test (--benchmark-disable)
        benchmark.extra_info["ns_per_cell"] = benchmark.stats.stats.median / (FLOOR_CELLS * FLOOR_REPEATS) * 1e9
