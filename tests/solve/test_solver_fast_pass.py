"""Issue 28, item 14: the penalty search's DP layer runs in double precision with a near-tie check and falls back to
long double only where a comparison came within its rounding bound. Wherever the check passes, its breakpoints must be
the long-double layer's, bit for bit, and an exact penalized optimum (Fraction oracle); exact ties must be flagged.
"""

from __future__ import annotations

from fractions import Fraction

import numpy as np
import pytest
from test_solver_ties import tie_curves

import mdmsched
from mdmsched import _core


def step_cost(h: list[Fraction], l: list[Fraction], a: int, b: int) -> Fraction:
    """Exact U(a, b) = sum_{i=a+2}^{b} (l_i - h_{a+1}) in 1-based positions (SPEC §5.3)."""
    return sum((l[i] - h[a] for i in range(a + 1, b)), Fraction(0))


def exact_penalized_optimum(h: list[Fraction], l: list[Fraction], lam: Fraction) -> Fraction:
    """min over schedules of U + lam * steps by the plain O(n^2) DP in exact arithmetic."""
    n = len(h)
    best = [Fraction(0)] + [Fraction(0)] * n
    for b in range(1, n + 1):
        best[b] = min(best[a] + step_cost(h, l, a, b) for a in range(b)) + lam
    return best[n]


def penalized_value(h: list[Fraction], l: list[Fraction], lam: Fraction, bp: list[int]) -> Fraction:
    return sum((step_cost(h, l, a, b) + lam for a, b in zip(bp[:-1], bp[1:])), Fraction(0))


def bands(seed: int, count: int) -> list[tuple[np.ndarray, np.ndarray]]:
    """(h, l) pairs: smooth and rough curves, one-curve (h is l) and two-curve bands (l >= h), ties included."""
    rng = np.random.default_rng(seed)
    out: list[tuple[np.ndarray, np.ndarray]] = [(z, z) for z in tie_curves(seed, count // 2)]
    for _ in range(count - len(out)):
        n = int(rng.integers(2, 14))
        h = np.concatenate(([0.0], np.cumsum(rng.exponential(1.0, n - 1))))
        if rng.random() < 0.3:
            h = np.round(h)  # integer increments: exact ties between schedules
        l = h + (rng.exponential(0.5, n) if rng.random() < 0.5 else 0.0)
        out.append((h, l))
    return out


def lambdas(h: np.ndarray, l: np.ndarray, rng: np.random.Generator) -> list[float]:
    """Penalties across the useful range, plus exact small integers (where integer curves tie)."""
    top = max(float(l.sum()), 1.0)
    return [0.0, 0.5, 1.0, 2.0, 3.0, *(top * rng.random(6) ** 3)]


def test_checked_layer_is_the_long_double_layer_and_exactly_optimal():
    rng = np.random.default_rng(28)
    checked = flagged = 0
    for h, l in bands(0, 120):
        hf, lf = [Fraction(float(v)) for v in h], [Fraction(float(v)) for v in l]
        for lam in lambdas(h, l, rng):
            fast = _core.penalized_pass(h, l, lam, True)
            slow = _core.penalized_pass(h, l, lam, False)
            if fast.size == 0:
                flagged += 1
                continue
            checked += 1
            assert fast.tolist() == slow.tolist(), (h.tolist(), l.tolist(), lam)
            opt = exact_penalized_optimum(hf, lf, Fraction(lam))
            assert penalized_value(hf, lf, Fraction(lam), fast.tolist()) == opt, (h.tolist(), l.tolist(), lam)
    # Both paths ran (the cases are built to tie often: half are tie curves, and integer penalties meet integer curves).
    assert flagged > 50 and checked > 2 * flagged, (checked, flagged)


def test_exact_tie_is_flagged():
    # Z = (0, 1, 2) at lambda = 2: one step (error 3) and two steps (error 1) both cost 5.
    z = np.array([0.0, 1.0, 2.0])
    assert _core.penalized_pass(z, z, 2.0, True).size == 0
    assert _core.penalized_pass(z, z, 2.5, True).tolist() == [0, 3]  # no tie: one step (5.5) beats two (6)


def test_one_ulp_tie_is_flagged():
    # Z = (0, 1, 2 + 2^-52...) gives a tie at lambda = 2 up to one ulp: double rounding cannot be trusted there.
    z = np.array([0.0, 1.0, np.nextafter(2.0, 3.0)])
    assert _core.penalized_pass(z, z, 2.0, True).size == 0


@pytest.mark.parametrize("kind", ["smooth", "random"])
def test_generic_curves_are_rarely_flagged(kind):
    # The speed of request-sized solves rests on this: on curves without ties the check passes nearly always.
    n = 256
    rng = np.random.default_rng(1)
    if kind == "smooth":
        z = 1.0 - np.exp(-8.0 * np.arange(n) / n)
    else:
        z = np.concatenate(([0.0], np.cumsum(rng.exponential(1.0 / n, n - 1))))
    lams = np.geomspace(1e-8, 1.0, 200)
    flagged = sum(_core.penalized_pass(z, z, float(lam), True).size == 0 for lam in lams)
    assert flagged <= 4, flagged


def test_huge_magnitudes_take_the_long_double_layer():
    z = np.array([0.0, 1e300, 2e300, 3e300])  # cross products would overflow double
    assert _core.penalized_pass(z, z, 1e300, True).size == 0
    assert mdmsched.optimal_schedule(z, 2, method="lagrangian").error == 2e300


def test_hook_rejects_a_bad_penalty():
    z = np.array([0.0, 1.0])
    for lam in (-1.0, float("nan"), float("inf")):
        with pytest.raises(ValueError, match="lambda"):
            _core.penalized_pass(z, z, lam, True)
