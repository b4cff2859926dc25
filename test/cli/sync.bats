#!/usr/bin/env bats
#
# sync: every file registered, parents first, in one transaction of one psql
# process; applied revisions protected; catalog revisions without a file
# reported, never deleted; 1,000 files in seconds.

load helpers

@test "sync: 1,000 files in one transaction, parents first, in seconds" {
    init
    # A chain whose file names (hashes) are in no particular order, so that
    # registering in file name order would fail.
    awk 'BEGIN {
        for (i = 1; i <= 1000; i++) {
            id = sprintf("r%05d", i)
            cmd = "printf %s " id " | md5sum"; cmd | getline h; close(cmd)
            ids[i] = substr(h, 1, 8) "_" id
        }
        for (i = 1; i <= 1000; i++) {
            f = "migrations/" ids[i] "_step.sql"
            printf "-- migrate:revision %s\n-- migrate:parents %s\n-- migrate:message step %d\n\n", ids[i], (i > 1 ? ids[i - 1] : ""), i > f
            printf "-- migrate:upgrade\nCREATE TABLE t%d (x int);\n\n-- migrate:downgrade\nDROP TABLE t%d;\n", i, i > f
            close(f)
        }
    }'
    [ "$(ls migrations | wc -l)" = 1000 ]
    first=$(ls migrations | head -n 1)
    [ "$first" != "$(grep -l 'step 1$' migrations/* | xargs -n1 basename)" ]

    start=$(date +%s%N)
    run -0 --separate-stderr pg_migrate sync
    ms=$(( ($(date +%s%N) - start) / 1000000 ))
    echo "# sync of 1,000 files: ${ms} ms" >&3
    [ "$stderr" = "" ]
    [ "$ms" -lt 10000 ]
    [ "$(q 'SELECT count(*) FROM migrate.revisions')" = 1000 ]
    # Registered parent before child.
    [ "$(q 'SELECT count(*) FROM migrate.revisions c JOIN migrate.revisions p
             ON p.id = ANY (c.parents) WHERE p.seq > c.seq')" = 0 ]
    [ "$(q 'SELECT count(*) FROM migrate.revisions WHERE cardinality(parents) = 0')" = 1 ]

    # Again: nothing changes, and it is as fast.
    before=$(catalog)
    start=$(date +%s%N)
    run -0 --separate-stderr pg_migrate sync
    ms=$(( ($(date +%s%N) - start) / 1000000 ))
    echo "# sync again (no changes): ${ms} ms" >&3
    [ "$(catalog)" = "$before" ]

    start=$(date +%s%N)
    run -0 --separate-stderr pg_migrate upgrade
    ms=$(( ($(date +%s%N) - start) / 1000000 ))
    echo "# upgrade of 1,000 revisions: ${ms} ms" >&3
    [ "$(q 'SELECT count(*) FROM migrate.applied')" = 1000 ]
    table_exists t1000
    run -0 --separate-stderr pg_migrate check
}

@test "sync: a file whose applied revision changed stops everything, naming the file" {
    init
    rev aaaa00000001 "" "create t" "CREATE TABLE t (x int);" "DROP TABLE t;"
    pg_migrate upgrade 2>/dev/null
    sed -i 's/CREATE TABLE t (x int);/CREATE TABLE t (x bigint);/' migrations/aaaa00000001_create_t.sql
    rev aaaa00000002 aaaa00000001 "new" "CREATE TABLE u (x int);" "DROP TABLE u;"
    before=$(catalog)
    run -1 --separate-stderr pg_migrate upgrade
    [[ "$stderr" == *'ERROR:  revision "aaaa00000001" is applied and cannot be changed'* ]]
    [[ "$stderr" == *"DETAIL:  Its scripts, parents or depends_on differ from the registered ones."* ]]
    [[ "$stderr" == *'HINT:  Put the change in a new revision, or downgrade revision "aaaa00000001" first.'* ]]
    [[ "$stderr" == *'CONTEXT:  revision file "migrations/aaaa00000001_create_t.sql" (upgrade script from line 6, downgrade script from line 9)'* ]]
    [ "$output" = "" ]
    # One transaction: the new file was not registered either.
    [ "$(catalog)" = "$before" ]
    ! table_exists u
    run -1 --separate-stderr pg_migrate sync
    [[ "$stderr" == *'revision file "migrations/aaaa00000001_create_t.sql"'* ]]
    [ "$(catalog)" = "$before" ]
}

@test "sync: an unapplied revision's new content replaces the old; applied ones take new messages" {
    init
    rev aaaa00000001 "" "create t" "CREATE TABLE t (x int);" "DROP TABLE t;"
    rev aaaa00000002 aaaa00000001 "create u" "CREATE TABLE u (x int);" "DROP TABLE u;"
    pg_migrate upgrade aaaa00000001 2>/dev/null
    sed -i 's/CREATE TABLE u (x int);/CREATE TABLE u (y int);/' migrations/aaaa00000002_create_u.sql
    sed -i 's/^-- migrate:message create t$/-- migrate:message create table t/' migrations/aaaa00000001_create_t.sql
    printf -- '-- migrate:branch_labels trunk\n' >>migrations/aaaa00000001_create_t.sql
    run -1 --separate-stderr pg_migrate sync
    [[ "$stderr" == *'ERROR:  header "-- migrate:branch_labels" after a section'* ]]
    [[ "$stderr" == *'CONTEXT:  revision file "migrations/aaaa00000001_create_t.sql", line 10'* ]]
    sed -i '$d' migrations/aaaa00000001_create_t.sql
    sed -i '1a -- migrate:branch_labels trunk' migrations/aaaa00000001_create_t.sql
    run -0 --separate-stderr pg_migrate sync
    [ "$(q "SELECT upgrade FROM migrate.revisions WHERE id = 'aaaa00000002'")" = "CREATE TABLE u (y int);" ]
    [ "$(q "SELECT message || ' ' || branch_labels::text FROM migrate.revisions WHERE id = 'aaaa00000001'")" = "create table t {trunk}" ]
    run -0 --separate-stderr pg_migrate upgrade trunk@head
    [ "$(q "SELECT count(*) FROM information_schema.columns WHERE table_name = 'u' AND column_name = 'y'")" = 1 ]
}

@test "sync: files are the truth for what is not applied; applied revisions without a file stay" {
    init
    rev aaaa00000001 "" "create t" "CREATE TABLE t (x int);" "DROP TABLE t;"
    q "SELECT migrate.revision('SELECT 1;', NULL, 'registered by hand', 'zzzz00000001', '{}')" >/dev/null
    q "SELECT migrate.revision('SELECT 2;', NULL, 'another', 'zzzz00000002', '{zzzz00000001}')" >/dev/null
    run -1 --separate-stderr pg_migrate check
    [[ "$stderr" == *"warning: revision zzzz00000001 is in the catalog but has no file: it is not applied, and the next sync forgets it"* ]]
    # Unapplied and without a file: forgotten, children first, each named
    # and logged.
    run -0 --separate-stderr pg_migrate sync
    [ "$stderr" = 'NOTICE:  revision zzzz00000002 forgotten: it was not applied and has no file
NOTICE:  revision zzzz00000001 forgotten: it was not applied and has no file' ]
    [ "$(q 'SELECT count(*) FROM migrate.revisions')" = 1 ]
    [ "$(q "SELECT string_agg(revision || ' ' || action || ' ' || coalesce(direction, '-'), ',' ORDER BY id) FROM migrate.log")" = "zzzz00000002 forget -,zzzz00000001 forget -" ]
    # Applied ones are history: they stay, and stay downgradable.
    pg_migrate upgrade 2>/dev/null
    mv migrations/aaaa00000001_create_t.sql .
    run -0 --separate-stderr pg_migrate sync
    [ "$stderr" = "" ]
    run -0 --separate-stderr pg_migrate show aaaa00000001
    [[ "$output" == *"Path: (no file)"* ]]
    run -0 --separate-stderr pg_migrate downgrade base
    ! table_exists t
    MIGRATE_DIR=elsewhere run -1 --separate-stderr pg_migrate sync
    [[ "$stderr" == *"no folder elsewhere"* ]]
}

@test "sync: a revision whose file is gone cannot be applied through a child" {
    init
    rev aaaa00000001 "" "one" "CREATE TABLE one (x int);" "DROP TABLE one;"
    rev aaaa00000002 aaaa00000001 "two" "CREATE TABLE two (x int);" "DROP TABLE two;"
    pg_migrate sync
    rm migrations/aaaa00000001_one.sql
    run -1 --separate-stderr pg_migrate upgrade head
    [[ "$stderr" == *'ERROR:  revision "aaaa00000001" has no file, but revision "aaaa00000002" names it as a parent'* ]]
    [[ "$stderr" == *'HINT:  Restore the file of revision "aaaa00000001", or change the parents of revision "aaaa00000002".'* ]]
    ! table_exists one
}

@test "sync: a server error names the file and registers nothing" {
    init
    rev aaaa00000001 "" "fine" "CREATE TABLE t (x int);" "DROP TABLE t;"
    rev aaaa00000002 aaaa00000001 "broken" "CREATE TABLE u (x int);
SELEC 1;"
    run -1 --separate-stderr pg_migrate sync
    [[ "$stderr" == *'ERROR:  syntax error at or near "SELEC"'* ]]
    [[ "$stderr" == *'upgrade script of revision "aaaa00000002", line 2'* ]]
    [[ "$stderr" == *'revision file "migrations/aaaa00000002_broken.sql" (upgrade script from line 6)'* ]]
    [ "$(q 'SELECT count(*) FROM migrate.revisions')" = 0 ]

    # A parent that is nowhere: the server's 42704, naming the file.
    rm migrations/aaaa00000002_broken.sql
    rev aaaa00000003 nowhere0001 "orphan" "SELECT 1;"
    run -1 --separate-stderr pg_migrate sync
    [[ "$stderr" == *"nowhere0001"* ]]
    [[ "$stderr" == *'revision file "migrations/aaaa00000003_orphan.sql"'* ]]
    [ "$(q 'SELECT count(*) FROM migrate.revisions')" = 0 ]
}

@test "sync: dependencies are registered first, whatever the file names" {
    init
    rev bbbb00000001 "" "needs c" "CREATE VIEW v AS SELECT * FROM c_t;" "DROP VIEW v;"
    sed -i '1a -- migrate:depends_on cccc00000001' migrations/bbbb00000001_needs_c.sql
    rev cccc00000001 "" "makes c" "CREATE TABLE c_t (x int);" "DROP TABLE c_t;"
    rev aaaa00000001 "bbbb00000001" "after b" "SELECT 1;" ""
    run -0 --separate-stderr pg_migrate sync
    [ "$(q "SELECT depends_on::text FROM migrate.revisions WHERE id = 'bbbb00000001'")" = "{cccc00000001}" ]
    run -0 --separate-stderr pg_migrate upgrade aaaa00000001
    [ "$(q 'SELECT migrate.is_applied($$cccc00000001$$)')" = t ]
    run -0 --separate-stderr pg_migrate history
    [[ "$output" == *"bbbb00000001 -> aaaa00000001 (head), after b"* ]]
    [[ "$output" == *"<base> (cccc00000001) -> bbbb00000001, needs c"* ]]
}

@test "two heads: pg_migrate is told to merge with pg_migrate; a merge made with SQL fails check" {
    init
    rev aaaa00000001 "" "base" "SELECT 1;" "SELECT 1;"
    rev aaaa00000002 aaaa00000001 "left" "SELECT 2;" "SELECT 2;"
    rev aaaa00000003 aaaa00000001 "right" "SELECT 3;" "SELECT 3;"
    run -1 --separate-stderr pg_migrate upgrade head
    [[ "$stderr" == *'HINT:  Use "heads" for all of them, "<label>@head" for one branch, or merge them with "pg_migrate merge heads -m MESSAGE".'* ]]
    # Merged with SQL: the catalog has a head that no file has.
    pg_migrate sync
    merged=$(q "SELECT migrate.merge(NULL, 'by hand')")
    run -1 --separate-stderr pg_migrate check
    [[ "$output" == *"revision $merged is a head of the catalog but has no file: it is not applied, and the next sync forgets it"* ]]
    # Merged as pg_migrate says: a file, and one head.
    run -0 --separate-stderr pg_migrate merge heads -m "join"
    [ -f "$output" ]
    run -0 --separate-stderr pg_migrate upgrade head
    [[ "$stderr" == *"revision $merged forgotten: it was not applied and has no file"* ]]
    run -0 --separate-stderr pg_migrate check
    [[ "$output" == "No differences: 4 revision file(s) match the catalog"* ]]
}
