#!/usr/bin/env bash
# Configures and builds axsa (Release). Usage: scripts/build.sh [BUILD_DIR] [cmake configure args...]
# BUILD_DIR defaults to build/.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
dir="$root/build"
if [[ $# -gt 0 && "$1" != -* ]]; then
  dir="$1"
  shift
fi
cmake -S "$root" -B "$dir" -DCMAKE_BUILD_TYPE=Release "$@"
cmake --build "$dir" -j "$(nproc)"
