"""One sampler step from the same logits: mdmsched's (``TorchModel.score_states`` + a rule's ``select``) against the
peers' own step code, side by side in one run, CPU time (issue 28.15).

    python -m pytest benchmarks/bench_rule_step.py --full -s -p no:cacheprovider

The logits are a fixed bf16 tensor ``(B, n, q)`` (full size: q = 126,464, n = 1024, B = 8; LLaDA's vocabulary and
generation length), the model a module returning them, so no forward pass is timed -- only what each sampler does with
the logits of one step of block 0 (32 positions, 4 revealed per step). The peers' steps are restated from their code:

* LLaDA (``ML-GSAI/LLaDA`` ``generate.py``, ``remasking='low_confidence'``, temperature 0): ``x0 = argmax(logits)``,
  ``p = softmax(logits)`` over every position, ``x0_p = p[x0]``, ``-inf`` outside the current block, top-k per row.
* Fast-dLLM (``NVlabs/Fast-dLLM`` ``llada/generate.py`` ``get_transfer_index``, ``threshold``): the same with a float32
  softmax and a threshold on the confidence.
* EB-sampler (entropy bound, as transformers' DiffusionGemma / SGLang ``_entropy_bound_mask``): entropy of every
  position's softmax (float32), sorted ascending within the block, the cumulative bound.

mdmsched reduces only the current block's masked positions (``where=``) and also draws the chosen tokens (a sampler
at temperature 1), so it does strictly more per scored position than the peers' temperature-0 steps. The benchmark
asserts the answer: at temperature 0 LLaDA's top-k set equals ``TopK``'s (continuous random logits: no ties).
"""

from __future__ import annotations

import functools
import os
import time

import numpy as np
import pytest
from _sizes import size

torch = pytest.importorskip("torch")

import mdmsched
from mdmsched.models.torch import TorchModel
from mdmsched.samplers import EntropyBounded, Threshold, TopK

B, N, Q = size((2, 64, 4096), (8, 1024, 126_464))
#: ``MDMSCHED_BENCH_DEVICE=cuda`` runs both sides on a GPU (benchmarks/gpu/rule_step.sh); time is then wall time with
#: ``torch.cuda.synchronize`` around each side, CPU time otherwise.
DEVICE = os.environ.get("MDMSCHED_BENCH_DEVICE", "cpu")
torch.set_num_threads(1)  # both sides on one thread: CPU time is then comparable on a shared, loaded machine
BLOCK, PER_STEP, ROUNDS = 32, 4, size(3, 2)  # full size: the peers' full-vocabulary softmax takes ~9 s a round


class Fixed(torch.nn.Module):
    """A "model" whose forward returns the same logits: the step cost alone is timed."""

    def __init__(self, logits: torch.Tensor) -> None:
        super().__init__()
        self.logits = logits

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.logits


@functools.lru_cache(maxsize=1)  # one 2 GB bf16 tensor at full size, shared by the three comparisons
def _state() -> tuple[torch.Tensor, np.ndarray, np.ndarray, np.ndarray]:
    gen = torch.Generator().manual_seed(0)
    logits = (torch.randn((B, N, Q), generator=gen) * 3).to(torch.bfloat16).to(DEVICE)
    tokens = np.zeros((B, N), dtype=np.int64)
    mask = np.ones((B, N), dtype=bool)  # the whole answer masked: the first step of block 0
    block = np.zeros((B, N), dtype=bool)
    block[:, :BLOCK] = True
    return logits, tokens, mask, block


def _llada_step(logits: torch.Tensor, mask: torch.Tensor, block: torch.Tensor) -> torch.Tensor:
    x0 = torch.argmax(logits, dim=-1)
    p = torch.nn.functional.softmax(logits, dim=-1)
    x0_p = torch.gather(p, -1, x0.unsqueeze(-1)).squeeze(-1)
    confidence = torch.where(mask & block, x0_p, torch.tensor(-np.inf, dtype=x0_p.dtype, device=x0_p.device))
    chosen = torch.zeros_like(mask)
    index = torch.topk(confidence, PER_STEP, dim=-1).indices
    chosen.scatter_(1, index, True)
    return chosen


def _fast_dllm_step(logits: torch.Tensor, mask: torch.Tensor, block: torch.Tensor, tau: float) -> torch.Tensor:
    x0 = torch.argmax(logits, dim=-1)
    p = torch.nn.functional.softmax(logits.to(torch.float32), dim=-1)
    x0_p = torch.gather(p, -1, x0.unsqueeze(-1)).squeeze(-1)
    confidence = torch.where(mask & block, x0_p, torch.tensor(-np.inf, device=x0_p.device))
    top = torch.topk(confidence, int((mask & block).sum(dim=1).max()), dim=-1)
    keep = top.values >= tau
    keep[:, 0] = True
    chosen = torch.zeros_like(mask)
    chosen.scatter_(1, top.indices, keep)
    return chosen


def _eb_step(logits: torch.Tensor, mask: torch.Tensor, block: torch.Tensor, gamma: float) -> torch.Tensor:
    logp = torch.log_softmax(logits.to(torch.float32), dim=-1)
    entropy = -(logp.exp() * logp).sum(dim=-1)
    entropy = torch.where(mask & block, entropy, torch.tensor(np.inf, device=entropy.device))
    ordered, index = torch.sort(entropy, dim=-1)
    finite = torch.where(torch.isfinite(ordered), ordered, torch.zeros_like(ordered))
    accept = (torch.cumsum(finite, dim=-1) - finite <= gamma) & torch.isfinite(ordered)
    chosen = torch.zeros_like(mask)
    chosen.scatter_(1, index, accept)
    return chosen


def _ours(model: TorchModel, rule: object, tokens: np.ndarray, mask: np.ndarray, block: np.ndarray) -> np.ndarray:
    candidates = mask & block
    scores = model.score_states(tokens, mask, nll=False, rng=np.random.default_rng(0), where=candidates)
    steps = np.zeros(B, dtype=np.int64)
    return rule.select(scores, candidates, steps, 0, np.random.default_rng(1))  # type: ignore[attr-defined]


def _cpu(fn: object, *args: object) -> tuple[float, object]:
    if DEVICE != "cpu":
        torch.cuda.synchronize()
        start = time.perf_counter()
        out = fn(*args)  # type: ignore[operator]
        torch.cuda.synchronize()
        return time.perf_counter() - start, out
    start = time.process_time()
    out = fn(*args)  # type: ignore[operator]
    return time.process_time() - start, out


@pytest.mark.benchmark(group="one sampler step from the same bf16 logits: mdmsched vs the peers' own step")
@pytest.mark.parametrize("peer", ["llada_low_confidence", "fast_dllm_threshold", "eb_sampler"])
def test_step_against_peer(benchmark, peer: str) -> None:
    logits, tokens, mask, block = _state()
    model = TorchModel(Fixed(logits), mask_id=Q - 1, device=DEVICE)
    tmask, tblock = torch.from_numpy(mask).to(DEVICE), torch.from_numpy(block).to(DEVICE)
    sizes = mdmsched.practice.equal(BLOCK, BLOCK // PER_STEP).sizes
    rule, theirs = {
        "llada_low_confidence": (TopK(sizes), lambda: _llada_step(logits, tmask, tblock)),
        "fast_dllm_threshold": (Threshold(0.9), lambda: _fast_dllm_step(logits, tmask, tblock, 0.9)),
        "eb_sampler": (EntropyBounded(0.1), lambda: _eb_step(logits, tmask, tblock, 0.1)),
    }[peer]
    ours_cpu, peer_cpu = [], []
    with torch.no_grad():
        for _ in range(ROUNDS):  # interleaved: both see the same machine load
            seconds, chosen = _cpu(_ours, model, rule, tokens, mask, block)
            ours_cpu.append(seconds)
            seconds, reference = _cpu(theirs)
            peer_cpu.append(seconds)
    if peer == "llada_low_confidence":  # the same top-k set (no ties among continuous logits)
        np.testing.assert_array_equal(chosen, reference.cpu().numpy())
    else:
        assert chosen.any(axis=1).all() and not (chosen & ~(mask & block)).any()
    ratio = float(np.median(ours_cpu) / np.median(peer_cpu))
    benchmark.extra_info.update(ours_cpu_s=float(np.median(ours_cpu)), peer_cpu_s=float(np.median(peer_cpu)),
                                ratio=ratio, shape=[B, N, Q])
    print(f"\n{peer}: mdmsched {np.median(ours_cpu) * 1e3:.1f} ms CPU, peer {np.median(peer_cpu) * 1e3:.1f} ms CPU, "
          f"ratio {ratio:.3f} (B={B}, n={N}, q={Q}, bf16)")
    benchmark.pedantic(_ours, args=(model, rule, tokens, mask, block), rounds=1, iterations=1)
