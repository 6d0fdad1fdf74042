"""PyTorch masked diffusion models as per-position models (the torch backend; generation lives in
:mod:`mdmsched.samplers.generate`).

Needs the optional ``torch`` extra (``pip install mdmsched[torch]``); ``import mdmsched`` itself never imports torch.

:class:`TorchModel` wraps a torch MDM ``module(x) -> logits`` (``(B, n, V)``, or an object with ``.logits`` as
HuggingFace models return) into the per-position interface the estimators call:

* ``score(tokens, mask, "cross_entropy")`` -- ``-log q(x_i | x_revealed)`` (nats) at every masked position: the model's
  masked cross-entropy at the true tokens, whose average over random masks of size ``m`` is ``g_m`` (SPEC §5.1);
* ``score(tokens, mask, "entropy")`` -- the predictive entropy ``H(q(. | x_revealed))`` (nats), for ``h^q_m``;
* ``sample(tokens, mask, rng)`` -- every masked position drawn independently from ``q(. | x_revealed)``.

Each call runs one forward pass on the model's own device under ``torch.no_grad()`` and reduces the logits in chunks
of ``chunk_size`` masked positions: per chunk, the log-normaliser (a ``logsumexp`` written as ``max + log1p(...)``, so
near-certain tokens keep full relative precision) and the logit of the true token (cross-entropy), or
``sum softmax * (logsumexp - logits)`` (entropy, a sum of non-negative terms). Only ``(B, n)`` numbers leave the device; no ``(B, n, V)``
float64 copy or second full-size copy of the logits is ever made. Half-precision logits are reduced in float32,
float32 and float64 logits in their own dtype.

:func:`mdmsched.samplers.generate.generate` (also ``mdmsched.torch.generate``, the path users type) runs the
semi-autoregressive sampler on a :class:`TorchModel`.
"""

from __future__ import annotations

import math
from typing import Any, Callable

import numpy as np
import torch
from numpy.typing import ArrayLike, NDArray

from .._validation import as_count, as_flag, as_int
from .interface import (
    StateScores,
    Target,
    as_target,
    as_where,
    check_scores,
    check_uniforms,
)

__all__ = ["TorchModel"]

#: Default chunk: this many logits (float32: 64 MiB) reduced at once.
_CHUNK_ELEMENTS = 2**24


def _vocab_range(vocab: int | slice | None) -> tuple[int, int | None]:
    """``(start, stop)`` of the logits columns that form the alphabet (``stop`` None: all of them)."""
    if vocab is None:
        return 0, None
    if isinstance(vocab, slice):
        if vocab.step not in (None, 1):
            raise ValueError(f"vocab must be a contiguous slice (step 1), got {vocab!r}")
        start = 0 if vocab.start is None else as_int(vocab.start, "vocab.start")
        stop = None if vocab.stop is None else as_int(vocab.stop, "vocab.stop")
        if start < 0 or (stop is not None and stop <= start):
            raise ValueError(f"vocab must be a slice 0 <= start < stop, got {vocab!r}")
        return start, stop
    q = as_count(vocab, "vocab")
    return 0, q


def _usable_device(device: Any) -> torch.device:
    """``device`` as a torch device that can hold real numbers, checked now rather than at the first call.

    ``"meta"`` is refused (its tensors have no values: scores would be made up); a device torch knows but this
    machine lacks (``"cuda"`` on a CPU-only build raises ``AssertionError`` inside torch) is a ``ValueError``."""
    if isinstance(device, bool) or not isinstance(device, (str, torch.device, int)):
        raise TypeError(f"device must be a string or torch.device, got {type(device).__name__} {device!r}")
    try:
        out = torch.device(device)
        torch.empty(0, device=out)
    except (RuntimeError, AssertionError) as err:
        raise ValueError(f"device {device!r} is not usable here: {err}") from None
    if out.type == "meta":
        raise ValueError("device 'meta' holds no values (a model on it gives made-up scores): load the weights onto "
                         "a real device first (e.g. module.to_empty(device='cpu') and load a state dict)")
    return out


class _EvalMode:
    """Context: the module in evaluation mode (dropout off) for one forward pass, every submodule's own
    ``training`` flag restored afterwards. HF models built from a config start in training mode, where two identical
    calls give different scores."""

    def __init__(self, module: Any) -> None:
        self.modules = list(module.modules()) if isinstance(module, torch.nn.Module) else []
        self.flags = [m.training for m in self.modules]

    def __enter__(self) -> None:
        for m in self.modules:
            m.training = False

    def __exit__(self, *exc: object) -> None:
        for m, flag in zip(self.modules, self.flags):
            m.training = flag


def _as_batch(tokens: ArrayLike, mask: ArrayLike) -> tuple[NDArray[np.int64], NDArray[np.bool_]]:
    """Tokens (``B x n`` integers) and mask (``B x n`` bool, True = masked) of one shape."""
    t, m = np.asarray(tokens), np.asarray(mask)
    if t.dtype.kind not in "iu":
        raise TypeError(f"tokens must be an integer array, got dtype {t.dtype}")
    if t.ndim != 2:
        raise ValueError(f"tokens must be 2-D (B x n), got shape {t.shape}")
    if m.dtype != np.bool_:
        raise TypeError(f"mask must be a bool array (True = masked), got dtype {m.dtype}")
    if m.shape != t.shape:
        raise ValueError(f"mask must have the shape of tokens {t.shape}, got {m.shape}")
    return np.ascontiguousarray(t, dtype=np.int64), np.ascontiguousarray(m)


def _check_dream(module: Any, forward: Any) -> None:
    """Refuse a Dream model (``config.model_type == "Dream"``) called without a forward that chose its logits shift:
    Dream's logits at ``i`` predict token ``i + 1`` (its sampler shifts them right), so unshifted scores are wrong.
    A custom ``forward`` without a ``shift`` attribute gets a warning (it may shift by itself)."""
    model_type = getattr(getattr(module, "config", None), "model_type", None)
    if not (isinstance(model_type, str) and model_type.lower() == "dream"):
        return
    if forward is None:
        raise ValueError("module: the config says Dream (model_type 'Dream'), whose logits at position i predict "
                         "token i + 1; pass forward=mdmsched.adapters.hf_forward(module, shift='dream')")
    if getattr(forward, "shift", None) is None:
        import warnings

        warnings.warn("module is a Dream model (logits at i predict token i + 1) and forward= does not say whether it "
                      "shifts them; use mdmsched.adapters.hf_forward(module, shift='dream')", UserWarning,
                      stacklevel=3)


class TorchModel:
    """A torch masked diffusion model as a per-position :class:`~mdmsched.models.SamplingModel`.

    Parameters
    ----------
    module:
        The MDM. ``module(x)`` (or ``forward(x)``) with ``x`` a ``(B, n)`` int64 tensor on ``device`` holding the
        revealed tokens and ``mask_id`` at masked positions must return logits ``(B, n, V)`` or an object with a
        ``.logits`` attribute of that shape (HuggingFace style).
    mask_id:
        The mask token id fed at masked positions. It may lie outside the alphabet (e.g. ``mask_id = q`` with
        ``vocab=q``) or inside it (LLaDA's ``126336`` lies inside its logits): in the latter case the mask token is
        removed from the distribution (its logit counts as ``-inf``), so scores are renormalised over the other
        tokens and samples never contain it. Either way a *revealed* token, and in cross-entropy mode any token,
        equal to ``mask_id`` is an error.
    vocab:
        The alphabet as logits columns: an int ``q`` (columns ``0..q-1``), a slice ``slice(start, stop)`` (token ids
        ``start..stop-1``; ``stop`` None means to the end), or None (all ``V`` columns). Token ids are always the
        module's own ids; tokens outside the alphabet raise ``ValueError``.
    device:
        Where inputs go; default the device of the module's first parameter (or buffer), else CPU.
    chunk_size:
        Masked positions reduced at once (default: ``2**24 // q``, i.e. 64 MiB of float32 logits). Results do not
        depend on it.
    forward:
        Optional ``forward(x) -> logits | object with .logits`` replacing ``module(x)`` (e.g. to pass an attention
        mask or select a head).

    Each forward pass runs in evaluation mode (``module.eval()``: no dropout, so identical calls give identical
    scores); every submodule's ``training`` flag is restored afterwards, so a training loop around the model is
    unaffected. ``device="meta"`` and a device this machine lacks (``"cuda"`` on CPU-only torch) are ``ValueError``.
    Models whose forward takes keywords (``input_ids=``, ``attention_mask=``, as HuggingFace models do) go through
    ``forward=``, e.g. :func:`mdmsched.adapters.hf_forward`; a Dream model (``config.model_type == "Dream"``) must go
    through ``hf_forward(module, shift="dream")`` (its logits at ``i`` predict token ``i + 1``): without ``forward=`` it
    is refused (``ValueError``), with a forward that does not state its ``shift`` it warns. Every call costs one forward pass plus ``O(B n q)`` reduction work on the device, and ``O(B n)``
    host memory.
    """

    def __init__(self, module: Any, mask_id: int, *, vocab: int | slice | None = None,
                 device: str | torch.device | None = None, chunk_size: int | None = None,
                 forward: Callable[[torch.Tensor], Any] | None = None) -> None:
        if forward is None and not callable(module):
            raise TypeError(f"module must be callable (a torch.nn.Module), got {type(module).__name__}")
        if forward is not None and not callable(forward):
            raise TypeError(f"forward must be callable, got {type(forward).__name__}")
        _check_dream(module, forward)
        self.module = module
        self.mask_id = as_int(mask_id, "mask_id")
        if not 0 <= self.mask_id < 2**63:
            raise ValueError(f"mask_id must be an int64 token id >= 0, got {self.mask_id}")
        self.vocab_start, self.vocab_stop = _vocab_range(vocab)
        if chunk_size is not None:
            chunk_size = as_count(chunk_size, "chunk_size")
        self.chunk_size = chunk_size
        self._forward = forward
        if device is None:
            device = self._module_device(module)
        self.device = _usable_device(device)

    @staticmethod
    def _module_device(module: Any) -> torch.device:
        if isinstance(module, torch.nn.Module):
            for tensor in module.parameters():
                return tensor.device
            for buffer in module.buffers():
                return buffer.device
        return torch.device("cpu")

    @property
    def q(self) -> int | None:
        """Alphabet size when ``vocab`` fixes it (None until the logits' width is known)."""
        return None if self.vocab_stop is None else self.vocab_stop - self.vocab_start

    # ---- validation -------------------------------------------------------------------------------------------

    def _check_ids(self, values: NDArray[np.int64], what: str, stop: int | None) -> None:
        if values.size == 0:
            return
        low, high = int(values.min()), int(values.max())
        if low < self.vocab_start or (stop is not None and high >= stop):
            bad = low if low < self.vocab_start else high
            upper = "V" if stop is None else str(stop)
            raise ValueError(f"{what} must be token ids in [{self.vocab_start}, {upper}), got {bad}")
        if (values == self.mask_id).any():
            raise ValueError(f"{what} contain the mask token id {self.mask_id}")

    def _inputs(self, tokens: ArrayLike, mask: ArrayLike,
                score_all: bool) -> tuple[NDArray[np.int64], NDArray[np.bool_]]:
        t, m = _as_batch(tokens, mask)
        self._check_ids(t if score_all else t[~m], "tokens" if score_all else "revealed tokens", self.vocab_stop)
        return t, m

    def _logits(self, tokens: NDArray[np.int64], mask: NDArray[np.bool_],
                score_all: bool = False) -> tuple[torch.Tensor, int, int]:
        """One forward pass: the alphabet's logits (a view, ``(B, n, q)``), and the alphabet ``[start, stop)``."""
        if getattr(self._forward, "shift", None) == "dream" and mask.shape[1] and mask[:, 0].any():
            # Dream's shifted logits at position 0 are its own output there, not a prediction of token 0
            raise ValueError("a Dream model (shift='dream') needs position 0 revealed (Dream's sampler asserts it); "
                             "put at least one prompt token first")
        x = torch.from_numpy(np.where(mask, self.mask_id, tokens)).to(self.device)
        with _EvalMode(self.module):
            out = self._forward(x) if self._forward is not None else self.module(x)
        logits = out.logits if hasattr(out, "logits") else out
        if not isinstance(logits, torch.Tensor):
            raise TypeError(f"the model returned {type(out).__name__}; expected a logits tensor or an object with "
                             ".logits")
        batch, n = tokens.shape
        if logits.ndim != 3 or tuple(logits.shape[:2]) != (batch, n):
            raise ValueError(f"the model returned logits of shape {tuple(logits.shape)}; expected ({batch}, {n}, V)")
        if not logits.dtype.is_floating_point:
            raise TypeError(f"the model returned logits of dtype {logits.dtype}; expected floating point")
        if logits.device.type == "meta":  # shape-only tensors: any score read from them would be made up
            raise ValueError("the model returned logits on the 'meta' device (no values): load its weights onto a "
                             "real device")
        width = int(logits.shape[2])
        stop = width if self.vocab_stop is None else self.vocab_stop
        if stop > width or self.vocab_start >= stop:
            raise ValueError(f"the model returned {width} logits per position; vocab needs columns "
                             f"[{self.vocab_start}, {stop})")
        if self.vocab_stop is None:  # now the alphabet is known: the upper end of the token range
            self._check_ids(tokens if score_all else tokens[~mask], "tokens" if score_all else "revealed tokens", stop)
        return logits[..., self.vocab_start:stop], self.vocab_start, stop

    def _chunks(self, mask: NDArray[np.bool_], q: int) -> list[tuple[torch.Tensor, torch.Tensor]]:
        rows, cols = np.nonzero(mask)
        size = self.chunk_size or max(1, _CHUNK_ELEMENTS // q)
        r, c = torch.from_numpy(rows).to(self.device), torch.from_numpy(cols).to(self.device)
        return [(r[i:i + size], c[i:i + size]) for i in range(0, rows.size, size)]

    def _chunk_logits(self, logits: torch.Tensor, r: torch.Tensor, c: torch.Tensor, start: int,
                      stop: int) -> torch.Tensor:
        """The logits of the chunk's positions, ``(chunk, q)``: float32 for half precision, mask token at -inf."""
        lg = logits[r, c]  # advanced indexing: a chunk-sized copy
        if lg.dtype not in (torch.float32, torch.float64):
            lg = lg.float()
        if start <= self.mask_id < stop:
            lg[:, self.mask_id - start] = -math.inf
        return lg

    @staticmethod
    def _reduce(lg: torch.Tensor, r: torch.Tensor, c: torch.Tensor, what: str,
                given: torch.Tensor | None = None) -> torch.Tensor:
        """One chunk's result from its logits ``lg`` (``(chunk, q)``, our own copy: overwritten in place by ``l - M``).

        With ``M`` the row maximum, ``d_x = M - l_x >= 0``, ``e_x = exp(-d_x)`` (0 at the first argmax) and
        ``S = sum_x e_x``: ``-log q_x = d_x + log1p(S)`` (``what="cross_entropy"``, at ``truth``),
        ``H = sum_x e_x d_x / (1 + S) + log1p(S)`` (``"entropy"``) -- sums of non-negative terms, so near-certain
        tokens keep full relative precision (``logsumexp - l_x`` would cancel) -- and for ``"sample"`` the inverse
        CDF of ``exp(-d)`` (cumulated in float64) at the row's uniform. ``given``: the true tokens (column indices)
        for ``"cross_entropy"``, the uniforms in [0, 1) (float64) for ``"sample"``. One pass for the maximum,
        one for ``exp``, one more for the entropy's sum or the CDF; at most one extra chunk-sized buffer.
        """
        top, arg = lg.max(dim=-1)  # NaN anywhere in a row propagates to its max
        bad = ~torch.isfinite(top)
        if bool(bad.any()):
            i = int(torch.nonzero(bad)[0, 0])
            raise ValueError(f"the model returned non-finite logits (NaN, +inf, or all -inf) at position "
                             f"[{int(r[i])}, {int(c[i])}]")
        shifted = lg.sub_(top.unsqueeze(1))  # l_x - M = -d_x, in place
        if what == "cross_entropy":
            assert given is not None
            picked = shifted.gather(1, given.unsqueeze(1)).squeeze(1).neg_()
            e = shifted.exp_()  # d is not needed any more
        elif what == "entropy":
            e = shifted.exp()
        else:
            assert given is not None
            cdf = shifted.exp_().cumsum(dim=-1, dtype=torch.float64)
            u = given.unsqueeze(1) * cdf[:, -1:]
            # The first x with CDF(x) > u: tokens of probability 0 (flat CDF) are never drawn.
            return torch.searchsorted(cdf, u, right=True).squeeze(1).clamp_(max=cdf.shape[1] - 1)
        e.scatter_(1, arg.unsqueeze(1), 0.0)
        log_s = torch.log1p(e.sum(dim=-1))
        if what == "cross_entropy":
            return picked.add_(log_s)
        # sum_x e_x d_x = -sum_x e_x (l_x - M); e_x = 0 where l_x = -inf: 0 * -inf = NaN -> 0.
        weighted = e.mul_(shifted).nan_to_num_(nan=0.0).sum(dim=-1).neg_()
        return weighted.div_(torch.expm1(log_s).add_(1.0)).add_(log_s)

    # ---- the interface ----------------------------------------------------------------------------------------

    def score(self, tokens: ArrayLike, mask: ArrayLike,
              target: Target = "cross_entropy") -> NDArray[np.float64]:
        """Per-position scores ``(B, n)`` in nats, 0 at unmasked positions.

        ``"cross_entropy"``: ``-log q(tokens[b, i] | revealed)`` (``tokens`` at masked positions are the true tokens);
        ``"entropy"``: ``H(q(. | revealed)) = -sum_x q log q`` (``tokens`` at masked positions are ignored).
        One forward pass plus ``O(B n q)``; the chunked reductions never copy more than one chunk of logits.
        """
        target = as_target(target)
        t, m = self._inputs(tokens, mask, score_all=target == "cross_entropy")
        out = np.zeros(t.shape, dtype=np.float64)
        if not m.any():
            return out
        with torch.no_grad():
            logits, start, stop = self._logits(t, m, score_all=target == "cross_entropy")
            truth = torch.from_numpy(t).to(self.device) - start
            pieces = []
            for r, c in self._chunks(m, stop - start):
                lg = self._chunk_logits(logits, r, c, start, stop)
                value = self._reduce(lg, r, c, target, truth[r, c])
                if target == "cross_entropy":
                    bad = ~torch.isfinite(value)
                    if bool(bad.any()):
                        i = int(torch.nonzero(bad)[0, 0])
                        raise ValueError(f"the model gives probability 0 to the true token "
                                         f"tokens[{int(r[i])}, {int(c[i])}] = {int(truth[r[i], c[i]]) + start}")
                pieces.append(value.to(torch.float64))
            values = torch.cat(pieces).cpu().numpy()
        out[m] = values
        return check_scores(out, m)

    @staticmethod
    def _state_reduce(lg: torch.Tensor, r: torch.Tensor, c: torch.Tensor, truth: torch.Tensor | None,
                      uniforms: torch.Tensor | None) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor,
                                                              torch.Tensor | None, torch.Tensor | None]:
        """One chunk's state scores from its logits ``lg`` (``(chunk, q)``, our own copy, overwritten in place).

        With ``M`` the row maximum, ``l_2`` the second largest logit, ``e_x = exp(l_x - M)`` and ``S = sum_x e_x - 1``
        (the argmax's own term taken out, so near-certain rows keep full precision): ``max_prob = 1 / (1 + S)``,
        ``margin = -expm1(l_2 - M) / (1 + S)``, ``H = sum_x e_x (M - l_x) / (1 + S) + log1p(S)``, ``-log q_x =
        (M - l_x) + log1p(S)``, and a draw by inverse CDF of ``e`` (cumulated in float64) at ``u * sum e``. Returns
        ``(max_prob, margin, entropy, nll or None, draws or None)``; two more chunk-sized buffers (three with draws).
        """
        top, arg = lg.max(dim=-1)
        bad = ~torch.isfinite(top)
        if bool(bad.any()):
            i = int(torch.nonzero(bad)[0, 0])
            raise ValueError(f"the model returned non-finite logits (NaN, +inf, or all -inf) at position "
                             f"[{int(r[i])}, {int(c[i])}]")
        second = lg.topk(2, dim=-1).values[:, 1] if lg.shape[1] >= 2 else torch.full_like(top, -math.inf)
        shifted = lg.sub_(top.unsqueeze(1))  # l_x - M = -d_x <= 0, in place
        nll = None if truth is None else shifted.gather(1, truth.unsqueeze(1)).squeeze(1).neg()
        e = shifted.exp()
        draws = None
        if uniforms is not None:
            cdf = e.cumsum(dim=-1, dtype=torch.float64)
            u = uniforms.unsqueeze(1) * cdf[:, -1:]
            draws = torch.searchsorted(cdf, u, right=True).squeeze(1).clamp_(max=cdf.shape[1] - 1)
            del cdf
        e.scatter_(1, arg.unsqueeze(1), 0.0)
        log_s = torch.log1p(e.sum(dim=-1))
        total = torch.expm1(log_s).add_(1.0)
        max_prob = total.reciprocal()
        margin = torch.expm1(second - top).neg_().div_(total)
        weighted = e.mul_(shifted).nan_to_num_(nan=0.0).sum(dim=-1).neg_()  # 0 * -inf (the mask column) -> 0
        entropy = weighted.div_(total).add_(log_s)
        if nll is not None:
            nll = nll.add_(log_s)
        return max_prob, margin, entropy, nll, draws

    def score_states(self, tokens: ArrayLike, mask: ArrayLike, *, nll: bool = True,
                     rng: np.random.Generator | None = None, uniforms: ArrayLike | None = None,
                     where: ArrayLike | None = None) -> StateScores:
        """One forward pass: max probability, margin, entropy (nats) at every masked position of ``where`` (default:
        every masked position; the rule loop passes the current block's candidates, so later blocks cost no
        reduction), the teacher-forced ``-log q(tokens[b, i] | revealed)`` when ``nll``, and one draw per such
        position when ``rng`` is given (SPEC §5.2), or at the given ``uniforms`` (B x n floats in [0, 1), read at the
        scored positions; they replace ``rng``, so each row can carry its own stream). Reduced on the model's device
        in chunks (``_state_reduce``); only ``(B, n)`` numbers reach the host. A true token of probability 0 raises
        ``ValueError``. One forward pass plus ``O(scored q)``."""
        nll = as_flag(nll, "nll")
        if rng is not None and not isinstance(rng, np.random.Generator):
            raise TypeError(f"rng must be a numpy.random.Generator or None, got {type(rng).__name__}")
        t, m = self._inputs(tokens, mask, score_all=nll)
        given = None if uniforms is None else check_uniforms(uniforms, m)
        model_mask = m
        if where is not None:
            m = m & as_where(where, m.shape)
        out = StateScores.zeros(t.shape, nll=nll, draws=rng is not None or given is not None)
        if not m.any():
            return out
        seed = None if rng is None or given is not None else int(rng.integers(0, 2**63 - 1))
        with torch.no_grad():
            logits, start, stop = self._logits(t, model_mask, score_all=nll)
            truth = torch.from_numpy(t).to(self.device) - start if nll else None
            drawn_u = None if given is None else torch.from_numpy(given[m]).to(self.device)
            if seed is not None:
                gen = torch.Generator(device=self.device)
                gen.manual_seed(seed)
                drawn_u = torch.rand(int(m.sum()), generator=gen, dtype=torch.float64, device=self.device)
            pieces: list[list[torch.Tensor]] = [[], [], [], [], []]
            done = 0
            for r, c in self._chunks(m, stop - start):
                lg = self._chunk_logits(logits, r, c, start, stop)
                size = r.shape[0]
                parts = self._state_reduce(lg, r, c, None if truth is None else truth[r, c],
                                           None if drawn_u is None else drawn_u[done:done + size])
                done += size
                if parts[3] is not None:
                    bad = ~torch.isfinite(parts[3])
                    if bool(bad.any()):
                        i = int(torch.nonzero(bad)[0, 0])
                        assert truth is not None
                        raise ValueError(f"the model gives probability 0 to the true token "
                                         f"tokens[{int(r[i])}, {int(c[i])}] = {int(truth[r[i], c[i]]) + start}")
                for k, part in enumerate(parts):
                    if part is not None:
                        pieces[k].append(part if k == 4 else part.to(torch.float64))
            host = [torch.cat(p).cpu().numpy() if p else None for p in pieces]
        out.max_prob[m], out.margin[m], out.entropy[m] = host[0], host[1], host[2]
        if out.nll is not None and host[3] is not None:
            out.nll[m] = host[3]
        if out.draws is not None and host[4] is not None:
            out.draws[m] = host[4] + start
        return out

    def sample(self, tokens: ArrayLike, mask: ArrayLike, rng: np.random.Generator) -> NDArray[np.int64]:
        """``(B, n)``: each masked position drawn independently from ``q(. | revealed)``; others copied from ``tokens``.

        Inverse-CDF draws (the CDF cumulated in float64, one uniform per position) from a torch generator on the
        device seeded from ``rng``: deterministic given ``rng`` and independent of ``chunk_size``. One forward pass
        plus ``O(B n q)``.
        """
        if not isinstance(rng, np.random.Generator):
            raise TypeError(f"rng must be a numpy.random.Generator, got {type(rng).__name__}")
        t, m = self._inputs(tokens, mask, score_all=False)
        out = t.copy()
        if not m.any():
            return out
        seed = int(rng.integers(0, 2**63 - 1))
        with torch.no_grad():
            logits, start, stop = self._logits(t, m)
            gen = torch.Generator(device=self.device)
            gen.manual_seed(seed)
            uniforms = torch.rand(int(m.sum()), generator=gen, dtype=torch.float64, device=self.device)
            pieces, done = [], 0
            for r, c in self._chunks(m, stop - start):
                lg = self._chunk_logits(logits, r, c, start, stop)
                pieces.append(self._reduce(lg, r, c, "sample", uniforms[done:done + r.shape[0]]))
                done += r.shape[0]
            values = torch.cat(pieces).cpu().numpy()
        out[m] = values + start
        return out
