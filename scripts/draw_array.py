#!/usr/bin/python3
"""Pictures of the systolic array at work, one frame per cycle, from a trace of `axsa gemm`.

Reads a JSON trace (`axsa gemm --trace FILE.json`) or a VCD (`axsa gemm --vcd FILE.vcd`) and draws,
for each chosen cycle, the R x C grid of PEs: each PE's accumulator, whether it multiplies and
accumulates on this cycle's edge (MAC, green), the activation arriving from the west and the weight
arriving from the north on the links between PEs, the feeders on the west and north edges and the
drain outputs on the south edge. PEs named by a fault in the trace (or by --mark) get a red frame;
with --reference (a fault-free trace of the same GEMM) every value that differs from it is drawn in
red on an orange patch. Output: PNG frames and, with --gif, an animated GIF.

    axsa gemm --rows 4 --cols 4 --m 4 --k 4 --n 4 --trace t.json
    scripts/draw_array.py t.json --out-dir frames --cycles 0:14 --gif frames/gemm.gif

Bad input (a missing or malformed file, cycles that are not in the trace, a reference of another
GEMM) is one line on stderr and exit status 2.
"""
import argparse
import json
import os
import re
import sys

FIELDS = ("west", "north", "east", "south", "acc", "mac_en")


class InputError(Exception):
    pass


# ---- Reading traces -------------------------------------------------------------------------

def read_json_trace(path):
    try:
        with open(path) as f:
            doc = json.load(f)
    except OSError as e:
        raise InputError(f"cannot read '{path}': {e.strerror}")
    except json.JSONDecodeError as e:
        raise InputError(f"'{path}' is not valid JSON (line {e.lineno}: {e.msg})")
    if not isinstance(doc, dict) or doc.get("format") != "axsa-trace-1":
        raise InputError(f"'{path}' is not an axsa trace (expected \"format\": \"axsa-trace-1\")")
    try:
        reg = doc["region"]
        rows = range(int(reg["r0"]), int(reg["r1"]) + 1)
        cols = range(int(reg["c0"]), int(reg["c1"]) + 1)
        cycles = {}
        for c in doc["cycles"]:
            frame = {"stage": c.get("stage"), "fold": c.get("fold"), "t": c.get("t")}
            for name in FIELDS:
                values = c[name]
                if len(values) != len(rows) * len(cols):
                    raise InputError(f"'{path}': cycle {c['cycle']}: '{name}' has {len(values)} values, "
                                     f"expected {len(rows) * len(cols)}")
                frame[name] = {(r, k): int(values[i * len(cols) + j])
                               for i, r in enumerate(rows) for j, k in enumerate(cols)}
            if len(c["drain"]) != len(cols):
                raise InputError(f"'{path}': cycle {c['cycle']}: 'drain' has {len(c['drain'])} values, "
                                 f"expected {len(cols)}")
            frame["drain"] = {k: int(v) for k, v in zip(cols, c["drain"])}
            cycles[int(c["cycle"])] = frame
        faults = [dict(f) for f in doc.get("faults", [])]
        info = {key: doc[key] for key in ("rows", "cols", "bits", "acc_bits", "m", "k", "n", "dataflow")}
    except (KeyError, TypeError, ValueError) as e:
        raise InputError(f"'{path}': malformed trace ({type(e).__name__}: {e})")
    return {"rows": list(rows), "cols": list(cols), "cycles": cycles, "faults": faults, "info": info,
            "source": "json"}


def read_vcd_trace(path):
    """The VCD of `axsa gemm --vcd`: scopes top.array.pe_R_C with west/north/east/south/acc/mac_en,
    and drain.col_J. Values are two's complement of the declared width."""
    try:
        with open(path) as f:
            text = f.read()
    except OSError as e:
        raise InputError(f"cannot read '{path}': {e.strerror}")
    scope = []
    signals = {}  # id -> list of (kind, key, width)
    period = None
    values = {}
    cycles = {}
    timestamp = None
    in_defs = True

    def signed(bits, width):
        v = int(bits, 2)
        return v - (1 << width) if width > 1 and v >> (width - 1) else v

    def snapshot(t):
        frame = {name: {} for name in FIELDS}
        frame["drain"] = {}
        frame.update(stage=None, fold=None, t=None)
        for sid, targets in signals.items():
            for kind, key, _ in targets:
                if sid in values:
                    if kind == "drain":
                        frame["drain"][key] = values[sid]
                    else:
                        frame[kind][key] = values[sid]
        cycles[t] = frame

    for line_no, line in enumerate(text.splitlines(), 1):
        words = line.split()
        if not words:
            continue
        try:
            if in_defs:
                if words[0] == "$timescale":
                    pass
                elif words[0] == "$scope":
                    scope.append(words[2])
                elif words[0] == "$upscope":
                    scope.pop()
                elif words[0] == "$var":
                    width, sid, name = int(words[2]), words[3], words[4]
                    owner = scope[-1] if scope else ""
                    m = re.fullmatch(r"pe_(\d+)_(\d+)", owner)
                    if m and name in FIELDS:
                        signals.setdefault(sid, []).append((name, (int(m.group(1)), int(m.group(2))), width))
                    elif owner == "drain" and re.fullmatch(r"col_\d+", name):
                        signals.setdefault(sid, []).append(("drain", int(name[4:]), width))
                elif words[0] == "$enddefinitions":
                    in_defs = False
                continue
            if words[0].startswith("#"):
                if timestamp is not None:
                    snapshot(timestamp)
                timestamp = int(words[0][1:])
                continue
            if words[0].startswith("$"):
                continue
            if words[0].startswith("b"):
                bits, sid = words[0][1:], words[1]
            else:
                bits, sid = words[0][0], words[0][1:]
            for _, _, width in signals.get(sid, []):
                values[sid] = signed(bits, width)
        except (IndexError, ValueError):
            raise InputError(f"'{path}', line {line_no}: not a VCD line this script understands: {line.strip()}")
    if timestamp is not None:
        snapshot(timestamp)
    if not signals or not cycles:
        raise InputError(f"'{path}' has no PE signals of axsa (expected scopes pe_R_C from axsa gemm --vcd)")
    # Time stamps are cycle * clock period: the smallest step between them is one cycle.
    stamps = sorted(cycles)
    steps = [b - a for a, b in zip(stamps, stamps[1:]) if b > a]
    period = min(steps) if steps else 1
    cycles = {t // period: f for t, f in cycles.items()}
    pes = {key for targets in signals.values() for kind, key, _ in targets if kind != "drain"}
    rows = sorted({r for r, _ in pes})
    cols = sorted({c for _, c in pes})
    return {"rows": rows, "cols": cols, "cycles": cycles, "faults": [], "info": {}, "source": "vcd"}


def read_trace(path):
    if path.endswith(".vcd"):
        return read_vcd_trace(path)
    return read_json_trace(path)


# ---- Drawing --------------------------------------------------------------------------------

def parse_span(text, option):
    m = re.fullmatch(r"(\d+):(\d+)", text or "")
    if not m or int(m.group(1)) > int(m.group(2)):
        raise InputError(f"{option} expects FIRST:LAST with FIRST <= LAST (got '{text}')")
    return int(m.group(1)), int(m.group(2))


def parse_marks(texts):
    marks = set()
    for t in texts or []:
        m = re.fullmatch(r"(\d+):(\d+)", t)
        if not m:
            raise InputError(f"--mark expects ROW:COL (got '{t}')")
        marks.add((int(m.group(1)), int(m.group(2))))
    return marks


def corrupt(value, fault, bits):
    """A fault's effect on a W-bit weight (docs/faults.md), as the saboteur applies it."""
    u = value & ((1 << bits) - 1)
    m = 1 << int(fault["bit"])
    kind = fault["kind"]
    u = u & ~m if kind == "stuck-at-0" else u | m if kind == "stuck-at-1" else u ^ m
    return u - (1 << bits) if u >> (bits - 1) else u


def active_faults(trace, cycle, r, c):
    return [f for f in trace["faults"] if int(f["row"]) == r and int(f["col"]) == c and int(f["first"]) <= cycle
            and (f["last"] is None or cycle <= int(f["last"]))]


def draw_frame(plt, patches, trace, cycle, ref, marks, path, title):
    frame = trace["cycles"][cycle]
    rframe = ref["cycles"].get(cycle) if ref else None
    rows, cols = trace["rows"], trace["cols"]
    nr, nc = len(rows), len(cols)
    cell, gap = 1.0, 0.9
    step = cell + gap
    x_lo, x_hi = -1.3, (nc - 1) * step + cell + 0.5
    y_lo, y_hi = -(nr - 1) * step - cell - 1.0, 2.3
    scale = 0.78  # inches per unit
    fig, ax = plt.subplots(figsize=((x_hi - x_lo) * scale, (y_hi - y_lo) * scale), dpi=80)
    fig.subplots_adjust(left=0.01, right=0.99, bottom=0.01, top=0.99)
    ax.set_xlim(x_lo, x_hi)
    ax.set_ylim(y_lo, y_hi)
    ax.set_aspect("equal")
    ax.axis("off")

    def differs(field, key):
        return rframe is not None and key in rframe.get(field, {}) and rframe[field][key] != frame[field][key]

    def label(x, y, text, bad, size=9, color="#222222", **kw):
        box = dict(boxstyle="round,pad=0.15", fc="#ffb347", ec="#d62728", lw=1.2) if bad else None
        ax.text(x, y, text, ha="center", va="center", fontsize=size, color="#d62728" if bad else color,
                fontweight="bold" if bad else "normal", bbox=box, **kw)

    for i, r in enumerate(rows):
        for j, c in enumerate(cols):
            x0, y0 = j * step, -i * step - cell  # lower-left corner of the PE box
            mac = frame["mac_en"][(r, c)] != 0
            faulty = (r, c) in marks
            ax.add_patch(patches.FancyBboxPatch((x0, y0), cell, cell, boxstyle="round,pad=0.02",
                                                fc="#b7e4a7" if mac else "#e6e6e6",
                                                ec="#d62728" if faulty else "#555555", lw=3.5 if faulty else 1.0))
            ax.text(x0 + 0.04, y0 + cell - 0.05, f"PE {r},{c}", fontsize=6.5, va="top", ha="left", color="#555555")
            if mac:
                ax.text(x0 + cell - 0.04, y0 + 0.05, "MAC", fontsize=6.5, va="bottom", ha="right", color="#2c7a1f")
            if faulty:
                ax.text(x0 + cell - 0.04, y0 + cell - 0.05, "fault", fontsize=6.5, va="top", ha="right",
                        color="#d62728", fontweight="bold")
            label(x0 + cell / 2, y0 + cell / 2 - 0.05, str(frame["acc"][(r, c)]), differs("acc", (r, c)), size=10)
            # West link: the activation arriving from the feeder or the PE to the west.
            ax.annotate("", xy=(x0, y0 + cell * 0.72), xytext=(x0 - gap, y0 + cell * 0.72),
                        arrowprops=dict(arrowstyle="->", color="#1f77b4", lw=1.0))
            label(x0 - gap / 2, y0 + cell * 0.72 + 0.17, str(frame["west"][(r, c)]), differs("west", (r, c)),
                  size=8, color="#1f77b4")
            # North link: the weight arriving from the feeder or the PE to the north.
            ax.annotate("", xy=(x0 + cell * 0.28, y0 + cell), xytext=(x0 + cell * 0.28, y0 + cell + gap),
                        arrowprops=dict(arrowstyle="->", color="#9467bd", lw=1.0))
            north = frame["north"][(r, c)]
            north_text = str(north)
            north_bad = differs("north", (r, c))
            mult_text = None
            # A fault acting in this cycle: show the weight as the saboteur hands it on.
            for f in active_faults(trace, cycle, r, c):
                after = corrupt(north, f, int(trace["info"]["bits"]))
                if f["site"] == "weight-link":
                    north_text += f"\u2192{after}" if after != north else ""
                    north_bad = north_bad or after != north
                    north = after
                elif after != north:
                    mult_text = f"mult b={after}"
            label(x0 + cell * 0.28 + 0.3 + (0.25 if "\u2192" in north_text else 0), y0 + cell + gap / 2, north_text,
                  north_bad, size=8, color="#9467bd")
            if mult_text:
                label(x0 + cell / 2, y0 + 0.22, mult_text, True, size=6.5)
            if i == nr - 1:
                # The bottom row's south register leaves the array; show it, and the drain output below.
                bad = differs("south", (r, c))
                label(x0 + cell * 0.28 + 0.3, y0 - 0.32, f"s {frame['south'][(r, c)]}", bad, size=7, color="#9467bd")
                d = frame["drain"].get(c, 0)
                dbad = rframe is not None and rframe["drain"].get(c) != d
                label(x0 + cell / 2, y0 - 0.72, f"drain {d}", dbad, size=8)
    ax.text(x_lo + 0.05, y_hi - 0.1, "blue: activations from the west   purple: weights from the north\n"
            "box: accumulator (green: MAC on this edge)   s: weight leaving south",
            fontsize=7, ha="left", va="top", color="#555555")
    ax.text(x_lo + 0.05, y_hi - 0.75, title, fontsize=9.5, ha="left", va="top")
    fig.savefig(path, dpi=80)
    plt.close(fig)


def frame_title(trace, cycle, faults, ref):
    f = trace["cycles"][cycle]
    text = f"cycle {cycle}"
    if f.get("stage"):
        text += f" - {f['stage']}"
        if f.get("fold") is not None:
            text += f" (fold {f['fold']}, t={f['t']})"
    info = trace["info"]
    if info:
        text += f"\n{info['rows']}x{info['cols']} array, W={info['bits']}, GEMM M={info['m']} K={info['k']} N={info['n']}"
    if faults:
        text += "\nfault " + ", ".join(x.get("spec", "?") for x in faults)
    if ref:
        text += "   (red: differs from the fault-free run)"
    return text


class Parser(argparse.ArgumentParser):
    """argparse, but a bad option is one error line like every other bad input."""

    def error(self, message):
        raise InputError(message)


def main(argv):
    ap = Parser(description="Draw the systolic array's state cycle by cycle from an axsa trace.")
    ap.add_argument("trace", help="axsa gemm --trace FILE.json, or --vcd FILE.vcd")
    ap.add_argument("--reference", help="a fault-free trace of the same GEMM: values that differ are drawn red")
    ap.add_argument("--cycles", help="FIRST:LAST, inclusive (default: every cycle in the trace)")
    ap.add_argument("--out-dir", default=".", help="where the frames go (created if missing)")
    ap.add_argument("--prefix", default="cycle", help="frame file names: PREFIX_NNN.png")
    ap.add_argument("--gif", help="also write this animated GIF of the frames")
    ap.add_argument("--fps", type=float, default=2.0, help="GIF frames per second (default 2)")
    ap.add_argument("--mark", action="append", metavar="ROW:COL",
                    help="frame this PE in red as faulty (repeatable; the trace's own faults are marked anyway)")
    args = ap.parse_args(argv)
    if not args.fps > 0:
        raise InputError("--fps must be positive")

    try:
        import matplotlib
        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
        import matplotlib.patches as patches
    except ImportError:
        raise InputError("matplotlib is missing (Debian: python3-matplotlib; scripts/setup.sh installs it)")

    trace = read_trace(args.trace)
    ref = read_trace(args.reference) if args.reference else None
    if ref and (ref["rows"] != trace["rows"] or ref["cols"] != trace["cols"] or
                (ref["info"] and trace["info"] and
                 any(ref["info"][k] != trace["info"][k] for k in ("rows", "cols", "bits", "m", "k", "n")))):
        raise InputError(f"--reference '{args.reference}' is a trace of another array, region or GEMM")
    marks = parse_marks(args.mark) | {(int(f["row"]), int(f["col"])) for f in trace["faults"]}
    available = sorted(trace["cycles"])
    if args.cycles:
        first, last = parse_span(args.cycles, "--cycles")
        chosen = [c for c in available if first <= c <= last]
        if not chosen:
            raise InputError(f"--cycles {args.cycles}: the trace has cycles {available[0]}..{available[-1]} only")
    else:
        chosen = available
    if ref:
        missing = [c for c in chosen if c not in ref["cycles"]]
        if missing:
            raise InputError(f"--reference '{args.reference}' lacks cycle {missing[0]}")
    try:
        os.makedirs(args.out_dir, exist_ok=True)
    except OSError as e:
        raise InputError(f"--out-dir '{args.out_dir}': {e.strerror}")
    paths = []
    width = max(3, len(str(chosen[-1])))
    for c in chosen:
        path = os.path.join(args.out_dir, f"{args.prefix}_{c:0{width}d}.png")
        try:
            draw_frame(plt, patches, trace, c, ref, marks, path, frame_title(trace, c, trace["faults"], ref))
        except OSError as e:
            raise InputError(f"cannot write '{path}': {e.strerror}")
        paths.append(path)
    print(f"draw_array: {len(paths)} frames in {args.out_dir} ({os.path.basename(paths[0])} .. "
          f"{os.path.basename(paths[-1])})")
    if args.gif:
        try:
            from PIL import Image
        except ImportError:
            raise InputError("--gif needs Pillow (Debian: python3-pil; scripts/setup.sh installs it)")
        images = [Image.open(p).convert("RGB") for p in paths]
        size = (max(i.width for i in images), max(i.height for i in images))
        # A shared 64-colour palette: the frames are flat colours and text, and the GIF stays small.
        images = [(i if i.size == size else i.resize(size)).convert("P", palette=Image.ADAPTIVE, colors=64)
                  for i in images]
        try:
            images[0].save(args.gif, save_all=True, append_images=images[1:], duration=int(1000 / args.fps), loop=0)
        except OSError as e:
            raise InputError(f"cannot write '{args.gif}': {e.strerror or e}")
        print(f"draw_array: {args.gif} ({len(images)} frames)")
    return 0


if __name__ == "__main__":
    try:
        sys.exit(main(sys.argv[1:]))
    except InputError as e:
        print(f"draw_array.py: error: {e}", file=sys.stderr)
        sys.exit(2)
