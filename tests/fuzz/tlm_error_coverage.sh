#!/usr/bin/env bash
# The TLM fuzzer's committed corpus reaches every error answer of the register map: addresses outside
# every window and past a buffer's end, misaligned and hole addresses, bad lengths and streaming widths,
# byte enables, writes to read-only registers, to the output buffer and to a buffer while a job runs.
# Usage: tlm_error_coverage.sh FUZZ_TLM CORPUS_DIR
set -euo pipefail
fuzzer=$1 corpus=$2
tally=$(AXSA_FUZZ_TALLY=1 "$fuzzer" -runs=0 "$corpus" 2>&1 | grep '^tally ' || true)
status=0
for what in "unmapped" "act past the end" "weight past the end" "out past the end" "reg misaligned" "reg hole" \
            "act misaligned" "reg bad length or width" "act bad length or width" "reg byte enables" \
            "act byte enables" "reg write read-only" "out write" "act write while busy" "weight write while busy" \
            "reg write" "act write" "out read"; do
  n=$(awk -v w="$what" '{ n = $NF; $1 = ""; $NF = ""; sub(/^ /, ""); sub(/ $/, ""); if ($0 == w) print n }' <<< "$tally")
  if [[ -z "$n" || "$n" == 0 ]]; then
    echo "the corpus never reaches: $what" >&2
    status=1
  else
    printf '%-28s %s\n' "$what" "$n"
  fi
done
exit $status
