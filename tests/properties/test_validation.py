"""Bad input to the solver API gets a clear TypeError/ValueError naming the argument (SPEC §7)."""

from __future__ import annotations

import numpy as np
import pytest

import mdmsched

GOOD = np.array([0.0, 0.1, 0.3, 0.3, 0.7])


@pytest.mark.parametrize(
    ("z", "exc", "fragment"),
    [
        ([0.0, 0.5, 0.2], ValueError, "non-decreasing"),
        ([0.0, np.nan, 1.0], ValueError, "finite"),
        ([0.0, np.inf], ValueError, "finite"),
        ([0.3, 0.5], ValueError, "Z_1 must be 0"),
        ([], ValueError, "at least one"),
        ([[0.0, 1.0]], ValueError, "1-D"),
        (0.0, ValueError, "1-D"),
        (["a", "b"], TypeError, "real numbers"),
        ([0j, 1j], TypeError, "real numbers"),
        ([False, True], TypeError, "real numbers"),
        (np.array([0.0, 1.0], dtype=object), TypeError, "real numbers"),
    ],
)
def test_bad_curves(z, exc, fragment):
    for call in (
        lambda: mdmsched.optimal_schedule(z, 1),
        lambda: mdmsched.error_frontier(z),
        lambda: mdmsched.schedule_error(z, [1]),
        lambda: mdmsched.min_steps(z, 0.1),
    ):
        with pytest.raises(exc, match=fragment):
            call()


@pytest.mark.parametrize(
    ("k", "exc", "fragment"),
    [(0, ValueError, "1 <= k <= n = 5"), (6, ValueError, "got 6"), (-3, ValueError, "got -3"),
     (2.0, TypeError, "integer"), (True, TypeError, "integer"), ("3", TypeError, "integer"), (None, TypeError, "integer")],
)
def test_bad_step_counts(k, exc, fragment):
    with pytest.raises(exc, match=fragment):
        mdmsched.optimal_schedule(GOOD, k)


@pytest.mark.parametrize("k_max", [0, 6])
def test_bad_frontier_k_max(k_max):
    with pytest.raises(ValueError, match="k_max"):
        mdmsched.error_frontier(GOOD, k_max)


@pytest.mark.parametrize(
    ("sizes", "exc", "fragment"),
    [([2, 2], ValueError, "sum to n = 5, got 4"), ([3, 3], ValueError, "got 6"), ([5, 0], ValueError, "positive"),
     ([6, -1], ValueError, "positive"), ([], ValueError, "non-empty"), ([[5]], ValueError, "1-D"),
     ([2.5, 2.5], TypeError, "integers"), (["5"], TypeError, "integers"), ([2**62, 2**62, -(2**62)], ValueError, "positive")],
)
def test_bad_sizes(sizes, exc, fragment):
    with pytest.raises(exc, match=fragment):
        mdmsched.schedule_error(GOOD, sizes)


@pytest.mark.parametrize(("eps", "exc"), [(-1.0, ValueError), (np.nan, ValueError), (np.inf, ValueError), ("x", TypeError)])
def test_bad_eps(eps, exc):
    with pytest.raises(exc, match="eps"):
        mdmsched.min_steps(GOOD, eps)


def test_bad_method():
    with pytest.raises(ValueError, match="method must be one of"):
        mdmsched.optimal_schedule(GOOD, 2, method="magic")  # type: ignore[arg-type]


def test_memory_guard_refuses_huge_tables_before_allocating():
    z = np.zeros(3_000_000)
    with pytest.raises(ValueError, match="GiB of scratch memory"):
        mdmsched.optimal_schedule(z, 1_000_000, method="hull")


def test_float32_lists_and_strided_views_are_converted():
    z64 = np.linspace(0, 1, 40) ** 2
    base = mdmsched.optimal_schedule(z64, 6)
    for variant in (z64.astype(np.float32), z64.tolist(), np.repeat(z64, 2)[::2], np.asarray(z64, order="F"),
                    (z64 * 1000).astype(np.int64)):
        sched = mdmsched.optimal_schedule(variant, 6)
        assert sched.k == 6
    assert mdmsched.optimal_schedule(np.repeat(z64, 2)[::2], 6).tolist() == base.tolist()
    assert mdmsched.schedule_error(z64, np.array([10, 10, 10, 10], dtype=np.int32)) == pytest.approx(
        mdmsched.schedule_error(z64, [10, 10, 10, 10]))


def test_tiny_noise_is_cleaned_and_larger_noise_needs_projection():
    z = np.array([1e-13, 0.5, 0.5 - 1e-12, 1.0])
    assert mdmsched.optimal_schedule(z, 2).k == 2  # within tolerance: accepted
    noisy = np.array([0.0, 0.5, 0.4, 1.0])
    with pytest.raises(ValueError, match="project_monotone"):
        mdmsched.optimal_schedule(noisy, 2)
    projected = mdmsched.project_monotone(noisy)
    np.testing.assert_allclose(projected, [0.0, 0.45, 0.45, 1.0])
    assert mdmsched.optimal_schedule(projected, 2).k == 2


def test_project_monotone_is_the_l2_projection():
    rng = np.random.default_rng(5)
    for _ in range(50):
        y = rng.normal(size=rng.integers(1, 12)).cumsum() * rng.choice([-1, 1])
        p = mdmsched.project_monotone(y)
        assert p[0] == 0 and (np.diff(p) >= 0).all()
        # No valid curve nearby is closer: compare with random valid curves and small perturbations of p.
        best = np.sum((p - y) ** 2)
        for _ in range(200):
            cand = np.concatenate(([0.0], np.maximum.accumulate(np.abs(p[1:] + rng.normal(0, 0.1, p.size - 1)))))
            assert np.sum((cand - y) ** 2) >= best - 1e-12


def test_schedule_object():
    s = mdmsched.optimal_schedule(GOOD, 2)
    assert s.sizes.dtype == np.int64 and s.breakpoints.tolist() == [0, *np.cumsum(s.sizes).tolist()]
    assert s.n == 5 and s.k == 2 and len(s) == 2
    assert "k=2" in repr(s) and "error=" in repr(s)
    with pytest.raises(ValueError, match="read-only"):
        s.sizes[0] = 3  # read-only
    with pytest.raises(AttributeError):
        s.error = 0.0  # type: ignore[misc]
    assert mdmsched.schedule_error(GOOD, s) == pytest.approx(s.error)
    assert mdmsched.Schedule.from_breakpoints(s.breakpoints).tolist() == s.tolist()
    with pytest.raises(ValueError, match="positive"):
        mdmsched.Schedule([2, 0, 3])
