#!/usr/bin/env bash
# Configures and builds the sanitizer and fuzzing build (docs/fuzzing.md): clang, AddressSanitizer and
# UndefinedBehaviorSanitizer on axsa's own code (the verilated models stay uninstrumented), the libFuzzer
# targets of tests/fuzz, -O1, no benchmarks, and the RTL array configurations of the plain build but
# 28x28 (an uninstrumented verilated model that only adds compile time: its C++ driver runs sanitized on
# the other six). Warnings do not fail it: -Werror is the plain (gcc) build's job,
# and clang's set differs. Usage: scripts/build_sanitize.sh [BUILD_DIR] [cmake args...]
# BUILD_DIR defaults to build-sanitize/. scripts/test.sh --sanitize and scripts/fuzz.sh use it.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
dir="$root/build-sanitize"
if [[ $# -gt 0 && "$1" != -* ]]; then
  dir="$1"
  shift
fi
for tool in clang clang++; do
  command -v "$tool" > /dev/null || { echo "scripts/build_sanitize.sh: $tool is missing (scripts/setup.sh installs it)" >&2; exit 1; }
done
CC=clang CXX=clang++ "$root/scripts/build.sh" "$dir" -DAXSA_SANITIZE=ON -DAXSA_FUZZ=ON -DAXSA_BUILD_BENCH=OFF -DAXSA_WERROR=OFF \
  -DCMAKE_CXX_FLAGS_RELEASE="-O1 -DNDEBUG" -DAXSA_EVOAPPROX_DIR="$root/tests/evoapprox/multiplers" \
  "-DAXSA_RTL_CONFIGS=1x1x8:exact8;4x4x8:exact8;8x8x8:drum8_k4;4x4x16:exact16;3x5x6x14:bam8_h1_v4;4x4x8:drum12_k6" "$@"
