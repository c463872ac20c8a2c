#!/usr/bin/python3
"""Accuracy and mean array cycles per image of a multi-exit network against the confidence
threshold gamma (docs/multi-exit.md), as one PNG with two panels.

For every gamma it runs `axsa infer --exit-policy confidence --gamma G --json` (functional twin by
default) on the same images and plots the policy's accuracy, its mean cycles per image, the cost of
running every image to the final exit, and the share of images that stopped at each exit. The
numbers also go to PREFIX.json, so the figure can be redrawn or tabulated without rerunning.

Usage: scripts/plot_exits.py --model models/vgg_exits_mnist.onnx [--data data/mnist] [--images N]
           [--gammas 0.05,0.1,...] [--out PREFIX] [--axsa build/testbench/axsa] [-- extra infer options]
Run with Debian's /usr/bin/python3 (numpy, matplotlib).
"""
import argparse
import json
import os
import subprocess
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
DEFAULT_GAMMAS = [0.05, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 0.95, 0.99]


class PlotError(Exception):
    pass


def parse_gammas(text):
    try:
        values = [float(v) for v in text.split(",") if v.strip()]
    except ValueError:
        raise PlotError(f"--gammas must be comma-separated numbers in [0, 1] (got '{text}')") from None
    if not values or any(not 0 <= v <= 1 for v in values):
        raise PlotError(f"--gammas must be comma-separated numbers in [0, 1] (got '{text}')")
    return sorted(set(values))


def run_infer(args, gamma):
    cmd = [args.axsa, "infer", "--model", args.model, "--data", args.data, "--exit-policy", "confidence",
           "--gamma", repr(gamma), "--json"]
    if args.images:
        cmd += ["--images", str(args.images)]
    cmd += args.extra
    try:
        done = subprocess.run(cmd, capture_output=True, text=True, check=False)
    except OSError as e:
        raise PlotError(f"cannot run {args.axsa}: {e.strerror}") from None
    if done.returncode != 0:
        last = (done.stderr.strip().splitlines() or ["(no message)"])[-1]
        raise PlotError(f"axsa infer failed at gamma {gamma}: {last}")
    result = json.loads(done.stdout)
    if "exits" not in result:
        raise PlotError(f"{args.model} is not a multi-exit network (axsa infer reports no exits)")
    return result


def plot(points, model, path):
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    gammas = [p["gamma"] for p in points]
    fig, (ax_acc, ax_cyc) = plt.subplots(1, 2, figsize=(11, 4.2))
    ax_acc.plot(gammas, [100 * p["accuracy"] for p in points], "o-", color="#4c72b0", label="policy")
    final_acc = 100 * points[0]["exits"][-1]["accuracy"]
    ax_acc.axhline(final_acc, color="#c44e52", ls="--", label=f"final exit only ({final_acc:.2f} %)")
    ax_acc.set_xlabel("confidence threshold gamma")
    ax_acc.set_ylabel("accuracy [%]")
    ax_acc.grid(alpha=0.3)
    ax_acc.legend(loc="lower right")

    ax_cyc.plot(gammas, [p["cycles_per_image"] for p in points], "o-", color="#4c72b0", label="policy (mean)")
    full = points[0]["cycles_per_image_full"]
    ax_cyc.axhline(full, color="#c44e52", ls="--", label=f"to the final exit ({full:.0f})")
    ax_cyc.set_xlabel("confidence threshold gamma")
    ax_cyc.set_ylabel("array cycles per image")
    ax_cyc.set_ylim(bottom=0)
    ax_cyc.grid(alpha=0.3)
    shares = ax_cyc.twinx()
    names = [e["name"] for e in points[0]["exits"]]
    for i, name in enumerate(names):
        shares.plot(gammas, [100 * p["exits"][i]["share"] for p in points], ":", lw=1, label=f"stopped at {name}")
    shares.set_ylabel("images stopped at exit [%]")
    shares.set_ylim(0, 100)
    lines = ax_cyc.get_legend_handles_labels()
    more = shares.get_legend_handles_labels()
    ax_cyc.legend(lines[0] + more[0], lines[1] + more[1], loc="center right", fontsize=8)
    config = points[0]
    fig.suptitle(f"{os.path.basename(model)}: INT{config['bits']}, {config['mult']}, "
                 f"{config['rows']}x{config['cols']} array, {config['images']} images")
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)


def main(argv):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--model", required=True, help="multi-exit ONNX model")
    p.add_argument("--data", default=os.path.join(ROOT, "data", "mnist"), help="folder with the IDX test files")
    p.add_argument("--images", type=int, default=0, help="test images per point (default: all)")
    p.add_argument("--gammas", default=",".join(str(g) for g in DEFAULT_GAMMAS), help="thresholds, comma-separated")
    p.add_argument("--out", help="output prefix (default: the model's name in the current folder)")
    p.add_argument("--axsa", default=os.path.join(ROOT, "build", "testbench", "axsa"), help="the axsa executable")
    p.add_argument("extra", nargs="*", help="further axsa infer options, after --")
    args = p.parse_args(argv)
    try:
        gammas = parse_gammas(args.gammas)
        if args.images < 0:
            raise PlotError(f"--images must be positive (got {args.images})")
        if not os.path.isfile(args.model):
            raise PlotError(f"cannot open {args.model}: no such file")
        if not os.access(args.axsa, os.X_OK):
            raise PlotError(f"{args.axsa} is not an executable (build first: scripts/build.sh)")
        prefix = args.out or os.path.splitext(os.path.basename(args.model))[0] + "_exits"
        points = []
        for i, g in enumerate(gammas):
            print(f"\rgamma {g:.2f} ({i + 1}/{len(gammas)})", end="", file=sys.stderr, flush=True)
            r = run_infer(args, g)
            points.append(r)
        print(file=sys.stderr)
        with open(prefix + ".json", "w") as f:
            json.dump([{k: r[k] for k in ("gamma", "accuracy", "cycles_per_image", "cycles_per_image_full",
                                          "bus_cycles_per_image", "exits")} for r in points], f, indent=1)
        plot(points, args.model, prefix + ".png")
        print(f"wrote {prefix}.png and {prefix}.json")
    except PlotError as e:
        print(f"plot_exits.py: error: {e}", file=sys.stderr)
        return 2
    except OSError as e:
        print(f"plot_exits.py: error: {e.filename}: {e.strerror}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
