#!/usr/bin/env bash
# CALL migrate.run_tenants() over many tenants, as pg_cron would run it:
#
#   scale      TENANTS (default 200) tenants and REVISIONS (10) tenant
#              revisions whose scripts each count in a table of their
#              tenant; 4 run_tenants() calls at once (two of them with
#              parallel => 2), beside sessions that move single tenants
#              with upgrade(tenant => ...): every counter exactly 1, no
#              error, no deadlock;
#   parallel   parallel => 2 as an ordinary role: two background workers,
#              seen in pg_stat_activity as that role, migrate the tenants;
#   no-op      a second run moves nothing and says so;
#   failure    a revision that fails in one tenant: that tenant is rolled
#              back to its last committed revision and its error recorded
#              (migrate.log, migrate.tenants.last_error), the others are
#              migrated, and the call ends with an error naming it; the next
#              run, once the cause is gone, finishes it;
#   canary     a failing canary: nothing else runs;
#   killed     the backend terminated in the middle of one tenant: that
#              tenant's step rolled back, the tenants before it migrated,
#              and the next run finishes them all, every script once;
#   dump       pg_dump and restore keep the tenants and their state.
set -euo pipefail

tenants=${TENANTS:-200}
revisions=${REVISIONS:-10}
db=migrate_tenants
bindir=${PG_BINDIR:-$(pg_config --bindir)}
psql=("$bindir/psql" -X -q -At -v ON_ERROR_STOP=1 -d "$db")
work=$(mktemp -d)
trap 'rm -rf "$work"; "$bindir/dropdb" --if-exists "$db" >/dev/null 2>&1 || true;
      "$bindir/dropdb" --if-exists "${db}_copy" >/dev/null 2>&1 || true;
      "$bindir/psql" -X -q -d postgres -c "DROP ROLE IF EXISTS tenants_runner" >/dev/null 2>&1 || true' EXIT

fail() { echo "FAIL: $*"; exit 1; }

"$bindir/dropdb" --if-exists "$db" >/dev/null 2>&1
"$bindir/createdb" "$db"
"${psql[@]}" <<SQL
SET client_min_messages = warning;
CREATE EXTENSION migrate;
SELECT migrate.revision('CREATE TABLE counter (revision text PRIMARY KEY, n int NOT NULL)',
  'DROP TABLE counter', 'counter', 'c0000', scope => 'tenant') \\g /dev/null
SELECT migrate.revision(
  format('INSERT INTO counter VALUES (%L, 1) ON CONFLICT (revision) DO UPDATE SET n = counter.n + 1;', 'r' || g),
  format('DELETE FROM counter WHERE revision = %L;', 'r' || g),
  'step ' || g, 'r' || lpad(g::text, 4, '0'),
  ARRAY[CASE WHEN g = 1 THEN 'c0000' ELSE 'r' || lpad((g - 1)::text, 4, '0') END],
  scope => 'tenant')
FROM generate_series(1, $revisions) g \\g /dev/null
-- Registered before the tenant revisions exist would be as good: add_tenant
-- brings each new one to the heads; here they start at base.
INSERT INTO migrate.tenant_schemas (tenant)
  SELECT 'tenant_' || lpad(g::text, 4, '0') FROM generate_series(1, $tenants) g;
SELECT format('CREATE SCHEMA %I', tenant) FROM migrate.tenant_schemas \\gexec
SQL
head=r$(printf '%04d' "$revisions")

# ---------------------------------------------------------------- scale
for i in 1 2 3 4; do
  "${psql[@]}" -c "SET client_min_messages = warning" \
    -c "CALL migrate.run_tenants(parallel => $(( i > 2 ? 2 : 1 )))" >"$work/run$i.out" 2>&1 &
done
# Single tenants moved at the same time, from other sessions.
for i in 1 2; do
  (for t in $(seq "$i" 7 "$tenants"); do
     "${psql[@]}" -c "SET client_min_messages = warning" \
       -c "SELECT migrate.upgrade('head', tenant => 'tenant_$(printf '%04d' "$t")')" >/dev/null ||
       echo "upgrade of tenant $t failed"
   done) >"$work/single$i.out" 2>&1 &
done
wait
for i in 1 2 3 4; do
  grep -q ERROR "$work/run$i.out" && { cat "$work/run$i.out"; fail "run_tenants() $i got an error"; }
done
for i in 1 2; do
  [ -s "$work/single$i.out" ] && { cat "$work/single$i.out"; fail "a single-tenant upgrade failed"; }
done

# How many tenants do not have every counter at exactly 1.
counts() {
  "${psql[@]}" -c "
    DO \$\$
    DECLARE t text; bad int; total int; wrong int := 0;
    BEGIN
      FOR t IN SELECT tenant FROM migrate.tenant_schemas LOOP
        EXECUTE format('SELECT count(*) FILTER (WHERE n <> 1), count(*) FROM %I.counter', t) INTO bad, total;
        IF bad <> 0 OR total <> $revisions THEN wrong := wrong + 1; END IF;
      END LOOP;
      RAISE NOTICE 'wrong=%', wrong;
    END \$\$" 2>&1 | sed -n 's/.*wrong=//p'
}
[ "$(counts)" = 0 ] || fail "some tenant's counters are not all exactly 1"
out=$("${psql[@]}" -c "SELECT count(*) FILTER (WHERE current = '$head' AND behind = 0 AND last_error IS NULL), count(*) FROM migrate.tenants")
[ "$out" = "$tenants|$tenants" ] || fail "tenants not all at head: $out"
out=$("${psql[@]}" -c "SELECT count(*) FROM migrate.tenant_applied")
[ "$out" = $(( tenants * (revisions + 1) )) ] || fail "tenant_applied has $out rows"
out=$("${psql[@]}" -c "SELECT count(*) FROM migrate.log WHERE tenant IS NOT NULL AND action = 'upgrade' AND success")
[ "$out" = $(( tenants * (revisions + 1) )) ] || fail "the log has $out successful tenant steps"
echo "scale: $tenants tenants x $(( revisions + 1 )) revisions, 4 run_tenants() and 2 upgraders at once: every counter 1"

# ---------------------------------------------------------------- parallel
# Each tenant's new revision sleeps a little: long enough to see the workers.
"${psql[@]}" <<SQL
SET client_min_messages = warning;
DROP ROLE IF EXISTS tenants_runner;
CREATE ROLE tenants_runner LOGIN;
GRANT EXECUTE ON PROCEDURE migrate.run_tenants(text, text, integer) TO tenants_runner;
GRANT EXECUTE ON FUNCTION migrate.revision(text, text, text, text, text[], text[], text[], boolean, text) TO tenants_runner;
-- Its script runs with its author's rights: tenants_runner registers it.
SELECT format('GRANT USAGE ON SCHEMA %1\$I TO tenants_runner; GRANT SELECT, INSERT, UPDATE, DELETE ON %1\$I.counter TO tenants_runner',
              tenant) FROM migrate.tenant_schemas \\gexec
SET ROLE tenants_runner;
SELECT migrate.revision('INSERT INTO counter VALUES (''p0001'', 1) ON CONFLICT (revision) DO UPDATE SET n = counter.n + 1; SELECT pg_sleep(0.05);',
  'DELETE FROM counter WHERE revision = ''p0001''', 'sleeps a little', 'p0001', scope => 'tenant') \\g /dev/null
RESET ROLE;
SQL
"${psql[@]}" -U tenants_runner -c "CALL migrate.run_tenants(parallel => 2)" >"$work/parallel.out" 2>&1 &
runner=$!
seen=0
for _ in $(seq 1 200); do
  seen=$("${psql[@]}" -c "SELECT count(*) FROM pg_stat_activity
                           WHERE backend_type = 'migrate tenant worker' AND usename = 'tenants_runner'
                             AND datname = current_database() AND query LIKE 'migrating tenant %'")
  [ "$seen" = 2 ] && break
  sleep 0.05
done
wait "$runner" || { cat "$work/parallel.out"; fail "run_tenants(parallel => 2) failed"; }
[ "$seen" = 2 ] || fail "parallel => 2: saw $seen workers in pg_stat_activity, not 2"
grep -q "NOTICE:  $tenants tenants: $tenants migrated, 0 already at target, 0 failed" "$work/parallel.out" ||
  { cat "$work/parallel.out"; fail "parallel => 2 did not migrate every tenant"; }
out=$("${psql[@]}" -c "SELECT count(DISTINCT applied_by), min(applied_by) FROM migrate.tenant_applied WHERE revision = 'p0001'")
[ "$out" = "1|tenants_runner" ] || fail "the workers did not act as the caller: $out"
revisions=$(( revisions + 1 ))
head=p0001
echo "parallel: two workers as tenants_runner in pg_stat_activity, every tenant migrated"

# ---------------------------------------------------------------- no-op
out=$("${psql[@]}" -c "CALL migrate.run_tenants()" 2>&1)
grep -q "NOTICE:  $tenants tenants: 0 migrated, $tenants already at target, 0 failed" <<<"$out" ||
  { echo "$out"; fail "a run at head is not a no-op"; }
echo "no-op: $out"

# ---------------------------------------------------------------- failure
# A script that fails in a tenant whose schema holds a table "poison":
# unqualified, the name is looked up in the tenant's schema first.
poisoned() { # id message
  "${psql[@]}" -c "SET client_min_messages = warning" -c "SELECT migrate.revision(
    \$\$INSERT INTO counter VALUES ('$1', 1) ON CONFLICT (revision) DO UPDATE SET n = counter.n + 1;
      SELECT 1 / CASE WHEN to_regclass('poison') IS NOT NULL THEN 0 ELSE 1 END;\$\$,
    \$\$DELETE FROM counter WHERE revision = '$1'\$\$, '$2', '$1', scope => 'tenant')" >/dev/null
}
"${psql[@]}" -c "CREATE TABLE tenant_0003.poison ()"
poisoned f0001 "fails in tenant_0003"
rc=0
out=$("${psql[@]}" -c "CALL migrate.run_tenants()" 2>&1) || rc=$?
[ "$rc" != 0 ] || { echo "$out"; fail "a run with a failed tenant succeeded"; }
grep -q "ERROR:  1 of $tenants tenants failed: tenant_0003" <<<"$out" || { echo "$out"; fail "the error does not name the failed tenant"; }
grep -q "$(( tenants - 1 )) migrated, 0 already at target, 1 failed" <<<"$out" || { echo "$out"; fail "wrong summary"; }
out=$("${psql[@]}" <<SQL
SELECT current, last_error, (SELECT count(*) FROM tenant_0003.counter WHERE revision = 'f0001')
  FROM migrate.tenants WHERE tenant = 'tenant_0003';
SELECT count(*) FROM migrate.tenants WHERE current = 'f0001';
SELECT sqlstate, revision FROM migrate.log WHERE tenant = 'tenant_0003' AND NOT success;
SQL
)
[ "$out" = "$head|division by zero|0
$(( tenants - 1 ))
22012|f0001" ] || fail "the failed tenant is not rolled back and recorded alone: $out"
"${psql[@]}" -c "DROP TABLE tenant_0003.poison"
out=$("${psql[@]}" -c "CALL migrate.run_tenants()" 2>&1)
grep -q "NOTICE:  $tenants tenants: 1 migrated, $(( tenants - 1 )) already at target, 0 failed" <<<"$out" ||
  { echo "$out"; fail "the next run does not retry the failed tenant alone"; }
out=$("${psql[@]}" -c "SELECT current, last_error IS NULL FROM migrate.tenants WHERE tenant = 'tenant_0003'")
[ "$out" = "f0001|t" ] || fail "the retried tenant: $out"
echo "failure: one tenant rolled back and recorded, the others migrated, the next run finished it"

# ---------------------------------------------------------------- canary
"${psql[@]}" -c "CREATE TABLE tenant_0005.poison ()"
poisoned f0002 "fails in tenant_0005"
rc=0
out=$("${psql[@]}" -c "CALL migrate.run_tenants(canary => 'tenant_0005')" 2>&1) || rc=$?
[ "$rc" != 0 ] || { echo "$out"; fail "a failing canary let the run go on"; }
grep -q 'ERROR:  canary tenant "tenant_0005" failed: division by zero' <<<"$out" ||
  { echo "$out"; fail "the canary's error is not said"; }
out=$("${psql[@]}" -c "SELECT count(*) FROM migrate.tenant_applied WHERE revision = 'f0002'")
[ "$out" = 0 ] || fail "a failing canary: $out tenants were migrated"
rc=0
out=$("${psql[@]}" -c "CALL migrate.run_tenants(canary => 'nobody')" 2>&1) || rc=$?
grep -q 'ERROR:  tenant "nobody" does not exist' <<<"$out" || { echo "$out"; fail "an unknown canary is not refused"; }
"${psql[@]}" -c "DROP TABLE tenant_0005.poison"
out=$("${psql[@]}" -c "CALL migrate.run_tenants(canary => 'tenant_0005')" 2>&1)
grep -q "NOTICE:  $tenants tenants: $tenants migrated, 0 already at target, 0 failed" <<<"$out" ||
  { echo "$out"; fail "a good canary, then the others"; }
echo "canary: a failing canary stops the run before any other tenant"

# ---------------------------------------------------------------- killed
# The run sleeps in tenant_0050 (which holds a table "sleepy") and is
# terminated there.
"${psql[@]}" -c "CREATE TABLE tenant_0050.sleepy ()"
"${psql[@]}" -c "SET client_min_messages = warning" -c "SELECT migrate.revision(
  \$\$INSERT INTO counter VALUES ('k0001', 1) ON CONFLICT (revision) DO UPDATE SET n = counter.n + 1;
    SELECT pg_sleep(CASE WHEN to_regclass('sleepy') IS NOT NULL THEN 60 ELSE 0 END);\$\$,
  \$\$DELETE FROM counter WHERE revision = 'k0001'\$\$, 'sleeps in tenant_0050', 'k0001', scope => 'tenant')" >/dev/null
PGAPPNAME=tenants_victim "${psql[@]}" -c "CALL migrate.run_tenants()" >"$work/killed.out" 2>&1 &
victim=$!
for _ in $(seq 1 600); do
  n=$("${psql[@]}" -c "SELECT count(*) FROM pg_stat_activity WHERE application_name = 'tenants_victim' AND wait_event = 'PgSleep'")
  [ "$n" = 1 ] && break
  sleep 0.1
done
[ "$n" = 1 ] || fail "the run never reached tenant_0050"
"${psql[@]}" -c "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = 'tenants_victim'" >/dev/null
wait "$victim" || true
out=$("${psql[@]}" -c "SELECT count(*) FILTER (WHERE tenant < 'tenant_0050'), count(*) FILTER (WHERE tenant >= 'tenant_0050')
                       FROM migrate.tenant_applied WHERE revision = 'k0001'")
[ "$out" = "49|0" ] || fail "after the kill, tenants with k0001 before and from tenant_0050: $out"
out=$("${psql[@]}" -c "SELECT count(*) FROM tenant_0050.counter WHERE revision = 'k0001'")
[ "$out" = 0 ] || fail "the killed tenant's step was not rolled back"
"${psql[@]}" -c "DROP TABLE tenant_0050.sleepy"
out=$("${psql[@]}" -c "CALL migrate.run_tenants()" 2>&1)
grep -q "NOTICE:  $tenants tenants: $(( tenants - 49 )) migrated, 49 already at target, 0 failed" <<<"$out" ||
  { echo "$out"; fail "the next run does not finish the rest"; }
revisions=$(( revisions + 3 ))  # f0001, f0002, k0001
[ "$(counts)" = 0 ] || fail "after the kill, some script ran twice or not at all"
echo "killed: the terminated tenant rolled back, the next run finished every tenant, every script once"

# ---------------------------------------------------------------- dump
"$bindir/dropdb" --if-exists "${db}_copy" >/dev/null 2>&1
"$bindir/createdb" "${db}_copy"
"$bindir/pg_dump" "$db" | "$bindir/psql" -X -q -v ON_ERROR_STOP=1 -d "${db}_copy" >/dev/null
for d in "$db" "${db}_copy"; do
  "$bindir/psql" -X -At -d "$d" -c "SELECT tenant, current, behind FROM migrate.tenants ORDER BY 1" \
    -c "SELECT tenant, revision, checksum FROM migrate.tenant_applied ORDER BY 1, 2" >"$work/$d.state"
done
cmp -s "$work/$db.state" "$work/${db}_copy.state" || { diff "$work/$db.state" "$work/${db}_copy.state" | head; fail "the dump lost tenant state"; }
out=$("$bindir/psql" -X -At -d "${db}_copy" -c "CALL migrate.run_tenants()" 2>&1)
grep -q "0 migrated, $tenants already at target" <<<"$out" || { echo "$out"; fail "the restored copy is not at head"; }
echo "dump: pg_dump and restore keep every tenant and its state"
