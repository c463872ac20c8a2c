#!/usr/bin/env bash
# Synthesises the RTL array with yosys onto generic 2-input gates and prints the cell counts
# (default: 4x4, W=8, A=32, exact8). Fails unless synthesis succeeds and the flip-flop count is
# exactly R*C*(A + 2W + 2): accumulator, east and south link registers and their valid bits.
#   tests/rtl/synth_array.sh [R C W A MODULE N [PARAM=value ...]]
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
R=${1:-4} C=${2:-4} W=${3:-8} A=${4:-32} module=${5:-axsa_mul_exact} N=${6:-8}
shift $(( $# > 6 ? 6 : $# ))
list="#(.N(N)"
for p in "$@"; do list+=",.${p%%=*}(${p#*=})"; done
list+=")"
out=$(yosys -q -p "read_verilog -DAXSA_MULT_MODULE=$module -DAXSA_MULT_PARAMS=$list \
    $root/rtl/array/axsa_array.v $root/rtl/array/axsa_pe.v $root/rtl/mult/$module.v; \
  chparam -set R $R -set C $C -set W $W -set A $A -set N $N axsa_array; \
  synth -flatten -top axsa_array; abc -g AND,NAND,OR,NOR,XOR,XNOR,ANDNOT,ORNOT,MUX; opt_clean; \
  tee -o /dev/stdout stat" 2>&1)
echo "axsa_array ${R}x${C}, W=$W, A=$A, $module (N=$N):"
echo "$out" | sed -n '/Number of cells/,$p' | sed '/^$/q'
cells=$(echo "$out" | awk '/Number of cells/ {print $4}' | tail -1)
flops=$(echo "$out" | awk '$1 ~ /DFF/ {s += $2} END {print s + 0}')
expect=$((R * C * (A + 2 * W + 2)))
echo "cells $cells, flip-flops $flops (expected $expect)"
[[ -n "$cells" && "$flops" -eq "$expect" ]]
