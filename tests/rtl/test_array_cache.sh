#!/usr/bin/env bash
# RTL array configurations built on demand (rtl/array/array_cache.h), through axsa coverify on a
# configuration no build verilates (2x3, W=8, A=32, exact8), in a fresh cache directory:
#   1. two concurrent first uses: both succeed, exactly one builds, the other waits and loads it;
#   2. a later use reuses the entry: no build, the object untouched;
#   3. a corrupted object (bytes overwritten) and a half-written entry (no manifest) are rebuilt;
#   4. a request no configuration can satisfy is one error line and exit 2, before any build.
# Usage: test_array_cache.sh AXSA_BIN WORK_DIR
set -euo pipefail
axsa=$1
work=$2
rm -rf "$work"
mkdir -p "$work"
export AXSA_CACHE_DIR="$work/cache"
args=(coverify --rows 2 --cols 3 --bits 8 --mult exact8 --m 5 --k 7 --n 4 --faults 3 --json)
fail() { echo "FAIL: $*" >&2; exit 1; }
built_lines() { grep -c "verilating and compiling it into" "$1" || true; }
object() { ls "$AXSA_CACHE_DIR"/rtl-arrays/2x3x8x32_exact8-*/model.so; }

# 1. Concurrent first uses.
"$axsa" "${args[@]}" > "$work/a.json" 2> "$work/a.err" & pa=$!
"$axsa" "${args[@]}" > "$work/b.json" 2> "$work/b.err" & pb=$!
wait $pa || fail "first concurrent run: exit $? ($(cat "$work/a.err"))"
wait $pb || fail "second concurrent run: exit $? ($(cat "$work/b.err"))"
for r in a b; do
  grep -q '"match": true' "$work/$r.json" || fail "run $r did not match: $(cat "$work/$r.json")"
  grep -q '"rtl": "2x3x8x32:exact8"' "$work/$r.json" || fail "run $r ran another configuration"
done
builds=$(( $(built_lines "$work/a.err") + $(built_lines "$work/b.err") ))
[[ $builds -eq 1 ]] || fail "two concurrent first uses built $builds times (expected 1)"
grep -q '"rtl_origin": "built now"' "$work/a.json" "$work/b.json" || fail "no run says it built the entry"
grep -q '"rtl_origin": "cached"' "$work/a.json" "$work/b.json" || fail "no run says it loaded the cached entry"
[[ $(ls -d "$AXSA_CACHE_DIR"/rtl-arrays/2x3x8x32_exact8-*/ | wc -l) -eq 1 ]] || fail "more than one entry"
[[ -z $(ls -A "$AXSA_CACHE_DIR"/rtl-arrays | grep '^\.build-' || true) ]] || fail "a temporary build directory was left"
echo "ok 1: concurrent first uses, one build"

# 2. Reuse.
so=$(object)
before=$(stat -c %Y.%i "$so")
sleep 1
"$axsa" "${args[@]}" > "$work/c.json" 2> "$work/c.err" || fail "reuse run: exit $?"
[[ $(built_lines "$work/c.err") -eq 0 ]] || fail "the second use rebuilt: $(cat "$work/c.err")"
grep -q '"rtl_origin": "cached"' "$work/c.json" || fail "reuse run: $(cat "$work/c.json")"
[[ $(stat -c %Y.%i "$so") == "$before" ]] || fail "the cached object changed on reuse"
echo "ok 2: reused without rebuilding"

# 3a. Corrupted object: overwrite bytes in the middle (same size).
printf 'garbage!' | dd of="$so" bs=1 seek=4096 conv=notrunc status=none
"$axsa" "${args[@]}" > "$work/d.json" 2> "$work/d.err" || fail "run on a corrupted entry: exit $? ($(cat "$work/d.err"))"
grep -q "is damaged (model.so does not match its manifest); rebuilding it" "$work/d.err" || fail "corruption not reported: $(cat "$work/d.err")"
[[ $(built_lines "$work/d.err") -eq 1 ]] || fail "corrupted entry not rebuilt"
grep -q '"match": true' "$work/d.json" || fail "run after the rebuild did not match"
# 3b. Half-written entry: the manifest (written last) is missing.
rm "$(dirname "$(object)")/manifest"
"$axsa" "${args[@]}" > "$work/e.json" 2> "$work/e.err" || fail "run on a half-written entry: exit $?"
grep -q "is damaged (no manifest)" "$work/e.err" || fail "half-written entry not reported: $(cat "$work/e.err")"
grep -q '"match": true' "$work/e.json" || fail "run after the second rebuild did not match"
echo "ok 3: corrupted and half-written entries rebuilt"

# 4. Impossible requests: one line, exit 2, nothing built.
set +e
"$axsa" coverify --rows 2 --cols 3 --bits 12 --mult exact8 > /dev/null 2> "$work/f.err"; status=$?
set -e
[[ $status -eq 2 ]] || fail "a multiplier narrower than the data: exit $status (expected 2)"
[[ $(wc -l < "$work/f.err") -eq 1 ]] || fail "expected one error line: $(cat "$work/f.err")"
grep -q "narrower than the 12-bit data" "$work/f.err" || fail "unexpected message: $(cat "$work/f.err")"
echo "ok 4: impossible request refused"
