#!/usr/bin/env python3
# Holds axsa's fault campaigns against the independent numpy reference in qref.py
# (docs/testing.md). For each small campaign below, axsa runs it twice (--engine shortcut and
# --engine systemc) into SQLite; the reference reads only the fault list and the run's geometry
# from the database, recomputes golden and faulty logits, softmax vectors and outcome classes,
# and every (fault, image) row must agree: outcome, both labels, ratio. The reference's own
# logits and class counts are pinned, so a change on either side shows.
# Usage: test_reference_campaign.py AXSA_BIN SOURCE_DIR WORK_DIR
import hashlib
import os
import sqlite3
import subprocess
import sys

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import qref  # noqa: E402

IMAGES = 8  # test images 0..7, two batches of R = 4 on the 4 x 4 array
CALIBRATION = 1000

# name, bits, site, fault set, margin (sets the sample size), seed
CAMPAIGNS = [
    ("int8_link_stuck", 8, "weight-link", "stuck-at", 0.3, 1),
    ("int8_link_flip", 8, "weight-link", "bit-flip", 0.3, 2),
    ("int8_mult_stuck", 8, "weight-mult", "stuck-at", 0.3, 3),
    ("int16_link_stuck", 16, "weight-link", "stuck-at", 0.35, 4),
    ("int16_mult_flip", 16, "weight-mult", "bit-flip", 0.3, 5),
]

# Pinned from the reference (not from axsa): SHA-256 of every faulty logit (int64 little-endian,
# fault by fault in id order, image by image), and the counts of masked, tolerable, critical pairs.
PINNED = {
    "int8_link_stuck": ("dd2da24605d44c99fd4ed309642c5980c84c17553d3faff6e97ac6227a764d8c", [0, 84, 60]),
    "int8_link_flip": ("c40f094fb002572369b1f7bb91d1a3f4e1eebe4a653ad8c20650e44c6b29c4ff", [151, 1, 0]),
    "int8_mult_stuck": ("ec1043f5ed5df759c5e6293636641b4130b5ef52226684e6f4a9f002fa788670", [0, 120, 24]),
    "int16_link_stuck": ("40df6f60137ca113c9ede2f7b3f94d24893c00b050d9b3077567321cc6dcd254", [0, 101, 11]),
    "int16_mult_flip": ("c6a9d1eb6f3ac1eee46c313918a2d88620c33428efbd382b3e035cf36f167a6f", [152, 0, 0]),
}

failures = []


def check(cond, message):
    if not cond:
        failures.append(message)
        print("FAIL:", message, flush=True)


def axsa_campaign(axsa, source, work, name, bits, site, faults, margin, seed, engine):
    db = os.path.join(work, f"{name}_{engine}.db")
    cmd = [axsa, "campaign", "--model", os.path.join(source, "models/lenet5.onnx"),
           "--data", os.path.join(source, "data/mnist"), "--rows", "4", "--cols", "4", "--bits", str(bits),
           "--images", str(IMAGES), "--calibration", str(CALIBRATION), "--site", site, "--faults", faults,
           "--margin", str(margin), "--seed", str(seed), "--engine", engine, "--jobs", "1",
           "--out", db, "--overwrite"]
    subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL)
    return db


def read_db(path):
    con = sqlite3.connect(path)
    config = dict(con.execute("SELECT key, value FROM config"))
    golden = {img: (lab, [float(v) for v in probs.split(",")])
              for img, lab, probs in con.execute("SELECT image, label, probabilities FROM golden")}
    faults = con.execute("SELECT id, site, kind, row, col, bit, first_cycle, last_cycle FROM faults ORDER BY id").fetchall()
    results = {(f, i): (o, g, y, r) for f, i, o, g, y, r in
               con.execute("SELECT fault_id, image, outcome, golden_label, faulty_label, ratio FROM results")}
    con.close()
    return config, golden, faults, results


def close(a, b, rel=1e-12):
    return abs(a - b) <= rel * max(abs(a), abs(b), 1e-300)


def main():
    axsa, source, work = sys.argv[1], sys.argv[2], sys.argv[3]
    os.makedirs(work, exist_ok=True)
    layers = qref.load_lenet5(os.path.join(source, "models/lenet5.onnx"))
    train = qref.read_idx_images(os.path.join(source, "data/mnist/train-images-idx3-ubyte"))
    test = qref.read_idx_images(os.path.join(source, "data/mnist/t10k-images-idx3-ubyte"))[:IMAGES]
    ranges = qref.calibration_ranges(layers, train, CALIBRATION)
    computed = {}
    for name, bits, site, faults, margin, seed in CAMPAIGNS:
        q = qref.quantize(layers, ranges, bits)
        acc_bits = max(32, 2 * bits + 9)  # docs/quantization.md: K = 400 at most, ceil(log2 400) = 9
        array = qref.Array(4, 4, bits, acc_bits)
        unit = [l for l in q if l.get("logits")][0]["acc_unit"]
        golden_logits, cycles = qref.run(q, array, test, bits, 4)
        golden = [qref.softmax(v, unit) for v in golden_logits]
        dbs = [read_db(axsa_campaign(axsa, source, work, name, bits, site, faults, margin, seed, e))
               for e in ("shortcut", "systemc")]
        config, axsa_golden, fault_rows, _ = dbs[0]
        check(int(config["acc_bits"]) == acc_bits, f"{name}: accumulator {config['acc_bits']} bits, reference {acc_bits}")
        check(int(config["golden_cycles"]) == cycles,
              f"{name}: golden run of {config['golden_cycles']} array cycles, reference {cycles}")
        for img in range(IMAGES):
            lab, probs = axsa_golden[img]
            ok = lab == golden[img].index(max(golden[img])) and all(close(a, b) for a, b in zip(probs, golden[img]))
            check(ok, f"{name}: golden image {img}: axsa label {lab} probabilities {probs[:3]}..., "
                      f"reference {golden[img][:3]}...")
        digest = hashlib.sha256()
        counts = [0, 0, 0]
        for fid, fsite, kind, row, col, bit, first, last in fault_rows:
            fault = qref.Fault(fsite, kind, row, col, bit, first, last)
            faulty_logits, _ = qref.run(q, array, test, bits, 4, fault)
            digest.update(np.ascontiguousarray(faulty_logits, dtype="<i8").tobytes())
            for img in range(IMAGES):
                want = qref.classify(golden[img], qref.softmax(faulty_logits[img], unit))
                counts[want[0]] += 1
                for engine, (_, _, _, results) in zip(("shortcut", "systemc"), dbs):
                    got = results.get((fid, img))
                    ok = (got is not None and got[:3] == want[:3] and close(got[3], want[3]))
                    check(ok, f"{name} {engine}: fault {fid} ({fsite}:{kind}:{row}:{col}:{bit} cycles {first}..{last}) "
                              f"image {img}: axsa {got}, reference {want}")
        computed[name] = (digest.hexdigest(), counts)
        print(f"{name}: {len(fault_rows)} faults, masked/tolerable/critical {counts}, logits {digest.hexdigest()[:16]}",
              flush=True)
        if name in PINNED:
            check(PINNED[name] == computed[name], f"{name}: pinned {PINNED[name]}, now {computed[name]}")
        else:
            check(False, f"{name}: nothing pinned; pin {computed[name]}")
    if failures:
        print(f"{len(failures)} check(s) failed", flush=True)
        return 1
    print("all campaigns agree with the reference")
    return 0


if __name__ == "__main__":
    sys.exit(main())
