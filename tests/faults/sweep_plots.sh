#!/usr/bin/env bash
# scripts/plot_sweep.py draws both PNGs from a small sweep (SQLite with a quick campaign, and CSV),
# and answers a missing or foreign file with one error line and exit 2, no traceback. It needs
# Debian's python3-matplotlib (scripts/setup.sh installs it); without it this test fails.
# Usage: sweep_plots.sh AXSA_BINARY WORK_DIR
set -euo pipefail
axsa=$1
dir=$2
root=$(cd "$(dirname "$0")/../.." && pwd)
plot=("/usr/bin/python3" "$root/scripts/plot_sweep.py")
rm -rf "$dir"
mkdir -p "$dir"
fail() { echo "sweep_plots: FAIL: $*" >&2; exit 1; }
is_png() { [[ -s "$1" ]] && [[ $(head -c 8 "$1" | od -An -tx1 | tr -d ' \n') == 89504e470d0a1a0a ]]; }

"$axsa" sweep --rows 2,4 --bits 8,12 --mults exact,drum8_k4 --images 20 --calibration 100 --campaign quick --quiet \
  --out "$dir/s.sqlite" > /dev/null 2> "$dir/sweep.log" || fail "sweep failed: $(tail -1 "$dir/sweep.log")"
"$axsa" sweep --rows 2,4 --bits 8 --mults exact --images 20 --calibration 100 --quiet --csv "$dir/s.csv" > /dev/null \
  2> "$dir/sweep_csv.log" || fail "CSV sweep failed: $(tail -1 "$dir/sweep_csv.log")"
for src in s.sqlite s.csv; do
  out="$dir/plots_${src%.*}_${src#*.}"
  "${plot[@]}" "$dir/$src" --out "$out" > "$dir/plot.log" 2>&1 || fail "plot of $src failed: $(cat "$dir/plot.log")"
  for png in sweep_pareto.png sweep_cycles.png; do is_png "$out/$png" || fail "$src: $png missing or not a PNG"; done
done

echo "not a sweep" > "$dir/bad.csv"
sqlite3 "$dir/foreign.sqlite" "create table t (x)"
for bad in "$dir/missing.sqlite" "$dir/bad.csv" "$dir/foreign.sqlite"; do
  set +e
  "${plot[@]}" "$bad" --out "$dir/nope" > "$dir/out.log" 2> "$dir/err.log"
  status=$?
  set -e
  [[ $status -eq 2 ]] || fail "$bad: exit $status, expected 2"
  [[ $(wc -l < "$dir/err.log") -eq 1 ]] || fail "$bad: not one error line: $(cat "$dir/err.log")"
  grep -q "$(basename "$bad")" "$dir/err.log" || fail "$bad: the error does not name the file: $(cat "$dir/err.log")"
  ! grep -q Traceback "$dir/err.log" || fail "$bad: traceback"
done
echo "plots written from SQLite and CSV; bad files refused in one line"
