#!/usr/bin/env bash
# Generation quality as real Airflow judges it (docs/GENERATION.md): generates the project's
# instruction set with the default model, then loads every first answer (raw and fixed) and every
# final answer (after repair rounds) with real Airflow's DagBag in the sandboxed oracle of
# ../shared/oracle (2.x requests -> Airflow 2.11.2, 3.x -> 3.1.8), and prints the real load rates
# beside dagsmith's own verdicts. Slow (an hour or more on 2 cores): not part of scripts/test.sh.
#
# usage: scripts/eval-generation.sh RUN_NAME [dagsmith generate options...]
#   e.g. scripts/eval-generation.sh pipeline --repair 2
#        scripts/eval-generation.sh raw --repair 0 --fixes none --no-api-sheet
# A rerun with the same RUN_NAME resumes the generation and reuses the oracle's verdicts.
#
# Environment: ORACLE (default /var/tmp/dagsmith-oracle; NOT under /root: the sandbox's user must
# reach it), DAGSMITH_EVAL_DIR (default $DAGSMITH_CACHE/eval), DAGSMITH_MODELS, CARGO_TARGET_DIR.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

[[ $# -ge 1 ]] || { echo "usage: $0 RUN_NAME [dagsmith generate options...]" >&2; exit 2; }
RUN=$1
shift
[[ $RUN =~ ^[A-Za-z0-9._-]+$ ]] || { echo "RUN_NAME: letters, digits, . _ - only" >&2; exit 2; }

CACHE="${DAGSMITH_CACHE:-$HOME/.cache/dagsmith}"
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$CACHE/target}"
export ORACLE="${ORACLE:-/var/tmp/dagsmith-oracle}"
EVAL_DIR="${DAGSMITH_EVAL_DIR:-$CACHE/eval}"
# llama.cpp's OpenMP threads spin while waiting by default; on a shared machine that collapses.
export OMP_WAIT_POLICY="${OMP_WAIT_POLICY:-passive}"

log() { printf '[eval-generation] %s\n' "$*" >&2; }

if [[ ! -x $ORACLE/venv-af2/bin/airflow || ! -x $ORACLE/venv-af3/bin/airflow ]]; then
  log "installing real Airflow 2.11.2 and 3.1.8 into $ORACLE (once, ~3 GB)"
  ../shared/oracle/setup.sh
fi
log "building dagsmith (release)"
cargo build -q --release -p dagsmith
BIN=$CARGO_TARGET_DIR/release/dagsmith
"$BIN" model fetch

mkdir -p "$EVAL_DIR"
OUT=$EVAL_DIR/$RUN.jsonl
log "generating -> $OUT"
status=0
"$BIN" generate --input datasets/instructions.jsonl --output "$OUT" "$@" || status=$?
# 1 = some DAGs do not load: expected; anything else is an error.
[[ $status -le 1 ]] || { log "generate failed ($status)"; exit "$status"; }

log "loading every answer with real Airflow"
python3 scripts/eval_generation.py "$OUT" "$RUN" --json "$EVAL_DIR/$RUN.eval.json" \
  --details "$EVAL_DIR/$RUN.details.jsonl" | tee "$EVAL_DIR/$RUN.eval.txt"
log "figures: $EVAL_DIR/$RUN.eval.json, per row: $EVAL_DIR/$RUN.details.jsonl"
