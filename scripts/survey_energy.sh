#!/usr/bin/env bash
# The survey's "Energy reduction" column (Table I of ../shared/seeds/000_*, our reference
# experiment) from axsa's energy model: LeNet-5 on a 28x28 array at INT16 exact (the baseline),
# INT8 exact and INT8 with the survey's five 12-bit EvoApprox multipliers, each against INT16 exact,
# for the array alone (multipliers, adders, registers), the array with its buffers, and the whole
# system with the bus. A circuit this build lacks is costed with --energy-as from its published
# figures while exact products run (the energy does not depend on the products unless
# --energy-operands weights them). docs/energy.md explains the differences from the survey.
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
python=/usr/bin/python3

usage() {
  cat <<USAGE
Usage: scripts/survey_energy.sh [--images N] [--rows R] [--cols C] [--energy-table FILE] [--axsa PATH] [--out FILE]

Prints the survey's energy column beside axsa's (Markdown); --out also writes it to FILE.
  --images N         test images per configuration (default: 1000)
  --rows R, --cols C array size (default: 28 x 28, the survey's)
  --energy-table F   energy table CSV (default: the built-in 45 nm table)
  --axsa PATH        the axsa executable (default: \$AXSA or build/testbench/axsa)
USAGE
}

die() {
  echo "survey_energy.sh: error: $*" >&2
  exit 2
}

images=1000 rows=28 cols=28 table="" out="" axsa=${AXSA:-$root/build/testbench/axsa}
while [[ $# -gt 0 ]]; do
  case $1 in
    -h | --help) usage; exit 0 ;;
    --images | --rows | --cols | --energy-table | --axsa | --out)
      [[ $# -ge 2 && -n $2 ]] || die "$1 needs a value" ;;
    *) die "unknown option '$1' (see --help)" ;;
  esac
  case $1 in
    --images) images=$2 ;;
    --rows) rows=$2 ;;
    --cols) cols=$2 ;;
    --energy-table) table=$2 ;;
    --axsa) axsa=$2 ;;
    --out) out=$2 ;;
  esac
  shift 2
done
for pair in "images:$images" "rows:$rows" "cols:$cols"; do
  [[ ${pair#*:} =~ ^0*[1-9][0-9]*$ ]] || die "--${pair%%:*} expects a positive integer (got '${pair#*:}')"
done
[[ -x $axsa ]] || die "no axsa executable at $axsa (build with scripts/build.sh, or pass --axsa)"
extra=()
[[ -n $table ]] && extra+=(--energy-table "$table")

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
# name bits circuit survey_reduction_pct
configs=("int16_exact 16 exact -" "int8_exact 8 exact 50" "int8_mul12s_2PT 8 mul12s_2PT 50.3"
         "int8_mul12s_2QH 8 mul12s_2QH 51.21" "int8_mul12s_2R5 8 mul12s_2R5 52" "int8_mul12s_34P 8 mul12s_34P 55"
         "int8_mul12s_2TE 8 mul12s_2TE 55.6")
for c in "${configs[@]}"; do
  read -r name bits circuit survey <<<"$c"
  mult=(--mult exact)
  if [[ $circuit != exact ]]; then
    if "$axsa" multipliers --csv --no-area --name "$circuit" >/dev/null 2>&1; then
      mult=(--mult "$circuit")
    else
      mult=(--mult exact --energy-as "$circuit")
    fi
  fi
  echo "== $name: ${mult[*]}" >&2
  "$axsa" infer --json --energy --images "$images" --bits "$bits" --rows "$rows" --cols "$cols" "${mult[@]}" \
    "${extra[@]}" >"$tmp/$name.json"
  echo "$name $bits $circuit $survey" >>"$tmp/list"
done

"$python" - "$tmp" "$out" <<'PY'
import json, os, sys

tmp, out = sys.argv[1], sys.argv[2]
rows = []
with open(os.path.join(tmp, "list")) as f:
    for line in f:
        name, bits, circuit, survey = line.split()
        with open(os.path.join(tmp, name + ".json")) as j:
            run = json.load(j)
        rows.append((name, int(bits), circuit, survey, run))
base = rows[0][4]["energy_per_image"]

def reduction(e, key):
    return 100 * (1 - e[key] / base[key])

def array_buffers(e):
    return e["array_pj"] + e["buffers_pj"]

lines = [f"LeNet-5 / MNIST, {rows[0][4]['rows']}x{rows[0][4]['cols']} array, {rows[0][4]['images']} images; "
         "energy reduction against INT16 exact, in %", "",
         "| # | Bit-width | Multiplier | Survey | axsa: array | axsa: array + buffers | axsa: system | "
         "array nJ/image | multiplier pJ/product | costed from |",
         "|---|---|---|---|---|---|---|---|---|---|"]
for i, (name, bits, circuit, survey, run) in enumerate(rows):
    e = run["energy_per_image"]
    ab = 100 * (1 - array_buffers(e) / array_buffers(base))
    cells = ["Baseline" if i == 0 else str(i), str(bits), circuit, "-" if survey == "-" else survey,
             "-" if i == 0 else f"{reduction(e, 'array_pj'):.1f}", "-" if i == 0 else f"{ab:.1f}",
             "-" if i == 0 else f"{reduction(e, 'total_pj'):.1f}", f"{e['array_pj'] / 1e3:.1f}",
             f"{e['mult_pj_per_product']:.3f}",
             ("what-if (--energy-as)" if "mult_costed_as" in e else "run") + ": " + e["mult_basis"]]
    lines.append("| " + " | ".join(cells) + " |")
text = "\n".join(lines) + "\n"
print(text, end="")
if out:
    with open(out, "w") as f:
        f.write(text)
PY
