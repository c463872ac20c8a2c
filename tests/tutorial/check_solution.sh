#!/usr/bin/env bash
# Lesson 5's worked solution (docs/tutorial/solutions/05-zero-gating.patch): it applies cleanly to
# hw/pe.h and hw/pe.cpp as they are, the patched PE (and the structural array that includes it)
# compiles, and the patch really adds the gating and the counter.
# Usage: check_solution.sh SOURCE_DIR WORK_DIR CXX "SYSTEMC_INCLUDE_DIRS"
set -euo pipefail
src=$1
work=$2
cxx=$3
sc_includes=$4
patch="$src/docs/tutorial/solutions/05-zero-gating.patch"
fail() { echo "FAIL: $*" >&2; exit 1; }

git -C "$src" apply --check "$patch" || fail "the patch does not apply to $src/hw/pe.{h,cpp}"
touched=$(git -C "$src" apply --numstat "$patch" | awk '{print $3}' | sort | tr '\n' ' ')
[[ $touched == "hw/pe.cpp hw/pe.h " ]] || fail "the patch should touch hw/pe.h and hw/pe.cpp only (touches: $touched)"

rm -rf "$work"
mkdir -p "$work/hw"
cp "$src/hw/pe.h" "$src/hw/pe.cpp" "$work/hw/"
# Outside any repository (the work folder may lie inside the checkout, where git apply would skip
# paths outside the current folder).
(cd "$work" && GIT_CEILING_DIRECTORIES=$(dirname "$work") git apply "$patch")
grep -q "macs_saved" "$work/hw/pe.h" || fail "patched pe.h has no macs_saved counter"
grep -q "gated" "$work/hw/pe.cpp" || fail "patched pe.cpp does not gate"

includes=(-I "$work" -I "$src")
for d in $sc_includes; do includes+=(-isystem "$d"); done
for f in "$work/hw/pe.cpp" "$src/hw/pe_array.cpp"; do
  "$cxx" -std=c++17 -fsyntax-only -Wall -Wextra -Wpedantic -Wshadow -Wconversion -Wno-sign-conversion -Werror "${includes[@]}" "$f" || fail "$f does not compile with the patched PE"
done
echo "ok: the solution applies to hw/pe.{h,cpp} and compiles"
