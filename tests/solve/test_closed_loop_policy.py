"""Closed-loop policy tables (SPEC §5.4): every state against an exact Fraction DP and against ``optimal_schedule``
of the suffix curve; the fast C++ search against the plain DP entry for entry."""

from __future__ import annotations

from fractions import Fraction

import numpy as np
import pytest
from curves import exact_error

import mdmsched
from mdmsched import _core

ULP = 2.0**-52


def policy_curves(seed: int, count: int) -> list[np.ndarray]:
    """Generic curves (random increments), step curves (increments 0/1/2: many exact ties) and 1-ulp tie curves."""
    rng = np.random.default_rng(seed)
    out = []
    for t in range(count):
        n = int(rng.integers(2, 15))
        if t % 3 == 0:
            inc = rng.random(n - 1)
        elif t % 3 == 1:
            inc = rng.choice([0.0, 1.0, 2.0], n - 1)
        else:
            inc = rng.choice([1.0, ULP, 2 * ULP, 0.0, 3.0, 1e-3], n - 1)
        out.append(np.concatenate(([0.0], np.cumsum(inc))))
    return out


def exact_values(z: np.ndarray) -> tuple[dict[tuple[int, int], Fraction], object]:
    """V_j(N) in Fractions for every feasible state (j <= n - N), by the plain backward DP, and the step cost."""
    zf = [Fraction(float(v)) for v in z]
    n = len(zf)
    prefix = [Fraction(0)]
    for v in zf:
        prefix.append(prefix[-1] + v)

    def cost(a: int, b: int) -> Fraction:
        return prefix[b] - prefix[a] - (b - a) * zf[a]

    values = {(n, 0): Fraction(0)}
    for j in range(1, n + 1):
        for N in range(n - j, -1, -1):
            values[(N, j)] = min(cost(N, M) + values[(M, j - 1)] for M in range(N + 1, n - j + 2) if (M, j - 1) in values)
    return values, cost


def test_fast_search_equals_plain_dp_entry_for_entry():
    for z in policy_curves(1, 240):
        for k in sorted({1, 2, z.size // 2 or 1, z.size}):
            fast = mdmsched.closed_loop_policy(z, k)
            slow = mdmsched.closed_loop_policy(z, k, reference=True)
            assert np.array_equal(fast.table, slow.table), (z.tolist(), k)
            assert np.array_equal(fast.errors, slow.errors), (z.tolist(), k)


def test_every_state_is_the_exact_optimum_with_the_smallest_first_step():
    for z in policy_curves(2, 150):
        n = z.size
        policy = mdmsched.closed_loop_policy(z, n)
        values, cost = exact_values(z)
        for N in range(n):
            for j in range(1, n - N + 1):
                minimisers = [c for c in range(1, n - N - j + 2)
                              if (N + c, j - 1) in values and cost(N, N + c) + values[(N + c, j - 1)] == values[(N, j)]]
                assert policy.count(N, j) == minimisers[0], (z.tolist(), N, j, policy.count(N, j), minimisers)
                assert policy.error(N, j) == float(values[(N, j)]), (z.tolist(), N, j)


def test_every_state_matches_optimal_schedule_of_the_suffix_on_generic_curves():
    # Generic curves have a unique optimum: the first step and the error of optimal_schedule(Z[N:] - Z[N], j).
    rng = np.random.default_rng(3)
    for _ in range(60):
        n = int(rng.integers(2, 24))
        z = np.concatenate(([0.0], np.cumsum(rng.random(n - 1) * rng.choice([1e-3, 1.0, 1e3]))))
        policy = mdmsched.closed_loop_policy(z, n)
        for N in range(n):
            suffix = z[N:] - z[N]
            for j in range(1, n - N + 1):
                for method in ("auto", "hull", "naive"):
                    best = mdmsched.optimal_schedule(suffix, j, method=method)
                    assert policy.count(N, j) == best.sizes[0], (z.tolist(), N, j, method)
                assert policy.error(N, j) == pytest.approx(best.error, rel=1e-12, abs=1e-300), (N, j)


def test_replay_from_the_start_is_the_open_loop_optimum():
    rng = np.random.default_rng(4)
    for _ in range(40):  # generic: the same schedule as optimal_schedule, bit for bit
        n = int(rng.integers(2, 60))
        z = np.concatenate(([0.0], np.cumsum(rng.random(n - 1))))
        k = int(rng.integers(1, n + 1))
        replay, best = mdmsched.closed_loop_policy(z, k).schedule(), mdmsched.optimal_schedule(z, k)
        assert np.array_equal(replay.sizes, best.sizes), (z.tolist(), k)
        assert replay.error == best.error
    for z in policy_curves(5, 90):  # ties: the replay is an exact optimum (its tie rule may differ from the solver's)
        exact = [Fraction(float(v)) for v in z]
        for k in range(1, z.size + 1):
            replay = mdmsched.closed_loop_policy(z, k).schedule()
            assert replay.k == k
            assert exact_error(exact, replay.sizes.tolist()) == exact_error(
                exact, mdmsched.optimal_schedule(z, k).sizes.tolist()), (z.tolist(), k)


def test_more_passes_than_positions_take_one_token_a_step_and_edges_are_zero():
    z = np.array([0.0, 0.5, 2.0, 2.5, 4.0, 7.0])
    policy = mdmsched.closed_loop_policy(z, 6)
    for N in range(6):
        for j in range(6 - N, 7):
            assert policy.count(N, j) == 1 and policy.error(N, j) == 0.0
    assert (policy.table[:, 0] == 0).all() and (policy.table[6] == 0).all()
    assert np.isinf(policy.errors[:6, 0]).all() and (policy.errors[6] == 0).all()
    assert policy.table.dtype == np.int32 and policy.table.shape == (7, 7)
    with pytest.raises(ValueError, match="read-only"):
        policy.table[0, 1] = 3  # read-only


def test_tiny_and_huge_curves_are_scaled_exactly():
    z = np.array([0.0, 1.0, 3.0, 3.5, 8.0])
    base = mdmsched.closed_loop_policy(z, 4)
    for factor in (2.0**-1060, 2.0**1010):
        scaled = mdmsched.closed_loop_policy(z * factor, 4)
        assert np.array_equal(scaled.table, base.table)
        finite = np.isfinite(base.errors)
        assert np.array_equal(scaled.errors[finite], base.errors[finite] * factor)


def test_from_an_estimate_and_per_block():
    class Estimate:  # duck-typed like CurveEstimate: its estimated curve is Z
        Z = np.array([0.0, 1.0, 1.5, 4.0])

    assert np.array_equal(mdmsched.closed_loop_policy(Estimate(), 2).table,
                          mdmsched.closed_loop_policy(Estimate.Z, 2).table)
    curves = [np.array([0.0, 1.0, 3.0]), np.array([0.0, 0.5, 0.5, 2.0])]
    blocks = mdmsched.BlockSchedule((mdmsched.Schedule(np.array([1, 2])), mdmsched.Schedule(np.array([2, 2]))))
    policies = mdmsched.block_policies(curves, blocks)
    assert [(p.n, p.k) for p in policies] == [(3, 2), (4, 2)]
    assert [(p.n, p.k) for p in mdmsched.block_policies(curves, [1, 3])] == [(3, 1), (4, 3)]
    with pytest.raises(ValueError, match="budgets"):
        mdmsched.block_policies(curves, [1])


def test_bad_input_names_the_argument():
    z = np.array([0.0, 1.0, 2.0])
    with pytest.raises(ValueError, match="k"):
        mdmsched.closed_loop_policy(z, 4)
    with pytest.raises(TypeError, match="k"):
        mdmsched.closed_loop_policy(z, 1.5)
    with pytest.raises(ValueError, match="Z"):
        mdmsched.closed_loop_policy(np.array([0.0, 2.0, 1.0]), 2)
    policy = mdmsched.closed_loop_policy(z, 2)
    with pytest.raises(ValueError, match="revealed"):
        policy.count(3, 1)
    with pytest.raises(ValueError, match="passes_left"):
        policy.count(0, 0)
    with pytest.raises(ValueError, match="passes_left"):
        policy.error(0, 3)
    with pytest.raises(TypeError, match="revealed"):
        policy.count(0.5, 1)
    with pytest.raises(ValueError, match="shape"):
        mdmsched.ClosedLoopPolicy(policy.table, policy.errors[:2])
    assert _core.closed_loop_memory_bytes(4096, 256) >= 4097 * 257 * 12


def test_step_counts_is_the_table_at_the_state_and_the_rest_once_passes_run_out():
    # The one lookup the closed-loop rules and the diffusers scheduler share (its decision logic, no torch needed).
    z = np.array([0.0, 0.5, 2.0, 2.5, 4.0, 7.0, 7.5])
    policy = mdmsched.closed_loop_policy(z, 4)
    masked = np.array([7, 5, 3, 1, 0, 6])
    spent = np.array([0, 1, 3, 2, 1, 4])
    want = [policy.table[0, 4], policy.table[2, 3], policy.table[4, 1], policy.table[6, 2], 0, 6]
    assert policy.step_counts(masked, spent).tolist() == [int(w) for w in want]
    assert policy.step_counts(masked, 9).tolist() == masked.tolist()  # budget spent: reveal the rest
    with pytest.raises(ValueError, match="masked"):
        policy.step_counts([8], 0)
    with pytest.raises(ValueError, match="spent"):
        policy.step_counts([3], -1)
    from mdmsched.adapters._plan import plan_policies

    assert plan_policies(policy) == [policy] and plan_policies([policy, policy]) == [policy, policy]
    assert plan_policies(mdmsched.Schedule(np.array([2, 5]))) is None
    with pytest.raises(TypeError, match="mixes"):
        plan_policies([policy, mdmsched.Schedule(np.array([7]))])
