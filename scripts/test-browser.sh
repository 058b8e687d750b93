#!/usr/bin/env bash
# Browser tests of the playground in headless Chromium (tests/browser/playground.test.cjs):
# builds the app into dist-test/ when it is missing or older than its sources (as
# scripts/build-web.sh builds dist/, plus `--features fault-injection`: one test input makes the
# validator panic, see web/src/worker.rs), builds `dagsmith` (dev profile), starts
# `dagsmith serve` on a free 127.0.0.1 port with the small test model, runs the tests, and stops
# the server. Screenshots go to tests/browser/artifacts/ (git-ignored).
#
# Environment:
#   DAGSMITH_TEST_MODEL  GGUF for the generation tests
#                        (default $DAGSMITH_CACHE/models/SmolLM2-135M-Instruct.Q4_1.gguf,
#                        which scripts/setup.sh fetches)
# Run `scripts/setup.sh --dev` (or scripts/setup-web.sh) once first.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

CACHE="${DAGSMITH_CACHE:-$HOME/.cache/dagsmith}"
export PATH="$CACHE/tools/bin:$PATH"
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$CACHE/target}"
MODEL="${DAGSMITH_TEST_MODEL:-$CACHE/models/SmolLM2-135M-Instruct.Q4_1.gguf}"
# playwright-core, installed into the cache by setup-web.sh (CommonJS require honours NODE_PATH).
export NODE_PATH="$CACHE/browser-tests/node_modules"
ARTIFACTS="tests/browser/artifacts"

log() { printf '[test-browser] %s\n' "$*" >&2; }
die() { printf '[test-browser] ERROR: %s\n' "$*" >&2; exit 1; }

[[ -d $NODE_PATH/playwright-core ]] || die "playwright-core missing: run scripts/setup-web.sh"
[[ -x /usr/bin/chromium ]] || die "/usr/bin/chromium missing: run scripts/setup-web.sh"

# The test build, beside the user's dist/: the same app with the test-only fault injection.
DIST=dist-test
# It is stale when any input of the wasm build is newer than its index.html.
if [[ ! -f $DIST/index.html ]] ||
  [[ -n $(find web crates/core index.html Trunk.toml Cargo.toml Cargo.lock -newer $DIST/index.html \
    -type f -print -quit) ]]; then
  log "building $DIST/ (scripts/build-web.sh --features fault-injection)"
  WEB_DIST=$DIST ./scripts/build-web.sh --features fault-injection
fi

server_pid=""
cleanup() {
  if [[ -n $server_pid ]]; then
    kill "$server_pid" 2>/dev/null || true
    wait "$server_pid" 2>/dev/null || true
  fi
}
trap cleanup EXIT

server_log=$(mktemp)
base_url=""
generation=0
skip_reason=""

# The dev-profile binary: the same artifacts `cargo test` builds (llama.cpp and dagsmith-core are
# optimised in that profile, see Cargo.toml), so CI compiles llama.cpp once, not twice.
log "cargo build -p dagsmith"
cargo build -q -p dagsmith
dagsmith="$CARGO_TARGET_DIR/debug/dagsmith"
if "$dagsmith" serve --help >/dev/null 2>&1; then
  [[ -f $MODEL ]] || die "test model $MODEL missing: run scripts/setup.sh --dev or set DAGSMITH_TEST_MODEL"
  # A free port: bind port 0, note the number, release it; the server binds it right after.
  port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
  log "dagsmith serve on 127.0.0.1:$port with $(basename "$MODEL")"
  "$dagsmith" serve --model "$MODEL" --host 127.0.0.1 --port "$port" --static-dir "$DIST" \
    --parallel 1 >"$server_log" 2>&1 &
  server_pid=$!
  base_url="http://127.0.0.1:$port"
  for _ in $(seq 1 300); do
    if curl -fsS "$base_url/api/health" >/dev/null 2>&1; then break; fi
    kill -0 "$server_pid" 2>/dev/null || { cat "$server_log" >&2; die "dagsmith serve exited"; }
    sleep 0.2
  done
  health=$(curl -fsS "$base_url/api/health") || { cat "$server_log" >&2; die "server not up"; }
  if [[ $health == *'"available":true'* ]]; then
    generation=1
  else
    cat "$server_log" >&2
    die "the server loaded no model: $health"
  fi
else
  # Only while `dagsmith serve` does not exist: the validation tests need just the page.
  skip_reason="this dagsmith has no serve command"
  log "$skip_reason: serving dist/ statically, generation tests skipped"
  node tests/browser/static-server.cjs "$DIST" >"$server_log" 2>&1 &
  server_pid=$!
  for _ in $(seq 1 50); do
    base_url=$(head -n1 "$server_log")
    [[ $base_url == http* ]] && break
    sleep 0.1
  done
  [[ $base_url == http* ]] || { cat "$server_log" >&2; die "static server did not start"; }
fi

mkdir -p "$ARTIFACTS"
status=0
BASE_URL="$base_url" GENERATION="$generation" SKIP_REASON="$skip_reason" ARTIFACTS="$ARTIFACTS" \
  FAULT_INJECTION=1 node tests/browser/playground.test.cjs || status=$?
if [[ $status -ne 0 ]]; then
  log "server log (last 40 lines):"
  tail -n 40 "$server_log" >&2
fi
rm -f "$server_log"
exit "$status"
