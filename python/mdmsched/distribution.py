"""Distributions over ``Sigma_1 x ... x Sigma_n``: dense probability tensors and sparse supports (SPEC §5, §7)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Union

import numpy as np
from numpy.typing import ArrayLike, NDArray

from ._validation import as_real_array

#: Relative tolerance for "sums to 1".
NORMALISATION_TOL = 1e-9
@dataclass(frozen=True, eq=False)
class Distribution:
    """A distribution over ``Sigma_1 x ... x Sigma_n`` given by its support: ``outcomes`` (M x n ints), ``probs`` (M,).

    Build one with :meth:`from_support`, :meth:`from_samples` (empirical law) or :meth:`from_dense`.
    """

    outcomes: NDArray[np.int64]
    probs: NDArray[np.float64]

    @property
    def n(self) -> int:
        """Sequence length (number of coordinates)."""
        return int(self.outcomes.shape[1])

    @classmethod
    def from_support(cls, outcomes: ArrayLike, probs: ArrayLike) -> Distribution:
        """Support rows (M x n integer symbols) with probabilities (M,), non-negative and summing to 1.

        Repeated rows are allowed (their probabilities add up).
        """
        rows = np.asarray(outcomes)
        if rows.dtype.kind not in "iu":
            raise TypeError(f"outcomes must be integers, got dtype {rows.dtype}")
        if rows.ndim != 2 or rows.shape[0] == 0 or rows.shape[1] == 0:
            raise ValueError(f"outcomes must be a non-empty 2-D array (M x n), got shape {rows.shape}")
        if rows.shape[1] > 62:
            raise ValueError(f"at most 62 coordinates are supported, got n = {rows.shape[1]}")
        p = _check_probabilities(as_real_array(probs, "probs", ndim=1), "probs")
        if p.shape[0] != rows.shape[0]:
            raise ValueError(f"probs must have one entry per outcome row: {p.shape[0]} != {rows.shape[0]}")
        return cls(np.ascontiguousarray(rows, dtype=np.int64), p)

    @classmethod
    def from_samples(cls, samples: ArrayLike) -> Distribution:
        """The empirical distribution (plug-in estimate) of ``N x n`` integer samples."""
        rows = np.asarray(samples)
        if rows.dtype.kind not in "iu":
            raise TypeError(f"samples must be integers, got dtype {rows.dtype}")
        if rows.ndim != 2 or rows.shape[0] == 0 or rows.shape[1] == 0:
            raise ValueError(f"samples must be a non-empty 2-D array (N x n), got shape {rows.shape}")
        unique, counts = np.unique(rows, axis=0, return_counts=True)
        return cls.from_support(unique, counts / counts.sum())

    @classmethod
    def from_dense(cls, p: ArrayLike) -> Distribution:
        """The support (non-zero cells) of a dense probability tensor."""
        tensor = as_dense(p)
        cells = np.argwhere(tensor > 0)
        return cls(np.ascontiguousarray(cells, dtype=np.int64), tensor[tuple(cells.T)])


Source = Union[Distribution, ArrayLike]


def _check_probabilities(p: NDArray[np.float64], name: str) -> NDArray[np.float64]:
    if p.size and (p < 0).any():
        idx = tuple(int(i) for i in np.argwhere(p < 0)[0])
        raise ValueError(f"{name} must be non-negative, but {name}[{', '.join(map(str, idx))}] = {p[idx]}")
    total = float(p.sum())
    if abs(total - 1.0) > NORMALISATION_TOL * max(1, p.size) ** 0.5:
        raise ValueError(f"{name} must sum to 1 (unnormalised: the sum is {total!r})")
    return np.ascontiguousarray(p / total)


def as_dense(p: ArrayLike, name: str = "p") -> NDArray[np.float64]:
    """Validated dense probability tensor: finite, >= 0, at least 1-D with non-empty axes, summing to 1 (renormalised)."""
    arr = np.asarray(p)
    if arr.ndim == 0:
        raise ValueError(f"{name} must have at least one dimension (one per coordinate), got a scalar")
    if 0 in arr.shape:
        raise ValueError(f"{name} must have non-empty axes, got shape {arr.shape}")
    if arr.ndim > 62:
        raise ValueError(f"{name} has {arr.ndim} dimensions; at most 62 are supported")
    return _check_probabilities(as_real_array(arr, name), name)
