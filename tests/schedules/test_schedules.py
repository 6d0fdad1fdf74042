"""Schedules from practice and theory (SPEC §6): validity, documented rounding worked out by hand, guarantees."""

from __future__ import annotations

import math

import numpy as np
import pytest
from curves import curves
from hypothesis import given, settings
from hypothesis import strategies as st

import mdmsched
from mdmsched import schedules as S
from mdmsched.distributions import markov_curve, mds_curve

n_and_k = st.integers(1, 300).flatmap(lambda n: st.tuples(st.just(n), st.integers(1, n)))


def _valid(s: mdmsched.Schedule, n: int) -> None:
    assert s.n == n and (s.sizes >= 1).all() and s.sizes.sum() == n


@settings(max_examples=300, deadline=None)
@given(nk=n_and_k)
def test_practice_schedules_are_valid(nk):
    n, k = nk
    for sched in (S.equal(n, k), S.cosine(n, k), S.cosine_squared(n, k), S.geometric_growth(n, k)):
        _valid(sched, n)
        assert sched.k <= k and sched.passes.size == k  # a peer rule may run passes revealing nothing (MaskGIT)
    _valid(S.geometric_growth(n), n)
    assert S.equal(n, k).k == k and S.geometric_growth(n, k).k == k and S.cosine_squared(n, k).k == k
    eq = S.equal(n, k).sizes
    assert eq.max() - eq.min() <= 1 and list(eq) == sorted(eq, reverse=True)  # remainder goes to the first steps


def test_maskgit_cosine_n256_k12_by_hand():
    # MaskGIT runs in float32: cos(pi/3) is 0.49999997 there, so after step 8 of 12 floor(256 * 0.49999997) = 127
    # stay masked, not 128
    # (the float64 formula gives [3, 6, 11, 15, 18, 22, 26, 27, 31, 31, 33, 33]).
    assert float(np.float32(256) * np.cos(np.float32(np.pi / 2) * (np.float32(8) * (np.float32(1) / np.float32(12))))) < 128
    assert S.cosine(256, 12).tolist() == [3, 6, 11, 15, 18, 22, 26, 28, 30, 31, 33, 33]
    assert S.cosine(256, 12).name.startswith("MaskGIT cosine")


def test_cosine_squared_is_a_symmetric_bell():
    s = S.cosine_squared(256, 12).tolist()
    assert s == s[::-1] and max(s) == s[len(s) // 2] and s[0] < s[3]


def test_geometric_and_equal_by_hand():
    assert S.geometric_growth(100).tolist() == [1, 1, 2, 4, 8, 16, 32, 36]
    assert not hasattr(S, "geometric")  # one name per idea: geometric_growth (not DUS, which is practice.dus)
    assert S.equal(10, 4).tolist() == [3, 3, 2, 2]
    assert S.from_mask_fractions(10, [0.55, 0.2, 0.0]).tolist() == [4, 4, 2]  # M = floor(5.5 + .5) = 6, 2, 0
    # M = 4, 3, 0: N = 0, 0, 1 -> the first step is clamped to reveal one token (N_1 = 1), exactly 3 steps
    assert S.from_mask_fractions(4, [0.9, 0.8, 0.0]).tolist() == [1, 1, 2]
    assert S.from_mask_fractions(2, [0.9, 0.8, 0.5, 0.0]).tolist() == [1, 1]  # k > n: empty steps dropped


@settings(max_examples=200, deadline=None)
@given(n=st.integers(1, 400), tc=st.floats(0, 50), eps=st.floats(1e-3, 10))
def test_tc_and_dtc_constructions(n, tc, eps):
    zeta = 1 + math.ceil(tc / eps)
    for sched, grows in ((S.tc_schedule(n, tc, eps), False), (S.dtc_schedule(n, tc, eps), True)):
        _valid(sched, n)
        assert sched.k <= 2 + (1 + math.log(n)) * zeta
        sizes = sched.sizes if grows else sched.sizes[::-1]
        assert (np.diff(sizes) >= 0).all()  # TC: shrinking steps; DTC: growing steps
    if zeta >= n + 1:
        assert S.tc_schedule(n, tc, eps).k == n
    dtc = S.dtc_schedule(n, tc, eps).sizes
    revealed = np.cumsum(dtc)[:-1]
    if zeta > 1:  # each later step reveals at most 1/(zeta-1) of what is already revealed, or a single token
        assert all(s == 1 or s <= r / (zeta - 1) + 1e-9 for s, r in zip(dtc[1:], revealed))


@settings(max_examples=150, deadline=None)
@given(z=curves(max_n=200), frac=st.floats(0.01, 1.0))
def test_tc_dtc_guarantees_hold(z, frac):
    n = z.size
    tc, dtc = float(np.sum(z)), float(n * z[-1] - np.sum(z))
    tol = 1e-9 * max(1.0, tc + dtc)
    if tc > 0:
        eps = frac * tc
        s = S.tc_schedule(n, tc, eps)
        assert mdmsched.schedule_error(z, s) <= min(eps, s.bound) + tol
    if dtc > 0:
        eps = frac * dtc
        s = S.dtc_schedule(n, dtc, eps)
        assert mdmsched.schedule_error(z, s) <= min(eps, s.bound) + tol


@settings(max_examples=100, deadline=None)
@given(z=curves(min_n=8, max_n=300), budget=st.integers(10, 80))
def test_budget_schedules(z, budget):
    n = z.size
    zeta = math.floor((budget - 2) / (1 + math.log(n)))
    if zeta < 2:
        with pytest.raises(ValueError, match="too small"):
            S.budget_schedule(n, budget)
        return
    tc, dtc = float(np.sum(z)), float(n * z[-1] - np.sum(z))
    for kind, x in (("tc", tc), ("dtc", dtc)):
        s = S.budget_schedule(n, budget, kind)
        _valid(s, n)
        assert s.k <= budget
        assert mdmsched.schedule_error(z, s) <= x / (zeta - 1) + 1e-9 * max(1.0, x)


def test_li_cai_bound_holds_and_austin_is_labelled():
    rng = np.random.default_rng(0)
    for _ in range(50):
        n = int(rng.integers(2, 200))
        z = np.concatenate(([0.0], np.cumsum(rng.exponential(1.0, n - 1))))
        for s in (S.equal(n, max(1, n // 7)), S.cosine(n, max(1, n // 5)), S.geometric_growth(n)):
            assert mdmsched.schedule_error(z, s) <= S.li_cai_bound(z, s) + 1e-9
    a = S.austin_schedule(256, 3.0, 0.5)
    _valid(a, 256)
    assert "no proven constant" in a.name and a.bound is None
    singles = round(math.sqrt(3.0 * 256 / 0.5))
    assert a.sizes[:singles].tolist() == [1] * singles


def test_continuum_is_near_optimal_on_smooth_curves():
    x = np.arange(2000) / 2000
    for z in (1 - np.exp(-5 * x), x**2, np.sqrt(x), np.log1p(20 * x)):
        for k in (10, 40):
            cont = S.continuum_schedule(z, k)
            opt = mdmsched.optimal_schedule(z, k).error
            assert cont.k == k and cont.error >= opt - 1e-9
            assert cont.error <= 1.05 * opt
            approx = np.sum(np.sqrt(np.diff(z))) ** 2 / (2 * k)
            assert opt == pytest.approx(approx, rel=0.1)


def test_hardness_pair_uniform_vs_code():
    # Uniform on F_q^n: Z = 0 (one step exact). RS code [n, d]: the optimal 2-step schedule is (d, n - d), error 0.
    n, d, q = 12, 4, 13
    z_uniform = np.zeros(n)
    z_code = mds_curve(n, d, q)
    best_code = mdmsched.optimal_schedule(z_code, 2)
    assert best_code.tolist() == [d, n - d] and best_code.error == 0
    one_step = mdmsched.optimal_schedule(z_uniform, 1)
    assert mdmsched.schedule_error(z_uniform, best_code) == 0 and one_step.error == 0
    assert mdmsched.schedule_error(z_code, one_step) == pytest.approx((n - d) * math.log(q))  # TC of the code
    # A 2-step schedule tuned for another code dimension pays about a whole step of log q per misplaced token.
    assert mdmsched.schedule_error(z_code, [d + 2, n - d - 2]) == pytest.approx(2 * math.log(q))


def _brute_split(frontiers, total):
    best = None
    def rec(i, left, acc, alloc):
        nonlocal best
        if i == len(frontiers):
            if left == 0 and (best is None or acc < best[0] - 1e-12):
                best = (acc, alloc)
            return
        for c in range(1, min(left - (len(frontiers) - i - 1), frontiers[i].size) + 1):
            rec(i + 1, left - c, acc + frontiers[i][c - 1], [*alloc, c])
    rec(0, total, 0.0, [])
    return best


def test_blockwise_optimal_split_matches_brute_force():
    rng = np.random.default_rng(1)
    for _ in range(20):
        b, blocks = 6, int(rng.integers(2, 4))
        n = b * blocks
        curves_ = [np.concatenate(([0.0], np.cumsum(rng.exponential(rng.uniform(0.1, 2), b - 1)))) for _ in range(blocks)]
        total = int(rng.integers(blocks, n + 1))
        s = S.blockwise(n, b, total_steps=total, curves=curves_)
        _valid(s, n)
        assert s.k == total
        best = _brute_split([mdmsched.error_frontier(c) for c in curves_], total)
        assert s.error == pytest.approx(best[0], abs=1e-9)


def test_blockwise_even_split_and_errors():
    s = S.blockwise(100, 32, total_steps=10)
    assert isinstance(s, mdmsched.BlockSchedule) and s.block_lengths == [32, 32, 32, 4] and s.error is None
    assert s.tolist() == [11, 11, 10, 11, 11, 10, 16, 16, 2, 2]
    assert s.num_transfer_tokens().tolist() == [[11, 11, 10], [11, 11, 10], [16, 16, 0], [2, 2, 0]]
    assert S.blockwise(64, 32, steps_per_block=[2, 4]).tolist() == [16, 16, 8, 8, 8, 8]
    with pytest.raises(ValueError, match="exactly one"):
        S.blockwise(64, 32)
    with pytest.raises(ValueError, match="total_steps"):
        S.blockwise(64, 32, total_steps=1)


@pytest.mark.parametrize(
    ("call", "fragment"),
    [
        (lambda: S.equal(10, 0), "k must be >= 1"),
        (lambda: S.equal(0, 1), "n must be >= 1"),
        (lambda: S.cosine_squared(5, 6), "1 <= k"),  # the peer rules (equal, cosine) accept k > n
        (lambda: S.tc_schedule(10, 1.0, 0.0), "eps must be > 0"),
        (lambda: S.tc_schedule(10, -1.0, 0.1), "tc"),
        (lambda: S.dtc_schedule(10, float("nan"), 0.1), "dtc"),
        (lambda: S.from_mask_fractions(10, [0.5, 0.6, 0.0]), "non-increasing"),
        (lambda: S.from_mask_fractions(10, [0.5, 0.1]), "last fraction"),
        (lambda: S.from_mask_fractions(10, [1.5, 0.0]), r"\[0, 1\]"),
        (lambda: S.geometric_growth(10, ratio=1.0), "ratio"),
        (lambda: S.budget_schedule(1000, 5), "too small"),
        (lambda: S.budget_schedule(100, 30, kind="x"), "kind"),
    ],
)
def test_bad_schedule_arguments(call, fragment):
    with pytest.raises((ValueError, TypeError), match=fragment):
        call()


def test_markov_example_compare_table():
    z = markov_curve(np.array([[0.95, 0.05], [0.1, 0.9]]), 256)
    table = mdmsched.compare(z, 16)
    assert table.rows[0].name.startswith("optimal") and table.rows[0].ratio == pytest.approx(1.0)
    for row in table.rows:
        assert row.error == pytest.approx(mdmsched.schedule_error(z, row.sizes))
        assert row.error >= table.optimal_error - 1e-12 or row.k != 16
        assert row.error <= row.li_cai + 1e-9
    assert {d["name"] for d in table.to_dicts()} == {r.name for r in table.rows}
    assert "x optimal" in str(table)
    custom = mdmsched.compare(z, 16, schedules=[[16] * 16])
    assert custom.rows[1].error == pytest.approx(mdmsched.schedule_error(z, [16] * 16))
