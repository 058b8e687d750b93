#!/usr/bin/env bash
# Generation speed on an NVIDIA GPU, side by side with llama.cpp's own loops (the same
# scripts/bench-generate.sh as on CPU), then DAGs per hour of whole answers by --parallel.
#
# dagsmith and the reference are built with `--features dynamic-link`: llama.cpp as shared
# libraries. scripts/build-cuda-libs.sh builds the CUDA libraries from the same vendored
# llama.cpp source, and this script puts them first on LD_LIBRARY_PATH; the engine offloads
# every layer when llama.cpp reports a GPU.
#
# usage: scripts/bench-gpu.sh [MODEL.gguf]
# env: PARALLEL (1,2,4,8,16,32,64), MAX_TOKENS (256), DAG_PARALLEL (4,16,64: `generate` runs
#      over DAG_INPUT, default datasets/instructions.jsonl; empty: none), OUT,
#      DAGSMITH_ARGS / REF_ARGS (passed to bench-generate.sh: e.g. --device-sampling,
#      "--sync-steps 1"),
#      BIN_DIR (dagsmith and llama_batched_bench built elsewhere with dynamic-link; default:
#      cargo builds them here), CUDA_LIBS (a finished build-cuda-libs.sh to reuse; with
#      ONLY_LIBS=1, where to build it and stop; LLAMA_SRC and CUDA_ARCH go to that script),
#      COMMIT (the binaries' commit, recorded with the figures; by default this checkout's).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
CACHE="${DAGSMITH_CACHE:-$HOME/.cache/dagsmith}"
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$CACHE/target}"
MODEL="$(realpath "${1:-models/qwen2.5-coder-1.5b-instruct-q4_k_m.gguf}")"
OUT="${OUT:-$CACHE/bench/gpu-$(date +%Y%m%d-%H%M%S)}"
mkdir -p "$OUT"
[[ -f $MODEL || -n ${ONLY_LIBS:-} ]] || { echo "model $MODEL missing: dagsmith model fetch" >&2; exit 2; }

if [[ -z ${BIN_DIR:-} && -z ${ONLY_LIBS:-} ]]; then
  cargo build --release -q -p dagsmith -p dagsmith-engine \
    --features dagsmith/dynamic-link,dagsmith-engine/dynamic-link \
    --bin dagsmith --example llama_batched_bench
  BIN_DIR="$CARGO_TARGET_DIR/release"
fi
DAGSMITH="${BIN_DIR:-}/dagsmith"
REFERENCE="${BIN_DIR:-}/llama_batched_bench"
[[ -x $REFERENCE ]] || REFERENCE="${BIN_DIR:-}/examples/llama_batched_bench"

if [[ -z ${CUDA_LIBS:-} || -n ${ONLY_LIBS:-} ]]; then
  CUDA_LIBS="${CUDA_LIBS:-$CACHE/llama-cuda}"
  scripts/build-cuda-libs.sh "$CUDA_LIBS" >"$OUT/cmake-build.log" 2>&1
  [[ -z ${ONLY_LIBS:-} ]] || exit 0
fi
export LD_LIBRARY_PATH="$CUDA_LIBS/bin${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"

{
  nvidia-smi --query-gpu=name,driver_version,memory.total,clocks.max.sm --format=csv
  nvcc --version | tail -1
  lscpu | grep -E '^(Model name|CPU\(s\))'
} >"$OUT/machine.txt" 2>&1 || true
cat "$OUT/machine.txt" >&2

# Token throughput against the reference, level by level (bench-generate.sh interleaves them).
OUT="$OUT/generate" NO_BUILD=1 DAGSMITH_BIN="$DAGSMITH" REFERENCE_BIN="$REFERENCE" \
  scripts/bench-generate.sh "$MODEL" "${PARALLEL:-1,2,4,8,16,32,64}" "${MAX_TOKENS:-256}"

# Whole answers as users get them: API sheet, fixes and validation, every instruction.
DAG_INPUT="${DAG_INPUT:-datasets/instructions.jsonl}"
rows=$(wc -l <"$DAG_INPUT")
printf '\n| --parallel | rows | wall s | DAGs per hour |\n|---:|---:|---:|---:|\n' \
  | tee "$OUT/dags-per-hour.md"
DAG_PARALLEL="${DAG_PARALLEL-4,16,64}"
for p in ${DAG_PARALLEL//,/ }; do
  start=$(date +%s.%N)
  "$DAGSMITH" generate --model "$MODEL" --input "$DAG_INPUT" \
    -o "$OUT/dags-$p.jsonl" --parallel "$p" -q 2>"$OUT/dags-$p.log"
  wall=$(python3 -c "import sys; print(f'{float(sys.argv[2]) - float(sys.argv[1]):.1f}')" \
    "$start" "$(date +%s.%N)")
  python3 -c "import sys; r, w = int(sys.argv[2]), float(sys.argv[3]);
print(f'| {sys.argv[1]} | {r} | {w} | {r * 3600 / w:,.0f} |')" "$p" "$rows" "$wall" \
    | tee -a "$OUT/dags-per-hour.md"
done
grep -h "predicted to load\|tokens" "$OUT"/dags-*.log >&2 || true
# One file to bring back from the GPU machine.
tar -czf "$OUT.tar.gz" -C "$(dirname "$OUT")" "$(basename "$OUT")"
echo "results in $OUT (and $OUT.tar.gz)" >&2
