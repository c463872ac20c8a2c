#!/usr/bin/python3
"""The --json outputs of gemm, infer, campaign, report, multipliers and coverify against golden
files written by the axsa that still wrote JSON by hand (commit 0d92406), so the move to
nlohmann-json changes nothing a script parsing them would see.

  json_golden.py capture AXSA SOURCE_DIR WORK_DIR   # rewrites tests/cli/json_golden/*.json
  json_golden.py compare AXSA SOURCE_DIR WORK_DIR   # the test: exit 1 on any difference

Compared: every key in the same order, strings, booleans and nulls exactly, and every number
printed the old way (10 significant digits, %.10g) must give the golden text's value exactly. The
old writer's 10 digits did not round-trip; doubles now print every digit they need to read back
exactly, so a double the old writer rounded to a whole number (576.0000000000001 printed as 576)
now reads as the double it is: the one documented change. Any other number printed as an integer
must still be one. Left out: wall-clock fields, and paths, which name the source and work folders
(replaced by <src> and <work>).

Documented additions since the golden files (ADDED: keys a newer axsa prints that the golden run did
not; they are dropped before the comparison): report's `injected_faults_percent` and `logits`
(docs/campaigns.md), report's `estimated_margin`, `sampling` and `per_site` and campaign's `estimated_margin`,
`sampling` and `uniform_sample_size` (docs/campaigns.md, stratified sampling), and `operand_align` in gemm, infer, coverify and report (docs/quantization.md). The infer files were recaptured once after a fix: the twin's threads used to
split the images mid-batch, so the GEMM counts, cycles, utilisation and energy of `infer` depended
on --jobs (the golden run used 2); they now equal a single thread's, and only those numbers changed.
coverify.json was recaptured when `coverify --faults N` began drawing from all five fault sites
(docs/faults.md): only its fault list and the results on it changed. campaign and report print
`engines` (faults per engine, docs/campaigns.md: the fault_engine table). coverify prints `hung`
(docs/rtl.md: a control fault kept the job running to the watchdog's budget on both sides).
"""
import json
import os
import subprocess
import sys

ADDED = {name: {"operand_align"} for name in ("gemm", "gemm_energy_approx", "gemm_ws_min", "infer", "infer_exits_energy",
                                               "infer_systemc", "coverify")}
ADDED["report"] = {"injected_faults_percent", "logits", "operand_align", "engines", "estimated_margin", "sampling",
                   "per_site"}
ADDED["coverify"] = {"operand_align", "hung"}
ADDED["campaign"] = {"engines", "estimated_margin", "sampling", "uniform_sample_size"}
TIMING = {"wall_seconds", "pe_cycles_per_second", "images_per_second", "seconds", "golden_seconds",
          "faults_per_second", "cpu_seconds", "configs_per_minute", "median_seconds"}


def commands(work):
    db = os.path.join(work, "campaign.db")
    return [
        ("gemm", ["gemm", "--rows", "4", "--cols", "4", "--m", "6", "--k", "9", "--n", "5", "--json"]),
        ("gemm_energy_approx", ["gemm", "--rows", "8", "--cols", "8", "--m", "16", "--k", "30", "--n", "12",
                                "--mult", "drum8_k4", "--energy", "--json"]),
        ("gemm_ws_min", ["gemm", "--dataflow", "ws", "--rows", "5", "--cols", "3", "--bits", "16", "--acc-bits", "20",
                         "--m", "7", "--k", "11", "--n", "4", "--fill", "min", "--json"]),
        ("infer", ["infer", "--engine", "functional", "--images", "300", "--json"]),
        ("infer_exits_energy", ["infer", "--engine", "functional", "--model", "models/lenet5_exits_mnist.onnx",
                                "--images", "200", "--energy", "--json"]),
        ("infer_systemc", ["infer", "--engine", "systemc", "--rows", "8", "--cols", "8", "--images", "20", "--json"]),
        ("campaign", ["campaign", "--rows", "8", "--cols", "8", "--images", "12", "--margin", "0.05", "--seed", "9",
                      "--calibration", "200", "--jobs", "1", "--out", db, "--json"]),
        ("report", ["report", db, "--json"]),
        ("multipliers", ["multipliers", "--name", "exact8", "--name", "drum8_k4", "--name", "trunc8_k6", "--json"]),
        ("multipliers_all", ["multipliers", "--no-area", "--json"]),
        ("coverify", ["coverify", "--rows", "4", "--cols", "4", "--bits", "8", "--mult", "exact8", "--m", "9", "--k", "11",
                      "--n", "6", "--faults", "12", "--seed", "4", "--json"]),
    ]


def normalise(value, src, work):
    if isinstance(value, dict):
        return {k: normalise(v, src, work) for k, v in value.items() if k not in TIMING}
    if isinstance(value, list):
        return [normalise(v, src, work) for v in value]
    if isinstance(value, str):
        return value.replace(work, "<work>").replace(src, "<src>")
    return value


def run(axsa, src, work, name, args):
    if name == "campaign" and os.path.exists(args[args.index("--out") + 1]):
        os.remove(args[args.index("--out") + 1])
    r = subprocess.run([axsa] + args, cwd=src, capture_output=True, text=True,
                       env=dict(os.environ, SYSTEMC_DISABLE_COPYRIGHT_MESSAGE="1"))
    if r.returncode != 0:
        sys.exit(f"json_golden: axsa {' '.join(args)} exited {r.returncode}: {r.stderr.strip()}")
    lines = [l for l in r.stdout.splitlines() if l.strip()]
    if len(lines) != 1:
        sys.exit(f"json_golden: axsa {' '.join(args)} printed {len(lines)} lines, expected one JSON line")
    # object_pairs_hook keeps duplicate keys visible and the order as printed.
    return normalise(json.loads(lines[0], object_pairs_hook=dict), src, work)


def differences(want, got, where, out):
    if isinstance(want, bool) or isinstance(got, bool) or want is None or got is None or isinstance(want, str):
        if type(want) is not type(got) or want != got:
            out.append(f"{where}: expected {json.dumps(want)}, got {json.dumps(got)}")
    elif isinstance(want, (int, float)):
        if not isinstance(got, (int, float)):
            out.append(f"{where}: expected the number {want}, got {json.dumps(got)}")
        elif float("%.10g" % got) != want:
            out.append(f"{where}: expected {want!r}, got {got!r} (printed as %.10g)" % got)
        elif isinstance(want, int) and not isinstance(got, int) and got == int(got):
            out.append(f"{where}: expected an integer ({want}), got {got!r}")
    elif isinstance(want, dict):
        if not isinstance(got, dict) or list(want) != list(got):
            out.append(f"{where}: expected keys {list(want)}, got {list(got) if isinstance(got, dict) else json.dumps(got)}")
        else:
            for k in want:
                differences(want[k], got[k], f"{where}.{k}", out)
    elif isinstance(want, list):
        if not isinstance(got, list) or len(want) != len(got):
            out.append(f"{where}: expected a list of {len(want)}, got {json.dumps(got)[:200]}")
        else:
            for i, (w, g) in enumerate(zip(want, got)):
                differences(w, g, f"{where}[{i}]", out)


def main():
    if len(sys.argv) != 5 or sys.argv[1] not in ("capture", "compare"):
        sys.exit(__doc__)
    mode, axsa, src, work = sys.argv[1], sys.argv[2], os.path.realpath(sys.argv[3]), os.path.realpath(sys.argv[4])
    os.makedirs(work, exist_ok=True)
    golden_dir = os.path.join(src, "tests", "cli", "json_golden")
    failures = []
    for name, args in commands(work):
        got = run(axsa, src, work, name, args)
        path = os.path.join(golden_dir, name + ".json")
        if mode == "capture":
            with open(path, "w") as f:
                json.dump(got, f, indent=1)
                f.write("\n")
            continue
        with open(path) as f:
            want = json.load(f)
        if isinstance(got, dict):
            got = {k: v for k, v in got.items() if k not in ADDED.get(name, set()) or k in want}
        found = []
        differences(want, got, name, found)
        print(f"{name}: {'same' if not found else str(len(found)) + ' differences'}")
        failures += found
    for f in failures:
        print("  " + f)
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
