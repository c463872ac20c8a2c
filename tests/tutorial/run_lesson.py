#!/usr/bin/python3
"""Runs every command of a tutorial page (docs/tutorial/*.md) and checks the output the page shows.

What runs: each ```sh fenced block, in page order, as one bash script (set -e, so the first failing
command fails the block), in a work directory that looks like the top of a checkout after
scripts/demo.sh: build/testbench/axsa is the build's axsa, and scripts/, models/, docs/, data/ point
into the source tree. A block preceded by the line <!-- no-run --> is shown to readers but not run
(it needs a display, or rebuilds the project).

What is checked: a ```text block directly after a ```sh block (blank lines between are allowed)
holds output lines the page promises. Each non-empty line must appear in the block's combined
stdout and stderr, in order; "..." inside an expected line stands for any text, so that timings and
paths can be left out. Lines the page does not show are not checked.

Usage: run_lesson.py PAGE --axsa BIN --source-dir DIR --work-dir DIR
Exit 0 when every block ran and matched, 1 otherwise (the failing block, its output and the first
missing line are printed), 2 for bad arguments.
"""
import argparse
import os
import re
import shutil
import subprocess
import sys
import time


def blocks(text):
    """(kind, body, runnable, line) for every fenced block of the page."""
    out = []
    lines = text.splitlines()
    i = 0
    while i < len(lines):
        m = re.match(r"^```(\w*)\s*$", lines[i])
        if not m:
            i += 1
            continue
        kind, start = m.group(1), i
        prev = next((lines[j].strip() for j in range(i - 1, -1, -1) if lines[j].strip()), "")
        body = []
        i += 1
        while i < len(lines) and not lines[i].startswith("```"):
            body.append(lines[i])
            i += 1
        if i == len(lines):
            raise SystemExit(f"unterminated ``` block starting at line {start + 1}")
        out.append({"kind": kind, "body": "\n".join(body), "run": prev != "<!-- no-run -->", "line": start + 1,
                    "end": i + 1})
        i += 1
    return out


def expected_after(all_blocks, index, text_lines):
    """The ```text block right after block `index`, if nothing but blank lines separates them."""
    if index + 1 >= len(all_blocks):
        return None
    nxt = all_blocks[index + 1]
    between = text_lines[all_blocks[index]["end"]:nxt["line"] - 1]
    if nxt["kind"] == "text" and all(not l.strip() for l in between):
        return [l.rstrip() for l in nxt["body"].splitlines() if l.strip()]
    return None


def find_in_order(expected, actual):
    """The first expected line not found (in order), or None."""
    pos = 0
    for line in expected:
        pattern = "^" + ".*".join(re.escape(p) for p in line.split("...")) + r"\s*$"
        rx = re.compile(pattern)
        while pos < len(actual) and not rx.search(actual[pos].rstrip()):
            pos += 1
        if pos == len(actual):
            return line
        pos += 1
    return None


def prepare(work, axsa, source):
    if os.path.isdir(work):
        shutil.rmtree(work)
    os.makedirs(os.path.join(work, "build", "testbench"))
    os.symlink(os.path.abspath(axsa), os.path.join(work, "build", "testbench", "axsa"))
    for name in ("scripts", "models", "docs", "data", "hw", "rtl"):
        target = os.path.join(source, name)
        if not os.path.exists(target):
            raise SystemExit(f"run_lesson.py: error: {target} is missing (data/ comes from scripts/setup.sh)")
        os.symlink(os.path.abspath(target), os.path.join(work, name))


def main():
    ap = argparse.ArgumentParser(description="Run a tutorial page's commands and check its shown output.")
    ap.add_argument("page")
    ap.add_argument("--axsa", required=True)
    ap.add_argument("--source-dir", required=True)
    ap.add_argument("--work-dir", required=True)
    args = ap.parse_args()
    with open(args.page) as f:
        text = f.read()
    text_lines = text.splitlines()
    all_blocks = blocks(text)
    prepare(args.work_dir, args.axsa, args.source_dir)
    ran = 0
    checked = 0
    t0 = time.time()
    for i, b in enumerate(all_blocks):
        if b["kind"] != "sh" or not b["run"]:
            continue
        script = "set -euo pipefail\n" + b["body"] + "\n"
        start = time.time()
        r = subprocess.run(["bash", "-c", script], cwd=args.work_dir, stdout=subprocess.PIPE,
                           stderr=subprocess.STDOUT, text=True)
        ran += 1
        where = f"{args.page}:{b['line']}"
        print(f"--- {where} ({time.time() - start:.1f} s)\n{b['body']}")
        if r.returncode != 0:
            print(r.stdout)
            print(f"FAIL {where}: exit status {r.returncode}")
            return 1
        expected = expected_after(all_blocks, i, text_lines)
        if expected is not None:
            checked += 1
            missing = find_in_order(expected, r.stdout.splitlines())
            if missing is not None:
                print(r.stdout)
                print(f"FAIL {where}: the output lacks (in order) the line the page shows:\n  {missing}")
                return 1
    if ran == 0:
        print(f"FAIL {args.page}: no ```sh block to run")
        return 1
    print(f"OK {args.page}: {ran} blocks ran, {checked} outputs checked, {time.time() - t0:.1f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
