# Sourced by the campaign shell tests: same_campaign A.db B.db fails (with the caller's `fail`)
# unless every table of the two campaign databases is equal, and their reports are equal apart
# from the file's name and complete. Uses the caller's $axsa, $dir and q (an sqlite3 query).
same_campaign() {
  local a=$1 b=$2
  for query in "select key, value from config order by key" "select * from golden order by image" \
               "select * from faults order by id" "select * from results order by fault_id, image"; do
    q "$a" "$query" > "$dir/a.txt"
    q "$b" "$query" > "$dir/b.txt"
    cmp -s "$dir/a.txt" "$dir/b.txt" || fail "'$query' differs between $a and $b"
  done
  "$axsa" report "$a" --json | sed 's/"file": "[^"]*", //' > "$dir/ra.json"
  "$axsa" report "$b" --json | sed 's/"file": "[^"]*", //' > "$dir/rb.json"
  cmp -s "$dir/ra.json" "$dir/rb.json" || fail "the reports of $a and $b differ"
  grep -q '"complete": true' "$dir/ra.json" || fail "$a is not complete"
}
