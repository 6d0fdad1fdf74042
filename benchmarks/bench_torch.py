"""The torch helper on CPU: per-position NLL / entropy / sampling time as a fraction of the model's forward pass.

    python -m pytest benchmarks/bench_torch.py --full --benchmark-enable --benchmark-json=bench-torch.json -s

A deliberately cheap forward (embedding + one linear layer to V = 32,000 logits, B = 8, n = 256, half the positions
masked) makes the fraction an upper bound: a real transformer's forward is far more expensive, the reductions are not.
"""

from __future__ import annotations

import time
from typing import Any

import numpy as np
import pytest

torch = pytest.importorskip("torch")

from _sizes import size

from mdmsched.torch import TorchModel

B, N, V, D = size(2, 8), size(64, 256), size(2000, 32000), 64
MASK_ID = V - 1  # inside the logits: the helper removes its column


class Cheap(torch.nn.Module):
    """Embedding + one linear layer: the cheapest forward with real-sized (B, n, V) float32 logits."""

    def __init__(self, vocab: int, width: int) -> None:
        super().__init__()
        torch.manual_seed(0)
        self.embed = torch.nn.Embedding(vocab, width)
        self.head = torch.nn.Linear(width, vocab)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(torch.tanh(self.embed(x)))


def _case(batch: int, n: int, vocab: int) -> tuple[Cheap, np.ndarray, np.ndarray]:
    rng = np.random.default_rng(0)
    tokens = rng.integers(0, vocab - 1, size=(batch, n))
    mask = rng.random((batch, n)) < 0.5
    return Cheap(vocab, D), tokens, mask


_FORWARD: dict[str, float] = {}


def _forward_seconds(module: Cheap, tokens: np.ndarray, mask: np.ndarray) -> float:
    """Best of 3 forward passes (no_grad, same input the helper builds)."""
    if "s" not in _FORWARD:
        x = torch.from_numpy(np.where(mask, MASK_ID, tokens))
        best = float("inf")
        with torch.no_grad():
            module(x)  # warm-up
            for _ in range(3):
                start = time.perf_counter()
                module(x)
                best = min(best, time.perf_counter() - start)
        _FORWARD["s"] = best
    return _FORWARD["s"]


def _reference(module: Cheap, tokens: np.ndarray, mask: np.ndarray, mask_id: int) -> tuple[np.ndarray, np.ndarray]:
    """Per-position NLL and entropy (nats) in float64 NumPy from the module's logits, the mask column removed; one row
    at a time (a float64 copy of all (B, n, V) logits would be gigabytes at the full size)."""
    nll, entropy = np.zeros(tokens.shape), np.zeros(tokens.shape)
    for b in range(tokens.shape[0]):
        with torch.no_grad():
            logits = module(torch.from_numpy(np.where(mask[b:b + 1], mask_id, tokens[b:b + 1]))).double().numpy()[0]
        logits[:, mask_id] = -np.inf  # the mask token is not a data token
        logp = logits - logits.max(axis=-1, keepdims=True)
        logp -= np.log(np.exp(logp).sum(axis=-1, keepdims=True))
        nll[b] = -np.take_along_axis(logp, tokens[b][:, None], axis=-1)[:, 0]
        entropy[b] = -(np.exp(logp) * np.where(np.isinf(logp), 0.0, logp)).sum(axis=-1)
    return np.where(mask, nll, 0.0), np.where(mask, entropy, 0.0)


@pytest.mark.benchmark(group=f"torch helper, CPU, B={B} n={N} V={V} (embedding + linear forward)")
@pytest.mark.parametrize("what", ["forward", "cross_entropy", "entropy", "sample"])
def test_torch_helper_fraction_of_forward(benchmark: Any, what: str) -> None:
    module, tokens, mask = _case(B, N, V)
    model = TorchModel(module, MASK_ID)
    forward = _forward_seconds(module, tokens, mask)
    x = torch.from_numpy(np.where(mask, MASK_ID, tokens))

    def run() -> object:
        if what == "forward":
            with torch.no_grad():
                return module(x)
        if what == "sample":
            return model.sample(tokens, mask, np.random.default_rng(0))
        return model.score(tokens, mask, what)  # type: ignore[arg-type]

    run()  # warm-up
    out = benchmark.pedantic(run, rounds=3)
    nll, entropy = _reference(module, tokens, mask, MASK_ID)
    if what == "forward":
        assert tuple(out.shape) == (B, N, V)
    elif what == "sample":  # data tokens, drawn where masked; the revealed tokens are kept
        drawn = np.asarray(out)
        assert drawn.shape == tokens.shape and (drawn[mask] >= 0).all() and (drawn[mask] < V - 1).all()
        np.testing.assert_array_equal(drawn[~mask], tokens[~mask])
    else:
        np.testing.assert_allclose(out, nll if what == "cross_entropy" else entropy, rtol=1e-5, atol=1e-6)
    if benchmark.stats is None:  # run once as a test (--benchmark-disable): nothing was timed
        return
    total = benchmark.stats.stats.min
    extra = total - forward if what != "forward" else 0.0
    benchmark.extra_info.update(forward_seconds=forward, helper_seconds=extra, fraction_of_forward=extra / forward)
    print(f"\n{what:>13}: {total * 1e3:7.1f} ms total, helper {extra * 1e3:6.1f} ms = {extra / forward:5.2f} x forward "
          f"({forward * 1e3:.1f} ms)")


def test_torch_helper_matches_numpy_on_a_small_case() -> None:
    module, tokens, mask = _case(2, 16, 500)
    model = TorchModel(module, 499, chunk_size=5)
    nll, entropy = _reference(module, tokens, mask, 499)
    np.testing.assert_allclose(model.score(tokens, mask), nll, rtol=1e-6)
    np.testing.assert_allclose(model.score(tokens, mask, "entropy"), entropy, rtol=1e-6)
