#!/usr/bin/env bash
# Source coverage of one fuzz target's corpus (docs/fuzzing.md): builds the target with clang's
# source-based coverage in build-fuzzcov/, runs every input of the corpus once, and prints llvm-cov's
# line and branch summary for the files named, then writes the annotated sources to
# build-fuzzcov/<target>-coverage/ (text, one file per source).
# Usage: scripts/fuzz_coverage.sh TARGET [CORPUS_DIR] [SOURCE_FILE...]
#   e.g. scripts/fuzz_coverage.sh fuzz_tlm tests/fuzz/corpus/fuzz_tlm tlm/accelerator.cpp
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
[[ $# -ge 1 ]] || { echo "usage: scripts/fuzz_coverage.sh TARGET [CORPUS_DIR] [SOURCE_FILE...]" >&2; exit 2; }
target=$1
corpus=${2:-$root/tests/fuzz/corpus/$target}
shift $(($# >= 2 ? 2 : 1))
[[ -f "$root/tests/fuzz/$target.cpp" ]] || { echo "scripts/fuzz_coverage.sh: no target $target in tests/fuzz" >&2; exit 2; }
[[ -d "$corpus" ]] || { echo "scripts/fuzz_coverage.sh: $corpus is not a folder" >&2; exit 2; }
dir=$root/build-fuzzcov
flags="-fprofile-instr-generate -fcoverage-mapping"
mkdir -p "$dir"
# The configure-time scanner (rtl/mult_scan) is built with these flags too: its profile goes nowhere.
LLVM_PROFILE_FILE=/dev/null CC=clang CXX=clang++ cmake -S "$root" -B "$dir" -DCMAKE_BUILD_TYPE=Release -DAXSA_FUZZ=ON -DAXSA_WERROR=OFF \
  -DAXSA_BUILD_BENCH=OFF -DCMAKE_CXX_FLAGS="$flags" -DCMAKE_EXE_LINKER_FLAGS="$flags" > "$dir/build.log" 2>&1 ||
  { tail -20 "$dir/build.log" >&2; exit 1; }
cmake --build "$dir" -j "$(nproc)" --target "$target" >> "$dir/build.log" 2>&1 || { tail -20 "$dir/build.log" >&2; exit 1; }
bin=$dir/tests/fuzz/$target
rm -f "$dir"/*.profraw
LSAN_OPTIONS="suppressions=$root/tests/fuzz/lsan.supp" LLVM_PROFILE_FILE="$dir/$target-%p.profraw" \
  "$bin" -runs=0 "$corpus" > "$dir/$target-run.log" 2>&1
llvm-profdata merge -sparse "$dir"/"$target"-*.profraw -o "$dir/$target.profdata"
files=()
for f in "$@"; do files+=("$root/$f"); done
llvm-cov report "$bin" -instr-profile="$dir/$target.profdata" "${files[@]}"
rm -rf "$dir/$target-coverage"
llvm-cov show "$bin" -instr-profile="$dir/$target.profdata" -show-branches=count -format=text \
  -output-dir="$dir/$target-coverage" "${files[@]}"
echo "annotated sources: $dir/$target-coverage"
