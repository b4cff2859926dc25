#!/usr/bin/env bats
#
# The command line: usage errors, help, connection settings, the extension's
# version, --sql, show, graph, branches, revision's options, errors passed
# through.

load helpers

two_revisions() {
    init
    rev aaaa00000001 "" "create account" "CREATE TABLE account (id int);" "DROP TABLE account;"
    rev bbbb00000001 aaaa00000001 "add a column" "ALTER TABLE account ADD COLUMN name text" \
        "ALTER TABLE account DROP COLUMN name;"
}

@test "usage errors exit 2 and say what is wrong" {
    run -2 --separate-stderr pg_migrate
    [[ "$stderr" == *"a command is needed"* ]]
    run -2 --separate-stderr pg_migrate frobnicate
    [[ "$stderr" == *"unknown command: frobnicate"* ]]
    run -2 --separate-stderr pg_migrate upgrade --bogus
    [[ "$stderr" == *"unknown option: --bogus"* && "$stderr" == *'Try "pg_migrate upgrade --help".'* ]]
    run -2 --separate-stderr pg_migrate downgrade
    [[ "$stderr" == *"downgrade needs a TARGET"* ]]
    run -2 --separate-stderr pg_migrate stamp
    [[ "$stderr" == *"stamp needs a TARGET (or --from-alembic)"* ]]
    run -2 --separate-stderr pg_migrate stamp --from-alembic head
    [[ "$stderr" == *"stamp --from-alembic takes no TARGET"* ]]
    run -2 --separate-stderr pg_migrate upgrade --from-alembic
    [[ "$stderr" == *"upgrade does not take option --from-alembic"* ]]
    run -2 --separate-stderr pg_migrate import-alembic
    [[ "$stderr" == *"import-alembic needs the PATH of an Alembic project"* ]]
    run -2 --separate-stderr pg_migrate show
    run -2 --separate-stderr pg_migrate upgrade head heads
    [[ "$stderr" == *"too many arguments for upgrade"* ]]
    run -2 --separate-stderr pg_migrate current extra
    run -2 --separate-stderr pg_migrate current -d
    [[ "$stderr" == *"option -d needs a value"* ]]
    run -2 --separate-stderr pg_migrate stamp head --sql
    [[ "$stderr" == *"stamp does not take option --sql"* ]]
    run -2 --separate-stderr pg_migrate history --format dot
    run -2 --separate-stderr pg_migrate revision
    [[ "$stderr" == *"revision needs -m MSG"* ]]
    run -2 --separate-stderr pg_migrate sync --verbose=yes
    [[ "$stderr" == *"option --verbose takes no value"* ]]
    # None of it touched the database.
    [ "$(q "SELECT count(*) FROM pg_extension WHERE extname = 'migrate'")" = 0 ]
}

@test "import-alembic without Alembic says what to install, and writes nothing" {
    PYTHON=/nonexistent/python3 run -1 --separate-stderr pg_migrate import-alembic "$REPO/test/python/alembic_project"
    [[ "$stderr" == *"python3-alembic"* && "$stderr" == *"PYTHON"* ]]
    [ ! -e migrations ]
}

@test "--help for every command, and --version" {
    run -0 pg_migrate --help
    [[ "${lines[0]}" == "Usage: pg_migrate [OPTIONS] COMMAND [ARGS]" ]]
    for c in init revision merge upgrade downgrade stamp current heads branches history show check graph sync import-alembic; do
        run -0 pg_migrate "$c" --help
        [[ "${lines[0]}" == "Usage: pg_migrate $c"* ]]
        [[ "$output" == *"$c"* ]]
        run -0 pg_migrate help "$c"
        [[ "${lines[0]}" == "Usage: pg_migrate $c"* ]]
        run -0 pg_migrate -h "$c"
    done
    run -0 pg_migrate --version
    [ "$output" = "pg_migrate 0.1.0" ]
    grep -qx 'PG_MIGRATE_VERSION=0.1.0' "$REPO/bin/pg_migrate"
}

@test "bad connection settings: a clear error, exit 1" {
    two_revisions
    run -1 --separate-stderr pg_migrate -d "host=/nonexistent/socket/dir port=1" current
    [[ "$stderr" == *"psql: error: connection to server"* ]]
    [[ "$stderr" == *"pg_migrate: could not connect to the database: check -d/--dbname, DATABASE_URL or the PG* variables"* ]]
    DATABASE_URL="postgresql://nobody@127.0.0.1:1/nowhere" run -1 --separate-stderr pg_migrate upgrade
    [[ "$stderr" == *"could not connect to the database"* ]]
    run -1 --separate-stderr pg_migrate --dbname "dbname=no_such_database_$$" upgrade
    [[ "$stderr" == *'database "no_such_database_'* && "$stderr" == *"could not connect"* ]]
    run -1 --separate-stderr pg_migrate -d "not a conninfo" upgrade
    [[ "$stderr" == *"could not connect"* ]]
    PGPORT=1 run -1 --separate-stderr pg_migrate history
    [[ "$stderr" == *"could not connect"* ]]
    [ "$(q 'SELECT count(*) FROM migrate.revisions')" = 0 ]
}

@test "connection: -d, then DATABASE_URL, then PG* variables" {
    two_revisions
    # DATABASE_URL wins over PGDATABASE.
    DATABASE_URL="postgresql:///$DB" PGDATABASE=postgres run -0 --separate-stderr pg_migrate upgrade
    [ "$(q 'SELECT migrate.current()')" = bbbb00000001 ]
    # -d wins over a broken DATABASE_URL, as a conninfo string or a URL.
    DATABASE_URL="postgresql://nobody@127.0.0.1:1/nowhere" run -0 --separate-stderr pg_migrate -d "dbname=$DB" current
    [ "$output" = "bbbb00000001 (head)" ]
    DATABASE_URL="postgresql://nobody@127.0.0.1:1/nowhere" run -0 --separate-stderr pg_migrate --dbname="postgresql:///$DB" current
    [ "$output" = "bbbb00000001 (head)" ]
    # PGDATABASE alone.
    run -0 --separate-stderr pg_migrate current
    [ "$output" = "bbbb00000001 (head)" ]
}

@test "connection: a SQLAlchemy URL names its driver; pg_migrate takes it as libpq's URL" {
    two_revisions
    local host=${PGHOST:-localhost}
    for driver in psycopg2 asyncpg psycopg pg8000; do
        q "SELECT migrate.downgrade('base')" >/dev/null 2>&1 || true
        DATABASE_URL="postgresql+$driver:///$DB?host=$host&port=$PGPORT" PGDATABASE=postgres \
            run -0 --separate-stderr pg_migrate upgrade
        [ "$(q 'SELECT migrate.current()')" = bbbb00000001 ]
    done
    run -0 --separate-stderr pg_migrate -d "postgres+psycopg2:///$DB?host=$host&port=$PGPORT" current
    [ "$output" = "bbbb00000001 (head)" ]
    # Real libpq options are left alone, and still checked by libpq.
    run -1 --separate-stderr pg_migrate -d "postgresql+asyncpg:///$DB?host=$host&port=$PGPORT&nonsense=1" current
    [[ "$stderr" == *'invalid URI query parameter: "nonsense"'* ]]
}

@test "make install, as root, puts pg_migrate on PATH" {
    [ "$(id -u)" = 0 ] || skip "make install links pg_migrate from /usr/local/bin only as root"
    bindir=$("${PG_CONFIG:-pg_config}" --bindir)
    [ "$(readlink /usr/local/bin/pg_migrate)" = "$bindir/pg_migrate" ]
    run -0 env PATH=/usr/local/bin:/usr/bin:/bin pg_migrate --version
    [ "$output" = "pg_migrate 0.1.0" ]
}

@test "init: no folder is made for a database that cannot be reached" {
    PGPORT=1 run -1 --separate-stderr pg_migrate init
    [[ "$stderr" == *"could not connect"* ]]
    [ ! -e migrations ]
    run -0 --separate-stderr pg_migrate init
    [ -d migrations ]
}

@test "the folder: --dir, then MIGRATE_DIR, then ./migrations" {
    init
    mkdir -p db/revs other
    rev aaaa00000001 "" "one" "SELECT 1;"
    mv migrations/aaaa00000001_one.sql db/revs/
    run -0 --separate-stderr pg_migrate --dir db/revs/ upgrade
    [ "$(q 'SELECT migrate.current()')" = aaaa00000001 ]
    MIGRATE_DIR=db/revs run -0 --separate-stderr pg_migrate revision -m "two"
    [[ "$output" == db/revs/*_two.sql ]]
    MIGRATE_DIR=other run -0 --separate-stderr pg_migrate --dir db/revs heads
    [[ "$output" == *"(head)" ]]
    # Seen from another folder: the unapplied revision "two" has no file
    # there and is forgotten; the applied one is history and stays.
    two=$(q "SELECT id FROM migrate.revisions WHERE message = 'two'")
    run -0 --separate-stderr pg_migrate --dir other sync
    [ "$stderr" = "NOTICE:  revision $two forgotten: it was not applied and has no file" ]
    [ "$(q 'SELECT migrate.current()')" = aaaa00000001 ]
    run -0 pg_migrate init newdir
    [ -d newdir ]
    [[ "$output" == *"Creating directory newdir"* ]]
}

@test "the extension must be there, in the version pg_migrate speaks" {
    mkdir migrations
    run -1 --separate-stderr pg_migrate current
    [ "$stderr" = 'pg_migrate: the extension migrate is not installed in this database: run "pg_migrate init" or CREATE EXTENSION migrate' ]
    run -1 --separate-stderr pg_migrate upgrade
    run -0 pg_migrate init
    [[ "$output" == *"Extension migrate 0.1.0 is installed"* ]]
    run -0 pg_migrate init                # again: harmless
    q "UPDATE pg_extension SET extversion = '9.9.9' WHERE extname = 'migrate'" >/dev/null
    run -1 --separate-stderr pg_migrate current
    [[ "$stderr" == *"extension migrate 9.9.9"* && "$stderr" == *"0.1.0"* ]]
    run -1 --separate-stderr pg_migrate init
    [[ "$stderr" == *"9.9.9"* ]]
    q "UPDATE pg_extension SET extversion = '0.1.0' WHERE extname = 'migrate'" >/dev/null
    run -0 pg_migrate current
}

@test "upgrade --sql prints the plan's scripts and runs nothing" {
    two_revisions
    before=$(catalog)
    run -0 --separate-stderr pg_migrate upgrade --sql
    [ "$output" = "-- migrate.upgrade('head'): the scripts it would run now, in order (nothing was run).
-- Running them by hand does not record them in the catalog (\"pg_migrate stamp\" does).
BEGIN;

-- upgrade base -> aaaa00000001 (create account)
CREATE TABLE account (id int);

-- upgrade aaaa00000001 -> bbbb00000001 (add a column)
ALTER TABLE account ADD COLUMN name text
;

COMMIT;" ]
    [ "$stderr" = "" ]
    ! table_exists account
    # Not even the sync stayed.
    [ "$(catalog)" = "$before" ]

    run -0 --separate-stderr pg_migrate upgrade aaaa --sql
    [ "${#lines[@]}" = 6 ]
    [ "${lines[3]}" = "-- upgrade base -> aaaa00000001 (create account)" ]
}

@test "downgrade --sql prints the downgrade scripts, children first" {
    two_revisions
    pg_migrate upgrade 2>/dev/null
    before=$(catalog)
    run -0 --separate-stderr pg_migrate downgrade base --sql
    [ "$output" = "-- migrate.downgrade('base'): the scripts it would run now, in order (nothing was run).
-- Running them by hand does not record them in the catalog (\"pg_migrate stamp\" does).
BEGIN;

-- downgrade bbbb00000001 -> aaaa00000001 (add a column)
ALTER TABLE account DROP COLUMN name;

-- downgrade aaaa00000001 -> base (create account)
DROP TABLE account;

COMMIT;" ]
    table_exists account
    [ "$(catalog)" = "$before" ]
    run -0 --separate-stderr pg_migrate upgrade --sql
    [[ "$output" == *"-- Nothing to do."* ]]
    [[ "$output" != *"BEGIN;"* ]]
}

@test "a failing script: the server's error as it wrote it, nothing applied or registered" {
    init
    rev aaaa00000001 "" "fine" "CREATE TABLE t (x int); CREATE TABLE audit (x int);" "DROP TABLE t, audit;"
    rev bbbb00000001 aaaa00000001 "fails" "INSERT INTO t VALUES (1);
INSERT INTO audit SELECT * FROM no_such_table;" ""
    run -1 --separate-stderr pg_migrate upgrade
    [[ "$stderr" == *"NOTICE:  upgrade base -> aaaa00000001 (fine)"* ]]
    [[ "$stderr" == *'ERROR:  relation "no_such_table" does not exist'* ]]
    [[ "$stderr" == *"LINE 1: INSERT INTO audit SELECT * FROM no_such_table"* ]]
    [[ "$stderr" == *'CONTEXT:  upgrade script of revision "bbbb00000001", statement 2, line 2'* ]]
    ! table_exists t
    [ "$(q 'SELECT count(*) FROM migrate.revisions')" = 0 ]
}

@test "show, current -v, heads -v, history -v: Alembic's entries" {
    two_revisions
    sed -i '1a -- migrate:branch_labels accounts' migrations/aaaa00000001_create_account.sql
    pg_migrate upgrade aaaa 2>/dev/null
    run -0 --separate-stderr pg_migrate show accounts
    [ "$output" = "Rev: aaaa00000001 (current)
Parent: <base>
Branch names: accounts
Path: migrations/aaaa00000001_create_account.sql
Applied: $(q "SELECT applied_at::timestamptz(0) FROM migrate.applied WHERE revision = 'aaaa00000001'")

    create account" ]
    run -0 --separate-stderr pg_migrate show bbbb
    [[ "${lines[0]}" == "Rev: bbbb00000001 (head)" ]]
    [[ "$output" == *"Applied: no"* ]]
    run -1 --separate-stderr pg_migrate show nope
    [[ "$stderr" == *'ERROR:'*'"nope"'* ]]
    run -0 --separate-stderr pg_migrate current -v
    [[ "${lines[0]}" == "Rev: aaaa00000001 (current)" ]]
    run -0 --separate-stderr pg_migrate heads --verbose
    [[ "${lines[0]}" == "Rev: bbbb00000001 (head)" ]]
    run -0 --separate-stderr pg_migrate heads
    [ "$output" = "bbbb00000001 (head)" ]
    run -0 --separate-stderr pg_migrate history -v
    [ "$(printf '%s\n' "$output" | grep -c '^Rev: ')" = 2 ]
    [[ "$output" == *"Rev: bbbb00000001 (head)"*"Rev: aaaa00000001"* ]]
    run -0 --separate-stderr pg_migrate history
    [ "$output" = "aaaa00000001 -> bbbb00000001 (head), add a column
<base> -> aaaa00000001 (accounts), create account" ]
}

@test "graph: DOT and Mermaid from the server" {
    two_revisions
    run -0 --separate-stderr pg_migrate graph
    [ "${lines[0]}" = "digraph migrate {" ]
    [ "${lines[-1]}" = "}" ]
    [[ "$output" == *'"bbbb00000001" -> "aaaa00000001";'* ]]
    run -0 --separate-stderr pg_migrate graph --format mermaid
    [ "${lines[0]}" = "flowchart BT" ]
    [[ "$output" == *"bbbb00000001 --> aaaa00000001"* ]]
    run -1 --separate-stderr pg_migrate graph --format=png
    [[ "$stderr" == *ERROR:* ]]
}

@test "branches: each branch point and its children" {
    init
    rev aaaa00000001 "" "root" "SELECT 1;" ""
    rev bbbb00000001 aaaa00000001 "left" "SELECT 1;" ""
    rev cccc00000001 aaaa00000001 "right" "SELECT 1;" ""
    sed -i '1a -- migrate:branch_labels right' migrations/cccc00000001_right.sql
    run -0 --separate-stderr pg_migrate branches
    [ "$output" = "aaaa00000001 (branchpoint)
             -> bbbb00000001 (head)
             -> cccc00000001 (right) (head)" ]
    run -0 --separate-stderr pg_migrate heads
    [ "$output" = "bbbb00000001 (head)
cccc00000001 (right) (head)" ]
    run -0 --separate-stderr pg_migrate branches -v
    [ "${lines[1]}" = "             -> bbbb00000001 (head), left" ]
    run -0 --separate-stderr pg_migrate upgrade heads
    [ "$(q 'SELECT migrate.current()')" = "bbbb00000001,cccc00000001" ]
    run -0 --separate-stderr pg_migrate current
    [ "$output" = "bbbb00000001 (head)
cccc00000001 (head)" ]
}

@test "revision: --rev-id, --head base, --branch-label, --depends-on, --splice" {
    init
    run -0 --separate-stderr pg_migrate revision -m "First one!" --rev-id first_1
    [ "$output" = "migrations/first_1_first_one.sql" ]
    [ "$(cat migrations/first_1_first_one.sql)" = "-- migrate:revision first_1
-- migrate:parents
-- migrate:message First one!

-- migrate:upgrade


-- migrate:downgrade" ]
    run -1 --separate-stderr pg_migrate revision -m "again" --rev-id first_1
    [[ "$stderr" == *"revision first_1 exists: migrations/first_1_first_one.sql"* ]]
    run -1 --separate-stderr pg_migrate revision -m "bad" --rev-id "no-dash"
    [[ "$stderr" == *'invalid revision id "no-dash"'* ]]
    run -1 --separate-stderr pg_migrate revision -m "bad" --branch-label "a b"
    run -0 --separate-stderr pg_migrate revision -m "other base" --head base --rev-id second \
        --branch-label side --depends-on first_1
    grep -qx -- '-- migrate:parents' migrations/second_other_base.sql
    grep -qx -- '-- migrate:depends_on first_1' migrations/second_other_base.sql
    grep -qx -- '-- migrate:branch_labels side' migrations/second_other_base.sql
    run -0 --separate-stderr pg_migrate revision -m "on side" --head second --rev-id third
    grep -qx -- '-- migrate:parents second' migrations/third_on_side.sql
    # A label, resolved by the server (the files are synced, then rolled back).
    run -0 --separate-stderr pg_migrate revision -m "on side again" --head side@head --rev-id fourth
    grep -qx -- '-- migrate:parents third' migrations/fourth_on_side_again.sql
    [ "$(q 'SELECT count(*) FROM migrate.revisions')" = 0 ]
    run -1 --separate-stderr pg_migrate revision -m "x" --head second
    [[ "$stderr" == *"revision second is not a head: use --splice"* ]]
    run -0 --separate-stderr pg_migrate revision -m "spliced" --head second --splice --rev-id fifth
    grep -qx -- '-- migrate:parents second' migrations/fifth_spliced.sql
    run -1 --separate-stderr pg_migrate revision -m "x" --head nothing_like_it
    [[ "$stderr" == *"ERROR:"*"nothing_like_it"* ]]
    # The files work.
    run -0 --separate-stderr pg_migrate upgrade heads
    [ "$(q 'SELECT count(*) FROM migrate.applied')" = 5 ]
}

@test "heads --files: the heads of the folder, as the server reads them, before anything is registered" {
    init
    rev a1 "" "one" "CREATE TABLE t1 (a int);" "DROP TABLE t1;"
    rev b2 "a1" "two" "CREATE TABLE t2 (a int);" "DROP TABLE t2;"
    rev c3 "a1" "three" "CREATE TABLE t3 (a int);" "DROP TABLE t3;"
    run -0 pg_migrate heads --files
    [ "$output" = "b2"$'\n'"c3" ]
    # Nothing was registered: the catalog is not read.
    [ "$(q "SELECT count(*) FROM migrate.revisions")" = 0 ]
    rev d4 "b2 c3" "merge" "" ""
    run -0 pg_migrate heads --files
    [ "$output" = d4 ]
    run -2 pg_migrate heads --files -v
    [[ "$output" == *"--files and --verbose cannot be used together"* ]]
}

@test "--head, --depends-on and merge take names, never patterns" {
    init
    rev a1 "" "one" "CREATE TABLE t1 (a int);" "DROP TABLE t1;"
    rev b1 "" "two" "CREATE TABLE t2 (a int);" "DROP TABLE t2;"
    for bad in '.*' 'a.' 'b.' '[a]1' 'a1 a1' '$(touch pwned)'; do
        run -1 --separate-stderr pg_migrate merge -m m "$bad" b1
        [[ "$stderr" == *"invalid revision"* ]] || { echo "merge $bad: $stderr"; false; }
        run -1 --separate-stderr pg_migrate revision -m x --head "$bad"
        [[ "$stderr" == *"invalid revision"* ]] || { echo "--head $bad: $stderr"; false; }
        run -1 --separate-stderr pg_migrate revision -m x --head a1 --depends-on "$bad"
        [[ "$stderr" == *"invalid revision"* ]] || { echo "--depends-on $bad: $stderr"; false; }
    done
    [ "$(ls migrations | tr '\n' ' ')" = "a1_one.sql b1_two.sql " ]
    [ ! -e pwned ]
    run -0 pg_migrate revision -m two --head a1 --depends-on a1 --rev-id b2
    grep -qx -- "-- migrate:parents a1" migrations/b2_two.sql
}

@test "a search_path with a planted operator first cannot redirect pg_migrate's queries; scripts keep the user's path" {
    init
    # What an attacker with CREATE on public plants, for a database whose
    # search_path puts public first (ALTER ROLE/DATABASE ... SET search_path).
    q "CREATE TABLE public.evil_calls (op text)" >/dev/null
    for sig in "=,text,text,=" "<>,text,text,<>" "||,text,text,||" "=,name,name,=" "=,integer,integer,=" \
               "<,integer,integer,<" "=,bigint,bigint,=" "=,boolean,boolean,="; do
        IFS=, read -r op l r real <<<"$sig"
        fn="evil_$(printf '%s' "$op$l$r" | md5sum | cut -c1-8)"
        if [ "$op" = "||" ]; then ret=text; else ret=boolean; fi
        q "CREATE FUNCTION public.$fn($l, $r) RETURNS $ret LANGUAGE sql AS \$\$
             INSERT INTO public.evil_calls VALUES ('$op $l'); SELECT \$1 OPERATOR(pg_catalog.$real) \$2 \$\$;
           CREATE OPERATOR public.$op (LEFTARG = $l, RIGHTARG = $r, FUNCTION = public.$fn)" >/dev/null
    done
    q "ALTER DATABASE \"$DB\" SET search_path = public, pg_catalog" >/dev/null
    q "CREATE TABLE items (id int PRIMARY KEY, name text)" >/dev/null
    rev a1 "" "one" "CREATE TABLE seen_path AS SELECT pg_catalog.current_setting('search_path') AS p;" "DROP TABLE seen_path;"
    cat >migrations/a2_index.sql <<'SQL'
-- migrate:revision a2
-- migrate:parents a1
-- migrate:message index
-- migrate:transactional false

-- migrate:upgrade
CREATE INDEX CONCURRENTLY items_name ON items (name);

-- migrate:downgrade
DROP INDEX CONCURRENTLY items_name;
SQL
    rev a3 a2 "three" "CREATE TABLE t3 (a int);" "DROP TABLE t3;"
    printf 'CREATE TABLE items (id int PRIMARY KEY, name text);\nCREATE INDEX items_name ON items (name);\nCREATE TABLE seen_path (p text);\nCREATE TABLE t3 (a int);\n' >schema.sql
    run -0 pg_migrate upgrade head
    for cmd in "current" "current --verbose" "heads" "heads --files" "history" "history --verbose" \
               "show a2" "branches" "check" "check --schema-file schema.sql" "downgrade a1" "upgrade head" \
               "stamp a2" "stamp head" "sync" "revision --autogenerate --schema-file schema.sql -m auto"; do
        # shellcheck disable=SC2086  # the command's words
        run pg_migrate $cmd
        # check may find the files and the schema apart; nothing else fails.
        (( status == 0 )) || [[ "$cmd" == check* && "$status" == 1 ]] || { echo "$cmd: status $status: $output"; false; }
    done
    [ "$(q "SELECT count(*) FROM public.evil_calls")" = 0 ] || { q "SELECT op, count(*) FROM public.evil_calls GROUP BY op"; false; }
    # The scripts ran under the user's search_path: a1 saw it, and a2's
    # unqualified table was found in public.
    [ "$(q "SELECT p FROM public.seen_path")" = "public, pg_catalog" ]
    [ "$(q "SELECT migrate.current()")" = a3 ]
    [ "$(q "SELECT indisvalid FROM pg_catalog.pg_index WHERE indexrelid OPERATOR(pg_catalog.=) 'public.items_name'::pg_catalog.regclass")" = t ]
}

@test "values that are not text, glob characters in merge, a NUL in a schema file: refused, naming them" {
    init
    rev r1 "" "one" "CREATE TABLE t1 (a int);" "DROP TABLE t1;"
    rev b1 "" "two" "CREATE TABLE t2 (a int);" "DROP TABLE t2;"
    run -2 --separate-stderr pg_migrate upgrade $'r\xff'
    [[ "$stderr" == *'"r?" is not valid UTF-8'* ]]
    run -2 --separate-stderr pg_migrate revision -m $'bad \xff' --head b1
    [[ "$stderr" == *'"bad ?" is not valid UTF-8'* ]]
    touch b1x
    run -1 --separate-stderr pg_migrate merge -m m 'b?' r1
    [[ "$stderr" == *'invalid revision "b?"'* ]]
    printf 'CREATE TABLE t1 (a int); -- \000 x\nCREATE TABLE t2 (a int);\n' >schema.sql
    run -1 --separate-stderr pg_migrate check --schema-file schema.sql
    [[ "$stderr" == *"schema file schema.sql contains a NUL byte, on line 1"* ]]
    [ "$(ls migrations | tr '\n' ' ')" = "b1_two.sql r1_one.sql " ]
    [ "$(q "SELECT count(*) FROM migrate.revisions")" = 0 ]
}
