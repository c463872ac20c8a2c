#!/usr/bin/python3
"""Tables of an EPSILON grid database (axsa epsilon --grid --out DB, docs/epsilon.md).

Prints, for one stuck-at value, the paper's Table I layout in Markdown: one row per multiplier and
technique, columns FP1..FP4 x fault rates and the average, each cell the mean accuracy [%] over the
fault seeds with its spread (max - min) when there are several. Then the detection quality: per
technique, the share of faulty runs and of fault-free runs in which any image was flagged, and the
mean share of flagged images. With --json, the same numbers as one JSON object.

Usage: scripts/epsilon_table.py DB [--stuck 0|1] [--json]
Run with Debian's /usr/bin/python3; reads the database read-only.
"""
import argparse
import json
import os
import sqlite3
import sys
import urllib.parse

TECHS = [("vanilla", "AxVanDNN"), ("mendnet", "AxMENDNet"), ("epsilon", "EPSILON")]


class TableError(Exception):
    pass


def load(path):
    if not os.path.isfile(path):
        raise TableError(f"cannot open {path}: no such file")
    uri = "file:" + urllib.parse.quote(os.path.abspath(path)) + "?mode=ro"
    try:
        db = sqlite3.connect(uri, uri=True, timeout=10)
        config = dict(db.execute("SELECT key, value FROM config").fetchall())
        if config.get("format") != "axsa-epsilon-grid-1":
            raise TableError(f"{path} is not an axsa EPSILON grid (no 'axsa-epsilon-grid-1' format entry)")
        rows = db.execute("SELECT mult, technique, point, rate, stuck, seed, images, correct, flagged_images, "
                          "analyses, layers_flagged, weights_corrected, reruns, array_cycles, bus_cycles "
                          "FROM cells").fetchall()
    except sqlite3.DatabaseError as e:
        raise TableError(f"{path} is not an axsa EPSILON grid ({e})") from None
    return config, rows


def summarise(config, rows, stuck):
    cells = {}
    for (mult, tech, point, rate, st, seed, images, correct, flagged, analyses, lflags, corrected, reruns,
         cycles, bus) in rows:
        if point != "none" and st != stuck:
            continue
        key = (mult, tech, point, round(rate, 6))
        cells.setdefault(key, []).append({"acc": 100.0 * correct / images, "flagged": flagged / images,
                                          "any_flag": flagged > 0, "cycles": cycles / images})
    mults = sorted({k[0] for k in cells})
    rates = sorted({k[3] for k in cells if k[2] != "none"})
    points = ["FP1", "FP2", "FP3", "FP4"]
    table = []
    for mult in mults:
        for tech, label in TECHS:
            row = {"mult": mult, "technique": label, "cells": [], "average": None}
            means = []
            for p in points:
                for r in rates:
                    runs = cells.get((mult, tech, p, r), [])
                    if not runs:
                        row["cells"].append(None)
                        continue
                    accs = [x["acc"] for x in runs]
                    mean = sum(accs) / len(accs)
                    means.append(mean)
                    row["cells"].append({"mean": mean, "spread": max(accs) - min(accs), "seeds": len(accs)})
            if means:
                row["average"] = sum(means) / len(means)
                clean = cells.get((mult, tech, "none", 0.0), [])
                row["fault_free"] = clean[0]["acc"] if clean else None
                table.append(row)
    detection = []
    for tech, label in TECHS:
        faulty = [x for k, v in cells.items() if k[1] == tech and k[2] != "none" for x in v]
        clean = [x for k, v in cells.items() if k[1] == tech and k[2] == "none" for x in v]
        if not faulty and not clean:
            continue
        detection.append({
            "technique": label,
            "faulty_runs": len(faulty),
            "faulty_runs_flagged": sum(x["any_flag"] for x in faulty) / len(faulty) if faulty else None,
            "faulty_images_flagged": sum(x["flagged"] for x in faulty) / len(faulty) if faulty else None,
            "fault_free_runs": len(clean),
            "fault_free_runs_flagged": sum(x["any_flag"] for x in clean) / len(clean) if clean else None,
            "fault_free_images_flagged": sum(x["flagged"] for x in clean) / len(clean) if clean else None,
            "cycles_per_image": sum(x["cycles"] for x in faulty + clean) / len(faulty + clean),
        })
    return {"model": os.path.basename(config.get("model", "?")), "stuck": stuck, "rates": rates, "points": points,
            "images": int(config.get("images", 0)), "table": table, "detection": detection}


def markdown(s):
    rates = [f"{int(round(r * 100))}" for r in s["rates"]]
    head = ["multiplier", "technique"] + [f"{p} {r}%" for p in s["points"] for r in rates] + ["avg", "no fault"]
    out = [f"SA{s['stuck']}, {s['model']}, {s['images']} images; mean accuracy [%] over the seeds "
           "(spread max - min in parentheses)", "", "| " + " | ".join(head) + " |",
           "|" + "---|" * len(head)]
    for row in s["table"]:
        cells = []
        for c in row["cells"]:
            if c is None:
                cells.append("-")
            elif c["seeds"] > 1:
                cells.append(f"{c['mean']:.2f} ({c['spread']:.2f})")
            else:
                cells.append(f"{c['mean']:.2f}")
        ff = row.get("fault_free")
        out.append("| " + " | ".join([row["mult"], row["technique"]] + cells +
                                     [f"{row['average']:.2f}", "-" if ff is None else f"{ff:.2f}"]) + " |")
    out += ["", "| technique | faulty runs flagged | images flagged (faulty) | fault-free runs flagged | "
            "images flagged (fault-free) | array cycles / image |", "|---|---|---|---|---|---|"]

    def pct(v):
        return "-" if v is None else f"{100 * v:.1f} %"
    for d in s["detection"]:
        out.append(f"| {d['technique']} | {pct(d['faulty_runs_flagged'])} of {d['faulty_runs']} | "
                   f"{pct(d['faulty_images_flagged'])} | {pct(d['fault_free_runs_flagged'])} of {d['fault_free_runs']} | "
                   f"{pct(d['fault_free_images_flagged'])} | {d['cycles_per_image']:.0f} |")
    return "\n".join(out)


def main(argv):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("db")
    p.add_argument("--stuck", type=int, choices=[0, 1], default=1)
    p.add_argument("--json", action="store_true")
    args = p.parse_args(argv)
    try:
        config, rows = load(args.db)
        s = summarise(config, rows, args.stuck)
        if not s["table"]:
            raise TableError(f"{args.db} has no cells for stuck-at-{args.stuck}")
        print(json.dumps(s) if args.json else markdown(s))
    except TableError as e:
        print(f"epsilon_table.py: error: {e}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
