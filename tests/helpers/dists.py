"""Random test distributions: dense tensors with mixed alphabets, several concentrations, zero cells."""

from __future__ import annotations

import numpy as np
from hypothesis import strategies as st
from numpy.typing import NDArray


@st.composite
def dense_distributions(draw: st.DrawFn, min_n: int = 1, max_n: int = 5, max_q: int = 3) -> NDArray[np.float64]:
    n = draw(st.integers(min_n, max_n))
    shape = tuple(draw(st.lists(st.integers(1 if n > 1 else 2, max_q), min_size=n, max_size=n)))
    concentration = draw(st.sampled_from([0.1, 0.5, 1.0, 10.0]))
    zero_fraction = draw(st.sampled_from([0.0, 0.0, 0.3, 0.7]))
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    p = rng.dirichlet(np.full(int(np.prod(shape)), concentration))
    p[rng.random(p.size) < zero_fraction] = 0.0
    if p.sum() == 0:
        p[rng.integers(p.size)] = 1.0
    return (p / p.sum()).reshape(shape)
