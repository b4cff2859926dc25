-- test/pgtap/nontransactional.sql
--
-- Non-transactional revisions as the server sees them: registration allows
-- CONCURRENTLY in them only; upgrade() and downgrade() refuse them before
-- running anything; their statements are listed, their progress and
-- failures recorded, and finish records them applied once every statement
-- ran, in order; how a run goes on after an interrupted one (resume); no
-- state change while a statement runs.  (Running CREATE INDEX CONCURRENTLY
-- itself, and killing pg_migrate during one, needs top level:
-- test/cli/nontransactional.bats does that.)
\ir setup.psql
SELECT plan(45);

CREATE TABLE nt_items (id int PRIMARY KEY, name text);
SELECT migrate.revision('ALTER TABLE nt_items ADD COLUMN code int;', 'ALTER TABLE nt_items DROP COLUMN code;',
                        'code', 'nt_base');

SELECT throws_ok($$SELECT migrate.revision('CREATE INDEX CONCURRENTLY nt_i ON nt_items (name);', NULL, 'idx', 'nt_bad')$$,
    '0A000', 'CREATE INDEX CONCURRENTLY is not allowed in a migration script',
    'a transactional revision may not build an index concurrently');
SELECT lives_ok($$SELECT migrate.revision(E'CREATE INDEX CONCURRENTLY nt_name ON nt_items (name);\nCREATE INDEX CONCURRENTLY nt_code ON nt_items (code);',
                                          E'DROP INDEX CONCURRENTLY nt_code;\nDROP INDEX CONCURRENTLY nt_name;',
                                          'indexes', 'nt_idx', transactional => false)$$,
    'a non-transactional one may');
SELECT is((SELECT transactional FROM migrate.revisions WHERE id = 'nt_idx'), false, '... and is recorded so');
SELECT throws_ok($$SELECT migrate.revision('BEGIN; SELECT 1; COMMIT;', NULL, 'tx', 'nt_tx', transactional => false)$$,
    '0A000', 'BEGIN is not allowed in a migration script', 'transaction control stays forbidden');
SELECT throws_ok($$SELECT migrate.revision('SELECT 1', transactional => NULL)$$,
    '22004', 'argument "transactional" must not be null', 'transactional must not be null');
SELECT isnt((SELECT checksum FROM migrate.revisions WHERE id = 'nt_idx'),
    migrate.revision(E'CREATE INDEX CONCURRENTLY nt_name ON nt_items (name);\nCREATE INDEX CONCURRENTLY nt_code ON nt_items (code);',
                     E'DROP INDEX CONCURRENTLY nt_code;\nDROP INDEX CONCURRENTLY nt_name;', 'indexes', 'nt_idx_copy',
                     ARRAY['nt_base'], transactional => false) || '', 'a copy registers under its own id');
SELECT migrate.revision('ALTER TABLE nt_items ADD COLUMN note text;', 'ALTER TABLE nt_items DROP COLUMN note;',
                        'note', 'nt_after', ARRAY['nt_idx']);

-- upgrade() stops before running anything.
SELECT throws_ok($$SELECT migrate.upgrade('nt_after')$$, '25001', 'revision "nt_idx" is non-transactional',
    'upgrade() refuses a plan with a non-transactional revision');
SELECT is((SELECT count(*) FROM migrate.applied), 0::bigint, '... and applies nothing, not even the revisions before it');
SELECT is(migrate.upgrade('nt_base'), 'nt_base', 'the revisions before it apply on their own');

-- Its statements, as the server cuts them.
SELECT results_eq($$SELECT statement, line, sql, done, invalid_index, resume FROM migrate.nontransactional_statements('nt_idx')$$,
    $$VALUES (1, 1, 'CREATE INDEX CONCURRENTLY nt_name ON nt_items (name)', false, NULL::text, 'run'),
             (2, 2, 'CREATE INDEX CONCURRENTLY nt_code ON nt_items (code)', false, NULL, 'run')$$,
    'nontransactional_statements() lists the statements with their lines');
SELECT throws_ok($$SELECT * FROM migrate.nontransactional_statements('nt_base')$$, '22023',
    'revision "nt_base" is transactional', 'only for non-transactional revisions');
SELECT throws_ok($$SELECT * FROM migrate.nontransactional_statements('nt_nope')$$, '42704',
    'revision "nt_nope" does not exist', 'of registered revisions');

SELECT throws_ok($$SELECT migrate.nontransactional_finish('nt_idx')$$, '55000',
    'statement 1 (line 1) of revision "nt_idx" has not run', 'finish refuses while a statement has not run');

-- What pg_migrate does, statement by statement (here inside this test's
-- transaction, so without CONCURRENTLY).
CREATE INDEX nt_name ON nt_items (name);
SELECT lives_ok($$SELECT migrate.nontransactional_progress('nt_idx', 1)$$, 'progress is recorded');
SELECT is((SELECT array_agg(done ORDER BY statement) FROM migrate.nontransactional_statements('nt_idx')),
    '{t,f}', '... and shows');
SELECT throws_ok($$SELECT migrate.nontransactional_progress('nt_idx', 3)$$, '22023',
    'revision "nt_idx" has no statement 3', 'a statement that does not exist');
SELECT lives_ok($$SELECT migrate.nontransactional_failure('nt_idx', 2, '23505', 'could not create unique index')$$,
    'a failure is recorded');
SELECT is((SELECT row(success, sqlstate, error)::text FROM migrate.log WHERE revision = 'nt_idx' ORDER BY id DESC LIMIT 1),
    '(f,23505,"statement 2 (line 2): could not create unique index")', '... in migrate.log, with the statement and line');
SELECT throws_ok($$SELECT migrate.nontransactional_failure('nt_idx', 2, 'bad', 'x')$$, '22023',
    'invalid SQLSTATE "bad"', 'a SQLSTATE is checked');

-- The failed build left an invalid index: it is named, and the next run
-- drops it and builds it again.
CREATE INDEX nt_code ON nt_items (code);
UPDATE pg_index SET indisvalid = false WHERE indexrelid = 'nt_code'::regclass;
SELECT is((SELECT row(invalid_index, resume)::text FROM migrate.nontransactional_statements('nt_idx') WHERE statement = 2),
    '(public.nt_code,rebuild)', 'an invalid index left by a failed CONCURRENTLY build is named, to be rebuilt');
UPDATE pg_index SET indisvalid = true WHERE indexrelid = 'nt_code'::regclass;
SELECT is((SELECT row(invalid_index, resume)::text FROM migrate.nontransactional_statements('nt_idx') WHERE statement = 2),
    '(,run)', '... and no longer once it is valid: a valid index no run of this statement built is not ours');

-- A run that began statement 2 was killed; the orphaned backend finished
-- the build: the next run records it instead of failing on "already exists".
INSERT INTO migrate.statement_progress (revision, direction, statement) VALUES ('nt_idx', 'up', 2);
SELECT is((SELECT row(done, resume)::text FROM migrate.nontransactional_statements('nt_idx') WHERE statement = 2),
    '(f,record)', 'a statement an interrupted run began, whose index exists and is valid, is to be recorded');
SELECT lives_ok($$SELECT migrate.nontransactional_begin('nt_idx', 2)$$, 'begin records it...');
SELECT is((SELECT array_agg(done ORDER BY statement) FROM migrate.nontransactional_statements('nt_idx')),
    '{t,t}', '... as done');
SELECT throws_ok($$SELECT migrate.nontransactional_begin('nt_idx', 2)$$, '55000',
    'statement 2 of revision "nt_idx" already ran', 'a statement that ran does not begin again');

SELECT is(migrate.nontransactional_finish('nt_idx'), 'nt_idx', 'finish records it applied and returns current()');
SELECT ok(migrate.is_applied('nt_idx'), '... it is applied');
SELECT is((SELECT count(*) FROM migrate.statement_progress), 0::bigint, '... and its progress is cleared');
SELECT is((SELECT row(success, direction)::text FROM migrate.log WHERE revision = 'nt_idx' ORDER BY id DESC LIMIT 1),
    '(t,up)', '... and logged');
SELECT is(migrate.upgrade('nt_after'), 'nt_after', 'upgrade() goes on from there');

-- Down again.
SELECT throws_ok($$SELECT migrate.downgrade('nt_base')$$, '25001', 'revision "nt_idx" is non-transactional',
    'downgrade() refuses it too');
SELECT is(migrate.downgrade('nt_idx'), 'nt_idx', 'what depends on it goes down first');
SELECT throws_ok($$SELECT migrate.nontransactional_finish('nt_idx', true)$$, '55000',
    'statement 1 (line 1) of revision "nt_idx" has not run', 'its downgrade statements must run');
DROP INDEX nt_code;
DROP INDEX nt_name;
SELECT is((SELECT array_agg(resume ORDER BY statement) FROM migrate.nontransactional_statements('nt_idx', true)),
    '{run,run}', 'a DROP INDEX CONCURRENTLY no run began runs');
-- An interrupted run began both, and both indexes are gone.
INSERT INTO migrate.statement_progress (revision, direction, statement) VALUES ('nt_idx', 'down', 1), ('nt_idx', 'down', 2);
SELECT is((SELECT array_agg(resume ORDER BY statement) FROM migrate.nontransactional_statements('nt_idx', true)),
    '{record,record}', 'a DROP INDEX CONCURRENTLY that an interrupted run began and whose index is gone is recorded');
SELECT lives_ok($$SELECT migrate.nontransactional_begin('nt_idx', 1, true), migrate.nontransactional_begin('nt_idx', 2, true)$$,
    'begin records them');
SELECT is(migrate.nontransactional_finish('nt_idx', true), 'nt_base', 'then it is recorded unapplied');

-- While a statement runs (between begin and its progress), this session
-- changes no state: the statement could be SELECT migrate.stamp(...).
SELECT migrate.revision('CREATE INDEX CONCURRENTLY nt_g ON nt_items (id);', NULL, 'guard', 'nt_guard',
                        ARRAY['nt_base'], transactional => false);
SELECT is((SELECT resume FROM migrate.nontransactional_statements('nt_guard')), 'run', 'a new statement runs');
SELECT lives_ok($$SELECT migrate.nontransactional_begin('nt_guard', 1)$$, 'a statement begins');
SELECT throws_ok($$SELECT migrate.stamp('nt_base')$$, '55000',
    'cannot call migrate.stamp() from a statement of a non-transactional revision',
    'it cannot stamp');
SELECT throws_ok($$SELECT migrate.upgrade('head')$$, '55000',
    'cannot call migrate.upgrade() from a statement of a non-transactional revision',
    'it cannot upgrade');
SELECT throws_ok($$SELECT migrate.nontransactional_finish('nt_guard')$$, '55000',
    'cannot call migrate.nontransactional_finish() from a statement of a non-transactional revision',
    'it cannot record the revision applied');
SELECT throws_ok($$SELECT migrate.nontransactional_progress('nt_guard', 1)$$, '55000',
    'cannot call migrate.nontransactional_progress() from a statement of a non-transactional revision',
    'it cannot record its own progress (the guard would end from inside it)');
SELECT throws_ok($$SELECT migrate.unlock_session()$$, '55000',
    'cannot call migrate.unlock_session() from a statement of a non-transactional revision',
    'it cannot release the lock');
SELECT is(migrate.current(), 'nt_base', 'the state is what it was');

SELECT * FROM finish();
ROLLBACK;
