"""The schedule type: ``k`` steps of sizes ``s_j >= 1`` summing to ``n`` (SPEC §1)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray

from ._validation import as_real, as_sizes


@dataclass(frozen=True, eq=False)
class Schedule:
    """An unmasking schedule: ``k`` steps revealing ``sizes[j] >= 1`` positions each, ``sum(sizes) = n``.

    ``error`` is ``err(Z, s)`` in nats when the schedule was evaluated on a curve (``None`` otherwise); ``name`` says
    where it came from; ``bound`` is a proven upper bound on its error, where one exists.
    """

    sizes: NDArray[np.int64]
    error: float | None = None
    name: str = "schedule"
    bound: float | None = None
    _breakpoints: NDArray[np.int64] = field(init=False, repr=False)

    def __post_init__(self) -> None:
        sizes = as_sizes(self.sizes).copy()
        sizes.setflags(write=False)
        breakpoints = np.concatenate(([0], np.cumsum(sizes))).astype(np.int64)
        breakpoints.setflags(write=False)
        object.__setattr__(self, "sizes", sizes)
        object.__setattr__(self, "_breakpoints", breakpoints)
        if self.error is not None:
            object.__setattr__(self, "error", as_real(self.error, "error"))  # a number, not "1.5"; finite
        if self.bound is not None:
            object.__setattr__(self, "bound", as_real(self.bound, "bound"))

    @classmethod
    def from_breakpoints(cls, breakpoints: ArrayLike, **kwargs: Any) -> Schedule:
        """Schedule from ``N_0 = 0 < N_1 < ... < N_k = n``."""
        bp = np.asarray(breakpoints)
        if bp.ndim != 1 or bp.size < 2 or bp[0] != 0:
            raise ValueError(f"breakpoints must be 1-D, start at 0 and have at least 2 entries, got {bp!r}")
        return cls(np.diff(bp), **kwargs)

    @property
    def breakpoints(self) -> NDArray[np.int64]:
        """``N_0 = 0, N_1, ..., N_k = n``: positions revealed after each step."""
        return self._breakpoints

    @property
    def k(self) -> int:
        """Number of steps (model calls)."""
        return int(self.sizes.size)

    @property
    def n(self) -> int:
        """Sequence length."""
        return int(self._breakpoints[-1])

    def tolist(self) -> list[int]:
        """Step sizes as plain ints, ready to paste into a sampler config."""
        return [int(s) for s in self.sizes]

    def __len__(self) -> int:
        return self.k

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Schedule):
            return NotImplemented
        return bool(np.array_equal(self.sizes, other.sizes)) and self.error == other.error and self.name == other.name

    def __hash__(self) -> int:
        return hash((tuple(self.tolist()), self.error, self.name))

    def __repr__(self) -> str:
        sizes = self.tolist()
        shown = ", ".join(map(str, sizes)) if len(sizes) <= 16 else ", ".join(map(str, sizes[:12])) + ", ..."
        parts = [f"name={self.name!r}", f"k={self.k}", f"n={self.n}", f"sizes=[{shown}]"]
        if self.error is not None:
            parts.append(f"error={self.error:.6g}")
        if self.bound is not None:
            parts.append(f"bound={self.bound:.6g}")
        return f"Schedule({', '.join(parts)})"
