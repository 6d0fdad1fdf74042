"""Pictures: the information curve with a schedule's left-Riemann staircase (the paper's Figure 1), the
error-vs-steps frontier, and the KL-vs-NFE map of samplers. Needs matplotlib (``pip install mdmsched[plot]``),
imported only when a plot is drawn."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Callable

import numpy as np
from numpy.typing import ArrayLike

from . import schedules as sch
from ._schedule import Schedule
from ._validation import as_curve, as_real_array, as_sizes, as_steps
from .samplers.map import SamplerMap
from .solve import error_frontier, schedule_error

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure


def _new_axes() -> Axes:
    try:
        import matplotlib.pyplot as plt
    except ImportError:  # pragma: no cover - exercised only without the extra
        raise ImportError("plotting needs matplotlib: pip install 'mdmsched[plot]'") from None
    axes: Axes = plt.subplots(figsize=(7, 4))[1]
    return axes


def staircase(z: ArrayLike, sizes: ArrayLike | Schedule) -> np.ndarray:
    """The left-Riemann approximation ``Z^N``: every position of a step gets the curve's value at the step's start."""
    curve = as_curve(z)
    steps = as_sizes(sizes, curve.size)
    starts = np.concatenate(([0], np.cumsum(steps)[:-1]))
    return np.repeat(curve[starts], steps)


def _as_axes(ax: Axes | None) -> Axes:
    """``ax``, or new axes when None; anything without ``plot`` is a ``TypeError`` (not an ``AttributeError`` later)."""
    if ax is None:
        return _new_axes()
    if not callable(getattr(ax, "plot", None)):
        raise TypeError(f"ax must be matplotlib Axes or None, got {type(ax).__name__}")
    return ax


def plot_curve(z: ArrayLike, schedule: ArrayLike | Schedule | None = None, ax: Axes | None = None) -> Axes:
    """Draw ``Z_i`` against ``i`` and, with a schedule, its staircase with the error area shaded.

    The shaded area is ``err(Z, s)`` (nats): each step is a rectangle of height ``Z`` at its left end, the last one
    included. Returns the Axes; the staircase line has label ``"staircase"`` and the curve ``"Z"``.
    """
    curve = as_curve(z)
    n = curve.size
    ax = _as_axes(ax)
    positions = np.arange(1, n + 1)
    # Each position i occupies [i, i+1): drawing with step="post" and an extra point at n+1 shows areas exactly.
    edges = np.append(positions, n + 1)
    ax.step(edges, np.append(curve, curve[-1]), where="post", color="tab:blue", lw=1.5, label="Z")
    if schedule is not None:
        stairs = staircase(curve, schedule)
        error = schedule_error(curve, schedule)
        ax.step(edges, np.append(stairs, stairs[-1]), where="post", color="tab:red", lw=1.5, label="staircase")
        ax.fill_between(edges, np.append(stairs, stairs[-1]), np.append(curve, curve[-1]), step="post",
                        color="tab:red", alpha=0.25, label=f"error = {error:.4g} nats")
        for b in np.cumsum(as_sizes(schedule, n))[:-1]:
            ax.axvline(b + 1, color="0.8", lw=0.6, zorder=0)
    ax.set_xlabel("position i (tokens revealed + 1)")
    ax.set_ylabel("Z_i (nats)")
    ax.set_title("information curve" + ("" if schedule is None else " and left-Riemann staircase"))
    ax.legend(loc="upper left")
    return ax


def plot_frontier(z: ArrayLike, k_max: int | None = None,
                  baselines: Mapping[str, Callable[[int, int], Schedule]] | None = None,
                  ax: Axes | None = None) -> Axes:
    """Draw ``opt_k`` for ``k = 1..k_max`` (the optimal error for each step budget) and, for comparison, the error
    of baseline schedule families (default: equal split and MaskGIT cosine) at every ``k``. Log-scaled errors."""
    curve = as_curve(z)
    n = curve.size
    k_max = min(n, 64) if k_max is None else as_steps(k_max, n, "k_max")
    ax = _as_axes(ax)
    ks = np.arange(1, k_max + 1)
    ax.plot(ks, error_frontier(curve, k_max), color="black", lw=2, label="optimal")
    if baselines is not None and (not isinstance(baselines, Mapping) or not all(map(callable, baselines.values()))):
        raise TypeError(f"baselines must map names to callables (n, k) -> Schedule, got {type(baselines).__name__}")
    families = {"equal": sch.equal, "cosine": sch.cosine} if baselines is None else baselines
    for name, make in families.items():
        ax.plot(ks, [schedule_error(curve, make(n, int(k))) for k in ks], lw=1.2, label=name)
    ax.set_yscale("symlog", linthresh=1e-3)
    ax.set_xlabel("steps k (model calls)")
    ax.set_ylabel("expected KL (nats)")
    ax.set_title("error vs steps")
    ax.legend()
    return ax


def plot_sampler_map(sampler_map: SamplerMap, ax: Axes | None = None, *, kl: bool | None = None) -> Figure:
    """Draw a :class:`~mdmsched.samplers.map.SamplerMap`: expected KL (or NLL sum, nats) against mean NFE, one line per
    family (in sweep order, a marker per hyperparameter) and the optimal random-order frontier dashed. ``kl``: plot
    the absolute KL (default: when the map knows ``H(mu)``); otherwise the expected NLL sum, which is the KL up to
    the constant ``H(mu)``. Log-scaled NFE. The KL is the forward ``KL(data || sampler)``.

    A map with a task (``sampler_map(..., task=)``) gets a second panel beside the first (a new figure when ``ax`` is
    None, else ``ax.figure`` gains it): task accuracy with its interval against tokens per forward, one line per
    family, and the upper frontier (the best accuracy at that speed or faster) dashed; the title states the rank
    agreement (:meth:`~mdmsched.samplers.map.SamplerMap.kl_predicts_accuracy`).

    Returns the matplotlib **Figure** (``fig.savefig("map.png")`` works; the KL drawing is on ``fig.axes[0]``, or on
    ``ax`` when given, whose figure is returned)."""
    if not isinstance(sampler_map, SamplerMap):
        raise TypeError(f"sampler_map must be a SamplerMap (from mdmsched.samplers.sampler_map), got "
                        f"{type(sampler_map).__name__}")
    if sampler_map.has_task:
        if ax is None:
            import matplotlib.pyplot as plt

            ax, right = plt.subplots(1, 2, figsize=(13, 4))[1]
        else:
            right = ax.figure.add_subplot(1, 2, 2)
            ax.set_subplotspec(ax.figure.add_gridspec(1, 2)[0])
        _accuracy_panel(sampler_map, right)
    absolute = sampler_map.entropy is not None if kl is None else bool(kl)
    if absolute and sampler_map.entropy is None:
        raise ValueError("kl=True needs a map made with entropy= (H(mu) in nats)")
    shift = sampler_map.entropy if absolute and sampler_map.entropy is not None else 0.0
    from matplotlib.figure import Figure

    ax = _as_axes(ax)
    for name in sampler_map.families:
        rows = sampler_map.family(name)
        ax.plot([r.nfe for r in rows], [r.nll - shift for r in rows], marker="o", ms=3, lw=1.2, label=name)
    if sampler_map.frontier_nfe.size:
        ax.plot(sampler_map.frontier_nfe, sampler_map.frontier_nll - shift, "k--", lw=1.5,
                label="optimal random order")
    ax.set_xscale("log")
    ax.set_xlabel("mean forward passes per row (NFE)")
    ax.set_ylabel("expected KL (nats)" if absolute else "expected NLL sum (nats) = KL + H")
    ax.set_title(f"which sampler, at which speed? (n = {sampler_map.n})")
    ax.legend(fontsize=8)
    holder = ax.figure  # a Figure, or a SubFigure whose .figure is the root Figure
    figure: Figure = holder if isinstance(holder, Figure) else holder.figure
    return figure


def accuracy_frontier(tokens_per_forward: ArrayLike, accuracy: ArrayLike) -> tuple[np.ndarray, np.ndarray]:
    """The upper-right frontier of (tokens per forward, accuracy) points: sorted by speed, fastest first, the points
    no faster point beats in accuracy. O(m log m)."""
    x = as_real_array(tokens_per_forward, "tokens_per_forward", ndim=1)
    y = as_real_array(accuracy, "accuracy", ndim=1)
    if x.shape != y.shape:
        raise ValueError(f"tokens_per_forward and accuracy must pair up, got {x.size} and {y.size} values")
    if y.size and (y.min() < 0 or y.max() > 1):
        raise ValueError(f"accuracy must be in [0, 1], got {float(y.min())!r}..{float(y.max())!r}")
    order = np.lexsort((-y, -x))
    keep, best = [], -np.inf
    for i in order.tolist():
        if y[i] > best:
            keep.append(i)
            best = y[i]
    return x[keep], y[keep]


def _accuracy_panel(sampler_map: SamplerMap, ax: Axes) -> None:
    for name in sampler_map.families:
        tasks = [r.task for r in sampler_map.family(name) if r.task is not None]
        y = np.array([t.accuracy for t in tasks], dtype=np.float64)
        err = np.array([[t.accuracy - t.lower, t.upper - t.accuracy] for t in tasks]).T
        ax.errorbar([t.tokens_per_forward for t in tasks], y, yerr=err, marker="o", ms=3, lw=1.2, capsize=2,
                    label=name)
    every = [r.task for r in sampler_map.rows if r.task is not None]
    fx, fy = accuracy_frontier([t.tokens_per_forward for t in every], [t.accuracy for t in every])
    ax.plot(fx, fy, "k--", lw=1.5, label="frontier")
    agree = sampler_map.kl_predicts_accuracy()
    ax.set_xlabel("tokens per forward (task)")
    ax.set_ylabel("task accuracy")
    ax.set_title(f"KL vs accuracy rank agreement at equal NFE: tau = {agree.tau:.2f} [{agree.lower:.2f}, "
                 f"{agree.upper:.2f}]", fontsize=9)
    ax.legend(fontsize=8)


__all__ = ["accuracy_frontier", "plot_curve", "plot_frontier", "plot_sampler_map", "staircase"]
