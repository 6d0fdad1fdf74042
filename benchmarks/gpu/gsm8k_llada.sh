#!/usr/bin/env bash
# GSM8K with LLaDA-8B-Instruct through lm-eval and the mdmsched plug-in: an mdmsched optimal blockwise schedule
# (certified split of STEPS passes over the blocks, from the model's own curves on GSM8K train answers) against
# LLaDA's equal split, both with LLaDA's low-confidence rule (rule=top_k) and the same seeds. Prints accuracy and mean
# forward passes (NFE) per problem for each.
#
# Run wherever a CUDA GPU (about 17 GB for the bf16 weights) and the weights are at hand, with the [lm-eval] extra:
#     pip install "mdmsched[lm-eval]" datasets && bash benchmarks/gpu/gsm8k_llada.sh
# MODEL may be a local path. GSM8K comes from the Hub (lm-eval's gsm8k task; the plan step reads its train split)
# unless cached. Not run by CI; no GPU was at hand when it was written (see BENCHMARKS.md).
set -euo pipefail
cd "$(dirname "$0")/../.."

MODEL="${MODEL:-GSAI-ML/LLaDA-8B-Instruct}"
MASK_ID="${MASK_ID:-126336}"
GEN_LENGTH="${GEN_LENGTH:-256}"
BLOCK_LENGTH="${BLOCK_LENGTH:-32}"
STEPS="${STEPS:-64}"            # forward passes per problem for both samplers (fixed counts: NFE = STEPS)
LIMIT="${LIMIT:-200}"           # GSM8K test problems (1319 in all)
PLAN_ROWS="${PLAN_ROWS:-64}"    # GSM8K train problems for the curve estimate
FEWSHOT="${FEWSHOT:-0}"
BATCH="${BATCH:-8}"
SEED="${SEED:-0}"
OUT="${OUT:-gsm8k_llada_out}"
mkdir -p "$OUT"
COMMON="pretrained=$MODEL,mask_id=$MASK_ID,trust_remote_code=true,dtype=bfloat16,gen_length=$GEN_LENGTH"
COMMON="$COMMON,block_length=$BLOCK_LENGTH,seed=$SEED"

echo "== cost before running"
python benchmarks/gpu/llada_plan.py --model "$MODEL" --mask-id "$MASK_ID" --gen-length "$GEN_LENGTH" \
    --block-length "$BLOCK_LENGTH" --steps "$STEPS" --rows "$PLAN_ROWS" --dry-run
echo "generation: 2 samplers x $LIMIT problems x $STEPS forward passes = $((2 * LIMIT * STEPS)) row-forwards" \
     "(batches of up to $BATCH rows of equal prompt length)"

echo "== 1. the optimal schedule from LLaDA's own curves"
python benchmarks/gpu/llada_plan.py --model "$MODEL" --mask-id "$MASK_ID" --gen-length "$GEN_LENGTH" \
    --block-length "$BLOCK_LENGTH" --steps "$STEPS" --rows "$PLAN_ROWS" --seed "$SEED" --out "$OUT/plan.json"

run() {  # $1 = label, $2 = sampler model_args
    echo "== $1"
    python -m mdmsched.adapters.lm_eval_cli run --model mdmsched --model_args "$COMMON,$2" \
        --tasks gsm8k --num_fewshot "$FEWSHOT" --limit "$LIMIT" --apply_chat_template --batch_size "$BATCH" \
        --output_path "$OUT/$1"
}
run equal "rule=top_k,steps=$STEPS"
run optimal "rule=top_k,schedule=$OUT/plan.json"

echo "== accuracy and forward passes"
python - "$OUT" <<'PY'
import json, pathlib, sys
out = pathlib.Path(sys.argv[1])
for label in ("equal", "optimal"):
    path = max((out / label).rglob("results_*.json"), key=lambda p: p.stat().st_mtime)
    res = json.loads(path.read_text())
    gsm = res["results"]["gsm8k"]
    info = res["config"]["mdmsched"]
    print(f"{label:8s} exact match strict {gsm['exact_match,strict-match']:.4f} flexible "
          f"{gsm['exact_match,flexible-extract']:.4f}  mean NFE {info['mean_nfe']:.2f} over {info['requests']} "
          f"problems  ({info['sampler']})")
PY
