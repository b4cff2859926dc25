#!/usr/bin/env bash
# A crash never leaves a half-applied migration, and nothing needs repair
# afterwards.  On a cluster of its own (the crashes must not disturb other
# tests), two kinds of trial at random moments:
#
#   kill   SIGKILL the backend running migrate.upgrade('head'), one
#          transaction: after the postmaster's crash recovery either nothing
#          or everything is applied;
#   stop   pg_ctl stop -m immediate during CALL migrate.run('head'), one
#          commit per revision: after restart exactly a prefix of the chain
#          is applied.
#
# After each crash: migrate.verify() is empty; each revision is recorded
# applied exactly when its table and its counter row exist; migrate.log has
# one success row per applied revision; and a plain upgrade('head') then
# finishes the work, every script having run exactly once.
# TRIALS (default 10 of each), REVISIONS (60) and CRASH_SEED scale it.
set -euo pipefail

trials=${TRIALS:-10}
revisions=${REVISIONS:-60}
seed=${CRASH_SEED:-$(( $$ ^ $(date +%s) ))}
RANDOM=$seed
echo "crash: seed $seed (CRASH_SEED=$seed repeats it)"

# shellcheck source=test/lib/cluster.sh
source "$(dirname "$0")/../lib/cluster.sh"
unset PGHOST PGPORT CLUSTER_DIR CLUSTER_DATA CLUSTER_LOG
trap cluster_stop EXIT
# The test cluster's synchronous_commit = off would let a crash lose the
# setup itself; what is committed must stay committed here.
cluster_start "synchronous_commit = on" >/dev/null 2>&1 || { echo "FAIL: could not start a cluster"; exit 1; }
bindir=$CLUSTER_BINDIR
db=migrate_crash
psql=("$bindir/psql" -X -q -At -v ON_ERROR_STOP=1 -d "$db")
victim=""

fail() {
  echo "FAIL: $*"
  echo "--- server log (last 30 lines)"
  cluster_log_tail 30 || true
  exit 1
}

# wait_ready: until the server accepts connections again (crash recovery).
wait_ready() {
  for _ in $(seq 1 600); do
    if "$bindir/psql" -X -At -d postgres -c 'SELECT 1' >/dev/null 2>&1; then
      return 0
    fi
    sleep 0.1
  done
  fail "the server did not come back within 60 s"
}

# Registers REVISIONS revisions r0001..rNNNN in a chain; each creates a
# table, records itself in the counter table (whose primary key would
# reject a second run) and sleeps a little, so that a whole run takes a
# while and a crash lands in the middle.
setup() {
  "$bindir/dropdb" --if-exists "$db" >/dev/null 2>&1
  "$bindir/createdb" "$db"
  "${psql[@]}" -o /dev/null <<SQL
SET client_min_messages = warning;
CREATE EXTENSION migrate;
CREATE TABLE counter (revision text PRIMARY KEY);
SELECT migrate.revision(
  format('CREATE TABLE %I (id int PRIMARY KEY); INSERT INTO counter VALUES (%L); SELECT pg_sleep(0.01);',
         't_' || id, id),
  format('DROP TABLE %I; DELETE FROM counter WHERE revision = %L;', 't_' || id, id),
  'step ' || g, id,
  CASE WHEN g = 1 THEN '{}'::text[] ELSE ARRAY['r' || lpad((g - 1)::text, 4, '0')] END)
FROM generate_series(1, $revisions) g, LATERAL (SELECT 'r' || lpad(g::text, 4, '0') AS id) i;
SQL
}

# consistent: prints the number of applied revisions, or fails if the
# catalog and the schema disagree or the applied set is not a prefix.
consistent() {
  local what=$1 out
  out=$("${psql[@]}" <<'SQL'
WITH a AS (SELECT r.id, r.id IN (SELECT revision FROM migrate.applied) AS applied,
                  to_regclass(quote_ident('t_' || r.id)) IS NOT NULL AS has_table,
                  EXISTS (SELECT FROM counter c WHERE c.revision = r.id) AS has_row
             FROM migrate.revisions r)
SELECT (SELECT count(*) FROM migrate.verify()),
       count(*) FILTER (WHERE applied <> has_table OR applied <> has_row),
       count(*) FILTER (WHERE applied),
       coalesce(max(id) FILTER (WHERE applied), 'r0000')
         = 'r' || lpad((count(*) FILTER (WHERE applied))::text, 4, '0'),
       (SELECT count(*) FROM migrate.log WHERE success AND direction = 'up')
         = count(*) FILTER (WHERE applied)
  FROM a;
SQL
) || fail "$what: could not read the state after the crash"
  IFS='|' read -r problems mismatches applied prefix logged <<<"$out"
  (( problems == 0 )) || fail "$what: migrate.verify() reports $problems problems"
  (( mismatches == 0 )) || fail "$what: $mismatches revisions recorded applied without their effects, or the reverse"
  [[ "$prefix" == t ]] || fail "$what: the applied revisions are not a prefix of the chain"
  [[ "$logged" == t ]] || fail "$what: migrate.log disagrees with the applied revisions"
  echo "$applied"
}

# finish: the next plain upgrade completes the work; each script ran once.
finish() {
  local what=$1 out
  "${psql[@]}" -o /dev/null -c 'SET client_min_messages = warning' \
    -c "SELECT migrate.upgrade('head')" || fail "$what: upgrade('head') after the crash failed"
  out=$(consistent "$what, then upgrade('head')")
  (( out == revisions )) || fail "$what: upgrade('head') after the crash left $out of $revisions applied"
}

# start_victim SQL: runs SQL in the background in a session named
# migrate_crash_victim; waits until the session is running it.
start_victim() {
  PGAPPNAME=migrate_crash_victim "${psql[@]}" -o /dev/null \
    -c 'SET client_min_messages = warning' -c "$1" >/dev/null 2>&1 &
  victim=$!
  for _ in $(seq 1 200); do
    pid=$("${psql[@]}" -c "SELECT pid FROM pg_stat_activity
                           WHERE application_name = 'migrate_crash_victim' AND state = 'active'")
    [[ -n "$pid" ]] && return 0
    sleep 0.01
  done
  fail "the migration did not start"
}

# A random delay within the first 90% of a run that takes $1 seconds.
random_delay() {
  local ms=$(( RANDOM % ($1 * 900 / 1000 + 1) ))
  printf '%d.%03d' $(( ms / 1000 )) $(( ms % 1000 ))
}

# How long a whole run takes here, in ms.
setup
start_ms=$(date +%s%3N)
"${psql[@]}" -o /dev/null -c 'SET client_min_messages = warning' -c "SELECT migrate.upgrade('head')"
run_ms=$(( $(date +%s%3N) - start_ms ))
(( run_ms > 100 )) || fail "a run took only ${run_ms} ms: too short to crash in the middle"
echo "crash: a run of $revisions revisions takes ${run_ms} ms"

kill_none=0 kill_all=0 stop_mid=0
for t in $(seq 1 "$trials"); do
  # kill: SIGKILL the backend during the one-transaction upgrade.
  setup
  start_victim "SELECT migrate.upgrade('head')"
  sleep "$(random_delay "$run_ms")"
  kill -KILL "$pid" 2>/dev/null || true
  wait "$victim" || true
  wait_ready
  n=$(consistent "kill trial $t")
  case "$n" in
    0) kill_none=$(( kill_none + 1 )) ;;
    "$revisions") kill_all=$(( kill_all + 1 )) ;;
    *) fail "kill trial $t: a single upgrade() call left $n of $revisions revisions applied" ;;
  esac
  finish "kill trial $t"

  # stop: immediate shutdown during run(), which commits per revision.
  setup
  start_victim "CALL migrate.run('head')"
  sleep "$(random_delay "$run_ms")"
  cluster_as_owner "$bindir/pg_ctl" -D "$CLUSTER_DATA" -m immediate -w stop >/dev/null ||
    fail "pg_ctl stop -m immediate failed"
  wait "$victim" || true
  cluster_as_owner "$bindir/pg_ctl" -D "$CLUSTER_DATA" -l "$CLUSTER_LOG" -w -t 120 start >/dev/null ||
    fail "the server did not restart"
  wait_ready
  n=$(consistent "stop trial $t")
  if (( n > 0 && n < revisions )); then
    stop_mid=$(( stop_mid + 1 ))
  fi
  finish "stop trial $t"
done

echo "crash: $trials SIGKILLs during upgrade(): $kill_none left nothing applied, $kill_all everything"
echo "crash: $trials immediate stops during run(): $stop_mid left a partial prefix"
# The trials only prove something if the crashes land mid-way.
(( kill_none * 2 >= trials )) || fail "too few SIGKILLs landed before the upgrade committed ($kill_none of $trials)"
(( stop_mid * 2 >= trials )) || fail "too few immediate stops landed in the middle of run() ($stop_mid of $trials)"
