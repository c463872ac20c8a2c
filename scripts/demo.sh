#!/usr/bin/env bash
# Installs what is missing, builds, and runs the main job on the embedded defaults: the committed
# LeNet-5 quantised to INT16 and INT8, all 10,000 MNIST test images on the functional twin, and
# the cycle-accurate TLM run of the 28x28 array on a subset, checked integer for integer against
# the twin. Then one GEMM on the array with a short VCD. Last, the main job itself: a quick INT8
# stuck-at fault-injection campaign on the weight links of the 28x28 array (the survey's sample,
# 7,143 faults at 99 % confidence and a 1 % margin, over 50 images instead of its 100: about 35 s of
# CPU, under a minute on two cores), its report and its plots: the share of critical outcomes per
# PE as a heatmap, and the outcomes per weight bit (docs/campaigns.md).
# AXSA_DEMO_CAMPAIGN_IMAGES and AXSA_DEMO_CAMPAIGN_MARGIN change its size.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
"$root/scripts/setup.sh"
echo "Building (log: build.log) ..."
"$root/scripts/build.sh" > "$root/build.log" 2>&1 || { tail -n 30 "$root/build.log"; exit 1; }
axsa="$root/build/testbench/axsa"
out="$root/build/demo"
mkdir -p "$out"
subset=${AXSA_DEMO_SUBSET:-500}
campaign_images=${AXSA_DEMO_CAMPAIGN_IMAGES:-50}
campaign_margin=${AXSA_DEMO_CAMPAIGN_MARGIN:-0.01}

echo
echo "== LeNet-5 on MNIST, 28x28 output-stationary array (models/lenet5.onnx) =="
"$axsa" infer --bits 16 --float --json > "$out/int16.json"
"$axsa" infer --bits 8 --json > "$out/int8.json"
"$axsa" infer --bits 8 --mult drum8_k4 --json > "$out/int8_drum.json"
"$axsa" infer --bits 16 --engine systemc --images "$subset" --compare --json > "$out/int16_tlm.json"
"$axsa" infer --bits 8 --engine systemc --images "$subset" --compare --json > "$out/int8_tlm.json"
/usr/bin/python3 - "$out" <<'PY'
import json, os, sys
d = sys.argv[1]
load = lambda n: json.load(open(os.path.join(d, n)))
i16, i8, dr, t16, t8 = (load(n) for n in ("int16.json", "int8.json", "int8_drum.json", "int16_tlm.json", "int8_tlm.json"))
rows = [
    ("float (C++ reference)", "-", i16["images"], i16["float_accuracy"], None, None, "-"),
    ("INT16, exact", "functional twin", i16["images"], i16["accuracy"], i16["cycles_per_image"], i16["images_per_second"], "-"),
    ("INT8, exact", "functional twin", i8["images"], i8["accuracy"], i8["cycles_per_image"], i8["images_per_second"], "-"),
    ("INT8, drum8_k4", "functional twin", dr["images"], dr["accuracy"], dr["cycles_per_image"], dr["images_per_second"], "-"),
    ("INT16, exact", "SystemC/TLM", t16["images"], t16["accuracy"], t16["cycles_per_image"], t16["images_per_second"],
     "yes" if t16["identical"] else "NO"),
    ("INT8, exact", "SystemC/TLM", t8["images"], t8["accuracy"], t8["cycles_per_image"], t8["images_per_second"],
     "yes" if t8["identical"] else "NO"),
]
print("%-22s %-16s %7s %9s %12s %10s %10s" % ("configuration", "engine", "images", "accuracy", "cycles/img", "images/s", "identical"))
for name, eng, n, acc, cyc, ips, same in rows:
    print("%-22s %-16s %7d %8.2f%% %12s %10s %10s" % (name, eng, n, acc * 100, "-" if cyc is None else "%.0f" % cyc,
                                                       "-" if ips is None else "%.0f" % ips, same))
print("\n'identical': every output integer of the cycle-accurate run equals the functional twin's.")
print("Per layer (INT8, 28x28): " + ", ".join("%s %.0f cycles (%.0f%% util.)" % (l["name"], l["cycles_per_image"], l["utilization"] * 100) for l in i8["layers"]))
sys.exit(0 if t16["identical"] and t8["identical"] else 1)
PY

echo
echo "== One GEMM on the array: 4x4, INT16, all operands at -2^15, 20-bit accumulator (wraps) =="
"$axsa" gemm --rows 4 --cols 4 --bits 16 --acc-bits 20 --m 6 --k 9 --n 5 --fill min \
  --vcd "$out/gemm4x4.vcd" --vcd-cycles 0:40
echo "VCD of cycles 0..40 written to $out/gemm4x4.vcd"

echo
echo "== The main job: INT8 stuck-at faults on the weight links, $campaign_images images per fault =="
echo "(a fault sample at 99 % confidence and a ${campaign_margin} margin; scripts/reproduce_survey_table.sh runs the survey's whole table)"
db="$out/campaign_int8.db"
"$axsa" campaign --bits 8 --images "$campaign_images" --margin "$campaign_margin" --out "$db" --overwrite
echo
"$axsa" report "$db"
/usr/bin/python3 "$root/scripts/plot_campaign.py" "$db" --out "$out/campaign_int8"
echo "(the heatmap: the share of critical outcomes per PE, row 0 where the weights enter on top;"
echo " the bars: masked / tolerable / critical per weight bit)"
