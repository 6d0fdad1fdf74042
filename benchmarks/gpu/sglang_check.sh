#!/usr/bin/env bash
# The SGLang plug-in on a real server (GPU machine with sglang==0.5.23 and LLaDA2 weights; not run by CI).
#
#   MODEL=/path/to/LLaDA2.0-mini benchmarks/gpu/sglang_check.sh [STEPS] [TAU] [REQUESTS]
#
# Builds a table of optimal schedules for blocks of 32 (the markov example curve, or CURVE=file.npy), installs the
# MdmschedPlan algorithm into SGLang's package, launches a server with it, sends REQUESTS generation requests and
# reports forwards per block and per request from the plug-in's log (one line per finished block: masked forwards).
# With TAU > 1 (the pure plan) every full block must cost STEPS + 1 forwards (STEPS commits, one that reports done).
set -euo pipefail
MODEL="${MODEL:?set MODEL to a LLaDA2 checkpoint (e.g. inclusionAI/LLaDA2.0-mini, downloaded)}"
STEPS="${1:-8}"
TAU="${2:-2.0}"
REQUESTS="${3:-8}"
PORT="${PORT:-30123}"
work="$(mktemp -d)"
curve_args=(--example markov)
if [ -n "${CURVE:-}" ]; then curve_args=("$CURVE"); fi

python -c "import sglang, importlib.metadata as m; print('sglang', m.version('sglang'))"
mdmsched table "${curve_args[@]}" --lengths "$(seq -s, 1 32)" --steps "$(seq -s, 1 "$STEPS")" --out "$work/table.json"
python -m mdmsched.adapters.sglang config --table "$work/table.json" --steps "$STEPS" --tau "$TAU" --out "$work/plan.yaml"
echo "log: \"$work/blocks.log\"" >> "$work/plan.yaml"
python -m mdmsched.adapters.sglang install
trap 'kill "${server:-}" 2>/dev/null || true; python -m mdmsched.adapters.sglang uninstall >/dev/null' EXIT

python -m sglang.launch_server --model-path "$MODEL" --dllm-algorithm MdmschedPlan \
    --dllm-algorithm-config "$work/plan.yaml" --port "$PORT" --max-running-requests 1 > "$work/server.log" 2>&1 &
server=$!
for _ in $(seq 1 600); do
    if curl -sf "http://127.0.0.1:$PORT/health" >/dev/null; then break; fi
    if ! kill -0 "$server" 2>/dev/null; then tail -n 50 "$work/server.log"; exit 1; fi
    sleep 1
done

for i in $(seq 1 "$REQUESTS"); do
    before=$(wc -l < "$work/blocks.log" 2>/dev/null || echo 0)
    curl -sf "http://127.0.0.1:$PORT/generate" -H 'Content-Type: application/json' \
        -d "{\"text\": \"Question $i: what is $i times 7? Answer:\", \"sampling_params\": {\"max_new_tokens\": 128, \"temperature\": 0}}" \
        >/dev/null
    after=$(wc -l < "$work/blocks.log")
    awk -v i="$i" -v a="$before" 'NR > a {f += $2; b += 1} END {printf "request %d: %d blocks, %d forwards\n", i, b, f}' \
        "$work/blocks.log"
done
python - "$work/blocks.log" "$STEPS" "$TAU" <<'PY'
import sys
rows = [tuple(map(int, line.split())) for line in open(sys.argv[1]) if line.strip()]
steps, tau = int(sys.argv[2]), float(sys.argv[3])
full = [f for m, f in rows if m >= steps]
print(f"{len(rows)} blocks; mean forwards per block {sum(f for _, f in rows) / len(rows):.2f}; "
      f"blocks with >= {steps} masked: mean {sum(full) / max(len(full), 1):.2f} forwards")
if tau > 1 and any(f != steps + 1 for f in full):
    sys.exit(f"the pure plan must cost {steps} + 1 forwards per full block; saw {sorted(set(full))}")
PY
