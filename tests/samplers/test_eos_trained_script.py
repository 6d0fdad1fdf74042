"""benchmarks/measure_eos_trained.py keeps working (issue 26.2): its measuring function on a few rows with an
untrained net, and its entropy against brute-force enumeration of every sequence."""

from __future__ import annotations

import itertools
import math
from pathlib import Path

import numpy as np
import pytest
from scripts import load_script

pytest.importorskip("torch")

SCRIPT = Path(__file__).resolve().parents[2] / "benchmarks" / "measure_eos_trained.py"


@pytest.fixture(scope="module")
def script():
    return load_script(SCRIPT)


@pytest.mark.parametrize("n", [2, 4, 6])
def test_answer_entropy_matches_enumeration(script, n):
    P = script.TRANSITION
    total = 0.0
    for seq in itertools.product(range(3), repeat=n):
        p = 0.5 if seq[0] < 2 else 0.0
        for a, b in zip(seq, seq[1:]):
            p *= P[a, b]
        if p > 0:
            total -= p * math.log(p / (0.5 if seq[0] < 2 else 1.0))  # -sum p(x) log p(answer | prompt)
    assert script.answer_entropy(n) == pytest.approx(total, rel=1e-12)


def test_sample_follows_the_chain(script):
    data = script.EosChain(12).sample(4000, np.random.default_rng(0))
    assert set(np.unique(data[:, 0])) == {0, 1}
    after_eos = data[:, 1:][data[:, :-1] == 2]
    assert np.all(after_eos == 2)  # EOS absorbs
    stay = np.mean(data[:, 1][data[:, 0] == 0] == 0)
    assert abs(stay - 0.88) < 0.03


def test_measure_runs_on_an_untrained_net(script):
    import torch

    torch.manual_seed(0)  # an untrained net's weights come from torch's global generator: fix them, whatever ran before
    model = script.train_model(16, seconds=0.0, steps=None)
    data = script.EosChain(16).sample(64, np.random.default_rng(3))
    results = script.measure(model, data, ks=(4, 8))
    assert [(r["rule"], r["k"]) for r in results] == [("RandomOrder", 4), ("RandomOrder", 8),
                                                      ("TopK max_prob", 4), ("TopK max_prob", 8)]
    for r in results:
        assert r["plain"][0] == r["k"]
        assert r["eos"][0] <= r["k"] and r["closed+eos"][0] <= r["k"] + 1e-9
        assert all(math.isfinite(v) for cell in ("plain", "eos", "closed+eos") for v in r[cell])
        assert math.isfinite(r["delta_kl"][0]) and math.isfinite(r["closed_delta_kl"][0])
    # EOS settling must save forwards somewhere (rows end early), which also exercises the script's NFE == k check
    assert any(r["eos"][0] < r["k"] for r in results), [(r["k"], r["eos"][0]) for r in results]
