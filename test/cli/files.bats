#!/usr/bin/env bats
#
# The file format, read by the server (migrate.files, migrate.sync):
# malformed files are refused naming the file and line, and nothing is
# registered; scripts reach the catalog byte for byte.

load helpers

# A registered, applied revision, and a valid new child of it that must not
# be registered when another file is malformed.
base_state() {
    init
    rev aaaa00000001 "" "base" "CREATE TABLE base_t (x int);" "DROP TABLE base_t;"
    pg_migrate upgrade 2>/dev/null
    rev aaaa00000002 aaaa00000001 "new child" "CREATE TABLE child_t (x int);" "DROP TABLE child_t;"
    BEFORE=$(catalog)
}

# malformed FILE ERROR [CONTEXT]: FILE (already written) is refused with
# that error (and that context line), status 1, and nothing is registered:
# by upgrade, sync and check alike.
malformed() {
    local cmd
    for cmd in upgrade sync check; do
        run -1 --separate-stderr pg_migrate $cmd
        [[ "$stderr" == *"ERROR:  $2"* ]]
        if (( $# >= 3 )); then
            [[ "$stderr" == *"CONTEXT:  $3"* ]]
        fi
        [ "$(catalog)" = "$BEFORE" ]
        ! table_exists child_t
    done
    [ -f "$1" ]
}

@test "malformed: no revision header" {
    base_state
    printf -- '-- migrate:parents aaaa00000001\n\n-- migrate:upgrade\nSELECT 1;\n' >migrations/bbbb00000001_x.sql
    malformed migrations/bbbb00000001_x.sql 'no "-- migrate:revision" header' \
        'revision file "migrations/bbbb00000001_x.sql", line 1'
}

@test "malformed: empty revision id" {
    base_state
    printf -- '-- migrate:revision\n-- migrate:upgrade\nSELECT 1;\n' >migrations/bbbb00000001_x.sql
    malformed migrations/bbbb00000001_x.sql '"-- migrate:revision" needs the revision id' \
        'revision file "migrations/bbbb00000001_x.sql", line 1'
}

@test "malformed: invalid revision id" {
    base_state
    printf -- '-- migrate:revision bad-id\n-- migrate:upgrade\nSELECT 1;\n' >migrations/bad-id_x.sql
    malformed migrations/bad-id_x.sql 'invalid revision id "bad-id"' \
        'revision file "migrations/bad-id_x.sql", line 1'
}

@test "malformed: unknown header" {
    base_state
    printf -- '-- migrate:revision bbbb00000001\n-- migrate:author bob\n\n-- migrate:upgrade\nSELECT 1;\n' \
        >migrations/bbbb00000001_x.sql
    malformed migrations/bbbb00000001_x.sql 'unrecognized directive "-- migrate:author"' \
        'revision file "migrations/bbbb00000001_x.sql", line 2'
}

@test "malformed: unknown directive inside a script" {
    base_state
    printf -- '-- migrate:revision bbbb00000001\n\n-- migrate:upgrade\nSELECT 1;\n-- migrate:up transaction:false\nSELECT 2;\n' \
        >migrations/bbbb00000001_x.sql
    malformed migrations/bbbb00000001_x.sql 'unrecognized directive "-- migrate:up"' \
        'revision file "migrations/bbbb00000001_x.sql", line 5'
}

@test "malformed: two upgrade sections" {
    base_state
    printf -- '-- migrate:revision bbbb00000001\n\n-- migrate:upgrade\nSELECT 1;\n-- migrate:downgrade\nSELECT 2;\n-- migrate:upgrade\nSELECT 3;\n' \
        >migrations/bbbb00000001_x.sql
    malformed migrations/bbbb00000001_x.sql 'duplicate section "-- migrate:upgrade"
DETAIL:  The first is on line 3.' 'revision file "migrations/bbbb00000001_x.sql", line 7'
}

@test "malformed: two downgrade sections" {
    base_state
    printf -- '-- migrate:revision bbbb00000001\n-- migrate:upgrade\nSELECT 1;\n-- migrate:downgrade\n-- migrate:downgrade\n' \
        >migrations/bbbb00000001_x.sql
    malformed migrations/bbbb00000001_x.sql 'duplicate section "-- migrate:downgrade"
DETAIL:  The first is on line 4.' 'revision file "migrations/bbbb00000001_x.sql", line 5'
}

@test "malformed: duplicate header" {
    base_state
    printf -- '-- migrate:revision bbbb00000001\n-- migrate:message one\n-- migrate:message two\n-- migrate:upgrade\nSELECT 1;\n' \
        >migrations/bbbb00000001_x.sql
    malformed migrations/bbbb00000001_x.sql 'duplicate header "-- migrate:message"
DETAIL:  The first is on line 2.' 'revision file "migrations/bbbb00000001_x.sql", line 3'
}

@test "malformed: header after a section" {
    base_state
    printf -- '-- migrate:revision bbbb00000001\n-- migrate:upgrade\nSELECT 1;\n-- migrate:parents aaaa00000001\n' \
        >migrations/bbbb00000001_x.sql
    malformed migrations/bbbb00000001_x.sql 'header "-- migrate:parents" after a section' \
        'revision file "migrations/bbbb00000001_x.sql", line 4'
}

@test "malformed: id does not match the file name" {
    base_state
    printf -- '-- migrate:revision bbbb00000001\n-- migrate:upgrade\nSELECT 1;\n' >migrations/bbbb00000002_x.sql
    malformed migrations/bbbb00000002_x.sql 'revision id "bbbb00000001" does not match the file name' \
        'revision file "migrations/bbbb00000002_x.sql", line 1'
    # A longer id that merely starts with the file's prefix does not match either.
    rm migrations/bbbb00000002_x.sql
    printf -- '-- migrate:revision bbbb0000000\n-- migrate:upgrade\nSELECT 1;\n' >migrations/bbbb00000001.sql
    malformed migrations/bbbb00000001.sql 'revision id "bbbb0000000" does not match the file name' \
        'revision file "migrations/bbbb00000001.sql", line 1'
}

@test "malformed: the same id in two files" {
    base_state
    printf -- '-- migrate:revision bbbb00000001\n-- migrate:upgrade\nSELECT 1;\n' >migrations/bbbb00000001_one.sql
    printf -- '\n-- migrate:revision bbbb00000001\n-- migrate:upgrade\nSELECT 2;\n' >migrations/bbbb00000001_two.sql
    malformed migrations/bbbb00000001_two.sql \
        'revision "bbbb00000001" is in two files: "migrations/bbbb00000001_one.sql" and "migrations/bbbb00000001_two.sql"'
}

@test "malformed: SQL outside a section" {
    base_state
    printf -- '-- migrate:revision bbbb00000001\n-- a comment is fine here\n\nCREATE TABLE lost (x int);\n-- migrate:upgrade\nSELECT 1;\n' \
        >migrations/bbbb00000001_x.sql
    malformed migrations/bbbb00000001_x.sql 'SQL outside a section' \
        'revision file "migrations/bbbb00000001_x.sql", line 4'
}

@test "malformed: no upgrade section" {
    base_state
    printf -- '-- migrate:revision bbbb00000001\n-- migrate:downgrade\nSELECT 1;\n' >migrations/bbbb00000001_x.sql
    malformed migrations/bbbb00000001_x.sql 'no "-- migrate:upgrade" section' \
        'revision file "migrations/bbbb00000001_x.sql"'
}

@test "malformed: text after a section marker" {
    base_state
    printf -- '-- migrate:revision bbbb00000001\n-- migrate:upgrade now\nSELECT 1;\n' >migrations/bbbb00000001_x.sql
    malformed migrations/bbbb00000001_x.sql 'unexpected text after "-- migrate:upgrade"' \
        'revision file "migrations/bbbb00000001_x.sql", line 2'
}

@test "malformed: invalid parent, dependency and label" {
    base_state
    printf -- '-- migrate:revision bbbb00000001\n-- migrate:parents aaaa00000001 no-way\n-- migrate:depends_on x.y\n-- migrate:branch_labels heads\n-- migrate:upgrade\nSELECT 1;\n' \
        >migrations/bbbb00000001_x.sql
    malformed migrations/bbbb00000001_x.sql 'invalid revision id "no-way"' \
        'revision file "migrations/bbbb00000001_x.sql", line 2'
    sed -i 's/ no-way//' migrations/bbbb00000001_x.sql
    malformed migrations/bbbb00000001_x.sql 'invalid revision id "x.y"' \
        'revision file "migrations/bbbb00000001_x.sql", line 3'
    sed -i 's/ x.y/ aaaa00000001/' migrations/bbbb00000001_x.sql
    malformed migrations/bbbb00000001_x.sql 'branch label "heads" is reserved' \
        'revision file "migrations/bbbb00000001_x.sql", line 4'
}

@test "malformed: a cycle of parents among the files" {
    base_state
    rev cccc00000001 cccc00000002 "one" "SELECT 1;"
    rev cccc00000002 cccc00000001 "two" "SELECT 2;"
    malformed migrations/cccc00000002_two.sql 'the revision files form a cycle
DETAIL:  Revisions cccc00000001, cccc00000002 are on a cycle or need a revision on one.'
}

@test "malformed: every problem of every file is reported at once" {
    base_state
    printf -- '-- migrate:revision bbbb00000001\n-- migrate:bogus\n-- migrate:upgrade\n-- migrate:upgrade\n' >migrations/bbbb00000001_x.sql
    printf -- '-- migrate:upgrade\nSELECT 1;\n' >migrations/bbbb00000002_y.sql
    malformed migrations/bbbb00000001_x.sql '2 revision files are malformed
DETAIL:  revision file "migrations/bbbb00000001_x.sql", line 2: unrecognized directive "-- migrate:bogus"
revision file "migrations/bbbb00000002_y.sql", line 1: no "-- migrate:revision" header'
}

# ------------------------------------------------------------ byte for byte

# script_file ID BODY-FILE: a revision whose upgrade script is exactly the
# bytes of BODY-FILE (which has no blank first or last line).
script_file() {
    {
        printf -- '-- migrate:revision %s\n-- migrate:message bytes\n\n-- migrate:upgrade\n' "$1"
        cat "$2"
        printf '\n-- migrate:downgrade\nSELECT 1;\n'
    } >"migrations/$1_bytes.sql"
}

@test "bytes: dollar quotes, semicolons in strings, backslashes, non-ASCII, psql syntax" {
    init
    cat >body.sql <<'EOF'
CREATE TABLE "odd;name" (v text DEFAULT E'a\\b;c', w text DEFAULT 'it''s; "quoted"');
CREATE FUNCTION pick(x text) RETURNS text LANGUAGE sql AS $$ SELECT x || ';' || $q$'$q$ $$;
CREATE FUNCTION tagged() RETURNS text LANGUAGE plpgsql AS $pgm_0$
BEGIN
    RETURN '$pgm_1$ $pgm_$ $$ end';  -- a tag pg_migrate would like to use
END
$pgm_0$;
INSERT INTO "odd;name" (v) VALUES ('日本語 é ü 😀'), ('back\slash \\ \n'), (':foo :''bar'' :"baz"'), ('$pgm_2$');
-- psql would act on these if they reached it as commands:
-- \! echo oops
-- \i /etc/passwd
/* \gset ; \q */
	SELECT 'a tab before me, trailing spaces after me';   
EOF
    script_file bbbb00000001 body.sql
    run -0 --separate-stderr pg_migrate upgrade
    [ "$(q "SELECT md5(upgrade) FROM migrate.revisions WHERE id = 'bbbb00000001'")" = "$(md5 body.sql)" ]
    [ "$(q "SELECT string_agg(v, '|' ORDER BY v COLLATE \"C\") FROM \"odd;name\"")" = '$pgm_2$|:foo :'"'"'bar'"'"' :"baz"|back\slash \\ \n|日本語 é ü 😀' ]
    [ "$(q "SELECT DISTINCT w FROM \"odd;name\"")" = 'it'"'"'s; "quoted"' ]
    [ "$(q "SELECT column_default FROM information_schema.columns WHERE column_name = 'v'")" = "'a\\b;c'::text" ]
    [ "$(q "SELECT pick('x')")" = "x;'" ]
    [ "$(q "SELECT tagged()")" = '$pgm_1$ $pgm_$ $$ end' ]
    # The file round-trips: syncing again changes nothing.
    before=$(catalog)
    run -0 --separate-stderr pg_migrate sync
    [ "$stderr" = "" ]
    [ "$(catalog)" = "$before" ]
    run -0 --separate-stderr pg_migrate check
}

@test "bytes: CRLF lines, a message with quotes, a file without a final newline" {
    init
    printf 'SELECT 1;\r\n\r\nSELECT $x$ a\r\n b $x$;\r\n' >body.sql
    {
        printf -- '-- migrate:revision bbbb00000001\r\n'
        printf -- '-- migrate:message it'"'"'s $pgm_0$ "quoted" \\ é\r\n'
        printf -- '-- migrate:upgrade\r\n'
        cat body.sql
        printf -- '-- migrate:downgrade\r\nSELECT 2;'
    } >migrations/bbbb00000001_crlf.sql
    run -0 --separate-stderr pg_migrate upgrade
    [ "$(q "SELECT md5(upgrade) FROM migrate.revisions WHERE id = 'bbbb00000001'")" = "$(md5 body.sql)" ]
    # The last line gets its newline; trailing spaces and CRs of header values go.
    [ "$(q "SELECT downgrade = E'SELECT 2;\\n' FROM migrate.revisions")" = t ]
    [ "$(q "SELECT message FROM migrate.revisions")" = 'it'"'"'s $pgm_0$ "quoted" \ é' ]
    before=$(catalog)
    run -0 --separate-stderr pg_migrate sync
    [ "$(catalog)" = "$before" ]
}

@test "bytes: blank lines around a script are not part of it; inner ones are" {
    init
    printf -- '-- migrate:revision bbbb00000001\n-- migrate:upgrade\n\n  \n\t\nSELECT 1;\n\n  \nSELECT 2;\n\n\n\n-- migrate:downgrade\n\n\n' \
        >migrations/bbbb00000001_blank.sql
    run -0 --separate-stderr pg_migrate sync
    [ "$(q "SELECT upgrade = E'SELECT 1;\\n\\n  \\nSELECT 2;\\n' FROM migrate.revisions")" = t ]
    # An empty downgrade section: reversible, nothing to run.
    [ "$(q "SELECT downgrade = '' FROM migrate.revisions")" = t ]
}

@test "bytes: no downgrade section makes the revision irreversible" {
    init
    rev bbbb00000001 "" "one way" "CREATE TABLE one_way (x int);"
    run -0 --separate-stderr pg_migrate upgrade
    [ "$(q "SELECT downgrade IS NULL FROM migrate.revisions")" = t ]
    run -1 --separate-stderr pg_migrate downgrade base
    [[ "$stderr" == *ERROR:* ]]
    table_exists one_way
}

@test "bytes: a long script (5,000 lines, 400 kB)" {
    init
    awk 'BEGIN { for (i = 1; i <= 5000; i++) printf "INSERT INTO long_t VALUES (%d, $$%s;$$);\n", i, sprintf("%060d", i) }' >body.sql
    printf 'CREATE TABLE long_t (i int, s text);\n' >head.sql
    cat head.sql body.sql >full.sql
    script_file bbbb00000001 full.sql
    [ "$(wc -c <full.sql)" -gt 400000 ]
    run -0 --separate-stderr pg_migrate upgrade
    [ "$(q "SELECT md5(upgrade) FROM migrate.revisions")" = "$(md5 full.sql)" ]
    [ "$(q "SELECT count(*) FROM long_t")" = 5000 ]
}

@test "bytes: no header value or folder name can break pg_migrate's quoting" {
    mkdir 'd$pgm_0'
    export MIGRATE_DIR='d$pgm_0'
    pg_migrate init >/dev/null
    {
        printf -- '-- migrate:revision a1\n-- migrate:parents\n'
        printf -- "-- migrate:message ends in \$pgm_0 and 'quotes' \$\$ \$pgm\$\n\n"
        printf -- '-- migrate:upgrade\nCREATE TABLE t (a text DEFAULT $pgm_0$x$pgm_0$);\n\n'
        printf -- '-- migrate:downgrade\nDROP TABLE t;\n'
    } >'d$pgm_0/a1_x.sql'
    run -0 --separate-stderr pg_migrate upgrade head
    [ "$(q "SELECT message FROM migrate.revisions WHERE id = 'a1'")" = "ends in \$pgm_0 and 'quotes' \$\$ \$pgm\$" ]
    [ "$(q "SELECT column_default FROM information_schema.columns WHERE table_name = 't'")" = "'x'::text" ]
    run -0 pg_migrate check
}
