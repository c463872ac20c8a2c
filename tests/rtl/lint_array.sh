#!/usr/bin/env bash
# Lints the RTL array (rtl/array/axsa_array.v + axsa_pe.v) with `verilator --lint-only -Wall` for
# several shapes and widths (1x1, non-square, W < N, A below and above 2N) and with every in-house
# multiplier of rtl/mult/multipliers.txt in the PEs, and the controller (axsa_ctrl.v); any warning fails.
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
status=0
count=0
lint() {  # label, verilator arguments...
  local label=$1
  shift
  local out
  if ! out=$(verilator --lint-only -Wall --top-module axsa_array "$root/rtl/array/axsa_array.v" "$root/rtl/array/axsa_pe.v" "$@" 2>&1); then
    echo "FAIL $label: $out"
    status=1
  elif [[ -n "$out" ]]; then
    echo "WARN $label: $out"
    status=1
  fi
  count=$((count + 1))
}
exact="$root/rtl/mult/axsa_mul_exact.v"
lint "default (4x4, W=8, A=32)" "$exact"
lint "1x1 W=2 A=2 N=2" -GR=1 -GC=1 -GW=2 -GA=2 -GN=2 "$exact"
lint "1x7 W=8 A=64" -GR=1 -GC=7 -GA=64 "$exact"
lint "6x1 W=6 N=8 A=14" -GR=6 -GC=1 -GW=6 -GA=14 "$exact"
lint "3x5 W=16 N=16 A=32" -GR=3 -GC=5 -GW=16 -GN=16 -GA=32 "$exact"
lint "28x28 W=8" -GR=28 -GC=28 "$exact"
while read -r name module n params; do
  [[ -z "${name:-}" || "$name" == \#* ]] && continue
  list="#(.N(N)"
  for p in ${params:-}; do list+=",.${p%%=*}(${p#*=})"; done
  list+=")"
  lint "$name (W=N=$n)" -GR=3 -GC=4 -GW="$n" -GN="$n" -DAXSA_MULT_MODULE="$module" "-DAXSA_MULT_PARAMS=$list" "$root/rtl/mult/$module.v"
  lint "$name (W=$((n - 2)) < N)" -GR=2 -GC=3 -GW=$((n - 2)) -GN="$n" -GA=24 -DAXSA_MULT_MODULE="$module" "-DAXSA_MULT_PARAMS=$list" "$root/rtl/mult/$module.v"
done <"$root/rtl/mult/multipliers.txt"
# The controller (rtl/array/axsa_ctrl.v) has no parameters: once.
if ! out=$(verilator --lint-only -Wall --top-module axsa_ctrl "$root/rtl/array/axsa_ctrl.v" 2>&1) || [[ -n "$out" ]]; then
  echo "FAIL controller: $out"
  status=1
fi
echo "linted the array in $count configurations, and the controller"
exit $status
