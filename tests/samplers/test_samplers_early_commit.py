"""EarlyCommit (Prophet's early commit, block form) against a hand-written loop over rows and positions on random
scores; both branches (commit the block / the base rule) are exercised; bad arguments."""

from __future__ import annotations

import math

import numpy as np
import pytest

from mdmsched.models import StateScores
from mdmsched.samplers import EarlyCommit, RandomOrder, TopK


def _by_hand(max_prob, margin, candidates, counts, threshold, gap):
    """Per row: if every candidate's gap >= threshold, all candidates; else the counts[step] candidates of highest
    max probability (ties: lower position), as LLaDA's low_confidence top-k."""
    out = np.zeros_like(candidates)
    for r in range(candidates.shape[0]):
        cand = [i for i in range(candidates.shape[1]) if candidates[r, i]]
        if not cand:
            continue
        gaps = []
        for i in cand:
            p1, p2 = max_prob[r, i], max_prob[r, i] - margin[r, i]
            gaps.append((math.inf if p2 <= 0 else math.log(p1) - math.log(p2)) if gap == "logit" else margin[r, i])
        if all(g >= threshold for g in gaps):
            out[r, cand] = True
            continue
        ranked = sorted(cand, key=lambda i: (-max_prob[r, i], i))
        out[r, ranked[:max(1, min(counts, len(cand)))]] = True
    return out


@pytest.mark.parametrize("gap", ["logit", "prob"])
def test_matches_the_hand_written_rule(gap: str) -> None:
    rng = np.random.default_rng(3)
    branches = {True: 0, False: 0}
    for trial in range(400):
        b, n = int(rng.integers(1, 5)), int(rng.integers(1, 8))
        q = rng.dirichlet(np.full(4, 0.3), size=(b, n))
        q = np.round(q, 2) if trial % 3 == 0 else q  # ties, and runner-ups of probability 0
        q /= q.sum(axis=2, keepdims=True)
        ordered = np.sort(q, axis=2)
        max_prob, margin = ordered[..., -1], ordered[..., -1] - ordered[..., -2]
        scores = StateScores(max_prob, margin, np.zeros((b, n)))
        candidates = rng.random((b, n)) < 0.6
        count = int(rng.integers(1, n + 1))
        threshold = float(rng.choice([0.5, 1.5, 3.0])) if gap == "logit" else float(rng.choice([0.2, 0.5, 0.8]))
        rule = EarlyCommit([count] * (n // count) + ([n % count] if n % count else []), threshold, gap)
        got = rule.select(scores, candidates, np.zeros(b, dtype=np.int64), 0, np.random.default_rng(0))
        want = _by_hand(max_prob, margin, candidates, count, threshold, gap)
        assert (got == want).all(), (trial, got, want)
        sure = rule.sure(scores, candidates)
        for r in range(b):
            if candidates[r].any():
                branches[bool(sure[r])] += 1
    assert min(branches.values()) > 50  # both branches ran many times


def test_wraps_any_rule_and_keeps_its_randomness() -> None:
    rule = EarlyCommit(RandomOrder([1, 1, 1]), threshold=100.0)
    assert rule.randomised and "RandomOrder" in repr(rule)
    scores = StateScores(np.full((1, 3), 0.5), np.zeros((1, 3)), np.zeros((1, 3)))
    one = rule.select(scores, np.ones((1, 3), bool), np.zeros(1, dtype=np.int64), 0, np.random.default_rng(1))
    assert one.sum() == 1  # never sure (gap 0 < 100): the base's single random position
    rule.validate([3])
    with pytest.raises(ValueError, match="covers 3 positions"):
        rule.validate([4])
    assert not EarlyCommit(TopK([1])).randomised


@pytest.mark.parametrize(("kwargs", "error", "words"), [
    ({"threshold": "5"}, TypeError, "threshold"), ({"threshold": math.nan}, ValueError, "threshold"),
    ({"gap": "ratio"}, ValueError, "gap"), ({"gap": "prob", "threshold": 2.0}, ValueError, "threshold"),
])
def test_refuses_bad_arguments(kwargs, error, words) -> None:
    with pytest.raises(error, match=words):
        EarlyCommit([1, 1], **kwargs)
