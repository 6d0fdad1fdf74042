"""Determinism, thread safety, flat memory under repetition, and fast failure on oversized requests."""

from __future__ import annotations

import contextlib
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np
import pytest

import mdmsched
from mdmsched import _validation


def _rss_bytes() -> int:
    with Path("/proc/self/statm").open() as f:
        return int(f.read().split()[1]) * 4096


@pytest.fixture(scope="module")
def inputs():
    rng = np.random.default_rng(0)
    z = np.concatenate(([0.0], np.cumsum(rng.exponential(1.0, 2999))))
    p = rng.dirichlet(np.full(2**10, 0.5)).reshape((2,) * 10)
    rows = rng.integers(0, 3, size=(300, 8))
    return z, p, mdmsched.Distribution.from_samples(rows)


def test_bit_identical_on_repeat_and_across_threads(inputs):
    z, p, dist = inputs
    for method in ("hull", "lagrangian", "naive"):
        first = mdmsched.optimal_schedule(z[:400], 37, method=method)
        again = mdmsched.optimal_schedule(z[:400], 37, method=method)
        assert first.tolist() == again.tolist() and first.error == again.error
    assert np.array_equal(mdmsched.error_frontier(z, 50), mdmsched.error_frontier(z, 50))
    for source in (p, dist):
        runs = [mdmsched.subset_entropies(source, threads=t) for t in (1, 2, 7, None)]
        assert all(np.array_equal(r, runs[0]) for r in runs[1:])
        curves = [mdmsched.information_curve(source, threads=t) for t in (1, 2, None)]
        assert all(np.array_equal(c, curves[0]) for c in curves[1:])


def test_concurrent_python_threads_match_sequential(inputs):
    z, p, dist = inputs
    jobs = [("solve", k) for k in range(2, 60, 3)] + [("lattice", t) for t in (1, 2)] * 4 + [("sparse", 1)] * 4

    def run(job):
        kind, arg = job
        if kind == "solve":
            s = mdmsched.optimal_schedule(z, arg)
            return (s.tolist(), s.error)
        if kind == "lattice":
            return mdmsched.subset_entropies(p, threads=arg).tobytes()
        return mdmsched.average_entropies(dist, threads=arg).tobytes()

    sequential = [run(job) for job in jobs]
    with ThreadPoolExecutor(max_workers=4) as pool:
        concurrent = list(pool.map(run, jobs))
    assert concurrent == sequential


def test_resident_memory_stays_flat(inputs):
    z, p, dist = inputs
    small = z[:200]
    p6 = p.sum(axis=(6, 7, 8, 9))

    def workload():
        for k in (3, 17, 90):
            mdmsched.optimal_schedule(small, k)
        mdmsched.error_frontier(small, 20)
        mdmsched.schedule_error(small, [100, 100])
        mdmsched.subset_entropies(p6, threads=2)
        mdmsched.total_correlation(p6)
        mdmsched.average_entropies(dist)
        with contextlib.suppress(ValueError):
            mdmsched.optimal_schedule([0.0, 1.0, 0.5], 2)  # the error path must not leak either

    for _ in range(100):  # warm-up: allocator pools, caches
        workload()
    before = _rss_bytes()
    for _ in range(1500):
        workload()
    growth = _rss_bytes() - before
    assert growth < 16 * 2**20, f"RSS grew by {growth / 2**20:.1f} MiB over 1500 rounds"


def test_oversized_requests_fail_fast(monkeypatch):
    monkeypatch.setattr(_validation, "available_memory_bytes", lambda: 16 * 2**20)
    with pytest.raises(ValueError, match="GiB of scratch memory"):
        mdmsched.optimal_schedule(np.zeros(100_000), 500, method="hull")  # 500 x 100k int32 table = 190 MiB
    assert mdmsched.optimal_schedule(np.zeros(100_000), 500, method="lagrangian").k == 500  # O(n) memory is fine
    p = np.full((2,) * 20, 2.0**-20)
    with pytest.raises(ValueError, match="GiB of memory"):
        mdmsched.subset_entropies(p)  # 8 MiB of results + one 8 MiB chain per thread: over 16 MiB


def test_long_native_calls_release_the_gil():
    import threading

    p = np.random.default_rng(1).dirichlet(np.ones(2**18)).reshape((2,) * 18)  # ~0.5 s in C++
    z = np.sqrt(np.linspace(0.0, 1.0, 1_000_000))
    for work in (lambda: mdmsched.subset_entropies(p, threads=1), lambda: mdmsched.optimal_schedule(z, 3000)):
        worker = threading.Thread(target=work)
        ticks = 0
        worker.start()
        while worker.is_alive():  # this loop only advances while the worker does not hold the GIL
            ticks += 1
        worker.join()
        # ~40 ms of this loop; holding the GIL would leave it only the few ms of Python around the native call.
        assert ticks > 200_000, f"the main thread ran only {ticks} iterations during the native call"
