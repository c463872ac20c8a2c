#!/usr/bin/env bash
# ctest for one libFuzzer target: every committed seed (and regression input) must pass, then a short
# fresh run from them must find nothing. Usage: run_corpus.sh FUZZER CORPUS_DIR WORK_DIR [SECONDS]
set -euo pipefail
fuzzer=$1 corpus=$2 work=$3 seconds=${4:-20}
[[ -d "$corpus" ]] && compgen -G "$corpus/*" > /dev/null || { echo "no seeds in $corpus" >&2; exit 1; }
rm -rf "$work" && mkdir -p "$work/new"
export TMPDIR="$work"
export LSAN_OPTIONS="suppressions=$(dirname "$0")/lsan.supp${LSAN_OPTIONS:+:$LSAN_OPTIONS}"
# The corpus alone: each input once.
"$fuzzer" -runs=0 -timeout=30 -artifact_prefix="$work/" "$corpus" 2> "$work/corpus.log" || {
  tail -40 "$work/corpus.log" >&2; echo "$(basename "$fuzzer"): a committed input fails" >&2; exit 1; }
grep -E "INITED|DONE" "$work/corpus.log" | tail -2
if [[ "$seconds" != 0 ]]; then
  "$fuzzer" -max_total_time="$seconds" -timeout=30 -rss_limit_mb=4096 -artifact_prefix="$work/" -print_final_stats=1 \
    "$work/new" "$corpus" 2> "$work/fuzz.log" || {
    tail -40 "$work/fuzz.log" >&2; echo "$(basename "$fuzzer"): finding in a ${seconds} s run (input in $work)" >&2; exit 1; }
  grep -E "stat::number_of_executed_units|DONE" "$work/fuzz.log" | tail -2
fi
