"""Hypothesis strategies for valid information curves (Z_1 = 0, non-decreasing), shared by the test modules, and the
exact-arithmetic schedule error the Fraction oracles use."""

from __future__ import annotations

from fractions import Fraction

import numpy as np
from hypothesis import strategies as st
from numpy.typing import NDArray


@st.composite
def curves(draw: st.DrawFn, min_n: int = 1, max_n: int = 60) -> NDArray[np.float64]:
    """Random valid curves: smooth, step, flat, dyadic (exact ties in floating point) and mixed shapes."""
    n = draw(st.integers(min_n, max_n))
    kind = draw(st.sampled_from(["random", "dyadic", "step", "flat", "sparse"]))
    seed = draw(st.integers(0, 2**32 - 1))
    rng = np.random.default_rng(seed)
    if kind == "random":
        inc = rng.exponential(1.0, n - 1) * rng.uniform(0.01, 3.0)
    elif kind == "dyadic":  # increments in {0, 1/8, ..., 1}: sums are exact, so many schedules tie exactly
        inc = rng.integers(0, 9, n - 1) / 8.0
    elif kind == "step":
        inc = np.zeros(n - 1)
        if n > 1:
            inc[rng.integers(0, n - 1, size=rng.integers(1, 4))] = rng.uniform(0.5, 3.0)
    elif kind == "flat":
        inc = np.zeros(n - 1)
    else:  # mostly flat with rare jumps of equal height
        inc = (rng.random(n - 1) < 0.15).astype(float)
    return np.concatenate(([0.0], np.cumsum(inc)))


def compositions(n: int, k: int):  # type: ignore[no-untyped-def]
    """Every ordered composition of n into k positive parts (for exhaustive optimality checks)."""
    if k == 1:
        yield (n,)
        return
    for first in range(1, n - k + 2):
        for rest in compositions(n - first, k - 1):
            yield (first, *rest)


def exact_error(z: list[Fraction], sizes: list[int]) -> Fraction:
    """err(Z, s) in exact arithmetic: sum over steps of (Z_i - Z_first) for the positions of the step."""
    total, start = Fraction(0), 0
    for size in sizes:
        total += sum((z[i] - z[start] for i in range(start, start + size)), Fraction(0))
        start += size
    return total
