"""diffusers ``LLaDA2Pipeline`` running a mdmsched schedule exactly (needs the ``[diffusers]`` extra).

Three lines of glue::

    scheduler = PlannedBlockScheduler(plan)          # a Schedule or a BlockSchedule (uneven budgets included)
    pipe = LLaDA2Pipeline(model=model, scheduler=scheduler, tokenizer=tokenizer)
    out = pipe(input_ids=ids, **scheduler.call_kwargs(prompt_length=ids.shape[1]))

The pipeline then makes exactly ``len(block.passes)`` model calls in block ``b`` and commits ``block.passes[j]``
tokens at call ``j`` (the pipeline's own confidence ranking picks which). Pipeline arguments that would change that
raise ``ValueError`` at the first call instead of being silently honoured: a ``threshold <= 1`` (the pipeline would
commit every token above it on top of the counts), editing (``editing_threshold > 0`` re-opens committed tokens and
spends extra calls), a ``num_inference_steps`` or ``block_length`` other than the plan's, and a block whose masked
positions differ from the plan's block (a prompt length or ``gen_length`` laid out differently, see
:func:`~mdmsched.adapters.block_layout`) or a block past the plan's last. A ``gen_length`` shorter than the plan by
whole blocks is invisible to a scheduler: :attr:`PlannedBlockScheduler.complete` says whether the plan ran to its
end. **Floor mode** (``PlannedBlockScheduler(plan, threshold=0.9)``) keeps the pipeline's confidence rule: call ``j`` commits ``max(passes[j], #tokens above threshold)``, a block ends as soon as it
is fully revealed, so it costs at most the plan's calls. **Closed loop** (``PlannedBlockScheduler(policy,
threshold=0.9)`` with a :class:`~mdmsched.ClosedLoopPolicy`, or one per block): call ``j`` commits at least
``policy.count(revealed, k - j)`` per row, the floor re-planned from the state the threshold commits reached (SPEC
§5.4); rows whose counts differ are stepped in groups (one ``BlockRefinementScheduler.step`` per distinct count: with
``temperature > 0`` a generator's draws then come in another order than one batched call).
"""

from __future__ import annotations

import math
from typing import Any

import torch
from diffusers import BlockRefinementScheduler

from .._schedule import Schedule
from .._validation import as_count, as_real
from ..closed_loop import ClosedLoopPolicy
from ._plan import block_layout, plan_blocks, plan_policies

__all__ = ["PlannedBlockScheduler"]

#: The ``threshold`` :meth:`PlannedBlockScheduler.call_kwargs` passes in exact mode: above every probability, so
#: the pipeline's confidence rule never adds a commit (its own check accepts ``threshold > 1`` as "top-k only").
EXACT_THRESHOLD = 2.0


class PlannedBlockScheduler(BlockRefinementScheduler):  # type: ignore[misc]  # diffusers is untyped
    """A ``BlockRefinementScheduler`` that commits a mdmsched schedule's counts, block by block.

    Parameters
    ----------
    plan:
        A :class:`~mdmsched.Schedule` (every block runs it; its ``n`` is the block length) or a
        :class:`~mdmsched.BlockSchedule` (block ``b`` of the pipeline runs ``plan.blocks[b]``; budgets may differ
        per block). Zeros in ``passes`` are model calls that commit nothing, run as the plan says. Or a
        :class:`~mdmsched.ClosedLoopPolicy` (every block; its ``n`` is the block length, its ``k`` the block's
        calls) or a list of them (one per block): closed loop, the count of each call looked up at the state reached.
    block_length:
        The pipeline's block length; default the plan's longest block (give it when the only block is shorter).
    threshold:
        ``None`` (default): exact mode, the counts are what is committed. A number in ``[0, 1]``: floor mode, the
        counts are the minimum per call and the pipeline's confidence threshold commits more.

    After a run, ``trace`` holds the tokens committed at every call, per block, per row (``trace[b][j][r]``),
    :attr:`calls` the model calls per block and :attr:`complete` whether the plan ran to its end. Costs: the
    pipeline's, plus ``O(batch * block_length)`` per call.
    """

    def __init__(self, plan: Any, *, threshold: float | None = None, block_length: int | None = None) -> None:
        self._policies = plan_policies(plan)
        # A policy's replay from (0, k) has its calls and block length: every layout check below holds as for a plan.
        blocks = plan_blocks(plan) if self._policies is None else [
            [int(c) for c in p.schedule().sizes] for p in self._policies]
        lengths = [sum(b) for b in blocks]
        width = max(lengths) if block_length is None else as_count(block_length, "block_length")
        if any(length != width for length in lengths[1:]) or lengths[0] > width:
            raise ValueError(f"the pipeline's blocks all have block_length={width} positions (only the first may be "
                             f"shorter: it shares positions with the prompt); the plan's blocks have {lengths}")
        if isinstance(plan, (Schedule, ClosedLoopPolicy)) and width != lengths[0]:
            raise ValueError(f"a Schedule runs in every block: block_length must be its n = {lengths[0]}, got {width}")
        floor = None if threshold is None else as_real(threshold, "threshold")
        if floor is not None and not 0.0 <= floor <= 1.0:
            raise ValueError(f"threshold (floor mode) must lie in [0, 1], got {threshold!r}")
        super().__init__(block_length=width, num_inference_steps=max(len(b) for b in blocks),
                         threshold=EXACT_THRESHOLD if floor is None else floor, editing_threshold=None, minimal_topk=1)
        self.plan = plan
        self.floor_threshold = floor
        self._blocks = blocks
        self._repeat = isinstance(plan, (Schedule, ClosedLoopPolicy))  # every block runs it
        self.trace: list[list[list[int]]] = []
        self._left: torch.Tensor | None = None

    @property
    def calls(self) -> list[int]:
        """Model calls the last run made in each block."""
        return [len(block) for block in self.trace]

    @property
    def complete(self) -> bool:
        """Whether the last run made every call of every block of the plan. A scheduler cannot see ``gen_length``:
        one shorter than the plan by whole blocks (or an EOS early stop) ends the run early, visible only here."""
        if not self.trace:
            return False
        done = len(self.trace[-1]) == len(self._passes(len(self.trace) - 1))
        return done and (self._repeat or len(self.trace) == len(self._blocks))

    def _passes(self, block: int) -> list[int]:
        return self._blocks[0 if self._repeat else block]

    def call_kwargs(self, prompt_length: int = 0, gen_length: int | None = None) -> dict[str, Any]:
        """The ``LLaDA2Pipeline`` arguments that run this plan after a prompt of ``prompt_length`` tokens:
        ``gen_length``, ``block_length``, ``num_inference_steps``, ``threshold``, ``editing_threshold``. For a
        ``Schedule`` give ``gen_length`` (a multiple of its ``n``; default one block). Raises ``ValueError`` when
        the pipeline would lay the plan's blocks out differently (:func:`~mdmsched.adapters.block_layout`)."""
        prompt = as_count(prompt_length, "prompt_length", minimum=0)
        width = int(self.config.block_length)
        if self._repeat:
            gen = width if gen_length is None else as_count(gen_length, "gen_length")
            want = block_layout(prompt, gen, width)
            if any(m != width for m in want):
                raise ValueError(f"a Schedule runs every block over {width} positions, but prompt_length={prompt} "
                                 f"and gen_length={gen} give blocks of {want} masked positions: use a BlockSchedule "
                                 "with those block lengths")
        else:
            lengths = [sum(b) for b in self._blocks]
            total = sum(lengths)
            gen = total - (-(prompt + total) % width) if gen_length is None else as_count(gen_length, "gen_length")
            want = block_layout(prompt, gen, width)
            if want != lengths:
                raise ValueError(f"prompt_length={prompt}, gen_length={gen}, block_length={width} give the pipeline's "
                                 f"blocks {want} masked positions, the plan's blocks have {lengths} (build the plan "
                                 "for mdmsched.adapters.block_layout(prompt_length, gen_length, block_length))")
        return {"gen_length": gen, "block_length": width, "num_inference_steps": int(self.config.num_inference_steps),
                "threshold": float(self.config.threshold), "editing_threshold": None}

    # ---- the pipeline's hooks -----------------------------------------------------------------------------------

    def set_timesteps(self, num_inference_steps: int, device: str | torch.device | None = None,
                      block_length: int | None = None) -> None:
        """Called once per pipeline run: checks its ``num_inference_steps``/``block_length`` against the plan."""
        want_steps, want_block = int(self.config.num_inference_steps), int(self.config.block_length)
        if num_inference_steps != want_steps:
            raise ValueError(f"num_inference_steps={num_inference_steps} (as capped by the pipeline at gen_length // "
                             f"minimal_topk), but the plan runs at most {want_steps} model "
                             f"calls per block: pass num_inference_steps={want_steps} (scheduler.call_kwargs() "
                             "gives every argument)")
        if block_length is not None and block_length != want_block:
            raise ValueError(f"block_length={block_length}, but the plan's blocks have {want_block} positions")
        super().set_timesteps(num_inference_steps, device=device, block_length=want_block)
        self.trace = []
        self._left = None

    def _check_arguments(self, threshold: float | None, editing_threshold: float | None) -> float:
        """The threshold to commit with, after refusing pipeline arguments that contradict the plan."""
        if editing_threshold is not None and editing_threshold > 0.0:
            raise ValueError(f"editing_threshold={editing_threshold} re-opens committed tokens and adds model calls "
                             "after a block is revealed: pass editing_threshold=None to run the plan")
        if self.floor_threshold is None:
            if threshold is not None and not threshold > 1.0:
                raise ValueError(f"threshold={threshold} would commit every token above it on top of the plan's "
                                 f"counts: pass threshold={EXACT_THRESHOLD} for exact counts, or build "
                                 f"PlannedBlockScheduler(plan, threshold={threshold}) for floor mode")
            return math.inf
        if threshold is not None and threshold != self.floor_threshold:
            raise ValueError(f"threshold={threshold}, but this scheduler was built for floor mode with "
                             f"threshold={self.floor_threshold}")
        return self.floor_threshold

    def _start_block(self, masked: torch.Tensor) -> None:
        block = len(self.trace)
        if not self._repeat and block >= len(self._blocks):
            raise ValueError(f"the pipeline runs a block {block + 1} but the plan has {len(self._blocks)} blocks: "
                             "gen_length is longer than the plan (scheduler.call_kwargs() gives it)")
        want = sum(self._passes(block))
        have = masked.sum(dim=-1)
        if bool((have != want).any()):
            raise ValueError(f"block {block} of the pipeline has {int(have.max())} masked positions, the plan's block "
                             f"{block} has {want}: a prompt length that is not a multiple of the block length "
                             "shares the first block with the prompt, and the last block runs to the block boundary "
                             "(see mdmsched.adapters.block_layout and scheduler.call_kwargs(prompt_length))")
        self.trace.append([])

    def step(self, model_output: torch.Tensor, timestep: int | torch.Tensor, sample: torch.LongTensor,
             *, mask_token_id: int | None = None, threshold: float | None = None,
             editing_threshold: float | None = None, **kwargs: Any) -> Any:
        """One call: commit this call's count (exact mode) or at least it (floor mode); see the class doc."""
        if mask_token_id is None:
            raise ValueError("PlannedBlockScheduler needs a mask_token_id (the uniform-corruption mode has no masks "
                             "to count)")
        commit_above = self._check_arguments(threshold, editing_threshold)
        masked = torch.eq(sample, mask_token_id)
        if int(timestep.item() if isinstance(timestep, torch.Tensor) else timestep) == 0:
            self._start_block(masked)
        block = len(self.trace) - 1
        passes = self._passes(block)
        call = len(self.trace[block])
        if self._policies is not None:
            policy = self._policies[0 if self._repeat else block]
            counts = policy.step_counts(masked.sum(dim=-1).cpu().numpy(), call).tolist()
            out = self._step_groups(counts, model_output, sample, mask_token_id, commit_above, kwargs)
        else:
            count = passes[call] if call < len(passes) else 0
            # The parent commits _transfer_schedule[timestep]: give it this call's count alone.
            self._transfer_schedule = torch.tensor([count], dtype=torch.long)
            out = super().step(model_output, 0, sample, mask_token_id=mask_token_id, threshold=commit_above,
                               editing_threshold=None, **kwargs)
        transfer = out.transfer_index if kwargs.get("return_dict", True) else out[1]
        self.trace[block].append([int(c) for c in transfer.sum(dim=-1)])
        self._left = (masked & ~transfer).sum(dim=-1)
        return out

    def _step_groups(self, counts: list[int], model_output: torch.Tensor, sample: torch.LongTensor,
                     mask_token_id: int, commit_above: float, kwargs: dict[str, Any]) -> Any:
        """The parent's step once per distinct count (it takes one count for the whole batch), rows reassembled."""
        return_dict = kwargs.pop("return_dict", True)
        groups = sorted(set(counts))
        parts = []
        for count in groups:
            rows = torch.tensor([r for r, c in enumerate(counts) if c == count], dtype=torch.long,
                                device=sample.device)
            self._transfer_schedule = torch.tensor([count], dtype=torch.long)
            one = super().step(model_output if len(groups) == 1 else model_output[rows], 0,
                               sample if len(groups) == 1 else sample[rows], mask_token_id=mask_token_id,
                               threshold=commit_above, editing_threshold=None, return_dict=True, **kwargs)
            parts.append((rows, one))
        if len(parts) == 1:
            out = parts[0][1]
        else:
            fields = ("prev_sample", "transfer_index", "editing_transfer_index", "sampled_tokens", "sampled_probs",
                      "pred_logits")
            merged = {}
            for name in fields:
                first = getattr(parts[0][1], name)
                whole = first.new_empty((sample.shape[0], *first.shape[1:]))
                for rows, one in parts:
                    whole[rows] = getattr(one, name)
                merged[name] = whole
            out = type(parts[0][1])(**merged)
        if return_dict:
            return out
        return (out.prev_sample, out.transfer_index, out.editing_transfer_index, out.sampled_tokens,
                out.sampled_probs, out.pred_logits)

    def check_block_should_continue(self, step_idx: int, masks_remaining: bool, editing_enabled: bool,
                                    editing_transfer_index: torch.BoolTensor, post_steps: int, max_post_steps: int,
                                    finished: torch.BoolTensor) -> bool:
        """Run the block's calls, no more (the parent would spend one more call on a block with fewer calls than
        ``num_inference_steps``); in floor mode stop once every unfinished row is revealed."""
        del step_idx, masks_remaining, editing_enabled, editing_transfer_index, post_steps, max_post_steps
        if bool(finished.all()) or not self.trace:
            return False
        block = len(self.trace) - 1
        if len(self.trace[block]) >= len(self._passes(block)):
            return False
        if self.floor_threshold is None or self._left is None:
            return True
        return bool((self._left[~finished.to(self._left.device)] > 0).any())
