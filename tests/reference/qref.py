# An independent reference for axsa's quantised LeNet-5 and its fault campaigns, in numpy.
# Written from the documents only (docs/quantization.md, docs/faults.md, docs/cycle-model.md,
# docs/campaigns.md), never from axsa's sources: the ONNX weights and the MNIST IDX files are its
# only inputs. It rebuilds the integer pipeline, the output-stationary job and fold schedule, the
# saboteur's effect on the products, the softmax of the dequantised logits and the outcome classes.
import math
import struct

import numpy as np
import onnx
from onnx import numpy_helper


# ---------------------------------------------------------------- inputs

def read_idx_images(path):
    with open(path, "rb") as f:
        magic, count, rows, cols = struct.unpack(">IIII", f.read(16))
        if magic != 0x00000803:
            raise ValueError(f"{path}: not an IDX image file (magic {magic:#x})")
        data = np.frombuffer(f.read(count * rows * cols), dtype=np.uint8)
    return data.reshape(count, rows, cols)


def load_lenet5(path):
    """The layers of the ONNX graph in order, with their float32 parameters."""
    model = onnx.load(path)
    params = {t.name: numpy_helper.to_array(t) for t in model.graph.initializer}
    layers = []
    for node in model.graph.node:
        attrs = {a.name: onnx.helper.get_attribute_value(a) for a in node.attribute}
        entry = {"op": node.op_type, "name": node.output[0]}
        if node.op_type in ("Conv", "Gemm"):
            entry["w"] = params[node.input[1]].astype(np.float32)
            entry["b"] = params[node.input[2]].astype(np.float32) if len(node.input) > 2 else None
            if node.op_type == "Conv":
                entry["pads"] = list(attrs.get("pads", [0, 0, 0, 0]))
                entry["strides"] = list(attrs.get("strides", [1, 1]))
                if attrs.get("group", 1) != 1:
                    raise ValueError("grouped convolutions are outside the reference")
            elif attrs.get("transB", 0) != 1:
                raise ValueError("the reference reads Gemm weights as [out][in] (transB = 1)")
        elif node.op_type == "MaxPool":
            entry["kernel"] = list(attrs["kernel_shape"])
            entry["strides"] = list(attrs.get("strides", attrs["kernel_shape"]))
            if any(attrs.get("pads", [0, 0, 0, 0])):
                raise ValueError("padded max-pooling is outside the reference")
        elif node.op_type not in ("Relu", "Flatten"):
            raise ValueError(f"operator {node.op_type} is outside the reference")
        layers.append(entry)
    return layers


# ---------------------------------------------------------------- shared geometry

def patches(x, kh, kw, pads, strides):
    """im2col of x[B, C, H, W]: rows (image, out row, out col), columns (channel, dy, dx)."""
    top, left, bottom, right = pads[0], pads[1], pads[2], pads[3]
    xp = np.pad(x, ((0, 0), (0, 0), (top, bottom), (left, right)))
    B, C, H, W = xp.shape
    sh, sw = strides
    oh, ow = (H - kh) // sh + 1, (W - kw) // sw + 1
    cols = np.empty((B, oh, ow, C, kh, kw), dtype=x.dtype)
    for dy in range(kh):
        for dx in range(kw):
            cols[:, :, :, :, dy, dx] = xp[:, :, dy:dy + sh * oh:sh, dx:dx + sw * ow:sw].transpose(0, 2, 3, 1)
    return cols.reshape(B * oh * ow, C * kh * kw), oh, ow


def maxpool(x, kernel, strides):
    B, C, H, W = x.shape
    kh, kw = kernel
    sh, sw = strides
    oh, ow = (H - kh) // sh + 1, (W - kw) // sw + 1
    out = None
    for dy in range(kh):
        for dx in range(kw):
            win = x[:, :, dy:dy + sh * oh:sh, dx:dx + sw * ow:sw]
            out = win.copy() if out is None else np.maximum(out, win)
    return out


# ---------------------------------------------------------------- float network

def dot_in_order(x, w, b):
    """x[P, K] * w[N, K]^T + b in float32, each sum starting at its bias and adding the products
    k = 0, 1, ... one at a time (docs/quantization.md: the calibration's summation order), so that
    the ranges come out bit-exact rather than within a BLAS-dependent rounding."""
    total = np.broadcast_to(b.astype(np.float32), (x.shape[0], w.shape[0])).copy()
    for k in range(x.shape[1]):
        total += x[:, k:k + 1] * w[:, k][None, :]
    return total


def float_forward(layers, pixels):
    """Float32 forward pass of pixels[B, 28, 28] (uint8). Returns the output of every layer."""
    x = (pixels.astype(np.float32) / np.float32(255.0))[:, None, :, :]
    outs = []
    for l in layers:
        if l["op"] == "Conv":
            w = l["w"]
            cols, oh, ow = patches(x, w.shape[2], w.shape[3], l["pads"], l["strides"])
            y = dot_in_order(cols, w.reshape(w.shape[0], -1), l["b"])
            x = y.reshape(x.shape[0], oh, ow, w.shape[0]).transpose(0, 3, 1, 2)
        elif l["op"] == "Gemm":
            x = dot_in_order(x.reshape(x.shape[0], -1), l["w"], l["b"])
        elif l["op"] == "Relu":
            x = np.maximum(x, np.float32(0))
        elif l["op"] == "MaxPool":
            x = maxpool(x, l["kernel"], l["strides"])
        elif l["op"] == "Flatten":
            x = x.reshape(x.shape[0], -1)
        outs.append(x)
    return outs


def calibration_ranges(layers, train_pixels, count, chunk=250):
    """Largest magnitude of every layer's output over the first `count` training images (float64)."""
    top = [0.0] * len(layers)
    for s in range(0, count, chunk):
        outs = float_forward(layers, train_pixels[s:min(count, s + chunk)])
        for i, o in enumerate(outs):
            top[i] = max(top[i], float(np.abs(o).max()))
    return top


# ---------------------------------------------------------------- quantisation (docs/quantization.md)

def round_half_away(x):
    x = np.asarray(x, dtype=np.float64)
    return np.where(x >= 0, np.floor(x + 0.5), -np.floor(-x + 0.5))


def quantize(layers, ranges, bits):
    """The integer network: per GEMM layer its K x N weights, biases, scales and clamp."""
    Q = (1 << (bits - 1)) - 1
    gemms = [i for i, l in enumerate(layers) if l["op"] in ("Conv", "Gemm")]
    scale = 1.0 / Q  # one input unit
    qlayers = []
    i = 0
    while i < len(layers):
        l = layers[i]
        if l["op"] not in ("Conv", "Gemm"):
            qlayers.append(dict(l))
            i += 1
            continue
        w = l["w"].astype(np.float64)
        n_out = w.shape[0]
        wmax = float(np.abs(l["w"]).max()) or 1.0
        w_unit = wmax / Q
        q_w = round_half_away(w.reshape(n_out, -1) / w_unit).astype(np.int64).T.copy()  # K x N
        acc_unit = scale * w_unit
        bias = round_half_away(l["b"].astype(np.float64) / acc_unit).astype(np.int64)
        q = {"op": l["op"], "name": l["name"], "wq": q_w, "bias": bias, "acc_unit": acc_unit,
             "kernel": l["w"].shape[2:] if l["op"] == "Conv" else None,
             "pads": l.get("pads"), "strides": l.get("strides")}
        if i == gemms[-1]:
            q["logits"] = True
            qlayers.append(q)
            i += 1
            continue
        fused = i + 1 < len(layers) and layers[i + 1]["op"] == "Relu"
        ymax = ranges[i + 1] if fused else ranges[i]
        if ymax <= 0:
            ymax = 1.0
        q["out_unit"] = ymax / Q
        q["lo"], q["hi"] = (0 if fused else -Q), Q
        q["logits"] = False
        scale = q["out_unit"]
        qlayers.append(q)
        i += 2 if fused else 1
    return qlayers


def quantize_pixels(pixels, bits):
    Q = (1 << (bits - 1)) - 1
    p = pixels.astype(np.int64)
    return ((2 * p * Q + 255) // 510)[:, None, :, :]  # round(p * Q / 255), half up


# ---------------------------------------------------------------- faults (docs/faults.md)

class Fault:
    def __init__(self, site, kind, row, col, bit, first=0, last=None):
        self.site, self.kind, self.row, self.col, self.bit = site, kind, row, col, bit
        self.first, self.last = first, last  # last None: to the end of the run

    def corrupt(self, values, bits):
        """The W-bit two's-complement weights after the fault, bit 0 = least significant."""
        mask = (1 << bits) - 1
        u = np.asarray(values, dtype=np.int64) & mask
        b = 1 << self.bit
        if self.kind == "stuck-at-0":
            u = u & ~b
        elif self.kind == "stuck-at-1":
            u = u | b
        elif self.kind == "bit-flip":
            u = u ^ b
        else:
            raise ValueError(self.kind)
        return np.where(u >= (1 << (bits - 1)), u - (1 << bits), u)


def wrap(values, acc_bits):
    if acc_bits >= 64:
        return values
    span = 1 << acc_bits
    return ((values + (span >> 1)) % span) - (span >> 1)


class Array:
    """R x C output-stationary array: fold order, fold length and which k passes PE (r, c) when."""

    def __init__(self, rows, cols, bits, acc_bits):
        self.R, self.C, self.bits, self.acc_bits = rows, cols, bits, acc_bits

    def fold_cycles(self, K):
        return K + 2 * self.R + self.C - 2

    def compute_cycles(self, K):
        return K + self.R + self.C - 2

    def folds(self, M, N):
        return -(-M // self.R) * -(-N // self.C)

    def job_cycles(self, M, K, N):
        return self.folds(M, N) * self.fold_cycles(K)

    def gemm(self, act, wq, fault=None, start=0):
        """act[M x K] * wq[K x N] on the array, the job starting `start` array cycles into the run."""
        M, K = act.shape
        N = wq.shape[1]
        out = act @ wq
        if fault is None:
            return wrap(out, self.acc_bits)
        R, C, r, c = self.R, self.C, fault.row, fault.col
        link = fault.site == "weight-link"
        end = start + self.job_cycles(M, K, N)
        last = math.inf if fault.last is None else fault.last
        if last < start or fault.first >= end:
            return wrap(out, self.acc_bits)
        rows_of = np.arange(M) % R
        hit_rows = rows_of >= r if link else rows_of == r
        hit_cols = np.arange(N) % C == c
        if fault.first <= start and last >= end - 1:
            # The whole job: every k of column n0 + c in every fold, rows r.. (link) or r of each M block.
            bad = fault.corrupt(wq, self.bits)
            delta = act[np.ix_(hit_rows, np.arange(K))] @ (bad - wq)[:, hit_cols]
            out[np.ix_(hit_rows, hit_cols)] += delta
            return wrap(out, self.acc_bits)
        n_blocks = -(-N // C)
        fold_len = self.fold_cycles(K)
        f_lo = max(0, (fault.first - start) // fold_len)
        f_hi = min(self.folds(M, N) - 1, (min(last, end - 1) - start) // fold_len)
        for fi in range(f_lo, f_hi + 1):
            m0, n0 = (fi // n_blocks) * R, (fi % n_blocks) * C
            rows_used, cols_used = min(R, M - m0), min(C, N - n0)
            if r >= rows_used or c >= cols_used:
                continue
            f_start = start + fi * fold_len
            t_lo = max(0, fault.first - f_start)
            t_hi = min(self.compute_cycles(K) - 1, last - f_start)
            k_lo, k_hi = max(0, t_lo - r - c), min(K - 1, t_hi - r - c)
            n = n0 + c
            i_end = rows_used if link else r + 1
            for k in range(k_lo, k_hi + 1):
                w = wq[k, n]
                bad = int(fault.corrupt(w, self.bits))
                if bad != w:
                    ms = np.arange(m0 + r, m0 + i_end)
                    out[ms, n] += act[ms, k] * (bad - w)
        return wrap(out, self.acc_bits)


# ---------------------------------------------------------------- integer pipeline

def run_batch(qlayers, array, x, fault=None, clock=0):
    """Integer forward of one batch x[B, 1, 28, 28]; returns (logits[B, classes], cycles used)."""
    B = x.shape[0]
    for q in qlayers:
        op = q["op"]
        if op in ("Conv", "Gemm"):
            if op == "Conv":
                kh, kw = q["kernel"]
                act, oh, ow = patches(x, kh, kw, q["pads"], q["strides"])
            else:
                act = x.reshape(B, -1)
            acc = array.gemm(act, q["wq"], fault, clock)
            clock += array.job_cycles(act.shape[0], act.shape[1], q["wq"].shape[1])
            total = acc + q["bias"]
            if q["logits"]:
                return total, clock
            factor = q["acc_unit"] / q["out_unit"]
            y = np.clip(round_half_away(total.astype(np.float64) * factor), q["lo"], q["hi"]).astype(np.int64)
            if op == "Conv":
                y = y.reshape(B, oh, ow, -1).transpose(0, 3, 1, 2)
            x = y
        elif op == "Relu":
            x = np.maximum(x, 0)
        elif op == "MaxPool":
            x = maxpool(x, q["kernel"], q["strides"])
        elif op == "Flatten":
            x = x.reshape(B, -1)
    raise ValueError("the network has no logits layer")


def run(qlayers, array, pixels, bits, batch, fault=None):
    """Logits of every image, batched `batch` per GEMM, and the run's array cycles."""
    logits, clock = [], 0
    for s in range(0, len(pixels), batch):
        l, clock = run_batch(qlayers, array, quantize_pixels(pixels[s:s + batch], bits), fault, clock)
        logits.append(l)
    return np.concatenate(logits), clock


# ---------------------------------------------------------------- outcomes (docs/faults.md)

def softmax(logits, unit):
    top = max(int(v) for v in logits)
    e = [math.exp(float(int(v) - top) * unit) for v in logits]
    s = 0.0
    for v in e:
        s += v
    return [v / s for v in e]


def classify(golden, faulty):
    """(outcome, golden label, faulty label, ratio): 0 masked, 1 tolerable, 2 critical."""
    y = golden.index(max(golden))
    y2 = faulty.index(max(faulty))
    ratio = faulty[y2] / golden[y]
    if faulty == golden:
        return 0, y, y2, ratio
    if y2 == y and ratio > 0.95:
        return 1, y, y2, ratio
    return 2, y, y2, ratio
