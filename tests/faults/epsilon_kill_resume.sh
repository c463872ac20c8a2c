#!/usr/bin/env bash
# An EPSILON grid killed with SIGKILL in the middle and resumed with --resume ends with the same
# cells as an uninterrupted grid: none lost, none repeated, the same numbers (timing aside).
# Usage: epsilon_kill_resume.sh AXSA_BINARY WORK_DIR
set -euo pipefail
axsa=$1
dir=$2
rm -rf "$dir"
mkdir -p "$dir"
fail() { echo "epsilon_kill_resume: FAIL: $*" >&2; exit 1; }
q() { sqlite3 -cmd ".timeout 2000" "$1" "$2"; }
# Read-only, so that polling never creates the database before axsa does.
probe() { [[ -f "$1" ]] && sqlite3 -readonly -cmd ".timeout 2000" "$1" "$2" 2>/dev/null; }
args=(epsilon --grid --images 200 --calibration 200 --tune-images 50 --techniques vanilla,epsilon --rates 0.1,0.5
      --seeds 1,2 --jobs 2)
cols="mult, technique, point, rate, stuck, seed, images, correct, flagged_images, analyses, layers_flagged,
      weights_corrected, reruns, array_cycles, bus_cycles, macs, exits_taken"

"$axsa" "${args[@]}" --out "$dir/whole.db" > /dev/null 2> "$dir/whole.log" || fail "uninterrupted run failed: $(tail -1 "$dir/whole.log")"
total=$(q "$dir/whole.db" "select count(*) from cells")
[[ "$total" -eq 66 ]] || fail "expected 2 techniques x (1 + 4 x 2 x 2 x 2) = 66 cells, got $total"

"$axsa" "${args[@]}" --out "$dir/killed.db" > /dev/null 2> "$dir/killed.log" &
pid=$!
for _ in $(seq 1 3000); do
  n=$(probe "$dir/killed.db" "select count(*) from cells" || echo 0)
  [[ "${n:-0}" -gt 2 ]] && break
  sleep 0.01
done
kill -9 "$pid"
wait "$pid" 2>/dev/null || true
at_kill=$(q "$dir/killed.db" "select count(*) from cells")
echo "killed with $at_kill of $total cells recorded"
[[ "$at_kill" -gt 0 && "$at_kill" -lt "$total" ]] || fail "the kill did not land mid-run ($at_kill of $total)"

"$axsa" "${args[@]}" --out "$dir/killed.db" --resume > /dev/null 2> "$dir/resumed.log" || fail "resume failed: $(tail -1 "$dir/resumed.log")"
q "$dir/whole.db" "select $cols from cells order by mult, technique, point, rate, stuck, seed" > "$dir/a.txt"
q "$dir/killed.db" "select $cols from cells order by mult, technique, point, rate, stuck, seed" > "$dir/b.txt"
cmp -s "$dir/a.txt" "$dir/b.txt" || fail "the resumed grid differs from the uninterrupted one"
# Resuming with another configuration is refused in one line.
if "$axsa" "${args[@]}" --out "$dir/killed.db" --resume --m 4 > /dev/null 2> "$dir/other.log"; then fail "a different --m resumed"; fi
grep -q "m = '3'" "$dir/other.log" || fail "unexpected message: $(cat "$dir/other.log")"
echo "resumed grid equals the uninterrupted one ($total cells)"
