"""Train a tiny transformer masked diffusion model on CPU, then schedule it with mdmsched (issue 10, end to end).

    python examples/train_tiny_mdm.py --minutes 3

Data: rows of a known stationary Markov chain (``q`` symbols), the first ``--prompt`` positions a prompt that is always
revealed, the remaining ``--gen`` positions the answer. Training: the standard MDM loss -- per row a masking level
``t ~ U(0, 1)``, each answer position masked with probability ``t``, cross-entropy at the masked positions weighted by
``1 / t`` (the continuous-time ELBO). Then the pipeline of the README's "Use it with your LLM":

1. ``TorchModel`` wraps the network (mask id ``q``, outside the ``q`` logits);
2. ``estimate_block_curves`` measures the per-block masked cross-entropy curves ``Z^g`` on held-out rows;
3. ``optimal_split`` spends a budget of ``--steps`` model calls across blocks; LLaDA's default (equal steps per block,
   equal counts per step) and the even split are the baselines;
4. the predicted KL of each schedule (``entropy = H(answer | prompt)``, known for the chain) is checked against the
   measured one: ``mdmsched.expected_kl`` against the true chain, and independently ``mdmsched.torch.generate`` in teacher
   mode (``log mu(x_answer | x_prompt) + sum of the model's -log q along the sampler's random path``).

Everything is seeded; the numbers depend on the machine only through the training time budget.
"""

from __future__ import annotations

import argparse
import math
import time
from collections.abc import Sequence
from typing import Any

import numpy as np
import torch

import mdmsched
from mdmsched.torch import TorchModel, generate


def make_chain(q: int, seed: int) -> np.ndarray:
    """A sticky chain with two likely successors per state: long-range structure a schedule can exploit."""
    rng = np.random.default_rng(seed)
    p = rng.dirichlet(np.full(q, 0.3), size=q) * 0.15
    p[np.arange(q), np.arange(q)] += 0.55  # stay
    p[np.arange(q), (np.arange(q) + 1) % q] += 0.30  # step on
    return p / p.sum(axis=1, keepdims=True)


class TinyMDM(torch.nn.Module):
    """Bidirectional transformer: token (+ mask) and position embeddings, a width-5 convolution (so that neighbours
    are visible from the first step: a few CPU minutes are not enough for attention to discover locality), encoder
    layers, a head over ``q`` symbols."""

    def __init__(self, q: int, length: int, width: int = 64, layers: int = 2, heads: int = 4) -> None:
        super().__init__()
        self.tok = torch.nn.Embedding(q + 1, width)  # id q = mask
        self.pos = torch.nn.Embedding(length, width)
        self.local = torch.nn.Conv1d(width, width, kernel_size=5, padding=2)
        layer = torch.nn.TransformerEncoderLayer(width, heads, dim_feedforward=2 * width, dropout=0.0,
                                                 batch_first=True, norm_first=True)
        self.encoder = torch.nn.TransformerEncoder(layer, layers, enable_nested_tensor=False)
        self.norm = torch.nn.LayerNorm(width)
        self.head = torch.nn.Linear(width, q)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        h = self.tok(x) + self.pos(torch.arange(x.shape[1], device=x.device))
        h = h + self.local(h.transpose(1, 2)).transpose(1, 2)
        return self.head(self.norm(self.encoder(h)))


def train(net: TinyMDM, chain: mdmsched.MarkovPredictor, prompt: int, *, seconds: float, batch: int, lr: float,
          seed: int, log_every: float = 20.0, max_steps: int | None = None) -> list[tuple[int, float]]:
    """MDM training for ``seconds`` of wall time (or ``max_steps`` steps, whichever comes first); returns
    ``(step, mean masked cross-entropy)`` per log interval."""
    rng = np.random.default_rng(seed)
    torch.manual_seed(seed)
    q, n = chain.q, chain.n
    opt = torch.optim.AdamW(net.parameters(), lr=lr, weight_decay=0.01)
    net.train()
    history: list[tuple[int, float]] = []
    start = last = time.perf_counter()
    step, window, count = 0, 0.0, 0
    while True:
        x = torch.from_numpy(chain.sample(batch, rng))
        # LLaDA's forward process: masking probability t in [1e-3, 1] per row; the prompt is always revealed.
        t = torch.from_numpy(0.001 + 0.999 * rng.random((batch, 1)))
        masked = torch.from_numpy(rng.random((batch, n))) < t
        masked[:, :prompt] = False
        logits = net(torch.where(masked, q, x))
        ce = torch.nn.functional.cross_entropy(logits.transpose(1, 2), x, reduction="none")  # (batch, n) nats
        loss = ((ce * masked) / t).sum() / (batch * (n - prompt))
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        step += 1
        window += float((ce.detach() * masked).sum() / masked.sum().clamp(min=1))
        count += 1
        now = time.perf_counter()
        done = now - start >= seconds or (max_steps is not None and step >= max_steps)
        if now - last >= log_every or done:
            history.append((step, window / count))
            print(f"  step {step:6d}  {now - start:6.0f} s  masked cross-entropy {window / count:.4f} nats")
            window, count, last = 0.0, 0, now
        if done:
            break
    net.eval()
    return history


def llada_default(gen: int, block: int, steps: int) -> Any:
    """LLaDA's generate(): equal steps per block, equal counts per step (``mdmsched.schedules.llada_blocks``)."""
    rule = getattr(mdmsched.schedules, "llada_blocks", None) or mdmsched.practice.llada_blocks
    return rule(gen, block, steps)


def teacher_kl(model: TorchModel, chain: mdmsched.MarkovPredictor, schedule: Any, prompt: int, block: int,
               count: int, seed: int) -> tuple[float, float]:
    """Mean and standard error of ``log mu(x_answer | x_prompt) + NLL`` along :func:`generate`'s random path."""
    rng = np.random.default_rng(seed)
    x = chain.sample(count, rng)
    _, nll = generate(model, x, prompt, schedule.num_transfer_tokens(), block, rng=rng, teacher=x)
    log_answer = np.log(chain.P[x[:, prompt - 1:-1], x[:, prompt:]]).sum(axis=1)
    values = log_answer + nll
    return float(values.mean()), float(values.std(ddof=1) / math.sqrt(count))


def main(argv: Sequence[str] | None = None) -> dict[str, Any]:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--minutes", type=float, default=3.0, help="training wall time (default 3)")
    parser.add_argument("--q", type=int, default=6, help="alphabet size")
    parser.add_argument("--prompt", type=int, default=8, help="prompt length (always revealed)")
    parser.add_argument("--gen", type=int, default=32, help="generated positions")
    parser.add_argument("--block", type=int, default=8, help="block length (semi-autoregressive)")
    parser.add_argument("--steps", type=int, default=8, help="total model calls (a multiple of the number of blocks)")
    parser.add_argument("--batch", type=int, default=128, help="training batch")
    parser.add_argument("--lr", type=float, default=2e-3)
    parser.add_argument("--rows", type=int, default=1024, help="held-out rows for the curves")
    parser.add_argument("--kl-samples", type=int, default=2048, help="rows for the measured KL")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--threads", type=int, default=1, help="torch CPU threads (small models: 1 is fastest)")
    args = parser.parse_args(argv)
    torch.set_num_threads(args.threads)

    n = args.prompt + args.gen
    chain = mdmsched.MarkovPredictor(make_chain(args.q, args.seed), n)
    net = TinyMDM(args.q, n)
    print(f"training a {sum(p.numel() for p in net.parameters()):,}-parameter MDM for {args.minutes:g} min on CPU "
          f"(q={args.q}, prompt {args.prompt} + answer {args.gen})")
    history = train(net, chain, args.prompt, seconds=60 * args.minutes, batch=args.batch, lr=args.lr, seed=args.seed)
    rate = float(chain.pi @ -np.sum(np.where(chain.P > 0, chain.P * np.log(np.where(chain.P > 0, chain.P, 1)), 0), 1))
    entropy = args.gen * rate  # H(answer | prompt) of the stationary chain, nats
    print(f"  (the true chain's masked cross-entropy is at least its entropy rate {rate:.4f} nats per token)")

    model = TorchModel(net, mask_id=args.q, vocab=args.q)
    region = np.arange(n) >= args.prompt
    data = chain.sample(args.rows, np.random.default_rng(args.seed + 1))
    start = time.perf_counter()
    est = mdmsched.estimate_block_curves(model, data, block_length=args.block, region=region, grid=None,
                                         seed=args.seed)
    print(f"block curves Z^g from {args.rows} held-out rows in {time.perf_counter() - start:.1f} s")

    plans = {
        "optimal split": est.optimal_split(args.steps),
        "LLaDA default": llada_default(args.gen, args.block, args.steps),
        "even split": mdmsched.schedules.blockwise(args.gen, args.block, total_steps=args.steps),
    }
    print(f"\n{'schedule':<14} {'sizes per block':<24} {'predicted KL':>22} {'95% upper':>10} {'expected_kl':>18} "
          f"{'generate(teacher)':>18}")
    results: dict[str, Any] = {"history": history}
    for name, plan in plans.items():
        predicted = est.schedule_error(plan, entropy=entropy)
        measured = mdmsched.expected_kl(chain, model, plan, args.kl_samples, region=region, seed=args.seed + 2)
        teacher = teacher_kl(model, chain, plan, args.prompt, args.block, args.kl_samples, args.seed + 3)
        per_block = "/".join("+".join(str(int(c)) for c in row if c) for row in plan.num_transfer_tokens())
        print(f"{name:<14} {per_block:<24} {predicted.value:12.3f} +- {predicted.stderr:6.3f} {predicted.upper:10.3f} "
              f"{measured.mean:9.3f} +- {measured.stderr:5.3f} {teacher[0]:9.3f} +- {teacher[1]:5.3f}")
        results[name] = {"table": plan.num_transfer_tokens(), "predicted": predicted, "expected_kl": measured,
                         "teacher": teacher}
    gain = est.compare(plans["optimal split"], plans["LLaDA default"])
    paired = results["optimal split"]["expected_kl"].values - results["LLaDA default"]["expected_kl"].values
    print(f"\noptimal - LLaDA, predicted: {gain.value:.3f} +- {gain.stderr:.3f} nats (95% upper {gain.upper:.3f}); "
          f"measured (paired draws of x): {paired.mean():.3f} +- {paired.std(ddof=1) / math.sqrt(paired.size):.3f}")
    print(f"KL in nats per answer of {args.gen} tokens; H(answer | prompt) = {entropy:.3f} nats")
    sample = generate(model, data[:2], region, plans["optimal split"].num_transfer_tokens(), args.block,
                      rng=np.random.default_rng(args.seed + 4))
    print("two answers generated with the optimal split:", *("".join(map(str, r[args.prompt:])) for r in sample))
    results["gain"] = gain
    return results


if __name__ == "__main__":
    main()
