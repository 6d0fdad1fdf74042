"""C++ / binding reliability (issue 28, items 11 and 12): progress callbacks, sparse alphabets, memory sizes, huge
block counts, uint64 samples. Each test failed before its fix."""

from __future__ import annotations

import time

import numpy as np
import pytest

import mdmsched
from mdmsched import _core, schedules
from mdmsched.curves import Distribution
from mdmsched.schedules import practice


class Boom(RuntimeError):
    pass


def raising_progress(fraction: float) -> None:
    raise Boom(f"progress failed at {fraction}")


def dense_law(n: int) -> np.ndarray:
    return np.random.default_rng(n).dirichlet(np.ones(2**n)).reshape((2,) * n)


@pytest.mark.parametrize("threads", [1, 2])
def test_a_raising_progress_callback_reaches_the_user_on_a_short_walk(threads):
    # A walk shorter than the 100 ms polling interval never called the callback, so its exception was lost.
    with pytest.raises(Boom):
        mdmsched.subset_entropies(dense_law(6), progress=raising_progress, threads=threads)
    with pytest.raises(Boom):
        mdmsched.average_entropies(dense_law(6), progress=raising_progress, threads=threads)
    sparse = Distribution.from_samples(np.random.default_rng(0).integers(0, 3, size=(50, 5)))
    with pytest.raises(Boom):
        mdmsched.subset_entropies(sparse, progress=raising_progress, threads=threads)


def test_progress_ends_at_one():
    seen: list[float] = []
    mdmsched.subset_entropies(dense_law(5), progress=seen.append, threads=1)
    assert seen and seen[-1] == 1.0 and all(0.0 <= f <= 1.0 for f in seen)


SUPPORT = np.array([[0, 5], [1, 1]])
PROBS = np.array([0.5, 0.5])


@pytest.mark.parametrize("masks", [[[1, 2]], [[0, 256]], [[0.5, 1.0]], [[-1, 0]]])
def test_sparse_subset_masks_outside_zero_one_are_refused(masks):
    # 2 was read as "true", 256 wrapped to 0 and 0.5 truncated to 0 (uint8 forcecast).
    with pytest.raises(ValueError, match="masks must hold only 0 and 1"):
        _core.sparse_subset_entropies(SUPPORT, PROBS, np.array(masks))


def test_sparse_subset_masks_accept_bools_and_zero_one():
    h_bool = _core.sparse_subset_entropies(SUPPORT, PROBS, np.array([[True, False], [True, True]]))
    h_int = _core.sparse_subset_entropies(SUPPORT, PROBS, np.array([[1, 0], [1, 1]]))
    assert h_bool.tolist() == h_int.tolist() == pytest.approx([np.log(2), np.log(2)])


@pytest.mark.parametrize("call", ["subsets", "lattice", "marginals"])
def test_sparse_outcomes_outside_int64_or_not_integers_are_refused(call):
    def run(outcomes: np.ndarray) -> object:
        if call == "subsets":
            return _core.sparse_subset_entropies(outcomes, PROBS, np.array([[1, 1]]))
        if call == "lattice":
            return _core.sparse_lattice(outcomes, PROBS, False)
        return _core.sparse_marginal_entropies(outcomes, PROBS)

    # 2^64 - 1 wrapped to -1 and 0.5 truncated to 0: another symbol, silently.
    with pytest.raises(ValueError, match="outcomes must be < 2\\^63"):
        run(np.array([[0, 2**64 - 1], [1, 1]], dtype=np.uint64))
    with pytest.raises(TypeError, match="outcomes must be integers"):
        run(np.array([[0.0, 0.5], [1.0, 1.0]]))
    small = run(np.array([[0, 5], [1, 1]], dtype=np.uint64))
    signed = run(np.array([[0, 5], [1, 1]], dtype=np.int64))
    assert str(small) == str(signed)


@pytest.mark.parametrize("method", ["auto", "naive", "hull", "lagrangian"])
def test_solve_memory_bytes_saturates(method):
    top = 2**64 - 1
    assert _core.solve_memory_bytes(2**62, 2**62, method) == top  # wrapped to 120
    assert _core.solve_memory_bytes(2**60, 1, method) == top
    small = _core.solve_memory_bytes(256, 32, method)
    assert 256 * 8 < small < 2**20


def test_maskgit_counts_refuses_infinite_ratios():
    with pytest.raises(ValueError, match="ratios must be finite"):
        practice.maskgit_counts(10, np.array([0.5, np.inf]))
    with pytest.raises(ValueError, match="ratios must be finite"):
        practice.maskgit_counts(10, [0.5, -np.inf])
    assert practice.maskgit_counts(10, np.array([0.5], np.float32)).tolist() == [5, 5]


def test_blockwise_refuses_a_billion_blocks_before_building_them():
    start = time.perf_counter()
    with pytest.raises(ValueError, match="block schedules"):
        schedules.blockwise(10**9, 1, steps_per_block=1)
    assert time.perf_counter() - start < 1.0  # refused up front, not after a list of 10^9 lengths


def test_from_samples_accepts_small_uint64_values():
    samples = np.array([[0, 1], [1, 0], [0, 1]])
    unsigned = Distribution.from_samples(samples.astype(np.uint64))
    signed = Distribution.from_samples(samples)
    assert unsigned.outcomes.dtype == np.int64
    assert unsigned.outcomes.tolist() == signed.outcomes.tolist() and unsigned.probs.tolist() == signed.probs.tolist()
    with pytest.raises(ValueError, match="outcomes must be < 2\\^63"):
        Distribution.from_samples(np.array([[2**64 - 1]], dtype=np.uint64))
