"""Closed-loop schedules (SPEC §5.4): the optimal next step from every state "``N`` revealed, ``j`` passes left".

With random positions the error still to come depends only on the curve from the current revealed count on, so one
backward DP over the suffixes gives every state at once (``V_0(n) = 0``, ``V_j(N) = min_c c(N, N + c) + V_{j-1}(N +
c)``). A sampler that looks the next count up after every commit (``policy.count(revealed, passes_left)``) re-plans
from the state it actually reached: after a threshold revealed extra positions, an EOS filled a tail, a block ended
early. From ``(0, k)`` the policy replays the open-loop optimum ``opt_k``.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray

import mdmsched._core as _core  # noqa: PLR0402  a plain import of the extension module, not of the package face

from . import _validation
from ._schedule import BlockSchedule, Schedule
from ._shards import fingerprint
from .solve import curve_scale, scaled, unscale_errors

__all__ = ["ClosedLoopPolicy", "block_policies", "closed_loop_policy"]


class ClosedLoopPolicy:
    """The optimal first step of the remaining positions with the remaining passes, for every state.

    ``table[N, j]`` (int32, shape ``(n + 1, k + 1)``) is ``c*(N, j)``: with ``N`` positions revealed and ``j`` passes
    left, reveal ``c*(N, j)`` now. It is the first step of the optimal ``j``-step schedule of the suffix curve
    ``Z[N:] - Z[N]``; ties go to the **smallest** optimal first step. ``errors[N, j]`` is that schedule's error
    ``V_j(N)`` in the curve's unit (nats): the chosen path's error summed in double-double and rounded once, so it is
    the exact optimum correctly rounded whenever the sums are exact in ~106 bits.

    Conventions at the edges: ``table`` is 0 where no step exists (``N == n`` or ``j == 0``); ``errors[N, 0] = inf``
    for ``N < n`` and ``errors[n, :] = 0``. States with more passes than masked positions (``j > n - N``) take one
    token per step: ``c* = 1`` and error 0 (the optimum with ``n - N`` passes; a pass that would reveal nothing is
    never spent).

    Memory: ``(n + 1)(k + 1)`` entries of 4 + 8 bytes (12.6 MB at n = 4096, k = 256).
    """

    __slots__ = ("_errors", "_table", "fingerprint", "k", "n")

    def __init__(self, table: NDArray[np.int32], errors: NDArray[np.float64]) -> None:
        table = np.asarray(table)
        errors = np.asarray(errors)
        if table.dtype != np.int32:
            raise TypeError(f"table must be an int32 array (the policy's counts), got dtype {table.dtype}")
        if table.ndim != 2 or table.shape[0] < 2 or table.shape[1] < 2:
            raise ValueError(f"table must be 2-D of shape (n + 1, k + 1) with n, k >= 1, got shape {table.shape}")
        if errors.dtype.kind not in "iuf":
            raise TypeError(f"errors must be real numbers (nats), got dtype {errors.dtype}")
        if errors.shape != table.shape:
            raise ValueError(f"errors must have the table's shape {table.shape}, got {errors.shape}")
        if int(table.min()) < 0 or int(table.max()) > table.shape[0] - 1:
            raise ValueError(f"table counts must be in 0..n = {table.shape[0] - 1}, got {int(table.min())}..{int(table.max())}")
        if np.isnan(errors).any() or float(errors.min()) < 0:  # +inf marks an unreachable state and is kept
            raise ValueError("errors must be non-negative nats (inf for unreachable states), got NaN or a negative")
        self._table = np.array(table, copy=True)
        self._errors = np.array(errors, dtype=np.float64, copy=True)
        self._table.setflags(write=False)
        self._errors.setflags(write=False)
        self.n = int(table.shape[0] - 1)
        self.k = int(table.shape[1] - 1)
        #: A digest of the tables (part of a sampler's repr, so a scored shard names the policy it ran).
        self.fingerprint = fingerprint(self._table, self._errors)[:16]

    @property
    def table(self) -> NDArray[np.int32]:
        """``count[revealed, passes_left]``, int32, shape ``(n + 1, k + 1)``, read-only; 0 where infeasible."""
        return self._table

    @property
    def errors(self) -> NDArray[np.float64]:
        """``V[revealed, passes_left]`` in nats, float64, shape ``(n + 1, k + 1)``, read-only."""
        return self._errors

    def _state(self, revealed: Any, passes_left: Any) -> tuple[int, int]:
        N = _validation.as_count(revealed, "revealed", minimum=0, maximum=self.n - 1)
        j = _validation.as_count(passes_left, "passes_left", minimum=1, maximum=self.k)
        return N, j

    def count(self, revealed: int, passes_left: int) -> int:
        """``c*(N, j)``: how many positions to reveal now, for ``0 <= revealed < n``, ``1 <= passes_left <= k``. O(1)."""
        N, j = self._state(revealed, passes_left)
        return int(self._table[N, j])

    def error(self, revealed: int, passes_left: int) -> float:
        """``V_j(N)``: the optimal error (nats) of the remaining positions with ``passes_left`` passes. O(1)."""
        N, j = self._state(revealed, passes_left)
        return float(self._errors[N, j])

    def step_counts(self, masked: ArrayLike, spent: ArrayLike) -> NDArray[np.int64]:
        """What a sampler reveals now, per row: ``masked`` positions of the block still masked (``0..n``) after
        ``spent`` passes in the block (``>= 0``). ``table[n - masked, k - spent]`` while passes are left; once the
        budget is spent (``spent >= k``) every masked position. Vectorised, O(rows); the one closed-loop lookup the
        rules and the adapters share."""
        left = _validation.as_counts(masked, "masked", 0, self.n)
        used = np.broadcast_to(_validation.as_counts(spent, "spent", 0), left.shape)
        passes_left = self.k - used
        looked_up = self._table[self.n - left, np.clip(passes_left, 0, self.k)].astype(np.int64)
        out: NDArray[np.int64] = np.where(passes_left > 0, looked_up, left)
        return out

    def schedule(self, revealed: int = 0, passes_left: int | None = None) -> Schedule:
        """The open-loop schedule the policy replays from a state (default ``(0, k)``), over the ``n - revealed``
        remaining positions; its error is ``error(revealed, passes_left)``. O(passes)."""
        N, j = self._state(revealed, self.k if passes_left is None else passes_left)
        sizes = []
        while self.n > N and j > 0:
            step = int(self._table[N, j])
            sizes.append(step)
            N, j = N + step, j - 1
        error = float(self._errors[revealed, len(sizes)]) if sizes else 0.0
        return Schedule(np.asarray(sizes, dtype=np.int64), error=error, name=f"closed-loop replay (k={len(sizes)})")

    def __repr__(self) -> str:
        return f"ClosedLoopPolicy(n={self.n}, k={self.k}, fingerprint={self.fingerprint!r})"


def _curve_of(z: Any) -> NDArray[np.float64]:
    """A curve, or the estimated curve ``Z`` of an estimate (duck-typed: the models floor is above this one)."""
    if not isinstance(z, (np.ndarray, list, tuple)) and hasattr(z, "Z"):
        return _validation.as_curve(z.Z)
    return _validation.as_curve(z)


def closed_loop_policy(z: ArrayLike, k: int, *, reference: bool = False) -> ClosedLoopPolicy:
    """The closed-loop policy of curve ``Z`` (or a :class:`~mdmsched.CurveEstimate`'s estimated curve) for budgets
    up to ``k`` passes (``1 <= k <= n``).

    One backward DP (SPEC §5.4) in C++ with the GIL released: per layer a divide-and-conquer search for the leftmost
    minimiser, which is monotone in ``N`` because the step cost is Monge (SPEC §4): O(k n log n) time, ``(n + 1)(k +
    1) * 12`` bytes (checked against available memory first). ``reference=True`` runs the plain O(k n^2) DP instead
    (the same tables entry for entry; for tests).
    """
    curve = _curve_of(z)
    steps = _validation.as_steps(k, curve.size)
    reference = _validation.as_flag(reference, "reference")
    _validation.require_memory(int(_core.closed_loop_memory_bytes(curve.size, steps)), "the closed-loop policy tables")
    scale = curve_scale(curve)
    table, errors = _core.closed_loop_policy(scaled(curve, scale), steps, reference)
    if scale != 1.0:  # a power of two: the counts are the same and the errors divide exactly
        finite = np.isfinite(errors)
        errors = np.array(errors, copy=True)
        errors[finite] = unscale_errors(errors[finite], scale, "policy error")
    return ClosedLoopPolicy(table, errors)


def block_policies(curves: Any, budgets: BlockSchedule | Sequence[int]) -> tuple[ClosedLoopPolicy, ...]:
    """One policy per block: ``curves`` (a sequence of per-block curves, or a ``BlockCurveEstimate`` whose
    ``curves`` are estimates) with each block's pass budget (``budgets``: the blocks' ``k`` of a
    :class:`~mdmsched.BlockSchedule`, or a sequence of ints). Block errors add (SPEC §5.1 blocks), so each block
    re-plans on its own curve."""
    items = list(getattr(curves, "curves", curves)) if not isinstance(curves, np.ndarray) else list(curves)
    if isinstance(budgets, BlockSchedule):
        ks = [b.k for b in budgets.blocks]
    elif isinstance(budgets, (str, bytes)) or not hasattr(budgets, "__iter__"):
        raise TypeError(f"budgets must be a BlockSchedule or a sequence of ints, got {type(budgets).__name__}")
    else:
        ks = list(budgets)
    if len(items) != len(ks):
        raise ValueError(f"budgets must have one entry per block ({len(items)}), got {len(ks)}")
    return tuple(closed_loop_policy(c, k) for c, k in zip(items, ks))
