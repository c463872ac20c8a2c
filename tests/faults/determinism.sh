#!/usr/bin/env bash
# Determinism: the same command with the same seed gives byte-identical results whatever --jobs is.
# A campaign run with --jobs 1 and with --jobs 2 (stuck-at and bit-flip faults, both logits
# conventions) stores the same config, golden, faults and results tables and the same report; the
# JSON of axsa infer with --jobs 1 and 2 (energy included: the bus model's weight uploads) is the
# same bytes once its timing fields are removed.
# Usage: determinism.sh AXSA_BINARY WORK_DIR
set -euo pipefail
axsa=$1
dir=$2
rm -rf "$dir"
mkdir -p "$dir"
fail() { echo "determinism: FAIL: $*" >&2; exit 1; }
q() { sqlite3 -cmd ".timeout 2000" "$1" "$2"; }
source "$(dirname "$0")/same_campaign.sh"

common=(campaign --rows 6 --cols 5 --images 9 --batch 4 --margin 0.05 --calibration 200 --faults all --seed 11)
for logits in dequantized requantized; do
  for jobs in 1 2; do
    "$axsa" "${common[@]}" --logits "$logits" --jobs "$jobs" --out "$dir/$logits-$jobs.db" > /dev/null 2> "$dir/$logits-$jobs.log" ||
      fail "the $logits campaign with --jobs $jobs failed: $(tail -1 "$dir/$logits-$jobs.log")"
  done
  n=$(q "$dir/$logits-1.db" "select count(*) from results")
  [[ $n -gt 1000 ]] || fail "expected more than 1000 results, got $n"
  same_campaign "$dir/$logits-1.db" "$dir/$logits-2.db"
done
# The two conventions classify differently on the same faults (the test would not notice a
# convention that is ignored otherwise).
a=$(q "$dir/dequantized-1.db" "select group_concat(outcome) from (select outcome from results order by fault_id, image)")
b=$(q "$dir/requantized-1.db" "select group_concat(outcome) from (select outcome from results order by fault_id, image)")
[[ "$a" != "$b" ]] || fail "both logits conventions gave the same outcomes"

timing='s/"wall_seconds": [^,}]*, //; s/"images_per_second": [^,}]*, //; s/, "images_per_second": [^,}]*//'
for jobs in 1 2; do
  "$axsa" infer --images 300 --jobs "$jobs" --json --energy | sed -E "$timing" > "$dir/infer-$jobs.json"
done
grep -q '"offchip_pj"' "$dir/infer-1.json" || fail "infer --json --energy printed no energy"
grep -q '"accuracy"' "$dir/infer-1.json" || fail "infer --json printed no accuracy"
if grep -q 'wall_seconds\|images_per_second' "$dir/infer-1.json"; then fail "timing fields left in the comparison"; fi
cmp -s "$dir/infer-1.json" "$dir/infer-2.json" || fail "infer --json differs between --jobs 1 and --jobs 2"
echo "determinism: OK"
