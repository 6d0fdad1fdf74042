"""Issue 10, end to end: a learned-like torch MDM -> per-position NLL model -> prompt-conditioned block curves Z^g ->
optimal budget split -> LLaDA-style torch generation loop driven by num_transfer_tokens -> measured KL against the true
chain, which must match the predicted sum of block errors and beat LLaDA's default split."""

from __future__ import annotations

import math

import numpy as np
import pytest

torch = pytest.importorskip("torch")

import mdmsched  # noqa: E402
from mdmsched.distributions import stationary_distribution  # noqa: E402
from mdmsched.torch import TorchModel, generate  # noqa: E402

from torch_models import MarkovMDM  # noqa: E402

P = np.array([[0.90, 0.08, 0.02], [0.05, 0.90, 0.05], [0.10, 0.10, 0.80]])
PROMPT, GEN, BLOCK, BUDGET = 4, 24, 8, 10


def _answer_entropy() -> float:
    """H(answer | prompt) of the stationary chain: GEN steps of the entropy rate sum_i pi_i H(P_i) (nats)."""
    pi = stationary_distribution(P)
    return GEN * float(-(pi[:, None] * P * np.log(P)).sum())


def _measured_kl(model, truth, x, region, schedule, seed):
    """Per-row samples of the sampler's KL to the chain: log mu(answer | prompt) + the loop's teacher-forced NLL."""
    _, nll = generate(model, x, region, schedule.num_transfer_tokens(), BLOCK, rng=np.random.default_rng(seed),
                      teacher=x)
    return truth.log_prob(x) - truth.log_marginal(x, np.arange(PROMPT)) + nll


def test_learned_model_pipeline_predicts_and_beats_llada():
    length = PROMPT + GEN
    module = MarkovMDM(P, length, perturb=0.3, seed=1)  # deterministic, inconsistent: a learned-like model
    model = TorchModel(module, mask_id=3, vocab=3)
    truth = mdmsched.MarkovPredictor(P, length)
    rng = np.random.default_rng(0)
    region = np.arange(length) >= PROMPT

    curves = mdmsched.estimate_block_curves(model, truth.sample(800, rng), block_length=BLOCK, region=region, seed=1)
    assert [c.target for c in curves.curves] == ["cross_entropy"] * 3
    split = curves.optimal_split(BUDGET)
    assert split.k == BUDGET and len({b.k for b in split.blocks}) > 1  # a different step count per block
    baseline = mdmsched.schedules.blockwise(GEN, BLOCK, total_steps=BUDGET)  # LLaDA: even split, equal in blocks
    table = split.num_transfer_tokens()
    assert table.dtype == np.int64 and table.shape == (3, max(b.k for b in split.blocks))

    x = truth.sample(3000, rng)
    ours = _measured_kl(model, truth, x, region, split, seed=5)
    theirs = _measured_kl(model, truth, x, region, baseline, seed=5)
    se = ours.std(ddof=1) / math.sqrt(ours.size)
    predicted = curves.schedule_error(split, entropy=_answer_entropy())
    assert predicted.absolute
    assert predicted.lower - 3 * se <= ours.mean() <= predicted.upper + 3 * se
    assert abs(ours.mean() - predicted.value) <= 4 * math.hypot(se, predicted.stderr)
    diff = ours - theirs
    assert diff.mean() + 2 * diff.std(ddof=1) / math.sqrt(diff.size) < 0  # measurably better than LLaDA's split
    # and the estimate predicted the gain with its own paired error bar
    gain = curves.compare(split, baseline)
    assert gain.upper < 0
    assert abs(gain.value - diff.mean()) <= 4 * math.hypot(gain.stderr, diff.std(ddof=1) / math.sqrt(diff.size))
