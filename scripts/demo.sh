#!/usr/bin/env bash
# Installs what is missing, builds, and runs the main job on the embedded defaults:
# a 28x28 INT8 array running GEMMs checked against the reference, with a small VCD window.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
"$root/scripts/setup.sh"
"$root/scripts/build.sh" > "$root/build.log" 2>&1 || { tail -n 30 "$root/build.log"; exit 1; }
axsa="$root/build/testbench/axsa"
out="$root/build/demo"
mkdir -p "$out"

echo "== One GEMM on the default 28x28 INT8 array =="
"$axsa" gemm
echo
echo "== Same array, a long reduction (K = 4096) =="
"$axsa" gemm --m 56 --k 4096 --n 56
echo
echo "== 4x4 array, INT16, all operands at -2^15, 20-bit accumulator (wraps) =="
"$axsa" gemm --rows 4 --cols 4 --bits 16 --acc-bits 20 --m 6 --k 9 --n 5 --fill min \
  --vcd "$out/gemm4x4.vcd" --vcd-cycles 0:40
echo "VCD of cycles 0..40 written to $out/gemm4x4.vcd"
