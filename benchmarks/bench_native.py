"""Issue 19 benchmarks: the peer rules' count recursions at k = 2^24, and the entropy kernels (AVX-512 vs AVX2 vs
SSE2) on the p log p floor and on a whole lattice walk.

    python -m pytest benchmarks/bench_native.py --benchmark-enable --benchmark-json=bench-native.json
    python benchmarks/report.py bench-native.json
"""

from __future__ import annotations

from collections.abc import Iterator
from math import comb

import numpy as np
import pytest
from _sizes import size

from mdmsched import _core, reference
from mdmsched.schedules import practice as P

K = 2**24  # the k: 16.7 million passes

# ---- peer rules at k = 2^24 (before: 119 s, 26 s and 21 s of Python loops) -----------------------------------------


@pytest.mark.benchmark(group="peer rules, n small or huge, k = 2^24")
def test_dllm_linear(benchmark):
    sched = benchmark.pedantic(P.dllm, args=(3, K), rounds=3)
    # closed form: linear alpha reveals round(M / (k - j)) (half to even): 0 until 1, 1, 1 at k - j = 5, 3, 1
    assert sched.passes.tolist() == [1, 1, 1]


@pytest.mark.benchmark(group="peer rules, n small or huge, k = 2^24")
def test_dream(benchmark):
    sched = benchmark.pedantic(P.dream, args=(3, K), rounds=3)
    t = P._linspace32(1.0, 1e-3, K + 1)
    shrink = (np.float32(1) - (t[1:] / t[:-1]).astype(np.float32)).astype(np.float32)
    # independent of the recursion: with 3 masked, pass i reveals trunc(3 shrink_i), which is 0 while shrink_i < 1/3
    assert (np.float32(3) * shrink[:-1] < 1).all()
    assert sched.passes.size == K and sched.passes[-1] == 3 and not sched.passes[:-1].any()


@pytest.mark.benchmark(group="peer rules, n small or huge, k = 2^24")
def test_diffusers_uniform(benchmark):
    sched = benchmark.pedantic(P.diffusers_uniform, args=(2**62, K), rounds=3)
    assert sched.passes.size == K and (sched.passes == 2**62 // K).all()  # k divides n: every quota is n / k


# ---- entropy kernels -------------------------------------------------------------------------------------------------

FLOOR_CELLS, FLOOR_REPEATS = 4096, 20_000


@pytest.fixture(params=_core.entropy_kernels())
def kernel(request: pytest.FixtureRequest) -> Iterator[str]:
    previous = _core.use_entropy_kernel(request.param)
    yield request.param
    _core.use_entropy_kernel(previous)


@pytest.mark.benchmark(group="p log p floor by kernel: 4096 in-cache cells x 20,000")
def test_plogp_floor_by_kernel(benchmark, kernel):
    x = np.random.default_rng(5).random(FLOOR_CELLS) / FLOOR_CELLS
    h = benchmark.pedantic(_core.plogp_floor, args=(x, FLOOR_REPEATS), rounds=5)
    assert h == pytest.approx(float(-np.sum(x * np.log(x))), rel=1e-12)
    benchmark.extra_info["kernel"] = kernel
    if benchmark.stats is not None:
        benchmark.extra_info["ns_per_cell"] = benchmark.stats.stats.median / (FLOOR_CELLS * FLOOR_REPEATS) * 1e9


P12 = np.random.default_rng(6).dirichlet(np.ones(2**12)).reshape((2,) * 12)


@pytest.fixture(scope="module")
def p12_reference() -> np.ndarray:
    return np.asarray(reference.average_entropies(P12))


@pytest.mark.benchmark(group="dense lattice n = 12 (binary), 1 thread, by kernel")
def test_dense_lattice_by_kernel(benchmark, kernel, p12_reference):
    _, sums = benchmark.pedantic(_core.dense_lattice, args=(P12, False, 1), rounds=3)
    averages = sums / np.array([comb(12, m) for m in range(13)])
    np.testing.assert_allclose(averages, p12_reference, rtol=1e-11, atol=1e-12)
    assert np.array_equal(_core.dense_lattice(P12, False, 2)[1], sums)  # bit-identical for any thread count
    benchmark.extra_info["kernel"] = kernel


# ---- issue 28: the walk against its own floor, the same number of logarithms, side by side --------------------------

WALK_N = size(12, 18)
P_WALK = np.random.default_rng(7).dirichlet(np.ones(2**WALK_N)).reshape((2,) * WALK_N)
FLOOR_X = np.random.default_rng(8).random(FLOOR_CELLS) / FLOOR_CELLS


@pytest.mark.benchmark(group=f"lattice vs its floor: binary n = {WALK_N}, 1 thread, 3^{WALK_N} cells each")
@pytest.mark.parametrize("what", ["walk", "floor"])
def test_lattice_against_floor(benchmark, kernel, what):
    cells = 3**WALK_N  # marginal cells of the walk: one logarithm each
    if what == "walk":
        _, sums = benchmark.pedantic(_core.dense_lattice, args=(P_WALK, False, 1), rounds=5)
        assert sums[0] == 0.0 and sums[-1] == pytest.approx(float(-np.sum(P_WALK * np.log(P_WALK))), rel=1e-12)
    else:
        repeats = max(1, cells // FLOOR_CELLS)
        h = benchmark.pedantic(_core.plogp_floor, args=(FLOOR_X, repeats), rounds=5)
        # the mean of ~10^5 repeats: accumulated rounding ~1e-12 relative
        assert h == pytest.approx(float(-np.sum(FLOOR_X * np.log(FLOOR_X))), rel=1e-9)
    benchmark.extra_info["kernel"] = kernel
