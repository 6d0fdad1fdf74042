"""Shared sweeps (issue 25.1): row-forwards and wall time of the map's rules, rule by rule vs one shared sweep.

    python -m pytest benchmarks/bench_sweep.py --full -s -q

The map's defaults (every family with its default sweep, batch_size 64) on the Markov example (the sticky 3-state
chain of ``mdmsched map``) at n = 256 with 64 rows under ``--full`` (n = 32, 16 rows by default). Both ways run in one
process side by side on a counting model; the shared sweep's per-row NLL and NFE are asserted equal to rule-by-rule
evaluation bit for bit, and its forward count to the counting model's. The frontier (the same curve estimate both
ways) is left out. Prints one line of numbers.
"""

from __future__ import annotations

import time

import numpy as np
from _sizes import size

from mdmsched.models.interface import as_state_model
from mdmsched.samplers import evaluate_sampler, sampler_map
from mdmsched.samplers.example import markov_example
from mdmsched.samplers.families import default_family


class CountingModel:
    """``score_states`` passed through, counting rows and calls."""

    def __init__(self, model: object) -> None:
        self.inner = as_state_model(model)
        self.rows = 0
        self.calls = 0

    def score_states(self, tokens, mask, *, nll=True, rng=None):
        self.rows += tokens.shape[0]
        self.calls += 1
        return self.inner.score_states(tokens, mask, nll=nll, rng=rng)


def test_map_shared_sweep_vs_rule_by_rule() -> None:
    n, rows = size(32, 256), size(16, 64)
    example = markov_example(n=n, rows=rows, seed=0)
    shared_model = CountingModel(example.model)
    start = time.perf_counter()
    shared = sampler_map(shared_model, example.rows, frontier=False)
    shared_seconds = time.perf_counter() - start
    alone_model = CountingModel(example.model)
    start = time.perf_counter()
    lengths = [n]
    rules = [default_family(row.family, lengths).rule(row.value, lengths) for row in shared.rows]
    alone = [evaluate_sampler(alone_model, example.rows, rule, seed=0) for rule in rules]
    alone_seconds = time.perf_counter() - start
    for row, est in zip(shared.rows, alone):
        assert np.array_equal(row.estimate.nll_rows, est.nll_rows) and np.array_equal(row.estimate.nfe_rows,
                                                                                      est.nfe_rows), row.rule
    assert shared_model.rows >= shared.row_forwards  # plus the copies sent beside lone states
    print(f"\nn = {n}, {rows} rows, {len(shared.rows)} rules: rule by rule {alone_model.rows} row-forwards "
          f"({alone_model.calls} calls) in {alone_seconds:.1f} s; shared sweep {shared_model.rows} row-forwards "
          f"({shared.row_forwards} distinct states) "
          f"({shared_model.calls} calls) in {shared_seconds:.1f} s; {alone_model.rows / shared_model.rows:.2f}x fewer "
          f"forwards, {alone_seconds / shared_seconds:.2f}x wall; planned rule by rule <= {shared.separate_row_forwards}")

