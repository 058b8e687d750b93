#!/usr/bin/env bash
# Generation speed: `dagsmith bench generate` and the reference llama.cpp build (node-llama-cpp
# 3.22.1 from npm, prebuilt binaries) on the same model, prompts, thread count and token limit,
# one after the other in the same session. Results go to $OUT (default
# $CACHE/bench/generate-<date>), as JSON; docs/BENCHMARKS.md records them with the conditions.
#
# usage: scripts/bench-generate.sh [MODEL.gguf] [PARALLEL=1,2,4,8] [MAX_TOKENS=128]
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
CACHE="${DAGSMITH_CACHE:-$HOME/.cache/dagsmith}"
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$CACHE/target}"
MODEL="${1:-models/qwen2.5-coder-1.5b-instruct-q4_k_m.gguf}"
PARALLEL="${2:-1,2,4,8}"
MAX_TOKENS="${3:-128}"
THREADS="${THREADS:-$(nproc)}"
OUT="${OUT:-$CACHE/bench/generate-$(date +%Y%m%d-%H%M%S)}"
mkdir -p "$OUT"
[[ -f $MODEL ]] || { echo "model $MODEL missing: dagsmith model fetch" >&2; exit 2; }

REF="$CACHE/bench-ref"
if [[ ! -d $REF/node_modules/node-llama-cpp ]]; then
  mkdir -p "$REF"
  echo '{"name":"dagsmith-bench-ref","private":true,"type":"module"}' >"$REF/package.json"
  (cd "$REF" && npm install --no-audit --no-fund node-llama-cpp@3.22.1)
fi
cp scripts/bench-reference.mjs "$REF/"

cargo build --release -q -p dagsmith
# OpenMP's default (spinning) wait is fastest on an idle machine (~10% over passive at 1 sequence,
# measured here); on a busy one a spinning pool collapses and OMP_WAIT_POLICY=passive is the
# setting to use (../shared/notes/llama-cpp.md). Left to the caller's environment.
# Interleaved per level (dagsmith, then the reference), so that both see the same machine state.
for p in ${PARALLEL//,/ }; do
  echo "== parallel $p: dagsmith ($THREADS threads, max $MAX_TOKENS tokens)" >&2
  "$CARGO_TARGET_DIR/release/dagsmith" bench generate --model "$MODEL" --parallel "$p" \
    --max-tokens "$MAX_TOKENS" --threads "$THREADS" --json | tee "$OUT/dagsmith-$p.json"
  echo "== parallel $p: node-llama-cpp" >&2
  node "$REF/bench-reference.mjs" "$(realpath "$MODEL")" "$(realpath datasets/instructions.jsonl)" \
    "$THREADS" "$MAX_TOKENS" "$p" | tee "$OUT/reference-$p.json"
done
echo "results in $OUT" >&2
