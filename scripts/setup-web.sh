#!/usr/bin/env bash
# Installs what the browser playground's build and browser tests need, skipping whatever is
# present at the right version (a warm machine finishes in about a second). Called by
# scripts/setup.sh; can be run alone. Facts behind the choices: ../shared/notes/wasm-toolchain.md.
#
#   trunk 0.21.14           cargo install --locked (0.22 needs a newer rustc); ~10-30 min cold
#   wasm-bindgen-cli        exactly the wasm-bindgen of Cargo.lock; NOT --locked (its lockfile
#                           pins a webpki-roots the registry lacks)
#   wasm-opt (binaryen 132) from npm; Debian's binaryen 108 produces a broken leptos wasm
#   chromium                Debian packages chromium + chromium-driver (the tests' browser)
#   playwright-core         npm, from tests/browser/package-lock.json, into the cache
#
# Everything goes to ${DAGSMITH_CACHE:-$HOME/.cache/dagsmith}: tools/bin (trunk, wasm-bindgen,
# a wasm-opt link) and browser-tests/node_modules.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
CACHE="${DAGSMITH_CACHE:-$HOME/.cache/dagsmith}"
TOOLS="$CACHE/tools"
TRUNK_VERSION=0.21.14
BINARYEN_VERSION=132.0.0
# The wasm-bindgen crate version in Cargo.lock: the CLI must match it exactly.
WASM_BINDGEN_VERSION=$(awk '/^name = "wasm-bindgen"$/ {getline; gsub(/[^0-9.]/, ""); print}' \
  "$ROOT/Cargo.lock")

log() { printf '[setup-web] %s\n' "$*" >&2; }
die() { printf '[setup-web] ERROR: %s\n' "$*" >&2; exit 1; }

[[ -n $WASM_BINDGEN_VERSION ]] || die "no wasm-bindgen in Cargo.lock"
SUDO=()
if [[ $EUID -ne 0 ]] && command -v sudo >/dev/null; then SUDO=(sudo); fi

# has_version BIN TEXT: BIN runs and its --version output contains TEXT.
has_version() {
  [[ -x $1 ]] && "$1" --version 2>/dev/null | grep -qF -- "$2"
}

# cargo_tool CRATE BIN VERSION [cargo install args...]
cargo_tool() {
  local crate=$1 bin=$2 version=$3
  shift 3
  if has_version "$TOOLS/bin/$bin" "$version"; then
    log "$bin $version present"
    return
  fi
  log "cargo install $crate $version (slow on a cold machine)"
  # Own target dir inside the cache: a failed or interrupted build resumes instead of restarting.
  # Build tools, not shipped code: trunk's own release profile (fat LTO, one codegen unit) only
  # lengthens the cold install, so cheaper settings override it.
  CARGO_TARGET_DIR="$CACHE/tools-build/$crate" \
    CARGO_PROFILE_RELEASE_LTO=off CARGO_PROFILE_RELEASE_CODEGEN_UNITS=16 \
    CARGO_PROFILE_RELEASE_OPT_LEVEL=1 \
    nice -n 10 cargo install -q --root "$TOOLS" "$crate" --version "$version" "$@"
  rm -rf "$CACHE/tools-build/$crate"
  has_version "$TOOLS/bin/$bin" "$version" || die "$bin $version did not install"
}

setup_wasm_opt() {
  local npm_dir="$TOOLS/binaryen-$BINARYEN_VERSION"
  local bin="$npm_dir/node_modules/.bin/wasm-opt"
  if ! has_version "$bin" "version ${BINARYEN_VERSION%%.*}"; then
    log "npm install binaryen@$BINARYEN_VERSION"
    mkdir -p "$npm_dir"
    npm install --prefix "$npm_dir" --no-audit --no-fund --no-save --silent \
      "binaryen@$BINARYEN_VERSION" >/dev/null
    has_version "$bin" "version ${BINARYEN_VERSION%%.*}" || die "wasm-opt from npm does not run"
  else
    log "wasm-opt ${BINARYEN_VERSION%%.*} present"
  fi
  mkdir -p "$TOOLS/bin"
  ln -sfn "$bin" "$TOOLS/bin/wasm-opt"
}

setup_chromium() {
  local missing=() pkg
  for pkg in chromium chromium-driver; do
    [[ "$(dpkg-query -W -f='${db:Status-Status}' "$pkg" 2>/dev/null)" == installed ]] ||
      missing+=("$pkg")
  done
  if [[ ${#missing[@]} -eq 0 ]]; then
    log "apt packages present: chromium chromium-driver"
    return
  fi
  log "apt-get install ${missing[*]}"
  "${SUDO[@]}" apt-get update -qq
  "${SUDO[@]}" env DEBIAN_FRONTEND=noninteractive \
    apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
}

# The browser tests' node_modules live in the cache, keyed by the lockfile's hash, so fresh
# clones reuse them; scripts/test-browser.sh points NODE_PATH there.
setup_playwright() {
  local src="$ROOT/tests/browser" dest="$CACHE/browser-tests" hash
  hash=$(sha256sum "$src/package-lock.json" | cut -c1-16)
  if [[ -f $dest/.lock-hash && $(<"$dest/.lock-hash") == "$hash" && -d $dest/node_modules ]]; then
    log "playwright-core present"
    return
  fi
  log "npm ci playwright-core (no browser download: the tests use Debian's chromium)"
  rm -rf "$dest"
  mkdir -p "$dest"
  cp "$src/package.json" "$src/package-lock.json" "$dest/"
  (cd "$dest" && PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1 npm ci --no-audit --no-fund --silent)
  echo "$hash" >"$dest/.lock-hash"
}

main() {
  mkdir -p "$TOOLS"
  command -v npm >/dev/null || die "npm is missing (Debian: apt-get install npm)"
  cargo_tool wasm-bindgen-cli wasm-bindgen "$WASM_BINDGEN_VERSION"
  cargo_tool trunk trunk "$TRUNK_VERSION" --locked
  setup_wasm_opt
  setup_chromium
  setup_playwright
  log "done"
}

main "$@"
