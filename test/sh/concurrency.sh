#!/usr/bin/env bash
# Nothing is applied twice: 16 sessions call migrate.upgrade('head') at the
# same moment on a graph of 200 revisions whose scripts each increment a
# counter; afterwards every counter is exactly 1, the database is at head
# and no session got an error.  The same with CALL migrate.run(), and with
# sessions that upgrade and downgrade at random: the final state then
# agrees with migrate.log and with the counters.
# ROUNDS (default 20), CLIENTS (16) and REVISIONS (200) scale it.
set -euo pipefail

rounds=${ROUNDS:-20}
clients=${CLIENTS:-16}
revisions=${REVISIONS:-200}
db=migrate_concurrency
bindir=${PG_BINDIR:-$(pg_config --bindir)}
psql=(psql -X -q -At -v ON_ERROR_STOP=1 -d "$db")
work=$(mktemp -d)
trap 'rm -rf "$work"; dropdb --if-exists "$db" >/dev/null 2>&1 || true' EXIT

fail() { echo "FAIL: $*"; exit 1; }

setup_round() {
  dropdb --if-exists "$db" >/dev/null 2>&1
  createdb "$db"
  "${psql[@]}" <<SQL
SET client_min_messages = warning;
CREATE EXTENSION migrate;
CREATE TABLE counter (revision text PRIMARY KEY, n int NOT NULL);
SELECT migrate.revision(
  format('INSERT INTO counter VALUES (%L, 1) ON CONFLICT (revision) DO UPDATE SET n = counter.n + 1;', 'r' || g),
  format('UPDATE counter SET n = n - 1 WHERE revision = %L;', 'r' || g),
  'step ' || g, 'r' || lpad(g::text, 4, '0'),
  CASE WHEN g = 1 THEN '{}'::text[] ELSE ARRAY['r' || lpad((g - 1)::text, 4, '0')] END)
FROM generate_series(1, $revisions) g \\g /dev/null
SQL
}

# Runs the given pgbench script file with all clients at once, one
# transaction each; fails on any client error.
hammer() {
  if ! "$bindir/pgbench" -n -c "$clients" -j "$clients" -t 1 -f "$1" "$db" \
      > "$work/pgbench.out" 2>&1; then
    cat "$work/pgbench.out"
    fail "a session got an error ($(basename "$1"))"
  fi
  grep -q "number of failed transactions: 0" "$work/pgbench.out" ||
    { cat "$work/pgbench.out"; fail "failed transactions ($(basename "$1"))"; }
}

check_exactly_once() {
  local what=$1 out
  out=$("${psql[@]}" <<SQL
SELECT count(*) FILTER (WHERE n <> 1), count(*),
       migrate.current() = 'r' || lpad('$revisions', 4, '0'),
       (SELECT count(*) FROM migrate.applied),
       (SELECT count(*) FROM migrate.log WHERE action = 'upgrade' AND success)
  FROM counter;
SQL
)
  [ "$out" = "0|$revisions|t|$revisions|$revisions" ] ||
    fail "$what: expected every counter 1, at head, $revisions applied and logged once; got $out"
}

echo "SELECT migrate.upgrade('head');" > "$work/upgrade.sql"
echo "CALL migrate.run('head');" > "$work/run.sql"
cat > "$work/mixed.sql" <<'SQL'
\set coin random(0, 1)
SELECT CASE WHEN :coin = 1 THEN migrate.upgrade('head') ELSE migrate.downgrade('base') END;
SQL

for round in $(seq 1 "$rounds"); do
  setup_round
  hammer "$work/upgrade.sql"
  check_exactly_once "upgrade round $round"

  setup_round
  hammer "$work/run.sql"
  check_exactly_once "run round $round"

  setup_round
  hammer "$work/mixed.sql"
  out=$("${psql[@]}" <<'SQL'
WITH net AS (
  SELECT revision, sum(CASE direction WHEN 'up' THEN 1 ELSE -1 END) AS n
    FROM migrate.log WHERE success GROUP BY revision)
SELECT count(*) FILTER (WHERE coalesce(net.n, 0) <> (a.revision IS NOT NULL)::int),
       count(*) FILTER (WHERE coalesce(c.n, 0) <> (a.revision IS NOT NULL)::int),
       (SELECT count(*) FROM migrate.verify())
  FROM migrate.revisions r
  LEFT JOIN migrate.applied a ON a.revision = r.id
  LEFT JOIN net ON net.revision = r.id
  LEFT JOIN counter c ON c.revision = 'r' || ltrim(substr(r.id, 2), '0');
SQL
)
  [ "$out" = "0|0|0" ] ||
    fail "mixed round $round: log, counters and applied state disagree (log|counters|verify: $out)"
done
echo "$rounds rounds of $clients sessions on $revisions revisions: every revision applied exactly once"
