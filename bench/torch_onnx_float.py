#!/usr/bin/python3
"""PyTorch float inference of any ONNX model of the ops axsa imports (every graph output, so a
multi-exit network runs all its exits, as its exported module does), over an IDX test set: images
per second and each output's accuracy, as one JSON object. Part of bench/multi_exit_bench.sh.

The graph's nodes run in file order through torch.nn.functional on the ONNX weights; nothing of
axsa is used."""
import argparse
import json
import os
import sys
import time

root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(root, "scripts"))
from train_lenet5 import read_idx_images, read_idx_labels  # noqa: E402


def attrs(node):
    import onnx
    return {a.name: onnx.helper.get_attribute_value(a) for a in node.attribute}


def make_runner(model, torch):
    import torch.nn.functional as F
    from onnx import numpy_helper

    consts = {t.name: torch.from_numpy(numpy_helper.to_array(t).copy()) for t in model.graph.initializer}
    for n in model.graph.node:
        if n.op_type == "Constant":
            consts[n.output[0]] = torch.from_numpy(numpy_helper.to_array(attrs(n)["value"]).copy())
    nodes = [(n, attrs(n)) for n in model.graph.node if n.op_type != "Constant"]
    inp = model.graph.input[0].name
    outs = [o.name for o in model.graph.output]

    def pads(a):
        p = list(a.get("pads", [0, 0, 0, 0]))
        return p

    def run(x):
        v = dict(consts)
        v[inp] = x
        for n, a in nodes:
            i = [v[name] for name in n.input if name]
            op = n.op_type
            if op == "Conv":
                p = pads(a)
                y = i[0]
                if p[0] != p[2] or p[1] != p[3]:
                    y = F.pad(y, (p[1], p[3], p[0], p[2]))
                    p = [0, 0, 0, 0]
                y = F.conv2d(y, i[1], i[2] if len(i) > 2 else None, stride=tuple(a.get("strides", [1, 1])),
                             padding=(p[0], p[1]))
            elif op == "Relu":
                y = F.relu(i[0])
            elif op in ("MaxPool", "AveragePool"):
                p = pads(a)
                k, s = tuple(a["kernel_shape"]), tuple(a.get("strides", [1, 1]))
                if op == "MaxPool":
                    y = F.max_pool2d(i[0], k, s, padding=(p[0], p[1]))
                else:
                    y = F.avg_pool2d(i[0], k, s, padding=(p[0], p[1]), count_include_pad=False)
            elif op in ("Flatten", "Reshape"):
                y = torch.flatten(i[0], 1)
            elif op == "Gemm":
                w = i[1].t() if a.get("transB", 0) else i[1]
                y = i[0] @ w
                if len(i) > 2:
                    y = y + i[2]
            elif op == "MatMul":
                y = i[0] @ i[1]
            elif op == "Add":
                y = i[0] + i[1]
            elif op == "Softmax":
                y = F.softmax(i[0], dim=-1)
            else:
                raise SystemExit(f"torch_onnx_float.py: error: op {op} is not supported here")
            v[n.output[0]] = y
        return [v[o] for o in outs]

    return run, outs


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--model", required=True)
    ap.add_argument("--data", default=os.path.join(root, "data", "mnist"))
    ap.add_argument("--threads", type=int, default=os.cpu_count() or 1)
    ap.add_argument("--batch", type=int, default=1000)
    ap.add_argument("--repeat", type=int, default=3)
    args = ap.parse_args()

    import onnx
    import torch

    torch.set_num_threads(args.threads)
    run, outs = make_runner(onnx.load(args.model), torch)
    images = read_idx_images(os.path.join(args.data, "t10k-images-idx3-ubyte"))
    labels = read_idx_labels(os.path.join(args.data, "t10k-labels-idx1-ubyte"))
    x = torch.from_numpy(images.astype("float32") / 255.0).reshape(-1, 1, 28, 28)
    y = torch.from_numpy(labels.astype("int64"))
    best = float("inf")
    correct = [0] * len(outs)
    with torch.no_grad():
        for _ in range(args.repeat):
            t0 = time.perf_counter()
            correct = [0] * len(outs)
            for i in range(0, x.shape[0], args.batch):
                for o, out in enumerate(run(x[i:i + args.batch])):
                    correct[o] += int((out.argmax(dim=1) == y[i:i + args.batch]).sum())
            best = min(best, time.perf_counter() - t0)
    n = int(x.shape[0])
    print(json.dumps({"engine": "pytorch-float", "torch": torch.__version__, "threads": args.threads,
                      "model": args.model, "images": n, "wall_seconds": best, "images_per_second": n / best,
                      "accuracy": {o: c / n for o, c in zip(outs, correct)}}))


if __name__ == "__main__":
    main()
