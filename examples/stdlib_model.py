"""The byte-level masked diffusion model of the standard-library example, its MDM training step and its held-out
masked cross-entropy (torch; no data reading here, see ``stdlib_data.py``).

Model: byte + mask embedding (257 ids) and learned positions, a width-``kernel`` 1-D convolution (so that neighbouring
bytes are visible from the first step: in a few CPU minutes attention alone stays near the unigram loss, about 3
nats/byte), ``layers`` pre-norm transformer encoder layers, a head over the 256 bytes.

Objective (MDLM / LLaDA continuous-time ELBO): per row a masking level ``t ~ U(1e-3, 1)``, each byte masked with
probability ``t``, loss = sum over masked positions of ``-log q(x_i | x_revealed) / t``, divided by ``B * n``.
"""

from __future__ import annotations

import json
import math
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch

__all__ = ["ByteMDM", "ModelConfig", "elbo_loss", "load_checkpoint", "masked_cross_entropy", "save_checkpoint"]

VOCAB = 256
MASK_ID = 256


@dataclass(frozen=True)
class ModelConfig:
    """Everything needed to rebuild the network from its state dict."""

    length: int = 128
    width: int = 128
    layers: int = 3
    heads: int = 4
    kernel: int = 7
    vocab: int = VOCAB
    mask_id: int = MASK_ID


class ByteMDM(torch.nn.Module):
    """Bidirectional byte MDM: ``forward(x)`` maps ``(B, n)`` ids in ``0..256`` to ``(B, n, 256)`` logits."""

    def __init__(self, config: ModelConfig) -> None:
        super().__init__()
        c = config
        self.config = c
        self.tok = torch.nn.Embedding(c.vocab + 1, c.width)
        self.pos = torch.nn.Embedding(c.length, c.width)
        self.local = torch.nn.Conv1d(c.width, c.width, kernel_size=c.kernel, padding=c.kernel // 2)
        layer = torch.nn.TransformerEncoderLayer(c.width, c.heads, dim_feedforward=4 * c.width, dropout=0.0,
                                                 batch_first=True, norm_first=True, activation="gelu")
        self.encoder = torch.nn.TransformerEncoder(layer, c.layers, enable_nested_tensor=False)
        self.norm = torch.nn.LayerNorm(c.width)
        self.head = torch.nn.Linear(c.width, c.vocab)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        h = self.tok(x) + self.pos(torch.arange(x.shape[1], device=x.device))
        h = h + torch.nn.functional.gelu(self.local(h.transpose(1, 2))).transpose(1, 2)
        return self.head(self.norm(self.encoder(h)))


def elbo_loss(net: torch.nn.Module, x: torch.Tensor, rng: np.random.Generator,
              mask_id: int = MASK_ID) -> tuple[torch.Tensor, float]:
    """The MDLM/LLaDA loss of one batch ``x`` (``B x n`` bytes) and its plain mean masked cross-entropy (nats/byte,
    for the log). ``t ~ U(1e-3, 1)`` per row; weights ``1/t``; normalised by ``B * n``."""
    b, n = x.shape
    t = torch.from_numpy(1e-3 + (1 - 1e-3) * rng.random((b, 1))).to(x.device, torch.float32)
    masked = torch.from_numpy(rng.random((b, n))).to(x.device) < t
    logits = net(torch.where(masked, mask_id, x))
    ce = torch.nn.functional.cross_entropy(logits.transpose(1, 2), x, reduction="none")  # (B, n) nats
    loss = (ce * masked / t).sum() / (b * n)
    mean_ce = float((ce.detach() * masked).sum() / masked.sum().clamp(min=1))
    return loss, mean_ce


@torch.no_grad()
def masked_cross_entropy(net: Any, windows: np.ndarray, ratio: float, seed: int, *, batch: int = 256,
                         mask_id: int = MASK_ID, device: str | torch.device = "cpu") -> float:
    """Held-out masked cross-entropy (nats/byte) at masking ratio ``ratio``: in every window exactly
    ``m = max(1, round(ratio * n))`` positions, uniformly at random, are masked; the result is the mean of
    ``-log q(x_i | x_revealed)`` over all masked positions of all windows. ``net`` is any callable
    ``(B, n) int64 tensor -> (B, n, V) logits``. Cost: ``ceil(rows / batch)`` forward passes."""
    if not 0 < ratio <= 1:
        raise ValueError(f"ratio must be in (0, 1], got {ratio!r}")
    rows, n = windows.shape
    m = max(1, round(ratio * n))
    rng = np.random.default_rng(seed)
    order = np.argsort(rng.random((rows, n)), axis=1)
    mask = np.zeros((rows, n), dtype=bool)
    np.put_along_axis(mask, order[:, :m], True, axis=1)
    total = 0.0
    for lo in range(0, rows, batch):
        x = torch.from_numpy(windows[lo:lo + batch]).to(device)
        mk = torch.from_numpy(mask[lo:lo + batch]).to(device)
        logits = net(torch.where(mk, mask_id, x)).float()
        ce = torch.nn.functional.cross_entropy(logits.transpose(1, 2), x, reduction="none")
        total += float((ce * mk).sum())
    return total / (rows * m)


def save_checkpoint(net: ByteMDM, out: Path, extra: dict[str, Any]) -> None:
    """``model.pt`` (the state dict, on CPU) and ``config.json`` (the :class:`ModelConfig` plus ``extra``)."""
    out.mkdir(parents=True, exist_ok=True)
    torch.save({k: v.detach().cpu() for k, v in net.state_dict().items()}, out / "model.pt")
    (out / "config.json").write_text(json.dumps({"model": asdict(net.config), **extra}, indent=1))


def load_checkpoint(out: str | Path, device: str = "cpu") -> tuple[ByteMDM, dict[str, Any]]:
    """The network (evaluation mode) and the config JSON saved by :func:`save_checkpoint`."""
    out = Path(out)
    meta = json.loads((out / "config.json").read_text())
    net = ByteMDM(ModelConfig(**meta["model"]))
    net.load_state_dict(torch.load(out / "model.pt", map_location=device, weights_only=True))
    return net.to(device).eval(), meta


def cosine_lr(base: float, fraction: float, step: int, warmup: int = 200) -> float:
    """Linear warm-up over ``warmup`` steps, then cosine decay to 10% over the wall-clock ``fraction`` in [0, 1]."""
    warm = min(1.0, (step + 1) / warmup)
    return base * warm * (0.1 + 0.9 * 0.5 * (1 + math.cos(math.pi * min(1.0, fraction))))
