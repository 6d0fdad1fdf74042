"""The per-position model interface (models.py): probability models reduced in chunks, score checks, sampling."""

from __future__ import annotations

import tracemalloc

import numpy as np
import pytest

import mdmsched
from mdmsched.models import interface as models
from mdmsched.models.interface import ProbabilityModel, check_scores


def _random_predictor(q: int, dtype: type = np.float64, seed: int = 0):
    def predict(tokens, mask):
        rng = np.random.default_rng(seed + int(tokens.sum()))
        probs = rng.dirichlet(np.full(q, 0.5), size=tokens.shape).astype(dtype)
        return probs / probs.sum(axis=2, keepdims=True, dtype=dtype)

    return predict


@pytest.mark.parametrize("dtype", [np.float64, np.float32, np.float16])
@pytest.mark.parametrize("chunk", [1, 7, 1 << 22])
def test_scores_equal_a_float64_reference(dtype, chunk, monkeypatch):
    monkeypatch.setattr(models, "CHUNK_CELLS", chunk)
    q = 11
    predict = _random_predictor(q, dtype)
    rng = np.random.default_rng(1)
    tokens = rng.integers(0, q, (5, 9))
    mask = rng.random((5, 9)) < 0.6
    probs = predict(tokens, mask).astype(np.float64)
    model = ProbabilityModel(predict)
    nll = model.score(tokens, mask, "cross_entropy")
    ent = model.score(tokens, mask, "entropy")
    expected_nll = -np.log(np.take_along_axis(probs, tokens[..., None], axis=2)[..., 0])
    with np.errstate(divide="ignore", invalid="ignore"):
        expected_ent = -np.nansum(probs * np.log(probs), axis=2)
    rtol = 1e-12 if dtype == np.float64 else 1e-3
    np.testing.assert_allclose(nll[mask], expected_nll[mask], rtol=rtol)
    np.testing.assert_allclose(ent[mask], expected_ent[mask], rtol=rtol)
    assert (nll[~mask] == 0).all() and (ent[~mask] == 0).all()


def test_no_float64_copy_of_a_large_float32_array():
    q, batch, n = 32_000, 4, 64
    probs = np.full((batch, n, q), 1.0 / q, dtype=np.float32)
    model = ProbabilityModel(lambda tokens, mask: probs)
    tokens = np.zeros((batch, n), dtype=np.int64)
    mask = np.ones((batch, n), dtype=bool)
    tracemalloc.start()
    model.score(tokens, mask, "cross_entropy")
    _, peak_ce = tracemalloc.get_traced_memory()
    tracemalloc.reset_peak()
    model.score(tokens, mask, "entropy")
    _, peak_ent = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    size = probs.nbytes  # 32 MiB; a float64 copy would be 64 MiB
    assert peak_ce < size / 4  # the gather plus a spot check of 32 rows
    assert peak_ent < size  # chunks of at most CHUNK_CELLS cells


def test_unmasked_rows_are_never_read():
    def predict(tokens, mask):
        probs = np.full((*tokens.shape, 3), 1 / 3)
        probs[~mask] = np.nan  # garbage where nothing is asked
        return probs

    tokens = np.zeros((2, 4), dtype=np.int64)
    mask = np.array([[True, False, True, False], [False, False, True, True]])
    out = ProbabilityModel(predict).score(tokens, mask, "entropy")
    np.testing.assert_allclose(out[mask], np.log(3))


@pytest.mark.parametrize(
    ("bad", "fragment"),
    [
        (lambda p: p[:, :-1], "shape"),
        (lambda p: np.where(p > 0, np.nan, p), "NaN"),
        (lambda p: p - np.array([0.7, -0.7]), "negative"),
        (lambda p: p * 1.5, "unnormalised|above 1"),
        (lambda p: p.astype(complex), "dtype"),
    ],
)
@pytest.mark.parametrize("target", ["cross_entropy", "entropy"])
def test_bad_probability_outputs(bad, fragment, target):
    model = ProbabilityModel(lambda tokens, mask: bad(np.full((*tokens.shape, 2), 0.5)))
    with pytest.raises(TypeError if fragment == "dtype" else ValueError, match=fragment):  # a wrong kind: TypeError
        model.score(np.zeros((3, 4), dtype=np.int64), np.ones((3, 4), dtype=bool), target)


def test_check_scores():
    mask = np.array([[True, False]])
    np.testing.assert_array_equal(check_scores(np.array([[1.5, np.nan]]), mask), [[1.5, 0.0]])
    for bad, fragment in [([[np.nan, 0]], "NaN"), ([[np.inf, 0]], "infinite"), ([[-1.0, 0]], "negative"),
                          ([[1.0]], "shape"), ([["a", "b"]], "dtype")]:
        with pytest.raises(TypeError if fragment == "dtype" else ValueError, match=fragment):
            check_scores(np.array(bad), mask)


def test_wrong_model_kinds():
    with pytest.raises(TypeError, match="score"):
        models.as_masked_model(42)
    with pytest.raises(ValueError, match="target"):
        ProbabilityModel(_random_predictor(3)).score(np.zeros((1, 2), dtype=np.int64), np.ones((1, 2), bool), "x")
    with pytest.raises(TypeError, match="callable"):
        ProbabilityModel(3)  # type: ignore[arg-type]


def test_sampling_frequencies_match_the_conditionals():
    probs = np.array([0.1, 0.2, 0.7])
    model = ProbabilityModel(lambda tokens, mask: np.broadcast_to(probs, (*tokens.shape, 3)))
    tokens = np.zeros((2000, 5), dtype=np.int64)
    mask = np.zeros((2000, 5), dtype=bool)
    mask[:, 1:4] = True
    draws = model.sample(tokens, mask, np.random.default_rng(0))
    assert (draws[:, [0, 4]] == 0).all()
    counts = np.bincount(draws[:, 1:4].ravel(), minlength=3)
    expected = probs * counts.sum()
    chi2 = float(((counts - expected) ** 2 / expected).sum())
    assert chi2 < 13.8  # 99.9% quantile of chi-square with 2 degrees of freedom


def test_a_per_position_model_is_used_as_is():
    class Constant:
        def score(self, tokens, mask, target="cross_entropy"):
            return np.full(tokens.shape, 0.25 if target == "cross_entropy" else 0.5, dtype=np.float32)

    data = np.zeros((4, 6), dtype=np.int64)
    est = mdmsched.estimate_curve(Constant(), data, seed=0)
    np.testing.assert_allclose(est.h, 0.25)
    assert np.all(est.Z == 0)
    est = mdmsched.estimate_curve(Constant(), data, target="entropy", seed=0)
    np.testing.assert_allclose(est.h, 0.5)
