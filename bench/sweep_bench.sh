#!/usr/bin/env bash
# Sweep benchmark, one JSON object: the acceptance grid of docs/sweep.md (LeNet-5 on MNIST, array
# sizes x widths x multipliers) with --campaign none, and a smaller grid with --campaign quick,
# each as configurations per minute on --jobs 2. Usage:
#   bench/sweep_bench.sh [BUILD_DIR] [IMAGES] [OUT_DIR]
# OUT_DIR keeps the two databases (sweep_none.sqlite, sweep_quick.sqlite); default: a temporary folder.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
build=${1:-$root/build}
images=${2:-1000}
out=${3:-}
axsa="$build/testbench/axsa"
[[ -x "$axsa" ]] || { echo "sweep_bench.sh: error: $axsa not built (scripts/build.sh)" >&2; exit 2; }
if [[ -z "$out" ]]; then
  out=$(mktemp -d)
  trap 'rm -rf "$out"' EXIT
fi
mkdir -p "$out"
rm -f "$out"/sweep_none.sqlite* "$out"/sweep_quick.sqlite*
mults=exact,drum16_k6,trunc16_k8,mitchell12
none=$("$axsa" sweep --rows 4,8,16,28 --bits 8,12,16 --mults "$mults" --images "$images" --jobs 2 --quiet --json \
  --out "$out/sweep_none.sqlite")
quick=$("$axsa" sweep --rows 4,8,16,28 --bits 8,12 --mults exact,drum16_k6 --images "$images" --jobs 2 --quiet \
  --campaign quick --json --out "$out/sweep_quick.sqlite")
/usr/bin/python3 - "$none" "$quick" "$images" "$mults" <<'PY'
import json, sys
none, quick = json.loads(sys.argv[1]), json.loads(sys.argv[2])
def part(r, grid):
    done = [x for x in r["results"] if x["status"] == "done"]
    return {"grid": grid, "configs": r["configs"], "run": len(done), "skipped": r["configs"] - len(done),
            "seconds": round(r["seconds"], 1), "configs_per_minute": round(r["configs_per_minute"], 2),
            "finished_configs_per_minute": round(60 * len(done) / r["seconds"], 2) if r["seconds"] else 0}
print(json.dumps({
    "benchmark": "sweep", "model": "lenet5", "images": int(sys.argv[3]), "jobs": 2,
    "campaign_none": part(none, "sizes 4,8,16,28 x bits 8,12,16 x mults " + sys.argv[4]),
    "campaign_quick": part(quick, "sizes 4,8,16,28 x bits 8,12 x mults exact,drum16_k6; 200 faults x 20 images each"),
}))
PY
