#!/usr/bin/env bash
# Builds the Python wheel (no local model; generation on backends: see pyproject.toml) with maturin, for this machine's
# platform: `pip install target/wheels/dagsmith-*.whl` then puts `dagsmith` on PATH.
#
# Usage: scripts/build-wheel.sh [MATURIN_BUILD_ARGS...]   (e.g. --features engine, -i python3.12)
# Environment: DAGSMITH_WHEEL_DIR (default target/wheels in the clone); DAGSMITH_WHEEL_TARGET, the
# cargo target dir (default $CARGO_TARGET_DIR/wheel, else $DAGSMITH_CACHE/target/wheel: apart
# from the default build, whose target/release/dagsmith has the engine).
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
CACHE="${DAGSMITH_CACHE:-$HOME/.cache/dagsmith}"
export CARGO_TARGET_DIR="${DAGSMITH_WHEEL_TARGET:-${CARGO_TARGET_DIR:-$CACHE/target}/wheel}"
out="${DAGSMITH_WHEEL_DIR:-$ROOT/target/wheels}"

"$ROOT/scripts/setup-python.sh"
cd "$ROOT"
"$CACHE/venv/bin/maturin" build --release --out "$out" "$@"
ls -l "$out"/dagsmith-*.whl
