#!/usr/bin/env bats
#
# Non-transactional revisions through pg_migrate: CREATE INDEX CONCURRENTLY
# shipped as a revision, a failed build and its repair, two runs at once,
# and the SQL functions that must stop before such a revision.

load helpers

# Three revisions: a column, two concurrent indexes (non-transactional),
# another column.
three_revisions() {
    init
    q "CREATE TABLE items (id int PRIMARY KEY, name text); INSERT INTO items SELECT g, 'n' || g FROM generate_series(1, ${1:-1000}) g" >/dev/null
    rev a1 "" "code" "ALTER TABLE items ADD COLUMN code int; UPDATE items SET code = id;" "ALTER TABLE items DROP COLUMN code;"
    cat >migrations/a2_indexes.sql <<'SQL'
-- migrate:revision a2
-- migrate:parents a1
-- migrate:message indexes
-- migrate:transactional false

-- migrate:upgrade
CREATE INDEX CONCURRENTLY items_name ON items (name);
CREATE UNIQUE INDEX CONCURRENTLY items_code ON items (code);

-- migrate:downgrade
DROP INDEX CONCURRENTLY items_code;
DROP INDEX CONCURRENTLY items_name;
SQL
    rev a3 a2 "note" "ALTER TABLE items ADD COLUMN note text;" "ALTER TABLE items DROP COLUMN note;"
}

valid_indexes() {
    q "SELECT string_agg(indexrelid::regclass || ':' || indisvalid, ' ' ORDER BY indexrelid::regclass::text) FROM pg_index WHERE indrelid = 'items'::regclass AND indexrelid::regclass::text <> 'items_pkey'"
}

@test "a CONCURRENTLY revision applies through pg_migrate, and goes back" {
    three_revisions
    run -0 --separate-stderr pg_migrate upgrade head
    [[ "$stderr" == *"upgrade a2: non-transactional, its statements run one by one outside a transaction"* ]]
    [ "$(q "SELECT migrate.current()")" = a3 ]
    [ "$(valid_indexes)" = "items_code:true items_name:true" ]
    [ "$(q "SELECT transactional FROM migrate.revisions WHERE id = 'a2'")" = f ]
    [ "$(q "SELECT count(*) FROM migrate.log WHERE revision = 'a2' AND success")" = 1 ]
    run -0 pg_migrate downgrade a1
    [ "$(q "SELECT migrate.current()")" = a1 ]
    [ -z "$(valid_indexes)" ]
    run -1 pg_migrate check   # the files go further than the database
}

@test "upgrade() and run() stop before it and say to use pg_migrate" {
    three_revisions
    pg_migrate sync >/dev/null 2>&1
    run -1 --separate-stderr psql -X -v ON_ERROR_STOP=1 -c "SELECT migrate.upgrade('head')"
    [[ "$stderr" == *'revision "a2" is non-transactional'* && "$stderr" == *'pg_migrate upgrade'* ]]
    [ "$(q "SELECT count(*) FROM migrate.applied")" = 0 ]
    run -1 --separate-stderr psql -X -v ON_ERROR_STOP=1 -c "CALL migrate.run('head')"
    [[ "$stderr" == *'revision "a2" is non-transactional'* ]]
    # run() committed what came before it.
    [ "$(q "SELECT migrate.current()")" = a1 ]
}

@test "a failed CONCURRENTLY build: recorded, its invalid index named, rebuilt by the next run, resumed" {
    three_revisions
    rev a1 "" "code" "ALTER TABLE items ADD COLUMN code int; UPDATE items SET code = 1;" "ALTER TABLE items DROP COLUMN code;"
    run -1 --separate-stderr pg_migrate upgrade head
    [[ "$stderr" == *'could not create unique index "items_code"'* ]]
    [[ "$stderr" == *"statement 2 (line 2) of non-transactional revision a2 failed"* ]]
    [[ "$stderr" == *'It left index public.items_code invalid: fix the cause, then run "pg_migrate upgrade" again, which drops that index and resumes at statement 2.'* ]]
    [ "$(q "SELECT migrate.current()")" = a1 ]
    # psql 17 and 18 do not set LAST_ERROR_SQLSTATE after a failed \gexec.
    if [ "$(psql -V | sed 's/[^0-9]*\([0-9]*\).*/\1/')" -ge 17 ]; then
        [ "$(q "SELECT coalesce(sqlstate, '-') || ' ' || error FROM migrate.log WHERE NOT success")" = '- statement 2 (line 2): the error psql printed (this psql did not report it)' ]
    else
        [ "$(q "SELECT sqlstate || ' ' || error FROM migrate.log WHERE NOT success")" = '23505 statement 2 (line 2): could not create unique index "items_code"' ]
    fi
    [ "$(valid_indexes)" = "items_code:false items_name:true" ]

    # Again, without fixing the cause: the invalid index is dropped and the
    # build fails the same way.
    run -1 --separate-stderr pg_migrate upgrade head
    [[ "$stderr" == *"dropping index public.items_code, left invalid by an earlier run of statement 2 (line 2) of revision a2, to build it again"* ]]
    [[ "$stderr" == *'could not create unique index "items_code"'* ]]

    q "UPDATE items SET code = id" >/dev/null
    run -0 --separate-stderr pg_migrate upgrade head
    [[ "$stderr" == *"dropping index public.items_code"* ]]
    [ "$(q "SELECT migrate.current()")" = a3 ]
    # Statement 1 was not run again (it would have failed: the index exists).
    [ "$(valid_indexes)" = "items_code:true items_name:true" ]
}

# hold_snapshot SECONDS: an old transaction that keeps CREATE INDEX
# CONCURRENTLY waiting that long; its pid is in $old.
hold_snapshot() {
    psql -X -q -c "BEGIN ISOLATION LEVEL REPEATABLE READ" -c "SELECT count(*) FROM items" \
        -c "SELECT pg_sleep($1)" -c "COMMIT" >/dev/null &
    old=$!
    sleep 0.5
}

# wait_for_build: until a CREATE INDEX CONCURRENTLY is running.
wait_for_build() {
    for _ in $(seq 100); do
        [ "$(q "SELECT count(*) FROM pg_stat_activity WHERE query LIKE 'CREATE INDEX CONCURRENTLY%'")" = 1 ] && return 0
        sleep 0.1
    done
    echo "no CREATE INDEX CONCURRENTLY started" >&2
    return 1
}

@test "pg_migrate killed during CREATE INDEX CONCURRENTLY: its backend stops, and the next run finishes the revision" {
    three_revisions 200000
    pg_migrate upgrade a1 >/dev/null 2>&1
    hold_snapshot 4
    # Its own process group, killed whole, as a CI runner cancels a job.
    setsid pg_migrate upgrade head >"$BATS_TEST_TMPDIR/killed.out" 2>&1 &
    runner=$!
    wait_for_build
    kill -KILL -- "-$(ps -o pgid= -p "$runner" | tr -d ' ')"
    wait "$runner" || true
    [ "$(q "SELECT migrate.current()")" = a1 ]

    # The orphaned backend notices within a second that its client is gone
    # (pg_migrate sets client_connection_check_interval) and stops, leaving
    # an invalid index; the next run waits for it if need be, drops that
    # index, and builds it again.
    run -0 --separate-stderr pg_migrate upgrade head
    [[ "$stderr" == *"dropping index public.items_name, left invalid by an earlier run of statement 1 (line 1) of revision a2"* ]]
    [[ "$stderr" != *"already exists"* ]]
    [ "$(q "SELECT migrate.current()")" = a3 ]
    [ "$(valid_indexes)" = "items_code:true items_name:true" ]
    [ "$(q "SELECT count(*) FROM migrate.statement_progress")" = 0 ]
    wait "$old"
}

@test "a runner killed during CREATE INDEX CONCURRENTLY whose backend finishes the build: the next run waits for it and records it done" {
    three_revisions
    pg_migrate upgrade a1 >/dev/null 2>&1
    hold_snapshot 3
    # A runner without client_connection_check_interval (a DBA's session, an
    # older client): its backend goes on when it is killed.
    printf '%s\n' "SELECT migrate.nontransactional_begin('a2', 1);" \
        "CREATE INDEX CONCURRENTLY items_name ON items (name);" |
        setsid psql -X -q -v ON_ERROR_STOP=1 >/dev/null 2>&1 &
    runner=$!
    wait_for_build
    kill -KILL -- "-$(ps -o pgid= -p "$runner" | tr -d ' ')"
    wait "$runner" || true
    [ "$(q "SELECT resume || ' ' || invalid_index FROM migrate.nontransactional_statements('a2') WHERE statement = 1")" = "building public.items_name" ]

    run -0 --separate-stderr pg_migrate upgrade head
    [[ "$stderr" == *"waiting for process"*"which is still building index public.items_name for statement 1 of revision a2"* ]]
    [[ "$stderr" == *"statement 1 (line 1) of revision a2 took effect in an interrupted run: recorded as done"* ]]
    [[ "$stderr" != *"already exists"* ]]
    [ "$(q "SELECT migrate.current()")" = a3 ]
    [ "$(valid_indexes)" = "items_code:true items_name:true" ]
    wait "$old"
}

@test "a statement of a non-transactional revision cannot change migrate's state" {
    init
    q "CREATE TABLE items (id int PRIMARY KEY, name text)" >/dev/null
    rev a1 "" "t" "CREATE TABLE t (a int);" "DROP TABLE t;"
    cat >migrations/a2_sneaky.sql <<'SQL'
-- migrate:revision a2
-- migrate:parents a1
-- migrate:message sneaky
-- migrate:transactional false

-- migrate:upgrade
CREATE INDEX CONCURRENTLY items_name ON items (name);
SELECT migrate.stamp('base');
SQL
    run -1 --separate-stderr pg_migrate upgrade head
    [[ "$stderr" == *"cannot call migrate.stamp() from a statement of a non-transactional revision"* ]]
    [ "$(q "SELECT migrate.current()")" = a1 ]
    [ "$(q "SELECT count(*) FROM migrate.applied")" = 1 ]
}

@test "two pg_migrate upgrade runs at once: the CONCURRENTLY revision finishes once" {
    three_revisions 200000
    pg_migrate upgrade head >"$BATS_TEST_TMPDIR/one.out" 2>&1 &
    one=$!
    pg_migrate upgrade head >"$BATS_TEST_TMPDIR/two.out" 2>&1 &
    two=$!
    wait "$one" || { cat "$BATS_TEST_TMPDIR/one.out"; false; }
    wait "$two" || { cat "$BATS_TEST_TMPDIR/two.out"; false; }
    [ "$(q "SELECT migrate.current()")" = a3 ]
    [ "$(valid_indexes)" = "items_code:true items_name:true" ]
    [ "$(q "SELECT count(*) FROM migrate.log WHERE revision = 'a2'")" = 1 ]
}

@test "while pg_migrate runs one, a SQL upgrade() gives up at once instead of waiting in its transaction" {
    three_revisions
    pg_migrate upgrade a1 >/dev/null 2>&1
    # An old transaction keeps CREATE INDEX CONCURRENTLY waiting for a while.
    psql -X -q -c "BEGIN ISOLATION LEVEL REPEATABLE READ" -c "SELECT count(*) FROM items" \
        -c "SELECT pg_sleep(4)" -c "COMMIT" >/dev/null &
    old=$!
    sleep 1
    pg_migrate upgrade head >"$BATS_TEST_TMPDIR/nt.out" 2>&1 &
    runner=$!
    for _ in $(seq 50); do
        [ "$(q "SELECT count(*) FROM pg_stat_activity WHERE query LIKE 'CREATE INDEX CONCURRENTLY%'")" = 1 ] && break
        sleep 0.1
    done
    start=$(date +%s%N)
    run -1 --separate-stderr psql -X -v ON_ERROR_STOP=1 -c "SELECT migrate.upgrade('head')"
    elapsed=$(( ($(date +%s%N) - start) / 1000000 ))
    [[ "$stderr" == *"pg_migrate is applying a non-transactional revision"* ]]
    (( elapsed < 1500 ))
    wait "$old"
    wait "$runner" || { cat "$BATS_TEST_TMPDIR/nt.out"; false; }
    [ "$(q "SELECT migrate.current()")" = a3 ]
}

@test "a bad transactional header is a file error" {
    init
    rev a1 "" "x" "SELECT 1;"
    sed -i 's/^-- migrate:message x$/-- migrate:message x\n-- migrate:transactional maybe/' migrations/a1_x.sql
    run -1 --separate-stderr pg_migrate sync
    [[ "$stderr" == *'"-- migrate:transactional" is true or false, not "maybe"'* ]]
}

@test "revision --non-transactional writes the header; --sql puts the revision outside BEGIN and COMMIT" {
    three_revisions
    run -0 pg_migrate revision -m "vacuum" --non-transactional
    grep -qx -- "-- migrate:transactional false" "$output"
    rm -- "$output"
    run -0 pg_migrate upgrade head --sql
    [[ "$output" == *"COMMIT;"$'\n'"-- non-transactional: each statement on its own, outside a transaction"$'\n'"CREATE INDEX CONCURRENTLY items_name ON items (name);"* ]]
    [ "$(q "SELECT count(*) FROM migrate.applied")" = 0 ]
}

@test "pg_migrate waits for the migration lock without a snapshot, and gives up after migrate.lock_wait" {
    init
    rev a1 "" "t" "CREATE TABLE t (a int);" "DROP TABLE t;"
    # Another session holds the migration lock for two seconds.
    psql -X -q -c "CALL migrate.lock_session()" -c "SELECT pg_sleep(2)" >/dev/null &
    holder=$!
    sleep 0.5
    PGOPTIONS="-c migrate.lock_wait=0" run -1 --separate-stderr pg_migrate upgrade head
    [[ "$stderr" == *"could not obtain the migration lock"* && "$stderr" == *"now 0 ms"* ]]
    pg_migrate upgrade head >"$BATS_TEST_TMPDIR/wait.out" 2>&1 &
    waiter=$!
    sleep 0.7
    # The waiter's session holds no snapshot while it waits.
    [ "$(q "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid() AND backend_xmin IS NOT NULL AND query NOT LIKE '%pg_sleep(%'")" = 0 ]
    wait "$holder"
    wait "$waiter" || { cat "$BATS_TEST_TMPDIR/wait.out"; false; }
    grep -q "waiting for the migration lock" "$BATS_TEST_TMPDIR/wait.out"
    [ "$(q "SELECT migrate.current()")" = a1 ]
}

@test "the migration lock cannot be taken by a role that may not migrate" {
    init
    rev a1 "" "t" "CREATE TABLE t (a int);" "DROP TABLE t;"
    q "CREATE ROLE lock_squatter LOGIN" >/dev/null
    # An advisory lock on the key older versions used blocks nothing now.
    PGUSER=lock_squatter psql -X -q -c "SELECT pg_advisory_lock(7883946363647714561), pg_advisory_lock(0), pg_sleep(3)" >/dev/null &
    squatter=$!
    sleep 0.5
    PGOPTIONS="-c migrate.lock_wait=0" run -0 pg_migrate upgrade head
    [ "$(q "SELECT migrate.current()")" = a1 ]
    run -1 --separate-stderr env PGUSER=lock_squatter psql -X -v ON_ERROR_STOP=1 -c "CALL migrate.lock_session()"
    [[ "$stderr" == *"permission denied for procedure lock_session"* ]]
    wait "$squatter"
    q "DROP ROLE lock_squatter" >/dev/null
}
