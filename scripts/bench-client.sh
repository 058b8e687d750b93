#!/usr/bin/env bash
# What dagsmith's own side of remote generation costs per DAG: `dagsmith generate --backend`
# against a backend that answers at once (crates/remote/examples/mock_backend, serving real DAG
# files as the answers), so that all the time measured is the client's: building the prompt
# (API sheet), the HTTP exchange, extracting, fixing and validating the answer, writing the row.
#
#   scripts/bench-client.sh            # ROWS=2000 PARALLEL=8 ANSWERS=../shared/corpus/finetuned
#   BASELINE=old/dagsmith scripts/bench-client.sh   # also each configuration with another build,
#                                                   # side by side in the same run
#   PACE_MS=10 PARALLEL=64 ROWS=256 scripts/bench-client.sh   # as a generating server sends:
#       chunked, a write per token's event, 10 ms apart (what the client pays per packet)
#
# The client is pinned to one core (taskset -c 0) and the mock to another when there are two.
# Reported per configuration: wall DAGs/s, and DAGs per CPU-second of the client process (user +
# sys, from /usr/bin/time), which does not depend on what else the machine runs.
set -euo pipefail
cd "$(dirname "$0")/.."

ROWS=${ROWS:-2000}
PARALLEL=${PARALLEL:-8}
ANSWERS=${ANSWERS:-../shared/corpus/finetuned}
PACE_MS=${PACE_MS:-}
export CARGO_TARGET_DIR=${CARGO_TARGET_DIR:-${DAGSMITH_CACHE:-$HOME/.cache/dagsmith}/target}

cargo build --release -q -p dagsmith --bin dagsmith
cargo build --release -q -p dagsmith-remote --example mock_backend
BIN=$CARGO_TARGET_DIR/release/dagsmith
MOCK=$CARGO_TARGET_DIR/release/examples/mock_backend

work=$(mktemp -d)
trap 'kill "${mock_pid:-}" 2>/dev/null || true; rm -rf "$work"' EXIT

# ROWS rows: the built-in instruction set over and over, each with its own id.
python3 - "$ROWS" > "$work/rows.jsonl" <<'PY'
import json, sys
rows = [json.loads(l) for l in open("datasets/instructions.jsonl") if l.strip()]
for i in range(int(sys.argv[1])):
    r = dict(rows[i % len(rows)])
    r["metadata"] = {"file_name": f"bench_{i}"}
    print(json.dumps(r))
PY

cores=$(nproc)
client_cpu=0
mock_cpu=$((cores > 1 ? 1 : 0))
taskset -c "$mock_cpu" "$MOCK" ${PACE_MS:+--pace-ms "$PACE_MS"} "$ANSWERS" > "$work/url" 2> "$work/mock.log" &
mock_pid=$!
for _ in $(seq 100); do [ -s "$work/url" ] && break; sleep 0.1; done
url=$(head -1 "$work/url")

echo "machine: $(nproc) CPUs, $(uptime | sed 's/.*load average/load average/')"
echo "commit: $(git rev-parse --short HEAD), $ROWS rows, --parallel $PARALLEL, pace: ${PACE_MS:-none} ms, answers: $ANSWERS ($(grep -o '[0-9]* answers' "$work/mock.log" | head -1))"
printf '%-54s %8s %10s %14s %12s\n' configuration rows "wall DAG/s" "CPU ms/DAG" "DAGs/CPU-s"
run() {
    if [[ -n ${BASELINE:-} ]]; then run_with "$BASELINE" "baseline: $1" "${@:2}"; fi
    run_with "$BIN" "$@"
}
run_with() {
    local bin=$1 label=$2; shift 2
    rm -f "$work/out.jsonl"
    /usr/bin/time -f '%e %U %S' -o "$work/time" \
        taskset -c "$client_cpu" "$bin" generate --input "$work/rows.jsonl" -o "$work/out.jsonl" \
        --backend "$url" --parallel "$PARALLEL" -q "$@" 2> "$work/err" || true
    local rows wall user sys
    rows=$(wc -l < "$work/out.jsonl")
    read -r wall user sys < "$work/time"
    python3 - "$label" "$rows" "$wall" "$user" "$sys" <<'PY'
import sys
label, rows, wall, user, sys_ = sys.argv[1], int(sys.argv[2]), *map(float, sys.argv[3:])
cpu = user + sys_
print(f"{label:<54} {rows:>8} {rows / wall:>10.0f} {1000 * cpu / rows:>14.3f} {rows / cpu:>12.0f}")
PY
}
run "default (API sheet, all fixes)"
run "--no-api-sheet" --no-api-sheet
run "--no-api-sheet --fixes none" --no-api-sheet --fixes none
grep -c '"loads":true' "$work/out.jsonl" | xargs -I{} echo "answers that load as written: {} of $ROWS"
echo "after: $(uptime | sed 's/.*load average/load average/')"
