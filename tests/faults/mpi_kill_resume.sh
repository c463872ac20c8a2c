#!/usr/bin/env bash
# An MPI campaign whose ranks are all killed with SIGKILL mid-run (a lost node, a Slurm time limit)
# resumes, under MPI with another number of ranks, to a database equal to an uninterrupted single
# process's run: nothing lost, nothing stored twice.
# Usage: mpi_kill_resume.sh AXSA_BINARY MPIEXEC WORK_DIR
set -euo pipefail
axsa=$1
mpiexec=$2
dir=$3
rm -rf "$dir"
mkdir -p "$dir"
source "$(dirname "$0")/mpi_env.sh"
fail() { echo "mpi_kill_resume: FAIL: $*" >&2; exit 1; }
q() { sqlite3 -cmd ".timeout 2000" "$1" "$2"; }
source "$(dirname "$0")/same_campaign.sh"
args=(campaign --images 30 --margin 0.02 --seed 5 --calibration 200)

"$axsa" "${args[@]}" --jobs 2 --out "$dir/whole.db" > /dev/null 2> "$dir/whole.log" || fail "uninterrupted run failed"
total=$(q "$dir/whole.db" "select count(*) from faults")
[[ "$total" -gt 1000 ]] || fail "expected a sample of more than 1000 faults, got $total"

"$mpiexec" -np 3 --oversubscribe "$axsa" "${args[@]}" --mpi --jobs 1 --out "$dir/killed.db" \
  > /dev/null 2> "$dir/killed.log" &
launcher=$!
done_at_kill=0
for _ in $(seq 1 3000); do
  done_at_kill=$(q "$dir/killed.db" "select count(distinct fault_id) from results" 2>/dev/null || echo 0)
  [[ "${done_at_kill:-0}" -gt 0 ]] && break
  sleep 0.02
done
ranks=$(pgrep -P "$launcher" || true)
[[ $(wc -w <<< "$ranks") -eq 3 ]] || fail "expected 3 rank processes under mpirun, found: $ranks"
kill -9 $ranks
kill -9 "$launcher" 2>/dev/null || true
wait "$launcher" 2>/dev/null || true
for pid in $ranks; do
  for _ in $(seq 1 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.05; done
  ! kill -0 "$pid" 2>/dev/null || fail "rank process $pid survived SIGKILL"
done
done_at_kill=$(q "$dir/killed.db" "select count(distinct fault_id) from results")
echo "killed 3 ranks with $done_at_kill of $total faults recorded"
[[ "$done_at_kill" -gt 0 && "$done_at_kill" -lt "$total" ]] || fail "the kill did not land mid-run ($done_at_kill of $total)"

"$mpiexec" -np 2 --oversubscribe "$axsa" "${args[@]}" --mpi --jobs 1 --out "$dir/killed.db" --resume \
  > /dev/null 2> "$dir/resumed.log" || fail "resume failed: $(tail -3 "$dir/resumed.log")"

same_campaign "$dir/whole.db" "$dir/killed.db"
echo "the resumed MPI campaign equals the uninterrupted run ($total faults)"
