"""Entropies, information curve, TC/DTC (SPEC §2, §5): C++ against the NumPy reference, dense vs sparse vs samples,
identities, an independent cross-check with `dit`, Monte Carlo estimates, bad input."""

from __future__ import annotations

import math

import numpy as np
import pytest
from dists import dense_distributions
from hypothesis import given, settings

import mdmsched
from mdmsched import reference


def _support(p: np.ndarray) -> mdmsched.Distribution:
    cells = np.argwhere(p > 0)
    return mdmsched.Distribution.from_support(cells, p[tuple(cells.T)])


@settings(max_examples=80, deadline=None)
@given(p=dense_distributions(min_n=1, max_n=6, max_q=4))
def test_cpp_matches_numpy_reference(p):
    ref = reference.subset_entropies(p)
    np.testing.assert_allclose(mdmsched.subset_entropies(p), ref, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(mdmsched.subset_entropies(_support(p)), ref, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(mdmsched.average_entropies(p), reference.average_entropies(p), rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(mdmsched.information_curve(p), reference.information_curve(p), atol=1e-12)
    assert mdmsched.total_correlation(p) == pytest.approx(reference.total_correlation(p), abs=1e-12)
    assert mdmsched.dual_total_correlation(p) == pytest.approx(reference.dual_total_correlation(p), abs=1e-12)


@settings(max_examples=60, deadline=None)
@given(p=dense_distributions(min_n=1, max_n=6, max_q=3))
def test_identities(p):
    z = mdmsched.information_curve(p)
    n = p.ndim
    tol = 1e-12
    assert z[0] == 0.0 and (np.diff(z) >= -tol).all()
    assert np.sum(z) == pytest.approx(mdmsched.total_correlation(p), abs=tol)
    assert n * z[-1] - np.sum(z) == pytest.approx(mdmsched.dual_total_correlation(p), abs=tol)
    e = mdmsched.average_entropies(p)
    assert e[0] == 0.0 and (np.diff(e, 2) <= tol).all()  # e is concave
    nonzero = p[p > 0]
    assert e[-1] == pytest.approx(-np.sum(nonzero * np.log(nonzero)), abs=tol)


@settings(max_examples=40, deadline=None)
@given(p=dense_distributions(min_n=2, max_n=5, max_q=3))
def test_dense_sparse_and_samples_agree(p):
    # Samples whose empirical law is exactly a rational distribution: repeat each support row by its count.
    counts = np.round(p * 60).astype(int).ravel()
    if counts.sum() == 0:
        counts[np.argmax(p)] = 1
    q = (counts / counts.sum()).reshape(p.shape)
    rows = np.repeat(np.argwhere(np.ones(p.shape, bool)), counts, axis=0)
    rng = np.random.default_rng(0)
    samples = rows[rng.permutation(rows.shape[0])]
    dense = mdmsched.information_curve(q)
    np.testing.assert_allclose(mdmsched.information_curve(mdmsched.Distribution.from_samples(samples)), dense, atol=1e-12)
    np.testing.assert_allclose(mdmsched.information_curve(mdmsched.Distribution.from_dense(q)), dense, atol=1e-12)
    shifted = mdmsched.Distribution.from_samples(samples * 7 - 3)  # symbols need not be 0..q-1
    np.testing.assert_allclose(mdmsched.information_curve(shifted), dense, atol=1e-12)
    assert mdmsched.total_correlation(mdmsched.Distribution.from_samples(samples)) == pytest.approx(
        mdmsched.total_correlation(q), abs=1e-12)


def test_tc_dtc_against_dit():
    dit = pytest.importorskip("dit")
    from dit.multivariate import dual_total_correlation as dit_dtc
    from dit.multivariate import total_correlation as dit_tc

    rng = np.random.default_rng(7)
    for trial in range(12):
        shape = tuple(rng.integers(2, 4, size=rng.integers(2, 5)))
        p = rng.dirichlet(np.full(int(np.prod(shape)), [0.2, 1.0, 5.0][trial % 3])).reshape(shape)
        cells = [tuple(int(v) for v in idx) for idx in np.ndindex(*shape)]
        d = dit.Distribution([tuple(str(v) for v in c) for c in cells], [float(p[c]) for c in cells])
        assert mdmsched.total_correlation(p, base=2) == pytest.approx(dit_tc(d), abs=1e-9)
        assert mdmsched.dual_total_correlation(p, base=2) == pytest.approx(dit_dtc(d), abs=1e-9)


def test_known_values_by_hand():
    # Uniform over the even-parity words of length 3: H(X_S) = |S| bits for |S| <= 2, H(X) = 2 bits.
    p = np.zeros((2, 2, 2))
    for x in np.ndindex(2, 2, 2):
        p[x] = 0.25 if sum(x) % 2 == 0 else 0.0
    np.testing.assert_allclose(mdmsched.average_entropies(p, base=2), [0, 1, 2, 2], atol=1e-12)
    np.testing.assert_allclose(mdmsched.information_curve(p, base=2), [0, 0, 1], atol=1e-12)
    assert mdmsched.total_correlation(p, base=2) == pytest.approx(1.0)
    assert mdmsched.dual_total_correlation(p, base=2) == pytest.approx(2.0)
    product = np.einsum("i,j,k->ijk", [0.3, 0.7], [0.5, 0.5], [0.1, 0.9])
    np.testing.assert_allclose(mdmsched.information_curve(product), 0.0, atol=1e-12)


def test_exchangeable_shortcut_matches_lattice():
    rng = np.random.default_rng(3)
    # Mixture of iid laws is exchangeable.
    weights, thetas = rng.dirichlet(np.ones(3)), rng.random(3)
    n = 7
    p = np.zeros((2,) * n)
    for w, t in zip(weights, thetas):
        factor = np.array([1 - t, t])
        term = factor
        for _ in range(n - 1):
            term = np.multiply.outer(term, factor)
        p += w * term
    np.testing.assert_allclose(mdmsched.average_entropies(p, exchangeable=True), reference.average_entropies(p), atol=1e-12)
    with pytest.raises(ValueError, match="swapped"):
        mdmsched.average_entropies(rng.dirichlet(np.ones(8)).reshape(2, 2, 2), exchangeable=True)


def test_bit_identical_across_thread_counts():
    rng = np.random.default_rng(11)
    p = rng.dirichlet(np.full(3**7, 0.3)).reshape((3,) * 7)
    runs = [mdmsched.subset_entropies(p, threads=t) for t in (1, 2, 3, None)]
    for r in runs[1:]:
        assert np.array_equal(r, runs[0])
    d = _support(p)
    sparse_runs = [mdmsched.average_entropies(d, threads=t) for t in (1, 2, None)]
    for r in sparse_runs[1:]:
        assert np.array_equal(r, sparse_runs[0])


def test_monte_carlo_within_four_standard_errors():
    rng = np.random.default_rng(5)
    n = 12
    p = rng.dirichlet(np.full(2**n, 0.2)).reshape((2,) * n)
    exact = mdmsched.average_entropies(p)
    est = mdmsched.estimate_average_entropies(p, subsets_per_size=40, seed=1)
    assert est.e.shape == (n + 1,)
    inexact = est.stderr > 0
    assert inexact.sum() >= n - 4
    assert (np.abs(est.e - exact)[inexact] <= 4 * est.stderr[inexact]).all()
    assert np.allclose(est.e[~inexact], exact[~inexact], atol=1e-12)  # small sizes are enumerated exactly
    z = mdmsched.information_curve(est)
    assert z[0] == 0 and (np.diff(z) >= 0).all()


def test_progress_callback_and_cancellation():
    rng = np.random.default_rng(2)
    p = rng.dirichlet(np.ones(2**18)).reshape((2,) * 18)
    seen: list[float] = []
    mdmsched.average_entropies(rng.dirichlet(np.ones(2**16)).reshape((2,) * 16), progress=seen.append, threads=1)
    assert all(0.0 <= f <= 1.0 for f in seen) and seen == sorted(seen)

    class Stop(Exception):
        pass

    def stop(_: float) -> None:
        raise Stop

    with pytest.raises(Stop):
        mdmsched.average_entropies(p, progress=stop, threads=1)


@pytest.mark.parametrize(
    ("p", "exc", "fragment"),
    [
        (np.array([0.5, -0.1, 0.6]), ValueError, "non-negative"),
        (np.array([0.5, np.nan, 0.5]), ValueError, "finite"),
        (np.array([0.2, 0.2]), ValueError, "unnormalised"),
        (np.array(1.0), ValueError, "scalar"),
        (np.zeros((2, 0)), ValueError, "non-empty axes"),
        (np.array(["a", "b"]), TypeError, "real numbers"),
    ],
)
def test_bad_distributions(p, exc, fragment):
    with pytest.raises(exc, match=fragment):
        mdmsched.information_curve(p)


def test_lattice_size_guard():
    wide = mdmsched.Distribution.from_support(np.zeros((1, 31), dtype=int), [1.0])
    with pytest.raises(ValueError, match="2\\^31 subsets"):
        mdmsched.subset_entropies(wide)
    np.testing.assert_allclose(mdmsched.estimate_average_entropies(wide, subsets_per_size=4, seed=0).e, 0.0)


def test_bad_arguments():
    p = np.full((2, 2), 0.25)
    with pytest.raises(ValueError, match="threads"):
        mdmsched.subset_entropies(p, threads=0)
    with pytest.raises(ValueError, match="threads"):
        mdmsched.subset_entropies(p, threads=-2)
    with pytest.raises(ValueError, match="base"):
        mdmsched.information_curve(p, base=1.0)
    with pytest.raises(TypeError, match="integers"):
        mdmsched.Distribution.from_samples(np.array([[0.5, 1.0]]))
    with pytest.raises(ValueError, match="one entry per outcome"):
        mdmsched.Distribution.from_support([[0, 1], [1, 0]], [1.0])
    with pytest.raises(ValueError, match="2-D"):
        mdmsched.Distribution.from_support([0, 1], [0.5, 0.5])
    with pytest.raises(ValueError, match="subsets_per_size"):
        mdmsched.estimate_average_entropies(p, subsets_per_size=1)


def test_float32_and_strided_tensors():
    rng = np.random.default_rng(4)
    p = rng.dirichlet(np.ones(36)).reshape(6, 6)
    view = np.asfortranarray(p)
    np.testing.assert_allclose(mdmsched.information_curve(view), reference.information_curve(p), atol=1e-12)
    np.testing.assert_allclose(mdmsched.information_curve(p.T), reference.information_curve(p.T), atol=1e-12)
    np.testing.assert_allclose(mdmsched.information_curve(p.astype(np.float32)), reference.information_curve(p), atol=1e-6)
    assert math.isfinite(mdmsched.total_correlation(p[::-1, ::2] / p[::-1, ::2].sum()))


def test_ctrl_c_cancels_a_long_walk():
    import os
    import signal
    import threading
    import time

    p = np.random.default_rng(9).dirichlet(np.ones(2**20)).reshape((2,) * 20)  # ~11 s single-threaded
    # A process started in the background by a non-interactive shell inherits SIGINT as ignored, and Python then keeps
    # it ignored: install Python's default handler for this test, as an interactive session has it.
    previous = signal.signal(signal.SIGINT, signal.default_int_handler)
    timer = threading.Timer(0.3, lambda: os.kill(os.getpid(), signal.SIGINT))
    start = time.perf_counter()
    timer.start()
    try:
        with pytest.raises(KeyboardInterrupt):
            mdmsched.average_entropies(p, threads=1)
    finally:
        timer.join()
        signal.signal(signal.SIGINT, previous)
    elapsed = time.perf_counter() - start
    assert elapsed < 5.0, f"the walk was not interrupted (took {elapsed:.1f} s)"
