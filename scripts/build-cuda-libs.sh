#!/usr/bin/env bash
# llama.cpp's CUDA libraries, as shared libraries, from the vendored source llama-cpp-sys-2's
# bindings were generated from, with the crate's own CMake options (its build.rs) and
# GGML_CUDA on: what `--features dynamic-link` builds of dagsmith load in place of the CPU ones.
#
# With a CUDA toolkit on PATH (nvcc): built for this machine, its GPU and its CPU.
# Without one (a machine with neither GPU nor CUDA install): nvcc, the runtime, cuBLAS and CCCL
# come from NVIDIA's PyPI wheels (CUDA 13.0), the driver library (libcuda.so.1, which only a
# GPU machine has) from a link-time stub; built for CUDA_ARCH and any x86-64 with AVX2 (the GPU
# does the work). Copy DIR/bin to the GPU machine and put it first on LD_LIBRARY_PATH there,
# with the machine's own CUDA 13 libraries (libcudart.so.13, libcublas.so.13) after it.
# scripts/bench-gpu.sh builds with this, or takes DIR as CUDA_LIBS.
#
# usage: scripts/build-cuda-libs.sh [DIR]   (default ~/.cache/dagsmith/llama-cuda)
# env: LLAMA_SRC (default: llama-cpp-sys-2's vendored llama.cpp), CUDA_ARCH (native with a
#      toolkit, else 90: Hopper), JOBS (nproc). From the wheels about 45 minutes on 2 cores for
#      one architecture.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
CACHE="${DAGSMITH_CACHE:-$HOME/.cache/dagsmith}"
DIR="${1:-$CACHE/llama-cuda}"

# Exactly what the bindings were generated from: the crate's own copy of llama.cpp.
if [[ -z ${LLAMA_SRC:-} ]]; then
  LLAMA_SRC="$(cargo metadata --format-version 1 | python3 -c '
import json, os, sys
m = json.load(sys.stdin)
print(next(os.path.join(os.path.dirname(p["manifest_path"]), "llama.cpp")
           for p in m["packages"] if p["name"] == "llama-cpp-sys-2"))')"
fi

if command -v nvcc >/dev/null; then
  TARGET=(-DCMAKE_CUDA_ARCHITECTURES="${CUDA_ARCH:-native}" -DGGML_NATIVE=ON)
else
  TOOLKIT="$CACHE/cuda-13.0"
  CU="$TOOLKIT/nvidia/cu13"
  if [[ ! -x $CU/nvvm/bin/cicc ]]; then
    mkdir -p "$TOOLKIT/wheels"
    python3 -m pip download -q --no-deps --only-binary=:all: --python-version 3.12 \
      --platform manylinux_2_27_x86_64 --platform manylinux2014_x86_64 \
      --platform manylinux_2_17_x86_64 --platform manylinux_2_12_x86_64 -d "$TOOLKIT/wheels" \
      nvidia-cuda-nvcc==13.0.88 nvidia-nvvm==13.0.88 nvidia-cuda-crt==13.0.88 \
      nvidia-cuda-runtime==13.0.96 nvidia-cublas==13.0.2.14 nvidia-cuda-cccl==13.0.85
    for w in "$TOOLKIT"/wheels/*.whl; do unzip -q -o "$w" -d "$TOOLKIT"; done
    # The layout nvcc.profile and CMake's FindCUDAToolkit expect of a toolkit.
    ln -sfn lib "$CU/lib64"
    for l in cudart cublas cublasLt; do ln -sf "lib$l.so.13" "$CU/lib/lib$l.so"; done
  fi
  # The driver API calls ggml-cuda makes (cuMemCreate...), each a stub here, so that the
  # libraries record their need of libcuda.so.1, which the GPU machine's driver provides.
  mkdir -p "$CU/lib/stubs"
  grep -ohE '\bcu[A-Z][A-Za-z0-9_]*\b' "$LLAMA_SRC"/ggml/src/ggml-cuda/*.cu \
    "$LLAMA_SRC"/ggml/src/ggml-cuda/*.cuh | sort -u \
    | sed 's/.*/int &(void) { return 0; }/' >"$CU/lib/stubs/libcuda.c"
  gcc -shared -fPIC -Wl,-soname,libcuda.so.1 -o "$CU/lib/stubs/libcuda.so" "$CU/lib/stubs/libcuda.c"
  export PATH="$CU/bin:$PATH"
  TARGET=(-DCMAKE_CUDA_ARCHITECTURES="${CUDA_ARCH:-90}" -DCMAKE_CUDA_COMPILER="$CU/bin/nvcc"
    -DCUDAToolkit_ROOT="$CU" -DGGML_NATIVE=OFF -DGGML_AVX2=ON -DGGML_FMA=ON -DGGML_F16C=ON)
fi

GENERATOR=()
if command -v ninja >/dev/null; then GENERATOR=(-G Ninja); fi
cmake -S "$LLAMA_SRC" -B "$DIR" "${GENERATOR[@]}" -DCMAKE_BUILD_TYPE=Release \
  -DBUILD_SHARED_LIBS=ON -DGGML_CUDA=ON -DGGML_CUDA_NCCL=OFF "${TARGET[@]}" \
  -DGGML_OPENMP=ON -DLLAMA_BUILD_TESTS=OFF -DLLAMA_BUILD_EXAMPLES=OFF \
  -DLLAMA_BUILD_SERVER=OFF -DLLAMA_BUILD_TOOLS=OFF -DLLAMA_BUILD_APP=OFF \
  -DLLAMA_BUILD_COMMON=ON -DLLAMA_CURL=OFF -DLLAMA_OPENSSL=OFF >/dev/null
cmake --build "$DIR" -j "${JOBS:-$(nproc)}"
readelf -d "$DIR/bin/libggml-cuda.so" | grep -q 'libcuda.so.1' \
  || { echo "libggml-cuda.so does not name libcuda.so.1: the stub missed a symbol" >&2; exit 1; }
echo "CUDA libraries in $DIR/bin" >&2
