"""Time grids for Dream / MDLM / bd3lms (issue 18.3): Dream's count rule run in torch float32 on the grid reproduces
the schedule (round trip against ``practice.dream`` and the peers' fixture); the ddpm grid reproduces the counts in
expectation (exactly, and by simulation over many seeds)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from mdmsched.adapters import ddpm_time_grid, dream_time_grid
from mdmsched.schedule import Schedule
from mdmsched.schedules import practice


def dream_counts(timesteps: Any, n: int) -> list[int]:
    """Dream ``_sample``'s counts on a time grid, in torch float32 as Dream computes them: the masked count
    (``mask_index.sum() / batch``, a float tensor) times ``1 - s / t``, truncated; the last pass reveals the rest."""
    torch = pytest.importorskip("torch")
    steps = len(timesteps) - 1
    masked = torch.tensor(float(n), dtype=torch.float32)
    out = []
    for i in range(steps):
        t, s = timesteps[i], timesteps[i + 1]
        c = int(masked * (1 - s / t)) if i < steps - 1 else int(masked)
        out.append(c)
        masked = masked - c
    return out


def _fixture() -> list[dict[str, Any]]:
    for parent in Path(__file__).resolve().parents:
        for path in (parent / "tests" / "data" / "practice_schedules.json",
                     parent / "shared" / "peers" / "practice_schedules.json"):
            if path.is_file():
                return [c for c in json.loads(path.read_text())["cases"] if c["rule"] == "dream"]
    pytest.skip("the peers' fixture practice_schedules.json is absent")


def test_dream_round_trip_on_the_fixture() -> None:
    torch = pytest.importorskip("torch")
    cases = _fixture()
    assert cases
    for case in cases:
        n, k, eps = case["args"]["n"], case["args"]["steps"], case["args"]["eps"]
        # the test's Dream rule on Dream's own grid gives the fixture: the rule is Dream's
        assert dream_counts(torch.linspace(1, eps, k + 1), n) == case["counts"], case
        grid = dream_time_grid(practice.dream(n, k, eps), eps)
        assert grid.dtype == np.float32 and grid[0] == 1 and np.all(np.diff(grid) < 0)
        assert dream_counts(torch.tensor(grid), n) == case["counts"], case


def test_dream_round_trip_on_random_schedules_with_zero_passes() -> None:
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(0)
    for _ in range(300):
        n = int(rng.choice([5, 64, 1000, 2**20 + 7]))
        k = int(rng.integers(1, min(n, 40) + 1))
        sizes = np.diff(np.concatenate(([0], np.sort(rng.choice(np.arange(1, n), k - 1, replace=False)), [n])))
        passes = list(sizes)
        for _ in range(int(rng.integers(0, 3))):  # passes that reveal nothing (not the last: it takes the rest)
            passes.insert(int(rng.integers(0, len(passes))), 0)
        schedule = Schedule(sizes, passes=passes)
        grid = dream_time_grid(schedule)
        assert np.all(np.diff(grid) < 0) and grid[-1] > 0
        assert dream_counts(torch.tensor(grid), n) == [int(p) for p in schedule.passes], (n, passes)


def test_ddpm_grid_reproduces_the_counts_in_expectation() -> None:
    rng = np.random.default_rng(1)
    for _ in range(20):
        n = int(rng.integers(4, 200))
        k = int(rng.integers(2, min(n, 12) + 1))
        schedule = Schedule(np.diff(np.concatenate(([0], np.sort(rng.choice(np.arange(1, n), k - 1, replace=False)),
                                                     [n]))))
        eps = 1e-3
        grid = ddpm_time_grid(schedule, eps)
        assert grid[0] == 1 and np.all(np.diff(grid) < 0) and grid[-1] == eps
        # exact expectation: each masked position stays masked from t_i to t_{i+1} with probability t_{i+1} / t_i
        stay = grid[1:] / grid[:-1]
        expected_masked = n * np.concatenate(([1.0], np.cumprod(stay)))
        expected_counts = -np.diff(expected_masked)
        np.testing.assert_allclose(expected_counts[:-1], schedule.sizes[:-1], rtol=1e-12)
        assert abs(expected_counts[-1] - (schedule.sizes[-1] - eps * n)) < 1e-9 * n
        # the sampler's random path, 4000 seeds at once (vectorised binomial thinning)
        seeds = 4000
        masked = np.full(seeds, n)
        counts = np.zeros((seeds, k))
        for i in range(k):
            keep = rng.binomial(masked, stay[i])
            counts[:, i] = masked - keep
            masked = keep
        mean, se = counts.mean(axis=0), counts.std(axis=0, ddof=1) / np.sqrt(seeds) + 1e-12
        z = (mean - expected_counts) / se
        assert np.all(np.abs(z) < 5), (n, schedule.tolist(), z)


def test_errors() -> None:
    with pytest.raises(TypeError, match="schedule must be a mdmsched Schedule"):
        dream_time_grid([1, 2])
    with pytest.raises(ValueError, match="eps must be < 1"):
        dream_time_grid(Schedule([1, 2]), eps=1.0)
    with pytest.raises(ValueError, match="2\\*\\*22"):
        dream_time_grid(Schedule([2**22]))
    with pytest.raises(ValueError, match="must be below"):
        ddpm_time_grid(Schedule([99, 1]), eps=0.5)
    # the last time: eps when it is below t_{k-1}, else half of t_{k-1}
    assert dream_time_grid(Schedule([99, 1]), eps=0.5)[-1] < dream_time_grid(Schedule([99, 1]), eps=0.5)[-2]
