"""Entropy benchmarks: the C++ lattice walk against the NumPy reference and against dit's TC/DTC.

    python -m pytest benchmarks/bench_curve.py --full --benchmark-enable --benchmark-json=bench-curve.json
    python benchmarks/report.py bench-curve.json
"""

from __future__ import annotations

import numpy as np
import pytest
from _sizes import size

import mdmsched
from mdmsched import reference


def binary(n: int, seed: int = 0) -> np.ndarray:
    return np.random.default_rng(seed).dirichlet(np.full(2**n, 0.5)).reshape((2,) * n)


N_SUB = size(8, 14)  # dit needs ~10 s at n = 10
P14 = binary(N_SUB)


@pytest.fixture(scope="module")
def p14_reference() -> np.ndarray:
    return reference.subset_entropies(P14)


@pytest.mark.benchmark(group=f"subset entropies, binary n={N_SUB}")
def test_subsets14_reference_numpy(benchmark):
    out = benchmark.pedantic(reference.subset_entropies, args=(P14,), rounds=2)
    np.testing.assert_allclose(out, mdmsched.subset_entropies(P14, threads=1), atol=1e-12)  # NumPy against C++


@pytest.mark.benchmark(group=f"subset entropies, binary n={N_SUB}")
@pytest.mark.parametrize("threads", [1, 2])
def test_subsets14_cpp(benchmark, p14_reference, threads):
    out = benchmark(mdmsched.subset_entropies, P14, threads=threads)
    np.testing.assert_allclose(out, p14_reference, atol=1e-12)


@pytest.mark.benchmark(group=f"TC + DTC, binary n={N_SUB}")
def test_tc_dtc14_cpp(benchmark):
    tc, dtc = benchmark(lambda: (mdmsched.total_correlation(P14), mdmsched.dual_total_correlation(P14)))
    assert tc == pytest.approx(reference.total_correlation(P14), abs=1e-10)
    assert dtc == pytest.approx(reference.dual_total_correlation(P14), abs=1e-10)


@pytest.mark.benchmark(group=f"TC + DTC, binary n={N_SUB}")
def test_tc_dtc14_reference_dit(benchmark):
    dit = pytest.importorskip("dit")
    from dit.multivariate import dual_total_correlation, total_correlation

    cells = list(np.ndindex(*P14.shape))
    d = dit.Distribution(["".join(map(str, c)) for c in cells], [float(P14[c]) for c in cells])
    tc, dtc = benchmark.pedantic(lambda: (total_correlation(d), dual_total_correlation(d)), rounds=1)
    assert tc == pytest.approx(mdmsched.total_correlation(P14, base=2), abs=1e-8)
    assert dtc == pytest.approx(mdmsched.dual_total_correlation(P14, base=2), abs=1e-8)


N_ALL = size(12, 20)


@pytest.mark.benchmark(group=f"all 2^{N_ALL} subset entropies, binary n={N_ALL}")
@pytest.mark.parametrize("threads", [1, 2])
def test_subsets20(benchmark, threads):
    p = binary(N_ALL, seed=1)
    out = benchmark.pedantic(mdmsched.subset_entropies, args=(p,), kwargs={"threads": threads}, rounds=1)
    assert out.shape == (2**N_ALL,)
    singles = [reference._entropy(p.sum(axis=tuple(j for j in range(N_ALL) if j != i))) for i in range(N_ALL)]
    np.testing.assert_allclose(out[[1 << i for i in range(N_ALL)]], singles, atol=1e-12)
    assert out[-1] == pytest.approx(reference._entropy(p.ravel()), abs=1e-10)


N_TERNARY = size(7, 12)


@pytest.mark.benchmark(group=f"information curve, ternary n={N_TERNARY}")
@pytest.mark.parametrize("threads", [1, 2])
def test_curve_ternary12(benchmark, threads):
    p = np.random.default_rng(2).dirichlet(np.full(3**N_TERNARY, 0.5)).reshape((3,) * N_TERNARY)
    z = benchmark.pedantic(mdmsched.information_curve, args=(p,), kwargs={"threads": threads}, rounds=1)
    assert np.sum(z) == pytest.approx(mdmsched.total_correlation(p), abs=1e-9)


M_SPARSE, N_SPARSE = size(512, 4096), size(11, 16)


@pytest.mark.benchmark(group=f"sparse support: M={M_SPARSE} rows, n={N_SPARSE}")
@pytest.mark.parametrize("impl", ["sparse", "dense"])
def test_sparse_vs_dense16(benchmark, impl):
    rng = np.random.default_rng(3)
    rows = np.unique(rng.integers(0, 2, size=(M_SPARSE, N_SPARSE)), axis=0)
    probs = rng.dirichlet(np.ones(rows.shape[0]))
    dist = mdmsched.Distribution.from_support(rows, probs)
    dense = np.zeros((2,) * N_SPARSE)
    dense[tuple(rows.T)] = probs
    source = dist if impl == "sparse" else dense
    e = benchmark.pedantic(mdmsched.average_entropies, args=(source,), rounds=1)
    other = mdmsched.average_entropies(dense if impl == "sparse" else dist)
    np.testing.assert_allclose(e, other, atol=1e-10)
