#!/usr/bin/env bash
# Inference benchmark, one JSON object: the functional twin at INT8 over the full MNIST test set,
# the cycle-accurate TLM run on a 28x28 array (a subset), and PyTorch float inference of the same
# network on the same machine, in one run. The issue's target: the twin within 5x of PyTorch's time.
# Usage: bench/infer_bench.sh [BUILD_DIR] [SYSTEMC_IMAGES]
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
build=${1:-$root/build}
sc_images=${2:-2000}
axsa="$build/testbench/axsa"
[[ -x "$axsa" ]] || { echo "infer_bench.sh: error: $axsa not built (scripts/build.sh)" >&2; exit 2; }
twin=$("$axsa" infer --engine functional --bits 8 --json)
cycle=$("$axsa" infer --engine systemc --bits 8 --images "$sc_images" --json)
torch=$(/usr/bin/python3 "$root/bench/torch_float_bench.py")
/usr/bin/python3 - "$twin" "$cycle" "$torch" <<'PY'
import json, sys
twin, cycle, torch = (json.loads(a) for a in sys.argv[1:4])
keep = ("engine", "images", "accuracy", "wall_seconds", "images_per_second", "cycles_per_image", "bus_cycles_per_image")
out = {
    "benchmark": "infer",
    "functional_int8": {k: twin[k] for k in keep if k in twin},
    "systemc_int8_28x28": {k: cycle[k] for k in keep if k in cycle},
    "pytorch_float": torch,
    "twin_time_over_pytorch_time": twin["wall_seconds"] / torch["wall_seconds"] * torch["images"] / twin["images"],
}
print(json.dumps(out))
PY
