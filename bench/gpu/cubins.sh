#!/usr/bin/env bash
# Compiles every kernel (engine/src/main/cuda/*.cu) to an sm_90a cubin (H100/H200), into
# DIR/io/sn11/engine/cuda/sm_90a/NAME.cubin: on the class path, CudaBackend loads them instead of the PTX on a compute
# capability 9.0 device, so nothing is JIT-compiled there. bundle.sh runs it where nvcc is installed, run.sh on the GPU
# machine when the bundle came without cubins. Usage: cubins.sh DIR [NVCC]; prints nvcc's version line.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
arch=sm_90a
out="$1/io/sn11/engine/cuda/$arch"
nvcc="${2:-nvcc}"
mkdir -p "$out"
for cu in "$root"/engine/src/main/cuda/*.cu; do
  # the -gencode form: -arch=sm_90a would also run a plain sm_90 pass
  "$nvcc" -cubin -gencode=arch=compute_${arch#sm_},code=$arch -o "$out/$(basename "${cu%.cu}").cubin" "$cu"
done
"$nvcc" --version | tail -1
