"""Coverage of ``compare_samplers``' paired intervals for the true difference of expected KLs, over many seeds, on a
tiny model whose truth is exact (brute force), including a heavy-tailed case (true tokens of probability 1e-6).

Deterministic rules make each row's paired difference a function of the row, so one ``compare_samplers`` call on
every sequence gives them; replications then resample rows and form compare_samplers' interval vectorised (checked
equal to direct calls on the first replications)."""

from __future__ import annotations

import itertools
import math
from statistics import NormalDist

import numpy as np
import pytest
from learned import InconsistentModel
from sampler_reference import Walk, package_chooser

from mdmsched.samplers import Threshold, TopK, compare_samplers, mean_interval

N_, Q = 3, 2


def _setup(heavy: bool) -> tuple[np.ndarray, InconsistentModel]:
    rng = np.random.default_rng(0)
    p = rng.dirichlet(np.ones(Q**N_)).reshape((Q,) * N_)
    model = InconsistentModel(N_, Q, seed=1)
    if heavy:  # with nothing revealed, positions 1 and 2 give their true 0 a probability of 1e-6 (13.8 nats)
        blank = model._keys(np.zeros((1, N_), dtype=np.int64), np.ones((1, N_), dtype=bool))[0]
        model.table[1:, blank] = [1e-6, 1 - 1e-6]
        weights = np.ones((Q,) * N_)
        weights[:, 0, :] *= 0.04
        weights[:, :, 0] *= 0.3
        p = p * weights / (p * weights).sum()  # those zeros are rare in the data: a few rows per sample pay it
    return p, model


def _paired(heavy: bool, first, second) -> tuple:
    """The law, every sequence, the exact paired difference (brute force) and each sequence's paired difference."""
    p, model = _setup(heavy)
    cells = np.array(list(itertools.product(range(Q), repeat=N_)), dtype=np.int64)
    walks = [Walk(model, N_, Q, package_chooser(rule)) for rule in (first, second)]
    truth = sum(p[tuple(x)] * (walks[0].teacher_nll(tuple(x))[0] - walks[1].teacher_nll(tuple(x))[0])
                for x in cells.tolist())
    per_cell = compare_samplers(model, cells, first, second)
    return p, cells, truth, per_cell.first.nll_rows - per_cell.second.nll_rows, model


def _wilson(hits: int, total: int, z: float = 1.96) -> tuple[float, float]:
    phat = hits / total
    centre = (phat + z * z / (2 * total)) / (1 + z * z / total)
    half = z * math.sqrt(phat * (1 - phat) / total + z * z / (4 * total * total)) / (1 + z * z / total)
    return centre - half, centre + half


@pytest.mark.parametrize(("heavy", "first", "second", "rows"), [
    (False, TopK([1, 1, 1]), TopK([3]), 60),  # measured coverage 0.946 (2000 replications)
    (True, TopK([1, 1, 1]), TopK([3]), 200),  # 0.9425
    (True, Threshold(0.7), TopK([1, 1, 1], "margin"), 200),  # 0.9425
    # Known limit (SPEC §5.3): at N = 40 rows the heavy tail makes the normal interval undercover (measured 0.92,
    # binomial CI [0.909, 0.932]); the default bootstrap-t interval covers there (next test).
    pytest.param(True, Threshold(0.7), TopK([1, 1, 1], "margin"), 40,
                 marks=pytest.mark.xfail(strict=True, reason="normal interval undercovers heavy tails at N=40")),
])
def test_normal_paired_intervals_cover_the_exact_difference(heavy, first, second, rows) -> None:
    p, cells, truth, diff, model = _paired(heavy, first, second)
    if heavy:
        assert diff.max() - diff.min() > 10.0  # the 13.8-nat tokens reach the paired differences
    reps, confidence = 2000, 0.95
    rng = np.random.default_rng(7)
    picks = rng.choice(cells.shape[0], size=(reps, rows), p=p.ravel())
    values = diff[picks]
    mean = values.mean(axis=1)
    se = values.std(axis=1, ddof=1) / math.sqrt(rows)
    z = NormalDist().inv_cdf(0.5 + confidence / 2)
    for r in range(3):  # the vectorised interval is compare_samplers' own
        direct = compare_samplers(model, cells[picks[r]], first, second, confidence=confidence, interval="normal")
        assert math.isclose(direct.lower, mean[r] - z * se[r], rel_tol=1e-9, abs_tol=1e-12)
        assert math.isclose(direct.upper, mean[r] + z * se[r], rel_tol=1e-9, abs_tol=1e-12)
    hits = int(np.sum((mean - z * se <= truth) & (truth <= mean + z * se)))
    low, high = _wilson(hits, reps)
    assert low <= confidence <= high + 0.01, (f"coverage {hits / reps:.3f} (95% binomial CI [{low:.3f}, {high:.3f}]) "
                                              f"of nominal {confidence}; truth {truth:.4f}")


@pytest.mark.parametrize(("heavy", "rows", "reps"), [(True, 40, 400), (False, 30, 300)])
def test_bootstrap_t_paired_intervals_cover_heavy_tails_at_small_n(heavy, rows, reps) -> None:
    """The default interval of compare_samplers (row bootstrap-t) at N = 40 rows of the heavy-tailed model, where the
    normal interval covers 0.92 only (bootstrap-t: measured 0.978 over 1000 replications, 0.988 over these 400)."""
    first, second = Threshold(0.7), TopK([1, 1, 1], "margin")
    p, cells, truth, diff, model = _paired(heavy, first, second)
    picks = np.random.default_rng(11).choice(cells.shape[0], size=(reps, rows), p=p.ravel())
    direct = compare_samplers(model, cells[picks[0]], first, second, seed=5)
    again = mean_interval(diff[picks[0]], seed=5)
    assert math.isclose(direct.lower, again.lower, rel_tol=1e-9, abs_tol=1e-12) and direct.method == "bootstrap-t"
    hits = 0
    for r in range(reps):
        interval = mean_interval(diff[picks[r]], seed=r)
        hits += interval.lower <= truth <= interval.upper
    low, high = _wilson(hits, reps)
    # valid (never significantly below nominal), conservative but not vacuous (measured 0.988 and 0.977 here)
    assert high >= 0.95 and hits / reps <= 0.995, (f"coverage {hits / reps:.3f} (95% binomial CI [{low:.3f}, "
                                                  f"{high:.3f}]) of nominal 0.95; truth {truth:.4f}")
