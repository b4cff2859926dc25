# shellcheck shell=bash
#
# test/cli/helpers.bash: shared setup for the pg_migrate bats tests.
#
# Each test gets a database of its own (created in setup, dropped in
# teardown) on the server the PG* variables name, and a fresh working
# directory; pg_migrate from this checkout's bin/ comes first on PATH.

bats_require_minimum_version 1.5.0

REPO=$(cd "$BATS_TEST_DIRNAME/../.." && pwd -P)
export PATH="$REPO/bin:$PATH"

setup() {
    unset DATABASE_URL MIGRATE_DIR PGCLIENTENCODING
    # Progress NOTICEs without timings, so that outputs can be compared.
    export PGOPTIONS="-c migrate.report_timing=off"
    DB="pgm_test_${BATS_SUITE_TEST_NUMBER:-0}_$$_${RANDOM}"
    export PGDATABASE=$DB
    psql -X -q -v ON_ERROR_STOP=1 -d postgres -c "CREATE DATABASE \"$DB\"" >/dev/null
    WORK="$BATS_TEST_TMPDIR/work"
    mkdir -p "$WORK"
    cd "$WORK" || return 1
}

teardown() {
    cd / || true
    psql -X -q -d postgres -c "DROP DATABASE IF EXISTS \"$DB\" WITH (FORCE)" >/dev/null 2>&1 || true
}

# q SQL: one query in the test's database, unaligned, tuples only.
q() {
    psql -X -q -A -t -v ON_ERROR_STOP=1 -c "$1"
}

# init: the folder and the extension.
init() {
    pg_migrate init >/dev/null
}

# rev ID PARENTS MESSAGE UPGRADE [DOWNGRADE]: writes migrations/ID_<slug>.sql.
# Without DOWNGRADE the file has no downgrade section (irreversible).
rev() {
    local slug
    slug=$(printf '%s' "$3" | tr -c 'A-Za-z0-9' '_')
    {
        printf -- '-- migrate:revision %s\n' "$1"
        printf -- '-- migrate:parents %s\n' "$2"
        printf -- '-- migrate:message %s\n' "$3"
        printf '\n-- migrate:upgrade\n%s\n' "$4"
        if (( $# >= 5 )); then
            printf '\n-- migrate:downgrade\n%s\n' "$5"
        fi
    } >"migrations/$1_$slug.sql"
}

# fill FILE UPGRADE DOWNGRADE: what a user does after "pg_migrate revision":
# writes the scripts into the empty sections.
fill() {
    local head
    head=$(sed -n '/^-- migrate:upgrade$/q;p' "$1")
    printf '%s\n-- migrate:upgrade\n%s\n\n-- migrate:downgrade\n%s\n' "$head" "$2" "$3" >"$1"
}

# catalog: the whole catalog and applied state, to compare before and after.
catalog() {
    q "SELECT coalesce(string_agg(id || '|' || checksum || '|' || message || '|' || branch_labels::text
                                  || '|' || seq, E'\n' ORDER BY id), '<empty>')
         FROM migrate.revisions"
    q "SELECT 'applied: ' || coalesce(string_agg(revision, ' ' ORDER BY revision), '')
         FROM migrate.applied"
}

# table_exists NAME
table_exists() {
    [ "$(q "SELECT to_regclass('public.$1') IS NOT NULL")" = t ]
}

# md5 FILE: the MD5 of the file's bytes.
md5() {
    md5sum <"$1" | cut -d' ' -f1
}
