#!/usr/bin/env bash
# Builds the browser playground (web/, leptos CSR) into dist/, which `dagsmith serve` serves:
#   trunk build --release --offline   (index.html + Trunk.toml at the repository root)
# Installs trunk, wasm-bindgen-cli and wasm-opt into $DAGSMITH_CACHE/tools first when they are
# missing (scripts/setup-web.sh; tens of minutes once). Extra arguments go to trunk; WEB_DIST
# names another output folder (scripts/test-browser.sh builds its test build so). Prints the
# bundle size.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

CACHE="${DAGSMITH_CACHE:-$HOME/.cache/dagsmith}"
export PATH="$CACHE/tools/bin:$PATH"
# Shared with scripts/test.sh: the wasm build lives in its own target triple subfolder.
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$CACHE/target}"
# trunk would otherwise ask GitHub for a newer release (no internet on build machines).
export TRUNK_SKIP_VERSION_CHECK=true
# The toolchain that has the wasm32 std, as recorded by scripts/setup.sh.
if [[ $(cat "$CACHE/wasm-route" 2>/dev/null || echo rustup) == web ]]; then
  export RUSTUP_TOOLCHAIN=web
fi
for tool in trunk wasm-bindgen wasm-opt; do
  if ! command -v "$tool" >/dev/null; then
    echo "build-web: $tool missing: installing the web tools (scripts/setup-web.sh)" >&2
    "$(dirname "${BASH_SOURCE[0]}")/setup-web.sh"
    break
  fi
done

# trunk passes --offline to cargo: download the crates first (a no-op when they are cached).
cargo fetch -q
DIST="${WEB_DIST:-dist}"
trunk build --release --offline --dist "$DIST" "$@"

for f in "$DIST"/*.wasm "$DIST"/*.js "$DIST"/*.css; do
  [[ -f $f ]] || continue
  printf '[build-web] %-44s %9d bytes, %8d gzipped\n' "$f" "$(stat -c %s "$f")" \
    "$(gzip -9 -c "$f" | wc -c)" >&2
done
