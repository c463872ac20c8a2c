#!/usr/bin/env bash
# Fault sites benchmark: for each site, a 28x28 INT8 LeNet-5 stuck-at campaign at 99 % / 1 % over
# IMAGES test images on the shortcut engine (faults/s and the outcome shares: the per-site table of
# docs/faults.md), the same with --sampling stratified (faults planned, pilot, shares, estimated margin),
# and a small sample (99 % / 10 %) on the full cycle-accurate simulation (faults/s). `control` has no
# shortcut (its uniform campaign runs in full too) and no stratified sampling (docs/campaigns.md).
# One JSON object per site, one line each. It asserts nothing about time.
# Usage: bench/fault_sites_bench.sh [BUILD_DIR] [IMAGES] [SITES]   (SITES comma-separated; default all)
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
build=${1:-$root/build}
images=${2:-100}
sites=${3:-weight-link,weight-mult,act-link,act-mult,acc,valid,control}
axsa="$build/testbench/axsa"
[[ -x "$axsa" ]] || { echo "fault_sites_bench.sh: error: $axsa not built (scripts/build.sh)" >&2; exit 2; }
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
common=(campaign --images "$images" --bits 8 --rows 28 --cols 28 --faults stuck-at --confidence 0.99 --overwrite --json)
IFS=, read -ra list <<< "$sites"
for site in "${list[@]}"; do
  uniform=$("$axsa" "${common[@]}" --site "$site" --margin 0.01 --out "$tmp/u.db" 2>/dev/null)
  report_u=$("$axsa" report --json "$tmp/u.db")
  stratified=null report_s=null
  if [[ $site != control ]]; then
    stratified=$("$axsa" "${common[@]}" --site "$site" --margin 0.01 --sampling stratified --out "$tmp/s.db" 2>/dev/null)
    report_s=$("$axsa" report --json "$tmp/s.db")
  fi
  full=$("$axsa" "${common[@]}" --site "$site" --margin 0.1 --engine systemc --out "$tmp/f.db" 2>/dev/null)
  /usr/bin/python3 - "$site" "$uniform" "$report_u" "$stratified" "$report_s" "$full" <<'PY'
import json, math, sys
site = sys.argv[1]
u, ru, s, rs, f = (json.loads(a) for a in sys.argv[2:7])
classes = ["masked", "tolerable", "critical", "crash", "hang"]
t = ru["t"]
agree = rs is not None and all(abs(ru[c] - rs[c]) <= t * math.hypot(ru["std_errors"][c], rs["std_errors"][c])
                               for c in classes)
strat = None if rs is None else {
    "faults": s["faults"], "pilot_faults": s["pilot_faults"], "pilot_seconds": s["pilot_seconds"],
    "faults_per_second": s["faults_per_second"], "estimated_margin": rs["estimated_margin"],
    **{c: rs[c] for c in classes}, "agrees_with_uniform": agree}
print(json.dumps({
    "benchmark": "fault_sites", "site": site, "images": ru["images"], "population": u["population"],
    "uniform": {"faults": u["faults"], "faults_per_second": u["faults_per_second"], "margin": ru["margin"],
                "estimated_margin": ru["estimated_margin"], **{c: ru[c] for c in classes},
                "intervals": ru["intervals"]},
    "uniform_engines": ru.get("engines"), "stratified": strat,
    "full": {"engine": f["engine"], "faults": f["faults"], "faults_per_second": f["faults_per_second"],
             **{c: f[c] for c in classes}},
}))
PY
done
