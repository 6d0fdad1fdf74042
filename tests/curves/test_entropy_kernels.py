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


def _walk_reference(p: np.ndarray, total: float) -> np.ndarray:
    """H(X_S) for every mask S with the walk's sums redone in NumPy: each marginal is p / total with the coordinates
    outside S summed out in increasing order, slab by slab (slab 0 + slab 1, then + slab 2, ...), and its entropy is
    the kernel's own -sum x log x (``plogp_floor(x, 1)``, the walk's blocks). The walk must match bit for bit."""
    n = p.ndim
    marginals: dict[int, np.ndarray] = {0: p / total}  # key: the removed coordinates as a mask

    def marginal(removed: int) -> np.ndarray:
        if removed not in marginals:
            last = removed.bit_length() - 1  # the walk removes coordinates in increasing order: the last is the largest
            parent = marginal(removed & ~(1 << last))
            axis = last - bin(removed & ((1 << last) - 1)).count("1")  # axes left of `last` in the parent
            summed = np.take(parent, 0, axis=axis)
            for t in range(1, parent.shape[axis]):
                summed = summed + np.take(parent, t, axis=axis)
            marginals[removed] = summed
        return marginals[removed]

    full = (1 << n) - 1
    out = np.empty(1 << n)
    for mask in range(1 << n):
        out[mask] = 0.0 if mask == 0 else _core.plogp_floor(np.ascontiguousarray(marginal(full & ~mask)).ravel(), 1)
    return out


SMALL_SHAPES = [(q,) * k for k in range(1, 6) for q in (1, 2, 3)] + [
    (2, 3),
    (3, 2),
    (2, 1, 2),
    (4, 2, 2, 3, 2),
    (3, 2, 4, 2, 3, 2, 2),
    (2, 2, 2, 5, 2, 2, 2, 2),
    (2,) * 9,
    # n > 10 (the unit bits): the walk below the units, where the leaves are never stored
    (2,) * 11,
    (3,) + (2,) * 10,
    (2,) * 10 + (3,),
    (2,) * 12,  # leaves above one entropy block (2^11 cells)
]


@pytest.mark.parametrize("shape", SMALL_SHAPES, ids=lambda s: "x".join(map(str, s)))
def test_walk_sums_are_bit_identical_to_numpy_sums(kernel, shape):
    """Issue 28.16: each kernel's binary-axis sums (AVX2 pair sums, the leaf path that never stores its marginal,
    line-aligned buffers) give every H(X_S) bit for bit as NumPy's sums fed to the same -sum x log x, for normalised and
    unnormalised (divided as read) tensors, on 1 and 2 threads."""
    rng = np.random.default_rng(len(shape) * 31 + sum(shape))
    size = int(np.prod(shape))
    for alpha in (1.0, 0.05):
        p = rng.dirichlet(np.full(size, alpha)).reshape(shape)
        unnormalised = p * 3.7 * (rng.random(shape) < 0.8)
        unnormalised.flat[0] += 0.5  # never all zero
        for q, total in ((p, 1.0), (unnormalised, float(unnormalised.sum()))):
            expected = _walk_reference(q, total)
            for threads in (1, 2):
                got = _core.dense_lattice(q, True, threads, None, total)[0]
                assert got is not None
                bad = np.flatnonzero(got.view(np.uint64) != expected.view(np.uint64))
                assert bad.size == 0, (kernel, shape, alpha, total, threads, bad[:5], got[bad[:5]], expected[bad[:5]])
