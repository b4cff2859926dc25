#!/usr/bin/env bats
#
# Alembic's tutorial, step by step, with pg_migrate: init, revision -m,
# upgrade head, history, current, downgrade -1, upgrade +1, stamp, two
# branches and their merge, check failing then passing.

load helpers

# tutorial: init and the tutorial's first two revisions, as a user writes
# them: "revision -m", then the scripts typed into the empty sections.
tutorial() {
    run -0 --separate-stderr pg_migrate init
    [ -d migrations ]
    [ "$(q "SELECT extversion FROM pg_extension WHERE extname = 'migrate'")" = 0.1.0 ]

    run -0 --separate-stderr pg_migrate revision -m "create account table"
    A_FILE=$output
    [[ "$A_FILE" =~ ^migrations/([0-9a-f]{12})_create_account_table\.sql$ ]]
    A=${BASH_REMATCH[1]}
    grep -qx -- "-- migrate:revision $A" "$A_FILE"
    grep -qx -- "-- migrate:parents" "$A_FILE"
    grep -qx -- "-- migrate:message create account table" "$A_FILE"
    fill "$A_FILE" \
        'CREATE TABLE account (id serial PRIMARY KEY, name varchar(50) NOT NULL, description varchar(200));' \
        'DROP TABLE account;'

    run -0 --separate-stderr pg_migrate revision -m "Add a column"
    B_FILE=$output
    [[ "$B_FILE" =~ ^migrations/([0-9a-f]{12})_add_a_column\.sql$ ]]
    B=${BASH_REMATCH[1]}
    grep -qx -- "-- migrate:parents $A" "$B_FILE"
    fill "$B_FILE" \
        'ALTER TABLE account ADD COLUMN last_transaction_date timestamp;' \
        'ALTER TABLE account DROP COLUMN last_transaction_date;'
    # Nothing touched the catalog yet: revision works on the files.
    [ "$(q 'SELECT count(*) FROM migrate.revisions')" = 0 ]
}

has_column() {
    [ "$(q "SELECT count(*) FROM information_schema.columns
             WHERE table_name = 'account' AND column_name = '$1'")" = 1 ]
}

@test "walk-through: init, revision -m, upgrade head, history, current" {
    tutorial
    run -0 --separate-stderr pg_migrate upgrade head
    [ "$output" = "" ]
    [ "$stderr" = "NOTICE:  upgrade base -> $A (create account table)
NOTICE:  upgrade $A -> $B (Add a column)" ]
    has_column last_transaction_date
    [ "$(q 'SELECT migrate.current()')" = "$B" ]

    run -0 --separate-stderr pg_migrate history
    [ "$output" = "$A -> $B (head), Add a column
<base> -> $A, create account table" ]

    run -0 --separate-stderr pg_migrate history --indicate-current
    [ "${lines[0]}" = "$A -> $B (head) (current), Add a column" ]

    run -0 --separate-stderr pg_migrate current
    [ "$output" = "$B (head)" ]

    run -0 --separate-stderr pg_migrate heads
    [ "$output" = "$B (head)" ]

    # Again: nothing to do, nothing printed, nothing changed.
    before=$(catalog)
    run -0 --separate-stderr pg_migrate upgrade head
    [ "$output$stderr" = "" ]
    [ "$(catalog)" = "$before" ]
}

@test "walk-through: downgrade -1, upgrade +1, downgrade base, partial ids" {
    tutorial
    pg_migrate upgrade head 2>/dev/null

    run -0 --separate-stderr pg_migrate downgrade -1
    [ "$stderr" = "NOTICE:  downgrade $B -> $A (Add a column)" ]
    ! has_column last_transaction_date
    table_exists account
    run -0 --separate-stderr pg_migrate current
    [ "$output" = "$A" ]

    run -0 --separate-stderr pg_migrate upgrade +1
    [ "$stderr" = "NOTICE:  upgrade $A -> $B (Add a column)" ]
    has_column last_transaction_date

    run -0 --separate-stderr pg_migrate downgrade base
    ! table_exists account
    run -0 --separate-stderr pg_migrate current
    [ "$output" = "" ]

    # A unique prefix of 4 characters, as in "alembic upgrade ae10".
    run -0 --separate-stderr pg_migrate upgrade "${A:0:4}"
    [ "$(q 'SELECT migrate.current()')" = "$A" ]
    run -0 --separate-stderr pg_migrate upgrade "${A:0:6}+1"
    [ "$(q 'SELECT migrate.current()')" = "$B" ]

    # Downgrade needs a target, as in Alembic.
    run -2 --separate-stderr pg_migrate downgrade
}

@test "walk-through: stamp moves the applied state without running scripts" {
    tutorial
    pg_migrate upgrade head 2>/dev/null

    run -0 --separate-stderr pg_migrate stamp base
    [[ "$stderr" == *"marked not applied, no script run"* ]]
    run -0 --separate-stderr pg_migrate current
    [ "$output" = "" ]
    has_column last_transaction_date    # nothing was dropped

    run -0 --separate-stderr pg_migrate stamp "$A"
    [ "$(q 'SELECT migrate.current()')" = "$A" ]
    has_column last_transaction_date

    run -0 --separate-stderr pg_migrate stamp head
    run -0 --separate-stderr pg_migrate current
    [ "$output" = "$B (head)" ]
    [ "$(q "SELECT count(*) FROM migrate.log WHERE action = 'stamp'")" -ge 3 ]
}

@test "walk-through: two branches, heads, branches, merge, upgrade" {
    tutorial
    pg_migrate upgrade head 2>/dev/null

    # Someone else builds on A at the same time.
    run -1 --separate-stderr pg_migrate revision -m "add shopping cart table" --head "$A"
    [[ "$stderr" == *"revision $A is not a head: use --splice"* ]]
    run -0 --separate-stderr pg_migrate revision -m "add shopping cart table" --head "$A" --splice
    C_FILE=$output
    [[ "$C_FILE" =~ ^migrations/([0-9a-f]{12})_add_shopping_cart_table\.sql$ ]]
    C=${BASH_REMATCH[1]}
    grep -qx -- "-- migrate:parents $A" "$C_FILE"
    fill "$C_FILE" 'CREATE TABLE shopping_cart (id serial PRIMARY KEY);' 'DROP TABLE shopping_cart;'

    # With two heads, a new revision needs --head.
    run -1 --separate-stderr pg_migrate revision -m "one more"
    [[ "$stderr" == *"several heads ($B, $C)"* || "$stderr" == *"several heads ($C, $B)"* ]]
    [ "$(ls migrations | wc -l)" = 3 ]

    run -0 --separate-stderr pg_migrate heads
    [[ "$output" == *"$B (head)"* && "$output" == *"$C (head)"* && "${#lines[@]}" = 2 ]]
    run -0 --separate-stderr pg_migrate branches
    pad=$(printf '%12s' '')
    [ "$output" = "$A (branchpoint)
$pad -> $B (head)
$pad -> $C (head)" ]

    # "head" is ambiguous now: the server says so, and nothing changes.
    before=$(catalog)
    run -1 --separate-stderr pg_migrate upgrade head
    [[ "$stderr" == *ERROR:* ]]
    [[ "$stderr" == *"$B"* && "$stderr" == *"$C"* ]]
    ! table_exists shopping_cart
    [ "$(catalog)" = "$before" ]

    # Merge them, naming the heads by prefix as in the tutorial.
    run -0 --separate-stderr pg_migrate merge -m "merge B and C" "${B:0:5}" "${C:0:5}"
    M_FILE=$output
    [[ "$M_FILE" =~ ^migrations/([0-9a-f]{12})_merge_b_and_c\.sql$ ]]
    M=${BASH_REMATCH[1]}
    grep -qx -- "-- migrate:parents $B $C" "$M_FILE"
    grep -qx -- "-- migrate:upgrade" "$M_FILE"
    # merge resolved the prefixes without registering anything.
    [ "$(catalog)" = "$before" ]

    run -0 --separate-stderr pg_migrate upgrade head
    [ "$stderr" = "NOTICE:  upgrade $A -> $C (add shopping cart table)
NOTICE:  upgrade $B, $C -> $M (merge B and C)" ]
    table_exists shopping_cart
    run -0 --separate-stderr pg_migrate current
    [ "$output" = "$M (head) (mergepoint)" ]
    run -0 --separate-stderr pg_migrate history
    [ "${lines[0]}" = "$B, $C -> $M (head) (mergepoint), merge B and C" ]
    [ "${lines[3]}" = "<base> -> $A (branchpoint), create account table" ]
    [ "${#lines[@]}" = 4 ]

    # Back down through the merge: -1 unapplies just the merge (as in
    # Alembic), leaving both branches applied; -2 would step through the
    # merge point, which is ambiguous.
    run -1 --separate-stderr pg_migrate downgrade -2
    [[ "$stderr" == *'ERROR:  relative target "-2" is ambiguous'* ]]
    run -0 --separate-stderr pg_migrate downgrade -1
    [ "$stderr" = "NOTICE:  downgrade $M -> $B, $C (merge B and C)" ]
    [ "$(q 'SELECT migrate.current()')" = "$(printf '%s\n' "$B" "$C" | LC_ALL=C sort | paste -sd,)" ]
}

@test "walk-through: merge without revisions joins every head of the files" {
    tutorial
    run -0 --separate-stderr pg_migrate revision -m "second branch" --head base --branch-label other
    O_FILE=$output
    grep -qx -- "-- migrate:parents" "$O_FILE"
    grep -qx -- "-- migrate:branch_labels other" "$O_FILE"
    O=$(sed -n 's/^-- migrate:revision //p' "$O_FILE")
    run -0 --separate-stderr pg_migrate merge -m "join" --rev-id join0001
    [ "$output" = "migrations/join0001_join.sql" ]
    grep -qxE -- "-- migrate:parents ($B $O|$O $B)" migrations/join0001_join.sql
    run -1 --separate-stderr pg_migrate merge -m "again"
    [[ "$stderr" == *"a merge needs at least two revisions"* ]]
    run -0 --separate-stderr pg_migrate upgrade
    [ "$(q 'SELECT migrate.current()')" = join0001 ]
    [ "$(q "SELECT branch_labels FROM migrate.revisions WHERE id = '$O'")" = "{other}" ]
}

@test "walk-through: check fails until the database is at the files' head" {
    tutorial
    # Files not in the catalog yet.
    before=$(catalog)
    run -1 --separate-stderr pg_migrate check
    [[ "$output" == *"$A_FILE: revision $A is not in the catalog"* ]]
    [[ "$output" == *"$B_FILE: revision $B is not in the catalog"* ]]
    [[ "$output" == *"the database is at base; the files' head is $B"* ]]
    [[ "$stderr" == *"check failed: 3 difference(s)"* ]]
    [ "$(catalog)" = "$before" ]          # check changes nothing

    # Registered but not applied.
    pg_migrate sync
    run -1 --separate-stderr pg_migrate check
    [ "$output" = "the database is at base; the files' head is $B" ]

    run -0 --separate-stderr pg_migrate upgrade head
    run -0 --separate-stderr pg_migrate check
    [ "$output" = "No differences: 2 revision file(s) match the catalog; the database is at $B" ]

    # An edited message differs from the catalog, and check says so.
    sed -i 's/^-- migrate:message Add a column$/-- migrate:message Add a date column/' "$B_FILE"
    run -1 --separate-stderr pg_migrate check
    [ "$output" = "$B_FILE: revision $B differs from the catalog: message" ]
    # An edited applied script too, with what the catalog will say.
    sed -i 's/timestamp;/timestamptz;/' "$B_FILE"
    run -1 --separate-stderr pg_migrate check
    [ "$output" = "$B_FILE: revision $B differs from the catalog: upgrade script, message (applied: the catalog refuses the change; put it in a new revision)" ]
    [ "$(catalog)" != "$before" ]
    after=$(catalog)
    run -1 --separate-stderr pg_migrate check
    [ "$(catalog)" = "$after" ]
}
