#!/usr/bin/env bash
# pg_cron runs migrations.  Two jobs are scheduled with
# cron.schedule_in_database() to CALL migrate.run('head') every minute:
#   - in one database the revisions are good: the job succeeds and the
#     database reaches head;
#   - in the other the third of four revisions fails: the job fails, its
#     failure row stays in migrate.log, and the database stays at the last
#     good revision;
#   - and a third job, in the good database, migrates its three tenants with
#     CALL migrate.run_tenants(parallel => 2).
# Both wait for the same minute boundary: at most about 70 s.  The cluster
# preloads pg_cron (test/cluster.conf); the jobs are removed at the end.
set -euo pipefail

good=migrate_cron_good
bad=migrate_cron_bad
psql=(psql -X -q -At -v ON_ERROR_STOP=1)

fail() { echo "FAIL: $*"; exit 1; }

cleanup() {
  "${psql[@]}" -d postgres -o /dev/null -c \
    "SELECT cron.unschedule(jobid) FROM cron.job WHERE jobname IN ('$good', '$bad', '${good}_tenants')" >/dev/null 2>&1 || true
  dropdb --if-exists "$good" >/dev/null 2>&1 || true
  dropdb --if-exists "$bad" >/dev/null 2>&1 || true
}
trap cleanup EXIT
cleanup

for db in "$good" "$bad"; do
  createdb "$db"
  "${psql[@]}" -d "$db" -o /dev/null <<'SQL'
SET client_min_messages = warning;
CREATE EXTENSION migrate;
SELECT migrate.revision('CREATE TABLE items (id int PRIMARY KEY, name text NOT NULL);',
                        'DROP TABLE items;', 'create items', 'cron0001');
SELECT migrate.revision('ALTER TABLE items ADD COLUMN price numeric;',
                        'ALTER TABLE items DROP COLUMN price;', 'add price', 'cron0002');
SQL
done
"${psql[@]}" -d "$good" -o /dev/null <<'SQL'
SELECT migrate.revision($$INSERT INTO items VALUES (1, 'tea', 2.5);$$,
                        'DELETE FROM items WHERE id = 1;', 'first item', 'cron0003');
SELECT migrate.revision('CREATE INDEX items_name ON items (name);',
                        'DROP INDEX items_name;', 'index names', 'cron0004');
SELECT migrate.revision('CREATE TABLE orders (id int PRIMARY KEY, tenant text DEFAULT current_setting(''migrate.tenant''));',
                        'DROP TABLE orders;', 'tenant orders', 'cront001', scope => 'tenant');
INSERT INTO migrate.tenant_schemas (tenant) VALUES ('shop_a'), ('shop_b'), ('shop_c');
CREATE SCHEMA shop_a; CREATE SCHEMA shop_b; CREATE SCHEMA shop_c;
SQL
"${psql[@]}" -d "$bad" -o /dev/null <<'SQL'
SELECT migrate.revision($$INSERT INTO items VALUES (1, 'tea', 2.5 / 0);$$,
                        'DELETE FROM items WHERE id = 1;', 'broken item', 'cron0003');
SELECT migrate.revision('CREATE INDEX items_name ON items (name);',
                        'DROP INDEX items_name;', 'index names', 'cron0004');
SQL

"${psql[@]}" -d postgres -o /dev/null -c 'CREATE EXTENSION IF NOT EXISTS pg_cron'
schedule() { # job-name database command
  "${psql[@]}" -d postgres -c \
    "SELECT cron.schedule_in_database('$1', '* * * * *', \$\$$3\$\$, '$2')"
}
good_job=$(schedule "$good" "$good" "CALL migrate.run('head')")
bad_job=$(schedule "$bad" "$bad" "CALL migrate.run('head')")
tenants_job=$(schedule "${good}_tenants" "$good" "CALL migrate.run_tenants(parallel => 2)")

# run_detail JOBID COLUMN: COLUMN of the job's first finished run.
run_detail() {
  "${psql[@]}" -d postgres -c "SELECT $2 FROM cron.job_run_details
                               WHERE jobid = $1 AND status IN ('succeeded', 'failed')
                               ORDER BY runid LIMIT 1"
}
good_status="" bad_status="" tenants_status=""
for _ in $(seq 1 150); do
  good_status=$(run_detail "$good_job" status)
  bad_status=$(run_detail "$bad_job" status)
  tenants_status=$(run_detail "$tenants_job" status)
  [[ -n "$good_status" && -n "$bad_status" && -n "$tenants_status" ]] && break
  sleep 0.5
done
"${psql[@]}" -d postgres -o /dev/null -c \
  "SELECT cron.unschedule(jobid) FROM cron.job WHERE jobname IN ('$good', '$bad', '${good}_tenants')"
[[ -n "$good_status" && -n "$bad_status" && -n "$tenants_status" ]] ||
  fail "the jobs did not finish within 75 s (good: '${good_status}', failing: '${bad_status}', tenants: '${tenants_status}')"

# The good job: succeeded, at head, every step logged.
[[ "$good_status" == succeeded ]] || fail "the job of the good revisions ended '$good_status'"
out=$("${psql[@]}" -d "$good" -c "SELECT migrate.current(),
                                          (SELECT count(*) FROM migrate.log WHERE success AND action = 'upgrade' AND tenant IS NULL),
                                          (SELECT name FROM items)")
[[ "$out" == "cron0004|4|tea" ]] || fail "after the good job: expected cron0004|4|tea, got $out"

# The failing job: failed with the script's error, the failure row
# committed, the database at the last good revision.
[[ "$bad_status" == failed ]] || fail "the job of the failing revision ended '$bad_status'"
message=$(run_detail "$bad_job" return_message)
grep -q 'division by zero' <<<"$message" && grep -q 'revision "cron0003"' <<<"$message" ||
  fail "the failed job's message does not give the error and the revision: $message"
out=$("${psql[@]}" -d "$bad" -c "SELECT migrate.current(),
                                         (SELECT string_agg(revision || ':' || sqlstate, ',') FROM migrate.log WHERE NOT success),
                                         migrate.is_applied('cron0004'),
                                         to_regclass('items') IS NOT NULL")
[[ "$out" == "cron0002|cron0003:22012|f|t" ]] ||
  fail "after the failing job: expected cron0002|cron0003:22012|f|t, got $out"

# The tenants' job: every tenant migrated in its own schema.
[[ "$tenants_status" == succeeded ]] ||
  fail "the tenants' job ended '$tenants_status': $(run_detail "$tenants_job" return_message)"
out=$("${psql[@]}" -d "$good" -c "SELECT string_agg(tenant || ':' || current, ',' ORDER BY tenant) FROM migrate.tenants")
[[ "$out" == "shop_a:cront001,shop_b:cront001,shop_c:cront001" ]] ||
  fail "after the tenants' job: $out"
out=$("${psql[@]}" -d "$good" -c "SELECT count(*) FROM pg_tables WHERE tablename = 'orders' AND schemaname LIKE 'shop_%'")
[[ "$out" == 3 ]] || fail "after the tenants' job, $out tenant schemas have the table"
echo "pg_cron: the good job reached head; the failing job failed, logged, and left cron0002 applied; the tenants' job migrated every tenant"
