#!/usr/bin/python3
"""Plots of one fault-injection campaign database (axsa campaign --out, docs/campaigns.md).

Writes two PNG files next to the output prefix:
  PREFIX_pe_critical.png  share of critical outcomes per PE, as an R x C heatmap (row 0 on top,
                          where the weights enter the array)
  PREFIX_bits.png         masked / tolerable / critical shares of the (fault, image) pairs per
                          weight bit (crash and hang too when they occur)

Run with Debian's /usr/bin/python3 (numpy, matplotlib); reads the database with the sqlite3
module, read-only, so it may run while the campaign is still writing.
"""
import argparse
import os
import sqlite3
import sys
import urllib.parse

OUTCOMES = ["masked", "tolerable", "critical", "crash", "hang"]
COLOURS = {"masked": "#4c72b0", "tolerable": "#dd8452", "critical": "#c44e52", "crash": "#8172b3", "hang": "#937860"}
FORMAT = "axsa-campaign-1"


class CampaignError(Exception):
    pass


def open_campaign(path):
    if not os.path.isfile(path):
        raise CampaignError(f"cannot open {path}: no such file")
    if not os.access(path, os.R_OK):
        raise CampaignError(f"cannot open {path}: permission denied")
    uri = "file:" + urllib.parse.quote(os.path.abspath(path)) + "?mode=ro"
    try:
        db = sqlite3.connect(uri, uri=True, timeout=10)
        rows = db.execute("SELECT key, value FROM config").fetchall()
    except sqlite3.DatabaseError as e:
        raise CampaignError(f"{path} is not an axsa campaign database ({e})") from None
    config = dict(rows)
    if config.get("format") != FORMAT:
        raise CampaignError(f"{path} is not an axsa campaign database (no '{FORMAT}' format entry)")
    return db, config


def config_int(config, key, low, high):
    value = config.get(key)
    if value is None:
        raise CampaignError(f"campaign config lacks the key '{key}'")
    text = str(value).strip()
    if not text.isdigit() or not low <= int(text) <= high:
        raise CampaignError(f"campaign config: {key} = '{value}' is not an integer in {low}..{high}")
    return int(text)


def load(db, config):
    """Pair counts per (row, col, outcome) and per (bit, outcome), and the progress."""
    rows, cols = config_int(config, "rows", 1, 4096), config_int(config, "cols", 1, 4096)
    bits = config_int(config, "bits", 1, 64)
    import numpy as np

    pe = np.zeros((rows, cols, len(OUTCOMES)), dtype=np.int64)
    per_bit = np.zeros((bits, len(OUTCOMES)), dtype=np.int64)
    query = ("SELECT f.row, f.col, f.bit, r.outcome, COUNT(*) FROM results r JOIN faults f ON f.id = r.fault_id "
             "GROUP BY f.row, f.col, f.bit, r.outcome")
    for row, col, bit, outcome, count in db.execute(query):
        if not all(isinstance(v, int) for v in (row, col, bit)):
            raise CampaignError(f"faults table holds a fault at row {row!r}, col {col!r}, bit {bit!r} "
                                "(expected integers)")
        if not isinstance(outcome, int) or not 0 <= outcome < len(OUTCOMES):
            raise CampaignError(f"results table holds outcome code {outcome!r} (expected 0..{len(OUTCOMES) - 1})")
        if 0 <= row < rows and 0 <= col < cols:
            pe[row, col, outcome] += count
        if 0 <= bit < bits:
            per_bit[bit, outcome] += count
    faults = db.execute("SELECT COUNT(*) FROM faults").fetchone()[0]
    done = db.execute("SELECT COUNT(DISTINCT fault_id) FROM results").fetchone()[0]
    return pe, per_bit, faults, done


def describe(config, faults, done):
    text = (f"INT{config['bits']}, {config['mult']}, {config['rows']}x{config['cols']} array, "
            f"{config['site']} {config['fault_types']}\n")
    if faults == 0 or done < faults:
        return text + f"PARTIAL: {done} of {faults} faults done, {config['images']} images each"
    return text + f"{done} faults x {config['images']} images"


def plot_pe(pe, config, subtitle, path):
    import numpy as np
    import matplotlib.pyplot as plt

    rows, cols = pe.shape[0], pe.shape[1]
    pairs = pe.sum(axis=2)
    with np.errstate(invalid="ignore", divide="ignore"):
        share = np.where(pairs > 0, 100.0 * pe[:, :, OUTCOMES.index("critical")] / np.maximum(pairs, 1), np.nan)
    size = min(11.0, max(5.5, 0.3 * max(rows, cols) + 2.5))
    fig, ax = plt.subplots(figsize=(size + 1.6, size))
    cmap = plt.get_cmap("magma_r").copy()
    cmap.set_bad("#d9d9d9")
    top = np.nanmax(share) if np.isfinite(share).any() else 1.0
    image = ax.imshow(np.ma.masked_invalid(share), cmap=cmap, vmin=0, vmax=max(top, 1e-9), interpolation="nearest")
    bar = fig.colorbar(image, ax=ax, fraction=0.046, pad=0.04)
    bar.set_label("critical (fault, image) pairs at the PE (%)")
    step = 1 if max(rows, cols) <= 16 else 4
    ax.set_xticks(range(0, cols, step))
    ax.set_yticks(range(0, rows, step))
    ax.set_xlabel("PE column")
    ax.set_ylabel("PE row (weights enter at row 0)")
    ax.set_title("Critical outcomes per PE\n" + subtitle, fontsize=10)
    if rows * cols <= 100:  # small arrays: the numbers fit in the cells
        for r in range(rows):
            for c in range(cols):
                if np.isfinite(share[r, c]):
                    ax.text(c, r, f"{share[r, c]:.1f}", ha="center", va="center", fontsize=8,
                            color="white" if share[r, c] > 0.6 * top else "black")
    if np.isnan(share).any():
        ax.text(1.0, -0.08 if rows > 8 else -0.12, "grey: no fault sampled on this PE", transform=ax.transAxes,
                ha="right", va="top", fontsize=8, color="#555555")
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def plot_bits(per_bit, subtitle, path):
    import numpy as np
    import matplotlib.pyplot as plt
    import matplotlib.ticker

    bits = per_bit.shape[0]
    pairs = per_bit.sum(axis=1)
    shown = [o for o in OUTCOMES if o in ("masked", "tolerable", "critical") or per_bit[:, OUTCOMES.index(o)].sum() > 0]
    shares = {o: np.where(pairs > 0, 100.0 * per_bit[:, OUTCOMES.index(o)] / np.maximum(pairs, 1), np.nan) for o in shown}
    fig, ax = plt.subplots(figsize=(max(7.0, 0.55 * bits * len(shown) / 2.5 + 3), 4.8))
    width = 0.8 / len(shown)
    x = np.arange(bits)
    for i, o in enumerate(shown):
        bars = ax.bar(x + (i - (len(shown) - 1) / 2) * width, np.nan_to_num(shares[o]), width, label=o.capitalize(),
                      color=COLOURS[o])
        if o == "critical":  # the number the plot is about
            ax.bar_label(bars, labels=[f"{v:.2g}" if np.isfinite(v) and v > 0 else "" for v in shares[o]],
                         fontsize=7, padding=1, color=COLOURS[o])
    # Masked sits near 100 % while critical shares may be fractions of a percent: a log axis keeps
    # every class readable.
    positive = [v for o in shown for v in shares[o] if np.isfinite(v) and v > 0]
    if positive and min(positive) < 2:
        ax.set_yscale("log")
        ax.set_ylim(max(min(positive) / 2, 1e-3), 150)
        ax.yaxis.set_major_formatter(matplotlib.ticker.FuncFormatter(lambda v, _: f"{v:g}"))
    else:
        ax.set_ylim(0, 105)
    ax.set_xticks(x)
    ax.set_xticklabels([f"{b}\n(MSB)" if b == bits - 1 and bits > 1 else str(b) for b in range(bits)])
    ax.set_xlabel("weight bit (0 = LSB)")
    ax.set_ylabel("share of (fault, image) pairs (%)")
    ax.set_title("Outcome per faulty bit\n" + subtitle, fontsize=10)
    ax.grid(axis="y", which="major", alpha=0.3)
    ax.legend(loc="upper center", bbox_to_anchor=(0.5, -0.2), ncol=len(shown), frameon=False)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def main(argv):
    parser = argparse.ArgumentParser(
        description="Per-PE vulnerability heatmap and per-bit outcome bars of an axsa campaign database.",
        epilog="Writes PREFIX_pe_critical.png and PREFIX_bits.png; PREFIX defaults to the database path "
               "without its extension.")
    parser.add_argument("database", help="campaign database (axsa campaign --out FILE)")
    parser.add_argument("--out", metavar="PREFIX", help="output prefix, e.g. plots/int8_trunc12_k6")
    args = parser.parse_args(argv)
    prefix = args.out or os.path.splitext(args.database)[0]
    try:
        db, config = open_campaign(args.database)
        try:
            pe, per_bit, faults, done = load(db, config)
            subtitle = describe(config, faults, done)
        except KeyError as e:
            raise CampaignError(f"{args.database}: campaign config lacks the key {e}") from None
        except (CampaignError, sqlite3.Error) as e:
            raise CampaignError(f"{args.database}: {e}") from None
    except CampaignError as e:
        return fail(str(e))
    import matplotlib

    matplotlib.use("Agg")
    directory = os.path.dirname(prefix)
    if directory:
        try:
            os.makedirs(directory, exist_ok=True)
        except OSError as e:
            blocker = directory
            while blocker and not os.path.exists(blocker) and os.path.dirname(blocker) != blocker:
                blocker = os.path.dirname(blocker)
            if blocker and os.path.exists(blocker) and not os.path.isdir(blocker):
                return fail(f"cannot write {prefix}_pe_critical.png: {blocker} is not a folder")
            return fail(f"cannot create the output folder {directory}: {e.strerror or e}")
    outputs = [prefix + "_pe_critical.png", prefix + "_bits.png"]
    for path, draw in zip(outputs, (lambda p: plot_pe(pe, config, subtitle, p), lambda p: plot_bits(per_bit, subtitle, p))):
        try:
            draw(path)
        except OSError as e:
            return fail(f"cannot write {path}: {e.strerror or e}")
    for path in outputs:
        print(path)
    return 0


def fail(message):
    print(f"plot_campaign.py: error: {message}", file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
