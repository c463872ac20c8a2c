#!/usr/bin/env bash
# Multi-exit benchmark, one JSON object: the functional twin (INT8, exact, 28x28, confidence policy
# at gamma 0.5, all cores) on a committed multi-exit model over its whole test set, against PyTorch
# float inference of the same ONNX model (every exit, as its exported graph computes them) on the
# same machine, in the same run. The issue's target: the twin is not slower than PyTorch.
# Usage: bench/multi_exit_bench.sh [BUILD_DIR] [MODEL_STEM] [DATA_DIR]
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
build=${1:-$root/build}
stem=${2:-vgg_exits_mnist}
data=${3:-$root/data/mnist}
axsa="$build/testbench/axsa"
[[ -x "$axsa" ]] || { echo "multi_exit_bench.sh: error: $axsa not built (scripts/build.sh)" >&2; exit 2; }
model=$root/models/$stem.onnx
[[ -f "$model" ]] || { echo "multi_exit_bench.sh: error: no model $model" >&2; exit 2; }
# Both sides are timed the same way: the best of three passes over the test set (the PyTorch script
# repeats its pass three times itself).
twins=()
for _ in 1 2 3; do
  twins+=("$("$axsa" infer --model "$model" --data "$data" --exit-policy confidence --gamma 0.5 --json)")
done
torch=$(/usr/bin/python3 "$root/bench/torch_onnx_float.py" --model "$model" --data "$data" --repeat 3)
/usr/bin/python3 - "$torch" "${twins[@]}" <<'PY'
import json, sys
torch = json.loads(sys.argv[1])
twin = min((json.loads(a) for a in sys.argv[2:]), key=lambda r: r["wall_seconds"])
print(json.dumps({
    "benchmark": "multi_exit",
    "model": twin["model"],
    "twin_int8_confidence": {k: twin[k] for k in ("images", "accuracy", "wall_seconds", "images_per_second",
                                                  "cycles_per_image", "cycles_per_image_full")},
    "pytorch_float_all_exits": torch,
    "twin_speed_over_pytorch": twin["images_per_second"] / torch["images_per_second"],
}))
PY
