#!/usr/bin/env bash
# The project's test command (README, CI): formatting, lints, the wasm32 build of the core, and
# every test. Run `scripts/setup.sh --dev` once first. All steps run even when one fails, so one run
# shows every problem; the exit status is non-zero if any step failed. cargo test runs last so
# its "test result:" lines end the log.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

CACHE="${DAGSMITH_CACHE:-$HOME/.cache/dagsmith}"
# Outside the clone: fresh clones (CI) reuse the compiled dependencies.
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$CACHE/target}"
# No ANSI escapes in CI logs; cargo's own tty detection elsewhere.
if [[ -n ${CI:-} ]]; then
  export CARGO_TERM_COLOR="${CARGO_TERM_COLOR:-never}"
else
  export CARGO_TERM_COLOR="${CARGO_TERM_COLOR:-auto}"
fi
# Tools that setup.sh installs with `cargo install --root $CACHE/tools`.
export PATH="$CACHE/tools/bin:$PATH"

# Which toolchain has the wasm32 std: "rustup" (the active toolchain) or "web" (Debian
# rustc-web fallback), as recorded by setup.sh.
wasm_route=$(cat "$CACHE/wasm-route" 2>/dev/null || echo rustup)
wasm_cargo=(cargo)
if [[ $wasm_route == web ]]; then wasm_cargo=(cargo +web); fi

failed=()
step() {
  local name=$1 start=$SECONDS
  shift
  printf '[test] %s: %s\n' "$name" "$*" >&2
  if "$@"; then
    printf '[test] %s ok (%ss)\n' "$name" "$((SECONDS - start))" >&2
  else
    printf '[test] %s FAILED (%ss)\n' "$name" "$((SECONDS - start))" >&2
    failed+=("$name")
  fi
}

step fmt cargo fmt --all --check
step clippy cargo clippy --workspace --all-targets -- -D warnings
# The CLI as the Python wheel builds it (no local model: validation, and generation on backends),
# and validate-only (no feature at all).
step clippy-wheel cargo clippy -p dagsmith --no-default-features --features remote --all-targets -- -D warnings
step clippy-validate-only cargo clippy -p dagsmith --no-default-features --all-targets -- -D warnings
step wasm32 "${wasm_cargo[@]}" check -p dagsmith-core --target wasm32-unknown-unknown
# --all-features: also the test-only fault injection the browser tests build with.
step web-clippy "${wasm_cargo[@]}" clippy -p dagsmith-web --target wasm32-unknown-unknown --all-features -- -D warnings
step browser ./scripts/test-browser.sh
# The Python wheel (maturin), python -m dagsmith, and the pre-commit hook, end to end.
step python ./scripts/test-python.sh
# Dev profile, not --release; Cargo.toml builds dagsmith-core at opt-level 2 in it. Measured on
# 2 cores with dependencies cached, clippy + test after a source touch: --release 108 s (our
# crates rebuilt at opt-level 3, never incremental), plain debug 70 s (corpus test alone ~50 s at
# opt-level 0), dev + core at opt-level 2 ~10 s (corpus test ~3 s); 73 s for the whole
# .ci/run from a fresh copy at a new path, where incremental state is not reused. clippy and
# the tests also share build scripts and proc macros.
# --no-fail-fast: report every test binary, not just the first failing one.
step test cargo test --workspace --no-fail-fast

if [[ ${#failed[@]} -gt 0 ]]; then
  printf '[test] FAILED steps: %s\n' "${failed[*]}" >&2
  exit 1
fi
