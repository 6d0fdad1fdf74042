"""Issue 28, item 8: ``practice.maskgit`` against MaskGIT's own ``decode`` (JAX on CPU) on the k values the first
fixture skips (``tests/data/maskgit_schedules_wide.json``, made by ``tests/data/make_maskgit_schedules.py --grid wide``;
provenance inside). With a correctly rounded float32 ``log`` the ``log`` schedule at n = 100, 30 passes gave
``[27, 15, 9, 6, ...]``; MaskGIT gives ``[27, 15, 8, 7, ...]`` because XLA's ``log`` (Eigen's ``plog_float``) differs by
one ulp there. Every case must match (n <= 128: no Gumbel ties, unlike the large-n cases of the first fixture)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from mdmsched.schedules import practice as P
from mdmsched.schedules._float32 import xla_log32

DATA = Path(__file__).resolve().parents[1] / "data" / "maskgit_schedules_wide.json"
METHODS = ["exp", "log", "cosine", "uniform", "pow2", "pow3"]


def _data() -> dict[str, Any]:
    return json.loads(DATA.read_text())


def test_provenance_is_recorded():
    provenance = _data()["provenance"]
    for key in ("repo", "files", "commit", "jax", "jaxlib", "platform", "command", "grids"):
        assert provenance.get(key), key
    assert provenance["commit"] == "1db23594e1bd328ee78eadcd148a19281cd0f5b8"
    assert set(provenance["grids"]) == set(METHODS)
    assert DATA.stat().st_size < 2 * 2**20


@pytest.mark.parametrize("method", METHODS)
def test_every_wide_case_matches_maskgit(method):
    cases = [c for c in _data()["cases"] if c["method"] == method]
    assert cases, f"no {method} cases in {DATA.name}"
    checked, mismatches = 0, []
    for case in cases:
        k = case["num_iter"]
        for n, counts in zip(case["n"], case["counts"]):
            assert len(counts) == k and sum(counts) == n  # the data itself: k passes revealing all n
            got = P.maskgit(n, k, method=method).passes.tolist()
            checked += 1
            if got != counts:
                mismatches.append((n, k, counts[:6], got[:6]))
    assert checked >= 128 * 13, checked
    assert not mismatches, f"{len(mismatches)} of {checked} {method} cases differ from MaskGIT, e.g. {mismatches[:4]}"


def test_the_issue_example():
    data = {(c["method"], n, c["num_iter"]): counts for c in _data()["cases"] for n, counts in zip(c["n"], c["counts"])}
    assert data[("log", 100, 30)][:4] == [27, 15, 8, 7]  # MaskGIT's own decode
    assert P.maskgit(100, 30, "log").passes.tolist() == data[("log", 100, 30)]


def test_xla_log_is_within_one_ulp_of_the_correctly_rounded_log():
    # An independent check of the emulation itself: faithful rounding on many arguments, and it differs from the
    # correctly rounded log somewhere (else the emulation would be pointless).
    rng = np.random.default_rng(3)
    x = rng.integers(0x00800000, 0x7F800000, size=200_000, dtype=np.int64).astype(np.uint32).view(np.float32)
    got = xla_log32(x)
    exact = np.log(x.astype(np.float64))
    below, above = np.nextafter(exact.astype(np.float32), -np.inf), np.nextafter(exact.astype(np.float32), np.inf)
    assert ((got >= below) & (got <= above)).all()
    assert 0.001 < np.mean(got != exact.astype(np.float32)) < 0.3  # 0.7% over all normal floats
    assert xla_log32(np.float32(1.0)) == 0.0
