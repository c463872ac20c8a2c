#!/usr/bin/python3
"""Train LeNet-5 on MNIST and export it to ONNX for the axsa accelerator model.

Two variants (--variant):

classic (default; models/lenet5.onnx, models/lenet5.json)
Network (float32):
    conv 6@5x5, pad 2 -> ReLU -> maxpool 2x2
    conv 16@5x5, pad 0 -> ReLU -> maxpool 2x2
    flatten (16*5*5 = 400) -> fc 120 -> ReLU -> fc 84 -> ReLU -> fc 10 (logits)

Inputs are raw pixels / 255 in [0, 1] (no mean/std normalisation), because the
accelerator quantises its inputs into [0, 1].

Optimiser (fixed by the reference paper): SGD, lr 0.05, momentum 0.9,
weight decay 5e-4, batch 128. The learning rate follows a short linear warm-up
and then a per-iteration cosine decay to zero (see --schedule).

Outputs: models/lenet5.onnx (opset 13, input "input" [N,1,28,28], output
"logits" [N,10], dynamic batch axis) and models/lenet5.json (metadata).

survey (models/lenet5_survey.onnx, .json, .log)
The fault-injection survey's Table I network, which its text describes only as
"three convolutional layers and four fully connected" (no sizes given):
    conv 6@5x5, pad 2 -> ReLU -> maxpool 2x2          (C1, S2 of LeNet-5)
    conv 16@5x5, pad 0 -> ReLU -> maxpool 2x2         (C3, S4)
    conv 120@5x5, pad 0 -> ReLU                       (C5: a convolution, 5x5 -> 1x1)
    flatten (120) -> fc 84 -> ReLU -> fc 56 -> ReLU -> fc 28 -> ReLU -> fc 10 (logits)
The three convolutions are LeNet-5's own C1, C3 and C5 (C5 kept as a convolution,
as in LeCun's paper). The first fully connected layer is LeNet-5's F6 (84); the
two added ones shrink by 28 outputs each (56, 28) so that on the survey's 28x28
output-stationary array, where a dense layer's outputs map to the columns, every
fully connected layer but the last fills whole 28-column folds (84 = 3 folds, 56
= 2, 28 = 1) rather than leaving a partial fold idle; the last has the 10 classes.
Every layer is one axsa imports (Conv, Gemm, Relu, MaxPool, Flatten).

The survey's training: "learning rate started at 0.05, with the decay of 5e-4
every 375(*128) iterations, and the momentum was set to 0.9". Our reading:
375 iterations of batch 128 are 48,000 images, i.e. one epoch over 80 % of
MNIST's 60,000 training images, the rest (12,000) held out for validation. The
"decay" is read as an inverse-time learning-rate decay applied per iteration,
lr(t) = 0.05 / (1 + 5e-4 * t) for iteration t (the form of the decay argument of
common SGD implementations), with no separate weight decay; the survey reports
its progress per epoch, hence "every 375 iterations". So --variant survey trains
on the first 48,000 training images, reports accuracy on the last 12,000 each
epoch, and uses SGD momentum 0.9, batch 128, that schedule, no warm-up, no
weight decay. The alternative reading (the decay step applied once per epoch)
leaves the rate at 0.05 for the whole run. The test set is only evaluated, never
used to choose anything; the exported model is the one after the last epoch.

Reads the MNIST IDX files from data/mnist/ (see scripts/fetch_mnist.sh).
Use /usr/bin/python3: it has Debian's python3-torch and python3-onnx.
"""

import argparse
import datetime
import hashlib
import json
import math
import os
import sys
import time

# Keep numpy's BLAS to one thread: the machine is shared with a compile job.
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
os.environ.setdefault("OMP_NUM_THREADS", "1")

import numpy as np  # noqa: E402

REPO_ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

IDX_IMAGES_MAGIC = 2051
IDX_LABELS_MAGIC = 2049

MNIST_FILES = {
    "train": ("train-images-idx3-ubyte", "train-labels-idx1-ubyte", 60000),
    "test": ("t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte", 10000),
}

# Only these ONNX op types may appear in the exported graph.
ALLOWED_OPS = {"Conv", "Relu", "MaxPool", "Flatten", "Reshape", "Gemm", "MatMul", "Add"}


# --------------------------------------------------------------------------
# IDX reading (numpy only, so scripts/eval_lenet5_onnx.py can reuse it)
# --------------------------------------------------------------------------
def _read_idx(path, magic, ndim):
    """Read an IDX file of unsigned bytes; return a uint8 array of `ndim` dims."""
    with open(path, "rb") as f:
        raw = f.read()
    header_len = 4 + 4 * ndim
    if len(raw) < header_len:
        raise ValueError("%s: file too short for an IDX header (%d bytes)" % (path, len(raw)))
    got_magic = int.from_bytes(raw[0:4], "big")
    if got_magic != magic:
        raise ValueError("%s: bad magic number %d, expected %d" % (path, got_magic, magic))
    dims = [int.from_bytes(raw[4 + 4 * i:8 + 4 * i], "big") for i in range(ndim)]
    expected = header_len + int(np.prod(dims))
    if len(raw) != expected:
        raise ValueError("%s: file size %d does not match header dims %s (expected %d bytes)"
                         % (path, len(raw), dims, expected))
    return np.frombuffer(raw, dtype=np.uint8, offset=header_len).reshape(dims)


def read_idx_images(path, count=None):
    images = _read_idx(path, IDX_IMAGES_MAGIC, 3)
    n, rows, cols = images.shape
    if (rows, cols) != (28, 28):
        raise ValueError("%s: images are %dx%d, expected 28x28" % (path, rows, cols))
    if count is not None and n != count:
        raise ValueError("%s: %d images, expected %d" % (path, n, count))
    return images


def read_idx_labels(path, count=None):
    labels = _read_idx(path, IDX_LABELS_MAGIC, 1)
    if count is not None and labels.shape[0] != count:
        raise ValueError("%s: %d labels, expected %d" % (path, labels.shape[0], count))
    if labels.size and labels.max() > 9:
        raise ValueError("%s: label value %d out of range 0..9" % (path, int(labels.max())))
    return labels


def load_mnist_split(data_dir, split):
    """Return (images uint8 [N,28,28], labels uint8 [N]) for 'train' or 'test'."""
    img_name, lbl_name, count = MNIST_FILES[split]
    img_path = os.path.join(data_dir, img_name)
    lbl_path = os.path.join(data_dir, lbl_name)
    for p in (img_path, lbl_path):
        if not os.path.isfile(p):
            raise FileNotFoundError("%s not found; run scripts/fetch_mnist.sh first" % p)
    images = read_idx_images(img_path, count)
    labels = read_idx_labels(lbl_path, count)
    return images, labels


def sha256_file(path):
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


# --------------------------------------------------------------------------
# Model and training (torch)
# --------------------------------------------------------------------------
def build_model(torch, variant="classic"):
    nn = torch.nn
    if variant == "survey":
        return build_survey_model(torch)

    class LeNet5(nn.Module):
        def __init__(self):
            super().__init__()
            self.conv1 = nn.Conv2d(1, 6, kernel_size=5, padding=2)
            self.conv2 = nn.Conv2d(6, 16, kernel_size=5, padding=0)
            self.fc1 = nn.Linear(16 * 5 * 5, 120)
            self.fc2 = nn.Linear(120, 84)
            self.fc3 = nn.Linear(84, 10)

        def forward(self, x):
            x = torch.max_pool2d(torch.relu(self.conv1(x)), kernel_size=2, stride=2)
            x = torch.max_pool2d(torch.relu(self.conv2(x)), kernel_size=2, stride=2)
            x = torch.flatten(x, 1)
            x = torch.relu(self.fc1(x))
            x = torch.relu(self.fc2(x))
            return self.fc3(x)

    return LeNet5()


SURVEY_ARCHITECTURE = ("conv6@5x5 pad2 -> ReLU -> maxpool2x2 -> conv16@5x5 pad0 -> ReLU -> maxpool2x2 -> "
                       "conv120@5x5 pad0 -> ReLU -> flatten(120) -> fc84 -> ReLU -> fc56 -> ReLU -> "
                       "fc28 -> ReLU -> fc10 (logits)")


def build_survey_model(torch):
    """Three convolutions and four fully connected layers (see the module docstring)."""
    nn = torch.nn

    class LeNet5Survey(nn.Module):
        def __init__(self):
            super().__init__()
            self.conv1 = nn.Conv2d(1, 6, kernel_size=5, padding=2)
            self.conv2 = nn.Conv2d(6, 16, kernel_size=5, padding=0)
            self.conv3 = nn.Conv2d(16, 120, kernel_size=5, padding=0)
            self.fc1 = nn.Linear(120, 84)
            self.fc2 = nn.Linear(84, 56)
            self.fc3 = nn.Linear(56, 28)
            self.fc4 = nn.Linear(28, 10)

        def forward(self, x):
            x = torch.max_pool2d(torch.relu(self.conv1(x)), kernel_size=2, stride=2)
            x = torch.max_pool2d(torch.relu(self.conv2(x)), kernel_size=2, stride=2)
            x = torch.flatten(torch.relu(self.conv3(x)), 1)
            x = torch.relu(self.fc1(x))
            x = torch.relu(self.fc2(x))
            x = torch.relu(self.fc3(x))
            return self.fc4(x)

    return LeNet5Survey()


def lr_at(step, total_steps, warmup_steps, base_lr, schedule, milestones, gamma, steps_per_epoch):
    """Learning rate for optimiser step `step` (0-based)."""
    if warmup_steps > 0 and step < warmup_steps:
        return base_lr * (step + 1) / warmup_steps
    if schedule == "constant":
        return base_lr
    if schedule == "cosine":
        span = max(1, total_steps - warmup_steps)
        progress = (step - warmup_steps) / span
        return 0.5 * base_lr * (1.0 + math.cos(math.pi * progress))
    if schedule == "step":
        epoch = step // steps_per_epoch
        return base_lr * (gamma ** sum(1 for m in milestones if epoch >= m))
    if schedule == "inverse-time":
        # lr / (1 + decay * t), t counting optimiser steps; `gamma` carries the decay.
        return base_lr / (1.0 + gamma * (step - warmup_steps))
    raise ValueError("unknown schedule %r" % schedule)


def evaluate(torch, model, images, labels, batch=1000):
    model.eval()
    correct = 0
    with torch.no_grad():
        for i in range(0, images.shape[0], batch):
            logits = model(images[i:i + batch])
            correct += int((logits.argmax(dim=1) == labels[i:i + batch]).sum())
    return correct


def export_onnx(torch, model, path, opset):
    model.eval()
    dummy = torch.zeros(1, 1, 28, 28, dtype=torch.float32)
    torch.onnx.export(
        model, dummy, path,
        export_params=True,
        opset_version=opset,
        do_constant_folding=True,
        input_names=["input"],
        output_names=["logits"],
        dynamic_axes={"input": {0: "batch"}, "logits": {0: "batch"}},
    )


def check_onnx(path):
    """Run onnx.checker; return (op list, initializer list) and enforce the op whitelist."""
    import onnx
    from onnx import numpy_helper

    m = onnx.load(path)
    onnx.checker.check_model(m)
    ops = [{"name": n.name, "op_type": n.op_type} for n in m.graph.node]
    bad = sorted({o["op_type"] for o in ops} - ALLOWED_OPS)
    if bad:
        raise RuntimeError("%s contains op types outside the allowed set: %s" % (path, bad))
    inits = [{"name": t.name, "shape": list(numpy_helper.to_array(t).shape)}
             for t in m.graph.initializer]
    inp = m.graph.input[0]
    out = m.graph.output[0]

    def dims(v):
        return [d.dim_param if d.dim_param else d.dim_value for d in v.type.tensor_type.shape.dim]

    io = {"input": {"name": inp.name, "shape": dims(inp)},
          "output": {"name": out.name, "shape": dims(out)},
          "opset": [{"domain": o.domain, "version": o.version} for o in m.opset_import]}
    return ops, inits, io, onnx.__version__


# Per-variant defaults of the options that default to None below.
VARIANT_DEFAULTS = {
    "classic": {"epochs": 20, "schedule": "cosine", "warmup_epochs": 1.0, "gamma": 0.1,
                "weight_decay": 5e-4, "train_images": 60000, "min_accuracy": 0.99},
    # 12 epochs of 375 iterations: a few minutes on one core.
    "survey": {"epochs": 12, "schedule": "inverse-time", "warmup_epochs": 0.0, "gamma": 5e-4,
               "weight_decay": 0.0, "train_images": 48000, "min_accuracy": 0.985},
}
VARIANT_STEM = {"classic": "lenet5", "survey": "lenet5_survey"}


def parse_args(argv):
    p = argparse.ArgumentParser(
        description="Train LeNet-5 on MNIST (inputs pixel/255, no normalisation) and export "
                    "models/<stem>.onnx and models/<stem>.json. --variant classic (lenet5): "
                    "SGD lr 0.05, momentum 0.9, wd 5e-4, batch 128, warm-up then cosine. "
                    "--variant survey (lenet5_survey, also a .log): the survey's three-conv, "
                    "four-FC network, SGD lr 0.05 / (1 + 5e-4 t), momentum 0.9, batch 128, "
                    "on 48,000 training images (375 iterations per epoch), 12,000 held out. "
                    "Options shown with default None take the variant's value.",
        formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    p.add_argument("--variant", choices=sorted(VARIANT_DEFAULTS), default="classic",
                   help="which network and training recipe (see the script's docstring)")
    p.add_argument("--data-dir", default=os.path.join(REPO_ROOT, "data", "mnist"),
                   help="folder with the four MNIST IDX files (scripts/fetch_mnist.sh)")
    p.add_argument("--out-dir", default=os.path.join(REPO_ROOT, "models"),
                   help="where <stem>.onnx and <stem>.json are written")
    p.add_argument("--epochs", type=int, default=None, help="training epochs (classic 20, survey 12)")
    p.add_argument("--seed", type=int, default=1, help="random seed (init and shuffling)")
    p.add_argument("--schedule", choices=["cosine", "step", "constant", "inverse-time"], default=None,
                   help="learning-rate schedule after warm-up (cosine decays to 0 per iteration; "
                        "inverse-time is lr / (1 + gamma * t) per iteration); classic cosine, "
                        "survey inverse-time")
    p.add_argument("--warmup-epochs", type=float, default=None,
                   help="linear learning-rate warm-up length in epochs (0 disables; classic 1, survey 0)")
    p.add_argument("--milestones", type=int, nargs="*", default=[10, 15],
                   help="epochs at which --schedule step multiplies the lr by --gamma")
    p.add_argument("--gamma", type=float, default=None,
                   help="step schedule decay factor (classic 0.1), or the inverse-time decay "
                        "per iteration (survey 5e-4)")
    p.add_argument("--train-images", type=int, default=None,
                   help="train on the first N training images, validate on the rest "
                        "(classic 60000: no validation; survey 48000)")
    p.add_argument("--threads", type=int, default=1,
                   help="torch intra-op threads (1 keeps a core free for other work)")
    p.add_argument("--min-accuracy", type=float, default=None,
                   help="exit non-zero (after writing outputs) if float test accuracy is below this "
                        "(classic 0.99, survey 0.985)")
    p.add_argument("--opset", type=int, default=13, help="ONNX opset version")
    # Fixed by the reference paper; exposed only so the values are visible in --help.
    p.add_argument("--lr", type=float, default=0.05, help="base learning rate (paper: 0.05)")
    p.add_argument("--momentum", type=float, default=0.9, help="SGD momentum (paper: 0.9)")
    p.add_argument("--weight-decay", type=float, default=None,
                   help="weight decay (classic 5e-4; survey 0, its 5e-4 being the lr decay)")
    p.add_argument("--batch-size", type=int, default=128, help="mini-batch size (paper: 128)")
    args = p.parse_args(argv)
    for key, value in VARIANT_DEFAULTS[args.variant].items():
        if getattr(args, key) is None:
            setattr(args, key, value)
    if not 0 < args.train_images <= 60000:
        p.error("--train-images must be in 1..60000")
    return args


def main(argv=None):
    args = parse_args(argv)
    stem = VARIANT_STEM[args.variant]
    lines = []  # stdout kept for <stem>.log

    def log(text):
        print(text, flush=True)
        lines.append(text)

    import torch

    torch.set_num_threads(args.threads)
    torch.manual_seed(args.seed)
    np.random.seed(args.seed)
    torch.use_deterministic_algorithms(True)

    try:
        tr_x, tr_y = load_mnist_split(args.data_dir, "train")
        te_x, te_y = load_mnist_split(args.data_dir, "test")
    except (OSError, ValueError) as e:
        print("error: %s" % e, file=sys.stderr)
        return 1
    # pixels / 255 -> [0, 1]; no mean/std normalisation.
    tr_x = torch.from_numpy(tr_x.astype(np.float32) / 255.0).unsqueeze(1)
    te_x = torch.from_numpy(te_x.astype(np.float32) / 255.0).unsqueeze(1)
    tr_y = torch.from_numpy(tr_y.astype(np.int64))
    te_y = torch.from_numpy(te_y.astype(np.int64))
    # The held-out tail (the survey variant's 12,000 images) is only evaluated.
    va_x, va_y = tr_x[args.train_images:], tr_y[args.train_images:]
    tr_x, tr_y = tr_x[:args.train_images], tr_y[:args.train_images]
    n_train, n_val, n_test = tr_x.shape[0], va_x.shape[0], te_x.shape[0]
    log("MNIST: %d train, %d validation, %d test images from %s"
        % (n_train, n_val, n_test, args.data_dir))

    model = build_model(torch, args.variant)
    opt = torch.optim.SGD(model.parameters(), lr=args.lr, momentum=args.momentum,
                          weight_decay=args.weight_decay)
    loss_fn = torch.nn.CrossEntropyLoss()

    steps_per_epoch = math.ceil(n_train / args.batch_size)
    total_steps = steps_per_epoch * args.epochs
    warmup_steps = int(round(args.warmup_epochs * steps_per_epoch))
    shuffle_gen = torch.Generator().manual_seed(args.seed)

    log("LeNet-5 (%s): %s" % (args.variant, SURVEY_ARCHITECTURE if args.variant == "survey"
                                else "classic, two conv and three fc"))
    log("%d parameters; SGD lr %g momentum %g wd %g batch %d; %d epochs of %d iterations, "
        "schedule %s%s, warm-up %g epochs; %d torch thread(s)"
        % (sum(p.numel() for p in model.parameters()), args.lr, args.momentum,
           args.weight_decay, args.batch_size, args.epochs, steps_per_epoch, args.schedule,
           " (decay %g per iteration)" % args.gamma if args.schedule == "inverse-time" else "",
           args.warmup_epochs, torch.get_num_threads()))

    history = []
    step = 0
    t_start = time.time()
    for epoch in range(1, args.epochs + 1):
        model.train()
        t_ep = time.time()
        perm = torch.randperm(n_train, generator=shuffle_gen)
        loss_sum, correct = 0.0, 0
        for i in range(0, n_train, args.batch_size):
            lr = lr_at(step, total_steps, warmup_steps, args.lr, args.schedule,
                       args.milestones, args.gamma, steps_per_epoch)
            for g in opt.param_groups:
                g["lr"] = lr
            idx = perm[i:i + args.batch_size]
            x, y = tr_x[idx], tr_y[idx]
            logits = model(x)
            loss = loss_fn(logits, y)
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
            if not torch.isfinite(loss):
                print("error: loss became %s at epoch %d step %d" % (float(loss), epoch, step),
                      file=sys.stderr)
                return 2
            loss_sum += float(loss) * y.shape[0]
            correct += int((logits.argmax(dim=1) == y).sum())
            step += 1
        test_correct = evaluate(torch, model, te_x, te_y)
        rec = {"epoch": epoch, "lr_end": lr, "train_loss": loss_sum / n_train,
               "train_acc": correct / n_train, "test_acc": test_correct / n_test,
               "seconds": time.time() - t_ep}
        if n_val:
            rec["val_acc"] = evaluate(torch, model, va_x, va_y) / n_val
        history.append(rec)
        log("epoch %2d/%d  lr %.5f  loss %.4f  train %.2f%%%s  test %.2f%%  (%.1f s)"
            % (epoch, args.epochs, lr, rec["train_loss"], 100 * rec["train_acc"],
               "  validation %.2f%%" % (100 * rec["val_acc"]) if n_val else "",
               100 * rec["test_acc"], rec["seconds"]))
    train_seconds = time.time() - t_start

    # The reported model is the one after the last epoch (no selection on the test set).
    test_correct = evaluate(torch, model, te_x, te_y)
    acc = test_correct / n_test
    log("final float test accuracy: %d/%d = %.2f%%  (training %.1f s)"
        % (test_correct, n_test, 100 * acc, train_seconds))

    os.makedirs(args.out_dir, exist_ok=True)
    onnx_path = os.path.join(args.out_dir, stem + ".onnx")
    json_path = os.path.join(args.out_dir, stem + ".json")
    export_onnx(torch, model, onnx_path, args.opset)
    ops, inits, io, onnx_version = check_onnx(onnx_path)
    log("exported %s (onnx.checker ok)" % onnx_path)
    log("  ops: " + ", ".join("%s(%s)" % (o["op_type"], o["name"]) for o in ops))
    log("  initializers: " + ", ".join("%s%s" % (t["name"], t["shape"]) for t in inits))

    meta = {
        "model": "LeNet-5" if args.variant == "classic" else "LeNet-5, the survey's variant",
        "variant": args.variant,
        "architecture": SURVEY_ARCHITECTURE if args.variant == "survey" else
                        "conv6@5x5 pad2 -> ReLU -> maxpool2x2 -> conv16@5x5 pad0 -> ReLU -> "
                        "maxpool2x2 -> flatten(400) -> fc120 -> ReLU -> fc84 -> ReLU -> fc10 (logits)",
        "input_preprocessing": "pixel / 255 in [0, 1], no mean/std normalisation",
        "float_test_accuracy": acc,
        "float_test_accuracy_percent": round(100 * acc, 4),
        "test_correct": test_correct,
        "test_total": n_test,
        "train_images": n_train,
        "validation_images": n_val,
        "final_validation_accuracy": history[-1].get("val_acc"),
        "epochs": args.epochs,
        "seed": args.seed,
        "hyperparameters": {
            "optimizer": "SGD",
            "lr": args.lr,
            "momentum": args.momentum,
            "weight_decay": args.weight_decay,
            "batch_size": args.batch_size,
            "loss": "cross-entropy",
            "lr_schedule": args.schedule,
            "warmup_epochs": args.warmup_epochs,
            "milestones": args.milestones if args.schedule == "step" else None,
            "gamma": args.gamma if args.schedule == "step" else None,
            "lr_decay_per_iteration": args.gamma if args.schedule == "inverse-time" else None,
            "iterations_per_epoch": steps_per_epoch,
            "lr_update": "per iteration",
            "data_augmentation": None,
        },
        "history": history,
        "training_seconds": round(train_seconds, 1),
        "torch_threads": torch.get_num_threads(),
        "torch_version": torch.__version__,
        "onnx_version": onnx_version,
        "numpy_version": np.__version__,
        "date": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
        "onnx_file": "models/%s.onnx" % stem,
        "onnx_sha256": sha256_file(onnx_path),
        "onnx_opset": args.opset,
        "onnx_io": io,
        "onnx_ops": sorted({o["op_type"] for o in ops}),
        "onnx_nodes": ops,
        "onnx_initializers": inits,
        "mnist_sha256": {name: sha256_file(os.path.join(args.data_dir, name))
                         for split in ("train", "test") for name in MNIST_FILES[split][:2]},
    }
    with open(json_path, "w") as f:
        json.dump(meta, f, indent=2)
        f.write("\n")
    log("wrote %s" % json_path)
    if args.variant != "classic":
        # (the classic model was committed before the script kept a log; its .json has the history)
        log_path = os.path.join(args.out_dir, stem + ".log")
        with open(log_path, "w") as f:
            f.write("\n".join(lines + ["wrote %s" % log_path]) + "\n")
        print("wrote %s" % log_path)

    if acc < args.min_accuracy:
        print("error: float test accuracy %.2f%% is below the required %.2f%%"
              % (100 * acc, 100 * args.min_accuracy), file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
