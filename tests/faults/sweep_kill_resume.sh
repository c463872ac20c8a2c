#!/usr/bin/env bash
# An axsa sweep killed with SIGKILL in the middle and rerun ends with the same configurations as an
# uninterrupted sweep, none lost, none repeated, the same numbers (wall time aside): in SQLite and
# in CSV. Rerunning with another grid on the same file is refused in one line.
# Usage: sweep_kill_resume.sh AXSA_BINARY WORK_DIR
set -euo pipefail
axsa=$1
dir=$2
rm -rf "$dir"
mkdir -p "$dir"
fail() { echo "sweep_kill_resume: FAIL: $*" >&2; exit 1; }
q() { sqlite3 -cmd ".timeout 2000" "$1" "$2"; }
probe() { [[ -f "$1" ]] && sqlite3 -readonly -cmd ".timeout 2000" "$1" "$2" 2>/dev/null; }
args=(sweep --rows 2,3,4,5 --bits 8,12 --mults exact,drum12_k6 --images 400 --calibration 200 --jobs 2 --quiet)
total=16
# Every column but the last (seconds), rows in key order.
sql_rows() { q "$1" "select * from configs order by rows, cols, bits, mult, dataflow" | awk -F'|' -v OFS='|' '{NF--; print}'; }
csv_rows() { grep -v '^#' "$1" | tail -n +2 | awk -F, -v OFS=, '{NF--; print}' | sort; }
csv_count() { [[ -f "$1" ]] && { grep -v '^#' "$1" | tail -n +2 | grep -c . || true; } || echo 0; }

"$axsa" "${args[@]}" --out "$dir/whole.sqlite" > /dev/null 2> "$dir/whole.log" || fail "uninterrupted run failed: $(tail -1 "$dir/whole.log")"
[[ $(q "$dir/whole.sqlite" "select count(*) from configs") -eq $total ]] || fail "expected $total configurations"
"$axsa" "${args[@]}" --csv "$dir/whole.csv" > /dev/null 2> "$dir/whole_csv.log" || fail "uninterrupted CSV run failed: $(tail -1 "$dir/whole_csv.log")"

kill_midway() {  # $1: --out or --csv, $2: file, $3: command that counts stored rows
  "$axsa" "${args[@]}" "$1" "$2" > /dev/null 2> "$dir/killed.log" &
  local pid=$! n=0
  for _ in $(seq 1 6000); do
    n=$($3 "$2" || echo 0)
    [[ "${n:-0}" -ge 2 ]] && break
    sleep 0.01
  done
  kill -9 "$pid"
  wait "$pid" 2>/dev/null || true
  n=$($3 "$2" || echo 0)
  echo "killed with $n of $total configurations stored ($1)"
  [[ "$n" -gt 0 && "$n" -lt "$total" ]] || fail "the kill did not land mid-run ($n of $total, $1)"
}
sql_count() { probe "$1" "select count(*) from configs"; }

kill_midway --out "$dir/killed.sqlite" sql_count
"$axsa" "${args[@]}" --out "$dir/killed.sqlite" > /dev/null 2> "$dir/resumed.log" || fail "resume failed: $(tail -1 "$dir/resumed.log")"
[[ $(q "$dir/killed.sqlite" "select count(*) from configs") -eq $total ]] || fail "resumed SQLite sweep has a wrong row count"
[[ $(q "$dir/killed.sqlite" "select count(*) from (select distinct rows, cols, bits, mult, dataflow from configs)") -eq $total ]] ||
  fail "duplicate configurations"
sql_rows "$dir/whole.sqlite" > "$dir/a.txt"
sql_rows "$dir/killed.sqlite" > "$dir/b.txt"
cmp -s "$dir/a.txt" "$dir/b.txt" || fail "the resumed SQLite sweep differs from the uninterrupted one"

kill_midway --csv "$dir/killed.csv" csv_count
"$axsa" "${args[@]}" --csv "$dir/killed.csv" > /dev/null 2> "$dir/resumed_csv.log" || fail "CSV resume failed: $(tail -1 "$dir/resumed_csv.log")"
[[ $(csv_count "$dir/killed.csv") -eq $total ]] || fail "resumed CSV sweep has $(csv_count "$dir/killed.csv") rows, not $total"
csv_rows "$dir/whole.csv" > "$dir/c.txt"
csv_rows "$dir/killed.csv" > "$dir/d.txt"
cmp -s "$dir/c.txt" "$dir/d.txt" || fail "the resumed CSV sweep differs from the uninterrupted one"
[[ $(cut -d, -f1-5 "$dir/d.txt" | sort -u | wc -l) -eq $total ]] || fail "duplicate CSV configurations"

# Another grid on the same file is refused in one line, naming what differs.
if "$axsa" "${args[@]/400/300}" --out "$dir/killed.sqlite" > /dev/null 2> "$dir/other.log"; then fail "another grid resumed"; fi
[[ $(wc -l < "$dir/other.log") -eq 1 ]] && grep -q "images = '400'" "$dir/other.log" || fail "unexpected message: $(cat "$dir/other.log")"
echo "resumed sweeps equal the uninterrupted ones ($total configurations, SQLite and CSV)"
