"""Monte Carlo average entropies ``e_m`` for large ``n``, where the 2^n subset lattice is too big (SPEC §5)."""

from __future__ import annotations

import math
from dataclasses import dataclass
from itertools import combinations

import numpy as np
from numpy.typing import NDArray

import mdmsched._core as _core  # noqa: PLR0402  a plain import of the extension module, not of the package face

from .._validation import as_count, as_log_scale, as_real_array, as_seed, require_memory
from .distribution import Distribution, Source


@dataclass(frozen=True)
class EntropyEstimate:
    """Monte Carlo estimate of the average entropies ``e_m`` with standard errors; exact where ``stderr == 0``.

    ``base`` records the unit: ``None`` for nats, else the logarithm base the entropies were converted to.
    """

    e: NDArray[np.float64]
    stderr: NDArray[np.float64]
    subsets_per_size: int
    base: float | None = None

    def __post_init__(self) -> None:
        e = as_real_array(self.e, "e", ndim=1)
        stderr = as_real_array(self.stderr, "stderr", ndim=1)
        if e.size < 2 or stderr.shape != e.shape:
            raise ValueError(f"e (m = 0..n) needs n >= 1 and stderr its shape, got {e.shape} and {stderr.shape}")
        if float(stderr.min()) < 0:
            raise ValueError(f"stderr must be non-negative (a standard error), got {float(stderr.min())!r}")
        object.__setattr__(self, "e", e)
        object.__setattr__(self, "stderr", stderr)
        object.__setattr__(self, "subsets_per_size", as_count(self.subsets_per_size, "subsets_per_size"))
        if self.base is not None:
            as_log_scale(self.base)


def estimate_average_entropies(p: Source, *, subsets_per_size: int = 64, seed: int | None = None,
                               base: float | None = None) -> EntropyEstimate:
    """Monte Carlo ``e_m``: the mean of ``H(X_S)`` over ``subsets_per_size`` uniformly random subsets of each size.

    Sizes with at most ``subsets_per_size`` subsets are enumerated exactly (standard error 0). Cost:
    O(n * subsets_per_size * M * n) for a support of M rows; for large n where 2^n subsets are too many.
    """
    scale = as_log_scale(base)  # argument checks before any work
    per_size = as_count(subsets_per_size, "subsets_per_size", 2)
    as_seed(seed)
    dist = p if isinstance(p, Distribution) else Distribution.from_dense(p)
    require_memory(9 * per_size * dist.n, "the subset masks")
    rng = np.random.default_rng(as_seed(seed))
    n = dist.n
    e = np.zeros(n + 1)
    stderr = np.zeros(n + 1)
    for m in range(1, n + 1):
        exact = math.comb(n, m) <= per_size
        if exact:
            masks = _all_subsets(n, m)
        else:
            masks = np.zeros((per_size, n), dtype=np.uint8)
            for row in masks:
                row[rng.choice(n, size=m, replace=False)] = 1
        h = _core.sparse_subset_entropies(dist.outcomes, dist.probs, masks)
        e[m] = h.mean()
        stderr[m] = 0.0 if exact else h.std(ddof=1) / math.sqrt(h.size)
    return EntropyEstimate(e * scale, stderr * scale, per_size, None if base is None else float(base))


def _all_subsets(n: int, m: int) -> NDArray[np.uint8]:
    rows = list(combinations(range(n), m))
    masks = np.zeros((len(rows), n), dtype=np.uint8)
    for r, cols in enumerate(rows):
        masks[r, list(cols)] = 1
    return masks


__all__ = ["EntropyEstimate", "estimate_average_entropies"]
