#!/usr/bin/env bash
# Installs the build into a fresh prefix, builds tests/install/consumer against it with
# find_package(axsa), runs it, and checks that no installed file names the source or build tree.
# Usage: check_install.sh BUILD_DIR SOURCE_DIR WORK_DIR
set -euo pipefail
build=$1 source=$2 work=$3
rm -rf "$work"
mkdir -p "$work"
cmake --install "$build" --prefix "$work/prefix" > "$work/install.log"
cmake -S "$source/tests/install/consumer" -B "$work/consumer" -DCMAKE_PREFIX_PATH="$work/prefix" \
  -DCMAKE_BUILD_TYPE=Release > "$work/configure.log"
cmake --build "$work/consumer" > "$work/build.log"
SYSTEMC_DISABLE_COPYRIGHT_MESSAGE=1 "$work/consumer/axsa_consumer"
for tree in "$source" "$build"; do
  if grep -rlF "$tree" "$work/prefix"; then
    echo "check_install: installed files above name $tree" >&2
    exit 1
  fi
done
[[ -n "$(find "$work/prefix" -name axsaConfig.cmake)" ]] || { echo "check_install: axsaConfig.cmake not installed" >&2; exit 1; }
for f in include/axsa/hw/pe.h include/axsa/tlm/accelerator.h; do
  [[ -e "$work/prefix/$f" ]] || { echo "check_install: $f not installed" >&2; exit 1; }
done
