#!/usr/bin/env bash
# Runs every libFuzzer target (tests/fuzz, docs/fuzzing.md) for SECONDS each (default 60), as many at once
# as there are cores, from the committed seed corpus. New inputs go to build-sanitize/fuzz-runs/<target>/new
# (not into git); a finding's input is saved there as crash-*, timeout-* or leak-*, and the script exits 1.
# At the end: one line per target (executions, edge coverage, features, corpus size, findings) and the same
# as CSV in build-sanitize/fuzz-runs/summary.csv.
# Usage: scripts/fuzz.sh [SECONDS] [TARGET...]      targets: fuzz_idx fuzz_onnx fuzz_fault_spec fuzz_manifest
#                                                      fuzz_evoapprox fuzz_campaign_db fuzz_tlm (default: all)
# AXSA_FUZZ_BUILD=DIR uses an existing sanitizer build instead of configuring build-sanitize/; AXSA_FUZZ_JOBS=N
# runs N targets at once (default: the number of cores).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
all=(fuzz_idx fuzz_onnx fuzz_fault_spec fuzz_manifest fuzz_evoapprox fuzz_campaign_db fuzz_tlm)
seconds=60
if [[ $# -gt 0 && "$1" =~ ^[0-9]+$ ]]; then
  seconds=$1
  shift
elif [[ $# -gt 0 && "$1" != fuzz_* ]]; then
  echo "scripts/fuzz.sh: '$1' is neither a number of seconds nor a target (${all[*]})" >&2
  exit 2
fi
targets=("$@")
((${#targets[@]})) || targets=("${all[@]}")
for t in "${targets[@]}"; do
  [[ " ${all[*]} " == *" $t "* ]] || { echo "scripts/fuzz.sh: unknown target '$t' (${all[*]})" >&2; exit 2; }
done
((seconds > 0)) || { echo "scripts/fuzz.sh: SECONDS must be positive" >&2; exit 2; }

build=${AXSA_FUZZ_BUILD:-$root/build-sanitize}
if [[ -z "${AXSA_FUZZ_BUILD:-}" ]]; then
  "$root/scripts/setup.sh" > /dev/null
  "$root/scripts/build_sanitize.sh" "$build" > "$root/build-sanitize.log" 2>&1 ||
    { tail -30 "$root/build-sanitize.log" >&2; echo "scripts/fuzz.sh: the sanitizer build failed (build-sanitize.log)" >&2; exit 1; }
fi
out="$build/fuzz-runs"
mkdir -p "$out"
export ASAN_OPTIONS="abort_on_error=1:detect_leaks=1:detect_stack_use_after_return=0${ASAN_OPTIONS:+:$ASAN_OPTIONS}"
export LSAN_OPTIONS="suppressions=$root/tests/fuzz/lsan.supp${LSAN_OPTIONS:+:$LSAN_OPTIONS}"
export UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1${UBSAN_OPTIONS:+:$UBSAN_OPTIONS}"

run_one() {
  local t=$1 dir="$out/$1"
  rm -rf "$dir" && mkdir -p "$dir/new" "$dir/tmp"
  local start=$SECONDS rc=0
  TMPDIR="$dir/tmp" "$build/tests/fuzz/$t" -max_total_time="$seconds" -timeout=30 -rss_limit_mb=4096 \
    -print_final_stats=1 -artifact_prefix="$dir/" "$dir/new" "$root/tests/fuzz/corpus/$t" > "$dir/log" 2>&1 || rc=$?
  echo "$rc $((SECONDS - start))" > "$dir/status"
}

jobs=${AXSA_FUZZ_JOBS:-$(nproc)}
echo "fuzz: ${#targets[@]} targets x ${seconds} s, $jobs at a time; logs in $out/<target>/log"
running=0
for t in "${targets[@]}"; do
  [[ -x "$build/tests/fuzz/$t" ]] || { echo "scripts/fuzz.sh: $build/tests/fuzz/$t is not built" >&2; exit 1; }
  run_one "$t" &
  running=$((running + 1))
  if ((running >= jobs)); then
    wait -n || true
    running=$((running - 1))
  fi
done
wait || true

status=0
echo "target,seconds,executions,exec_per_s,edges,features,corpus_new,findings" > "$out/summary.csv"
printf '%-18s %8s %12s %9s %7s %9s %7s  %s\n' target seconds executions exec/s edges features new findings
for t in "${targets[@]}"; do
  dir="$out/$t"
  rc="no status" took="?"
  [[ -f "$dir/status" ]] && read -r rc took < "$dir/status"
  execs=$(grep -oE 'stat::number_of_executed_units: +[0-9]+' "$dir/log" | awk '{print $2}' | tail -1)
  rate=$(grep -oE 'stat::average_exec_per_sec: +[0-9]+' "$dir/log" | awk '{print $2}' | tail -1)
  last=$(grep -E '^#[0-9]+' "$dir/log" | tail -1)
  edges=$(grep -o 'cov: [0-9]*' <<< "$last" | awk '{print $2}')
  feats=$(grep -o 'ft: [0-9]*' <<< "$last" | awk '{print $2}')
  new=$(find "$dir/new" -type f | wc -l)
  findings=$(find "$dir" -maxdepth 1 -type f \( -name 'crash-*' -o -name 'timeout-*' -o -name 'leak-*' -o -name 'oom-*' \) | wc -l)
  if [[ "$rc" != 0 && "$findings" == 0 ]]; then findings="exit $rc"; fi
  [[ "$findings" == 0 ]] || status=1
  printf '%-18s %8s %12s %9s %7s %9s %7s  %s\n' "$t" "$took" "${execs:-?}" "${rate:-?}" "${edges:-?}" "${feats:-?}" "$new" "$findings"
  echo "$t,$took,${execs:-},${rate:-},${edges:-},${feats:-},$new,$findings" >> "$out/summary.csv"
  if [[ "$findings" != 0 ]]; then
    grep -m1 -E 'FUZZ FINDING|ERROR: (Address|Leak|libFuzzer)|runtime error' "$dir/log" | sed "s|^|  $t: |" || true
  fi
done
exit $status
