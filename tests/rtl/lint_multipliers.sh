#!/usr/bin/env bash
# Lints every in-house multiplier of rtl/mult/multipliers.txt with `verilator --lint-only -Wall`
# at the parameters the build uses; any warning fails.
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
status=0
count=0
while read -r name module n params; do
  [[ -z "${name:-}" || "$name" == \#* ]] && continue
  args=(-GN="$n")
  for p in ${params:-}; do args+=(-G"$p"); done
  if ! out=$(verilator --lint-only -Wall "${args[@]}" --top-module "$module" "$root/rtl/mult/$module.v" 2>&1); then
    echo "FAIL $name: $out"
    status=1
  elif [[ -n "$out" ]]; then
    echo "WARN $name: $out"
    status=1
  fi
  count=$((count + 1))
done <"$root/rtl/mult/multipliers.txt"
echo "linted $count multipliers"
exit $status
