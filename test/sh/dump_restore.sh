#!/usr/bin/env bash
# pg_dump keeps the catalog: dump a migrated database, restore it into a new
# one, and the revisions, the applied state, the log, migrate.current() and
# migrate.history are the same there; upgrade('head') there applies nothing.
# Runs against the cluster that PGHOST/PGPORT/PGUSER name (test/run sets them).
set -euo pipefail

src=migrate_dump_src
dst=migrate_dump_dst
psql=(psql -X -q -v ON_ERROR_STOP=1)

cleanup() {
  dropdb --if-exists "$src" >/dev/null 2>&1 || true
  dropdb --if-exists "$dst" >/dev/null 2>&1 || true
}
trap cleanup EXIT
cleanup
createdb "$src"

"${psql[@]}" -o /dev/null -d "$src" <<'SQL'
SET client_min_messages = warning;
CREATE EXTENSION migrate;
SELECT migrate.revision('CREATE TABLE users (id int PRIMARY KEY, name text);',
                        'DROP TABLE users;', 'create users', 'a1b2c3d4e5f6');
SELECT migrate.revision($$ALTER TABLE users ADD COLUMN email text;
                          INSERT INTO users VALUES (1, 'ann', 'ann@example.com');$$,
                        $$ALTER TABLE users DROP COLUMN email;$$,
                        'add email', 'b2c3d4e5f6a1', branch_labels => '{accounts}');
SELECT migrate.revision('CREATE TABLE audit (id int);', 'DROP TABLE audit;',
                        'audit', 'c3d4e5f6a1b2', parents => '{}');
SELECT migrate.upgrade('heads');
SELECT migrate.downgrade('accounts@base');
SELECT migrate.upgrade('heads');
SQL

snapshot() {
  "${psql[@]}" -At -d "$1" <<'SQL'
SELECT 'current=' || coalesce(migrate.current(), '<none>');
SELECT 'history=' || string_agg(format('%s|%s|%s|%s|%s|%s', id, parents, message,
                                       branch_labels, applied, is_current), ';')
  FROM migrate.history;
SELECT 'applied=' || string_agg(revision || '@' || checksum || '@' || applied_at, ';' ORDER BY revision)
  FROM migrate.applied;
SELECT 'revisions=' || string_agg(id || '@' || checksum || '@' || seq, ';' ORDER BY seq)
  FROM migrate.revisions;
SELECT 'log=' || string_agg(action || ':' || revision || ':' || direction, ';' ORDER BY id)
  FROM migrate.log;
SELECT 'users=' || string_agg(id || ':' || name || ':' || email, ';') FROM users;
SQL
}

before=$(snapshot "$src")

createdb "$dst"
pg_dump -Fc -d "$src" | pg_restore --exit-on-error -d "$dst"

after=$(snapshot "$dst")
if [ "$before" != "$after" ]; then
  echo "restored catalog differs from the original:"
  diff <(echo "$before") <(echo "$after") || true
  exit 1
fi

# At head in the copy: an upgrade is a no-op, and new revisions still
# register after the restored ones (the sequence came along).
out=$("${psql[@]}" -At -d "$dst" <<'SQL'
SELECT migrate.upgrade('heads');
SELECT count(*) FROM migrate.log;
SELECT migrate.revision('SELECT 1;', NULL, 'after restore', 'd4e5f6a1b2c3',
                        parents => '{c3d4e5f6a1b2}');
SELECT seq > (SELECT max(seq) FROM migrate.revisions WHERE id <> 'd4e5f6a1b2c3')
  FROM migrate.revisions WHERE id = 'd4e5f6a1b2c3';
SQL
)
expected_log=$("${psql[@]}" -At -d "$src" -c "SELECT count(*) FROM migrate.log")
expected="b2c3d4e5f6a1,c3d4e5f6a1b2
$expected_log
d4e5f6a1b2c3
t"
if [ "$out" != "$expected" ]; then
  echo "after restore, expected:"; echo "$expected"; echo "got:"; echo "$out"
  exit 1
fi
echo "dump and restore keep the catalog: $(echo "$before" | head -1)"
