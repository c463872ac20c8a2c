#!/usr/bin/env bash
# Mutation check of the test suite (docs/testing.md): makes one small, realistic bug at a time with
# sed, rebuilds only the targets the catching tests need, runs those tests, records caught/missed
# and the time, and puts the source back. The source is restored on every exit path (a trap), so
# an interrupted run never leaves a mutant behind.
# Usage: scripts/mutation_check.sh [BUILD_DIR] [MUTATION...]   (BUILD_DIR configured as scripts/test.sh
#        does; no MUTATION names: all of them). Prints one table row per mutation; exit 1 if any is missed.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
build="$root/build-test"
if [[ $# -gt 0 && "$1" != [a-z]*_* ]]; then
  build=$(cd "$1" && pwd)
  shift
fi
jobs=${AXSA_MUTATION_JOBS:-2}

# name | file | sed expression | build targets | ctest regex (the tests expected to catch it)
mutations=(
  "bias_scale|sw/quantized_network.cpp|s#static_cast<double>(l.bias\[n\]) / ql.acc_scale#static_cast<double>(l.bias[n]) / ql.weight_scale#|axsa_infer_tests|every_layer_stays_within"
  "bias_zero|sw/quantized_network.cpp|s#ql.bias_acc\[n\] = l.bias.empty() ? 0 : .*;#ql.bias_acc[n] = 0;#|axsa_infer_tests|every_layer_stays_within"
  "softmax_scale|faults/campaign.cpp|s#if (l.produces_logits) return l.acc_scale;#if (is_gemm(l.kind)) return l.acc_scale;#|axsa|reference_campaign"
  "register_m_k_swapped|tlm/accelerator.h|s#constexpr std::uint64_t m = 0x18;#constexpr std::uint64_t m = 0x1C;#;s#constexpr std::uint64_t k = 0x1C;#constexpr std::uint64_t k = 0x18;#|test_accelerator|accelerator_gemm"
  "fault_bit_numbering|hw/fault.h|s#const std::uint32_t m = 1u << bit;#const std::uint32_t m = 1u << (data_bits - 1 - bit);#|test_saboteur|saboteur"
  "drain_one_cycle_longer|hw/dataflow.cpp|s#m_drain = m_rows;#m_drain = m_rows + 1;#|test_accelerator|accelerator_gemm"
  "link_fault_one_row|faults/campaign.cpp|s#const std::uint64_t i_end = link ? rows_used : r + 1;#const std::uint64_t i_end = link ? std::min<std::uint64_t>(rows_used, r + 1) : r + 1;#|axsa|reference_campaign"
  "requantise_half_down|sw/quantized_network.h|s#if (frac >= 0.5) ++r;#if (frac > 0.5) ++r;#|axsa_infer_tests|quantization.pixels_requantisation|every_layer_stays_within"
)

backup_dir=$(mktemp -d)
current=""
restore() {
  if [[ -n "$current" && -f "$backup_dir/file" ]]; then
    # Restored with a new time stamp: with the old one (cp -p) make would keep the mutated objects.
    cp "$backup_dir/file" "$root/$current"
    touch "$root/$current"
    current=""
  fi
}
cleanup() {
  restore
  rm -rf "$backup_dir"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

selected=("$@")
missed=0
# A mutation counts as caught only if its tests pass on the unmutated tree: check that first.
baseline=()
for entry in "${mutations[@]}"; do
  IFS='|' read -r name file expr targets regex extra <<<"$entry"
  [[ -n "${extra:-}" ]] && regex="$regex|$extra"
  if ((${#selected[@]} > 0)) && [[ ! " ${selected[*]} " == *" $name "* ]]; then continue; fi
  baseline+=("$regex")
done
all_regex=$(IFS='|'; echo "${baseline[*]}")
# shellcheck disable=SC2046
cmake --build "$build" -j "$jobs" >"$backup_dir/baseline_build.log" 2>&1 ||
  { echo "mutation_check: the unmutated tree does not build (see $backup_dir/baseline_build.log)" >&2; exit 2; }
if ! (cd "$build" && ctest -R "$all_regex" -j "$jobs" --timeout 900 >"$backup_dir/baseline.log" 2>&1); then
  echo "mutation_check: the catching tests fail on the unmutated tree; nothing would prove a catch" >&2
  exit 2
fi
printf '| mutation | file | catching test(s) | result | seconds |\n|---|---|---|---|---|\n'
for entry in "${mutations[@]}"; do
  IFS='|' read -r name file expr targets regex extra <<<"$entry"
  [[ -n "${extra:-}" ]] && regex="$regex|$extra"
  if ((${#selected[@]} > 0)) && [[ ! " ${selected[*]} " == *" $name "* ]]; then continue; fi
  if ! git -C "$root" diff --quiet -- "$file"; then
    echo "mutation_check: $file has uncommitted changes; commit or stash them first" >&2
    exit 2
  fi
  start=$(date +%s)
  cp -p "$root/$file" "$backup_dir/file"
  current="$file"
  sed -i -e "$expr" "$root/$file"
  if cmp -s "$root/$file" "$backup_dir/file"; then
    echo "mutation_check: $name did not change $file (the sed pattern no longer matches)" >&2
    exit 2
  fi
  result="missed"
  # shellcheck disable=SC2086
  if ! cmake --build "$build" -j "$jobs" --target $targets >"$backup_dir/build.log" 2>&1; then
    result="caught (build)"
  elif ! (cd "$build" && ctest -R "$regex" -j "$jobs" --timeout 900 >"$backup_dir/ctest.log" 2>&1); then
    if grep -q "No tests were found" "$backup_dir/ctest.log"; then
      echo "mutation_check: no test matches '$regex'" >&2
      exit 2
    fi
    result="caught"
  fi
  restore
  [[ "$result" == missed ]] && missed=$((missed + 1))
  printf '| %s | %s | %s | %s | %d |\n' "$name" "$file" "$regex" "$result" $(($(date +%s) - start))
done
# Leave the build matching the restored source.
cmake --build "$build" -j "$jobs" >/dev/null 2>&1 || true
((missed == 0))
