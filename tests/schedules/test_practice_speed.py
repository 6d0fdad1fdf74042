"""Issue 19, speed: Dream's and dllm's count recursions moved to C++ and diffusers' quota vectorised must give the
old Python loops' counts exactly (the loops are kept here as the references), with the same errors."""

from __future__ import annotations

import numpy as np
import pytest

from mdmsched.schedules import practice as P

F32 = np.float32


def dream_loop(n: int, k: int, eps: float) -> list[int]:
    """The former ``practice.dream`` loop: NumPy float32 scalars, one pass at a time."""
    t = P._linspace32(1.0, eps, k + 1)
    shrink = (F32(1) - (t[1:] / t[:-1]).astype(F32)).astype(F32)
    counts, masked = [], n
    for i in range(k):
        c = masked if i == k - 1 else int(F32(masked) * shrink[i])
        counts.append(c)
        masked -= c
    return counts


def dllm_loop(n: int, alpha: np.ndarray) -> list[int]:
    """The former ``practice.dllm_counts`` loop."""
    alpha = alpha.astype(F32)
    k = alpha.size - 1
    masked_fraction = (F32(1) - alpha).astype(F32)
    if not (masked_fraction[1:] > 0).all():
        raise ValueError("denominator")
    counts, masked = [], n
    for j in range(k):
        ratio = F32(masked_fraction[k - 1 - j] / masked_fraction[k - j])
        c = min(masked, int(np.round(np.float64(masked) * (1.0 - float(ratio)))))
        if c < 0:
            raise ValueError("non-increasing")
        counts.append(c)
        masked -= c
        if masked == 0:
            break
    if masked:
        raise ValueError("leaves")
    return counts


def diffusers_loop(n: int, k: int) -> list[int]:
    """The former overflow path of ``practice.diffusers_uniform``: Python ints, ``ceil(j n / k)`` committed."""
    committed = [(j * n + k - 1) // k for j in range(k + 1)]
    return [b - a for a, b in zip(committed, committed[1:])]


def test_dream_matches_the_loop_on_random_inputs():
    rng = np.random.default_rng(0)
    for _ in range(400):
        n = int(rng.integers(1, 10 ** int(rng.integers(1, 7))))
        k = int(rng.integers(1, 400))
        eps = float(10.0 ** rng.uniform(-6, -0.01))
        assert P.dream(n, k, eps=eps).passes.tolist() == dream_loop(n, k, eps), (n, k, eps)


def test_dllm_matches_the_loop_on_random_inputs():
    rng = np.random.default_rng(1)
    for _ in range(150):
        n = int(rng.integers(1, 10 ** int(rng.integers(1, 7))))
        k = int(rng.integers(1, 400))
        for kind in ("linear", "cosine"):
            grid = P._dllm_alpha(kind)((np.arange(k + 1, dtype=np.float64) / k).astype(F32))
            assert P.dllm_counts(n, grid).tolist() == dllm_loop(n, grid), (n, k, kind)
        # random decreasing alpha grids from 1 at t = 0: arbitrary ratios, ties and flat stretches
        steps = rng.choice([0.0, 1.0, rng.uniform()], size=k) * rng.uniform(size=k)
        grid = (1.0 - np.concatenate([[0.0], np.cumsum(steps)]) / max(steps.sum(), 1e-9) * 0.999).astype(F32)
        grid[0] = 1.0
        try:
            expected = dllm_loop(n, grid)
        except ValueError:
            with pytest.raises(ValueError, match="alpha_grid"):
                P.dllm_counts(n, grid)
        else:
            assert P.dllm_counts(n, grid).tolist() == expected, (n, grid)


def test_dllm_refuses_what_the_loop_refused():
    with pytest.raises(ValueError, match="non-increasing in t"):
        P.dllm_counts(10, np.array([1.0, 0.2, 0.5], dtype=F32))  # alpha rises: a negative count
    with pytest.raises(ValueError, match=r"leaves \d+ of n = 10 positions masked"):
        P.dllm_counts(10, np.array([0.5, 0.2, 0.1], dtype=F32))  # alpha(0) != 1: nothing is ever revealed
    with pytest.raises(ValueError, match="< 1 at every t > 0"):
        P.dllm_counts(10, np.array([1.0, 1.0, 0.1], dtype=F32))


def test_diffusers_uniform_matches_python_ints_past_int64_products():
    rng = np.random.default_rng(2)
    for _ in range(300):
        n = int(rng.integers(1, 2**62, dtype=np.int64)) >> int(rng.integers(0, 62))
        n = max(n, 1)
        k = int(rng.integers(1, 3000))
        assert P.diffusers_uniform(n, k).passes.tolist() == diffusers_loop(n, k), (n, k)
    assert P.diffusers_uniform(2**62, 7).passes.tolist() == diffusers_loop(2**62, 7)
    assert P.diffusers_uniform(2**62 - 1, 2**20).passes.sum() == 2**62 - 1


def test_the_issue_cases_have_their_closed_forms():
    """The three slow calls of issue 19 (there at k = 2^24, timed in benchmarks/bench_native.py), checked by closed
    forms: the quota splits 2^62 evenly; dllm linear reveals round(M / (k - j)), which is 1, 1, 1 at the last passes
    for n = 3; Dream's shrink stays below 1/3 until the last pass, so it reveals 0 until then."""
    k = 2**20
    quota = P.diffusers_uniform(2**62, k).passes
    assert quota.size == k and (quota == 2**62 // k).all()
    assert P.dllm(3, k).passes.tolist() == [1, 1, 1]
    dream = P.dream(3, k).passes
    assert dream.size == k and dream[-1] == 3 and not dream[:-1].any()
