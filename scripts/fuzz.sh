#!/usr/bin/env bash
# Fuzzes one dagsmith-core target with cargo-fuzz (libFuzzer) for a given time.
#
#   scripts/fuzz.sh TARGET [SECONDS] [-- LIBFUZZER_ARGS...]
#   FUZZ_KEEP_GOING=1 nice -n 10 scripts/fuzz.sh mutate 900   # the runs docs/VALIDATION.md records
#   scripts/fuzz.sh dataset 60
#   scripts/fuzz.sh validate 0 -- -runs=0   # only run the corpus once, no mutations
#   (SECONDS 0 = no time limit; arguments after -- go to libFuzzer)
#
# Targets: fuzz/fuzz_targets/*.rs: validate (byte mutations of DAG files), mutate (structure-aware
# mutations of DAG files), generate (a DAG-file grammar), fix (fix_source), dataset. Idempotent:
# installs cargo-fuzz into the persistent cache when missing, seeds fuzz/corpus/TARGET when it is
# empty (validate, mutate, generate, fix: the Python files of ../shared/corpus; dataset:
# fuzz/seeds/dataset), then runs. The corpus grows across runs (fuzz/corpus/ and fuzz/artifacts/
# are git-ignored); crashes, slow inputs and timeouts land in fuzz/artifacts/TARGET/. After the
# run, the validate-like targets' corpus and artifacts are replayed in a native release build
# (fuzz/src/replay.rs), which fails when one input takes over 50 ms (issue 12's cap).
#
# Stable rustc only: cargo-fuzz's -Z flags are enabled with RUSTC_BOOTSTRAP=1.
#
# Environment:
#   DAGSMITH_CACHE       cache dir (default $HOME/.cache/dagsmith); cargo-fuzz goes to its tools/bin
#   CARGO_TARGET_DIR     default $DAGSMITH_CACHE/fuzz-target (fuzz builds use other RUSTFLAGS than
#                        the normal build: keep them apart)
#   CARGO_BUILD_JOBS     default 1 (the build machines have 2 shared cores)
#   FUZZ_SANITIZER       address (default) or none
#   FUZZ_RSS_LIMIT_MB    default 2048;  FUZZ_TIMEOUT_S  per-input hang timeout, default 10
#   DAGSMITH_FUZZ_SLOW_MS  per-input cap inside the instrumented targets (fuzz/src/check.rs: over it
#                        an input is a crash), default 1500 — 50 ms native times the slowdown of
#                        the fuzz build measured in docs/VALIDATION.md
#   FUZZ_REPLAY=0        skip the native replay after the run
#   FUZZ_KEEP_GOING=1    don't stop at the first crash/timeout/oom: libFuzzer fork mode with one
#                        worker (-fork=1 -ignore_crashes=1 -ignore_timeouts=1 -ignore_ooms=1);
#                        every failing input is still written to fuzz/artifacts/TARGET/
#
# Replay saved inputs (e.g. fuzz/regressions/*) without fuzzing:
#   RUSTC_BOOTSTRAP=1 cargo fuzz run validate fuzz/regressions/FILE -- -timeout=10
set -euo pipefail

CARGO_FUZZ_VERSION=0.13.2

log() { printf '[fuzz] %s\n' "$*" >&2; }
die() { printf '[fuzz] ERROR: %s\n' "$*" >&2; exit 1; }
usage() { sed -n '2,9p' "$0" | sed 's/^# \{0,1\}//' >&2; exit 2; }

[[ $# -ge 1 ]] || usage
TARGET=$1; shift
SECONDS_TO_RUN=60
if [[ $# -ge 1 && $1 != -- ]]; then SECONDS_TO_RUN=$1; shift; fi
if [[ $# -ge 1 ]]; then [[ $1 == -- ]] || usage; shift; fi
[[ $SECONDS_TO_RUN =~ ^[0-9]+$ ]] || die "SECONDS must be a whole number, got '$SECONDS_TO_RUN'"

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
[[ -f fuzz/fuzz_targets/$TARGET.rs ]] \
  || die "no target '$TARGET' (have: $(cd fuzz/fuzz_targets && ls *.rs | sed 's/\.rs$//' | tr '\n' ' '))"

CACHE="${DAGSMITH_CACHE:-$HOME/.cache/dagsmith}"
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$CACHE/fuzz-target}"
export CARGO_BUILD_JOBS="${CARGO_BUILD_JOBS:-1}"
export RUSTC_BOOTSTRAP=1
export PATH="$CACHE/tools/bin:$PATH"
SANITIZER="${FUZZ_SANITIZER:-address}"

# --- cargo-fuzz ---------------------------------------------------------------------------------
if ! cargo fuzz --version 2>/dev/null | grep -qx "cargo-fuzz $CARGO_FUZZ_VERSION"; then
  log "installing cargo-fuzz $CARGO_FUZZ_VERSION into $CACHE/tools"
  cargo install cargo-fuzz --version "$CARGO_FUZZ_VERSION" --locked --root "$CACHE/tools"
fi

# --- seed corpus --------------------------------------------------------------------------------
CORPUS="fuzz/corpus/$TARGET"
mkdir -p "$CORPUS" "fuzz/artifacts/$TARGET"
EXTRA_CORPORA=()
case $TARGET in
  validate | mutate | generate | fix)
    # Byte 0 of a validate input picks the Airflow version (byte % 4: '0' 2.7, '1' 2.11, '2' 3.0,
    # '3' 3.1); the seeds cycle through the four.
    if [[ -z "$(ls -A "$CORPUS")" ]]; then
      SHARED="$ROOT/../shared/corpus"
      if [[ -d $SHARED ]]; then
        log "seeding $CORPUS from $SHARED"
        i=0
        while IFS= read -r -d '' f; do
          { printf '%d' $((i % 4)); cat "$f"; } > "$CORPUS/seed-$(basename "$(dirname "$f")")-$(basename "$f")"
          i=$((i + 1))
        done < <(find "$SHARED/finetuned" "$SHARED/raw_test_dags" "$SHARED/ground_truth" \
                   -name '*.py' -type f -print0 2>/dev/null | sort -z)
        log "seeded $i files"
      else
        log "no $SHARED: starting from fuzz/regressions and an empty corpus"
      fi
    fi
    ;;
  dataset)
    EXTRA_CORPORA+=(fuzz/seeds/dataset)
    ;;
esac
# --- run ----------------------------------------------------------------------------------------
LIBFUZZER_ARGS=(
  -rss_limit_mb="${FUZZ_RSS_LIMIT_MB:-2048}"
  -timeout="${FUZZ_TIMEOUT_S:-10}"
  -dict=fuzz/dict/python.dict
  -print_final_stats=1
)
if [[ $SECONDS_TO_RUN -gt 0 ]]; then LIBFUZZER_ARGS+=(-max_total_time="$SECONDS_TO_RUN"); fi
if [[ ${FUZZ_KEEP_GOING:-0} == 1 ]]; then
  LIBFUZZER_ARGS+=(-fork=1 -ignore_crashes=1 -ignore_timeouts=1 -ignore_ooms=1)
fi

log "cargo fuzz run $TARGET (sanitizer $SANITIZER, ${SECONDS_TO_RUN}s, target dir $CARGO_TARGET_DIR)"
status=0
(
  set -x
  cargo fuzz run --sanitizer "$SANITIZER" "$TARGET" "$CORPUS" "${EXTRA_CORPORA[@]}" -- \
    "${LIBFUZZER_ARGS[@]}" "$@"
) || status=$?

# --- native replay: the 50 ms cap ---------------------------------------------------------------
if [[ $TARGET != dataset && ${FUZZ_REPLAY:-1} != 0 ]]; then
  REPLAY_TARGET_DIR="$CACHE/fuzz-replay-target"
  log "replaying $CORPUS and fuzz/artifacts/$TARGET in a native release build ($REPLAY_TARGET_DIR)"
  CARGO_TARGET_DIR="$REPLAY_TARGET_DIR" RUSTC_BOOTSTRAP= cargo build --release \
    --manifest-path fuzz/Cargo.toml --bin replay
  "$REPLAY_TARGET_DIR/release/replay" "$TARGET" --max-ms 50 "$CORPUS" "fuzz/artifacts/$TARGET" \
    || { [[ $status != 0 ]] || status=1; }
fi
exit "$status"
