#!/usr/bin/env bash
# `mpirun -np 3 --oversubscribe axsa campaign --mpi` writes a database equal to a single process's
# run (tables and report), with a shard too; a bad option under MPI is one error line from rank 0.
# Usage: mpi_campaign.sh AXSA_BINARY MPIEXEC WORK_DIR
set -euo pipefail
axsa=$1
mpiexec=$2
dir=$3
rm -rf "$dir"
mkdir -p "$dir"
source "$(dirname "$0")/mpi_env.sh"
fail() { echo "mpi_campaign: FAIL: $*" >&2; exit 1; }
q() { sqlite3 -cmd ".timeout 2000" "$1" "$2"; }
args=(campaign --rows 8 --cols 8 --images 12 --margin 0.05 --seed 9 --calibration 200)

source "$(dirname "$0")/same_campaign.sh"

"$axsa" "${args[@]}" --jobs 2 --out "$dir/whole.db" > /dev/null 2> "$dir/whole.log" || fail "the single run failed"
total=$(q "$dir/whole.db" "select count(*) from faults")
[[ "$total" -gt 100 ]] || fail "expected a sample of more than 100 faults, got $total"

"$mpiexec" -np 3 --oversubscribe "$axsa" "${args[@]}" --mpi --jobs 1 --mpi-batch 4 --json --out "$dir/mpi.db" \
  > "$dir/mpi.json" 2> "$dir/mpi.log" || fail "the MPI run failed: $(tail -3 "$dir/mpi.log")"
grep -q '"ranks": 3' "$dir/mpi.json" || fail "expected one summary from rank 0 of 3 ranks: $(cat "$dir/mpi.json")"
[[ $(wc -l < "$dir/mpi.json") -eq 1 ]] || fail "expected one summary line, got $(wc -l < "$dir/mpi.json")"
same_campaign "$dir/whole.db" "$dir/mpi.db"
echo "mpirun -np 3: the database equals the single run's ($total faults)"

# A shard under MPI is that shard.
"$axsa" "${args[@]}" --jobs 2 --shard 2/3 --out "$dir/s2.db" > /dev/null 2>&1 || fail "shard 2/3 failed"
"$mpiexec" -np 2 --oversubscribe "$axsa" "${args[@]}" --mpi --jobs 1 --shard 2/3 --out "$dir/s2mpi.db" \
  > /dev/null 2> "$dir/s2mpi.log" || fail "the MPI shard failed: $(tail -3 "$dir/s2mpi.log")"
for query in "select * from faults order by id" "select * from results order by fault_id, image"; do
  cmp -s <(q "$dir/s2.db" "$query") <(q "$dir/s2mpi.db" "$query") || fail "shard 2/3 under MPI differs: '$query'"
done

# Bad input under MPI: one line from rank 0 (the other ranks stay quiet), exit status 2, nothing run.
rc=0
"$mpiexec" -np 3 --oversubscribe "$axsa" "${args[@]}" --mpi --out "$dir/whole.db" > /dev/null 2> "$dir/err.txt" || rc=$?
[[ $rc -ne 0 ]] || fail "an existing --out under MPI was accepted"
[[ $(grep -c "axsa campaign: error:" "$dir/err.txt") -eq 1 ]] || fail "expected one error line: $(cat "$dir/err.txt")"
grep -q "axsa campaign: error: $dir/whole.db already exists" "$dir/err.txt" || fail "the error line: $(cat "$dir/err.txt")"
rc=0
"$mpiexec" -np 2 --oversubscribe "$axsa" "${args[@]}" --mpi --engine systemc --out "$dir/x.db" > /dev/null 2> "$dir/err.txt" || rc=$?
[[ $rc -ne 0 ]] && [[ $(grep -c "axsa campaign: error: --mpi runs the shortcut engine" "$dir/err.txt") -eq 1 ]] ||
  fail "--mpi --engine systemc: $(cat "$dir/err.txt")"
[[ ! -e "$dir/x.db" ]] || fail "a refused MPI run created its database"
rc=0
"$mpiexec" -np 2 --oversubscribe "$axsa" "${args[@]}" --mpi --mpi-batch 0 --out "$dir/y.db" > /dev/null 2> "$dir/err.txt" || rc=$?
[[ $rc -ne 0 ]] && [[ $(grep -c "axsa campaign: error: --mpi-batch must be in 1.." "$dir/err.txt") -eq 1 ]] ||
  fail "--mpi-batch 0: $(cat "$dir/err.txt")"
echo "bad input under MPI: one error line"
