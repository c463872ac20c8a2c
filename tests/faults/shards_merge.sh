#!/usr/bin/env bash
# Shards 1/4..4/4 of a campaign, merged by axsa merge, equal one process's run of the whole campaign
# (tables and report), whatever order the shards are named in; every kind of bad shard set is
# refused with exit 2 and one line naming the problem, and writes nothing; a partial merge
# (--partial) resumes, without MPI or shards, to the same database.
# Usage: shards_merge.sh AXSA_BINARY WORK_DIR
set -euo pipefail
axsa=$1
dir=$2
rm -rf "$dir"
mkdir -p "$dir"
fail() { echo "shards_merge: FAIL: $*" >&2; exit 1; }
q() { sqlite3 -cmd ".timeout 2000" "$1" "$2"; }
common=(campaign --rows 8 --cols 8 --images 12 --margin 0.05 --jobs 2 --calibration 200)
args=("${common[@]}" --seed 3)

source "$(dirname "$0")/same_campaign.sh"

"$axsa" "${args[@]}" --out "$dir/whole.db" > /dev/null 2> "$dir/whole.log" || fail "the single run failed"
total=$(q "$dir/whole.db" "select count(*) from faults")
[[ "$total" -gt 100 ]] || fail "expected a sample of more than 100 faults, got $total"
for i in 1 2 3 4; do
  "$axsa" "${args[@]}" --shard "$i/4" --out "$dir/s$i.db" > /dev/null 2> "$dir/s$i.log" || fail "shard $i/4 failed"
  n=$(q "$dir/s$i.db" "select count(*) from faults")
  [[ "$n" -eq $(( (total - i) / 4 + 1 )) ]] || fail "shard $i/4 holds $n faults of $total"
  bad=$(q "$dir/s$i.db" "select count(*) from faults where id % 4 <> $((i - 1))")
  [[ "$bad" -eq 0 ]] || fail "shard $i/4 holds $bad faults of other shards"
  "$axsa" report "$dir/s$i.db" | grep -q "shard $i/4 of the sample, complete" || fail "the report of shard $i/4"
done

"$axsa" merge "$dir/merged.db" "$dir/s3.db" "$dir/s1.db" "$dir/s4.db" "$dir/s2.db" > "$dir/merge.out" ||
  fail "merge failed"
grep -q "merged       4 shards" "$dir/merge.out" || fail "merge printed: $(cat "$dir/merge.out")"
same_campaign "$dir/whole.db" "$dir/merged.db"
echo "shards 1/4..4/4 merged equal the single run ($total faults)"

# The bad sets. Each: exit 2, exactly one line on stderr containing the pattern, no output file.
refused() {
  local pattern=$1
  shift
  rm -f "$dir/out.db"
  local rc=0
  "$axsa" merge "$@" > /dev/null 2> "$dir/err.txt" || rc=$?
  [[ $rc -eq 2 ]] || fail "merge $* exited $rc, expected 2 ($(cat "$dir/err.txt"))"
  [[ $(wc -l < "$dir/err.txt") -eq 1 ]] || fail "merge $*: expected one line, got: $(cat "$dir/err.txt")"
  grep -qF -- "$pattern" "$dir/err.txt" || fail "merge $*: expected '$pattern' in: $(cat "$dir/err.txt")"
  [[ ! -e "$dir/out.db" ]] || fail "merge $* wrote the output although it refused"
  echo "refused: $(cat "$dir/err.txt")"
}
s=("$dir/s1.db" "$dir/s2.db" "$dir/s3.db" "$dir/s4.db")
cp "$dir/s2.db" "$dir/s2copy.db"
"$axsa" "${args[@]}" --shard 1/2 --out "$dir/h1.db" > /dev/null 2>&1 || fail "shard 1/2 failed"
"$axsa" "${common[@]}" --seed 4 --shard 3/4 --out "$dir/other3.db" > /dev/null 2>&1 || fail "the foreign shard failed"
cp "$dir/s3.db" "$dir/s3part.db"
q "$dir/s3part.db" "delete from results where fault_id in (select id from faults order by id desc limit 5)"
cp "$dir/s4.db" "$dir/s4tampered.db"
q "$dir/s4tampered.db" "update faults set row = (row + 1) % 8 where id = (select min(id) from faults)"
cp "$dir/s1.db" "$dir/s1golden.db"
q "$dir/s1golden.db" "update golden set label = (label + 1) % 10 where image = 0"
echo "not a database" > "$dir/junk.db"

refused "is given twice" "$dir/out.db" "${s[@]}" "$dir/s1.db"
refused "is given twice (also as" "$dir/out.db" "${s[@]}" "$dir/./s2.db"
refused "are both shard 2/4: their faults overlap" "$dir/out.db" "${s[@]}" "$dir/s2copy.db"
refused "slices of different splits overlap" "$dir/out.db" "${s[@]}" "$dir/h1.db"
refused "shard 3/4 is missing" "$dir/out.db" "$dir/s1.db" "$dir/s2.db" "$dir/s4.db"
refused "shards 2/4, 3/4 are missing" "$dir/out.db" "$dir/s1.db" "$dir/s4.db"
refused "is a shard of another campaign: it has seed = '4'" "$dir/out.db" "$dir/s1.db" "$dir/s2.db" "$dir/other3.db" "$dir/s4.db"
refused "its golden run differs" "$dir/out.db" "$dir/s1golden.db" "$dir/s2.db" "$dir/s3.db" "$dir/s4.db"
refused "is not slice 4/4 of the campaign's sample" "$dir/out.db" "$dir/s1.db" "$dir/s2.db" "$dir/s3.db" "$dir/s4tampered.db"
refused "shard 3/4 is incomplete (" "$dir/out.db" "$dir/s1.db" "$dir/s2.db" "$dir/s3part.db" "$dir/s4.db"
refused "is not a shard" "$dir/out.db" "$dir/whole.db"
refused "is not an axsa campaign database" "$dir/out.db" "${s[@]}" "$dir/junk.db"
refused "cannot open $dir/nothere.db" "$dir/out.db" "${s[@]}" "$dir/nothere.db"
refused "is also a shard" "$dir/s1.db" "${s[@]}"
refused "expects the output database and at least one shard" "$dir/out.db"
rm -f "$dir/out.db"
rc=0; "$axsa" merge "$dir/whole.db" "${s[@]}" > /dev/null 2> "$dir/err.txt" || rc=$?
[[ $rc -eq 2 ]] && grep -q "already exists" "$dir/err.txt" || fail "merge over an existing database: $(cat "$dir/err.txt")"

# Bad --shard values: one line, exit 2, no database.
bad_shard() {
  local value=$1 pattern=$2 rc=0
  "$axsa" "${args[@]}" --shard "$value" --out "$dir/bad.db" > /dev/null 2> "$dir/err.txt" || rc=$?
  [[ $rc -eq 2 && $(wc -l < "$dir/err.txt") -eq 1 ]] || fail "--shard $value: exit $rc, $(cat "$dir/err.txt")"
  grep -qF -- "$pattern" "$dir/err.txt" || fail "--shard $value: expected '$pattern' in $(cat "$dir/err.txt")"
  [[ ! -s "$dir/bad.db" ]] || fail "--shard $value left a database"
}
bad_shard 5/4 "--shard must be I/N with 1 <= I <= N"
bad_shard 0/4 "--shard must be I/N"
bad_shard 2 "--shard must be I/N"
bad_shard 1/5000 "the sample has only $total faults, fewer than the shards"
rc=0; "$axsa" "${args[@]}" --shard 2/4 --out "$dir/s1.db" --resume > /dev/null 2> "$dir/err.txt" || rc=$?
[[ $rc -eq 2 ]] && grep -qF "shard = '1/4', this run shard = '2/4'" "$dir/err.txt" || fail "resuming shard 1/4 as 2/4: $(cat "$dir/err.txt")"
rc=0; "$axsa" "${args[@]}" --out "$dir/s1.db" --resume > /dev/null 2> "$dir/err.txt" || rc=$?
[[ $rc -eq 2 ]] && grep -qF "shard = '1/4', this run has no shard" "$dir/err.txt" || fail "resuming shard 1/4 whole: $(cat "$dir/err.txt")"

# --partial: the incomplete shard's missing faults stay pending; a plain --resume finishes them.
"$axsa" merge --partial "$dir/partial.db" "$dir/s1.db" "$dir/s2.db" "$dir/s3part.db" "$dir/s4.db" > /dev/null ||
  fail "merge --partial failed"
pending=$((total - $(q "$dir/partial.db" "select count(distinct fault_id) from results")))
[[ "$pending" -eq 5 ]] || fail "expected 5 pending faults after the partial merge, got $pending"
"$axsa" report "$dir/partial.db" | grep -q "partial: $((total - 5)) of $total" || fail "the partial report"
"$axsa" "${args[@]}" --out "$dir/partial.db" --resume > /dev/null 2>&1 || fail "resuming the partial merge failed"
same_campaign "$dir/whole.db" "$dir/partial.db"
echo "every bad shard set refused; a partial merge resumed to the single run"
