#!/usr/bin/env bash
# Applying many revisions in one call does not grow the backend's memory
# with their count: each step's work lives in a memory context reset after
# the step.  10,000 revisions, each of whose scripts records the backend's
# memory (pg_backend_memory_contexts) into a table; between step 1,000 and
# step 10,000 the total may not grow by more than 1 MB (100 bytes a step),
# under upgrade('head') (one transaction) and under run() (one commit per
# revision).  REVISIONS scales it.
set -euo pipefail

revisions=${REVISIONS:-10000}
db=migrate_memory
psql=(psql -X -q -At -v ON_ERROR_STOP=1 -d "$db")
trap 'dropdb --if-exists "$db" >/dev/null 2>&1 || true' EXIT
fail() { echo "FAIL: $*"; exit 1; }

dropdb --if-exists "$db" >/dev/null 2>&1
createdb "$db"
"${psql[@]}" -o /dev/null <<SQL
SET client_min_messages = warning;
CREATE EXTENSION migrate;
CREATE TABLE counter (step int PRIMARY KEY);
CREATE TABLE memory (step int PRIMARY KEY, bytes bigint NOT NULL);
SELECT migrate.revision(
  format('INSERT INTO counter VALUES (%s);', g)
    || CASE WHEN g % 1000 = 0
         THEN format(' INSERT INTO memory SELECT %s, sum(total_bytes) FROM pg_backend_memory_contexts;', g)
         ELSE '' END,
  format('DELETE FROM counter WHERE step = %s;', g),
  'step ' || g, 'm' || g,
  CASE WHEN g = 1 THEN '{}'::text[] ELSE ARRAY['m' || (g - 1)] END)
FROM generate_series(1, $revisions) g;
SQL

# check WHAT: the counters show every step ran; the memory did not grow.
check() {
  local out first last growth
  out=$("${psql[@]}" -c "SELECT (SELECT count(*) FROM counter),
                                (SELECT bytes FROM memory ORDER BY step LIMIT 1),
                                (SELECT bytes FROM memory ORDER BY step DESC LIMIT 1)")
  IFS='|' read -r steps first last <<<"$out"
  (( steps == revisions )) || fail "$1: $steps of $revisions steps ran"
  growth=$(( last - first ))
  echo "$1: backend memory $(( first / 1024 )) kB at step 1,000, $(( last / 1024 )) kB at step $revisions: $(( growth / 1024 )) kB growth"
  (( growth <= 1024 * 1024 )) || fail "$1: the backend's memory grew by $(( growth / 1024 )) kB over $(( revisions - 1000 )) steps"
}

"${psql[@]}" -o /dev/null -c 'SET client_min_messages = warning' -c "SELECT migrate.upgrade('head')"
check "upgrade('head')"

"${psql[@]}" -o /dev/null -c 'SET client_min_messages = warning' -c "SELECT migrate.downgrade('base')" \
  -c 'TRUNCATE memory'
"${psql[@]}" -o /dev/null -c 'SET client_min_messages = warning' -c "CALL migrate.run('head')"
check "run('head')"

# A script's result rows go nowhere: a revision that selects three million
# rows leaves the backend's peak memory (VmHWM, read from /proc) where it
# was.  Keeping them took about 450 MB.
rows=${ROWS:-3000000}
"${psql[@]}" -o /dev/null -c 'SET client_min_messages = warning' -c "SELECT migrate.downgrade('base')" \
  -c "SELECT migrate.revision('SELECT g, md5(g::text) FROM generate_series(1, $rows) g', NULL, 'select', 'big', '{}')"
hwm=$("${psql[@]}" <<'SQL'
SET client_min_messages = warning;
SELECT pg_backend_pid() AS pid \gset
\setenv PGM_PID :pid
\! sed -n 's/^VmHWM:[[:space:]]*\([0-9]*\) kB/\1/p' /proc/$PGM_PID/status
SELECT migrate.upgrade('big') IS NULL AS unused \gset
\! sed -n 's/^VmHWM:[[:space:]]*\([0-9]*\) kB/\1/p' /proc/$PGM_PID/status
SQL
)
before=$(sed -n 1p <<<"$hwm")
after=$(sed -n 2p <<<"$hwm")
[[ -n "$before" && -n "$after" ]] || fail "could not read the backend's VmHWM from /proc"
echo "a revision selecting $rows rows: backend peak memory $(( before / 1024 )) MB before, $(( after / 1024 )) MB after"
(( after - before <= 50 * 1024 )) || fail "the backend's peak memory grew by $(( (after - before) / 1024 )) MB"
