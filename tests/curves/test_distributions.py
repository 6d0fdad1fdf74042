"""Example distributions: closed-form curves against enumeration (SPEC §5-6)."""

from __future__ import annotations

import math

import numpy as np
import pytest

import mdmsched
from mdmsched import reference
from mdmsched.curves import families as D


def test_uniform_and_product_have_flat_curves():
    np.testing.assert_allclose(mdmsched.information_curve(D.uniform(5, 3)), 0.0, atol=1e-12)
    p = D.product([[0.2, 0.8], [0.1, 0.3, 0.6], [0.5, 0.5]])
    np.testing.assert_allclose(reference.information_curve(p), 0.0, atol=1e-12)


@pytest.mark.parametrize(("n", "d", "q"), [(4, 2, 5), (6, 3, 7), (5, 1, 7), (6, 6, 7), (8, 2, 11)])
def test_reed_solomon_matches_mds_closed_form(n, d, q):
    code = D.reed_solomon(n, d, q)
    assert code.outcomes.shape[0] == q**d
    z = mdmsched.information_curve(code)
    np.testing.assert_allclose(z, D.mds_curve(n, d, q), atol=1e-10)  # q^d equal masses: rounding ~1e-13 each
    # TC = sum H(X_i) - H(X): each single marginal's masses are sums of q^(d-1) equal masses (relative rounding up to
    # ~3e-13 at q^d = 7^6), which n entropies add up; H(X) itself is within 3e-14 (blockwise entropy sums)
    assert mdmsched.total_correlation(code) == pytest.approx((n - d) * math.log(q), abs=1e-11)
    expected_dtc = d * math.log(q) if d < n else 0.0  # d = n is all of F_q^n: uniform, no dependence
    assert mdmsched.dual_total_correlation(code) == pytest.approx(expected_dtc, abs=1e-9)


@pytest.mark.parametrize(("n", "q"), [(3, 2), (6, 2), (4, 3), (10, 2)])
def test_parity_code(n, q):
    np.testing.assert_allclose(mdmsched.information_curve(D.parity_code(n, q)), D.mds_curve(n, n - 1, q), atol=1e-12)


@pytest.mark.parametrize("seed", range(5))
def test_random_linear_code_rank_entropies(seed):
    dist, g = D.random_linear_code(8, 3, 3, seed=seed)
    np.testing.assert_allclose(mdmsched.average_entropies(dist), D.linear_code_average_entropies(g, 3), atol=1e-12)


@pytest.mark.parametrize("seed", range(6))
def test_markov_closed_form_matches_enumeration(seed):
    rng = np.random.default_rng(seed)
    q = int(rng.integers(2, 4))
    p = rng.dirichlet(np.full(q, [0.3, 1.0, 3.0][seed % 3]), size=q)
    for n in (1, 2, 3, 7, 10 if q == 2 else 8):
        np.testing.assert_allclose(D.markov_curve(p, n), reference.information_curve(D.markov_chain(p, n)), atol=1e-12)


@pytest.mark.parametrize(("coupling", "field"), [(0.5, 0.0), (1.2, 0.4), (-0.7, 0.2)])
def test_ising_chain(coupling, field):
    p = D.ising_chain(coupling, field)
    np.testing.assert_allclose(p.sum(axis=1), 1.0)
    pi = D.stationary_distribution(p)
    # Detailed balance holds for the bulk Ising chain (a reversible Markov chain).
    np.testing.assert_allclose(pi[:, None] * p, (pi[:, None] * p).T, atol=1e-12)
    # Bulk Ising weights: p(x) proportional to exp(J sum s_i s_{i+1} + h sum s_i) up to boundary factors.
    n = 8
    tensor = D.markov_chain(p, n)
    np.testing.assert_allclose(D.markov_curve(p, n), reference.information_curve(tensor), atol=1e-12)
    spins = np.array([-1.0, 1.0])
    x, y = np.zeros(n, dtype=int), np.zeros(n, dtype=int)
    y[3], y[4] = 1, 1  # flip an interior pair of spins; the probability ratio must follow the Ising energy
    energy = lambda s: coupling * np.sum(spins[s][:-1] * spins[s][1:]) + field * np.sum(spins[s][1:-1])
    ratio = tensor[tuple(y)] / tensor[tuple(x)]
    assert ratio == pytest.approx(math.exp(energy(y) - energy(x)), rel=1e-9)


def test_markov_curve_against_monte_carlo_at_n200():
    p = np.array([[0.8, 0.15, 0.05], [0.1, 0.7, 0.2], [0.3, 0.3, 0.4]])
    n = 200
    z = D.markov_curve(p, n)
    pi = D.stationary_distribution(p)
    h_pi = -np.sum(pi * np.log(pi))

    def cond_entropy(gap: int) -> float:
        power = np.linalg.matrix_power(p, gap)
        return float(pi @ (-np.sum(power * np.log(power), axis=1)))

    rng = np.random.default_rng(0)
    cache: dict[int, float] = {}
    for m in (2, 10, 50, 150):
        draws = []
        for _ in range(400):  # H(X_S) of a random m-subset from the chain's factorisation along sorted positions
            s = np.sort(rng.choice(n, size=m, replace=False))
            draws.append(h_pi + sum(cache.setdefault(int(g), cond_entropy(int(g))) for g in np.diff(s)))
        e_mc, se = np.mean(draws), np.std(draws, ddof=1) / math.sqrt(len(draws))
        e_exact = h_pi * m - float(np.sum(z[:m]))  # e_m = m e_1 - sum_{i<=m} Z_i, and e_1 = H(pi)
        assert abs(e_mc - e_exact) <= 4 * se + 1e-12


def test_mixture_and_guards():
    a, b = D.uniform(3, 2), D.parity_code(3, 2)
    m = D.mixture([a, b], [0.25, 0.75])
    assert m.sum() == pytest.approx(1.0) and m[0, 0, 1] == pytest.approx(0.25 / 8)
    with pytest.raises(ValueError, match="prime"):
        D.reed_solomon(5, 2, 4)
    with pytest.raises(ValueError, match="prime larger than n"):
        D.reed_solomon(7, 2, 7)
    with pytest.raises(ValueError, match="cells"):
        D.uniform(40, 2)
    with pytest.raises(ValueError, match="row of P"):
        D.markov_curve([[0.5, 0.6], [0.5, 0.5]], 10)
    with pytest.raises(ValueError, match="square"):
        D.markov_curve([[0.5, 0.5]], 10)
