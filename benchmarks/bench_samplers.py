"""Samplers that choose their positions (SPEC §5.2): the package's own cost per step, and the map of a trained model.

    python -m pytest benchmarks/bench_samplers.py --benchmark-enable --benchmark-json=bench-samplers.json -s
    python benchmarks/report.py bench-samplers.json

1. Overhead per step of every rule at LLM sizes (q = 126,464, n = 1024, B = 8 rows): the model is a fake whose
   ``score_states`` returns precomputed (B, n) arrays (the per-position interface: the package never sees q), so what
   is timed is mdmsched's own loop -- score checks, the rule's choice, the bookkeeping. The answer (NLL sum and NFE)
   is asserted against a closed form: with state-independent scores every rule's path is known in advance.
2. The KL-vs-NFE map of the tiny transformer MDM of ``examples/train_tiny_mdm.py`` (trained briefly here, its code
   path at a small size), with the random-order rows checked against the same model's cross-entropy curve (an
   independent estimator: curve + schedule functional vs teacher-forced runs).
"""

from __future__ import annotations

import math
import time

import numpy as np
import pytest
from _examples import load_example

import mdmsched
from mdmsched.models.interface import StateScores
from mdmsched.samplers import EntropyBounded, Factor, FloorThreshold, RandomOrder, Threshold, TopK, evaluate_sampler

Q, N, B = 126_464, 1024, 8
STEPS = 256  # count rules: 4 tokens per step


class PrecomputedScores:
    """``score_states`` that returns fixed arrays (as if from a q = 126,464 softmax): no model work at all."""

    def __init__(self, rows: int, n: int, seed: int = 0) -> None:
        rng = np.random.default_rng(seed)
        top = rng.beta(2.0, 1.2, (rows, n))  # max probabilities, many near 1 as in a trained LLM
        self.max_prob = top
        self.margin = top * rng.random((rows, n))
        self.entropy = -np.log(np.maximum(top, 1e-12)) + rng.random((rows, n))
        self.nll = -np.log(np.maximum(top * rng.random((rows, n)), 1.0 / Q))
        self.calls = 0

    def score_states(self, tokens, mask, *, nll=True, rng=None):
        self.calls += 1
        r = tokens[:, 0]  # the rows still generating: teacher forcing passes the true rows, whose token 0 is the row id
        return StateScores(self.max_prob[r], self.margin[r], self.entropy[r], self.nll[r] if nll else None)


def _rules() -> dict[str, object]:
    counts = mdmsched.practice.equal(N, STEPS).sizes
    return {"random_order": RandomOrder(counts), "top_k": TopK(counts), "top_k_margin": TopK(counts, score="margin"),
            "threshold": Threshold(0.9), "factor": Factor(1.0), "entropy_bounded": EntropyBounded(0.5),
            "floor_threshold": FloorThreshold(counts, tau=0.9)}


def _expected_nfe(name: str, fake: PrecomputedScores) -> np.ndarray | None:
    """Closed-form NFE per row for state-independent scores (None where it needs the loop itself)."""
    if name in ("random_order", "top_k", "top_k_margin"):
        return np.full(B, STEPS)
    if name == "threshold":  # step 1: every position >= tau (at least one); then the rest one at a time
        above = (fake.max_prob >= 0.9).sum(axis=1)
        return np.where(above > 0, 1 + N - above, N)
    return None


@pytest.mark.benchmark(group="overhead per step of a rule, per-position interface, q=126,464, n=1024, B=8")
@pytest.mark.parametrize("name", list(_rules()))
def test_rule_overhead_per_step(benchmark, name):
    fake = PrecomputedScores(B, N)
    data = np.random.default_rng(1).integers(0, Q, (B, N))
    data[:, 0] = np.arange(B)  # lets the fake model find each row's precomputed scores
    rule = _rules()[name]
    est = benchmark.pedantic(evaluate_sampler, args=(fake, data, rule), kwargs={"batch_size": B, "seed": 0},
                             rounds=3, warmup_rounds=1)
    steps = int(est.nfe_rows.max())
    if benchmark.stats is not None:  # None when run once as a test (--benchmark-disable)
        # CPU time too: on a shared machine the wall-clock median includes waiting for a core
        cpu = time.process_time()
        evaluate_sampler(fake, data, rule, batch_size=B, seed=0)
        benchmark.extra_info.update(per_step_seconds=benchmark.stats.stats.median / steps, steps=steps,
                                    per_step_cpu_seconds=(time.process_time() - cpu) / steps)
    # every position is revealed exactly once with a state-independent nll: the row sum is fixed
    np.testing.assert_allclose(est.nll_rows, fake.nll.sum(axis=1), rtol=1e-12)
    expected = _expected_nfe(name, fake)
    if expected is not None:
        np.testing.assert_array_equal(est.nfe_rows, expected)
    else:
        assert (est.nfe_rows >= 1).all() and (est.nfe_rows <= N).all()


# ---- the map of a trained tiny MDM -------------------------------------------------------------------------------------


@pytest.mark.benchmark(group="sampler map of the trained tiny MDM (prompt 8 + answer 32, blocks of 8)")
def test_tiny_mdm_map(benchmark):
    torch = pytest.importorskip("torch")
    tiny = load_example("train_tiny_mdm")
    torch.set_num_threads(1)
    q, prompt, gen, block = 6, 8, 32, 8
    n = prompt + gen
    chain = mdmsched.MarkovPredictor(tiny.make_chain(q, 0), n)
    net = tiny.TinyMDM(q, n)
    enabled = benchmark.enabled
    # timed: two minutes of training and every family; run once as a test: a few steps and two families
    tiny.train(net, chain, prompt, seconds=120.0 if enabled else 10.0, batch=128, lr=2e-3, seed=0,
               max_steps=None if enabled else 30, log_every=60.0)
    model = mdmsched.torch.TorchModel(net, mask_id=q, vocab=q)
    region = np.arange(n) >= prompt
    rows = chain.sample(256 if enabled else 48, np.random.default_rng(1))
    rate = float(chain.pi @ -np.sum(np.where(chain.P > 0, chain.P * np.log(np.where(chain.P > 0, chain.P, 1)), 0), 1))
    entropy = gen * rate  # H(answer | prompt) of the stationary chain, nats
    families = None if enabled else ["random", "threshold"]
    result = benchmark.pedantic(mdmsched.samplers.sampler_map, args=(model, rows, families),
                                kwargs={"region": region, "block_length": block, "entropy": entropy, "seed": 0},
                                rounds=1)
    print("\n" + _table(result))
    for budget in (4, 8, 16, 32):
        best = result.best(budget)
        benchmark.extra_info[f"best_at_nfe_{budget}"] = f"{best.family} {best.parameter}={best.value:g}: " \
                                                        f"NFE {best.nfe:.2f}, KL {best.kl:.3f} +- {best.stderr:.3f}"
    # independent reference: random-order rows vs the block curves' schedule functional (sum_j s_j g_{N_{j-1}})
    curve = result.curve
    assert isinstance(curve, mdmsched.models.BlockCurveEstimate)
    for row in result.family("random"):
        k = int(row.value)
        sizes = [mdmsched.practice.equal(length, min(k, length)).sizes for length in curve.block_lengths]
        predicted = curve.schedule_error(sizes, entropy=0.0)
        gap = abs(row.nll - predicted.value)
        assert gap <= 4 * math.hypot(row.stderr, predicted.stderr) + 1e-9, (k, row.nll, predicted)


def _table(result) -> str:
    lines = ["| family | hyperparameter | mean NFE | tokens/forward | expected KL (nats) | +- |", "|---|---|---|---|---|---|"]
    for row in result.rows:
        lines.append(f"| {row.family} | {row.parameter} = {row.value:g} | {row.nfe:.2f} | {row.tokens_per_forward:.2f} "
                     f"| {row.kl:.3f} | {row.stderr:.3f} |")
    kl = result.frontier_kl
    picks = [i for i, k in enumerate(result.frontier_nfe) if k in (4, 6, 8, 12, 16, 24, 32)]
    lines.append("frontier (optimal random order, KL nats): " +
                 ", ".join(f"NFE {result.frontier_nfe[i]}: {kl[i]:.3f}" for i in picks))
    return "\n".join(lines)
