#!/usr/bin/python3
"""Evaluate models/lenet5.onnx on the MNIST test set, independently of torch.

There is no onnxruntime here, so this script carries a small numpy interpreter
for exactly the op types the LeNet-5 export may contain (Conv, Relu, MaxPool,
Flatten, Reshape, Gemm, MatMul, Add, plus Constant). It walks the ONNX graph
node by node, so what is verified is the exported file itself, not the torch
module that produced it.

The accuracy is compared with the one recorded in models/lenet5.json (and the
file's sha256 with the one recorded there); the exit status is non-zero if they
disagree.

Use /usr/bin/python3 (Debian's python3-onnx and python3-numpy).
"""

import argparse
import json
import os
import sys
import time

# Keep numpy's BLAS to one thread: the machine is shared with a compile job.
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
os.environ.setdefault("OMP_NUM_THREADS", "1")

import numpy as np  # noqa: E402

SCRIPT_DIR = os.path.dirname(os.path.abspath(__file__))
REPO_ROOT = os.path.dirname(SCRIPT_DIR)
sys.dont_write_bytecode = True  # no __pycache__ in scripts/
sys.path.insert(0, SCRIPT_DIR)
from train_lenet5 import MNIST_FILES, load_mnist_split, sha256_file  # noqa: E402  (numpy-only helpers)


# --------------------------------------------------------------------------
# numpy implementations of the ONNX ops (NCHW, float32)
# --------------------------------------------------------------------------
def _attrs(node):
    import onnx
    return {a.name: onnx.helper.get_attribute_value(a) for a in node.attribute}


def _windows(x, kernel, strides, dilations):
    """View of x [N,C,H,W] as [N,C,OH,OW,KH,KW] sliding windows."""
    (kh, kw), (sh, sw), (dh, dw) = kernel, strides, dilations
    span_h, span_w = (kh - 1) * dh + 1, (kw - 1) * dw + 1
    win = np.lib.stride_tricks.sliding_window_view(x, (span_h, span_w), axis=(2, 3))
    return win[:, :, ::sh, ::sw, ::dh, ::dw]


def _pads(a, ndim=2):
    pads = list(a.get("pads", [0] * (2 * ndim)))
    if a.get("auto_pad", b"NOTSET") not in (b"NOTSET", "NOTSET"):
        raise NotImplementedError("auto_pad is not supported")
    return pads  # [top, left, bottom, right]


def op_conv(node, x, w, b=None):
    a = _attrs(node)
    if a.get("group", 1) != 1:
        raise NotImplementedError("Conv group != 1")
    if x.ndim != 4:
        raise NotImplementedError("only 2-D Conv is supported")
    kernel = tuple(a.get("kernel_shape", w.shape[2:]))
    if kernel != tuple(w.shape[2:]):
        raise ValueError("Conv kernel_shape %s does not match weight %s" % (kernel, w.shape))
    t, l, bo, r = _pads(a)
    x = np.pad(x, ((0, 0), (0, 0), (t, bo), (l, r)))
    win = _windows(x, kernel, a.get("strides", [1, 1]), a.get("dilations", [1, 1]))
    # [N,C,OH,OW,KH,KW] x [M,C,KH,KW] -> [N,OH,OW,M]
    y = np.tensordot(win, w, axes=([1, 4, 5], [1, 2, 3])).transpose(0, 3, 1, 2)
    if b is not None:
        y = y + b.reshape(1, -1, 1, 1)
    return np.ascontiguousarray(y, dtype=np.float32)


def op_maxpool(node, x):
    a = _attrs(node)
    if a.get("ceil_mode", 0) != 0:
        raise NotImplementedError("MaxPool ceil_mode=1")
    if len(node.output) > 1 and node.output[1]:
        raise NotImplementedError("MaxPool Indices output")
    t, l, bo, r = _pads(a)
    x = np.pad(x, ((0, 0), (0, 0), (t, bo), (l, r)), constant_values=-np.inf)
    kernel = a["kernel_shape"]
    win = _windows(x, kernel, a.get("strides", [1, 1]), a.get("dilations", [1, 1]))
    return win.max(axis=(4, 5))


def op_gemm(node, a_, b_, c=None):
    a = _attrs(node)
    if a.get("transA", 0):
        a_ = a_.T
    if a.get("transB", 0):
        b_ = b_.T
    y = a.get("alpha", 1.0) * (a_ @ b_)
    if c is not None:
        y = y + a.get("beta", 1.0) * c
    return y.astype(np.float32)


def op_flatten(node, x):
    axis = _attrs(node).get("axis", 1)
    if axis < 0:
        axis += x.ndim
    return x.reshape(int(np.prod(x.shape[:axis])), -1)


def op_reshape(node, x, shape):
    if _attrs(node).get("allowzero", 0):
        raise NotImplementedError("Reshape allowzero=1")
    shape = [x.shape[i] if s == 0 else int(s) for i, s in enumerate(shape)]
    return x.reshape(shape)


def op_constant(node):
    from onnx import numpy_helper
    a = _attrs(node)
    if "value" not in a:
        raise NotImplementedError("Constant without a tensor 'value'")
    return numpy_helper.to_array(a["value"])


OPS = {
    "Conv": op_conv,
    "Relu": lambda node, x: np.maximum(x, np.float32(0)),
    "MaxPool": op_maxpool,
    "Flatten": op_flatten,
    "Reshape": op_reshape,
    "Gemm": op_gemm,
    "MatMul": lambda node, a, b: (a @ b).astype(np.float32),
    "Add": lambda node, a, b: (a + b).astype(np.float32),
    "Constant": op_constant,
}


class OnnxNumpyModel:
    def __init__(self, path):
        import onnx
        from onnx import numpy_helper

        self.model = onnx.load(path)
        onnx.checker.check_model(self.model)
        g = self.model.graph
        unknown = sorted({n.op_type for n in g.node} - set(OPS))
        if unknown:
            raise NotImplementedError("op types not supported by this evaluator: %s" % unknown)
        for n in g.node:
            if n.domain not in ("", "ai.onnx"):
                raise NotImplementedError("node %s is in domain %r" % (n.name, n.domain))
        self.inits = {t.name: numpy_helper.to_array(t) for t in g.initializer}
        self.input_names = [i.name for i in g.input if i.name not in self.inits]
        self.output_names = [o.name for o in g.output]
        if len(self.input_names) != 1 or len(self.output_names) != 1:
            raise ValueError("expected one graph input and one output, got %s -> %s"
                             % (self.input_names, self.output_names))
        self.nodes = list(g.node)  # ONNX requires topological order

    def __call__(self, x):
        env = dict(self.inits)
        env[self.input_names[0]] = x.astype(np.float32, copy=False)
        for n in self.nodes:
            args = [env[i] if i else None for i in n.input]
            outs = OPS[n.op_type](n, *args)
            env[n.output[0]] = outs
        return env[self.output_names[0]]


def torch_reference(model, images, batch):
    """Rebuild LeNet-5 in torch from the ONNX initializers (by name) and run it."""
    import torch
    from train_lenet5 import build_model

    torch.set_num_threads(1)
    net = build_model(torch)
    state = net.state_dict()
    missing = set(state) - set(model.inits)
    if missing:
        raise KeyError("initializers missing for %s" % sorted(missing))
    net.load_state_dict({k: torch.from_numpy(model.inits[k].copy()) for k in state})
    net.eval()
    outs = []
    with torch.no_grad():
        for i in range(0, images.shape[0], batch):
            outs.append(net(torch.from_numpy(images[i:i + batch])).numpy())
    return np.concatenate(outs)


class BadInput(Exception):
    """An option, file or model the script cannot use: one line on stderr, exit status 2."""


def one_line(e):
    """An exception's text on one line (onnx.checker messages span several)."""
    text = " ".join(str(e).split())
    return text if len(text) <= 300 else text[:297] + "..."


def load_model(path):
    if not os.path.isfile(path):
        raise BadInput("cannot open %s: %s" % (path, "not a file" if os.path.exists(path) else "no such file"))
    try:
        return OnnxNumpyModel(path)
    except OSError as e:
        raise BadInput("cannot read %s: %s" % (path, e.strerror or one_line(e))) from None
    except Exception as e:  # protobuf DecodeError, onnx ValidationError, unsupported ops, ...
        raise BadInput("%s is not a LeNet-5 ONNX model this evaluator can run (%s: %s)"
                       % (path, type(e).__name__, one_line(e))) from None


def load_meta(path):
    try:
        with open(path) as f:
            meta = json.load(f)
    except OSError as e:
        raise BadInput("cannot read %s: %s" % (path, e.strerror or one_line(e))) from None
    except ValueError as e:  # JSONDecodeError, UnicodeDecodeError
        raise BadInput("%s is not valid JSON (%s)" % (path, one_line(e))) from None
    if not isinstance(meta, dict):
        raise BadInput("%s is not a JSON object (expected the metadata written by train_lenet5.py)" % path)
    for key, kind in (("test_correct", int), ("test_total", int), ("float_test_accuracy_percent", (int, float))):
        if not isinstance(meta.get(key), kind) or isinstance(meta.get(key), bool):
            raise BadInput("%s lacks a numeric '%s' (expected the metadata written by train_lenet5.py)"
                           % (path, key))
    return meta


def load_test_set(data_dir, default_dir):
    if not os.path.isdir(data_dir):
        raise BadInput("--data-dir %s: no such folder" % data_dir)
    for name in MNIST_FILES["test"][:2]:
        path = os.path.join(data_dir, name)
        if not os.path.isfile(path):
            hint = "; run scripts/fetch_mnist.sh first" if os.path.abspath(data_dir) == default_dir else ""
            raise BadInput("%s not found%s" % (path, hint))
    try:
        return load_mnist_split(data_dir, "test")
    except OSError as e:
        raise BadInput("cannot read %s: %s" % (e.filename or data_dir, e.strerror or one_line(e))) from None
    except ValueError as e:
        raise BadInput(one_line(e)) from None


class OneLineParser(argparse.ArgumentParser):
    def error(self, message):
        self.exit(2, "%s: error: %s\n" % (self.prog, message))


def main(argv=None):
    p = OneLineParser(
        description="Evaluate an exported LeNet-5 ONNX file on the MNIST test set with a "
                    "numpy ONNX interpreter and compare with the accuracy in its JSON.",
        formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    default_data = os.path.join(REPO_ROOT, "data", "mnist")
    p.add_argument("--onnx", default=os.path.join(REPO_ROOT, "models", "lenet5.onnx"))
    p.add_argument("--json", default=os.path.join(REPO_ROOT, "models", "lenet5.json"),
                   help="metadata written by train_lenet5.py ('' to skip the comparison)")
    p.add_argument("--data-dir", default=default_data)
    p.add_argument("--batch", type=int, default=500, help="images per forward pass (>= 1)")
    p.add_argument("--max-diff", type=int, default=0,
                   help="allowed difference in correctly classified images vs the JSON (>= 0)")
    p.add_argument("--compare-torch", action="store_true",
                   help="also rebuild the net in torch from the initializers and compare logits")
    args = p.parse_args(argv)
    if args.batch < 1:
        p.error("--batch must be at least 1 (got %d)" % args.batch)
    if args.max_diff < 0:
        p.error("--max-diff must not be negative (got %d)" % args.max_diff)
    try:
        return evaluate(args, default_data)
    except BadInput as e:
        print("%s: error: %s" % (p.prog, e), file=sys.stderr)
        return 2


def evaluate(args, default_data):
    # Every input is checked before the evaluation starts.
    meta = load_meta(args.json) if args.json else None
    model = load_model(args.onnx)
    images, labels = load_test_set(args.data_dir, default_data)
    x = (images.astype(np.float32) / 255.0)[:, None, :, :]  # pixel/255, no normalisation

    print("%s: %d nodes (%s)" % (args.onnx, len(model.nodes),
                                 ", ".join("%s(%s)" % (n.op_type, n.name) for n in model.nodes)))

    t0 = time.time()
    try:
        logits = np.concatenate([model(x[i:i + args.batch]) for i in range(0, x.shape[0], args.batch)])
    except (ValueError, KeyError, IndexError, TypeError, NotImplementedError) as e:
        raise BadInput("%s cannot be evaluated on [N,1,28,28] MNIST images (%s: %s)"
                       % (args.onnx, type(e).__name__, one_line(e))) from None
    if logits.shape != (x.shape[0], 10):
        raise BadInput("%s: logits have shape %s, expected (%d, 10)" % (args.onnx, logits.shape, x.shape[0]))
    pred = logits.argmax(axis=1)
    correct = int((pred == labels).sum())
    acc = correct / labels.shape[0]
    print("numpy ONNX evaluation: %d/%d correct = %.2f%% test accuracy (%.1f s)"
          % (correct, labels.shape[0], 100 * acc, time.time() - t0))

    status = 0
    if args.compare_torch:
        try:
            ref = torch_reference(model, x, args.batch)
        except (KeyError, RuntimeError, ValueError) as e:
            raise BadInput("%s: the torch rebuild does not fit its initializers (%s)"
                           % (args.onnx, one_line(e))) from None
        agree = int((ref.argmax(axis=1) == pred).sum())
        print("torch rebuild from initializers: max |logit diff| %.3g, argmax agrees on %d/%d"
              % (float(np.abs(ref - logits).max()), agree, labels.shape[0]))

    if meta is not None:
        ref_correct = meta["test_correct"]
        sha = sha256_file(args.onnx)
        print("%s: float test accuracy %.2f%% (%d/%d)"
              % (args.json, meta["float_test_accuracy_percent"], ref_correct, meta["test_total"]))
        if sha != meta.get("onnx_sha256"):
            print("error: sha256 of %s (%s) differs from the one in %s (%s)"
                  % (args.onnx, sha, args.json, meta.get("onnx_sha256")), file=sys.stderr)
            status = 1
        if abs(correct - ref_correct) > args.max_diff:
            print("error: ONNX accuracy %d/%d differs from the JSON's %d/%d"
                  % (correct, labels.shape[0], ref_correct, meta["test_total"]), file=sys.stderr)
            status = 1
        if status == 0:
            print("OK: the ONNX file reproduces the recorded accuracy (sha256 matches)")
    return status


if __name__ == "__main__":
    sys.exit(main())
