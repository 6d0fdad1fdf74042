"""Plots: PNGs of sensible size, and the drawn data is the curve, the staircase and the error area."""

from __future__ import annotations

import numpy as np
import pytest

matplotlib = pytest.importorskip("matplotlib")
matplotlib.use("Agg")

import matplotlib.pyplot as plt

import mdmsched
from mdmsched.plot import plot_curve, plot_frontier


def _line(ax, label):
    return next(line for line in ax.get_lines() if line.get_label() == label)


def test_curve_plot_draws_the_staircase_and_error(tmp_path):
    z = mdmsched.example_curve("markov")[:64]
    sched = mdmsched.optimal_schedule(z, 6)
    ax = plot_curve(z, sched)
    stairs = _line(ax, "staircase").get_ydata()[:-1]
    drawn_z = _line(ax, "Z").get_ydata()[:-1]
    np.testing.assert_allclose(drawn_z, z)
    starts = sched.breakpoints[:-1]
    np.testing.assert_allclose(stairs[starts], z[starts])  # heights equal Z at each step's first position
    for a, b in zip(sched.breakpoints[:-1], sched.breakpoints[1:]):
        assert np.all(stairs[a:b] == z[a])
    # Each position is a unit-width column, so the area between the drawn lines is the schedule's error.
    assert np.sum(drawn_z - stairs) == pytest.approx(mdmsched.schedule_error(z, sched))
    assert any(f"{sched.error:.4g}" in t.get_text() for t in ax.get_legend().get_texts())
    path = tmp_path / "curve.png"
    ax.figure.savefig(path)
    assert path.stat().st_size > 10_000
    plt.close(ax.figure)


def test_frontier_plot(tmp_path):
    z = mdmsched.example_curve("saturating")[:100]
    ax = plot_frontier(z, 20)
    np.testing.assert_allclose(_line(ax, "optimal").get_ydata(), mdmsched.error_frontier(z, 20))
    equal = _line(ax, "equal").get_ydata()
    assert (equal >= _line(ax, "optimal").get_ydata() - 1e-12).all()
    path = tmp_path / "frontier.png"
    ax.figure.savefig(path)
    assert path.stat().st_size > 10_000
    plt.close(ax.figure)


def test_plot_validates_input():
    with pytest.raises(ValueError, match="non-decreasing"):
        plot_curve([0.0, 1.0, 0.5])
    with pytest.raises(ValueError, match="sum to n"):
        plot_curve([0.0, 1.0, 2.0], [1, 1])
