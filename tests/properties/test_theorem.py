"""The paper's main theorem (SPEC §3), checked by brute force: the sampler's expected KL equals err(Z, s)."""

from __future__ import annotations

from itertools import combinations

import numpy as np
from curves import compositions
from dists import dense_distributions
from hypothesis import given, settings

import mdmsched


def _ordered_partitions(positions: tuple[int, ...], sizes: tuple[int, ...]):  # type: ignore[no-untyped-def]
    if not sizes:
        yield ()
        return
    for first in combinations(positions, sizes[0]):
        rest = tuple(i for i in positions if i not in first)
        for tail in _ordered_partitions(rest, sizes[1:]):
            yield (first, *tail)


def _log_marginal(p: np.ndarray, keep: tuple[int, ...]) -> np.ndarray:
    """log mu(x_keep), broadcastable to p's shape (-inf where zero)."""
    summed = tuple(i for i in range(p.ndim) if i not in keep)
    with np.errstate(divide="ignore"):
        return np.log(p.sum(axis=summed, keepdims=True))


def expected_kl_brute_force(p: np.ndarray, sizes: tuple[int, ...]) -> float:
    """Average over every ordered partition of KL(mu || nu), nu = product of the true conditionals per step."""
    n = p.ndim
    support = p > 0
    total, count = 0.0, 0
    for partition in _ordered_partitions(tuple(range(n)), sizes):
        log_nu = np.zeros(p.shape)
        revealed: tuple[int, ...] = ()
        for step in partition:
            base = _log_marginal(p, revealed)
            for i in step:  # each position of the step drawn independently from mu(x_i | revealed)
                with np.errstate(invalid="ignore"):  # -inf - -inf off the support, which is masked out
                    log_nu = log_nu + (_log_marginal(p, tuple(sorted((*revealed, i)))) - base)
            revealed = tuple(sorted(revealed + step))
        total += float(np.sum(p[support] * (np.log(p[support]) - log_nu[support])))
        count += 1
    return total / count


@settings(max_examples=100, deadline=None)
@given(p=dense_distributions(min_n=1, max_n=5, max_q=3))
def test_expected_kl_equals_left_riemann_error(p):
    z = mdmsched.information_curve(p)
    for sizes in compositions(p.ndim, max(1, p.ndim // 2)):
        assert abs(expected_kl_brute_force(p, sizes) - mdmsched.schedule_error(z, sizes)) < 1e-9
    # The two ends: one step costs TC, one token per step is exact.
    assert abs(expected_kl_brute_force(p, (p.ndim,)) - mdmsched.total_correlation(p)) < 1e-9
    assert abs(expected_kl_brute_force(p, (1,) * p.ndim)) < 1e-9


@settings(max_examples=15, deadline=None)
@given(p=dense_distributions(min_n=3, max_n=4, max_q=3))
def test_theorem_for_every_schedule_shape(p):
    z = mdmsched.information_curve(p)
    n = p.ndim
    for k in range(1, n + 1):
        for sizes in compositions(n, k):
            assert abs(expected_kl_brute_force(p, sizes) - mdmsched.schedule_error(z, sizes)) < 1e-9
