"""A schedule as the time grid ``t_0 = 1 > t_1 > ... > t_k`` that Dream, MDLM and bd3lms samplers take.

Those samplers do not take counts: they take ``timesteps = linspace(1, eps, k + 1)`` and derive the counts from
consecutive times. Replacing that ``linspace`` by one of these grids makes the peer's own rule run the schedule.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from numpy.typing import NDArray

from .._schedule import Schedule
from .._validation import as_tolerance

__all__ = ["ddpm_time_grid", "dream_time_grid"]

_F32 = np.float32


def _as_schedule(schedule: Any) -> Schedule:
    if not isinstance(schedule, Schedule):
        raise TypeError(f"schedule must be a mdmsched Schedule, got {type(schedule).__name__}")
    return schedule


def _dream_count(masked: int, t: np.float32, s: np.float32) -> int:
    """Dream's count at one step, in its float32 arithmetic: ``int(M * (1 - s / t))``."""
    return int(_F32(masked) * _F32(_F32(1) - _F32(s / t)))


def dream_time_grid(schedule: Any, eps: float = 1e-3) -> NDArray[np.float32]:
    """The float32 grid ``t_0 = 1 > ... > t_k`` on which Dream's ``_sample`` rule -- pass ``i < k - 1`` reveals
    ``int(M (1 - t_{i+1} / t_i))`` of the ``M`` still masked, the last pass the rest -- reveals ``schedule.passes``
    exactly (zeros included). Each ratio aims at the middle of its count's interval,
    ``t_{i+1} / t_i = (M - p_i - 1/2) / M``, and is checked (and nudged by ulps if float32 rounding moved it) in
    Dream's own float32 arithmetic. ``t_k = eps`` when ``eps < t_{k-1}`` (the last pass ignores it), else
    ``t_{k-1} / 2``. Needs ``n < 2**22``. O(k).

    In Dream's ``generation_utils.py`` replace ``timesteps = torch.linspace(1, eps, steps + 1, device=x.device)`` by
    ``timesteps = torch.tensor(grid, device=x.device)`` with ``steps = len(grid) - 1``.
    """
    plan = _as_schedule(schedule)
    eps = as_tolerance(eps)
    if not eps < 1:
        raise ValueError(f"eps must be < 1, got {eps}")
    if plan.n >= 2**22:
        raise ValueError(f"a float32 time grid cannot resolve n = {plan.n} >= 2**22 positions")
    passes = [int(p) for p in plan.passes]
    grid = [_F32(1)]
    masked = plan.n
    for p in passes[:-1]:
        t = grid[-1]
        s = _F32(np.float64(t) * (masked - p - 0.5) / masked)
        for _ in range(64):  # float32 rounding of s / t may land in the neighbouring count: step towards the middle
            got = _dream_count(masked, t, s)
            if got == p:
                break
            s = np.nextafter(s, _F32(np.inf) if got > p else _F32(0), dtype=_F32)
        if _dream_count(masked, t, s) != p or not 0 < s < t:
            raise ValueError(f"no float32 time reproduces {p} of {masked} masked at step {len(grid) - 1}")
        grid.append(s)
        masked -= p
    last = _F32(eps) if _F32(eps) < grid[-1] else _F32(grid[-1] / 2)
    grid.append(last)
    return np.asarray(grid, dtype=_F32)


def ddpm_time_grid(schedule: Any, eps: float = 1e-3) -> NDArray[np.float64]:
    """The grid for MDLM / bd3lms ``ddpm`` samplers (log-linear noise): a masked position stays masked from ``t`` to
    ``s`` with probability ``s / t``, so ``t_i = (n - N_i) / n`` (``N_i`` revealed after pass ``i``) makes the
    expected number still masked after pass ``i`` exactly ``n - N_i`` and the expected count of pass ``i`` exactly
    ``passes[i]``, for ``i < k - 1``. The last time is ``t_k = eps``: the last pass reveals ``n - N_{k-1}`` minus
    ``eps n`` in expectation, and the sampler's final noise-removal pass the rest (``t_k = 0`` would reveal all, but
    the samplers start their time embedding at ``eps``). Needs ``eps < t_{k-1}``. O(k).

    In MDLM's ``_sample`` replace ``timesteps = torch.linspace(1, eps, num_steps + 1)`` by
    ``torch.tensor(grid)``.
    """
    plan = _as_schedule(schedule)
    eps = as_tolerance(eps)
    grid = (plan.n - plan.breakpoints.astype(np.float64)) / plan.n
    if plan.k >= 2 and not eps < grid[-2]:
        raise ValueError(f"eps = {eps} must be below t_(k-1) = {grid[-2]} (the masked fraction before the last pass)")
    grid[-1] = eps
    return grid
