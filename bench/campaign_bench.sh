#!/usr/bin/env bash
# Campaign benchmark, one JSON object: a 28x28 INT8 LeNet-5 stuck-at campaign (weight links,
# 99 % / 1 % sample) over 100 images, faults per second, beside the time of one golden inference
# of the same images (functional twin and cycle-accurate), so the cost of a fault relative to a
# fault-free run is visible. Usage: bench/campaign_bench.sh [BUILD_DIR] [IMAGES]
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
build=${1:-$root/build}
images=${2:-100}
axsa="$build/testbench/axsa"
[[ -x "$axsa" ]] || { echo "campaign_bench.sh: error: $axsa not built (scripts/build.sh)" >&2; exit 2; }
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
camp=$("$axsa" campaign --images "$images" --bits 8 --out "$tmp/bench.db" --json 2>/dev/null)
twin=$("$axsa" infer --images "$images" --bits 8 --json)
cycle=$("$axsa" infer --images "$images" --bits 8 --engine systemc --json)
/usr/bin/python3 - "$camp" "$twin" "$cycle" <<'PY'
import json, sys
camp, twin, cycle = (json.loads(a) for a in sys.argv[1:4])
per_fault = camp["seconds"] / camp["faults"]
print(json.dumps({
    "benchmark": "campaign",
    "images": twin["images"], "faults": camp["faults"], "pairs": camp["pairs"],
    "faults_per_second": camp["faults_per_second"],
    "seconds": camp["seconds"], "seconds_per_fault": per_fault,
    "golden_functional_seconds": twin["wall_seconds"],
    "golden_cycle_accurate_seconds": cycle["wall_seconds"],
    "fault_cost_over_golden_functional": per_fault / twin["wall_seconds"],
    "fault_cost_over_golden_cycle_accurate": per_fault / cycle["wall_seconds"],
    "masked": camp["masked"], "tolerable": camp["tolerable"], "critical": camp["critical"], "margin": camp["margin"],
}))
PY
