-- test/pgtap/report.sql
--
-- What the server does for pg_migrate, so that pg_migrate only calls:
-- migrate.report() (Alembic's output), resolve(), plan_script(),
-- nontransactional_plan(), require_head(), alembic_target(), and the
-- fingerprint that lets a sync of unchanged files be skipped (synced()),
-- and session_start(), the first call of each pg_migrate command.
\ir setup.psql
SELECT plan(54);

-- The hint of the error a statement raises.
CREATE FUNCTION pg_temp.hint(sql text) RETURNS text LANGUAGE plpgsql AS $$
DECLARE
    h text;
BEGIN
    EXECUTE sql;
    RETURN NULL;
EXCEPTION WHEN OTHERS THEN
    GET STACKED DIAGNOSTICS h = PG_EXCEPTION_HINT;
    RETURN h;
END $$;

-- A graph: a1 <- b1 <- c1 (labelled main), a branch b2 from a1 (registered
-- with SQL and applied: history without a file), and a merge m1 of c1 and
-- b2.  Applied: a1, b1, b2.
CREATE TEMP TABLE files (name text, content text);
INSERT INTO files VALUES
    ('m/a1_x.sql', E'-- migrate:revision a1\n-- migrate:parents\n-- migrate:message first\n-- migrate:upgrade\nCREATE TABLE t1 (id int);\n-- migrate:downgrade\nDROP TABLE t1;\n'),
    ('m/b1_x.sql', E'-- migrate:revision b1\n-- migrate:parents a1\n-- migrate:message second\n-- migrate:upgrade\nCREATE TABLE t2 (id int);\n-- migrate:downgrade\nDROP TABLE t2;\n'),
    ('m/c1_x.sql', E'-- migrate:revision c1\n-- migrate:parents b1\n-- migrate:branch_labels main\n-- migrate:message third\n-- migrate:upgrade\nCREATE TABLE t3 (id int);\n-- migrate:downgrade\nDROP TABLE t3;\n');
SELECT count(*) FROM migrate.sync(ARRAY(SELECT name FROM files ORDER BY name),
                                  ARRAY(SELECT content FROM files ORDER BY name), 'fp-1');
SELECT migrate.revision('CREATE TABLE t4 (id int);', 'DROP TABLE t4;', 'side', 'b2', ARRAY['a1']);
SELECT migrate.upgrade('b2');
INSERT INTO files VALUES
    ('m/m1_x.sql', E'-- migrate:revision m1\n-- migrate:parents c1 b2\n-- migrate:message merge\n-- migrate:upgrade\n-- migrate:downgrade\n');
SELECT count(*) FROM migrate.sync(ARRAY(SELECT name FROM files ORDER BY name),
                                  ARRAY(SELECT content FROM files ORDER BY name));

-- ------------------------------------------------------------------ file

SELECT is((SELECT file FROM migrate.revisions WHERE id = 'b1'), 'm/b1_x.sql',
    'sync records the file each revision was read from');
SELECT is((SELECT file FROM migrate.revisions WHERE id = 'b2'), NULL,
    'a revision registered with SQL has no file');

-- ------------------------------------------------------------------ report

SELECT migrate.upgrade('b1');
SELECT results_eq($$SELECT * FROM migrate.report('history')$$,
    ARRAY['c1, b2 -> m1 (head) (mergepoint), merge',
          'a1 -> b2, side',
          'b1 -> c1 (main), third',
          'a1 -> b1, second',
          '<base> -> a1 (branchpoint), first'],
    'history: Alembic''s one-line format, newest first');
SELECT results_eq($$SELECT * FROM migrate.report('history', indicate_current => true)$$,
    ARRAY['c1, b2 -> m1 (head) (mergepoint), merge',
          'a1 -> b2 (current), side',
          'b1 -> c1 (main), third',
          'a1 -> b1 (current), second',
          '<base> -> a1 (branchpoint), first'],
    'history -i marks the current revision');
SELECT results_eq($$SELECT * FROM migrate.report('current')$$, ARRAY['b1', 'b2'],
    'current: the applied heads, by id');
SELECT results_eq($$SELECT * FROM migrate.report('heads')$$, ARRAY['m1 (head)'],
    'heads: the heads with their labels');
SELECT results_eq($$SELECT * FROM migrate.report('branches')$$,
    ARRAY[E'a1 (branchpoint)\n   -> b1\n   -> b2\n'],
    'branches: each branch point and its children');
SELECT results_eq($$SELECT * FROM migrate.report('branches', verbose => true)$$,
    ARRAY[E'a1 (branchpoint)\n   -> b1, second\n   -> b2, side\n'],
    'branches -v: with the messages');
SELECT alike((SELECT r FROM migrate.report('show', 'b1') r),
    E'Rev: b1 (current)\nParent: a1\nPath: m/b1_x.sql\nApplied: 2%\n\n    second\n',
    'show: the full entry, its file and when it was applied');
SELECT alike((SELECT r FROM migrate.report('show', 'b2') r), '%Path: (no file)%',
    'show: a revision without a file says so');
SELECT alike((SELECT r FROM migrate.report('show', 'm1') r),
    E'Rev: m1 (head) (mergepoint)\nMerges: c1, b2\n%Applied: no\n%',
    'show: a merge lists what it merges');
SELECT alike((SELECT r FROM migrate.report('show', 'a1') r), E'%Branches into: b1, b2\n%',
    'show: a branch point lists its children');
SELECT is((SELECT count(*)::int FROM migrate.report('show', 'heads')), 1,
    'show takes any target');
SELECT is((SELECT count(*)::int FROM migrate.report('history', verbose => true)), 5,
    'history -v: an entry a revision');
SELECT throws_ok($$SELECT * FROM migrate.report('show', 'base')$$, '22023',
    '"base" names no revision', 'show of a target that names no revision is an error');
SELECT throws_ok($$SELECT * FROM migrate.report('logs')$$, '22023',
    'invalid report "logs"', 'an unknown report is an error naming it');
SELECT throws_ok($$SELECT * FROM migrate.report(NULL)$$, '22023',
    NULL, 'a NULL report is an error');

-- ------------------------------------------------------------------ resolve

SELECT results_eq($$SELECT * FROM migrate.resolve('main@head')$$, ARRAY['m1'],
    'resolve: the head of a label''s branch');
SELECT results_eq($$SELECT * FROM migrate.resolve('c1-2')$$, ARRAY['a1'],
    'resolve: a relative target');
SELECT results_eq($$SELECT * FROM migrate.resolve('heads')$$, ARRAY['m1'],
    'resolve: heads');
SELECT is_empty($$SELECT * FROM migrate.resolve('base')$$, 'resolve: base names none');
SELECT throws_ok($$SELECT * FROM migrate.resolve('zz')$$, '42704', NULL,
    'resolve: an unknown revision is the error upgrade() gives');

-- ------------------------------------------------------------------ plan_script

SELECT results_eq($$SELECT * FROM migrate.plan_script('c1')$$,
    ARRAY[E'-- migrate.upgrade(''c1''): the scripts it would run now, in order (nothing was run).\n-- Running them by hand does not record them in the catalog ("pg_migrate stamp" does).\nBEGIN;\n',
          E'-- upgrade b1 -> c1 (third)\nCREATE TABLE t3 (id int);\n',
          'COMMIT;'],
    'plan_script: the scripts an upgrade would run, as one script');
SELECT alike((SELECT string_agg(l, '') FROM migrate.plan_script('a1', true) l),
    E'-- migrate.downgrade(''a1'')%BEGIN;\n%-- downgrade b% -> a1 (%)\nDROP TABLE t%;\n%-- downgrade b% -> a1 (%)\nDROP TABLE t%;\nCOMMIT;',
    'plan_script: a downgrade, each step with its script');
SELECT results_eq($$SELECT * FROM migrate.plan_script('b1')$$,
    ARRAY[E'-- migrate.upgrade(''b1''): the scripts it would run now, in order (nothing was run).\n-- Running them by hand does not record them in the catalog ("pg_migrate stamp" does).\n-- Nothing to do.\n'],
    'plan_script: nothing to do');

-- ------------------------------------------------------------------ require_head

SELECT throws_ok($$SELECT migrate.require_head()$$, '55000', 'the database is not at head',
    'require_head: refused while revisions are not applied');
SET application_name = 'pg_migrate';
SELECT throws_like($$SELECT migrate.require_head()$$, 'the database is not at head',
    'require_head: the same for pg_migrate');
SELECT is((SELECT pg_temp.hint('SELECT migrate.require_head()')),
    'Run "pg_migrate upgrade heads" first, then generate the next revision.',
    'require_head: pg_migrate is told its own command');
RESET application_name;
SELECT migrate.upgrade('heads');
SELECT lives_ok($$SELECT migrate.require_head()$$, 'require_head: at head, nothing to say');

-- ------------------------------------------------------------------ nontransactional_plan

SELECT is_empty($$SELECT * FROM migrate.nontransactional_plan('head')$$,
    'nontransactional_plan: none without a non-transactional revision');
SELECT migrate.revision(E'CREATE INDEX CONCURRENTLY t1_id ON t1 (id);\nCREATE INDEX CONCURRENTLY t2_id ON t2 (id);\n',
    E'DROP INDEX CONCURRENTLY t1_id;\n', 'indexes', 'n1', ARRAY['m1'], ARRAY['b2'], transactional => false);
SELECT migrate.revision('SELECT 1;', 'SELECT 1;', 'after', 'p1', ARRAY['n1']);
SELECT results_eq($$SELECT revision, statements, needs FROM migrate.nontransactional_plan('head')$$,
    $$VALUES ('n1', 2, 'm1,b2')$$,
    'nontransactional_plan: the revision, its statements, what it needs first');
SELECT is_empty($$SELECT * FROM migrate.nontransactional_plan('m1')$$,
    'nontransactional_plan: none in a plan without one');
SELECT is_empty($$SELECT * FROM migrate.nontransactional_plan('head', true)$$,
    'nontransactional_plan: a downgrade cannot hold an unapplied one');
SELECT migrate.stamp('p1');
SELECT results_eq($$SELECT revision, statements, needs FROM migrate.nontransactional_plan('m1', true)$$,
    $$VALUES ('n1', 1, NULL::text)$$,
    'nontransactional_plan: a downgrade counts the downgrade''s statements and needs nothing');

-- ------------------------------------------------------------------ synced

SELECT ok(NOT migrate.synced('fp-1'),
    'synced: a revision registered since the sync makes it false');
SELECT count(*) FROM migrate.sync(ARRAY(SELECT name FROM files ORDER BY name),
                                  ARRAY(SELECT content FROM files ORDER BY name), 'fp-2');
SELECT ok(migrate.synced('fp-2'), 'synced: true for the fingerprint of the last sync');
SELECT ok(NOT migrate.synced('fp-3'), 'synced: false for another fingerprint');
SELECT migrate.upgrade('heads');
SELECT ok(migrate.synced('fp-2'), 'synced: a no-op upgrade leaves it');
SELECT migrate.downgrade('n1');
SELECT ok(NOT migrate.synced('fp-2'),
    'synced: a downgrade clears it (an unapplied revision without a file must be forgotten)');
SELECT count(*) FROM migrate.sync(ARRAY(SELECT name FROM files ORDER BY name),
                                  ARRAY(SELECT content FROM files ORDER BY name), 'fp-4');
SELECT is((SELECT count(*)::int FROM migrate.revisions WHERE id = 'p1'), 0,
    'the sync after it forgets the unapplied revision without a file');
UPDATE migrate.revisions SET message = 'edited' WHERE id = 'a1';
SELECT ok(NOT migrate.synced('fp-4'), 'synced: an edit of the catalog by hand clears it');

SELECT throws_ok($$SELECT migrate.synced(repeat('f', 129))$$, '22023', NULL,
    'synced: a fingerprint longer than 128 characters is refused');
SELECT throws_ok($$SELECT count(*) FROM migrate.sync(ARRAY(SELECT name FROM files ORDER BY name),
                                  ARRAY(SELECT content FROM files ORDER BY name), '')$$, '22023',
    'invalid fingerprint ""', 'sync: an empty fingerprint is refused');

-- ------------------------------------------------------------------ session_start

SELECT count(*) FROM migrate.sync(ARRAY(SELECT name FROM files ORDER BY name),
                                  ARRAY(SELECT content FROM files ORDER BY name), 'fp-5');
SELECT results_eq($$SELECT locked, synced, nontransactional FROM migrate.session_start('fp-5', 'migration')$$,
    $$VALUES (true, true, true)$$,
    'session_start: takes the free lock, knows the fingerprint, sees the non-transactional revision');
SELECT is((SELECT version FROM migrate.session_start('fp-5')),
    (SELECT extversion FROM pg_extension WHERE extname = 'migrate'), 'session_start: gives the installed version');
SELECT is((SELECT count(*)::int FROM pg_locks WHERE locktype = 'object' AND pid = pg_backend_pid()
             AND classid = 'pg_extension'::regclass AND objsubid = 1 AND mode = 'ExclusiveLock'), 1,
    'session_start: the lock is the session''s migration lock');
SELECT is((SELECT count(*)::int FROM pg_locks WHERE locktype = 'object' AND pid = pg_backend_pid()
             AND classid = 'pg_extension'::regclass AND objsubid = 2), 0,
    'session_start: "migration" leaves the non-transactional part alone');
SELECT migrate.unlock_session();
CREATE TEMP TABLE held AS SELECT locktype, objsubid, mode, count(*) AS n FROM pg_locks
    WHERE pid = pg_backend_pid() AND classid = 'pg_extension'::regclass GROUP BY 1, 2, 3;
SELECT results_eq($$SELECT locked, synced FROM migrate.session_start('fp-6')$$,
    $$VALUES (true, false)$$, 'session_start: lock none takes nothing; another fingerprint is not synced');
SELECT set_eq($$SELECT locktype, objsubid, mode, count(*) FROM pg_locks
                 WHERE pid = pg_backend_pid() AND classid = 'pg_extension'::regclass GROUP BY 1, 2, 3$$,
    $$SELECT * FROM held$$, 'session_start: lock none adds no lock');
SELECT throws_ok($$SELECT * FROM migrate.session_start('fp-5', 'exclusive')$$, '22023',
    'invalid lock "exclusive"', 'session_start: an unknown lock is refused');
SELECT throws_ok($$SELECT * FROM migrate.session_start('')$$, '22023',
    'invalid fingerprint ""', 'session_start: an empty fingerprint is refused');

-- ------------------------------------------------------------------ alembic_target

CREATE TABLE pg_temp.alembic_version (version_num varchar(32) PRIMARY KEY);
SELECT is(migrate.alembic_target(pg_catalog.to_regclass('alembic_version')), 'base',
    'alembic_target: an empty table is base');
INSERT INTO pg_temp.alembic_version VALUES ('c1'), ('b2');
SELECT is(migrate.alembic_target(pg_catalog.to_regclass('alembic_version')), 'b2,c1',
    'alembic_target: the recorded revisions as one target');
SELECT throws_ok($$SELECT migrate.alembic_target(NULL)$$, '42P01',
    'no table alembic_version in this database', 'alembic_target: no table is an error');

SELECT * FROM finish();
ROLLBACK;
