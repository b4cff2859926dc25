#!/usr/bin/env bash
# A migration never queues for long in front of the application's traffic.
# A blocker holds a long transaction that has read table "busy"; a revision
# alters that table under migrate.ddl_lock_timeout and ddl_lock_retries.
# Meanwhile a third session (pgbench) queries the table without pause and
# logs every query's latency.  The revision gives way, retries and fails
# cleanly (55P03, naming the revision and the table, nothing applied); no
# query of the third session waited much longer than the lock timeout.  Once
# the blocker ends the same revision goes through.
#
# A control run shows that the measurement sees blocking: without
# migrate.ddl_lock_timeout, the ALTER queues and the third session's
# queries wait behind it for as long as it waits.
set -euo pipefail

db=migrate_lock_waits
bindir=${PG_BINDIR:-$(pg_config --bindir)}
psql=(psql -X -q -At -v ON_ERROR_STOP=1 -d "$db")
timeout_ms=300
retries=3
work=$(mktemp -d)
blocker=""
cleanup() {
  [[ -z "$blocker" ]] || kill "$blocker" 2>/dev/null || true
  rm -rf "$work"
  dropdb --if-exists "$db" >/dev/null 2>&1 || true
}
trap cleanup EXIT

fail() { echo "FAIL: $*"; exit 1; }

dropdb --if-exists "$db" >/dev/null 2>&1
createdb "$db"
"${psql[@]}" -o /dev/null <<'SQL'
SET client_min_messages = warning;
CREATE EXTENSION migrate;
CREATE TABLE busy (id int PRIMARY KEY);
INSERT INTO busy SELECT generate_series(1, 1000);
SELECT migrate.revision('ALTER TABLE busy ADD COLUMN note text;',
                        'ALTER TABLE busy DROP COLUMN note;', 'note on busy', 'busy0001');
SQL
echo 'SELECT count(*) FROM busy;' >"$work/reader.sql"

# start_blocker: a transaction that has read "busy" and stays open 30 s.
start_blocker() {
  PGAPPNAME=migrate_blocker "${psql[@]}" -o /dev/null \
    -c 'BEGIN' -c 'SELECT count(*) FROM busy' -c 'SELECT pg_sleep(30)' -c 'COMMIT' \
    >/dev/null 2>&1 &
  blocker=$!
  for _ in $(seq 1 300); do
    [[ $("${psql[@]}" -c "SELECT count(*) FROM pg_locks l JOIN pg_stat_activity a USING (pid)
                          WHERE a.application_name = 'migrate_blocker'
                            AND l.relation = 'busy'::regclass AND l.granted") == 1 ]] && return 0
    sleep 0.05
  done
  fail "the blocker did not take its lock"
}

stop_blocker() {
  "${psql[@]}" -o /dev/null -c "SELECT pg_terminate_backend(pid) FROM pg_stat_activity
                                 WHERE application_name = 'migrate_blocker'"
  wait "$blocker" 2>/dev/null || true
  blocker=""
}

# with_reader NAME SECONDS CMD...: runs CMD while pgbench queries "busy"
# from two sessions for SECONDS; prints the longest query latency in ms.
with_reader() {
  local name=$1 secs=$2 reader rc=0
  shift 2
  mkdir -p "$work/$name"
  (cd "$work/$name" && "$bindir/pgbench" -n -c 2 -j 2 -T "$secs" -l -f "$work/reader.sql" "$db" \
     >"$work/$name.pgbench" 2>&1) &
  reader=$!
  sleep 0.5
  "$@" >"$work/$name.out" 2>&1 || rc=$?
  wait "$reader" || { cat "$work/$name.pgbench"; fail "$name: the reader failed"; }
  cat "$work/$name"/pgbench_log.* | awk 'BEGIN { m = 0 } $3 > m { m = $3 } END { printf "%d\n", m / 1000 }'
  return "$rc"
}

migrator=(psql -X -q -At -v ON_ERROR_STOP=1 -v VERBOSITY=verbose -d "$db"
          -c "SET migrate.ddl_lock_timeout = '${timeout_ms}ms'"
          -c "SET migrate.ddl_lock_retries = $retries"
          -c "SELECT migrate.upgrade('busy0001')")

# 1. Blocked: the revision gives way and fails cleanly; the reader flows.
start_blocker
if worst=$(with_reader giveway 4 "${migrator[@]}"); then
  fail "the upgrade succeeded while the blocker held the table"
fi
out=$(cat "$work/giveway.out")
grep -q 'ERROR:  55P03: upgrade script of revision "busy0001" could not lock table busy' <<<"$out" ||
  fail "the upgrade failed without the lock error: $out"
[[ $(grep -c "NOTICE:  00000: statement 1 of revision busy0001 could not get its locks within ${timeout_ms} ms; retry" <<<"$out") == "$retries" ]] ||
  fail "expected $retries retry notices: $out"
[[ $("${psql[@]}" -c "SELECT coalesce(migrate.current(), 'base'),
                             count(*) FROM pg_attribute WHERE attrelid = 'busy'::regclass AND attname = 'note'") == "base|0" ]] ||
  fail "the failed upgrade changed something"
limit=$(( timeout_ms + 250 ))
echo "giving way: longest wait of the third session ${worst} ms (limit ${limit} ms)"
(( worst <= limit )) || fail "the third session waited ${worst} ms, more than the lock timeout of ${timeout_ms} ms allows"

# 2. Control: without migrate.ddl_lock_timeout the ALTER queues (here for
# 1.5 s, by PostgreSQL's own lock_timeout) and the reader queues behind it.
if control=$(with_reader control 4 psql -X -q -At -v ON_ERROR_STOP=1 -d "$db" \
               -c "SET lock_timeout = '1500ms'" -c "SELECT migrate.upgrade('busy0001')"); then
  fail "control: the upgrade succeeded while the blocker held the table"
fi
echo "control, queueing ALTER: longest wait of the third session ${control} ms"
(( control >= 1000 )) || fail "control: the measurement did not see the reader blocked behind a queued ALTER (${control} ms)"

# 3. The blocker ends: the same revision goes through.
stop_blocker
"${migrator[@]}" >"$work/after.out" 2>&1 || { cat "$work/after.out"; fail "the upgrade failed after the blocker ended"; }
[[ $("${psql[@]}" -c "SELECT migrate.current(), count(*) FROM pg_attribute
                      WHERE attrelid = 'busy'::regclass AND attname = 'note'") == "busy0001|1" ]] ||
  fail "the upgrade after the blocker did not apply the revision"
echo "lock waits: the revision gave way ${retries} times, failed cleanly, then succeeded"
