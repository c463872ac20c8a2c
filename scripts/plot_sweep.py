#!/usr/bin/python3
"""Plots of an architecture sweep (axsa sweep, docs/sweep.md), from its SQLite database or CSV file.

Writes into the output folder:
  sweep_pareto.png  top-1 accuracy against energy per image, one point per configuration, the
                    Pareto front (no other point both more accurate and cheaper) drawn as a line;
                    points coloured by the critical share of --campaign quick when the sweep has it,
                    else by data width
                    (left: total energy; right: the array's own share, multipliers, adders and registers)
  sweep_cycles.png  array cycles per image and utilisation against array size (PEs), one line per width
                    and multiplier

Run with Debian's /usr/bin/python3 (matplotlib). Only finished configurations are plotted; skipped
ones (a multiplier narrower than the width) are counted in the title.
"""
import argparse
import csv
import os
import sqlite3
import sys
import urllib.parse

FORMAT = "axsa-sweep-1"
NEEDED = ["rows", "cols", "bits", "mult", "dataflow", "status", "accuracy", "cycles_per_image", "utilization",
          "energy_pj", "energy_multipliers_pj", "energy_adders_pj", "energy_registers_pj", "critical_share"]
MARKERS = ["o", "s", "^", "D", "v", "P", "X", "*"]


class SweepError(Exception):
    pass


def number(value, column, where):
    if value is None or value == "":
        return None
    try:
        return float(value)
    except (TypeError, ValueError):
        raise SweepError(f"{where}: column '{column}' holds '{value}', not a number") from None


def check_columns(names, path):
    missing = [c for c in NEEDED if c not in names]
    if missing:
        raise SweepError(f"{path} is not an axsa sweep result (missing column '{missing[0]}')")


def read_sqlite(path):
    uri = "file:" + urllib.parse.quote(os.path.abspath(path)) + "?mode=ro"
    try:
        db = sqlite3.connect(uri, uri=True, timeout=10)
        grid = dict(db.execute("SELECT key, value FROM grid").fetchall())
        if grid.get("format") != FORMAT:
            raise SweepError(f"{path} is not an axsa sweep database (no '{FORMAT}' format entry)")
        cursor = db.execute("SELECT * FROM configs")
        names = [d[0] for d in cursor.description]
        check_columns(names, path)
        return [dict(zip(names, row)) for row in cursor.fetchall()]
    except sqlite3.DatabaseError as e:
        raise SweepError(f"{path} is not an axsa sweep database ({e})") from None


def read_csv(path):
    try:
        with open(path, newline="", encoding="utf-8") as f:
            lines = f.read().split("\n")
    except (OSError, UnicodeDecodeError) as e:
        raise SweepError(f"cannot read {path}: {e}") from None
    grid = {}
    body = []
    for line in lines:
        if line.startswith("# ") and not body:
            key, _, value = line[2:].partition("=")
            grid[key] = value
        elif line:
            body.append(line)
    if grid.get("format") != FORMAT:
        raise SweepError(f"{path} is not an axsa sweep CSV file (no '# format={FORMAT}' line)")
    if not body:
        raise SweepError(f"{path}: no column header")
    reader = csv.DictReader(body)
    check_columns(reader.fieldnames or [], path)
    return list(reader)


def load(path):
    if not os.path.isfile(path):
        raise SweepError(f"cannot open {path}: no such file")
    if not os.access(path, os.R_OK):
        raise SweepError(f"cannot open {path}: permission denied")
    with open(path, "rb") as f:
        head = f.read(16)
    raw = read_sqlite(path) if head.startswith(b"SQLite format 3") else read_csv(path)
    rows, skipped = [], 0
    for i, r in enumerate(raw, 1):
        if r["status"] != "done":
            skipped += 1
            continue
        where = f"{path}: row {i}"
        row = {
            "rows": int(number(r["rows"], "rows", where)), "cols": int(number(r["cols"], "cols", where)),
            "bits": int(number(r["bits"], "bits", where)), "mult": str(r["mult"]),
            "accuracy": number(r["accuracy"], "accuracy", where),
            "cycles": number(r["cycles_per_image"], "cycles_per_image", where),
            "energy": number(r["energy_pj"], "energy_pj", where),
            "utilization": number(r["utilization"], "utilization", where),
            "array_energy": sum(number(r[c], c, where) or 0.0 for c in
                                ("energy_multipliers_pj", "energy_adders_pj", "energy_registers_pj")),
            "critical": number(r["critical_share"], "critical_share", where),
        }
        for key in ("accuracy", "cycles", "energy"):
            if row[key] is None:
                raise SweepError(f"{where}: a finished configuration without {key}")
        rows.append(row)
    if not rows:
        raise SweepError(f"{path}: no finished configuration to plot")
    return rows, skipped


def pareto(points):
    """Indices of the points no other point beats on both energy (lower) and accuracy (higher)."""
    order = sorted(range(len(points)), key=lambda i: (points[i][0], -points[i][1]))
    front, best = [], -1.0
    for i in order:
        if points[i][1] > best:
            front.append(i)
            best = points[i][1]
    return front


def plot(rows, skipped, out_dir):
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    os.makedirs(out_dir, exist_ok=True)
    note = f" ({skipped} skipped)" if skipped else ""

    acc = [r["accuracy"] * 100 for r in rows]
    mults = sorted({r["mult"] for r in rows})
    widths = sorted({r["bits"] for r in rows})
    coloured = all(r["critical"] is not None for r in rows)
    fig, axes = plt.subplots(1, 2, figsize=(13, 5.5), constrained_layout=True)
    panels = [("energy", "energy per image [nJ]", "whole accelerator: array, buffers, bus"),
              ("array_energy", "array energy per image [nJ]", "array only: multipliers, adders, registers")]
    for ax, (key, xlabel, subtitle) in zip(axes, panels):
        energy = [r[key] / 1000.0 for r in rows]  # nJ
        sc = None
        for k, m in enumerate(mults):
            idx = [i for i, r in enumerate(rows) if r["mult"] == m]
            xs, ys = [energy[i] for i in idx], [acc[i] for i in idx]
            if coloured:
                sc = ax.scatter(xs, ys, c=[rows[i]["critical"] * 100 for i in idx], cmap="viridis", vmin=0,
                                vmax=max(r["critical"] for r in rows) * 100 or 1, marker=MARKERS[k % len(MARKERS)],
                                s=40, zorder=3, edgecolors="black", linewidths=0.3, label=m)
            else:
                colours = [f"C{widths.index(rows[i]['bits'])}" for i in idx]
                ax.scatter(xs, ys, c=colours, marker=MARKERS[k % len(MARKERS)], s=40, zorder=3,
                           edgecolors="black", linewidths=0.3)
        front = pareto(list(zip(energy, acc)))
        ax.step([energy[i] for i in front], [acc[i] for i in front], where="post", color="#c44e52", lw=1.5, zorder=2)
        ax.scatter([energy[i] for i in front], [acc[i] for i in front], s=140, facecolors="none",
                   edgecolors="#c44e52", linewidths=1.5, zorder=4)
        for i in front:
            r = rows[i]
            ax.annotate(f"{r['rows']}x{r['cols']} INT{r['bits']} {r['mult']}", (energy[i], acc[i]), fontsize=7,
                        xytext=(4, -11), textcoords="offset points")
        # A log axis only where the energies span a decade; otherwise its labels crowd.
        if max(energy) > 10 * min(energy) > 0:
            ax.set_xscale("log")
            xlabel += " (log)"
        ax.set_xlabel(xlabel)
        ax.set_ylabel("top-1 accuracy [%]")
        ax.set_title(subtitle, fontsize=10)
        ax.grid(True, which="both", alpha=0.3)
    # Legends: marker = multiplier; colour = width, or the colour bar of the critical share.
    from matplotlib.lines import Line2D
    handles = [Line2D([], [], ls="", marker=MARKERS[k % len(MARKERS)], color="grey", label=m)
               for k, m in enumerate(mults)]
    if not coloured:
        handles += [Line2D([], [], ls="", marker="o", color=f"C{j}", label=f"INT{w}") for j, w in enumerate(widths)]
    handles.append(Line2D([], [], color="#c44e52", marker="o", markerfacecolor="none", markersize=10,
                          label="Pareto front"))
    axes[0].legend(handles=handles, fontsize=8, loc="best")
    if coloured and sc is not None:
        fig.colorbar(sc, ax=list(axes), label="critical share of fault-image pairs [%]")
    fig.suptitle(f"Accuracy against energy per image, {len(rows)} configurations{note}")
    fig.savefig(os.path.join(out_dir, "sweep_pareto.png"), dpi=110)
    plt.close(fig)

    lines = sorted({(r["bits"], r["mult"]) for r in rows})
    styles = ["-", "--", ":", "-."]
    sizes = sorted({(r["rows"] * r["cols"], r["rows"], r["cols"]) for r in rows})
    fig, axes = plt.subplots(1, 2, figsize=(13, 5))
    for ax, key, label in ((axes[0], "cycles", "array cycles per image (log)"), (axes[1], "utilization", "utilisation [%]")):
        for k, (w, m) in enumerate(lines):
            pts = sorted((r["rows"] * r["cols"], r[key]) for r in rows if r["bits"] == w and r["mult"] == m)
            scale = 100 if key == "utilization" else 1
            ax.plot([p[0] for p in pts], [p[1] * scale for p in pts], marker=MARKERS[k % len(MARKERS)],
                    ls=styles[k % len(styles)], label=f"INT{w} {m}", alpha=0.8)
        ax.set_xscale("log")
        if key == "cycles":
            ax.set_yscale("log")
        ax.set_xticks([s[0] for s in sizes])
        ax.set_xticklabels([f"{s[1]}x{s[2]}" for s in sizes])
        ax.minorticks_off()
        ax.set_xlabel("array size (PEs, log)")
        ax.set_ylabel(label)
        ax.grid(True, alpha=0.3)
    axes[0].legend(fontsize=7, ncol=2)
    # Say so when width and multiplier do not change the cycle count (the lines then coincide).
    same = all(len({r["cycles"] for r in rows if r["rows"] == s[1] and r["cols"] == s[2]}) == 1 for s in sizes)
    fig.suptitle("Cycles and utilisation against array size" +
                 (" (the same for every width and multiplier: the lines coincide)" if same else ""))
    fig.tight_layout()
    fig.savefig(os.path.join(out_dir, "sweep_cycles.png"), dpi=110)
    plt.close(fig)


def main():
    parser = argparse.ArgumentParser(description="Plots of an axsa sweep (SQLite or CSV).")
    parser.add_argument("results", help="sweep.sqlite or a CSV file written by axsa sweep --csv")
    parser.add_argument("--out", default=".", help="folder for sweep_pareto.png and sweep_cycles.png")
    args = parser.parse_args()
    try:
        rows, skipped = load(args.results)
        try:
            plot(rows, skipped, args.out)
        except OSError as e:
            raise SweepError(f"cannot write the plots into {args.out}: {e.strerror or e}") from None
    except SweepError as e:
        print(f"plot_sweep.py: error: {e}", file=sys.stderr)
        return 2
    print(f"wrote {os.path.join(args.out, 'sweep_pareto.png')} and {os.path.join(args.out, 'sweep_cycles.png')}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
