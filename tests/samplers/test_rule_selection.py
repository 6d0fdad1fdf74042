"""The rules' selection without an argsort (``_smallest``) picks exactly the set a full ranking picks: the ``take``
smallest candidate keys per row, ties to the lower position, at least one per row with candidates (issue 28.15)."""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from mdmsched.samplers.rules import _smallest


def _reference(key: np.ndarray, counts: np.ndarray, candidates: np.ndarray) -> np.ndarray:
    """Row by row: sort the candidate positions by (key, position) and keep the first max(1, count) of them."""
    out = np.zeros_like(candidates)
    for r in range(key.shape[0]):
        cols = sorted(np.flatnonzero(candidates[r]).tolist(), key=lambda c: (key[r, c], c))
        out[r, cols[:max(1, int(counts[r]))]] = True
    return out


@settings(max_examples=300, deadline=None)
@given(rows=st.integers(1, 5), n=st.integers(1, 12), levels=st.integers(1, 4), seed=st.integers(0, 2**32 - 1),
       same_count=st.booleans(), give_order=st.booleans())
def test_smallest_equals_the_full_ranking(rows: int, n: int, levels: int, seed: int, same_count: bool,
                                          give_order: bool) -> None:
    rng = np.random.default_rng(seed)
    key = rng.integers(0, levels, (rows, n)).astype(np.float64)  # few levels: many ties
    key[rng.random((rows, n)) < 0.1] = -np.inf
    candidates = rng.random((rows, n)) < 0.7
    counts = np.full(rows, rng.integers(0, n + 2)) if same_count else rng.integers(0, n + 2, rows)
    ordered = np.sort(np.where(candidates, key, np.inf), axis=1) if give_order else None
    np.testing.assert_array_equal(_smallest(key, counts, candidates, ordered), _reference(key, counts, candidates))
