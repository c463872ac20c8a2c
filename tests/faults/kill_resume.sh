#!/usr/bin/env bash
# A campaign killed with SIGKILL in the middle and resumed with --resume ends with a database
# equal to an uninterrupted run's: same configuration, golden run, fault list and results. The
# killed campaign's lock file stays behind, still naming the dead process; it must not block the
# resume, which takes it over and removes it when done (docs/campaigns.md, "One writer").
# Usage: kill_resume.sh AXSA_BINARY WORK_DIR
set -euo pipefail
axsa=$1
dir=$2
rm -rf "$dir"
mkdir -p "$dir"
fail() { echo "kill_resume: FAIL: $*" >&2; exit 1; }
q() { sqlite3 -cmd ".timeout 2000" "$1" "$2"; }
args=(campaign --images 30 --margin 0.02 --seed 5 --jobs 2 --calibration 200)

"$axsa" "${args[@]}" --out "$dir/whole.db" > /dev/null 2> "$dir/whole.log" || fail "uninterrupted run failed"
total=$(q "$dir/whole.db" "select count(*) from faults")
[[ "$total" -gt 100 ]] || fail "expected a sample of more than 100 faults, got $total"

"$axsa" "${args[@]}" --out "$dir/killed.db" > /dev/null 2> "$dir/killed.log" &
pid=$!
done_at_kill=0
for _ in $(seq 1 1200); do
  done_at_kill=$(q "$dir/killed.db" "select count(distinct fault_id) from results" 2>/dev/null || echo 0)
  [[ "${done_at_kill:-0}" -gt 0 ]] && break
  sleep 0.02
done
kill -9 "$pid"
wait "$pid" 2>/dev/null || true
done_at_kill=$(q "$dir/killed.db" "select count(distinct fault_id) from results")
echo "killed with $done_at_kill of $total faults recorded"
[[ "$done_at_kill" -gt 0 && "$done_at_kill" -lt "$total" ]] || fail "the kill did not land mid-run ($done_at_kill of $total)"
[[ ! -e "$dir/whole.db.lock" ]] || fail "the uninterrupted run left its lock file behind"
grep -q "^pid $pid host " "$dir/killed.db.lock" || fail "the killed run's lock file does not name it (pid $pid)"

"$axsa" "${args[@]}" --out "$dir/killed.db" --resume > /dev/null 2> "$dir/resumed.log" || fail "resume failed: $(tail -1 "$dir/resumed.log")"
[[ ! -e "$dir/killed.db.lock" ]] || fail "the resumed run left the lock file behind"

for query in "select key, value from config order by key" \
             "select * from golden order by image" \
             "select * from faults order by id" \
             "select * from results order by fault_id, image"; do
  q "$dir/whole.db" "$query" > "$dir/a.txt"
  q "$dir/killed.db" "$query" > "$dir/b.txt"
  cmp -s "$dir/a.txt" "$dir/b.txt" || fail "'$query' differs after resume"
done
pairs=$(q "$dir/killed.db" "select count(*) from results")
[[ "$pairs" -eq $((total * 30)) ]] || fail "expected $((total * 30)) pairs, got $pairs"
echo "resumed database equals the uninterrupted one ($total faults, $pairs pairs)"
