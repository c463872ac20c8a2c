#!/usr/bin/env bash
# The survey's fault-injection experiment in one command: stuck-at campaigns on the weight links of
# a 28x28 array for LeNet-5 (or --model, e.g. models/lenet5_survey.onnx, the survey's variant) at INT16 (exact, the precise baseline), INT8 exact, and INT8 data on
# several approximate 12-bit multipliers, then one table of Masked/Tolerable/Critical/Crash/Hang
# shares with confidence intervals, the achieved margin, each configuration's accuracy and its energy
# reduction against INT16 exact (docs/energy.md).
# Campaigns run with --resume: rerunning after an interruption continues where it stopped.
# See docs/campaigns.md for the statistics.
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
python=/usr/bin/python3

usage() {
  cat <<EOF
Usage: scripts/reproduce_survey_table.sh [options]

Runs 'axsa campaign' (resumable) for INT16 exact, INT8 exact and INT8 on approximate multipliers,
'axsa report --csv' on each, and prints the survey's table (also written as CSV and Markdown).

Options:
  --out DIR          results folder: DIR/<config>.db, .csv, .txt and survey_table.{csv,md}
                     (default: ./survey)
  --images N         test images per fault (default: 100; --quick: 20)
  --margin E         margin of error of the fault sample (default: 0.01; --quick: 0.05)
  --confidence C     confidence level (default: 0.99)
  --quick            a small run: 20 images, margin 0.05 (explicit options still win)
  --mults A,B,...    approximate multipliers for the INT8 rows (default: mul12s_2PT, mul12s_2QH,
                     mul12s_2R5, mul12s_34P, mul12s_2TE when 'axsa multipliers' knows them all,
                     else trunc12_k6, drum12_k6, mitchell12, kulkarni12)
  --rows R, --cols C array size (default: 28 x 28)
  --batch B          images per GEMM batch (default: R, as 'axsa campaign'); 1 runs one image at a
                     time, so the fully connected layers use only the first PE row
  --operand-align A  low or high: where the INT8 data sit in the 12-bit multipliers (default: low;
                     docs/quantization.md "Operand alignment"); passed to every campaign and infer
  --site S           a fault site or a comma-separated list (axsa campaign --site; default: weight-link)
  --faults F         stuck-at, bit-flip or all (default: stuck-at)
  --seed S           fault-sampling seed (default: 1)
  --logits L         dequantized or requantized: how outputs are read before classification
                     (axsa campaign --help; default: dequantized)
  --jobs J           threads per campaign (default: all cores)
  --model FILE       ONNX model (default: models/lenet5.onnx; models/lenet5_survey.onnx is the
                     survey's own variant, three convolutional and four fully connected layers)
  --data DIR         MNIST folder (default: data/mnist)
  --axsa PATH        the axsa executable (default: \$AXSA or build/testbench/axsa)
  --no-accuracy      skip the accuracy column ('axsa infer' over the whole test set); the energy
                     column then comes from the campaign's images
  -h, --help         this help
EOF
}

die() {
  echo "reproduce_survey_table.sh: error: $*" >&2
  exit 2
}

out=$PWD/survey
batch=""
logits=dequantized
images="" margin="" confidence=0.99 quick=0 mults="" rows=28 cols=28 site=weight-link faults=stuck-at seed=1
align=low
jobs=$(nproc) model=$root/models/lenet5.onnx data=$root/data/mnist axsa=${AXSA:-$root/build/testbench/axsa}
accuracy=1
while [[ $# -gt 0 ]]; do
  opt=$1
  case $opt in
    -h | --help) usage; exit 0 ;;
    --quick) quick=1; shift; continue ;;
    --no-accuracy) accuracy=0; shift; continue ;;
    --out | --images | --margin | --confidence | --mults | --rows | --cols | --batch | --site | --faults | --seed | \
      --jobs | --model | --data | --axsa | --logits | --operand-align)
      [[ $# -ge 2 && -n $2 ]] || die "$opt needs a value"
      ;;
    *) die "unknown option '$opt' (see --help)" ;;
  esac
  val=$2
  case $opt in
    --out) out=$val ;;
    --images) images=$val ;;
    --margin) margin=$val ;;
    --confidence) confidence=$val ;;
    --mults) mults=$val ;;
    --rows) rows=$val ;;
    --cols) cols=$val ;;
    --batch) batch=$val ;;
    --site) site=$val ;;
    --faults) faults=$val ;;
    --seed) seed=$val ;;
    --jobs) jobs=$val ;;
    --model) model=$val ;;
    --data) data=$val ;;
    --axsa) axsa=$val ;;
    --logits) logits=$val ;;
    --operand-align) align=$val ;;
  esac
  shift 2
done
if [[ $quick == 1 ]]; then
  images=${images:-20}
  margin=${margin:-0.05}
fi
images=${images:-100}
margin=${margin:-0.01}
batch=${batch:-$rows}
# Checked here, before any campaign starts (axsa campaign checks its own ranges too).
for pair in "images:$images" "rows:$rows" "cols:$cols" "batch:$batch" "jobs:$jobs"; do
  [[ ${pair#*:} =~ ^0*[1-9][0-9]*$ ]] || die "--${pair%%:*} expects a positive integer (got '${pair#*:}')"
done
[[ $seed =~ ^[0-9]+$ ]] || die "--seed expects a non-negative integer (got '$seed')"
[[ $align == low || $align == high ]] || die "--operand-align expects low or high (got '$align')"
for pair in "margin:$margin" "confidence:$confidence"; do
  [[ ${pair#*:} =~ ^0?\.[0-9]*[1-9][0-9]*$ ]] ||
    die "--${pair%%:*} expects a number strictly between 0 and 1 (got '${pair#*:}')"
done
[[ $logits == dequantized || $logits == requantized ]] || die "--logits expects dequantized or requantized (got '$logits')"
[[ -x $axsa ]] || die "no axsa executable at $axsa (build with scripts/build.sh, or pass --axsa)"

if [[ -z $mults ]]; then
  evo=(mul12s_2PT mul12s_2QH mul12s_2R5 mul12s_34P mul12s_2TE)
  names=()
  for m in "${evo[@]}"; do names+=(--name "$m"); done
  # Exit 0 only if every one is registered (an unknown name is an error).
  if "$axsa" multipliers --csv --no-area "${names[@]}" >/dev/null 2>&1; then
    mults=$(IFS=,; echo "${evo[*]}")
  else
    mults=trunc12_k6,drum12_k6,mitchell12,kulkarni12
  fi
fi

configs=("int16_exact 16 exact" "int8_exact 8 exact")
IFS=, read -r -a approx <<<"$mults"
for m in "${approx[@]}"; do
  [[ $m =~ ^[A-Za-z0-9_.-]+$ ]] || die "--mults: '$m' is not a multiplier name"
  configs+=("int8_$m 8 $m")
done

mkdir_error=$(mkdir -p -- "$out" 2>&1) || die "--out: ${mkdir_error#mkdir: }"
echo "survey: ${#configs[@]} campaigns into $out ($images images, margin $margin at confidence $confidence," \
  "${rows}x${cols}, batch $batch, $site $faults, logits $logits)" >&2
names=()
for c in "${configs[@]}"; do
  read -r name bits mult <<<"$c"
  names+=("$name")
  db=$out/$name.db
  echo "== $name: INT$bits, multiplier $mult" >&2
  status=0
  "$axsa" campaign --model "$model" --data "$data" --images "$images" --bits "$bits" --mult "$mult" \
    --rows "$rows" --cols "$cols" --batch "$batch" --site "$site" --faults "$faults" --confidence "$confidence" --margin "$margin" \
    --seed "$seed" --logits "$logits" --operand-align="$align" --out "$db" --resume --jobs "$jobs" || status=$?
  # 2: axsa refused its input and said why on its one error line; rerunning would not help.
  [[ $status == 2 ]] && exit 2
  if [[ $status != 0 ]]; then
    echo "reproduce_survey_table.sh: error: campaign $name stopped; rerun the same command to resume it" >&2
    exit 1
  fi
  "$axsa" report "$db" --csv "$out/$name.csv" >"$out/$name.txt"
  # Accuracy over the whole test set (the functional twin: seconds), as the survey reports it, and
  # the energy per image (docs/energy.md); with --no-accuracy only the campaign's images, for energy.
  subset=()
  [[ $accuracy == 1 ]] || subset=(--images "$images")
  "$axsa" infer --json --energy --model "$model" --data "$data" --bits "$bits" --mult "$mult" --logits "$logits" \
    --operand-align="$align" \
    --rows "$rows" --cols "$cols" --jobs "$jobs" "${subset[@]}" >"$out/$name.infer.json"
done

# One table from the per-campaign CSV rows (all written by 'axsa report' with the same header).
"$python" - "$out" "$accuracy" "$model" "$data" "$logits" "$root" "${names[@]}" <<'EOF'
import csv, json, os, sys

out, with_accuracy, model, data, logits, root = sys.argv[1], sys.argv[2] == "1", *sys.argv[3:7]
names = sys.argv[7:]
# The survey's Table I (scripts/survey_published.csv), printed beside the rows it has.
with open(os.path.join(root, "scripts", "survey_published.csv"), newline="") as f:
    published = {r["name"]: r for r in csv.DictReader(f)}
classes = ["masked", "tolerable", "critical", "crash", "hang"]
header, rows = None, []
for name in names:
    with open(os.path.join(out, name + ".csv"), newline="") as f:
        records = list(csv.DictReader(f))
    if len(records) != 1:
        sys.exit(f"reproduce_survey_table.sh: error: {name}.csv holds {len(records)} rows, expected 1")
    record = records[0]
    if header is None:
        header = list(record.keys())
    elif list(record.keys()) != header:
        sys.exit(f"reproduce_survey_table.sh: error: {name}.csv has a different header")
    with open(os.path.join(out, name + ".infer.json")) as f:
        infer = json.load(f)
    accuracy = str(infer["accuracy"]) if with_accuracy else ""
    energy = infer["energy_per_image"]
    rows.append({"name": name, "accuracy": accuracy, "energy_array_pj": energy["array_pj"],
                 "energy_total_pj": energy["total_pj"], **record})

# Energy reduction against the first configuration (INT16 exact): the array alone, and the system.
for r in rows:
    for key in ("array", "total"):
        r[f"energy_reduction_{key}"] = 1 - r[f"energy_{key}_pj"] / rows[0][f"energy_{key}_pj"]

with open(os.path.join(out, "survey_table.csv"), "w", newline="") as f:
    writer = csv.DictWriter(f, fieldnames=["name", "accuracy", "energy_array_pj", "energy_total_pj",
                                           "energy_reduction_array", "energy_reduction_total"] + header)
    writer.writeheader()
    writer.writerows(rows)

def pct(value, decimals=2):
    return "-" if value in ("", None) else f"{100 * float(value):.{decimals}f}"

titles = ["Configuration", "Energy reduction % (array / system)", "Accuracy %", "Injected Faults % (faults / space)"] + [c.capitalize() + " %" for c in classes] + \
         ["Margin %", "Status", "Survey: accuracy / injected / masked / tolerable / critical %"]
table = []
for r in rows:
    cells = [f"INT{r['bits']} {r['mult']}",
             f"{pct(r['energy_reduction_array'], 1)} / {pct(r['energy_reduction_total'], 1)}",
             pct(r["accuracy"]),
             f"{pct(r['fault_space_share'], 1)} ({r['faults']} / {r['population']})"]
    for c in classes:
        cells.append(f"{pct(r[c])} [{pct(r[c + '_low'])}, {pct(r[c + '_high'])}]")
    cells += [pct(r["margin"]), r["status"]]
    p = published.get(r["name"])
    cells.append(" / ".join(p[k] for k in ("accuracy_pct", "injected_faults_pct", "masked_pct", "tolerable_pct",
                                            "critical_pct")) if p else "-")
    table.append(cells)
widths = [max(len(t), *(len(row[i]) for row in table)) for i, t in enumerate(titles)]
line = lambda cells: "| " + " | ".join(c.ljust(w) for c, w in zip(cells, widths)) + " |"
first = rows[0]
caption = (f"{os.path.basename(model)} / {os.path.basename(os.path.normpath(data))}, {first['rows']}x{first['cols']} array, "
           f"{first['site']} {first['fault_types']} faults, logits {logits}, "
           f"{first['images']} images per fault; shares of (fault, image) pairs with "
           f"{pct(first['confidence'], 0)} % intervals [low, high]")
markdown = "\n".join([caption, "", line(titles), "|" + "|".join("-" * (w + 2) for w in widths) + "|"] +
                     [line(row) for row in table]) + "\n"
with open(os.path.join(out, "survey_table.md"), "w") as f:
    f.write(markdown)
print(markdown, end="")
print(f"\n(written to {os.path.join(out, 'survey_table.csv')} and survey_table.md)", file=sys.stderr)
EOF
