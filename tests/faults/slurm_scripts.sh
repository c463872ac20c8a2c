#!/usr/bin/env bash
# The Slurm scripts (scripts/slurm/) run here against stand-ins for sbatch and srun that run each
# job at once on this machine: submit_shards.sh's array of shards plus the merge that depends on it
# gives the single run's database; campaign_array.sbatch turns array task IDs into shards (offset
# ranges too) and refuses arrays with holes; campaign_mpi.sbatch under a stand-in srun (mpirun)
# gives the single run's database; bad input is one line and exit 2.
# Usage: slurm_scripts.sh AXSA_BINARY MPIEXEC WORK_DIR
set -euo pipefail
axsa=$1
mpiexec=$2
dir=$3
root=$(cd "$(dirname "$0")/../.." && pwd)
slurm=$root/scripts/slurm
rm -rf "$dir"
mkdir -p "$dir/bin"
source "$(dirname "$0")/mpi_env.sh"
fail() { echo "slurm_scripts: FAIL: $*" >&2; exit 1; }
q() { sqlite3 -cmd ".timeout 2000" "$1" "$2"; }
campaign="--rows 6 --cols 6 --images 8 --margin 0.05 --seed 21 --calibration 200"

# sbatch stand-in: logs "ID ARGS", runs the job now (an array task by task with Slurm's variables),
# requires a dependency to name an earlier job that succeeded, prints the ID like --parsable.
cat > "$dir/bin/sbatch" <<'STANDIN'
#!/usr/bin/env bash
set -uo pipefail
log=$SBATCH_STANDIN_LOG
array="" dep="" exports="" script=""
while [[ $# -gt 0 ]]; do
  case $1 in
    --array=*) array=${1#--array=} ;;
    --dependency=*) dep=${1#--dependency=} ;;
    --export=*) exports=${1#--export=} ;;
    -*) ;;
    *) script=$1; shift; break ;;
  esac
  shift
done
touch "$log"
id=$(( 1000 + $(wc -l < "$log") ))
if [[ -n $dep ]]; then
  [[ $dep =~ ^afterok:([0-9]+)$ ]] || { echo "sbatch stand-in: unsupported dependency $dep" >&2; exit 1; }
  grep -q "^${BASH_REMATCH[1]} ok" "$log.status" || { echo "sbatch stand-in: job ${BASH_REMATCH[1]} did not succeed" >&2; exit 1; }
fi
IFS=, read -ra pairs <<< "$exports"
for p in "${pairs[@]}"; do [[ $p == *=* ]] && export "${p%%=*}=${p#*=}"; done
status=ok
if [[ -n $array ]]; then
  lo=${array%-*} hi=${array#*-}
  for ((t = lo; t <= hi; t++)); do
    SLURM_JOB_ID=$id SLURM_ARRAY_JOB_ID=$id SLURM_ARRAY_TASK_ID=$t SLURM_ARRAY_TASK_MIN=$lo SLURM_ARRAY_TASK_MAX=$hi \
      SLURM_ARRAY_TASK_COUNT=$((hi - lo + 1)) SLURM_CPUS_PER_TASK=2 bash "$script" "$@" > "$log.$id.$t.out" 2>&1 || status=failed
  done
else
  SLURM_JOB_ID=$id bash "$script" "$@" > "$log.$id.out" 2>&1 || status=failed
fi
echo "$id $array ${dep:+dep=$dep} $script" >> "$log"
echo "$id $status" >> "$log.status"
echo "$id"
STANDIN
# srun stand-in: the job's tasks as MPI ranks on this machine.
cat > "$dir/bin/srun" <<STANDIN
#!/usr/bin/env bash
while [[ \$1 == -* ]]; do shift; done
exec "$mpiexec" -np "\${SLURM_NTASKS:-1}" --oversubscribe "\$@"
STANDIN
chmod +x "$dir/bin/sbatch" "$dir/bin/srun"
export PATH="$dir/bin:$PATH" SBATCH_STANDIN_LOG="$dir/sbatch.log"

# shellcheck disable=SC2086
"$axsa" campaign $campaign --jobs 2 --out "$dir/whole.db" > /dev/null 2>&1 || fail "the single run failed"
same_tables() {
  for query in "select key, value from config order by key" "select * from golden order by image" \
               "select * from faults order by id" "select * from results order by fault_id, image"; do
    cmp -s <(q "$1" "$query") <(q "$2" "$query") || fail "'$query' differs between $1 and $2"
  done
}

# 1. Three shards and the merge, through submit_shards.sh.
AXSA=$axsa AXSA_OUT=$dir/out AXSA_CAMPAIGN=$campaign "$slurm/submit_shards.sh" 3 --partition=test > "$dir/submit.txt" ||
  fail "submit_shards.sh failed: $(cat "$dir/submit.txt")"
grep -q "submitted array job 1000 (3 shards" "$dir/submit.txt" || fail "submit_shards.sh printed: $(cat "$dir/submit.txt")"
grep -q "^1000 1-3 .*campaign_array.sbatch" "$dir/sbatch.log" || fail "no array 1-3 in: $(cat "$dir/sbatch.log")"
grep -q "^1001  dep=afterok:1000 .*merge.sbatch" "$dir/sbatch.log" || fail "no merge after the array: $(cat "$dir/sbatch.log")"
grep -q "1001 ok" "$dir/sbatch.log.status" || fail "the merge job failed: $(cat "$dir/sbatch.log".1001.out)"
for i in 1 2 3; do [[ -f "$dir/out/shard_${i}_of_3.db" ]] || fail "no shard_${i}_of_3.db"; done
same_tables "$dir/whole.db" "$dir/out/campaign.db"
grep -q ",complete," "$dir/out/campaign.csv" || fail "the merge job's report: $(cat "$dir/out/campaign.csv")"
echo "submit_shards.sh: 3 array tasks and the merge give the single run's database"

# 2. Task IDs to shards, with a stand-in axsa that prints its arguments.
printf '#!/usr/bin/env bash\necho "$@"\n' > "$dir/bin/echo_axsa"
chmod +x "$dir/bin/echo_axsa"
task() { # MIN MAX COUNT ID
  AXSA=$dir/bin/echo_axsa AXSA_OUT=$dir/t AXSA_CAMPAIGN="--images 5" SLURM_ARRAY_TASK_MIN=$1 SLURM_ARRAY_TASK_MAX=$2 \
    SLURM_ARRAY_TASK_COUNT=$3 SLURM_ARRAY_TASK_ID=$4 SLURM_CPUS_PER_TASK=3 bash "$slurm/campaign_array.sbatch"
}
expect_shard() { # MIN MAX COUNT ID SHARD
  local out
  out=$(task "$1" "$2" "$3" "$4" | tail -1)
  [[ "$out" == "campaign --images 5 --jobs 3 --shard $5 --out $dir/t/shard_${5%/*}_of_${5#*/}.db --resume" ]] ||
    fail "task $4 of $1-$2 ran: $out"
}
expect_shard 1 4 4 1 1/4
expect_shard 1 4 4 4 4/4
expect_shard 0 3 4 0 1/4
expect_shard 0 3 4 3 4/4
expect_shard 7 9 3 8 2/3
expect_shard 5 5 1 5 1/1
rc=0; task 1 9 5 3 > /dev/null 2> "$dir/err.txt" || rc=$?
[[ $rc -eq 2 && $(wc -l < "$dir/err.txt") -eq 1 ]] && grep -q "without step or list" "$dir/err.txt" ||
  fail "an array with a step: exit $rc, $(cat "$dir/err.txt")"
rc=0; env -u SLURM_ARRAY_TASK_ID AXSA=$dir/bin/echo_axsa bash "$slurm/campaign_array.sbatch" > /dev/null 2> "$dir/err.txt" || rc=$?
[[ $rc -eq 2 ]] && grep -q "not an array task" "$dir/err.txt" || fail "outside an array: exit $rc, $(cat "$dir/err.txt")"
rc=0; AXSA=$axsa AXSA_OUT=$dir/out bash "$slurm/merge.sbatch" > /dev/null 2> "$dir/err.txt" || rc=$?
[[ $rc -eq 2 ]] && grep -q "AXSA_SHARDS must be the number of shards" "$dir/err.txt" || fail "merge without AXSA_SHARDS: $(cat "$dir/err.txt")"
rc=0; "$slurm/submit_shards.sh" 0 > /dev/null 2> "$dir/err.txt" || rc=$?
[[ $rc -eq 2 && $(wc -l < "$dir/err.txt") -eq 1 ]] || fail "submit_shards.sh 0: exit $rc, $(cat "$dir/err.txt")"
# A merge job whose array lost a shard refuses, naming it.
rm "$dir/out/shard_2_of_3.db"
rc=0; AXSA=$axsa AXSA_OUT=$dir/out AXSA_SHARDS=3 bash "$slurm/merge.sbatch" > /dev/null 2> "$dir/err.txt" || rc=$?
[[ $rc -eq 2 ]] && grep -q "shard_2_of_3.db: no such file" "$dir/err.txt" || fail "merge with a lost shard: $(cat "$dir/err.txt")"
echo "campaign_array.sbatch: task IDs map to shards 1/N..N/N; bad arrays and missing variables refused"

# 3. The MPI job script under the srun stand-in: two ranks.
AXSA=$axsa AXSA_OUT=$dir/mpi AXSA_CAMPAIGN=$campaign SLURM_NTASKS=2 SLURM_CPUS_PER_TASK=1 \
  bash "$slurm/campaign_mpi.sbatch" > "$dir/mpi.txt" 2>&1 || fail "campaign_mpi.sbatch failed: $(tail -3 "$dir/mpi.txt")"
same_tables "$dir/whole.db" "$dir/mpi/campaign.db"
echo "campaign_mpi.sbatch: two ranks give the single run's database"
