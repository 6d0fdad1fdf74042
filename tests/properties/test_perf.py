"""Fast paths of issue 14 against independent slow paths: request-sized solves, trusted Schedule construction, the
curve validator's fast path, zero-copy results."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest
from curves import curves
from hypothesis import given, settings
from hypothesis import strategies as st

import mdmsched
from mdmsched import _core, reference
from mdmsched._validation import as_curve


def _close(a: float, b: float, scale: float) -> bool:
    return abs(a - b) <= 1e-9 * max(1.0, abs(scale))


# ---- request-sized solves ----------------------------------------------------------------------------------------


@settings(max_examples=200, deadline=None)
@given(z=curves(min_n=2, max_n=300), data=st.data())
def test_request_sized_solve_equals_naive_dp(z, data):
    # The default path (continuum starting bracket, double-precision penalized DP for n <= 2048) against the plain
    # O(k n^2) DP in C++, on smooth, dyadic (exact ties), step and flat curves.
    n = z.size
    k = data.draw(st.integers(1, n))
    fast = mdmsched.optimal_schedule(z, k)
    naive = mdmsched.optimal_schedule(z, k, method="naive")
    assert fast.k == k and fast.n == n and (fast.sizes >= 1).all()
    assert _close(fast.error, naive.error, z.sum())
    assert _close(reference.schedule_error(z, fast.sizes), fast.error, z.sum())


@pytest.mark.parametrize("seed", range(4))
def test_request_size_n256_k32_against_numpy_reference(seed):
    rng = np.random.default_rng(seed)
    inc = [rng.exponential(1.0, 255), rng.integers(0, 3, 255) / 4.0, (rng.random(255) < 0.05) * 1.0,
           np.exp(-8.0 * np.arange(255) / 256)][seed]
    z = np.concatenate(([0.0], np.cumsum(inc)))
    for k in (2, 9, 32, 100, 255):
        ref_error, _ = reference.optimal_schedule(z, k)
        assert _close(mdmsched.optimal_schedule(z, k).error, ref_error, z.sum())


@pytest.mark.parametrize("n", [2047, 2048, 2049, 2100])
def test_precision_switch_of_the_penalized_dp(n):
    # Both sides of the double / long double switch agree with the per-layer hull DP (long double throughout).
    rng = np.random.default_rng(n)
    for inc in (rng.exponential(1.0, n - 1), rng.integers(0, 3, n - 1) / 8.0):
        z = np.concatenate(([0.0], np.cumsum(inc)))
        for k in (3, 8, 40, 700):
            hull = mdmsched.optimal_schedule(z, k, method="hull")
            lag = mdmsched.optimal_schedule(z, k, method="lagrangian")
            assert lag.k == k and _close(lag.error, hull.error, z.sum())
        eps = float(mdmsched.optimal_schedule(z, 50, method="hull").error)
        assert mdmsched.min_steps(z, eps).k <= 50


# ---- trusted Schedule construction -------------------------------------------------------------------------------


def _field_values(s: mdmsched.Schedule) -> dict[str, object]:
    return {f.name: getattr(s, f.name) for f in dataclasses.fields(s)}


@settings(max_examples=100, deadline=None)
@given(sizes=st.lists(st.integers(1, 50), min_size=1, max_size=40), error=st.none() | st.floats(0, 10),
       name=st.text(max_size=10))
def test_trusted_schedule_equals_validated_constructor(sizes, error, name):
    validated = mdmsched.Schedule(np.array(sizes), error=error, name=name)
    bp = np.concatenate(([0], np.cumsum(sizes))).astype(np.int64)
    trusted = mdmsched.Schedule._trusted(bp[1:] - bp[:-1], bp, error, name)
    assert type(trusted) is mdmsched.Schedule and trusted == validated
    a, b = _field_values(trusted), _field_values(validated)
    assert a.keys() == b.keys()  # every dataclass field is set
    for key in a:
        if isinstance(b[key], np.ndarray):
            assert isinstance(a[key], np.ndarray) and a[key].dtype == b[key].dtype
            assert np.array_equal(a[key], b[key]) and not a[key].flags.writeable
        else:
            assert a[key] == b[key] and type(a[key]) is type(b[key])
    assert repr(trusted) == repr(validated) and hash(trusted) == hash(validated)


def test_optimal_schedule_is_frozen_and_consistent():
    z = 1.0 - np.exp(-8.0 * np.arange(256) / 256)
    s = mdmsched.optimal_schedule(z, 32)
    assert not s.sizes.flags.writeable and not s.breakpoints.flags.writeable
    assert s.breakpoints.tolist() == [0, *np.cumsum(s.tolist()).tolist()]
    assert s == mdmsched.Schedule(s.tolist(), error=s.error, name=s.name)


# ---- curve validation fast path ----------------------------------------------------------------------------------


@settings(max_examples=200, deadline=None)
@given(z=curves(max_n=50), noise=st.sampled_from([0.0, 1e-12, 1e-6]), seed=st.integers(0, 2**32 - 1),
       layout=st.sampled_from(["plain", "float32", "strided", "list"]))
def test_curve_fast_path_equals_slow_path(z, noise, seed, layout):
    rng = np.random.default_rng(seed)
    noisy = z + noise * rng.standard_normal(z.size)
    given_z = {"plain": noisy, "float32": noisy.astype(np.float32), "strided": np.repeat(noisy, 2)[::2],
               "list": noisy.tolist()}[layout]
    slow_input = noisy.tolist()  # a list never takes the fast path
    try:
        expected = as_curve(slow_input)
    except ValueError:
        with pytest.raises(ValueError, match=r"^Z(_1)? must "):
            as_curve(given_z)
        return
    got = as_curve(given_z)
    assert got.dtype == np.float64 and got.flags.c_contiguous and got is not given_z
    np.testing.assert_array_equal(got, expected if layout != "float32" else as_curve(np.asarray(given_z).tolist()))


@pytest.mark.parametrize("bad", [[0.0, np.nan, 1.0], [0.0, 1.0, np.inf], [np.nan], [0.0, 2.0, 1.0], [1.0, 2.0], [],
                                 [-np.inf, 0.0]])
def test_curve_fast_path_rejects_what_the_validator_rejects(bad):
    arr = np.array(bad, dtype=np.float64)
    assert not _core.is_clean_curve(arr)
    with pytest.raises(ValueError, match=r"^Z(_1)? must "):
        as_curve(arr)


def test_curve_fast_path_accepts_only_clean_float64():
    z = np.array([0.0, 0.0, 0.5, 0.5, 2.0])
    assert _core.is_clean_curve(z)
    assert not _core.is_clean_curve(z.astype(np.float32))
    assert not _core.is_clean_curve(np.repeat(z, 2)[::2])
    assert not _core.is_clean_curve(z.reshape(1, -1))
    assert not _core.is_clean_curve([0.0, 1.0])
    assert not _core.is_clean_curve(np.array([1e-300, 1.0]))  # Z_1 within tolerance: the slow path cleans it
    out = as_curve(z)
    assert out is not z and np.array_equal(out, z)
    out[1] = 7.0
    assert z[1] == 0.0  # the caller's array is never aliased


# ---- zero-copy results -------------------------------------------------------------------------------------------


def test_large_results_are_not_copied():
    rng = np.random.default_rng(0)
    p = rng.random((2,) * 12)
    p /= p.sum()
    subsets, sums = _core.dense_lattice(p, True, 1)
    for arr in (subsets, sums):
        # Owned by the C++ vector through a capsule base (no NumPy-owned copy).
        assert not arr.flags.owndata and type(arr.base).__name__ == "PyCapsule"
    h = mdmsched.subset_entropies(p, threads=1)
    assert not h.flags.owndata and type(h.base).__name__ == "PyCapsule"
    np.testing.assert_allclose(h, reference.subset_entropies(p), rtol=1e-12, atol=1e-13)
    np.testing.assert_allclose(mdmsched.subset_entropies(p, base=2), h / np.log(2), rtol=1e-15)
    _, bp = _core.solve(np.linspace(0.0, 1.0, 50), 5)
    assert type(bp.base).__name__ == "PyCapsule" and bp[-1] == 50


# ---- slow-mixing Markov chains -----------------------------------------------------------------------------------


def _chain(rng: np.random.Generator, q: int, stickiness: float) -> np.ndarray:
    p = rng.random((q, q)) ** 3 + 1e-3
    p /= p.sum(axis=1, keepdims=True)
    return (1 - stickiness) * p + stickiness * np.eye(q)  # stickiness near 1: slow mixing


def _mutual_information_12(p: np.ndarray) -> float:
    """I(X_1; X_2) = max_g |delta(g)| of the stationary chain (nats), computed independently of the package."""
    values, vectors = np.linalg.eig(p.T)
    pi = np.real(vectors[:, np.argmin(np.abs(values - 1))])
    pi /= pi.sum()
    joint = pi[:, None] * p
    return float(np.sum(joint * np.log(joint / (pi[:, None] * pi[None, :]))))


@pytest.mark.parametrize("seed", range(8))
@pytest.mark.parametrize("tol", [1e-12, 1e-8, 1e-4])
def test_truncated_markov_curve_within_tolerance_of_exact_sum(seed, tol):
    rng = np.random.default_rng(seed)
    q = int(rng.integers(2, 5))
    stickiness = [0.0, 0.9, 0.99, 0.998][seed % 4]
    p = _chain(rng, q, stickiness)
    n = int(rng.integers(2, 2500))
    exact = mdmsched.distributions.markov_curve(p, n, tol=0)
    fast = mdmsched.distributions.markov_curve(p, n, tol=tol)
    # Stated bound: tol * I(X_1; X_2) per entry, plus rounding of the e_m ~ m H(pi) differences in both paths.
    rounding = 64 * np.finfo(float).eps * n * np.log(q)
    assert np.abs(fast - exact).max() <= tol * _mutual_information_12(p) + rounding


def test_gap_sums_against_binomial_formula():
    # r(g, m) = (n-g) C(n-g-1, m-2) / C(n, m) from exact integer arithmetic: independent of the recurrence.
    from math import comb

    rng = np.random.default_rng(3)
    n = 30
    delta = -rng.random(n - 1) * np.exp(-np.arange(n - 1) / 5.0)
    got = _core.markov_gap_sums(delta, n, 0.0)
    for m in range(n + 1):
        want = sum(float(delta[g - 1]) * (n - g) * comb(n - g - 1, m - 2) / comb(n, m)
                   for g in range(1, n) if m >= 2 and n - g - 1 >= m - 2)
        assert got[m] == pytest.approx(want, rel=1e-12, abs=1e-15)


def _gap_sums_numpy(delta: np.ndarray, n: int) -> np.ndarray:
    """``sum_g delta_g r(g, m)`` for ``m = 0..n`` in NumPy, independent of the C++ loop: ``r(1, m) = m (m - 1) / n`` and
    ``r(g + 1, m) / r(g, m) = (n - g - m + 1) / (n - g)`` (from ``r = (n-g) C(n-g-1, m-2) / C(n, m)``). O(n gaps)."""
    gaps = min(delta.size, n - 1)
    m = np.arange(n + 1, dtype=np.float64)[:, None]
    g = np.arange(1, gaps, dtype=np.float64)[None, :]
    ratios = np.clip((n - g - m + 1) / (n - g), 0.0, None)
    r = m * (m - 1) / n * np.concatenate([np.ones((n + 1, 1)), np.cumprod(ratios, axis=1)], axis=1)[:, :gaps]
    return np.asarray(r @ delta[:gaps]) if gaps else np.zeros(n + 1)


def test_gap_sums_numpy_reference_matches_the_binomial_formula():
    from math import comb

    n, delta = 25, np.random.default_rng(4).standard_normal(30)
    want = [sum(float(delta[g - 1]) * (n - g) * comb(n - g - 1, m - 2) / comb(n, m)
                for g in range(1, n) if m >= 2 and n - g - 1 >= m - 2) for m in range(n + 1)]
    np.testing.assert_allclose(_gap_sums_numpy(delta, n), want, rtol=1e-12, atol=1e-15)


@settings(max_examples=60, deadline=None)
@given(n=st.integers(1, 600), gaps=st.integers(0, 800), decay=st.floats(1e-4, 1.0), seed=st.integers(0, 2**31),
       tol=st.sampled_from([1e-12, 1e-6, 1e-2]))
def test_gap_sum_truncation_bound(n, gaps, decay, seed, tol):
    # Arbitrary signs and non-monotone magnitudes: the bound uses the suffix maximum of |delta| only. Both the exact
    # (tol = 0) and the truncated C++ sums are checked against the NumPy reference, not against each other.
    rng = np.random.default_rng(seed)
    delta = rng.standard_normal(gaps) * np.exp(-decay * np.arange(gaps))
    exact = _gap_sums_numpy(delta, n)
    np.testing.assert_allclose(_core.markov_gap_sums(delta, n, 0.0), exact, rtol=1e-9,
                               atol=1e-12 * max(1.0, float(np.abs(delta).sum())))
    fast = _core.markov_gap_sums(delta, n, tol)
    scale = np.abs(delta).max() if gaps else 0.0
    assert np.all(np.abs(fast - exact) <= 0.5 * tol * scale + 1e-13 * np.abs(exact))
    assert fast[0] == fast[min(1, n)] == 0.0


def test_slow_markov_chain_is_fast_at_scale():
    import time

    p = np.array([[0.999, 0.001], [0.001, 0.999]])
    start = time.perf_counter()
    z = mdmsched.distributions.markov_curve(p, 100_000)
    elapsed = time.perf_counter() - start
    assert z.shape == (100_000,) and z[0] == 0.0 and np.all(np.diff(z) >= 0)
    # I(X_1; X_2) <= Z_n = avg_i I(X_i; X_-i) <= H(X_i) = log 2.
    assert _mutual_information_12(p) <= z[-1] <= np.log(2)
    assert elapsed < 2.0  # 0.1 s target on an idle machine; generous here (shared CI cores)


# ---- sharded lattice ---------------------------------------------------------------------------------------------


def _random_tensor(shape: tuple[int, ...], seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    p = rng.random(shape) ** 3
    p[rng.random(shape) < 0.1] = 0.0  # zero cells too
    return p / p.sum()


SHARD_SHAPES = [(2,) * 12, (3, 2, 4, 2, 3, 2, 2), (2, 2, 2), (5,), (2,) * 11 + (3,)]


@pytest.mark.parametrize("shape", SHARD_SHAPES)
def test_single_process_walk_is_exact_and_thread_independent(shape):
    p = _random_tensor(shape, len(shape))
    one = mdmsched.subset_entropies(p, threads=1)
    np.testing.assert_allclose(one, reference.subset_entropies(p), rtol=1e-12, atol=1e-13)
    assert np.array_equal(one, mdmsched.subset_entropies(p, threads=2))
    assert np.array_equal(one, mdmsched.subset_entropies(p, threads=5))
    np.testing.assert_allclose(mdmsched.average_entropies(p, threads=3), reference.average_entropies(p),
                               rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("shape", SHARD_SHAPES)
def test_thread_pool_shards_are_bit_identical(shape):
    from concurrent.futures import ThreadPoolExecutor

    p = _random_tensor(shape, 7)
    single_h = mdmsched.subset_entropies(p, threads=1)
    single_e = mdmsched.average_entropies(p, threads=1)
    single_z = mdmsched.information_curve(p, threads=2)
    limit = 2 ** _core.lattice_unit_bits(p.ndim)
    with ThreadPoolExecutor(max_workers=3) as pool:
        for shards in sorted({1, 2, 4, 8, limit} & set(range(1, limit + 1))):
            assert np.array_equal(mdmsched.subset_entropies(p, threads=1, executor=pool, shards=shards), single_h)
            assert np.array_equal(mdmsched.average_entropies(p, threads=2, executor=pool, shards=shards), single_e)
            assert np.array_equal(mdmsched.information_curve(p, executor=pool, shards=shards), single_z)


def test_process_pool_shards_are_bit_identical():
    from concurrent.futures import ProcessPoolExecutor

    p = _random_tensor((2,) * 11 + (3,), 11)
    single_h = mdmsched.subset_entropies(p, threads=1)
    single_e = mdmsched.average_entropies(p, threads=1)
    with ProcessPoolExecutor(max_workers=2) as pool:
        for shards in (1, 2, 4, 8):
            assert np.array_equal(mdmsched.subset_entropies(p, threads=1, executor=pool, shards=shards), single_h)
            assert np.array_equal(mdmsched.average_entropies(p, threads=1, executor=pool, shards=shards), single_e)


def test_dask_local_cluster_shards_are_bit_identical():
    distributed = pytest.importorskip("distributed")
    p = _random_tensor((2,) * 10 + (3, 2), 5)
    single_h = mdmsched.subset_entropies(p, threads=1)
    single_z = mdmsched.information_curve(p, threads=1)
    cluster_args = {"n_workers": 2, "processes": True, "threads_per_worker": 1,
                    "dashboard_address": ":0"}  # any free port: two runs on one machine must not collide on 8787
    with distributed.LocalCluster(**cluster_args) as cluster, distributed.Client(cluster) as client:
        executor = client.get_executor()
        assert np.array_equal(mdmsched.subset_entropies(p, threads=1, executor=executor, shards=4), single_h)
        assert np.array_equal(mdmsched.information_curve(p, threads=1, executor=executor, shards=8), single_z)


def test_shard_entry_point_covers_the_lattice_once():
    p = _random_tensor((2, 3, 2, 2, 2), 3)
    full, _ = _core.dense_lattice(p, True, 1)
    for lead in range(6):
        seen = np.full(full.size, np.nan)
        for pattern in range(2**lead):
            part, units = _core.dense_lattice_shard(p, lead, pattern, True, 2)
            assert part.shape == (2 ** (5 - lead),) and units.shape == (2 ** (5 - lead), 6)
            assert np.isnan(seen[pattern::2**lead]).all()
            seen[pattern::2**lead] = part
        assert np.array_equal(seen, full)
    with pytest.raises(ValueError, match="lead"):
        _core.dense_lattice_shard(p, 6, 0, False)
    with pytest.raises(ValueError, match="pattern"):
        _core.dense_lattice_shard(p, 2, 4, False)


def test_shard_arguments_and_memory_guard(monkeypatch):
    from concurrent.futures import ThreadPoolExecutor

    p = _random_tensor((2,) * 6, 1)
    with ThreadPoolExecutor(1) as pool:
        for bad in (0, 3, 128):
            with pytest.raises(ValueError, match="shards"):
                mdmsched.subset_entropies(p, executor=pool, shards=bad)
        with pytest.raises(TypeError, match="dense"):
            mdmsched.subset_entropies(mdmsched.Distribution.from_support([[0, 1]], [1.0]), executor=pool)
    with pytest.raises(ValueError, match="executor"):
        mdmsched.subset_entropies(p, shards=2)
    # On one machine, the refusal is about memory and names the cluster path.
    monkeypatch.setattr(mdmsched._validation, "available_memory_bytes", lambda: 1000)
    with pytest.raises(ValueError, match="executor=") as info:
        mdmsched.average_entropies(p)
    assert "2^6 subsets" in str(info.value)
