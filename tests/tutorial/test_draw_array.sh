#!/usr/bin/env bash
# scripts/draw_array.py on traces of axsa gemm: frames and GIF for the chosen cycles, from JSON and
# from VCD; with --reference, a faulty frame is drawn differently from the fault-free one; bad input
# is one error line and exit 2, never a traceback.
# Usage: test_draw_array.sh AXSA_BIN SOURCE_DIR WORK_DIR
set -euo pipefail
axsa=$1
src=$2
work=$3
draw=("$src/scripts/draw_array.py")
fail() { echo "FAIL: $*" >&2; exit 1; }
rm -rf "$work"
mkdir -p "$work"
cd "$work"
gemm=(gemm --rows 3 --cols 3 --bits 4 --m 3 --k 3 --n 3 --seed 5)
"$axsa" "${gemm[@]}" --trace ref.json --vcd ref.vcd > /dev/null
"$axsa" "${gemm[@]}" --trace bad.json --fault weight-link:stuck-at-1:0:1:3 > /dev/null

# Frames and the GIF: 3 + 6 + 3 - 2 = 10 cycles plus the end state.
out=$("${draw[@]}" ref.json --out-dir f --gif f/a.gif)
[[ $out == *"11 frames in f (cycle_000.png .. cycle_010.png)"* ]] || fail "unexpected output: $out"
[[ $(ls f/cycle_*.png | wc -l) -eq 11 ]] || fail "expected 11 PNG frames"
frames=$(/usr/bin/python3 -c "from PIL import Image; print(Image.open('f/a.gif').n_frames)")
[[ $frames -eq 11 ]] || fail "the GIF has $frames frames, expected 11"
# The VCD of the same run draws the same values: only the title (the VCD has no stage) differs, so
# compare the frames' lower part.
"${draw[@]}" ref.vcd --out-dir v --cycles 2:4 > /dev/null
[[ $(ls v | wc -l) -eq 3 ]] || fail "--cycles 2:4 should draw 3 frames"
/usr/bin/python3 - <<'PY' || fail "the frames drawn from the VCD differ from those drawn from the JSON"
from PIL import Image, ImageChops
for c in ("002", "003", "004"):
    a, b = Image.open(f"f/cycle_{c}.png").convert("RGB"), Image.open(f"v/cycle_{c}.png").convert("RGB")
    assert a.size == b.size, c
    box = (0, a.height // 5, a.width, a.height)
    assert ImageChops.difference(a.crop(box), b.crop(box)).getbbox() is None, c
PY
# A reference: the faulty run drawn against the fault-free one differs from the fault-free run drawn
# against itself (the faulty PE's frame and the corrupted values), in the grid, not only the title.
"${draw[@]}" bad.json --reference ref.json --out-dir d --cycles 1:1 > /dev/null
"${draw[@]}" ref.json --reference ref.json --out-dir s --cycles 1:1 > /dev/null
/usr/bin/python3 - <<'PY' || fail "the faulty frame's grid looks like the fault-free one"
from PIL import Image, ImageChops
a, b = Image.open("d/cycle_001.png").convert("RGB"), Image.open("s/cycle_001.png").convert("RGB")
box = (0, a.height // 5, a.width, a.height)
assert ImageChops.difference(a.crop(box), b.crop(box)).getbbox() is not None
# Red (the fault frame, the corrupted values) appears only in the faulty frame's grid.
red = lambda im: sum(1 for p in im.crop(box).getdata() if p[0] > 190 and p[1] < 80 and p[2] < 80)
assert red(a) > 50 and red(b) == 0, (red(a), red(b))
PY
echo "ok: frames, GIF, VCD and reference"

# Bad input: one line on stderr, exit 2.
echo '{"format": "something-else"}' > other.json
printf '{"format": "axsa-trace-1", ' > cut.json
"$axsa" gemm --rows 2 --cols 2 --m 2 --k 2 --n 2 --trace small.json > /dev/null
cases=(
  "missing.json|cannot read 'missing.json'"
  "other.json|is not an axsa trace"
  "cut.json|is not valid JSON"
  "ref.json --cycles 50:60|the trace has cycles 0..10 only"
  "ref.json --cycles 5|--cycles expects FIRST:LAST"
  "ref.json --reference small.json|another array"
  "ref.json --mark x|--mark expects ROW:COL"
  "ref.json --fps 0|--fps must be positive"
  "ref.json --frobnicate|unrecognized arguments"
  "ref.json --out-dir /proc/nope|--out-dir '/proc/nope'"
  "other.vcd|cannot read 'other.vcd'"
  "other.json --gif|expected one argument"
)
for c in "${cases[@]}"; do
  args=${c%%|*}
  want=${c#*|}
  set +e
  # shellcheck disable=SC2086
  "${draw[@]}" $args > out.txt 2> err.txt
  status=$?
  set -e
  [[ $status -eq 2 ]] || fail "'$args': exit $status, expected 2 ($(cat err.txt))"
  [[ $(wc -l < err.txt) -eq 1 ]] || fail "'$args': expected one error line, got: $(cat err.txt)"
  grep -qF -- "$want" err.txt || fail "'$args': expected '$want' in: $(cat err.txt)"
  if grep -q Traceback err.txt; then fail "'$args': traceback"; fi
done
echo "ok: ${#cases[@]} bad inputs refused in one line"
