#!/usr/bin/env bash
# On a hot standby the read-only functions answer and the state-changing
# ones fail with SQLSTATE 25006 and a message that says the server is a
# standby.  The standby is a streaming replica of the test cluster, made
# with pg_basebackup into $CLUSTER_DIR/standby and started on a second port;
# this script stops it and removes it when it ends.
set -euo pipefail

# shellcheck source=test/lib/cluster.sh
source "$(dirname "$0")/../lib/cluster.sh"

: "${CLUSTER_DIR:?run by test/run, which exports CLUSTER_DIR}"
bindir=${PG_BINDIR:-$CLUSTER_BINDIR}
db=migrate_standby
standby="$CLUSTER_DIR/standby"
port2=""

fail() { echo "FAIL: $*"; exit 1; }

cleanup() {
  if [[ -f "$standby/postmaster.pid" ]]; then
    cluster_as_owner "$bindir/pg_ctl" -D "$standby" -m fast -w stop >/dev/null 2>&1 || true
  fi
  rm -rf "$standby"
  dropdb --if-exists "$db" >/dev/null 2>&1 || true
}
trap cleanup EXIT
cleanup

primary=(psql -X -q -At -v ON_ERROR_STOP=1 -d "$db")
createdb "$db"
"${primary[@]}" -o /dev/null <<'SQL'
SET client_min_messages = warning;
CREATE EXTENSION migrate;
SELECT migrate.revision('CREATE TABLE a (id int);', 'DROP TABLE a;', 'table a', 'aaaaaaaaaaa1');
SELECT migrate.revision('CREATE TABLE b (id int);', 'DROP TABLE b;', 'table b', 'bbbbbbbbbbb2');
SELECT migrate.revision('CREATE TABLE c (id int);', 'DROP TABLE c;', 'table c', 'ccccccccccc3');
SELECT migrate.upgrade('bbbbbbbbbbb2');
SQL

# A free second port.
for _ in 1 2 3 4 5 6 7 8; do
  p=$(( 20000 + RANDOM % 20001 ))
  if [[ "$p" != "$PGPORT" ]] && ! (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null; then
    port2=$p
    break
  fi
done
[[ -n "$port2" ]] || fail "no free port for the standby"

cluster_as_owner "$bindir/pg_basebackup" -h "$PGHOST" -p "$PGPORT" -U postgres \
  -D "$standby" -R -X stream -c fast >/dev/null ||
  fail "pg_basebackup failed"
cluster_as_owner "$bindir/pg_ctl" -D "$standby" -l "$standby.log" -w -t 120 \
  -o "-p $port2" start >/dev/null ||
  { cat "$standby.log"; fail "the standby did not start"; }

replica=(psql -X -q -At -v ON_ERROR_STOP=1 -h "$PGHOST" -p "$port2" -d "$db")
[[ $("${replica[@]}" -c 'SELECT pg_is_in_recovery()') == t ]] ||
  fail "the second server is not in recovery"

# wait_replayed: until the standby has replayed everything the primary wrote.
wait_replayed() {
  local lsn
  lsn=$("${primary[@]}" -c 'SELECT pg_current_wal_insert_lsn()')
  for _ in $(seq 1 300); do
    if [[ $("${replica[@]}" -c "SELECT pg_last_wal_replay_lsn() >= '$lsn'::pg_lsn") == t ]]; then
      return 0
    fi
    sleep 0.1
  done
  fail "the standby did not replay up to $lsn in 30 s"
}

# expect QUERY EXPECTED: the standby answers QUERY with EXPECTED.
expect() {
  local got
  got=$("${replica[@]}" -c "$1" 2>&1) || fail "on the standby, $1 failed: $got"
  [[ "$got" == "$2" ]] || fail "on the standby, $1 gave '$got', expected '$2'"
}

# refuse STATEMENT FUNCTION: the standby rejects STATEMENT with SQLSTATE 25006
# and a message naming FUNCTION and the standby.
refuse() {
  local out
  if out=$(psql -X -q -At -v ON_ERROR_STOP=1 -v VERBOSITY=verbose \
             -h "$PGHOST" -p "$port2" -d "$db" -c "$1" 2>&1); then
    fail "on the standby, $1 succeeded: $out"
  fi
  grep -q "ERROR:  25006: cannot run migrate.$2() on a standby server" <<<"$out" ||
    fail "on the standby, $1 failed without the standby error: $out"
}

wait_replayed
expect "SELECT migrate.current()" "bbbbbbbbbbb2"
expect "SELECT string_agg(h, ',') FROM migrate.heads() h" "ccccccccccc3"
expect "SELECT migrate.is_applied('aaaaaaaaaaa1'), migrate.is_applied('ccccccccccc3')" "t|f"
expect "SELECT migrate.require('bbbbbbbbbbb2')" ""
expect "SELECT string_agg(revision, ',' ORDER BY step) FROM migrate.plan('head')" "ccccccccccc3"
expect "SELECT string_agg(revision, ',' ORDER BY step) FROM migrate.plan('base', downgrade => true)" \
       "bbbbbbbbbbb2,aaaaaaaaaaa1"
expect "SELECT count(*) FILTER (WHERE applied) || '/' || count(*) FROM migrate.history" "2/3"
expect "SELECT count(*) FROM migrate.verify()" "0"
expect "SELECT migrate.graph('mermaid') LIKE '%ccccccccccc3%'" "t"

refuse "SELECT migrate.upgrade('head')" upgrade
refuse "SELECT migrate.downgrade('base')" downgrade
refuse "SELECT migrate.stamp('head')" stamp
refuse "CALL migrate.run('head')" run
refuse "SELECT migrate.revision('SELECT 1;', 'SELECT 1;', 'x', 'ddddddddddd4')" revision
refuse "SELECT migrate.merge(message => 'm')" merge
out=$("${replica[@]}" -c "SELECT migrate.require('ccccccccccc3')" 2>&1) &&
  fail "require of an unapplied revision succeeded on the standby"
grep -q "ccccccccccc3" <<<"$out" || fail "require on the standby: $out"

# The standby follows the primary: after an upgrade there, it reports the
# new state (the cached state in migrate.state replicates like any row).
"${primary[@]}" -o /dev/null -c "SET client_min_messages = warning" -c "SELECT migrate.upgrade('head')"
wait_replayed
expect "SELECT migrate.current()" "ccccccccccc3"
expect "SELECT migrate.is_applied('ccccccccccc3')" "t"
expect "SELECT count(*) FROM migrate.plan('head')" "0"

# And after a hand edit of the catalog, which invalidates the cache, the
# standby still answers (from the graph, writing nothing).
"${primary[@]}" -o /dev/null -c "DELETE FROM migrate.applied WHERE revision = 'ccccccccccc3'"
wait_replayed
expect "SELECT migrate.current()" "bbbbbbbbbbb2"
expect "SELECT string_agg(h, ',') FROM migrate.heads() h" "ccccccccccc3"

echo "standby: read-only functions answer, state-changing ones fail with 25006"
