#!/usr/bin/env bash
# Regenerates the pictures of the course (docs/tutorial/img/) with the project's own tools: axsa
# gemm --trace, scripts/draw_array.py and scripts/plot_campaign.py, on the runs of lessons 1, 3 and 4.
# Usage: docs/tutorial/make_pictures.sh [AXSA_BIN]     (default: build/testbench/axsa)
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
axsa=${1:-$root/build/testbench/axsa}
[[ -x $axsa ]] || { echo "make_pictures.sh: error: $axsa is not built (scripts/build.sh)" >&2; exit 2; }
img=$root/docs/tutorial/img
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
draw=(/usr/bin/python3 "$root/scripts/draw_array.py")
gemm=(gemm --rows 4 --cols 4 --bits 4 --m 4 --k 4 --n 4 --seed 7)
mkdir -p "$img"

# Lesson 1: the fault-free 4x4 GEMM.
"$axsa" "${gemm[@]}" --trace "$work/l1.json" > /dev/null
"${draw[@]}" "$work/l1.json" --out-dir "$work/l1" --gif "$img/l1_gemm.gif"
cp "$work/l1/cycle_003.png" "$img/l1_cycle_003.png"
cp "$work/l1/cycle_010.png" "$img/l1_cycle_010.png"

# Lesson 3: the same GEMM with a stuck-at-1 on the weight link into PE (1, 2), against the reference.
"$axsa" "${gemm[@]}" --trace "$work/l3_fault.json" --fault weight-link:stuck-at-1:1:2:2 > /dev/null
"${draw[@]}" "$work/l3_fault.json" --reference "$work/l1.json" --out-dir "$work/l3" --gif "$img/l3_fault.gif"
for c in 004 005 010; do cp "$work/l3/cycle_$c.png" "$img/l3_cycle_$c.png"; done

# Lesson 4: the campaign's heatmap and per-bit outcomes.
"$axsa" campaign --rows 8 --cols 8 --images 20 --margin 0.05 --out "$work/l4.db" > /dev/null 2>&1
/usr/bin/python3 "$root/scripts/plot_campaign.py" "$work/l4.db" --out "$img/l4"
ls -1 "$img"
