"""Curves estimated from a model's predictions (SPEC §5, last item) against exact curves."""

from __future__ import annotations

import numpy as np
import pytest

import mdmsched
from mdmsched import reference
from mdmsched.distributions import markov_chain, markov_curve


@pytest.mark.parametrize("seed", range(4))
def test_exact_predictor_curve_within_four_standard_errors(seed):
    rng = np.random.default_rng(seed)
    q, n = 2 + seed % 2, 7 if seed % 2 else 8
    p = rng.dirichlet(np.full(q**n, 0.3)).reshape((q,) * n)
    model = mdmsched.ExactPredictor(p)
    data = model.sample(300, rng)
    est = mdmsched.estimate_curve(model, data, reps=2, batch_size=128, seed=seed)
    exact = reference.information_curve(p)
    assert est.Z.shape == (n,) and est.grid.tolist() == list(range(n))
    assert (np.abs(est.Z_raw - exact) <= 4 * est.stderr + 1e-12).all()
    assert est.Z[0] == 0 and (np.diff(est.Z) >= 0).all()
    assert est.model_calls == int(np.ceil(n * 300 * 2 / 128))


def test_markov_predictor_equals_exact_predictor():
    p = np.array([[0.7, 0.2, 0.1], [0.1, 0.8, 0.1], [0.3, 0.3, 0.4]])
    n = 6
    fast, slow = mdmsched.MarkovPredictor(p, n), mdmsched.ExactPredictor(markov_chain(p, n))
    rng = np.random.default_rng(0)
    tokens, mask = rng.integers(0, 3, (200, n)), rng.random((200, n)) < 0.6
    np.testing.assert_allclose(fast(tokens, mask)[mask], slow(tokens, mask)[mask], atol=1e-12)
    x = fast.sample(20, rng)
    np.testing.assert_allclose(fast.log_prob(x), slow.log_prob(x), atol=1e-12)


def test_markov_estimate_on_a_grid_at_n512():
    p = np.array([[0.9, 0.1], [0.2, 0.8]])
    model = mdmsched.MarkovPredictor(p, 512)
    rng = np.random.default_rng(1)
    est = mdmsched.estimate_curve(model, model.sample(200, rng), seed=2)
    exact = markov_curve(p, 512)
    assert est.grid.size == 32 and est.model_calls == int(np.ceil(32 * 200 / 256))
    on_grid = est.grid[1:]
    z_grid = exact[on_grid]  # Z at i = m + 1 is h_0 - h_m
    assert (np.abs(est.Z_raw[on_grid] - z_grid) <= 4 * est.stderr[on_grid] + 1e-12).all()


class _Broken:
    def __init__(self, kind: str) -> None:
        self.kind = kind

    def __call__(self, tokens, mask):
        b, n = tokens.shape
        probs = np.full((b, n, 2), 0.5)
        if self.kind == "shape":
            return probs[:, :-1]
        if self.kind == "nan":
            probs[0, 0, 0] = np.nan
        if self.kind == "negative":
            probs[0, 0] = [-0.5, 1.5]
        if self.kind == "unnormalised":
            probs *= 1.1
        return probs


@pytest.mark.parametrize(
    ("kind", "fragment"),
    [("shape", "shape"), ("nan", "NaN"), ("negative", "negative"), ("unnormalised", "unnormalised")],
)
def test_bad_predictors_raise_clear_errors(kind, fragment):
    data = np.zeros((4, 5), dtype=int)
    with pytest.raises(ValueError, match=fragment):
        mdmsched.estimate_curve(_Broken(kind), data)
    with pytest.raises(ValueError, match=fragment):
        mdmsched.simulate(_Broken(kind), [5], 3)


def test_bad_estimate_arguments():
    model = mdmsched.ExactPredictor(np.full((2, 2), 0.25))
    with pytest.raises(TypeError, match="integer"):
        mdmsched.estimate_curve(model, np.zeros((4, 2)))
    with pytest.raises(ValueError, match="N >= 2"):
        mdmsched.estimate_curve(model, np.zeros((1, 2), dtype=int))
    with pytest.raises(ValueError, match="grid"):
        mdmsched.estimate_curve(model, np.zeros((4, 2), dtype=int), grid=[5])
