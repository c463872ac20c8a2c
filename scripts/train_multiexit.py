#!/usr/bin/python3
"""Train a multi-exit CNN (three internal exits + the final one) and export it to ONNX.

Architectures (--arch), inputs pixel/255 in [0, 1] with no mean/std normalisation:

  lenet5  trunk: conv 6@5x5 pad 2 -> ReLU -> maxpool 2 -> conv 16@5x5 -> ReLU -> maxpool 2
                 -> flatten(400) -> fc 120 -> ReLU -> fc 84 -> ReLU -> fc 10        = final
          exit1: after maxpool 1  [6,14,14]: flatten(1176) -> fc 10
          exit2: after maxpool 2  [16,5,5]:  flatten(400)  -> fc 10
          exit3: after fc 120's ReLU [120]:  fc 10
  vgg     trunk: three blocks of two 3x3 convolutions (pad 1), each conv followed by
                 BatchNorm (training only, folded into the conv at export) and ReLU, and a
                 maxpool 2 per block; widths c1, c2, c3 (--widths, default 8,16,32):
                 [c1,c1] pool -> [c2,c2] pool -> [c3,c3] pool -> flatten(9*c3) -> fc H
                 -> ReLU -> fc 10                                                    = final
          exit1: after block 1's pool [c1,14,14]: avgpool 2 -> flatten(49*c1) -> fc 10
          exit2: after block 2's pool [c2,7,7]:   flatten(49*c2) -> fc 10
          exit3: after block 3's pool [c3,3,3]:   flatten(9*c3)  -> fc 10

Loss: the weighted sum  0.25*CE(exit1) + 0.5*CE(exit2) + 0.75*CE(exit3) + 1.0*CE(final)
(--loss-weights). The final exit keeps weight 1 so its head sees the gradient scale of
single-exit training; shallower exits get less because their heads are weak linear
classifiers whose large loss would otherwise pull the shared early layers towards
features that suit a linear read-out at that depth rather than the deeper layers.

Optimiser: SGD with momentum, weight decay, a linear warm-up of one epoch and a
per-iteration cosine decay to zero. Fashion-MNIST uses cheap augmentation (random
horizontal flip and/or a random shift of up to 2 pixels, i.e. a 28x28 crop of the image
zero-padded by 2), MNIST none by default (--augment).

ONNX contract (checked after export; the C++ importer relies on it):
  opset 13; one input "input" [N,1,28,28] float (dynamic N); exactly four outputs,
  shallowest first: exit1, exit2, exit3, final, each [N,10] raw logits (no Softmax);
  ops only Conv, Relu, MaxPool, AveragePool, Flatten, Reshape (as flatten), Gemm,
  MatMul+Add; a single trunk chain from input to final with three single-chain heads
  branching off after a ReLU or a pooling node; no merges; weights stored inside the file.
The exported file is also run by a small numpy ONNX interpreter over the whole test set
and must agree with the torch model.

Outputs in --out-dir, stem <arch>_exits_<dataset>: .onnx, .json (metadata, per-exit
accuracies, history) and .log (this script's stdout).

Use /usr/bin/python3 (Debian's python3-torch, python3-onnx, python3-numpy).
Example:  nice -n 5 scripts/train_multiexit.py --arch lenet5 --dataset mnist
"""

import argparse
import copy
import datetime
import hashlib
import json
import math
import os
import sys
import time

# Keep numpy's BLAS to one thread, and let idle OpenMP workers sleep instead of spinning:
# on a machine shared with compile jobs, spinning workers make 2 torch threads slower than 1.
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
os.environ.setdefault("OMP_NUM_THREADS", "1")
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")

import numpy as np  # noqa: E402

SCRIPT_DIR = os.path.dirname(os.path.abspath(__file__))
REPO_ROOT = os.path.dirname(SCRIPT_DIR)
sys.dont_write_bytecode = True  # no __pycache__ in scripts/
sys.path.insert(0, SCRIPT_DIR)
# numpy-only helpers of this repository: IDX reading and the numpy ONNX op implementations
from train_lenet5 import MNIST_FILES, load_mnist_split, sha256_file  # noqa: E402
from eval_lenet5_onnx import OPS as NUMPY_OPS, _attrs, _pads, _windows  # noqa: E402

EXIT_NAMES = ["exit1", "exit2", "exit3", "final"]
ALLOWED_OPS = {"Conv", "Relu", "MaxPool", "AveragePool", "Flatten", "Reshape", "Gemm", "MatMul", "Add"}
BRANCH_OPS = {"Relu", "MaxPool", "AveragePool"}

DATASETS = {
    "mnist": {"title": "MNIST", "dir": "mnist", "fetch": "scripts/fetch_mnist.sh"},
    "fashion": {"title": "Fashion-MNIST", "dir": "fashion-mnist", "fetch": "scripts/fetch_fashion_mnist.sh"},
}

# Float accuracy of the final exit on the 10k test set that each model must reach.
TARGETS = {("lenet5", "mnist"): 0.989, ("vgg", "mnist"): 0.993,
           ("lenet5", "fashion"): 0.89, ("vgg", "fashion"): 0.91}

# Defaults per (arch, dataset): epochs and augmentation.
DEFAULT_EPOCHS = {("lenet5", "mnist"): 20, ("vgg", "mnist"): 12,
                  ("lenet5", "fashion"): 30, ("vgg", "fashion"): 20}
DEFAULT_AUGMENT = {"mnist": "none", "fashion": "flip-shift"}


class BadInput(Exception):
    """An option or file the script cannot use: one line on stderr, exit status 2."""


class OneLineParser(argparse.ArgumentParser):
    def error(self, message):
        self.exit(2, "%s: error: %s\n" % (self.prog, message))


class Log:
    """Prints to stdout and keeps a copy for <stem>.log."""

    def __init__(self):
        self.lines = []

    def __call__(self, text=""):
        print(text, flush=True)
        self.lines.append(text)


# --------------------------------------------------------------------------
# Data
# --------------------------------------------------------------------------
def load_dataset(data_dir, dataset):
    if not os.path.isdir(data_dir):
        raise BadInput("--data-dir %s: no such folder (run %s first)" % (data_dir, DATASETS[dataset]["fetch"]))
    for split in ("train", "test"):
        for name in MNIST_FILES[split][:2]:
            path = os.path.join(data_dir, name)
            if not os.path.isfile(path):
                raise BadInput("%s not found (run %s first)" % (path, DATASETS[dataset]["fetch"]))
    try:
        return load_mnist_split(data_dir, "train"), load_mnist_split(data_dir, "test")
    except OSError as e:
        raise BadInput("cannot read %s: %s" % (e.filename or data_dir, e.strerror or e)) from None
    except ValueError as e:
        raise BadInput(str(e)) from None


def augment_batch(torch, x, mode, gen):
    """Random horizontal flip and/or random shift by up to 2 pixels (zero fill), per image."""
    n = x.shape[0]
    if mode in ("flip", "flip-shift"):
        flip = torch.rand(n, generator=gen) < 0.5
        x = torch.where(flip.view(n, 1, 1, 1), x.flip(3), x)
    if mode in ("shift", "flip-shift"):
        pad = 2
        xp = torch.nn.functional.pad(x, (pad, pad, pad, pad))
        dy = torch.randint(0, 2 * pad + 1, (n,), generator=gen)
        dx = torch.randint(0, 2 * pad + 1, (n,), generator=gen)
        ar = torch.arange(28)
        rows = (dy.view(n, 1) + ar.view(1, 28)).view(n, 1, 28, 1)
        cols = (dx.view(n, 1) + ar.view(1, 28)).view(n, 1, 1, 28)
        x = xp[torch.arange(n).view(n, 1, 1, 1), torch.zeros(1, 1, 1, 1, dtype=torch.long), rows, cols]
    return x


# --------------------------------------------------------------------------
# Models: a trunk of four segments; head i reads the output of segment i.
# --------------------------------------------------------------------------
def build_model(torch, arch, widths, hidden):
    nn = torch.nn

    class MultiExit(nn.Module):
        def __init__(self, segments, heads, description):
            super().__init__()
            self.segments = nn.ModuleList(segments)  # 4 segments; the last ends in the final fc
            self.heads = nn.ModuleList(heads)        # 3 heads, one per internal exit
            self.description = description

        def forward(self, x):
            outs = []
            for i, seg in enumerate(self.segments):
                x = seg(x)
                if i < len(self.heads):
                    outs.append(self.heads[i](x))
            outs.append(x)
            return tuple(outs)

    # A head flattens with Flatten(1, 3), the trunk with Flatten(1, -1): both export as ONNX
    # Flatten(axis=1), but torch's exporter merges identical aten calls (CSE), which would make
    # a head branch off after the trunk's Flatten instead of after the pool.
    def head_flatten():
        return nn.Flatten(1, 3)

    if arch == "lenet5":
        segments = [
            nn.Sequential(nn.Conv2d(1, 6, 5, padding=2), nn.ReLU(), nn.MaxPool2d(2)),
            nn.Sequential(nn.Conv2d(6, 16, 5), nn.ReLU(), nn.MaxPool2d(2)),
            nn.Sequential(nn.Flatten(), nn.Linear(400, 120), nn.ReLU()),
            nn.Sequential(nn.Linear(120, 84), nn.ReLU(), nn.Linear(84, 10)),
        ]
        heads = [
            nn.Sequential(head_flatten(), nn.Linear(6 * 14 * 14, 10)),
            nn.Sequential(head_flatten(), nn.Linear(16 * 5 * 5, 10)),
            nn.Sequential(nn.Linear(120, 10)),
        ]
        description = {
            "trunk": "conv 6@5x5 pad2 -> ReLU -> maxpool 2x2 -> conv 16@5x5 pad0 -> ReLU -> maxpool 2x2 "
                     "-> flatten(400) -> fc 120 -> ReLU -> fc 84 -> ReLU -> fc 10 (final)",
            "exits": [
                ("exit1", "after maxpool 1 (trunk tensor [6,14,14])", "flatten(1176) -> fc 10"),
                ("exit2", "after maxpool 2 (trunk tensor [16,5,5])", "flatten(400) -> fc 10"),
                ("exit3", "after the ReLU of fc 120 (trunk tensor [120])", "fc 10"),
                ("final", "end of the trunk", "fc 120 -> ReLU -> fc 84 -> ReLU -> fc 10 (trunk)"),
            ],
        }
    elif arch == "vgg":
        c1, c2, c3 = widths

        def conv_bn_relu(cin, cout):
            return [nn.Conv2d(cin, cout, 3, padding=1, bias=False), nn.BatchNorm2d(cout), nn.ReLU()]

        segments = [
            nn.Sequential(*conv_bn_relu(1, c1), *conv_bn_relu(c1, c1), nn.MaxPool2d(2)),
            nn.Sequential(*conv_bn_relu(c1, c2), *conv_bn_relu(c2, c2), nn.MaxPool2d(2)),
            nn.Sequential(*conv_bn_relu(c2, c3), *conv_bn_relu(c3, c3), nn.MaxPool2d(2)),
            nn.Sequential(nn.Flatten(), nn.Linear(9 * c3, hidden), nn.ReLU(), nn.Linear(hidden, 10)),
        ]
        heads = [
            # count_include_pad=False: with the default (True) torch exports Pad + Constant before the
            # AveragePool even without padding; there is no padding, so the result is the same.
            nn.Sequential(nn.AvgPool2d(2, count_include_pad=False), head_flatten(), nn.Linear(49 * c1, 10)),
            nn.Sequential(head_flatten(), nn.Linear(49 * c2, 10)),
            nn.Sequential(head_flatten(), nn.Linear(9 * c3, 10)),
        ]
        description = {
            "trunk": "conv %d@3x3 pad1 -> ReLU -> conv %d@3x3 pad1 -> ReLU -> maxpool 2x2 -> "
                     "conv %d@3x3 pad1 -> ReLU -> conv %d@3x3 pad1 -> ReLU -> maxpool 2x2 -> "
                     "conv %d@3x3 pad1 -> ReLU -> conv %d@3x3 pad1 -> ReLU -> maxpool 2x2 -> "
                     "flatten(%d) -> fc %d -> ReLU -> fc 10 (final); BatchNorm after every conv "
                     "during training, folded into the conv weights and bias at export"
                     % (c1, c1, c2, c2, c3, c3, 9 * c3, hidden),
            "exits": [
                ("exit1", "after block 1's maxpool (trunk tensor [%d,14,14])" % c1,
                 "avgpool 2x2 -> flatten(%d) -> fc 10" % (49 * c1)),
                ("exit2", "after block 2's maxpool (trunk tensor [%d,7,7])" % c2,
                 "flatten(%d) -> fc 10" % (49 * c2)),
                ("exit3", "after block 3's maxpool (trunk tensor [%d,3,3])" % c3,
                 "flatten(%d) -> fc 10" % (9 * c3)),
                ("final", "end of the trunk", "flatten(%d) -> fc %d -> ReLU -> fc 10 (trunk)" % (9 * c3, hidden)),
            ],
        }
    else:
        raise BadInput("unknown --arch %r" % arch)
    return MultiExit(segments, heads, description)


def fold_batchnorm(torch, model):
    """An eval-mode copy of the model with every Conv2d+BatchNorm2d pair folded into one Conv2d."""
    from torch.nn.utils.fusion import fuse_conv_bn_eval

    folded = copy.deepcopy(model).eval()
    for seg in folded.segments:
        layers = list(seg)
        out = []
        i = 0
        while i < len(layers):
            if (isinstance(layers[i], torch.nn.Conv2d) and i + 1 < len(layers)
                    and isinstance(layers[i + 1], torch.nn.BatchNorm2d)):
                out.append(fuse_conv_bn_eval(layers[i], layers[i + 1]))
                i += 2
            else:
                out.append(layers[i])
                i += 1
        for j in range(len(seg) - 1, -1, -1):
            del seg[j]
        for layer in out:
            seg.append(layer)
    for m in folded.modules():
        if isinstance(m, torch.nn.BatchNorm2d):
            raise RuntimeError("a BatchNorm2d was not folded (it does not follow a Conv2d)")
    return folded


def macs_per_image(torch, model):
    """Multiply-accumulates of trunk and of each head for one 28x28 image."""
    counts = {}

    def hook(name):
        def f(mod, inp, out):
            if isinstance(mod, torch.nn.Conv2d):
                k = mod.in_channels * mod.kernel_size[0] * mod.kernel_size[1]
                counts[name] = counts.get(name, 0) + out[0].numel() * k
            elif isinstance(mod, torch.nn.Linear):
                counts[name] = counts.get(name, 0) + mod.in_features * mod.out_features
        return f

    handles = []
    for i, seg in enumerate(model.segments):
        for m in seg:
            handles.append(m.register_forward_hook(hook("trunk")))
    for i, head in enumerate(model.heads):
        for m in head:
            handles.append(m.register_forward_hook(hook(EXIT_NAMES[i])))
    was_training = model.training
    model.eval()
    with torch.no_grad():
        model(torch.zeros(1, 1, 28, 28))
    model.train(was_training)
    for h in handles:
        h.remove()
    return counts


# --------------------------------------------------------------------------
# Training helpers
# --------------------------------------------------------------------------
def loaded_blas():
    """Path of the BLAS library this process has loaded (results differ in the last bits between BLAS builds)."""
    try:
        with open("/proc/self/maps") as f:
            libs = {line.split()[-1] for line in f if "blas" in line.rsplit("/", 1)[-1]}
    except OSError:
        return "unknown"
    return ", ".join(sorted(libs)) or "none found"


def lr_at(step, total_steps, warmup_steps, base_lr):
    if warmup_steps > 0 and step < warmup_steps:
        return base_lr * (step + 1) / warmup_steps
    span = max(1, total_steps - warmup_steps)
    return 0.5 * base_lr * (1.0 + math.cos(math.pi * (step - warmup_steps) / span))


def evaluate_exits(torch, model, images, labels, batch=1000):
    """Correct predictions of each exit when every image is forced to it, and the logits."""
    model.eval()
    correct = [0] * len(EXIT_NAMES)
    logits = [[] for _ in EXIT_NAMES]
    with torch.no_grad():
        for i in range(0, images.shape[0], batch):
            outs = model(images[i:i + batch])
            for k, o in enumerate(outs):
                correct[k] += int((o.argmax(dim=1) == labels[i:i + batch]).sum())
                logits[k].append(o)
    return correct, [torch.cat(l).numpy() for l in logits]


# --------------------------------------------------------------------------
# ONNX export and checks
# --------------------------------------------------------------------------
def export_onnx(torch, model, path, opset):
    model.eval()
    torch.onnx.export(
        model, torch.zeros(1, 1, 28, 28), path,
        export_params=True, opset_version=opset, do_constant_folding=True,
        input_names=["input"], output_names=EXIT_NAMES,
        dynamic_axes=dict({"input": {0: "batch"}}, **{n: {0: "batch"} for n in EXIT_NAMES}))


def _dims(v):
    return [d.dim_param if d.dim_param else d.dim_value for d in v.type.tensor_type.shape.dim]


def check_onnx_contract(path, opset):
    """Verify the exported file against the contract; return a summary (raises RuntimeError)."""
    import onnx
    from onnx import numpy_helper

    model = onnx.load(path)
    onnx.checker.check_model(model)
    g = model.graph
    problems = []

    def need(cond, text):
        if not cond:
            problems.append(text)

    versions = {o.domain: o.version for o in model.opset_import}
    need(versions.get("", versions.get("ai.onnx")) == opset, "opset is %s, expected %d" % (versions, opset))
    for t in g.initializer:
        need(t.data_location != onnx.TensorProto.EXTERNAL, "initializer %s uses external data" % t.name)
    inits = {t.name: numpy_helper.to_array(t) for t in g.initializer}

    inputs = [i for i in g.input if i.name not in inits]
    need(len(inputs) == 1 and inputs[0].name == "input", "graph inputs %s, expected ['input']"
         % [i.name for i in inputs])
    if inputs:
        d = _dims(inputs[0])
        need(len(d) == 4 and isinstance(d[0], str) and d[1:] == [1, 28, 28]
             and inputs[0].type.tensor_type.elem_type == onnx.TensorProto.FLOAT,
             "input shape %s, expected [N,1,28,28] float with a dynamic N" % d)
    outs = [o.name for o in g.output]
    need(outs == EXIT_NAMES, "graph outputs %s, expected %s" % (outs, EXIT_NAMES))
    for o in g.output:
        d = _dims(o)
        need(len(d) == 2 and isinstance(d[0], str) and d[1] == 10, "output %s has shape %s, expected [N,10]"
             % (o.name, d))

    op_types = sorted({n.op_type for n in g.node})
    need(set(op_types) <= ALLOWED_OPS, "op types outside the allowed set: %s" % sorted(set(op_types) - ALLOWED_OPS))

    producer, consumers = {}, {}
    for n in g.node:
        need(n.domain in ("", "ai.onnx"), "node %s is in domain %r" % (n.name, n.domain))
        for t in n.output:
            producer[t] = n
        acts = [t for t in n.input if t and t not in inits]
        need(len(acts) == 1,
             "node %s (%s) has %d activation inputs (only chains allowed)" % (n.name, n.op_type, len(acts)))
        for t in acts:
            consumers.setdefault(t, []).append(n)
        a = _attrs(n)
        if n.op_type == "Conv":
            need(a.get("group", 1) == 1, "Conv %s has group %s" % (n.name, a.get("group")))
            need(all(v == 1 for v in a.get("dilations", [1, 1])), "Conv %s is dilated" % n.name)
            need(a.get("auto_pad", b"NOTSET") in (b"NOTSET", "NOTSET"), "Conv %s uses auto_pad" % n.name)
        if n.op_type in ("MaxPool", "AveragePool"):
            need(a.get("ceil_mode", 0) == 0, "%s %s has ceil_mode 1" % (n.op_type, n.name))
            need(a.get("auto_pad", b"NOTSET") in (b"NOTSET", "NOTSET"), "%s %s uses auto_pad" % (n.op_type, n.name))
            need(len(n.output) == 1, "%s %s has an Indices output" % (n.op_type, n.name))
        if n.op_type == "AveragePool":
            need(all(p == 0 for p in a.get("pads", [0] * 4)), "AveragePool %s is padded" % n.name)
        if n.op_type == "Flatten":
            need(a.get("axis", 1) == 1, "Flatten %s has axis %s" % (n.name, a.get("axis")))
        if n.op_type == "Reshape":
            shape = inits.get(n.input[1]) if len(n.input) > 1 else None
            dims = [int(v) for v in shape.reshape(-1)] if shape is not None else None
            need(dims is not None and len(dims) == 2 and (dims[0] == 0 and dims[1] == -1
                                                        or dims[0] == -1 and dims[1] > 0),
                 "Reshape %s is not a flatten to [N,-1] (shape %s)" % (n.name, dims))
        if n.op_type == "Gemm":
            need(a.get("transA", 0) == 0 and a.get("alpha", 1.0) == 1.0 and a.get("beta", 1.0) == 1.0,
                 "Gemm %s has transA/alpha/beta other than 0/1/1" % n.name)
            need(all(t in inits for t in n.input[1:]), "Gemm %s weights are not initializers" % n.name)
        if n.op_type == "MatMul":
            need(n.input[1] in inits, "MatMul %s weight is not an initializer" % n.name)
        if n.op_type == "Add":
            src = producer.get([t for t in n.input if t not in inits][0]) if acts else None
            need(src is not None and src.op_type == "MatMul", "Add %s does not add a bias to a MatMul" % n.name)
        if n.op_type == "Conv":
            need(all(t in inits for t in n.input[1:] if t), "Conv %s weights are not initializers" % n.name)

    # Topology: the trunk is the chain from "final" back to "input".
    trunk_nodes, t = [], "final"
    while t in producer:
        n = producer[t]
        trunk_nodes.append(n)
        acts = [x for x in n.input if x and x not in inits]
        if len(acts) != 1:
            break
        t = acts[0]
    need(t == "input", "the trunk from 'final' does not reach 'input'")
    trunk_nodes.reverse()
    trunk_tensors = ["input"] + [n.output[0] for n in trunk_nodes]
    trunk_ids = {id(n) for n in trunk_nodes}
    branches = []
    for name in EXIT_NAMES[:3]:
        head, t = [], name
        while t in producer and t not in trunk_tensors:
            n = producer[t]
            head.append(n)
            need(len(consumers.get(n.output[0], [])) <= (0 if t == name else 1),
                 "head of %s branches again at %s" % (name, n.name))
            t = [x for x in n.input if x and x not in inits][0]
        need(t in trunk_tensors, "head of %s does not start on the trunk" % name)
        if t in trunk_tensors and t != "input":
            src = producer[t]
            need(src.op_type in BRANCH_OPS, "%s branches off after %s %s, expected a ReLU or a pool"
                 % (name, src.op_type, src.name))
            branches.append((name, trunk_tensors.index(t), src.op_type, list(reversed(head))))
        for n in head:
            trunk_ids.add(id(n))
    need(len(trunk_ids) == len(g.node), "%d node(s) belong neither to the trunk nor to a head"
         % (len(g.node) - len(trunk_ids)))
    need([b[1] for b in branches] == sorted(b[1] for b in branches)
         and len({b[1] for b in branches}) == len(branches),
         "exits do not branch off in order of depth: %s" % [(b[0], b[1]) for b in branches])
    for t in trunk_tensors[:-1]:
        trunk_next = sum(1 for c in consumers.get(t, []) if c in trunk_nodes)
        need(trunk_next == 1, "trunk tensor %s has %d trunk consumers" % (t, trunk_next))
    if problems:
        raise RuntimeError("%s breaks the ONNX contract: %s" % (path, "; ".join(problems)))
    return {
        "opset": opset,
        "ops": op_types,
        "trunk": [n.op_type for n in trunk_nodes],
        "heads": {b[0]: {"branch_after": "%s (trunk node %d)" % (b[2], b[1]),
                         "ops": [n.op_type for n in b[3]]} for b in branches},
        "nodes": len(g.node),
        "parameters": int(sum(v.size for v in inits.values())),
    }


def op_averagepool(node, x):
    a = _attrs(node)
    if a.get("ceil_mode", 0) != 0:
        raise NotImplementedError("AveragePool ceil_mode=1")
    if any(_pads(a)):
        raise NotImplementedError("padded AveragePool")
    win = _windows(x, a["kernel_shape"], a.get("strides", [1, 1]), [1, 1])
    return win.mean(axis=(4, 5), dtype=np.float32)


def run_onnx_numpy(path, x, batch=500):
    """Evaluate every graph output of the ONNX file with numpy, node by node."""
    import onnx
    from onnx import numpy_helper

    ops = dict(NUMPY_OPS, AveragePool=op_averagepool)
    model = onnx.load(path)
    g = model.graph
    inits = {t.name: numpy_helper.to_array(t) for t in g.initializer}
    outs = {o.name: [] for o in g.output}
    for i in range(0, x.shape[0], batch):
        env = dict(inits)
        env["input"] = x[i:i + batch]
        for n in g.node:
            env[n.output[0]] = ops[n.op_type](n, *[env[t] if t else None for t in n.input])
        for name in outs:
            outs[name].append(env[name])
    return {k: np.concatenate(v) for k, v in outs.items()}


# --------------------------------------------------------------------------
# Command line
# --------------------------------------------------------------------------
def parse_args(argv):
    p = OneLineParser(
        description="Train a multi-exit CNN (exit1, exit2, exit3, final) on MNIST or Fashion-MNIST "
                    "with a weighted sum of the exits' cross-entropy losses and export "
                    "<out-dir>/<arch>_exits_<dataset>.{onnx,json,log}.",
        formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    p.add_argument("--arch", choices=["lenet5", "vgg"], required=True)
    p.add_argument("--dataset", choices=sorted(DATASETS), required=True)
    p.add_argument("--data-dir", help="folder with the four IDX files (default data/mnist or data/fashion-mnist)")
    p.add_argument("--out-dir", default=os.path.join(REPO_ROOT, "models"))
    p.add_argument("--epochs", type=int, help="default: lenet5 20 (mnist) / 30 (fashion); vgg 12 / 20")
    p.add_argument("--seed", type=int, default=1, help="seed for init, shuffling and augmentation")
    p.add_argument("--threads", type=int, default=2, help="torch intra-op threads")
    p.add_argument("--lr", type=float, default=0.05, help="peak learning rate (after warm-up)")
    p.add_argument("--momentum", type=float, default=0.9)
    p.add_argument("--weight-decay", type=float, default=5e-4)
    p.add_argument("--batch-size", type=int, default=128)
    p.add_argument("--warmup-epochs", type=float, default=1.0, help="linear warm-up length (0 disables)")
    p.add_argument("--loss-weights", type=float, nargs=4, default=[0.25, 0.5, 0.75, 1.0],
                   metavar=("W1", "W2", "W3", "WF"), help="weights of exit1, exit2, exit3, final in the loss")
    p.add_argument("--augment", choices=["none", "flip", "shift", "flip-shift"],
                   help="training augmentation (default: none for mnist, flip-shift for fashion)")
    p.add_argument("--widths", default="8,16,32", help="vgg: channels of the three conv blocks")
    p.add_argument("--hidden", type=int, default=128, help="vgg: width of the hidden fc layer")
    p.add_argument("--memory-format", choices=["channels-last", "contiguous"], default="channels-last",
                   help="activation layout during training (channels-last is about 1.4x faster on CPU)")
    p.add_argument("--opset", type=int, default=13, help="ONNX opset (the importer expects 13)")
    p.add_argument("--min-accuracy", type=float,
                   help="exit 1 (after writing outputs) if the final exit's float test accuracy is "
                        "below this fraction (default: the target of the arch/dataset pair)")
    args = p.parse_args(argv)

    if args.epochs is None:
        args.epochs = DEFAULT_EPOCHS[(args.arch, args.dataset)]
    if args.augment is None:
        args.augment = DEFAULT_AUGMENT[args.dataset]
    if args.data_dir is None:
        args.data_dir = os.path.join(REPO_ROOT, "data", DATASETS[args.dataset]["dir"])
    if args.min_accuracy is None:
        args.min_accuracy = TARGETS[(args.arch, args.dataset)]
    try:
        args.widths = [int(w) for w in args.widths.split(",")]
    except ValueError:
        p.error("--widths must be three comma-separated integers (got %r)" % args.widths)
    checks = [
        (args.epochs >= 1, "--epochs must be at least 1 (got %d)" % args.epochs),
        (1 <= args.threads <= 64, "--threads must be 1..64 (got %d)" % args.threads),
        (args.lr > 0 and math.isfinite(args.lr), "--lr must be a positive number (got %g)" % args.lr),
        (0 <= args.momentum < 1, "--momentum must be in [0, 1) (got %g)" % args.momentum),
        (args.weight_decay >= 0, "--weight-decay must not be negative (got %g)" % args.weight_decay),
        (1 <= args.batch_size <= 60000, "--batch-size must be 1..60000 (got %d)" % args.batch_size),
        (args.warmup_epochs >= 0, "--warmup-epochs must not be negative (got %g)" % args.warmup_epochs),
        (all(w >= 0 and math.isfinite(w) for w in args.loss_weights) and args.loss_weights[3] > 0,
         "--loss-weights must be non-negative with a positive final weight (got %s)" % args.loss_weights),
        (len(args.widths) == 3 and all(1 <= w <= 512 for w in args.widths),
         "--widths must be three integers 1..512 (got %s)" % args.widths),
        (1 <= args.hidden <= 4096, "--hidden must be 1..4096 (got %d)" % args.hidden),
        (args.opset >= 13, "--opset must be at least 13 (got %d)" % args.opset),
        (0 <= args.min_accuracy <= 1, "--min-accuracy is a fraction in [0, 1] (got %g)" % args.min_accuracy),
    ]
    for ok, text in checks:
        if not ok:
            p.error(text)
    return args, p.prog


def write_atomic(path, text):
    part = path + ".part"
    with open(part, "w") as f:
        f.write(text)
    os.replace(part, path)


def main(argv=None):
    args, prog = parse_args(argv)
    try:
        return run(args)
    except BadInput as e:
        print("%s: error: %s" % (prog, e), file=sys.stderr)
        return 2


def run(args):
    (tr_x, tr_y), (te_x, te_y) = load_dataset(args.data_dir, args.dataset)
    if not os.path.isdir(args.out_dir):
        raise BadInput("--out-dir %s: no such folder" % args.out_dir)
    if not os.access(args.out_dir, os.W_OK):
        raise BadInput("--out-dir %s is not writable" % args.out_dir)

    import torch

    torch.set_num_threads(args.threads)
    torch.manual_seed(args.seed)
    np.random.seed(args.seed)
    torch.use_deterministic_algorithms(True)

    log = Log()
    blas = loaded_blas()
    stem = "%s_exits_%s" % (args.arch, args.dataset)
    title = DATASETS[args.dataset]["title"]
    tr_x = torch.from_numpy(tr_x.astype(np.float32) / 255.0).unsqueeze(1)
    te_x = torch.from_numpy(te_x.astype(np.float32) / 255.0).unsqueeze(1)
    tr_y = torch.from_numpy(tr_y.astype(np.int64))
    te_y = torch.from_numpy(te_y.astype(np.int64))
    fmt = torch.channels_last if args.memory_format == "channels-last" else torch.contiguous_format
    tr_x, te_x = tr_x.contiguous(memory_format=fmt), te_x.contiguous(memory_format=fmt)
    n_train, n_test = tr_x.shape[0], te_x.shape[0]
    log("%s: %s: %d train, %d test images from %s" % (stem, title, n_train, n_test, args.data_dir))

    model = build_model(torch, args.arch, args.widths, args.hidden).to(memory_format=fmt)
    desc = model.description
    macs = macs_per_image(torch, model)
    n_params = sum(p.numel() for p in model.parameters())
    log("trunk: " + desc["trunk"])
    for name, branch, head in desc["exits"][:3]:
        log("%s: %s; head %s (%d MACs)" % (name, branch, head, macs[name]))
    log("%d trainable parameters; trunk %d MACs per image" % (n_params, macs["trunk"]))
    log("loss = %s; SGD lr %g momentum %g wd %g batch %d; %d epochs, warm-up %g epoch(s) then cosine "
        "per iteration; augmentation %s; seed %d; %d torch thread(s), %s; torch %s; BLAS %s"
        % (" + ".join("%g*CE(%s)" % (w, n) for w, n in zip(args.loss_weights, EXIT_NAMES)),
           args.lr, args.momentum, args.weight_decay, args.batch_size, args.epochs, args.warmup_epochs,
           args.augment, args.seed, torch.get_num_threads(), args.memory_format, torch.__version__, blas))

    opt = torch.optim.SGD(model.parameters(), lr=args.lr, momentum=args.momentum,
                          weight_decay=args.weight_decay)
    ce = torch.nn.functional.cross_entropy
    weights = args.loss_weights
    steps_per_epoch = math.ceil(n_train / args.batch_size)
    total_steps = steps_per_epoch * args.epochs
    warmup_steps = int(round(args.warmup_epochs * steps_per_epoch))
    gen = torch.Generator().manual_seed(args.seed)

    history = []
    step = 0
    t_start = time.time()
    for epoch in range(1, args.epochs + 1):
        model.train()
        t_ep = time.time()
        perm = torch.randperm(n_train, generator=gen)
        loss_sum = 0.0
        exit_loss_sum = [0.0] * 4
        for i in range(0, n_train, args.batch_size):
            lr = lr_at(step, total_steps, warmup_steps, args.lr)
            for grp in opt.param_groups:
                grp["lr"] = lr
            idx = perm[i:i + args.batch_size]
            x, y = tr_x[idx], tr_y[idx]
            if args.augment != "none":
                x = augment_batch(torch, x, args.augment, gen).contiguous(memory_format=fmt)
            outs = model(x)
            losses = [ce(o, y) for o in outs]
            loss = sum(w * l for w, l in zip(weights, losses))
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
            if not torch.isfinite(loss):
                raise BadInput("loss became %s at epoch %d step %d (try a lower --lr)" % (float(loss), epoch, step))
            loss_sum += float(loss) * y.shape[0]
            for k in range(4):
                exit_loss_sum[k] += float(losses[k]) * y.shape[0]
            step += 1
        train_seconds_epoch = time.time() - t_ep
        correct, _ = evaluate_exits(torch, model, te_x, te_y)
        rec = {"epoch": epoch, "lr_end": lr, "train_loss": loss_sum / n_train,
               "train_loss_per_exit": {n: s / n_train for n, s in zip(EXIT_NAMES, exit_loss_sum)},
               "test_acc": {n: c / n_test for n, c in zip(EXIT_NAMES, correct)},
               "seconds": round(time.time() - t_ep, 2), "train_seconds": round(train_seconds_epoch, 2)}
        history.append(rec)
        log("epoch %2d/%d  lr %.5f  loss %.4f  test %s  (%.1f s)"
            % (epoch, args.epochs, lr, rec["train_loss"],
               "  ".join("%s %.2f%%" % (n, 100 * a) for n, a in rec["test_acc"].items()), rec["seconds"]))
    train_seconds = time.time() - t_start
    log("training: %.1f s" % train_seconds)

    # Export the model after the last epoch (no selection on the test set), BatchNorm folded.
    model.eval()
    export = fold_batchnorm(torch, model).to(memory_format=torch.contiguous_format)
    correct_torch, logits_torch = evaluate_exits(torch, model, te_x, te_y)
    correct, logits = evaluate_exits(torch, export, te_x, te_y)
    fold_diff = max(float(np.abs(a - b).max()) for a, b in zip(logits_torch, logits))
    log("BatchNorm folded: max |logit diff| vs the trained model %.3g; correct %s -> %s"
        % (fold_diff, correct_torch, correct))

    onnx_path = os.path.join(args.out_dir, stem + ".onnx")
    json_path = os.path.join(args.out_dir, stem + ".json")
    log_path = os.path.join(args.out_dir, stem + ".log")
    part = onnx_path + ".part"
    export_onnx(torch, export, part, args.opset)
    try:
        summary = check_onnx_contract(part, args.opset)
    except Exception as e:
        print("error: %s (kept for inspection)" % " ".join(str(e).split()), file=sys.stderr)
        return 1
    onnx_outs = run_onnx_numpy(part, te_x.numpy())
    onnx_correct = [int((onnx_outs[n].argmax(axis=1) == te_y.numpy()).sum()) for n in EXIT_NAMES]
    onnx_diff = max(float(np.abs(onnx_outs[n] - l).max()) for n, l in zip(EXIT_NAMES, logits))
    agree = [int((onnx_outs[n].argmax(axis=1) == l.argmax(axis=1)).sum()) for n, l in zip(EXIT_NAMES, logits)]
    log("ONNX contract ok: ops %s; %d nodes, %d parameters" % (", ".join(summary["ops"]), summary["nodes"],
                                                               summary["parameters"]))
    log("  trunk: " + " -> ".join(summary["trunk"]))
    for name, h in summary["heads"].items():
        log("  %s: branches after %s: %s" % (name, h["branch_after"], " -> ".join(h["ops"])))
    log("numpy run of the ONNX file on the %d test images: max |logit diff| vs torch %.3g; argmax agrees %s; "
        "correct %s" % (n_test, onnx_diff, agree, onnx_correct))
    if onnx_diff > 1e-3 or onnx_correct != correct:
        print("error: the exported %s does not reproduce the torch model (max diff %.3g, correct %s vs %s; "
              "kept for inspection)" % (part, onnx_diff, onnx_correct, correct), file=sys.stderr)
        return 1
    os.replace(part, onnx_path)
    onnx_bytes = os.path.getsize(onnx_path)

    accs = [c / n_test for c in correct]
    log("per-exit float test accuracy (every image forced to the exit):")
    for (name, branch, head), c, a in zip(desc["exits"], correct, accs):
        log("  %-6s %5d/%d = %.2f%%" % (name, c, n_test, 100 * a))
    log("wrote %s (%d bytes)" % (onnx_path, onnx_bytes))

    meta = {
        "model": stem,
        "arch": args.arch,
        "architecture": desc["trunk"],
        "dataset": title,
        "dataset_dir": os.path.relpath(args.data_dir, REPO_ROOT) if args.data_dir.startswith(REPO_ROOT)
        else args.data_dir,
        "input_preprocessing": "pixel / 255 in [0, 1], no mean/std normalisation",
        "exits": [{"name": name, "branch_point": branch, "head": head,
                   "head_macs": macs.get(name), "float_test_accuracy": a,
                   "float_test_accuracy_percent": round(100 * a, 2), "test_correct": c}
                  for (name, branch, head), c, a in zip(desc["exits"], correct, accs)],
        "trunk_macs": macs["trunk"],
        "parameters": summary["parameters"],
        "test_total": n_test,
        "target_final_accuracy": args.min_accuracy,
        "loss": "sum over exits of weight * cross-entropy",
        "loss_weights": dict(zip(EXIT_NAMES, weights)),
        "hyperparameters": {
            "optimizer": "SGD", "lr": args.lr, "momentum": args.momentum,
            "weight_decay": args.weight_decay, "batch_size": args.batch_size,
            "lr_schedule": "linear warm-up then cosine to 0, per iteration",
            "warmup_epochs": args.warmup_epochs, "augmentation": args.augment,
            "vgg_widths": args.widths if args.arch == "vgg" else None,
            "vgg_hidden": args.hidden if args.arch == "vgg" else None,
            "batchnorm": "during training, folded into the convolutions at export" if args.arch == "vgg" else None,
        },
        "epochs": args.epochs,
        "seed": args.seed,
        "history": history,
        "training_seconds": round(train_seconds, 1),
        "torch_threads": torch.get_num_threads(),
        "torch_version": torch.__version__,
        "memory_format": args.memory_format,
        "blas_library": blas,
        "numpy_version": np.__version__,
        "date": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
        "onnx_file": os.path.basename(onnx_path),
        "onnx_sha256": sha256_file(onnx_path),
        "onnx_bytes": onnx_bytes,
        "onnx_opset": args.opset,
        "onnx_inputs": {"input": ["N", 1, 28, 28]},
        "onnx_outputs": {n: ["N", 10] for n in EXIT_NAMES},
        "onnx_graph": summary,
        "onnx_numpy_check": {"max_abs_logit_diff": onnx_diff, "argmax_agree": dict(zip(EXIT_NAMES, agree)),
                             "test_correct": dict(zip(EXIT_NAMES, onnx_correct))},
        "dataset_sha256": {name: sha256_file(os.path.join(args.data_dir, name))
                           for split in ("train", "test") for name in MNIST_FILES[split][:2]},
    }
    write_atomic(json_path, json.dumps(meta, indent=2) + "\n")
    log("wrote %s" % json_path)
    status = 0
    if accs[3] < args.min_accuracy:
        log("below target: final exit %.2f%% < %.2f%%" % (100 * accs[3], 100 * args.min_accuracy))
        print("error: final exit float test accuracy %.2f%% is below the target %.2f%%"
              % (100 * accs[3], 100 * args.min_accuracy), file=sys.stderr)
        status = 1
    else:
        log("target met: final exit %.2f%% >= %.2f%%" % (100 * accs[3], 100 * args.min_accuracy))
    log("wrote %s" % log_path)
    write_atomic(log_path, "\n".join(log.lines) + "\n")
    return status


if __name__ == "__main__":
    sys.exit(main())
