#!/usr/bin/env bash
# One campaign per database at a time (docs/campaigns.md, "One writer"): while a campaign writes
# a.db, a second `axsa campaign` on a.db (with --resume, --overwrite or neither) and `axsa merge`
# into it are refused before they compute anything, with one line naming a.db and the writer's
# pid, exit 2, and the running campaign goes on undisturbed; readers (axsa report) still work.
# A killed campaign's stale lock blocking --resume is tested in kill_resume.sh.
# With MPIEXEC, also `mpirun -np 2 axsa campaign --mpi` on a.db: rank 0 refuses before any rank prepares.
# Usage: campaign_lock.sh AXSA_BINARY WORK_DIR [MPIEXEC]
set -euo pipefail
axsa=$1
dir=$2
rm -rf "$dir"
mkdir -p "$dir"
fail() { echo "campaign_lock: FAIL: $*" >&2; [[ -n "${pid:-}" ]] && kill -9 "$pid" 2>/dev/null; exit 1; }
q() { sqlite3 -cmd ".timeout 2000" "$1" "$2"; }
# Long enough (thousands of faults on one thread) to outlive the checks; killed at the end.
args=(campaign --images 30 --margin 0.01 --seed 5 --jobs 1 --calibration 200)
db=$dir/a.db

"$axsa" "${args[@]}" --out "$db" > /dev/null 2> "$dir/first.log" &
pid=$!
for _ in $(seq 1 1800); do
  [[ "$(q "$db" "select count(distinct fault_id) from results" 2>/dev/null || echo 0)" -gt 0 ]] && break
  kill -0 "$pid" 2>/dev/null || fail "the first campaign ended early: $(tail -1 "$dir/first.log")"
  sleep 0.1
done
grep -q "^pid $pid host " "$db.lock" || fail "$db.lock does not name the writer $pid: $(cat "$db.lock")"
done_before=$(q "$db" "select count(distinct fault_id) from results")
[[ "$done_before" -gt 0 ]] || fail "the first campaign recorded no fault within three minutes"

# The lock comes before anything else: a second run with a model that does not exist is refused
# for the lock, not for the model (so it computed nothing).
refused() {  # refused NAME COMMAND...: exit 2 and exactly one line naming the database and the pid
  local name=$1 rc=0
  shift
  "$@" > "$dir/$name.out" 2> "$dir/$name.err" || rc=$?
  [[ $rc -eq 2 ]] || fail "$name: exit $rc, expected 2 ($(head -c 300 "$dir/$name.err"))"
  [[ $(wc -l < "$dir/$name.err") -eq 1 ]] || fail "$name: expected one line on stderr, got: $(cat "$dir/$name.err")"
  grep -q "$db is being written by process $pid on " "$dir/$name.err" ||
    fail "$name: the line does not name $db and pid $pid: $(cat "$dir/$name.err")"
  kill -0 "$pid" 2>/dev/null || fail "$name: the first campaign died"
}
refused resume "$axsa" "${args[@]}" --out "$db" --resume --model "$dir/no_such_model.onnx"
refused resume_same "$axsa" "${args[@]}" --out "$db" --resume
refused new "$axsa" "${args[@]}" --out "$db"
refused overwrite "$axsa" "${args[@]}" --out "$db" --overwrite
refused merge "$axsa" merge "$db" "$dir/no_such_shard.db"
echo "refused: $(cat "$dir/resume.err")"
if [[ $# -ge 3 ]]; then
  source "$(dirname "$0")/mpi_env.sh"
  rc=0
  "$3" -np 2 --oversubscribe "$axsa" "${args[@]}" --mpi --resume --out "$db" --model "$dir/no_such_model.onnx" \
    > /dev/null 2> "$dir/mpi.err" || rc=$?
  [[ $rc -ne 0 ]] || fail "mpirun: the second campaign ran"
  # The other rank exits as soon as the ranks agree to stop, and mpirun then kills the job, at times
  # before rank 0 has written its line (true of every error line under --mpi): so the line is
  # checked when it is there.
  if grep -q "axsa campaign: error:" "$dir/mpi.err"; then
    [[ $(grep -c "axsa campaign: error: $db is being written by process $pid on " "$dir/mpi.err") -eq 1 ]] ||
      fail "mpirun: expected one line naming $db and pid $pid: $(cat "$dir/mpi.err")"
  fi
  kill -0 "$pid" 2>/dev/null || fail "mpirun: the first campaign died"
  echo "refused under mpirun too"
fi

# The refused runs left the database alone, and the first campaign keeps writing it.
[[ -f "$db" && -f "$db.lock" ]] || fail "a refused run removed $db or its lock"
"$axsa" report "$db" --json > "$dir/report.json" || fail "axsa report cannot read $db while it is written"
grep -q '"complete": false' "$dir/report.json" || fail "the report of the running campaign is not partial"
for _ in $(seq 1 1800); do
  [[ "$(q "$db" "select count(distinct fault_id) from results")" -gt "$done_before" ]] && break
  sleep 0.1
done
[[ "$(q "$db" "select count(distinct fault_id) from results")" -gt "$done_before" ]] ||
  fail "the first campaign stopped writing after the refusals"
kill -9 "$pid"
wait "$pid" 2>/dev/null || true
pid=
echo "the first campaign went on writing $db while the others were refused"
