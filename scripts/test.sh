#!/usr/bin/env bash
# Installs what is missing, builds, and runs every test with ctest.
# Tests build in build-test/, with the EvoApprox slot pointed at the fixture folder tests/evoapprox
# (circuits written for the tests), so a user's build/ never lists those circuits.
#   scripts/test.sh              the suite, Release build (build-test/)
#   scripts/test.sh --sanitize   the suite built with clang, AddressSanitizer and UndefinedBehaviorSanitizer
#                                (no recovery: the first report fails its test), plus the libFuzzer targets
#                                over their committed corpora and a short fresh run each (build-sanitize/;
#                                docs/fuzzing.md)
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
mode=plain
case "${1:-}" in
  "") ;;
  --sanitize) mode=sanitize ;;
  *) echo "scripts/test.sh: unknown option '$1' (expected --sanitize or nothing)" >&2; exit 2 ;;
esac
"$root/scripts/setup.sh"
if [[ $mode == plain ]]; then
  "$root/scripts/build.sh" "$root/build-test" -DAXSA_EVOAPPROX_DIR="$root/tests/evoapprox/multiplers"
  cd "$root/build-test"
  ctest --output-on-failure -j "$(nproc)" --timeout 900
  exit
fi
"$root/scripts/build_sanitize.sh" "$root/build-sanitize"
cd "$root/build-sanitize"
# Reports go to files, not stderr: SystemC runs its processes on stacks of its own, and ASan warns once per
# process when an exception leaves one ("ignoring requested __asan_handle_no_return"), which would break
# every test that checks an error is one line. A real report still aborts its process (the test fails) and
# is printed below. Leaks are reported too (LeakSanitizer is part of ASan here); stack-use-after-return
# detection stays off, as it cannot follow those stack switches either.
logs="$root/build-sanitize/sanitizer-logs"
rm -rf "$logs" && mkdir -p "$logs"
export ASAN_OPTIONS="abort_on_error=1:detect_leaks=1:strict_string_checks=1:detect_stack_use_after_return=0:log_path=$logs/asan${ASAN_OPTIONS:+:$ASAN_OPTIONS}"
export UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1:log_path=$logs/ubsan${UBSAN_OPTIONS:+:$UBSAN_OPTIONS}"
export LSAN_OPTIONS="suppressions=$root/tests/sanitize_lsan.supp:print_suppressions=0${LSAN_OPTIONS:+:$LSAN_OPTIONS}"
# The few whole-data-set tests listed in tests/sanitize_exclude.txt run in the plain pass only; say which.
exclude=$(sed -n 's/^\([^#][^ ]*\) # .*/\1/p' "$root/tests/sanitize_exclude.txt" | paste -sd '|')
echo "test.sh --sanitize: not run under the sanitizers (tests/sanitize_exclude.txt says why):"
sed -n 's/^\([^#][^ ]*\) # .*/  \1/p' "$root/tests/sanitize_exclude.txt"
status=0
ctest --output-on-failure -j "$(nproc)" --timeout 1800 -E "$exclude" || status=$?
# Every report but that one warning is a finding, even from a child process whose test passed.
found=0
for f in "$logs"/*; do
  [[ -e "$f" ]] || continue
  if grep -qvE 'ASan is ignoring requested __asan_handle_no_return|False positive error reports may follow|google/sanitizers/issues/189|^$' "$f"; then
    echo "=== sanitizer report: $f" >&2
    head -60 "$f" >&2
    found=1
  fi
done
((found == 0)) || { echo "scripts/test.sh --sanitize: sanitizer reports above" >&2; status=1; }
exit $status
