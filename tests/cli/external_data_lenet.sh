#!/usr/bin/env bash
# LeNet-5 saved with its weights as external data (one side file next to the model, as
# onnx.save_model(..., save_as_external_data=True) writes it, here with Debian's python3-onnx) loads
# and infers exactly as the single-file models/lenet5.onnx: same accuracy, float accuracy and
# per-layer results, on the twin and the cycle-accurate engine. The model is opened by a path
# relative to another folder, so the side file must be found next to the model, not the cwd.
# Usage: tests/cli/external_data_lenet.sh AXSA SOURCE_DIR WORK_DIR
set -euo pipefail
axsa=$1 src=$2 work=$3
rm -rf "$work"
mkdir -p "$work/models" "$work/elsewhere"
/usr/bin/python3 - "$src/models/lenet5.onnx" "$work/models/lenet5_ext.onnx" <<'PY'
import os, sys
import onnx
model = onnx.load(sys.argv[1])
onnx.save_model(model, sys.argv[2], save_as_external_data=True, all_tensors_to_one_file=True,
                location="lenet5_ext.weights", size_threshold=0)
back = onnx.load(sys.argv[2], load_external_data=False)
external = [t.name for t in back.graph.initializer if t.data_location == onnx.TensorProto.EXTERNAL]
if len(external) != len(back.graph.initializer) or os.path.getsize(sys.argv[2]) > 10000:
    sys.exit("external_data_lenet: python3-onnx did not move every weight out of the model file")
PY

compare() {  # compare ENGINE EXTRA_ARGS...
  local engine=$1
  shift
  local single ext
  single=$(cd "$src" && "$axsa" infer --engine "$engine" --model models/lenet5.onnx --float --json "$@")
  ext=$(cd "$work/elsewhere" && "$axsa" infer --engine "$engine" --model ../models/lenet5_ext.onnx --float --json "$@")
  /usr/bin/python3 - "$single" "$ext" "$engine" <<'PY'
import json, sys
single, ext = json.loads(sys.argv[1]), json.loads(sys.argv[2])
for r in (single, ext):
    for k in ("model", "wall_seconds", "images_per_second"):
        r.pop(k, None)
if single != ext:
    diff = {k: (single.get(k), ext.get(k)) for k in set(single) | set(ext) if single.get(k) != ext.get(k)}
    sys.exit(f"external_data_lenet: {sys.argv[3]}: the external-data model differs: {diff}")
print(f"{sys.argv[3]}: same result, accuracy {ext['accuracy']}, float accuracy {ext['float_accuracy']}")
PY
}
compare functional --images 2000
compare systemc --rows 8 --cols 8 --images 30

# The side file cut short is refused in one line naming the model and the file.
truncate -s 1000 "$work/models/lenet5_ext.weights"
if out=$("$axsa" infer --model "$work/models/lenet5_ext.onnx" --images 1 2>&1); then
  echo "external_data_lenet: a truncated weights file was accepted" >&2
  exit 1
fi
echo "$out"
[[ $(printf '%s\n' "$out" | wc -l) -eq 1 && "$out" == *"lenet5_ext.onnx: "*"lenet5_ext.weights has 1000 bytes, too short"* ]] || {
  echo "external_data_lenet: expected one line naming the model and the short file" >&2
  exit 1
}
