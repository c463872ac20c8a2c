#!/usr/bin/python3
"""The multi-exit table of docs/multi-exit.md: for each committed multi-exit model at one gamma,
the policy's accuracy, the share of images stopping at each exit, and the mean array cycles per
image against running every image to the final exit, from `axsa infer --float --json` (INT8, exact
multiplier, 28 x 28 array, functional twin, all 10,000 test images unless --images).

Usage: scripts/multi_exit_table.py [--gamma 0.5] [--images N] [--axsa build/testbench/axsa] [--json]
Run with Debian's /usr/bin/python3.
"""
import argparse
import json
import os
import subprocess
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
MODELS = [("lenet5_exits_mnist", "mnist", "MNIST"), ("vgg_exits_mnist", "mnist", "MNIST"),
          ("lenet5_exits_fashion", "fashion-mnist", "Fashion-MNIST"), ("vgg_exits_fashion", "fashion-mnist", "Fashion-MNIST")]


def main(argv):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--gamma", type=float, default=0.5)
    p.add_argument("--images", type=int, default=0)
    p.add_argument("--axsa", default=os.path.join(ROOT, "build", "testbench", "axsa"))
    p.add_argument("--json", action="store_true")
    args = p.parse_args(argv)
    if not 0 <= args.gamma <= 1:
        print(f"multi_exit_table.py: error: --gamma must be in [0, 1] (got {args.gamma})", file=sys.stderr)
        return 2
    if not os.access(args.axsa, os.X_OK):
        print(f"multi_exit_table.py: error: {args.axsa} is not an executable (build first)", file=sys.stderr)
        return 2
    rows = []
    for stem, data, label in MODELS:
        cmd = [args.axsa, "infer", "--model", os.path.join(ROOT, "models", stem + ".onnx"),
               "--data", os.path.join(ROOT, "data", data), "--gamma", repr(args.gamma), "--float", "--json"]
        if args.images:
            cmd += ["--images", str(args.images)]
        done = subprocess.run(cmd, capture_output=True, text=True)
        if done.returncode != 0:
            last = (done.stderr.strip().splitlines() or ["(no message)"])[-1]
            print(f"multi_exit_table.py: error: {stem}: {last}", file=sys.stderr)
            return 2
        r = json.loads(done.stdout)
        rows.append({"model": stem, "dataset": label, "result": r})
    if args.json:
        print(json.dumps(rows))
        return 0
    print(f"gamma {args.gamma}, INT8, exact multiplier, 28 x 28 array, {rows[0]['result']['images']} test images\n")
    print("| model | data | float final | INT8 final | INT8 exits 1/2/3 (forced) | policy accuracy | stopped at exit 1/2/3/final | "
          "cycles / image | to the final exit | saved |")
    print("|---|---|---|---|---|---|---|---|---|---|")
    for row in rows:
        r = row["result"]
        ex = r["exits"]
        forced = " / ".join(f"{100 * e['accuracy']:.2f}" for e in ex[:-1])
        shares = " / ".join(f"{100 * e['share']:.2f}" for e in ex)
        saved = 1 - r["cycles_per_image"] / r["cycles_per_image_full"]
        print(f"| {row['model']} | {row['dataset']} | {100 * ex[-1]['float_accuracy']:.2f} % | {100 * ex[-1]['accuracy']:.2f} % | "
              f"{forced} | {100 * r['accuracy']:.2f} % | {shares} % | {r['cycles_per_image']:.0f} | "
              f"{r['cycles_per_image_full']:.0f} | {100 * saved:.1f} % |")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
