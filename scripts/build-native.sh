#!/usr/bin/env bash
# Opt-in: a release build of dagsmith whose llama.cpp uses every x86 vector extension this CPU
# has that the default build leaves out (AVX-512 and its VNNI/VBMI/BF16 parts, AVX-VNNI). The
# default build runs on any x86-64 CPU with AVX2; this one only on CPUs like the build machine.
# Never AMX: llama.cpp's AMX path crashed on the default model (../shared/notes/llama-cpp.md).
# Its own target directory, so that switching between the two builds rebuilds nothing.
#
# usage: scripts/build-native.sh        → $CARGO_TARGET_DIR/native/release/dagsmith
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
CACHE="${DAGSMITH_CACHE:-$HOME/.cache/dagsmith}"
TARGET="${CARGO_TARGET_DIR:-$CACHE/target}/native"
flags=$(grep -m1 '^flags' /proc/cpuinfo || true)
has() { [[ " $flags " == *" $1 "* ]]; }
declare -a on=()
has avx512f && has avx512bw && has avx512dq && has avx512vl && on+=(GGML_AVX512)
has avx512_vbmi && on+=(GGML_AVX512_VBMI)
has avx512_vnni && on+=(GGML_AVX512_VNNI)
has avx512_bf16 && on+=(GGML_AVX512_BF16)
has avx_vnni && on+=(GGML_AVX_VNNI)
if ((${#on[@]} == 0)); then
  echo "this CPU has none of the extensions beyond the default build: use cargo build --release" >&2
  exit 1
fi
echo "llama.cpp with: ${on[*]}" >&2
for v in "${on[@]}"; do export "$v=ON"; done
CARGO_TARGET_DIR="$TARGET" cargo build --release -p dagsmith "$@"
echo "$TARGET/release/dagsmith" 
