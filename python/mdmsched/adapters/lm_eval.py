"""lm-evaluation-harness plug-in: a Hugging Face masked diffusion model generating with any mdmsched sampler.

Registered with lm-eval under the name ``mdmsched`` when this module is imported (lm-eval 0.4.13 finds external models
only in its registry: it has no entry-point discovery for models, and ``--include_path`` loads tasks, not models)::

    import mdmsched.adapters.lm_eval                  # registers "mdmsched"
    lm_eval.simple_evaluate(model="mdmsched", model_args="pretrained=GSAI-ML/LLaDA-8B-Instruct,mask_id=126336,"
                            "gen_length=256,block_length=32,rule=top_k,schedule=plan.json", tasks=["gsm8k"])

or from the shell, ``python -m mdmsched.adapters.lm_eval_cli`` with lm-eval's own arguments
(``--model mdmsched --model_args ... --tasks ...``). Install with ``pip install mdmsched[lm-eval]``.

``model_args``: ``pretrained=`` (a Hub name or path; or ``model=`` a torch module and ``tokenizer=`` a tokenizer
object, from Python), ``mask_id=`` (default: the tokenizer's or config's ``mask_token_id``), ``gen_length=`` (generated
positions, default 256), ``block_length=`` (default one block), the sampler -- ``rule=`` with ``steps=``,
``schedule=`` or ``table=`` (:mod:`mdmsched.adapters.sampler_args`) --, ``shift=`` (``dream`` for Dream models, see
``mdmsched.adapters.hf``), ``temperature=`` (logits divided by it before scoring and drawing; default 1),
``seed=``, ``trust_remote_code=``, ``dtype=``, ``device=``, ``batch_size=``, ``masks_per_request=`` (loglikelihood),
``add_special_tokens=`` (when encoding contexts; default False: chat templates carry their own). A bad value is one
``ValueError`` naming the argument.

Generation runs through the package's loop (:func:`mdmsched.samplers.loop.run_rule` on a
:class:`~mdmsched.models.torch.TorchModel`): the context tokens (chat-templated by lm-eval under
``--apply_chat_template``) followed by ``gen_length`` masks, decoded with special tokens skipped and cut at the first
``until`` stop string. Request ``r`` (its index in the list lm-eval hands over: documents in order, repeats adjacent)
draws the rule's randomness from ``numpy.random.default_rng([seed, r])`` and the model's draws from
``default_rng([seed, r, 1])`` -- the row convention of ``mdmsched.samplers.evaluate_task`` -- so outputs do not
depend on ``batch_size``. Forward passes per request are kept in ``MdmschedLM.nfe_per_request`` and reported in
``simple_evaluate(...)["config"]["mdmsched"]`` (``mean_nfe``, ``nfe_per_request``) through ``get_model_info``.
"""

from __future__ import annotations

import logging
import math
import warnings
from typing import Any

import lm_eval.models  # noqa: F401  the built-in models' lazy entries first: lm-eval fills them only into an empty registry
import numpy as np
from lm_eval.api.model import LM
from lm_eval.api.registry import register_model

from ..models.curve_estimate import FlatCurveWarning, NonMonotoneWarning
from ..models.estimate import estimate_curve
from ..models.torch import TorchModel
from ..samplers.loop import run_rule
from .hf import as_shift, hf_forward
from .sampler_args import arg_count, sampler_from_args

__all__ = ["MdmschedLM", "cut_at_stops"]

# a child of lm-eval's logger, so its command line shows the NFE lines with its own (INFO) handler
logger = logging.getLogger("lm_eval.mdmsched")

_DTYPES = ("auto", "bfloat16", "float16", "float32")


def cut_at_stops(text: str, until: Any) -> str:
    """``text`` up to the earliest occurrence of any stop string in ``until`` (a str or a list of them). O(len * stops)."""
    stops = [until] if isinstance(until, str) else list(until or [])
    cut = len(text)
    for stop in stops:
        if isinstance(stop, str) and stop:
            at = text.find(stop)
            if 0 <= at < cut:
                cut = at
    return text[:cut]


def _flag(value: Any, name: str) -> bool:
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.lower() in ("true", "false"):
        return value.lower() == "true"
    raise ValueError(f"{name}={value!r} must be true or false")


def _load_pretrained(pretrained: str, trust_remote_code: bool, dtype: str, device: Any) -> tuple[Any, Any]:
    import torch
    from transformers import AutoModel, AutoTokenizer

    torch_dtype = "auto" if dtype == "auto" else getattr(torch, dtype)
    module = AutoModel.from_pretrained(pretrained, trust_remote_code=trust_remote_code, dtype=torch_dtype)
    if device is None:
        device = "cuda" if torch.cuda.is_available() else "cpu"
    module = module.to(device).eval()
    tokenizer = AutoTokenizer.from_pretrained(pretrained, trust_remote_code=trust_remote_code)
    return module, tokenizer


def _tempered(forward: Any, temperature: float) -> Any:
    """``forward`` with its logits divided by ``temperature`` (the choice of ``shift`` carried over)."""
    if temperature == 1.0:
        return forward

    def tempered(x: Any) -> Any:
        out = forward(x)
        logits = out.logits if hasattr(out, "logits") else out
        return logits / temperature

    tempered.shift = getattr(forward, "shift", None)  # type: ignore[attr-defined]
    return tempered


@register_model("mdmsched")
class MdmschedLM(LM):  # type: ignore[misc]
    """An lm-eval ``LM`` over a masked diffusion model and an mdmsched sampler (module doc for the arguments).

    ``generate_until``: one :func:`~mdmsched.samplers.loop.run_rule` run per batch of equal-length contexts; at most
    ``gen_length`` forward passes per request. Of a task's generation keywords only ``until`` is used: the canvas is
    ``gen_length`` (``max_gen_toks`` is ignored) and the sampler is the one ``model_args`` name (``do_sample`` and
    ``temperature`` are ignored; ``temperature=`` in ``model_args`` tempers the model). ``loglikelihood``: the negative masked cross-entropy of SPEC §5.1,
    ``-sum_{m=0}^{L-1} g_m`` over the ``L`` continuation tokens given the context -- the MDM's ELBO, a *bound*:
    ``log p(continuation | context) >= ELBO`` (equivalently ``-log p <= sum_m g_m``), so it ranks choices like a
    log-likelihood but is not one. Estimated with the package's nested estimator
    (``mdmsched.models.estimate.estimate_curve``, every ``m`` on the grid) from ``masks_per_request`` random
    orders of the continuation (default 8): ``L * masks_per_request`` model rows per request. ``is_greedy``: every
    continuation token is the model's most probable one with the whole continuation masked (one more pass).
    ``loglikelihood_rolling`` is not provided (``NotImplementedError``).
    """

    def __init__(self, pretrained: str | None = None, *, model: Any = None, tokenizer: Any = None,
                 mask_id: Any = None, gen_length: Any = 256, block_length: Any = None, rule: Any = "top_k",
                 steps: Any = None, schedule: Any = None, table: Any = None, seed: Any = 0, shift: Any = None,
                 temperature: Any = 1.0, attention_mask: Any = None, trust_remote_code: Any = False,
                 dtype: Any = "auto", device: Any = None, batch_size: Any = 1, max_batch_size: Any = None,
                 masks_per_request: Any = 8, add_special_tokens: Any = False, **unknown: Any) -> None:
        super().__init__()
        del max_batch_size  # lm-eval passes it to every model; batches here are batch_size rows
        if unknown:
            raise ValueError(f"unknown model_args {sorted(unknown)} for mdmsched")
        self.gen_length = arg_count(gen_length, "gen_length")
        self.sampler = sampler_from_args(rule, gen_length=self.gen_length, block_length=block_length, steps=steps,
                                         schedule=schedule, table=table)
        self.seed = arg_count(seed, "seed", 0)
        self.batch_size = arg_count(1 if batch_size is None else batch_size, "batch_size")
        self.masks_per_request = arg_count(masks_per_request, "masks_per_request", 2)
        self.add_special_tokens = _flag(add_special_tokens, "add_special_tokens")
        try:
            heat = float(temperature)
        except (TypeError, ValueError):
            raise ValueError(f"temperature={temperature!r} must be a positive number") from None
        if not (math.isfinite(heat) and heat > 0):
            raise ValueError(f"temperature={temperature!r} must be a positive number")
        if dtype not in _DTYPES:
            raise ValueError(f"dtype={dtype!r} must be one of {', '.join(_DTYPES)}")
        if (pretrained is None) == (model is None):
            raise ValueError("give pretrained= (a Hugging Face name or path) or model= (a torch module), not both")
        if pretrained is not None:
            if tokenizer is not None:
                raise ValueError("tokenizer= goes with model=; pretrained= loads its own")
            model, tokenizer = _load_pretrained(str(pretrained), _flag(trust_remote_code, "trust_remote_code"),
                                                dtype, device)
        elif tokenizer is None:
            raise ValueError("model= needs tokenizer= (encode/decode of the model's token ids)")
        self.module, self.tokenizer = model, tokenizer
        config = getattr(model, "config", None)
        if mask_id is None:
            mask_id = getattr(tokenizer, "mask_token_id", None)
            mask_id = getattr(config, "mask_token_id", None) if mask_id is None else mask_id
        if mask_id is None:
            raise ValueError("mask_id= is needed: neither the tokenizer nor the config names a mask token")
        self.mask_id = arg_count(mask_id, "mask_id", 0)
        try:
            self.shift = as_shift(shift, model)
        except TypeError as err:
            raise ValueError(str(err)) from None
        model_type = str(getattr(config, "model_type", "")).lower()
        keyword_mask = model_type not in ("llada", "dream") if attention_mask is None else _flag(attention_mask,
                                                                                                  "attention_mask")
        forward = _tempered(hf_forward(model, attention_mask=keyword_mask, shift=self.shift), heat)
        try:
            self.scorer = TorchModel(model, self.mask_id, device=device, forward=forward)
        except (TypeError, ValueError) as err:
            raise ValueError(f"device={device!r}: {err}") from None
        self.nfe_per_request: list[int] = []
        self.loglikelihood_rows = 0

    # ---- text <-> tokens ---------------------------------------------------------------------------------------

    def _encode(self, text: str) -> list[int]:
        return [int(t) for t in self.tokenizer.encode(text, add_special_tokens=self.add_special_tokens)]

    def _decode(self, ids: Any) -> str:
        return str(self.tokenizer.decode([int(t) for t in ids], skip_special_tokens=True))

    @property
    def tokenizer_name(self) -> str:
        """The tokenizer's name (lm-eval fingerprints request caches with it)."""
        return str(getattr(self.tokenizer, "name_or_path", type(self.tokenizer).__name__)).replace("/", "__")

    def apply_chat_template(self, chat_history: list[dict[str, str]], add_generation_prompt: bool = True) -> str:
        """The tokenizer's chat template applied to ``chat_history`` (lm-eval's ``--apply_chat_template``)."""
        return str(self.tokenizer.apply_chat_template(chat_history, tokenize=False,
                                                      add_generation_prompt=add_generation_prompt))

    def chat_template(self, chat_template: bool | str = False) -> str | None:
        """The tokenizer's own chat template (lm-eval records it)."""
        return getattr(self.tokenizer, "chat_template", None) if chat_template else None

    # ---- generation ----------------------------------------------------------------------------------------------

    def generate_until(self, requests: list[Any], disable_tqdm: bool = False) -> list[str]:
        """Generate ``gen_length`` tokens per request with the sampler and cut the text at its ``until`` strings."""
        del disable_tqdm
        contexts = [self._encode(req.args[0]) for req in requests]
        outputs: list[str] = [""] * len(requests)
        nfe = np.zeros(len(requests), dtype=np.int64)
        order = sorted(range(len(requests)), key=lambda i: len(contexts[i]))  # equal lengths share a batch
        start = 0
        while start < len(order):
            size = len(contexts[order[start]])
            stop = start
            while stop < len(order) and stop - start < self.batch_size and len(contexts[order[stop]]) == size:
                stop += 1
            batch = order[start:stop]
            rows = np.zeros((len(batch), size + self.gen_length), dtype=np.int64)
            rows[:, :size] = np.array([contexts[i] for i in batch], dtype=np.int64).reshape(len(batch), size)
            free = np.arange(size, size + self.gen_length, dtype=np.int64)[None, :]
            run = run_rule(self.scorer, rows, free, self.sampler.block_lengths, self.sampler.rule, teacher=False,
                           rng=np.random.default_rng([self.seed, len(requests), start]),
                           row_rngs=[np.random.default_rng([self.seed, r]) for r in batch],
                           draw_rngs=[np.random.default_rng([self.seed, r, 1]) for r in batch])
            for k, r in enumerate(batch):
                gen_kwargs = requests[r].args[1] if len(requests[r].args) > 1 else {}
                until = gen_kwargs.get("until") if isinstance(gen_kwargs, dict) else None
                outputs[r] = cut_at_stops(self._decode(run.tokens[k, size:]), until)
                nfe[r] = run.nfe[k]
                self.cache_hook.add_partial("generate_until", requests[r].args, outputs[r])
            start = stop
        self.nfe_per_request.extend(int(v) for v in nfe)
        if len(requests):
            logger.info("mdmsched: %d requests, mean NFE %.3f (%s)", len(requests), float(nfe.mean()),
                        self.sampler.description)
        return outputs

    # ---- likelihoods -----------------------------------------------------------------------------------------------

    def _pair(self, context: str, continuation: str) -> tuple[list[int], list[int]]:
        """Context and continuation ids, trailing spaces of the context moved to the continuation (lm-eval's rule)."""
        spaces = len(context) - len(context.rstrip())
        if spaces:
            context, continuation = context[:-spaces], context[-spaces:] + continuation
        whole, head = self._encode(context + continuation), self._encode(context)
        return head, whole[len(head):]

    def loglikelihood(self, requests: list[Any], disable_tqdm: bool = False) -> list[tuple[float, bool]]:
        """``(ELBO, is_greedy)`` per ``(context, continuation)`` (class doc: a lower bound on the log-likelihood)."""
        del disable_tqdm
        out: list[tuple[float, bool]] = []
        for index, req in enumerate(requests):
            head, tail = self._pair(*req.args)
            if not tail:
                raise ValueError(f"request {index}: the continuation {req.args[1]!r} encodes to no tokens")
            row = np.array(head + tail, dtype=np.int64)
            region = np.zeros(row.size, dtype=bool)
            region[len(head):] = True
            rows = np.repeat(row[None, :], self.masks_per_request, axis=0)
            seed = int(np.random.SeedSequence([self.seed, index]).generate_state(1)[0])
            with warnings.catch_warnings():  # they judge the curve's shape; only its sum (the ELBO) is used here
                warnings.simplefilter("ignore", NonMonotoneWarning)
                warnings.simplefilter("ignore", FlatCurveWarning)
                est = estimate_curve(self.scorer, rows, region=region, grid=np.arange(len(tail)), seed=seed,
                                     batch_size=max(self.batch_size, self.masks_per_request))
            self.loglikelihood_rows += len(tail) * self.masks_per_request + 1
            masked = np.broadcast_to(region, (1, row.size)).copy()
            state = self.scorer.score_states(row[None, :], masked, nll=True)
            assert state.nll is not None
            greedy = bool(np.all(np.exp(-state.nll[masked]) >= state.max_prob[masked] * (1 - 1e-9)))
            result = (-float(np.sum(est.h)), greedy)
            self.cache_hook.add_partial("loglikelihood", req.args, result)
            out.append(result)
        return out

    def loglikelihood_rolling(self, requests: list[Any], disable_tqdm: bool = False) -> list[float]:
        """Not provided: a rolling (perplexity) bound would need an ELBO over every window of a document."""
        raise NotImplementedError("mdmsched does not provide loglikelihood_rolling (perplexity tasks): a masked "
                                  "diffusion model gives an ELBO, see loglikelihood; use generation or "
                                  "multiple-choice tasks")

    # ---- reporting ---------------------------------------------------------------------------------------------------

    @property
    def mean_nfe(self) -> float:
        """Mean forward passes per generated request so far (NaN before any)."""
        return float(np.mean(self.nfe_per_request)) if self.nfe_per_request else math.nan

    def get_model_info(self) -> dict[str, Any]:
        """What ``simple_evaluate`` adds to ``results["config"]``: the sampler and the forward passes it spent."""
        return {"mdmsched": {"sampler": self.sampler.description, "gen_length": self.gen_length,
                             "block_lengths": self.sampler.block_lengths, "shift": self.shift, "seed": self.seed,
                             "requests": len(self.nfe_per_request),
                             "mean_nfe": None if not self.nfe_per_request else self.mean_nfe,
                             "nfe_per_request": list(self.nfe_per_request),
                             "loglikelihood_model_rows": self.loglikelihood_rows}}
