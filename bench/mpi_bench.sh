#!/usr/bin/env bash
# MPI campaign benchmark (docs/scale-out.md): faults/s of one campaign with 1 and 2 ranks of one
# thread each (parallel efficiency = rate(2) / (2 rate(1))), single-process runs with 1 and 2
# threads beside them, and the effect of --mpi-batch at 2 ranks. Each run starts a fresh database
# and counts only the faults (not the golden run); the 1-minute load average before each run is
# printed with it, since other work on the machine skews the figures. Beside the wall-clock rate,
# the processor time per fault (every thread of every rank, the run only): it does not depend on
# how much of the machine others take, so its ratio between 1 and 2 ranks estimates the parallel
# efficiency on dedicated cores (what MPI, polling and the batches cost), where the wall clock on a
# shared machine cannot.
# Usage: bench/mpi_bench.sh [BUILD_DIR] [--images N] [--margin E] [--batches "1 4 16 64 256"] [--repeat R]
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
build=$root/build
if [[ $# -gt 0 && $1 != --* ]]; then build=$1; shift; fi
images=100 margin=0.02 batches="1 4 16 64 256" repeat=1
while [[ $# -gt 0 ]]; do
  case $1 in
    --images) images=$2; shift 2 ;;
    --margin) margin=$2; shift 2 ;;
    --batches) batches=$2; shift 2 ;;
    --repeat) repeat=$2; shift 2 ;;
    -h|--help) sed -n '2,7p' "$0"; exit 0 ;;
    *) echo "mpi_bench.sh: error: unknown option $1" >&2; exit 2 ;;
  esac
done
axsa=$build/testbench/axsa
[[ -x "$axsa" ]] || { echo "mpi_bench.sh: error: $axsa not built (scripts/build.sh)" >&2; exit 2; }
command -v mpirun > /dev/null || { echo "mpi_bench.sh: error: mpirun not found (scripts/setup.sh installs OpenMPI)" >&2; exit 2; }
source "$root/tests/faults/mpi_env.sh"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
args=(campaign --bits 8 --images "$images" --margin "$margin" --json)

load() { cut -d' ' -f1 /proc/loadavg; }
# "faults/s ms-of-CPU-per-fault" from the summary line.
rate() {
  /usr/bin/python3 -c 'import json,sys; j=json.loads(sys.stdin.read().splitlines()[-1]); print("%.1f %.2f" % (j["faults_per_second"], 1000*j["cpu_seconds"]/j["faults"]))'
}
# Best of `repeat` runs by wall-clock rate (the least disturbed one), and the least CPU per fault.
best() {
  local label=$1 r best=0 cpu=1e9 l
  shift
  for ((k = 0; k < repeat; k++)); do
    l=$(load)
    r=$("$@" --out "$tmp/b.db" --overwrite 2>/dev/null | rate)
    echo "  $label run $((k + 1)): ${r% *} faults/s, ${r#* } ms CPU per fault (load before $l)" >&2
    best=$(/usr/bin/python3 -c "print(max($best, ${r% *}))")
    cpu=$(/usr/bin/python3 -c "print(min($cpu, ${r#* }))")
  done
  echo "$best $cpu"
}

faults=$("$axsa" "${args[@]}" --jobs 2 --out "$tmp/probe.db" 2>/dev/null | /usr/bin/python3 -c 'import json,sys; print(json.load(sys.stdin)["faults"])')
echo "campaign: 28x28 INT8 LeNet-5, stuck-at on weight links, $images images, margin $margin: $faults faults; $(nproc) cores"
echo "load average before: $(cut -d' ' -f1-3 /proc/loadavg)"
echo
s1=$(best "single process, 1 thread" "$axsa" "${args[@]}" --jobs 1)
s2=$(best "single process, 2 threads" "$axsa" "${args[@]}" --jobs 2)
m1=$(best "mpirun -np 1, 1 thread" mpirun -np 1 "$axsa" "${args[@]}" --mpi --jobs 1)
m2=$(best "mpirun -np 2, 1 thread each" mpirun -np 2 "$axsa" "${args[@]}" --mpi --jobs 1)
row() { echo "| $1 | ${2% *} | ${2#* } |"; }
eff=$(/usr/bin/python3 -c "print('%.2f' % (${m2% *} / (2 * ${m1% *})))")
eff_cpu=$(/usr/bin/python3 -c "print('%.2f' % (${m1#* } / ${m2#* }))")
echo "| run | faults/s | ms CPU per fault |"
echo "|---|---|---|"
row "single process, --jobs 1" "$s1"
row "single process, --jobs 2" "$s2"
row "mpirun -np 1 --mpi --jobs 1" "$m1"
row "mpirun -np 2 --mpi --jobs 1" "$m2"
echo
echo "parallel efficiency at 2 ranks: $eff by the wall clock, $eff_cpu by processor time per fault"
echo
echo "| --mpi-batch (2 ranks) | faults/s | ms CPU per fault |"
echo "|---|---|---|"
for b in $batches; do
  row "$b" "$(best "mpirun -np 2, batch $b" mpirun -np 2 "$axsa" "${args[@]}" --mpi --jobs 1 --mpi-batch "$b")"
done
echo
echo "load average after: $(cut -d' ' -f1-3 /proc/loadavg)"
