"""How many rows (issue 25.6): rows for a standard error, rows to detect a gain with stated power, and the map's
verdict when the data cannot separate the best samplers."""

from __future__ import annotations

import math
import statistics

import numpy as np
import pytest

from mdmsched.samplers import SamplerComparison, SamplerEstimate, rows_for_stderr, rows_to_detect
from mdmsched.samplers.map import MapRow, SamplerMap


def _wilson(hits: int, runs: int, z: float = 1.96) -> tuple[float, float]:
    p = hits / runs
    centre = (p + z * z / (2 * runs)) / (1 + z * z / runs)
    half = z * math.sqrt(p * (1 - p) / runs + z * z / (4 * runs * runs)) / (1 + z * z / runs)
    return centre - half, centre + half


def test_rows_for_stderr_matches_the_variance_formula() -> None:
    pilot = np.random.default_rng(0).lognormal(0.0, 1.0, 60)  # heavy-ish tailed per-row losses
    expected = math.ceil(statistics.variance(pilot.tolist()) / 0.05**2)
    assert rows_for_stderr(pilot, 0.05) == expected
    est = SamplerEstimate(pilot, np.ones(60, dtype=np.int64), 8, "r")
    assert est.rows_for(0.05) == expected
    assert est.rows_for(10.0) == 2  # never fewer than two rows
    with pytest.raises(ValueError, match="stderr"):
        rows_for_stderr(pilot, 0.0)
    with pytest.raises(ValueError, match="values"):
        rows_for_stderr([1.0], 0.1)
    with pytest.raises(TypeError, match="stderr"):
        rows_for_stderr(pilot, "small")


def test_rows_to_detect_gives_the_stated_power() -> None:
    # A big pilot (its spread is nearly the truth); then many studies of the planned size: the fraction whose
    # two-sided 95% test rejects "no difference" is the power, about 0.8.
    rng = np.random.default_rng(1)
    gain, sd = 0.3, 2.0
    rows = rows_to_detect(rng.normal(gain, sd, 20_000), gain, power=0.8, confidence=0.95)
    runs = 2000
    d = rng.normal(gain, sd, (runs, rows))
    hits = int((np.abs(d.mean(axis=1)) / (d.std(axis=1, ddof=1) / math.sqrt(rows)) > 1.959964).sum())
    low, high = _wilson(hits, runs)
    assert low <= 0.8 <= high, f"power {hits}/{runs} = {hits / runs:.3f}, Wilson CI [{low:.3f}, {high:.3f}] (planned 0.8)"
    with pytest.raises(ValueError, match="power"):
        rows_to_detect([0.1, 0.2, 0.3], 0.1, power=1.0)
    with pytest.raises(ValueError, match="gain"):
        rows_to_detect([0.1, 0.2, 0.3], 0.0)


def test_comparison_rows_to_detect_uses_the_paired_differences() -> None:
    rng = np.random.default_rng(2)
    shared = rng.normal(10.0, 5.0, 80)  # big per-row variation common to both samplers cancels in pairs
    a = SamplerEstimate(shared + rng.normal(0.0, 0.5, 80), np.ones(80, dtype=np.int64), 8, "a")
    b = SamplerEstimate(shared, np.ones(80, dtype=np.int64), 8, "b")
    cmp = SamplerComparison(0.0, 0.0, 0.0, 0.0, 0.95, "normal", 0.0, a, b)
    assert cmp.rows_to_detect(0.2) == rows_to_detect(a.nll_rows - b.nll_rows, 0.2)
    assert cmp.rows_to_detect(0.2) < rows_to_detect(a.nll_rows, 0.2) / 10


def _row(family: str, nfe: float, values: np.ndarray) -> MapRow:
    est = SamplerEstimate(values, np.full(values.size, int(nfe), dtype=np.int64), 16, family)
    return MapRow(family, "k", nfe, family, est.nfe, 16 / est.nfe, est.nll, est.stderr, None, est)


def test_verdict_names_the_tied_rows_and_recommends_the_simplest() -> None:
    rng = np.random.default_rng(3)
    base = rng.normal(20.0, 4.0, 200)

    def near(offset: float) -> np.ndarray:  # paired noise of mean exactly `offset`: 0.01 nats is 0.3 stderr here
        noise = rng.normal(0.0, 0.5, 200)
        return base + noise - noise.mean() + offset

    rows = (_row("top_k", 8, base), _row("random", 8, near(0.01)), _row("threshold", 6, near(0.01)),
            _row("factor", 8, near(0.3)),
            _row("entropy_bounded", 12, base - 5.0))
    smap = SamplerMap(rows, 16, None, np.zeros(0, dtype=np.int64), np.zeros(0), math.nan)
    verdict = smap.verdict(8)
    assert verdict.best.family == "top_k"
    # factor (0.3 nats worse, 8.5 stderr) is separated; entropy_bounded is too slow for the budget
    assert {r.family for r in verdict.tied} == {"top_k", "random", "threshold"}
    assert verdict.recommended.family == "random" and "equal split" in verdict.reason
    no_random = SamplerMap(tuple(r for r in rows if r.family != "random"), 16, None, np.zeros(0, dtype=np.int64),
                           np.zeros(0), math.nan)
    cheapest = no_random.verdict(8)
    assert cheapest.recommended.family == "threshold" and "cheapest" in cheapest.reason
    alone = SamplerMap((rows[0], rows[3]), 16, None, np.zeros(0, dtype=np.int64), np.zeros(0), math.nan).verdict(8)
    assert alone.tied == (rows[0],) and alone.recommended is rows[0]
