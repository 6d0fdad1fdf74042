"""Torch MDM fixtures: a module computing a Markov chain's exact conditionals (optionally perturbed into a learned-like,
inconsistent model), and a tiny random bidirectional transformer for shape tests. Import only after
``pytest.importorskip("torch")``."""

from __future__ import annotations

from typing import Any

import numpy as np
import torch


class MarkovMDM(torch.nn.Module):
    """Logits of the stationary Markov chain with transition ``P`` given the revealed tokens (mask id ``q``).

    Input ``x`` (B, n) with ``q`` at masked positions; output (B, n, q + 1) logits, the last (mask) column ``-inf``.
    A masked position ``i`` with nearest revealed neighbours ``L < i < R`` gets
    ``log P^{i-L}[x_L, .] + log P^{R-i}[., x_R]`` (``log pi`` without ``L``, nothing without ``R``), computed in torch
    from a table of matrix powers; revealed positions get ``log onehot(x_i)``. With ``perturb > 0`` the masked
    logits get ``perturb * W[i, x_L, x_R, :]`` with a fixed random ``W`` (``seed``): a deterministic, mutually
    inconsistent model, like a learned one. Positions in ``blind`` (indices) ignore the context: their masked logits
    are ``log pi`` (plus the perturbation), as a model that has not learned them would give.
    """

    def __init__(self, transition: Any, n: int, perturb: float = 0.0, seed: int = 0,
                 dtype: torch.dtype = torch.float64, blind: Any = ()) -> None:
        super().__init__()
        p = np.asarray(transition, dtype=np.float64)
        self.q, self.n = p.shape[0], int(n)
        self.mask_id = self.q
        P = torch.tensor(p, dtype=torch.float64)
        # Stationary law: the left eigenvector of P for eigenvalue 1 (independent of mdmsched's least squares).
        values, vectors = torch.linalg.eig(P.T)
        pi = vectors[:, int(torch.argmin((values - 1).abs()))].real
        pi = pi / pi.sum()
        powers = [torch.eye(self.q, dtype=torch.float64)]
        for _ in range(self.n):
            powers.append(powers[-1] @ P)
        self.register_buffer("log_powers", torch.stack(powers).log().to(dtype))  # (n + 1, q, q)
        self.register_buffer("log_pi", pi.clamp_min(0).log().to(dtype))
        gen = torch.Generator().manual_seed(seed)
        noise = torch.randn(self.n, self.q + 1, self.q + 1, self.q, generator=gen, dtype=torch.float64)
        self.register_buffer("noise", (perturb * noise).to(dtype))  # index q = no neighbour on that side
        self.perturbed = perturb != 0.0
        blind_mask = torch.zeros(self.n, dtype=torch.bool)
        blind_mask[torch.as_tensor(list(blind), dtype=torch.long)] = True
        self.register_buffer("blind", blind_mask)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        batch, n = x.shape
        masked = x == self.mask_id
        idx = torch.arange(n, device=x.device).expand(batch, n)
        left = torch.where(masked, -1, idx).cummax(dim=1).values  # nearest revealed at or before i
        right = torch.where(masked, n, idx).flip(1).cummin(dim=1).values.flip(1)  # ... at or after i
        has_left, has_right = left >= 0, right < n
        # Without a neighbour the gathered token may be the mask id: clamp it (torch.where discards it below).
        left_tok = torch.gather(x, 1, left.clamp(0, n - 1)).clamp(max=self.q - 1)
        right_tok = torch.gather(x, 1, right.clamp(0, n - 1)).clamp(max=self.q - 1)
        left_part = torch.where(has_left.unsqueeze(-1), self.log_powers[(idx - left).clamp(0, n), left_tok],
                                self.log_pi)
        right_part = torch.where(has_right.unsqueeze(-1),
                                 self.log_powers.transpose(1, 2)[(right - idx).clamp(0, n), right_tok], 0.0)
        logits = left_part + right_part
        if bool(self.blind.any()):
            logits = torch.where(masked.unsqueeze(-1) & self.blind[:n, None], self.log_pi, logits)
        if self.perturbed:
            lt = torch.where(has_left, left_tok, self.q)
            rt = torch.where(has_right, right_tok, self.q)
            logits = logits + torch.where(masked.unsqueeze(-1), self.noise[idx, lt, rt], 0.0)
        mask_column = torch.full((batch, n, 1), -torch.inf, dtype=logits.dtype, device=x.device)
        return torch.cat([logits, mask_column], dim=-1)


class Output:
    """A HuggingFace-style model output: the logits live in ``.logits``."""

    def __init__(self, logits: torch.Tensor) -> None:
        self.logits = logits


class TinyTransformer(torch.nn.Module):
    """A randomly initialised bidirectional transformer MDM (token + position embeddings, encoder, linear head)."""

    def __init__(self, vocab: int, max_len: int = 64, d_model: int = 32, layers: int = 2, heads: int = 4,
                 hf_style: bool = False, seed: int = 0, dtype: torch.dtype = torch.float32) -> None:
        super().__init__()
        torch.manual_seed(seed)
        self.tok = torch.nn.Embedding(vocab, d_model)
        self.pos = torch.nn.Embedding(max_len, d_model)
        layer = torch.nn.TransformerEncoderLayer(d_model, heads, dim_feedforward=2 * d_model, dropout=0.0,
                                                 batch_first=True)
        self.encoder = torch.nn.TransformerEncoder(layer, layers, enable_nested_tensor=False)
        self.head = torch.nn.Linear(d_model, vocab)
        self.hf_style = hf_style
        self.to(dtype)
        self.eval()

    def forward(self, x: torch.Tensor) -> Any:
        h = self.tok(x) + self.pos(torch.arange(x.shape[1], device=x.device))
        logits = self.head(self.encoder(h)) * 3.0  # sharper than at init, so entropies differ across positions
        return Output(logits) if self.hf_style else logits
