#!/usr/bin/env bash
# Installs the build into a fresh prefix, builds tests/install/consumer against it with
# find_package(axsa), runs it, and checks that no installed file names the source or build tree.
# Usage: check_install.sh BUILD_DIR SOURCE_DIR WORK_DIR
set -euo pipefail
build=$1 source=$2 work=$3
rm -rf "$work"
mkdir -p "$work"
cmake --install "$build" --prefix "$work/prefix" > "$work/install.log"
# A sanitizer build installs instrumented libraries: the consumer then needs the same compiler and runtimes.
extra=()
if grep -q '^AXSA_SANITIZE:BOOL=ON' "$build/CMakeCache.txt"; then
  cxx=$(sed -n 's/^CMAKE_CXX_COMPILER:[A-Z]*=//p' "$build/CMakeCache.txt")
  flags="-fsanitize=address,undefined"
  grep -q '^AXSA_FUZZ:BOOL=ON' "$build/CMakeCache.txt" && flags="$flags,fuzzer-no-link"
  extra=(-DCMAKE_CXX_COMPILER="$cxx" -DCMAKE_CXX_FLAGS="$flags" -DCMAKE_EXE_LINKER_FLAGS="$flags")
fi
cmake -S "$source/tests/install/consumer" -B "$work/consumer" -DCMAKE_PREFIX_PATH="$work/prefix" \
  -DCMAKE_BUILD_TYPE=Release "${extra[@]}" > "$work/configure.log"
cmake --build "$work/consumer" > "$work/build.log"
SYSTEMC_DISABLE_COPYRIGHT_MESSAGE=1 "$work/consumer/axsa_consumer"
# A sanitizer build keeps debug line tables (-g1), which name the source files: the tree check is the
# plain build's (it runs there), and is said to be skipped here.
trees=("$source" "$build")
if ((${#extra[@]})); then
  echo "check_install: sanitizer build: its libraries carry debug paths; the source-tree check runs in the plain build"
  trees=()
fi
for tree in "${trees[@]}"; do
  if grep -rlF "$tree" "$work/prefix"; then
    echo "check_install: installed files above name $tree" >&2
    exit 1
  fi
done
[[ -n "$(find "$work/prefix" -name axsaConfig.cmake)" ]] || { echo "check_install: axsaConfig.cmake not installed" >&2; exit 1; }
for f in include/axsa/hw/pe.h include/axsa/tlm/accelerator.h; do
  [[ -e "$work/prefix/$f" ]] || { echo "check_install: $f not installed" >&2; exit 1; }
done
