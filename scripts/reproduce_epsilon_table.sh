#!/usr/bin/env bash
# EPSILON's Table I (shared/seeds/002_*.txt) for one multi-exit model: the grid of multipliers x
# techniques (AxVanDNN, AxMENDNet, EPSILON) x fault points FP1..FP4 x fault rates x stuck-at 0/1 x
# seeds in one resumable SQLite database, the SA1 and SA0 tables with the detection quality, and the
# gamma and alpha sweeps (the paper's Figs. 1 and 2) as PNG files. See docs/epsilon.md.
# Rerunning after an interruption continues the grid where it stopped.
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
python=/usr/bin/python3

usage() {
  cat <<EOF
Usage: scripts/reproduce_epsilon_table.sh [options]

Options:
  --model FILE     multi-exit ONNX model (default: models/lenet5_exits_mnist.onnx)
  --data DIR       IDX folder (default: data/mnist; data/fashion-mnist for the Fashion-MNIST models)
  --out DIR        results: DIR/<model>.db, <model>_sa1.md, <model>_sa0.md, <model>_gamma.png,
                   <model>_alpha.png (default: ./epsilon)
  --images N       test images per run (default: all 10,000)
  --seeds LIST     fault seeds (default: 1,2,3)
  --mults LIST     8-bit multipliers (default: mul8s_1KVP,mul8s_1L2J,mul8s_1L2H when the build has
                   them all, else the in-house trunc8_k4,bam8_h1_v4,mitchell8, of rising error)
  --jobs J         threads (default: all cores)
  --no-sweeps      skip the gamma and alpha sweeps
  --axsa PATH      the axsa executable (default: \$AXSA or build/testbench/axsa)
  -h, --help       this help
EOF
}

die() {
  echo "reproduce_epsilon_table.sh: error: $*" >&2
  exit 2
}

model=$root/models/lenet5_exits_mnist.onnx data=$root/data/mnist out=$PWD/epsilon images="" seeds=1,2,3 mults=""
jobs=$(nproc) sweeps=1 axsa=${AXSA:-$root/build/testbench/axsa}
while [[ $# -gt 0 ]]; do
  case $1 in
    -h | --help) usage; exit 0 ;;
    --no-sweeps) sweeps=0; shift; continue ;;
    --model | --data | --out | --images | --seeds | --mults | --jobs | --axsa)
      [[ $# -ge 2 ]] || die "$1 needs a value"
      case $1 in
        --model) model=$2 ;; --data) data=$2 ;; --out) out=$2 ;; --images) images=$2 ;;
        --seeds) seeds=$2 ;; --mults) mults=$2 ;; --jobs) jobs=$2 ;; --axsa) axsa=$2 ;;
      esac
      shift 2 ;;
    *) die "unknown option '$1' (see --help)" ;;
  esac
done
[[ -x "$axsa" ]] || die "$axsa is not an executable (build first: scripts/build.sh)"
[[ -f "$model" ]] || die "cannot open $model: no such file"
[[ -z "$images" || "$images" =~ ^[1-9][0-9]*$ ]] || die "--images must be a positive whole number (got '$images')"
if [[ -z "$mults" ]]; then
  if "$axsa" multipliers --name mul8s_1KVP --name mul8s_1L2J --name mul8s_1L2H --csv > /dev/null 2>&1; then
    mults=mul8s_1KVP,mul8s_1L2J,mul8s_1L2H
  else
    mults=trunc8_k4,bam8_h1_v4,mitchell8
  fi
fi
mkdir -p "$out"
name=$(basename "$model" .onnx)
db=$out/$name.db
common=(--model "$model" --data "$data" --jobs "$jobs")
[[ -n "$images" ]] && common+=(--images "$images")

echo "grid: $name, multipliers $mults, seeds $seeds -> $db" >&2
resume=()
[[ -f "$db" ]] && resume=(--resume)
start=$(date +%s)
"$axsa" epsilon --grid --out "$db" "${resume[@]}" "${common[@]}" --mults "$mults" --seeds "$seeds"
echo "grid done in $(( $(date +%s) - start )) s" >&2
for s in 1 0; do
  "$python" "$root/scripts/epsilon_table.py" "$db" --stuck "$s" > "$out/${name}_sa$s.md"
  cat "$out/${name}_sa$s.md"
  echo
done

[[ $sweeps -eq 1 ]] || exit 0
# Fig. 1: EPSILON's accuracy against gamma (FP1, 10 % SA1); Fig. 2: against a uniform alpha (FP1, 30 % SA1).
sweep() {  # file option values...
  local file=$1 option=$2 rate=$3
  shift 3
  : > "$file"
  IFS=, read -r -a list <<< "$mults"
  for m in "${list[@]}"; do
    for v in "$@"; do
      "$axsa" epsilon "${common[@]}" --technique epsilon --fault-point FP1 --fault-rate "$rate" --stuck 1 \
        --mult "$m" "$option" "$v" --json >> "$file"
    done
  done
}
sweep "$out/${name}_gamma.jsonl" --gamma 0.1 0.1 0.2 0.3 0.4 0.5 0.6 0.7 0.8 0.9 0.99
sweep "$out/${name}_alpha.jsonl" --alpha 0.3 0 0.25 0.5 0.75 1
"$python" - "$out/${name}_gamma.jsonl" "$out/${name}_alpha.jsonl" "$out/$name" <<'PY'
import json, sys
import matplotlib
matplotlib.use("Agg")
import matplotlib.pyplot as plt
for path, key, label, suffix in ((sys.argv[1], "gamma", "confidence threshold gamma", "gamma"),
                                 (sys.argv[2], "alpha", "importance alpha (every layer)", "alpha")):
    runs = [json.loads(l) for l in open(path) if l.strip()]
    fig, ax = plt.subplots(figsize=(6, 4))
    for mult in sorted({r["mult"] for r in runs}):
        pts = [r for r in runs if r["mult"] == mult]
        xs = [r["gamma"] for r in pts] if key == "gamma" else [0, 0.25, 0.5, 0.75, 1][:len(pts)]
        ax.plot(xs, [100 * r["accuracy"] for r in pts], "o-", label=mult)
    r0 = runs[0]
    ax.set_title(f"EPSILON, {r0['fault_point']} {int(100 * r0['fault_rate'])} % SA{r0['stuck']}")
    ax.set_xlabel(label)
    ax.set_ylabel("accuracy [%]")
    ax.grid(alpha=0.3)
    ax.legend()
    fig.tight_layout()
    fig.savefig(f"{sys.argv[3]}_{suffix}.png", dpi=120)
    print(f"wrote {sys.argv[3]}_{suffix}.png")
PY
