#!/usr/bin/python3
"""PyTorch float inference of the committed LeNet-5 (weights read from the ONNX file) over the MNIST
test set: images per second and accuracy, as one JSON object. Part of bench/infer_bench.sh."""
import argparse
import json
import os
import sys
import time

root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(root, "scripts"))
from train_lenet5 import build_model, load_mnist_split  # noqa: E402


def main():
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--model", default=os.path.join(root, "models", "lenet5.onnx"))
    ap.add_argument("--data", default=os.path.join(root, "data", "mnist"))
    ap.add_argument("--threads", type=int, default=os.cpu_count() or 1)
    ap.add_argument("--batch", type=int, default=1000)
    ap.add_argument("--repeat", type=int, default=3)
    args = ap.parse_args()

    import onnx
    import torch
    from onnx import numpy_helper

    torch.set_num_threads(args.threads)
    model = build_model(torch)
    weights = {t.name: torch.from_numpy(numpy_helper.to_array(t).copy()) for t in onnx.load(args.model).graph.initializer}
    model.load_state_dict(weights)
    model.eval()
    images, labels = load_mnist_split(args.data, "test")
    x = torch.from_numpy(images.astype("float32") / 255.0).reshape(-1, 1, 28, 28)
    y = torch.from_numpy(labels.astype("int64"))
    best = float("inf")
    correct = 0
    with torch.no_grad():
        for _ in range(args.repeat):
            t0 = time.perf_counter()
            correct = 0
            for i in range(0, x.shape[0], args.batch):
                correct += int((model(x[i:i + args.batch]).argmax(dim=1) == y[i:i + args.batch]).sum())
            best = min(best, time.perf_counter() - t0)
    print(json.dumps({"engine": "pytorch-float", "torch": torch.__version__, "threads": args.threads,
                      "images": int(x.shape[0]), "accuracy": correct / x.shape[0], "wall_seconds": best,
                      "images_per_second": x.shape[0] / best}))


if __name__ == "__main__":
    main()
