"""HuggingFace-style models (``forward(input_ids=..., attention_mask=...)``) as :class:`~mdmsched.models.torch.TorchModel`
forwards; torch is imported when the forward runs."""

from __future__ import annotations

from typing import Any, Callable

__all__ = ["hf_forward"]


def hf_forward(module: Any, *, attention_mask: bool = True, **inputs: Any) -> Callable[[Any], Any]:
    """``forward(x)`` calling ``module(input_ids=x, attention_mask=ones_like(x), **inputs)`` -- the keyword call
    HuggingFace models (and ``trust_remote_code`` ones such as LLaDA's and Dream's) expect; pass it as
    ``TorchModel(module, mask_id, forward=hf_forward(module))``. ``attention_mask=False`` leaves the mask out
    (LLaDA's remote code takes none); ``inputs`` are extra keywords passed on every call. One forward per call."""
    if not callable(module):
        raise TypeError(f"module must be callable (a torch.nn.Module), got {type(module).__name__}")
    if not isinstance(attention_mask, bool):
        raise TypeError(f"attention_mask must be a bool, got {type(attention_mask).__name__}")

    def forward(x: Any) -> Any:
        import torch

        extra = dict(inputs)
        if attention_mask:
            extra["attention_mask"] = torch.ones_like(x)
        return module(input_ids=x, **extra)

    return forward
