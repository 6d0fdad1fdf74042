#!/usr/bin/env bash
# One sampler step from the same bf16 logits (8 x 1024 x 126,464), mdmsched vs LLaDA / Fast-dLLM / EB-sampler, on a GPU.
# No forward pass is run (the logits are fixed), so this spends no model forwards: ~2 GB of GPU memory, < 1 minute.
# Usage, from the repository root on a machine with CUDA torch:  bash benchmarks/gpu/rule_step.sh
set -euo pipefail
python -m pip install -q ".[test]"
MDMSCHED_BENCH_DEVICE=cuda python -m pytest benchmarks/bench_rule_step.py --full -s -p no:cacheprovider \
    --benchmark-disable | grep -E "ratio|passed|failed"
