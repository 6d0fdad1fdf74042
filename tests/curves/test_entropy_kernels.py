"""Issue 19, AVX-512: the -sum p log p loop has one kernel per instruction set (avx512f, avx2, sse2 with glibc's
vector log; scalar elsewhere), the widest the CPU runs picked at run time. Every kernel the CPU has is tested here,
so an AVX-512 machine also tests the AVX2 path the others run: each agrees with NumPy, and each gives bit-identical
results for every thread count and shard split."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np
import pytest

from mdmsched import _core, reference
from mdmsched.curves import exact

KERNELS = _core.entropy_kernels()


def _cpu_flags() -> set[str]:
    cpuinfo = Path("/proc/cpuinfo")
    if not cpuinfo.is_file():
        return set()
    for line in cpuinfo.read_text().splitlines():
        if line.startswith("flags"):
            return set(line.split(":", 1)[1].split())
    return set()


@pytest.fixture(params=KERNELS)
def kernel(request: pytest.FixtureRequest) -> Iterator[str]:
    previous = _core.use_entropy_kernel(request.param)
    yield request.param
    assert _core.use_entropy_kernel(previous) == request.param


def test_the_widest_kernel_is_the_default():
    assert KERNELS and _core.entropy_kernel() == KERNELS[0]
    vector = KERNELS[-1] == "sse2"  # built with glibc's vector log (GCC, x86-64 Linux)
    assert vector or KERNELS == ["scalar"]
    flags = _cpu_flags()
    if vector and sys.platform == "linux":
        assert ("avx512f" in KERNELS) == ("avx512f" in flags), (KERNELS, "avx512f" in flags)
        assert ("avx2" in KERNELS) == ("avx2" in flags), (KERNELS, "avx2" in flags)


def test_unknown_kernels_are_refused():
    with pytest.raises(ValueError, match="unknown entropy kernel 'avx9000'"):
        _core.use_entropy_kernel("avx9000")
    assert _core.entropy_kernel() == KERNELS[0]
    if KERNELS != ["scalar"] and "avx512f" not in KERNELS:
        with pytest.raises(ValueError, match="this CPU cannot run the avx512f kernel"):
            _core.use_entropy_kernel("avx512f")


def test_kernel_matches_numpy(kernel):
    rng = np.random.default_rng(0)
    for size in (0, 1, 7, 8, 9, 1023, 1024, 1025, 5000):
        x = rng.random(size) * (rng.random(size) < 0.8)  # zeros contribute nothing
        if size:
            x[0] = 1e-310  # a denormal is below DBL_MIN: skipped (contributes < 1e-305)
        positive = x[x >= np.finfo(float).tiny]
        expected = float(-np.sum(positive * np.log(positive)))
        assert _core.plogp_floor(x, 1) == pytest.approx(expected, rel=1e-13, abs=1e-300), (kernel, size)


def test_kernel_is_bit_identical_across_threads_and_shards(kernel):
    rng = np.random.default_rng(1)
    p = rng.dirichlet(np.ones(3 * 2 * 4 * 2 * 3 * 2 * 2)).reshape(3, 2, 4, 2, 3, 2, 2)
    subsets = [_core.dense_lattice(p, True, threads)[0] for threads in (1, 2, 3)]
    assert subsets[0] is not None
    assert all(np.array_equal(subsets[0], s) for s in subsets[1:]), kernel
    with ThreadPoolExecutor(2) as pool:
        sharded = exact.subset_entropies(p, executor=pool, shards=4, threads=1)
    assert np.array_equal(sharded, exact.subset_entropies(p, threads=2)), kernel
    np.testing.assert_allclose(subsets[0], reference.subset_entropies(p), rtol=1e-12, atol=1e-13)


def test_kernels_agree_to_rounding():
    p = np.random.default_rng(2).dirichlet(np.ones(2**10)).reshape((2,) * 10)
    results = {}
    for name in KERNELS:
        previous = _core.use_entropy_kernel(name)
        results[name] = _core.dense_lattice(p, True, 2)[0]
        _core.use_entropy_kernel(previous)
    first = results[KERNELS[0]]
    for name, values in results.items():
        np.testing.assert_allclose(values, first, rtol=1e-13, atol=1e-14, err_msg=name)
