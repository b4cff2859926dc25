#!/usr/bin/env bash
# The benchmark keeps working: test/bench --quick (tiny sizes, one run per
# figure, its own cluster) must finish and print a row for every figure.
# Its numbers mean nothing at these sizes and are not checked here.
set -euo pipefail

root=$(cd "$(dirname "$0")/../.." && pwd)
out=$(mktemp)
trap 'rm -f "$out"' EXIT
unset PGHOST PGPORT CLUSTER_DIR CLUSTER_DATA CLUSTER_LOG
"$root/test/bench" --quick --no-install --out "$out" >/dev/null 2>"$out.err" ||
  { cat "$out.err"; rm -f "$out.err"; echo "FAIL: test/bench --quick failed"; exit 1; }
rm -f "$out.err"
for figure in "apply from empty" "no-op at head" "check on connect" "no-op at head vs Alembic" \
              "plan over long history" "plan: backend memory" "sync" "diff" "diff vs Alembic" "lint" \
              "upgrade: backend memory"; do
  grep -q "^| $figure |" "$out" || { cat "$out"; echo "FAIL: no row for \"$figure\""; exit 1; }
done
echo "test/bench --quick: $(grep -c '^| [a-z]' "$out") figures"
