#!/usr/bin/env bash
# Generation speed, side by side: `dagsmith bench generate` and llama.cpp's own measurement loops
# (crates/engine/examples/llama_batched_bench.rs: llama-batched-bench and llama-bench's prompt
# test, call for call through the same bindings and the same vendored llama.cpp, none of
# dagsmith's engine). Same model, prompts (the first P instructions of the built-in set with
# dagsmith's system prompt), thread count and lengths; every answer runs to MAX_TOKENS
# (--ignore-eos) so both do equal work. Interleaved level by level, ROUNDS times, so that both
# see the same machine state: dagsmith first in odd rounds, the reference first in even ones
# (this host's speed drifts within a round, and one side always first took the drift as a
# difference). `uptime` is recorded with each level. Prints a table; the JSON of every run goes
# to $OUT.
#
# usage: scripts/bench-generate.sh [MODEL.gguf] [PARALLEL=1,2,4,8] [MAX_TOKENS=64]
# env: THREADS (default: physical cores), ROUNDS (1), OUT, NO_BUILD=1 (reuse the binaries),
#      PROFILE (release; `debug` runs the dev-profile binaries, whose llama.cpp is the same
#      optimised Release build),
#      DAGSMITH_ARGS (extra `bench generate` options, e.g. --no-prefix-reuse),
#      REF_ARGS (extra reference options, e.g. "--kv-unified 0 --flash-attn off"),
#      NODE_REF=1 (also node-llama-cpp 3.22.1 from npm: llama.cpp's prebuilt CPU backends),
#      DAGSMITH_BIN / REFERENCE_BIN (binaries built elsewhere; scripts/bench-gpu.sh).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
CACHE="${DAGSMITH_CACHE:-$HOME/.cache/dagsmith}"
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$CACHE/target}"
MODEL="${1:-models/qwen2.5-coder-1.5b-instruct-q4_k_m.gguf}"
PARALLEL="${2:-1,2,4,8}"
MAX_TOKENS="${3:-64}"
THREADS="${THREADS:-$(lscpu -p=CORE 2>/dev/null | grep -v '^#' | sort -u | wc -l)}"
ROUNDS="${ROUNDS:-1}"
OUT="${OUT:-$CACHE/bench/generate-$(date +%Y%m%d-%H%M%S)}"
mkdir -p "$OUT"
[[ -f $MODEL ]] || { echo "model $MODEL missing: dagsmith model fetch" >&2; exit 2; }
INSTRUCTIONS="$(realpath datasets/instructions.jsonl)"

PROFILE="${PROFILE:-release}"
if [[ -z ${NO_BUILD:-} ]]; then
  cargo build --profile "${PROFILE/debug/dev}" -q -p dagsmith
  cargo build --profile "${PROFILE/debug/dev}" -q -p dagsmith-engine --example llama_batched_bench
fi
DAGSMITH="${DAGSMITH_BIN:-$CARGO_TARGET_DIR/$PROFILE/dagsmith}"
REFERENCE="${REFERENCE_BIN:-$CARGO_TARGET_DIR/$PROFILE/examples/llama_batched_bench}"

if [[ -n ${NODE_REF:-} ]]; then
  NODE_DIR="$CACHE/bench-ref"
  if [[ ! -d $NODE_DIR/node_modules/node-llama-cpp ]]; then
    mkdir -p "$NODE_DIR"
    echo '{"name":"dagsmith-bench-ref","private":true,"type":"module"}' >"$NODE_DIR/package.json"
    (cd "$NODE_DIR" && npm install --no-audit --no-fund node-llama-cpp@3.22.1)
  fi
  cp scripts/bench-reference.mjs "$NODE_DIR/"
fi

# OpenMP's spinning wait is fastest on an idle machine; on a busy one OMP_WAIT_POLICY=passive
# holds up (../shared/notes/llama-cpp.md). Left to the caller's environment, recorded here.
# COMMIT names the binaries' commit when they were built elsewhere (bench-gpu.sh's BIN_DIR);
# otherwise this checkout's, marked when its crates differ from it.
if [[ -n ${COMMIT:-} ]]; then
  commit=$COMMIT
elif commit=$(git rev-parse --short HEAD 2>/dev/null); then
  git diff --quiet HEAD -- crates || commit+=+dirty
else
  commit=unknown
fi
echo "OMP_WAIT_POLICY=${OMP_WAIT_POLICY:-unset} threads=$THREADS max_tokens=$MAX_TOKENS" \
  "commit=$commit" \
  | tee "$OUT/conditions.txt" >&2
for round in $(seq 1 "$ROUNDS"); do
  echo "== round $round: reference prompt test (llama-bench pp, 5 repetitions)" >&2
  "$REFERENCE" "$MODEL" "$INSTRUCTIONS" --threads "$THREADS" --npl '' --pp-reps 5 ${REF_ARGS:-} \
    >"$OUT/reference-pp-r$round.json"
  for p in ${PARALLEL//,/ }; do
    uptime >"$OUT/load-$p-r$round.txt"
    echo "== round $round, parallel $p; $(cat "$OUT/load-$p-r$round.txt")" >&2
    sides=(dagsmith reference)
    ((round % 2)) || sides=(reference dagsmith)
    for side in "${sides[@]}"; do
      echo "== round $round, parallel $p: $side" >&2
      if [[ $side == dagsmith ]]; then
        "$DAGSMITH" bench generate --model "$MODEL" --parallel "$p" --max-tokens "$MAX_TOKENS" \
          --ignore-eos --threads "$THREADS" --json ${DAGSMITH_ARGS:-} \
          >"$OUT/dagsmith-$p-r$round.json"
      else
        "$REFERENCE" "$MODEL" "$INSTRUCTIONS" --threads "$THREADS" --npl "$p" --tg "$MAX_TOKENS" \
          ${REF_ARGS:-} >"$OUT/reference-$p-r$round.json"
      fi
    done
    if [[ -n ${NODE_REF:-} ]]; then
      echo "== round $round, parallel $p: node-llama-cpp" >&2
      node "$NODE_DIR/bench-reference.mjs" "$(realpath "$MODEL")" "$INSTRUCTIONS" "$THREADS" \
        "$MAX_TOKENS" "$p" >"$OUT/node-$p-r$round.json"
    fi
  done
done
echo "results in $OUT" >&2
python3 scripts/bench-generate-summary.py "$OUT"
