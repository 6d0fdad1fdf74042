"""An mdmsched optimal blockwise schedule for LLaDA on GSM8K (step 1 of ``gsm8k_llada.sh``): the model's per-block
cross-entropy curves (SPEC §5.1) estimated on GSM8K *train* answers with the package's nested estimator, then the
certified optimal split of ``--steps`` passes over the blocks, written as ``BlockSchedule`` JSON for the lm-eval
plug-in's ``schedule=``.

Rows: the chat-templated question, then the reference answer (its tokens and ``<|eot_id|>``, cut or padded with EOS
to ``--gen-length``, as LLaDA's SFT pads answers), then EOS filler up to the longest row, so all rows have one
length; the region (generated positions) is each row's ``gen_length`` answer positions. The filler after the answer is
revealed context that generation does not have: an approximation, stated here.

``python benchmarks/gpu/llada_plan.py --model GSAI-ML/LLaDA-8B-Instruct --rows 64 --out plan.json`` prints the forward
passes it will spend before spending them. Needs torch, transformers, datasets and the weights; a GPU in practice.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

import numpy as np


def answer_rows(prompts: list[list[int]], answers: list[list[int]], gen_length: int,
                filler: int) -> tuple[np.ndarray, np.ndarray]:
    """``(rows, region)``: prompt + answer cut/padded to ``gen_length`` with ``filler`` + ``filler`` up to the longest
    row; ``region`` marks each row's answer positions (``gen_length`` per row). O(rows x length)."""
    width = max(len(p) for p in prompts) + gen_length
    rows = np.full((len(prompts), width), filler, dtype=np.int64)
    region = np.zeros(rows.shape, dtype=bool)
    for i, (prompt, answer) in enumerate(zip(prompts, answers)):
        body = (list(answer) + [filler] * gen_length)[:gen_length]
        rows[i, : len(prompt)] = prompt
        rows[i, len(prompt): len(prompt) + gen_length] = body
        region[i, len(prompt): len(prompt) + gen_length] = True
    return rows, region


def make_plan(scorer: Any, rows: np.ndarray, region: np.ndarray, *, block_length: int, steps: int, reps: int,
              seed: int, batch_size: int, grid_points: int, dry_run: bool = False) -> dict[str, Any]:
    """The per-block curves of ``scorer`` (a TorchModel) on ``rows`` and the certified optimal split of ``steps``.
    Returns ``{"forward_passes", "schedule" (BlockSchedule JSON dict or None when dry_run), "equal_split_error",
    "optimal_error"}``; the passes are known before any runs (``plan_block_estimate``)."""
    from mdmsched.models.estimate import estimate_block_curves, plan_block_estimate
    from mdmsched.schedules.practice import llada_blocks

    gen_length = int(region[0].sum())
    grid = np.unique(np.linspace(0, block_length - 1, min(grid_points, block_length)).round().astype(np.int64))
    plans = plan_block_estimate(rows.shape, block_length=block_length, region=region, grid=grid, reps=reps,
                                batch_size=batch_size, seed=seed)
    passes = int(sum(p.model_calls for p in plans))
    out: dict[str, Any] = {"forward_passes": passes, "rows": int(rows.shape[0]), "row_length": int(rows.shape[1]),
                           "schedule": None}
    if dry_run:
        return out
    curves = estimate_block_curves(scorer, rows, block_length=block_length, region=region, grid=grid, reps=reps,
                                   batch_size=batch_size, seed=seed)
    optimal = curves.optimal_split(steps)
    equal = llada_blocks(gen_length, block_length, steps)
    out["schedule"] = json.loads(optimal.to_json())
    out["optimal_error"] = curves.schedule_error(optimal).value
    out["equal_split_error"] = curves.schedule_error(equal).value
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--model", default="GSAI-ML/LLaDA-8B-Instruct")
    parser.add_argument("--mask-id", type=int, default=126336)
    parser.add_argument("--pad-id", type=int, default=None, help="padding after an answer (default: the tokenizer's "
                        "EOS, LLaDA's <|endoftext|>; the answer itself ends with <|eot_id|> where the tokenizer has it)")
    parser.add_argument("--gen-length", type=int, default=256)
    parser.add_argument("--block-length", type=int, default=32)
    parser.add_argument("--steps", type=int, default=64)
    parser.add_argument("--rows", type=int, default=64, help="GSM8K train problems for the curves")
    parser.add_argument("--reps", type=int, default=1)
    parser.add_argument("--grid-points", type=int, default=17, help="revealed counts per block on the grid")
    parser.add_argument("--batch-size", type=int, default=16)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", default="plan.json")
    parser.add_argument("--dry-run", action="store_true", help="print the cost and stop")
    args = parser.parse_args(argv)

    from datasets import load_dataset
    from transformers import AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(args.model, trust_remote_code=True)
    train = load_dataset("openai/gsm8k", "main", split="train").select(range(args.rows))
    prompts = [tokenizer.apply_chat_template([{"role": "user", "content": q}], add_generation_prompt=True,
                                             tokenize=True) for q in train["question"]]
    prompts = [list(p["input_ids"]) if isinstance(p, dict) else list(p) for p in prompts]
    pad = tokenizer.eos_token_id if args.pad_id is None else args.pad_id
    eot = tokenizer.convert_tokens_to_ids("<|eot_id|>")
    end = [eot] if isinstance(eot, int) and eot != tokenizer.unk_token_id else []
    answers = [tokenizer.encode(a, add_special_tokens=False) + end for a in train["answer"]]
    rows, region = answer_rows(prompts, answers, args.gen_length, pad)
    cost = make_plan(None, rows, region, block_length=args.block_length, steps=args.steps, reps=args.reps,
                     seed=args.seed, batch_size=args.batch_size, grid_points=args.grid_points, dry_run=True)
    print(f"curve estimate: {cost['forward_passes']} forward passes of up to {args.batch_size} rows of length "
          f"{cost['row_length']} ({args.rows} GSM8K train problems)", flush=True)
    if args.dry_run:
        return 0

    import torch
    from transformers import AutoModel

    from mdmsched.adapters import hf_forward
    from mdmsched.models.torch import TorchModel

    module = AutoModel.from_pretrained(args.model, trust_remote_code=True, dtype=torch.bfloat16)
    module = module.to("cuda" if torch.cuda.is_available() else "cpu").eval()
    scorer = TorchModel(module, args.mask_id, forward=hf_forward(module, attention_mask=False))
    result = make_plan(scorer, rows, region, block_length=args.block_length, steps=args.steps, reps=args.reps,
                       seed=args.seed, batch_size=args.batch_size, grid_points=args.grid_points)
    Path(args.out).write_text(json.dumps(result["schedule"]), encoding="utf-8")
    print(f"wrote {args.out}: estimated expected KL (nats, sum over blocks) optimal {result['optimal_error']:.4g}, "
          f"LLaDA equal split {result['equal_split_error']:.4g}", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
