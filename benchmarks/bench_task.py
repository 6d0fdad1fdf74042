"""Task evaluation by real generation (SPEC §5.5): forward passes per prompt and the package's own overhead per step.

    python -m pytest benchmarks/bench_task.py --full --benchmark-enable --benchmark-json=bench-task.json -s

The model is a fake whose ``score_states`` returns precomputed (B, n) state scores (as if from a q = 126,464 softmax)
and draws ``floor(u * q)`` at the uniforms the loop hands it (``uniforms=``: one per position from each row's own
generator), so what is timed is mdmsched's loop: per-row uniforms, score checks, the rule, the bookkeeping, the
scorer. Full size: q = 126,464, n = 1024 generated positions, B = 8 rows (prompts x samples); small by default.
The answer is checked against closed forms: the count rules take exactly their number of steps, and every output's
generated token at a position is ``floor(u * q)`` of a uniform, so ``"exact"`` against a row of other tokens scores 0.
"""

from __future__ import annotations

import time

import _sizes
import numpy as np
import pytest

import mdmsched
from mdmsched.models.interface import StateScores
from mdmsched.samplers import RandomOrder, Threshold, TopK, evaluate_task

Q = 126_464
N = _sizes.size(64, 1024)
B = _sizes.size(4, 8)
STEPS = N // 4  # count rules: 4 tokens per step


class PrecomputedDraws:
    """``score_states`` returning fixed scores per row (position 0 of a row holds its id) and draws at the given
    uniforms: no model work at all."""

    def __init__(self, rows: int, n: int, seed: int = 0) -> None:
        rng = np.random.default_rng(seed)
        top = rng.beta(2.0, 1.2, (rows, n))
        self.max_prob, self.margin = top, top * rng.random((rows, n))
        self.entropy = -np.log(np.maximum(top, 1e-12)) + rng.random((rows, n))
        self.calls = 0

    def score_states(self, tokens, mask, *, nll=True, rng=None, uniforms=None):
        self.calls += 1
        r = tokens[:, 0]
        draws = np.minimum((uniforms * Q).astype(np.int64), Q - 1)
        return StateScores(self.max_prob[r], self.margin[r], self.entropy[r], None, draws)


def _rules() -> dict[str, object]:
    counts = mdmsched.practice.equal(N, STEPS).sizes
    return {"random_order": RandomOrder(counts), "top_k": TopK(counts), "threshold": Threshold(0.9)}


@pytest.mark.benchmark(group=f"evaluate_task overhead per step, q={Q:,}, n={N}, B={B}")
@pytest.mark.parametrize("name", list(_rules()))
def test_task_overhead_per_step(benchmark, name):
    prompts = np.full((B, N + 1), Q, dtype=np.int64)  # never a generated token (those are < Q)
    prompts[:, 0] = np.arange(B)  # lets the fake find each row's scores; position 0 is the prompt
    region = np.arange(N + 1) >= 1
    fake = PrecomputedDraws(B, N + 1)
    rule = _rules()[name]
    kwargs = {"references": list(prompts), "region": region, "batch_size": B, "seed": 0}
    est = benchmark.pedantic(evaluate_task, args=(fake, prompts, rule, "exact"), kwargs=kwargs, rounds=3,
                             warmup_rounds=1)
    steps = int(est.nfe_rows.max())
    if benchmark.stats is not None:  # None when run once as a test (--benchmark-disable)
        cpu = time.process_time()
        evaluate_task(fake, prompts, rule, "exact", **kwargs)
        benchmark.extra_info.update(per_step_seconds=benchmark.stats.stats.median / steps, steps=steps,
                                    per_step_cpu_seconds=(time.process_time() - cpu) / steps,
                                    forwards_per_prompt=est.nfe)
        print(f"\n{name}: {est.nfe:.1f} forward passes per prompt, {benchmark.stats.stats.median / steps * 1e3:.3f} "
              f"ms per step wall, {(time.process_time() - cpu) / steps * 1e3:.3f} ms per step CPU")
    if name != "threshold":
        np.testing.assert_array_equal(est.nfe_rows, np.full(B, STEPS))
    else:  # step 1: every position with max prob >= 0.9 (at least one), then the rest one at a time
        above = (fake.max_prob[:, 1:] >= 0.9).sum(axis=1)
        np.testing.assert_array_equal(est.nfe_rows, np.where(above > 0, 1 + N - above, N))
    assert est.model_calls == steps and est.accuracy == 0.0
    assert (est.outputs[:, 1:] < Q).all() and (est.outputs[:, 0] == np.arange(B)).all()
