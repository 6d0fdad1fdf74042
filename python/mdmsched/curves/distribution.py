"""Distributions over ``Sigma_1 x ... x Sigma_n``: dense probability tensors and sparse supports (SPEC §5, §7)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Union

import numpy as np
from numpy.typing import ArrayLike, NDArray

from .._validation import NORMALISATION_TOL, as_probabilities, as_unnormalised_probabilities, require_memory

__all__ = ["NORMALISATION_TOL", "Distribution", "Source", "as_dense", "as_dense_unnormalised"]


@dataclass(frozen=True, eq=False)
class Distribution:
    """A distribution over ``Sigma_1 x ... x Sigma_n`` given by its support: ``outcomes`` (M x n ints), ``probs`` (M,).

    Build one with :meth:`from_support`, :meth:`from_samples` (empirical law) or :meth:`from_dense`. Direct
    construction ``Distribution(outcomes, probs)`` is validated the same way (``__post_init__``): integer outcomes
    (floats are refused, never truncated), at most 62 coordinates, finite non-negative probabilities summing to 1
    within ``max(1e-9 sqrt(size), 8 eps(dtype) log2(2 + size))`` (stored renormalised), one probability per row.
    """

    outcomes: NDArray[np.int64]
    probs: NDArray[np.float64]

    def __post_init__(self) -> None:
        rows = np.asarray(self.outcomes)
        if rows.dtype.kind not in "iu":
            raise TypeError(f"outcomes must be integers, got dtype {rows.dtype}")
        if rows.dtype == np.uint64 and rows.size and int(rows.max()) > np.iinfo(np.int64).max:
            # uint64 is fine as long as every symbol fits the int64 copy (small values from np.unique etc.)
            raise ValueError(f"outcomes must be < 2^63 (they are stored as int64), got {int(rows.max())}")
        if rows.ndim != 2 or rows.shape[0] == 0 or rows.shape[1] == 0:
            raise ValueError(f"outcomes must be a non-empty 2-D array (M x n), got shape {rows.shape}")
        if rows.shape[1] > 62:
            raise ValueError(f"at most 62 coordinates are supported, got n = {rows.shape[1]}")
        if np.asarray(self.probs).dtype.kind not in "iuf":  # None, strings, objects: the wrong kind
            raise TypeError(f"probs must be real probabilities, got dtype {np.asarray(self.probs).dtype}")
        if np.ndim(self.probs) != 1:
            raise ValueError(f"probs must be 1-D, got shape {np.shape(self.probs)}")
        if np.shape(self.probs)[0] != rows.shape[0]:
            raise ValueError(f"probs must have one entry per outcome row: {np.shape(self.probs)[0]} != {rows.shape[0]}")
        require_memory(8 * rows.size, "a copy of outcomes")
        p = as_probabilities(self.probs, "probs")
        object.__setattr__(self, "outcomes", np.ascontiguousarray(rows, dtype=np.int64))
        object.__setattr__(self, "probs", p)

    @classmethod
    def _trusted(cls, outcomes: NDArray[np.int64], probs: NDArray[np.float64]) -> Distribution:
        """Internal: wrap arrays this package has already validated (C-contiguous int64 / float64), skipping checks."""
        obj = object.__new__(cls)
        object.__setattr__(obj, "outcomes", outcomes)
        object.__setattr__(obj, "probs", probs)
        return obj

    @property
    def n(self) -> int:
        """Sequence length (number of coordinates)."""
        return int(self.outcomes.shape[1])

    @classmethod
    def from_support(cls, outcomes: ArrayLike, probs: ArrayLike) -> Distribution:
        """Support rows (M x n integer symbols) with probabilities (M,), non-negative and summing to 1.

        Repeated rows are allowed (their probabilities add up).
        """
        return cls(np.asarray(outcomes), np.asarray(probs))  # __post_init__ validates and converts

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
        support = int(np.count_nonzero(tensor))
        # argwhere's peak: a bool mask of the tensor plus the index arrays twice (per axis, then stacked), int64
        require_memory(tensor.size + 16 * tensor.ndim * support + 8 * support,
                       f"the support ({support} cells x {tensor.ndim} coordinates) of p")
        cells = np.argwhere(tensor > 0)
        return cls._trusted(np.ascontiguousarray(cells, dtype=np.int64), np.ascontiguousarray(tensor[tuple(cells.T)]))


Source = Union[Distribution, ArrayLike]


def as_dense(p: ArrayLike, name: str = "p") -> NDArray[np.float64]:
    """Validated dense probability tensor: finite, >= 0, at least 1-D with non-empty axes, summing to 1 (renormalised)."""
    arr, total = as_dense_unnormalised(p, name)
    if np.may_share_memory(arr, p):
        return np.ascontiguousarray(arr / total)
    arr /= total  # our own copy: renormalise in place
    return arr


def as_dense_unnormalised(p: ArrayLike, name: str = "p") -> tuple[NDArray[np.float64], float]:
    """:func:`as_dense` without the renormalised copy: the validated tensor (the input itself when it is float64 and
    C-contiguous) and its sum ``total``; the lattice walk divides by ``total`` as it reads."""
    arr = np.asarray(p)
    if arr.dtype.kind not in "iuf":  # None, strings, objects, bools, complex: the wrong kind, before any shape rule
        raise TypeError(f"{name} must be an array of real numbers (probabilities), got dtype {arr.dtype}")
    if arr.ndim == 0:
        raise ValueError(f"{name} must have at least one dimension (one per coordinate), got a scalar")
    if 0 in arr.shape:
        raise ValueError(f"{name} must have non-empty axes, got shape {arr.shape}")
    if arr.ndim > 62:
        raise ValueError(f"{name} has {arr.ndim} dimensions; at most 62 are supported")
    return as_unnormalised_probabilities(arr, name)
