"""HuggingFace-style models (``forward(input_ids=..., attention_mask=...)``) as :class:`~mdmsched.models.torch.TorchModel`
forwards; torch is imported when the forward runs.

Dream (``Dream-org/Dream-v0-*``, ``config.model_type == "Dream"``) is initialised from an autoregressive model and
keeps its next-token head: the logits at position ``i`` predict token ``i + 1``. Dream's own sampler
(``generation_utils.py``, ``_sample``) therefore moves them one position right before reading them,
``logits = cat([logits[:, :1], logits[:, :-1]], dim=1)``; without that shift every score, curve and schedule of a
Dream model is silently wrong. :func:`hf_forward` applies it with ``shift="dream"`` and refuses a Dream model whose
``shift`` was not chosen.
"""

from __future__ import annotations

from typing import Any, Callable

__all__ = ["SHIFTS", "hf_forward", "is_dream"]

#: The logits shifts :func:`hf_forward` knows: ``"none"`` (the logits at ``i`` predict token ``i``: LLaDA, MDLM, BERT)
#: and ``"dream"`` (the logits at ``i`` predict token ``i + 1``; moved right by one, position 0 keeps its own).
SHIFTS = ("none", "dream")


def is_dream(module: Any) -> bool:
    """Whether ``module.config.model_type`` names Dream (``"Dream"`` in Dream's ``DreamConfig``; compared without case)."""
    model_type = getattr(getattr(module, "config", None), "model_type", None)
    return isinstance(model_type, str) and model_type.lower() == "dream"


def as_shift(shift: Any, module: Any) -> str:
    """``shift`` checked against ``SHIFTS``; None is refused for a Dream model (its logits need ``"dream"``) and
    means ``"none"`` otherwise."""
    if shift is None:
        if is_dream(module):
            raise ValueError("shift: the model's config says it is Dream (model_type 'Dream'), whose logits at position "
                             "i predict token i + 1; pass shift='dream' (Dream's own sampler shifts them) or "
                             "shift='none' to use them as they are")
        return "none"
    if not isinstance(shift, str):
        raise TypeError(f"shift must be one of {SHIFTS} or None, got {type(shift).__name__} {shift!r}")
    if shift not in SHIFTS:
        raise ValueError(f"shift must be one of {SHIFTS} or None, got {shift!r}")
    return shift


def hf_forward(module: Any, *, attention_mask: bool = True, shift: str | None = None,
               **inputs: Any) -> Callable[[Any], Any]:
    """``forward(x)`` calling ``module(input_ids=x, attention_mask=ones_like(x), **inputs)`` -- the keyword call
    HuggingFace models (and ``trust_remote_code`` ones such as LLaDA's and Dream's) expect; pass it as
    ``TorchModel(module, mask_id, forward=hf_forward(module))``. ``attention_mask=False`` leaves the mask out
    (LLaDA's remote code takes none); ``inputs`` are extra keywords passed on every call.

    ``shift="dream"`` returns Dream's shifted logits (``logits'[:, i] = logits[:, i - 1]`` for ``i >= 1``,
    ``logits'[:, 0] = logits[:, 0]``), as Dream's ``generation_utils`` reads them: use it for every Dream model (the
    first position must then be revealed, as Dream's sampler asserts). ``shift=None`` (default) is ``"none"`` except for
    a module whose ``config.model_type`` is Dream, which is refused (``ValueError``): choose ``"dream"``, or ``"none"``
    to keep the raw logits knowingly. The returned function carries the choice as ``forward.shift``. One forward per
    call; the shift is one ``(B, n, V)`` concatenation on the device."""
    if not callable(module):
        raise TypeError(f"module must be callable (a torch.nn.Module), got {type(module).__name__}")
    if type(attention_mask).__name__ not in ("bool", "bool_"):  # numpy bools too
        raise TypeError(f"attention_mask must be a bool, got {type(attention_mask).__name__}")
    chosen = as_shift(shift, module)

    def forward(x: Any) -> Any:
        import torch

        extra = dict(inputs)
        if attention_mask:
            extra["attention_mask"] = torch.ones_like(x)
        out = module(input_ids=x, **extra)
        if chosen == "none":
            return out
        logits = out.logits if hasattr(out, "logits") else out
        return torch.cat([logits[:, :1], logits[:, :-1]], dim=1)

    forward.shift = chosen  # type: ignore[attr-defined]
    return forward
