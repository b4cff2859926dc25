-- test/pgtap/trust.sql
--
-- What runs is what was checked (the checksum is checked before a script
-- runs), verify() diagnoses a damaged catalog without failing while the
-- read-only calls keep answering, and the caller's settings survive.
\ir setup.psql
SELECT plan(32);

CREATE FUNCTION pg_temp.tables() RETURNS text LANGUAGE sql AS $$
    SELECT coalesce(string_agg(relname::text, ',' ORDER BY relname), '')
      FROM pg_class WHERE relname LIKE 'tr\_%' AND relkind = 'r'
$$;

-- ---------------------------------------------------------------------
-- 1. The checksum is checked before a script runs
-- ---------------------------------------------------------------------
SELECT is(migrate.revision('CREATE TABLE tr_a ()', 'DROP TABLE tr_a', 'a', 'tr01', '{}'), 'tr01', 'register tr01');
SELECT is(migrate.upgrade('tr01'), 'tr01', 'tr01 applied');
UPDATE migrate.revisions SET downgrade = 'DROP TABLE tr_a; CREATE TABLE tr_evil ()' WHERE id = 'tr01';
SELECT throws_ok($$SELECT migrate.downgrade('base')$$, '55000',
    'revision "tr01" was changed in migrate.revisions since it was registered',
    'an edited downgrade script is refused, not run');
SELECT is(pg_temp.tables(), 'tr_a', 'nothing ran');
SELECT results_eq($$SELECT problem FROM migrate.verify() WHERE revision = 'tr01'$$,
    ARRAY['changed since it was applied: its scripts, parents or depends_on differ from what ran'],
    'verify() names it');
-- Registering the original content puts the row back, even applied.
SELECT is(migrate.revision('CREATE TABLE tr_a ()', 'DROP TABLE tr_a', 'a', 'tr01', '{}'), 'tr01',
    'the original content restores the row');
SELECT is((SELECT downgrade FROM migrate.revisions WHERE id = 'tr01'), 'DROP TABLE tr_a', 'restored');
SELECT is((SELECT count(*) FROM migrate.verify()), 0::bigint, 'verify() is clean again');
SELECT is(migrate.downgrade('base'), NULL, 'and the checked script runs');

SELECT is(migrate.revision('CREATE TABLE tr_b ()', 'DROP TABLE tr_b', 'b', 'tr02', '{}'), 'tr02', 'register tr02');
UPDATE migrate.revisions SET upgrade = 'CREATE TABLE tr_evil ()' WHERE id = 'tr02';
SELECT results_eq($$SELECT problem FROM migrate.verify() WHERE revision = 'tr02'$$,
    ARRAY['its content does not match its checksum: it was changed in migrate.revisions since it was registered'],
    'verify() names an edited unapplied revision');
SELECT throws_ok($$SELECT migrate.upgrade('tr02')$$, '55000',
    'revision "tr02" was changed in migrate.revisions since it was registered',
    'an edited upgrade script is refused');
SELECT is(pg_temp.tables(), '', 'nothing ran');
SELECT is(migrate.revision('CREATE TABLE tr_b ()', 'DROP TABLE tr_b', 'b', 'tr02', '{}'), 'tr02', 'restored');
SELECT is(migrate.upgrade('tr02'), 'tr02', 'then it runs');
SELECT is((SELECT a.checksum FROM migrate.applied a WHERE a.revision = 'tr02'),
          (SELECT r.checksum FROM migrate.revisions r WHERE r.id = 'tr02'),
    'the applied checksum is the checksum of what ran');

-- ---------------------------------------------------------------------
-- 2. A damaged catalog: verify() diagnoses, the checks keep answering
-- ---------------------------------------------------------------------
SELECT is(migrate.revision('SELECT 3', NULL, 'c', 'tr03', ARRAY['tr02']), 'tr03', 'register tr03');
UPDATE migrate.revisions SET parents = '{tr_gone}', checksum = checksum WHERE id = 'tr03';
SELECT results_eq($$SELECT problem FROM migrate.verify() WHERE revision = 'tr03' ORDER BY problem$$,
    ARRAY['its content does not match its checksum: it was changed in migrate.revisions since it was registered',
          'names parent "tr_gone", which is not registered'],
    'verify() reports a parent that is not registered, without failing');
SELECT is(migrate.current(), 'tr02', 'current() still answers');
SELECT ok(migrate.is_applied('tr02'), 'is_applied() still answers');
SELECT lives_ok($$SELECT migrate.require('tr02')$$, 'require() still answers');
SELECT is((SELECT string_agg(id, ',' ORDER BY id) FROM migrate.history), 'tr01,tr02,tr03',
    'history still shows every registered revision');
SELECT throws_ok($$SELECT migrate.upgrade('heads')$$, '42704',
    'revision "tr03" names parent "tr_gone", which is not registered',
    'a state change refuses the damaged graph');

-- A cycle made by hand.
UPDATE migrate.revisions SET parents = '{tr03}' WHERE id = 'tr01';
UPDATE migrate.revisions SET parents = '{tr01}' WHERE id = 'tr03';
SELECT ok((SELECT count(*) FROM migrate.verify()
            WHERE problem = 'on a cycle of parents or dependencies, or needs a revision on one') >= 2,
    'verify() reports a cycle');
SELECT lives_ok($$SELECT * FROM migrate.history$$, 'history does not fail on a cycle');
SELECT is(migrate.current(), 'tr02', 'nor does current()');
UPDATE migrate.revisions SET parents = '{}' WHERE id = 'tr01';
DELETE FROM migrate.revisions WHERE id = 'tr03';

-- ---------------------------------------------------------------------
-- 3. The caller's settings survive
-- ---------------------------------------------------------------------
CREATE SCHEMA tr_elsewhere;
SET LOCAL lock_timeout = '7s';
SET LOCAL statement_timeout = '77s';
SET LOCAL search_path = public, pg_catalog;
SET LOCAL migrate.ddl_lock_timeout = 100;
SELECT is(migrate.revision($$SET search_path = tr_elsewhere; SET lock_timeout = '1ms'; SET statement_timeout = '2s';
                             CREATE TABLE tr_set ()$$, 'DROP TABLE tr_elsewhere.tr_set', 's', 'tr04', ARRAY['tr02']),
    'tr04', 'a revision that changes settings');
SELECT is(migrate.upgrade('tr04'), 'tr04', 'applied, under migrate.ddl_lock_timeout');
SELECT ok(to_regclass('tr_elsewhere.tr_set') IS NOT NULL, 'its settings held within it');
SELECT is(current_setting('lock_timeout'), '7s', 'the caller''s lock_timeout is back');
SELECT is(current_setting('statement_timeout'), '77s', 'so is statement_timeout');
SELECT is(current_setting('search_path'), 'public, pg_catalog', 'and search_path');

SELECT * FROM finish();
ROLLBACK;
