#!/usr/bin/python3
"""Train LeNet-5 on MNIST and export it to ONNX for the axsa accelerator model.

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
def build_model(torch):
    nn = torch.nn

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


def parse_args(argv):
    p = argparse.ArgumentParser(
        description="Train LeNet-5 on MNIST (inputs pixel/255, no normalisation) with "
                    "SGD lr 0.05, momentum 0.9, wd 5e-4, batch 128, then export "
                    "models/lenet5.onnx and models/lenet5.json.",
        formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    p.add_argument("--data-dir", default=os.path.join(REPO_ROOT, "data", "mnist"),
                   help="folder with the four MNIST IDX files (scripts/fetch_mnist.sh)")
    p.add_argument("--out-dir", default=os.path.join(REPO_ROOT, "models"),
                   help="where lenet5.onnx and lenet5.json are written")
    p.add_argument("--epochs", type=int, default=20, help="training epochs")
    p.add_argument("--seed", type=int, default=1, help="random seed (init and shuffling)")
    p.add_argument("--schedule", choices=["cosine", "step", "constant"], default="cosine",
                   help="learning-rate schedule after warm-up (cosine decays to 0 per iteration)")
    p.add_argument("--warmup-epochs", type=float, default=1.0,
                   help="linear learning-rate warm-up length in epochs (0 disables)")
    p.add_argument("--milestones", type=int, nargs="*", default=[10, 15],
                   help="epochs at which --schedule step multiplies the lr by --gamma")
    p.add_argument("--gamma", type=float, default=0.1, help="step schedule decay factor")
    p.add_argument("--threads", type=int, default=1,
                   help="torch intra-op threads (1 keeps a core free for other work)")
    p.add_argument("--min-accuracy", type=float, default=0.99,
                   help="exit non-zero (after writing outputs) if float test accuracy is below this")
    p.add_argument("--opset", type=int, default=13, help="ONNX opset version")
    # Fixed by the reference paper; exposed only so the values are visible in --help.
    p.add_argument("--lr", type=float, default=0.05, help="base learning rate (paper: 0.05)")
    p.add_argument("--momentum", type=float, default=0.9, help="SGD momentum (paper: 0.9)")
    p.add_argument("--weight-decay", type=float, default=5e-4, help="weight decay (paper: 5e-4)")
    p.add_argument("--batch-size", type=int, default=128, help="mini-batch size (paper: 128)")
    return p.parse_args(argv)


def main(argv=None):
    args = parse_args(argv)

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
    n_train, n_test = tr_x.shape[0], te_x.shape[0]
    print("MNIST: %d train, %d test images from %s" % (n_train, n_test, args.data_dir), flush=True)

    model = build_model(torch)
    opt = torch.optim.SGD(model.parameters(), lr=args.lr, momentum=args.momentum,
                          weight_decay=args.weight_decay)
    loss_fn = torch.nn.CrossEntropyLoss()

    steps_per_epoch = math.ceil(n_train / args.batch_size)
    total_steps = steps_per_epoch * args.epochs
    warmup_steps = int(round(args.warmup_epochs * steps_per_epoch))
    shuffle_gen = torch.Generator().manual_seed(args.seed)

    print("LeNet-5: %d parameters; SGD lr %g momentum %g wd %g batch %d; %d epochs, "
          "schedule %s, warm-up %g epochs; %d torch thread(s)"
          % (sum(p.numel() for p in model.parameters()), args.lr, args.momentum,
             args.weight_decay, args.batch_size, args.epochs, args.schedule,
             args.warmup_epochs, torch.get_num_threads()), flush=True)

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
        history.append(rec)
        print("epoch %2d/%d  lr %.5f  loss %.4f  train %.2f%%  test %.2f%%  (%.1f s)"
              % (epoch, args.epochs, lr, rec["train_loss"], 100 * rec["train_acc"],
                 100 * rec["test_acc"], rec["seconds"]), flush=True)
    train_seconds = time.time() - t_start

    # The reported model is the one after the last epoch (no selection on the test set).
    test_correct = evaluate(torch, model, te_x, te_y)
    acc = test_correct / n_test
    print("final float test accuracy: %d/%d = %.2f%%  (training %.1f s)"
          % (test_correct, n_test, 100 * acc, train_seconds), flush=True)

    os.makedirs(args.out_dir, exist_ok=True)
    onnx_path = os.path.join(args.out_dir, "lenet5.onnx")
    json_path = os.path.join(args.out_dir, "lenet5.json")
    export_onnx(torch, model, onnx_path, args.opset)
    ops, inits, io, onnx_version = check_onnx(onnx_path)
    print("exported %s (onnx.checker ok)" % onnx_path)
    print("  ops: " + ", ".join("%s(%s)" % (o["op_type"], o["name"]) for o in ops))
    print("  initializers: " + ", ".join("%s%s" % (t["name"], t["shape"]) for t in inits))

    meta = {
        "model": "LeNet-5",
        "architecture": "conv6@5x5 pad2 -> ReLU -> maxpool2x2 -> conv16@5x5 pad0 -> ReLU -> "
                        "maxpool2x2 -> flatten(400) -> fc120 -> ReLU -> fc84 -> ReLU -> fc10 (logits)",
        "input_preprocessing": "pixel / 255 in [0, 1], no mean/std normalisation",
        "float_test_accuracy": acc,
        "float_test_accuracy_percent": round(100 * acc, 4),
        "test_correct": test_correct,
        "test_total": n_test,
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
        "onnx_file": "models/lenet5.onnx",
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
    print("wrote %s" % json_path)

    if acc < args.min_accuracy:
        print("error: float test accuracy %.2f%% is below the required %.2f%%"
              % (100 * acc, 100 * args.min_accuracy), file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
