"""Pilot for curve estimates (issue 25.6): the rows a fixed schedule's error needs for a target standard error, and
the rows a comparison of two schedules needs to detect a gain -- the same formula as the sampler estimates'."""

from __future__ import annotations

import math

import numpy as np
import pytest

import mdmsched
from mdmsched import _power
from mdmsched.models import ErrorEstimate
from mdmsched.samplers import rows_for_stderr, rows_to_detect


def test_the_formula_against_a_hand_computation() -> None:
    # spread 2 nats, target 0.1: (2 / 0.1)^2 = 400 exactly (not 401 from rounding)
    assert _power.rows_for_spread(2.0, 0.1) == 400
    # z_0.975 + z_0.8 = 1.959964 + 0.841621 = 2.801585; (2.801585 * 1 / 0.5)^2 = 31.396 -> 32
    assert _power.rows_to_detect_spread(1.0, 0.5) == 32
    # one-sided power 0.9 at 99%: 2.575829 + 1.281552 = 3.857381; (3.857381 * 3 / 1)^2 = 133.91 -> 134
    assert _power.rows_to_detect_spread(3.0, 1.0, power=0.9, confidence=0.99) == 134
    assert _power.rows_for_spread(0.01, 1.0) == 2  # never fewer than two rows
    # an estimate as the pilot: s = stderr sqrt(rows) = 0.2 * 10 = 2
    est = ErrorEstimate(0.0, 0.2, 1.0, -1.0, 0.95, False, True, False, 0.9, rows=100)
    assert est.rows_for(0.1) == 400
    assert est.rows_to_detect(0.5) == 126  # (2.801585 * 2 / 0.5)^2 = 125.58
    # the sampler side reuses the same formula on per-row values
    values = np.array([0.0, 2.0, 4.0])  # standard deviation 2
    assert rows_for_stderr(values, 0.1) == 400
    assert rows_to_detect(values, 1.0) == 32  # (2.801585 * 2 / 1)^2 = 31.396


def test_bad_input_names_the_argument() -> None:
    est = ErrorEstimate(0.0, 0.2, 1.0, -1.0, 0.95, False, True, False, 0.9, rows=100)
    with pytest.raises(ValueError, match="stderr"):
        est.rows_for(0.0)
    with pytest.raises(TypeError, match="stderr"):
        est.rows_for("small")
    with pytest.raises(ValueError, match="gain"):
        est.rows_to_detect(-1.0)
    with pytest.raises(ValueError, match="power"):
        est.rows_to_detect(0.1, power=1.5)
    with pytest.raises(ValueError, match="rows"):
        ErrorEstimate(0.0, 0.2, 1.0, -1.0, 0.95, False, True).rows_for(0.1)


def _chain() -> mdmsched.MarkovPredictor:
    return mdmsched.MarkovPredictor(np.array([[0.85, 0.1, 0.05], [0.1, 0.8, 0.1], [0.2, 0.2, 0.6]]), 16)


def test_estimates_record_their_rows() -> None:
    model = _chain()
    est = mdmsched.estimate_curve(model, model.sample(60, np.random.default_rng(0)), seed=0)
    plan, even = mdmsched.optimal_schedule(est, 4), mdmsched.practice.equal(16, 4)
    assert est.schedule_error(plan).rows == 60
    assert est.compare(plan, even).rows == 60
    assert est.compare(plan, even, holdout=(np.arange(20), np.arange(20, 60))).rows == 40
    blocks = mdmsched.estimate_block_curves(model, model.sample(30, np.random.default_rng(1)), block_length=8, seed=0)
    assert blocks.rows_for(0.1, schedule=[[4, 4], [8]]) >= 2


def test_predicted_rows_give_the_target_stderr() -> None:
    # A big pilot plans the rows for a fixed schedule's error; then 200 fresh estimates of that size: the spread of
    # their values across data sets (the true standard error) and their mean reported stderr are the target within 15%.
    model, target = _chain(), 0.08
    schedule = mdmsched.practice.equal(16, 4)
    pilot = mdmsched.estimate_curve(model, model.sample(3000, np.random.default_rng(10)), seed=10)
    rows = pilot.rows_for(target, schedule=schedule)
    assert 20 <= rows <= 2000, rows
    values, reported = [], []
    for rep in range(200):
        est = mdmsched.estimate_curve(model, model.sample(rows, np.random.default_rng(100 + rep)), seed=rep)
        found = est.schedule_error(schedule, simultaneous=False)
        values.append(found.value)
        reported.append(found.stderr)
    actual = float(np.std(values, ddof=1))
    assert abs(actual / target - 1) <= 0.15, f"{rows} rows: true stderr {actual:.4f}, target {target}"
    assert abs(float(np.mean(reported)) / target - 1) <= 0.15, (rows, np.mean(reported))
    # the comparison's planned rows detect the pilot's difference: its stderr at that size is gain / (z + z_power)
    cmp = pilot.compare(mdmsched.optimal_schedule(pilot, 4), schedule, simultaneous=False)
    gain = max(abs(cmp.value), 0.05)
    need = cmp.rows_to_detect(gain)
    assert math.isclose(cmp.stderr * math.sqrt(cmp.rows / need), gain / 2.801585, rel_tol=0.05)
