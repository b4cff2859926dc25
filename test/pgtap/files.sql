-- test/pgtap/files.sql
--
-- The revision-file format, read by the server: migrate.files() (the
-- parser), migrate.sync() (files are the truth for what is not applied),
-- migrate.forget(), migrate.check_files(); and the messages that depend on who
-- asks.
\ir setup.psql
SELECT plan(78);

-- The DETAIL, HINT or CONTEXT of the error a statement raises.
CREATE FUNCTION pg_temp.err(sql text, part text) RETURNS text LANGUAGE plpgsql AS $$
DECLARE
    d text;
    h text;
    c text;
BEGIN
    EXECUTE sql;
    RETURN NULL;
EXCEPTION WHEN OTHERS THEN
    GET STACKED DIAGNOSTICS d = PG_EXCEPTION_DETAIL, h = PG_EXCEPTION_HINT, c = PG_EXCEPTION_CONTEXT;
    RETURN CASE part WHEN 'detail' THEN d WHEN 'hint' THEN h ELSE c END;
END $$;

-- One member of a tar archive (ustar), as "tar -cf" writes it.
CREATE FUNCTION pg_temp.tar_member(name bytea, body bytea) RETURNS bytea LANGUAGE plpgsql AS $$
DECLARE
    h bytea;
    sum int := 0;
BEGIN
    h := name || decode(repeat('01', 100 - length(name)), 'hex');
    h := h || convert_to('0000644' || chr(1) || '0000000' || chr(1) || '0000000' || chr(1)
                         || lpad(pg_temp.to_oct(length(body)), 11, '0') || chr(1)
                         || '00000000000' || chr(1) || '        ' || '0', 'UTF8');
    h := h || convert_to(repeat(chr(1), 100) || 'ustar' || chr(1) || '00', 'UTF8');
    h := h || convert_to(repeat(chr(1), 512 - 265), 'UTF8');
    -- chr(1) stands for NUL, which text cannot hold.
    FOR i IN 0 .. 511 LOOP
        IF get_byte(h, i) = 1 THEN
            h := set_byte(h, i, 0);
        END IF;
    END LOOP;
    FOR i IN 0 .. 511 LOOP
        sum := sum + get_byte(h, i);
    END LOOP;
    h := overlay(h PLACING convert_to(lpad(pg_temp.to_oct(sum), 6, '0'), 'UTF8') || '\x0020'::bytea FROM 149 FOR 8);
    RETURN h || body || decode(repeat('00', (512 - length(body) % 512) % 512), 'hex');
END $$;
CREATE FUNCTION pg_temp.tar_member(name text, body bytea) RETURNS bytea LANGUAGE sql AS $$
    SELECT pg_temp.tar_member(convert_to(name, 'UTF8'), body)
$$;
CREATE FUNCTION pg_temp.to_oct(n bigint) RETURNS text LANGUAGE sql AS $$
    WITH RECURSIVE d(v, s) AS (SELECT n, ''::text UNION ALL SELECT v / 8, (v % 8)::text || s FROM d WHERE v > 0)
    SELECT CASE WHEN n = 0 THEN '0' ELSE (SELECT s FROM d WHERE v = 0) END
$$;
CREATE FUNCTION pg_temp.to_oct(n int) RETURNS text LANGUAGE sql AS $$ SELECT pg_temp.to_oct(n::bigint) $$;

-- ---------------------------------------------------------------------
-- 1. The parser
-- ---------------------------------------------------------------------
SELECT results_eq($$
    SELECT file, revision, parents, depends_on, branch_labels, message, transactional, upgrade, downgrade, is_head
      FROM migrate.files(ARRAY['migrations/fa02_second.sql', 'migrations/fa01.sql'],
                         ARRAY[E'-- migrate:revision fa02\n-- migrate:parents fa01\n-- migrate:message  second one \r\n'
                               || E'-- migrate:depends_on fa01\n-- migrate:branch_labels lb_one lb_two\n'
                               || E'-- migrate:transactional FALSE\n\n-- migrate:upgrade\n\n  \nCREATE INDEX CONCURRENTLY i ON t (a);\n\n'
                               || E'-- migrate:lint-ignore all\nSELECT 2;\n \n\n-- migrate:downgrade\nDROP INDEX CONCURRENTLY i;',
                               E'-- a comment before the headers is fine\n-- migrate:revision fa01\n\n-- migrate:upgrade\nCREATE TABLE t (a int);\n'])$$,
    $$VALUES ('migrations/fa01.sql', 'fa01', '{}'::text[], '{}'::text[], '{}'::text[], '', true,
              E'CREATE TABLE t (a int);\n', NULL::text, false),
             ('migrations/fa02_second.sql', 'fa02', '{fa01}', '{fa01}', '{lb_one,lb_two}', 'second one', false,
              E'CREATE INDEX CONCURRENTLY i ON t (a);\n\n-- migrate:lint-ignore all\nSELECT 2;\n',
              E'DROP INDEX CONCURRENTLY i;\n', true)$$,
    'files(): headers, scripts byte for byte without the blank lines around them, parents first, heads');
SELECT is((SELECT count(*) FROM migrate.files('{}', '{}')), 0::bigint, 'no files, no rows');
SELECT results_eq($$SELECT revision FROM migrate.files(
        ARRAY['c_3.sql', 'b_2.sql', 'a_1.sql'],
        ARRAY[E'-- migrate:revision c\n-- migrate:parents b\n-- migrate:upgrade\nSELECT 3;',
              E'-- migrate:revision b\n-- migrate:parents a\n-- migrate:upgrade\nSELECT 2;',
              E'-- migrate:revision a\n-- migrate:depends_on z\n-- migrate:upgrade\nSELECT 1;'])$$,
    ARRAY['a', 'b', 'c'], 'files come out parents first, whatever the order they are given in');

-- The archive pg_migrate sends: the same result, byte for byte.
SELECT is((SELECT upgrade FROM migrate.files(
        pg_temp.tar_member('m/fb01_x.sql', convert_to(E'-- migrate:revision fb01\n-- migrate:upgrade\nSELECT ''é'';\r\n', 'UTF8'))
        || decode(repeat('00', 1024), 'hex'))),
    E'SELECT ''é'';\r\n', 'files(archive): a tar archive holds the bytes as they are, CR and all');
SELECT throws_ok($$SELECT * FROM migrate.files(
        pg_temp.tar_member('m/fb02_x.sql', '\x2d2d206d6967726174653a7265766973696f6e20666230320a2d2d206d6967726174653a757067726164650a44454c4554452046524f4d2074205748455245206964203d20350020414e44207820'::bytea))$$,
    '22021', 'revision file "m/fb02_x.sql" contains a NUL byte', 'a NUL byte is refused, not cut');
SELECT is(pg_temp.err($$SELECT * FROM migrate.files(
        pg_temp.tar_member('m/fb02_x.sql', '\x2d2d206d6967726174653a7265766973696f6e20666230320a2d2d206d6967726174653a757067726164650a44454c4554452046524f4d2074205748455245206964203d20350020414e44207820'::bytea))$$, 'detail'),
    'Byte 27 of line 3 is NUL: a script is text, and the NUL would cut its line short.',
    'the NUL byte is located by line and byte');
SELECT throws_ok($$SELECT * FROM migrate.files(
        pg_temp.tar_member('m/fb03_x.sql', '\x2d2d206d6967726174653a7265766973696f6e20666230330a2d2d206d6967726174653a757067726164650a53454c45435420ff3b'::bytea))$$,
    '22021', 'revision file "m/fb03_x.sql" is not valid UTF8', 'bytes the encoding cannot hold are refused');
SELECT throws_ok($$SELECT * FROM migrate.files(
        pg_temp.tar_member('\x6d2f6662ff345f782e73716c'::bytea, convert_to(E'-- migrate:revision fb04\n-- migrate:upgrade\nSELECT 1;\n', 'UTF8')))$$,
    '22021', 'revision file name "m/fb\xff4_x.sql" is not valid UTF8', 'a file name the encoding cannot hold is refused, its bytes shown');
SELECT throws_ok($$SELECT * FROM migrate.files('\x0102'::bytea)$$, '22023',
    'the revision files are not a valid tar archive', 'something that is not an archive');

-- Malformed files: each error names the file and the line.
CREATE FUNCTION pg_temp.bad(content text) RETURNS text LANGUAGE sql AS $$
    SELECT count(*)::text FROM migrate.files(ARRAY['migrations/bad1_x.sql'], ARRAY[content])
$$;
SELECT throws_ok($$SELECT pg_temp.bad(E'-- migrate:parents a\n-- migrate:upgrade\nSELECT 1;')$$,
    '42601', 'no "-- migrate:revision" header', 'no revision header');
SELECT is(pg_temp.err($$SELECT pg_temp.bad(E'-- migrate:parents a\n-- migrate:upgrade\nSELECT 1;')$$, 'context'),
    'revision file "migrations/bad1_x.sql", line 1', '... in line 1, and nothing the user did not write');
SELECT throws_ok($$SELECT pg_temp.bad(E'-- migrate:revision bad1\n-- migrate:author bob\n-- migrate:upgrade\nSELECT 1;')$$,
    '42601', 'unrecognized directive "-- migrate:author"', 'an unknown header');
SELECT is(pg_temp.err($$SELECT pg_temp.bad(E'-- migrate:revision bad1\n-- migrate:author bob\n-- migrate:upgrade\nSELECT 1;')$$, 'context'),
    'revision file "migrations/bad1_x.sql", line 2', '... named with its line');
SELECT throws_ok($$SELECT pg_temp.bad(E'-- migrate:revision bad1\n-- migrate:upgrade\nSELECT 1;\n-- migrate:up x\n')$$,
    '42601', 'unrecognized directive "-- migrate:up"', 'an unknown directive inside a script');
SELECT throws_ok($$SELECT pg_temp.bad(E'-- migrate:revision bad1\n-- migrate:message a\n-- migrate:message b\n-- migrate:upgrade\n')$$,
    '42601', 'duplicate header "-- migrate:message"', 'a header twice');
SELECT throws_ok($$SELECT pg_temp.bad(E'-- migrate:revision bad1\n-- migrate:upgrade\n-- migrate:parents a\n')$$,
    '42601', 'header "-- migrate:parents" after a section', 'a header after a section');
SELECT throws_ok($$SELECT pg_temp.bad(E'-- migrate:revision bad1\n-- migrate:upgrade\n-- migrate:upgrade\n')$$,
    '42601', 'duplicate section "-- migrate:upgrade"', 'a section twice');
SELECT throws_ok($$SELECT pg_temp.bad(E'-- migrate:revision bad1\n-- migrate:upgrade now\n')$$,
    '42601', 'unexpected text after "-- migrate:upgrade"', 'text after a section marker');
SELECT throws_ok($$SELECT pg_temp.bad(E'-- migrate:revision bad1\nCREATE TABLE lost ();\n-- migrate:upgrade\n')$$,
    '42601', 'SQL outside a section', 'SQL before the sections');
SELECT throws_ok($$SELECT pg_temp.bad(E'-- migrate:revision bad1\n-- migrate:downgrade\nSELECT 1;')$$,
    '42601', 'no "-- migrate:upgrade" section', 'no upgrade section');
SELECT throws_ok($$SELECT pg_temp.bad(E'-- migrate:revision\n-- migrate:upgrade\n')$$,
    '42601', '"-- migrate:revision" needs the revision id', 'an empty revision id');
SELECT throws_ok($$SELECT pg_temp.bad(E'-- migrate:revision bad-1\n-- migrate:upgrade\n')$$,
    '22023', 'invalid revision id "bad-1"', 'the id rule is the catalog''s');
SELECT throws_ok($$SELECT pg_temp.bad(E'-- migrate:revision bad2\n-- migrate:upgrade\n')$$,
    '22023', 'revision id "bad2" does not match the file name', 'the id must start the file name');
SELECT throws_ok($$SELECT pg_temp.bad(E'-- migrate:revision bad1\n-- migrate:parents a a\n-- migrate:upgrade\n')$$,
    '22023', 'revision id "a" is listed twice', 'a parent twice');
SELECT throws_ok($$SELECT pg_temp.bad(E'-- migrate:revision bad1\n-- migrate:branch_labels head\n-- migrate:upgrade\n')$$,
    '22023', 'branch label "head" is reserved', 'a reserved label');
SELECT throws_ok($$SELECT pg_temp.bad(E'-- migrate:revision bad1\n-- migrate:transactional maybe\n-- migrate:upgrade\n')$$,
    '22023', '"-- migrate:transactional" is true or false, not "maybe"', 'transactional is a boolean');
SELECT throws_ok($$SELECT * FROM migrate.files(ARRAY['x/dup1_a.sql', 'x/dup1_b.sql'],
        ARRAY[E'-- migrate:revision dup1\n-- migrate:upgrade\n', E'-- migrate:revision dup1\n-- migrate:upgrade\n'])$$,
    '42710', 'revision "dup1" is in two files: "x/dup1_a.sql" and "x/dup1_b.sql"', 'one id in two files');
SELECT throws_ok($$SELECT * FROM migrate.files(ARRAY['cy1.sql', 'cy2.sql'],
        ARRAY[E'-- migrate:revision cy1\n-- migrate:parents cy2\n-- migrate:upgrade\n',
              E'-- migrate:revision cy2\n-- migrate:parents cy1\n-- migrate:upgrade\n'])$$,
    '42P17', 'the revision files form a cycle', 'a cycle among the files');
SELECT throws_ok($$SELECT * FROM migrate.files(ARRAY['m/bad1_x.sql', 'm/bad2_y.sql'],
        ARRAY[E'-- migrate:revision bad1\n-- migrate:bogus\n-- migrate:upgrade\n', E'-- migrate:upgrade\n'])$$,
    '42601', '2 revision files are malformed', 'every malformed file at once');
SELECT is(pg_temp.err($$SELECT * FROM migrate.files(ARRAY['m/bad1_x.sql', 'm/bad2_y.sql'],
        ARRAY[E'-- migrate:revision bad1\n-- migrate:bogus\n-- migrate:upgrade\n', E'-- migrate:upgrade\n'])$$, 'detail'),
    E'revision file "m/bad1_x.sql", line 2: unrecognized directive "-- migrate:bogus"\n'
    || 'revision file "m/bad2_y.sql", line 1: no "-- migrate:revision" header',
    '... each with its file and line');
SELECT throws_ok($$SELECT * FROM migrate.files(ARRAY['a.sql'], '{}')$$, '2202E',
    '1 file names but 0 contents', 'names and contents pair up');
SELECT throws_ok($$SELECT * FROM migrate.files(NULL, '{}')$$, '22004',
    'argument "names" must not be null', 'files(NULL)');

-- ---------------------------------------------------------------------
-- 2. sync: the catalog holds the files; what is not applied has a file
-- ---------------------------------------------------------------------
CREATE TEMP TABLE proj (name text, content text);
INSERT INTO proj VALUES
    ('sy01_one.sql', E'-- migrate:revision sy01\n-- migrate:message one\n-- migrate:upgrade\nCREATE TABLE sy_one ();\n-- migrate:downgrade\nDROP TABLE sy_one;\n'),
    ('sy02_two.sql', E'-- migrate:revision sy02\n-- migrate:parents sy01\n-- migrate:message two\n-- migrate:upgrade\nCREATE TABLE sy_two ();\n-- migrate:downgrade\nDROP TABLE sy_two;\n');
CREATE FUNCTION pg_temp.sync() RETURNS SETOF text LANGUAGE sql AS $$
    SELECT s.revision || ' ' || s.action
      FROM migrate.sync((SELECT array_agg(name ORDER BY name) FROM proj),
                        (SELECT array_agg(content ORDER BY name) FROM proj)) s
$$;
CREATE FUNCTION pg_temp.check() RETURNS SETOF text LANGUAGE sql AS $$
    SELECT c.kind || ': ' || c.message
      FROM migrate.check_files((SELECT array_agg(name ORDER BY name) FROM proj),
                         (SELECT array_agg(content ORDER BY name) FROM proj)) c
$$;
SELECT results_eq('SELECT * FROM pg_temp.check()',
    ARRAY['error: sy01_one.sql: revision sy01 is not in the catalog',
          'error: sy02_two.sql: revision sy02 is not in the catalog',
          'error: the database is at base; the files'' head is sy02',
          'hint: To catch up, run "pg_migrate upgrade head" (or SELECT migrate.upgrade(''head'');).'],
    'check() before the sync: every difference a row, with the one hint for being behind');
SELECT results_eq('SELECT * FROM pg_temp.sync()', ARRAY['sy01 registered', 'sy02 registered'],
    'sync() registers the files, parents first');
SELECT results_eq('SELECT * FROM pg_temp.sync()', ARRAY['sy01 unchanged', 'sy02 unchanged'],
    'sync() again changes nothing');
SELECT is((SELECT message FROM migrate.revisions WHERE id = 'sy02'), 'two', 'the catalog holds what the file says');
SELECT is(migrate.upgrade('head'), 'sy02', 'upgrade after the sync');
SELECT results_eq('SELECT * FROM pg_temp.check()',
    ARRAY['ok: 2 revision file(s) match the catalog; the database is at sy02'], 'check(): nothing differs');

-- Alembic's habit: a revision registered from a branch, its file then deleted.
INSERT INTO proj VALUES
    ('sy03_three.sql', E'-- migrate:revision sy03\n-- migrate:parents sy02\n-- migrate:upgrade\nCREATE TABLE sy_three ();\n'),
    ('sy04_four.sql', E'-- migrate:revision sy04\n-- migrate:parents sy03\n-- migrate:upgrade\nCREATE TABLE sy_four ();\n');
SELECT results_eq('SELECT * FROM pg_temp.sync()',
    ARRAY['sy01 unchanged', 'sy02 unchanged', 'sy03 registered', 'sy04 registered'], 'two new files registered');
DELETE FROM proj WHERE name IN ('sy03_three.sql', 'sy04_four.sql');
SELECT results_eq('SELECT * FROM pg_temp.check()',
    ARRAY['warning: revision sy03 is in the catalog but has no file: it is not applied, and the next sync forgets it',
          'error: revision sy04 is a head of the catalog but has no file: it is not applied, and the next sync forgets it'],
    'check() names the revisions without a file');
SELECT results_eq('SELECT * FROM pg_temp.sync()',
    ARRAY['sy01 unchanged', 'sy02 unchanged', 'sy04 forgotten', 'sy03 forgotten'],
    'sync() forgets unapplied revisions without a file, children first');
SELECT is((SELECT string_agg(id, ',' ORDER BY id) FROM migrate.revisions), 'sy01,sy02',
    'the catalog''s unapplied part equals the files');
SELECT results_eq($$SELECT revision, direction, role::text FROM migrate.log WHERE action = 'forget' ORDER BY id$$,
    $$VALUES ('sy04', NULL::text, current_user::text), ('sy03', NULL, current_user::text)$$,
    'each forgotten revision has a row in migrate.log');
SELECT is(migrate.upgrade('head'), 'sy02', 'upgrade head applies no deleted file');

-- A deleted file whose revision a file still names: refused, saying what to do.
INSERT INTO proj VALUES
    ('sy05_five.sql', E'-- migrate:revision sy05\n-- migrate:parents sy02\n-- migrate:upgrade\nSELECT 5;\n'),
    ('sy06_six.sql', E'-- migrate:revision sy06\n-- migrate:parents sy05\n-- migrate:upgrade\nSELECT 6;\n');
SELECT is((SELECT count(*) FROM pg_temp.sync()), 4::bigint, 'two more files');
DELETE FROM proj WHERE name = 'sy05_five.sql';
SELECT throws_ok('SELECT * FROM pg_temp.sync()', '2BP01',
    'revision "sy05" has no file, but revision "sy06" names it as a parent',
    'sync() refuses when a file needs a revision whose file is gone');
SELECT is(pg_temp.err('SELECT * FROM pg_temp.sync()', 'hint'),
    'Restore the file of revision "sy05", or change the parents of revision "sy06".', '... with the way out');
DELETE FROM proj WHERE name = 'sy06_six.sql';
SELECT is((SELECT count(*) FROM pg_temp.sync() s WHERE s LIKE '% forgotten'), 2::bigint, 'both gone together');

-- Applied revisions without a file are history: they stay, downgradable.
DELETE FROM proj WHERE name = 'sy02_two.sql';
SELECT results_eq('SELECT * FROM pg_temp.sync()', ARRAY['sy01 unchanged'], 'an applied revision without a file stays');
SELECT results_eq('SELECT * FROM pg_temp.check()',
    ARRAY['error: revision sy02 is a head of the catalog but has no file',
          'error: the database is at sy02; the files'' head is sy01',
          'hint: To catch up, run "pg_migrate upgrade head" (or SELECT migrate.upgrade(''head'');).'],
    'check() says the catalog has a head without a file');
SELECT is(migrate.downgrade('sy01'), 'sy01', 'and it can still be downgraded');
SELECT results_eq('SELECT * FROM pg_temp.sync()', ARRAY['sy01 unchanged', 'sy02 forgotten'],
    'once unapplied, it goes with the next sync');

-- A file whose applied revision changed stops everything, naming the file.
UPDATE proj SET content = replace(content, 'CREATE TABLE sy_one ()', 'CREATE TABLE sy_one (a int)');
SELECT throws_ok('SELECT * FROM pg_temp.sync()', '55000', 'revision "sy01" is applied and cannot be changed',
    'an applied revision''s new content is refused');
SELECT alike(pg_temp.err('SELECT * FROM pg_temp.sync()', 'context'),
    'revision file "sy01_one.sql" (upgrade script from line 4, downgrade script from line 6)%',
    'the error names the file and where its scripts start');
SELECT results_eq('SELECT * FROM pg_temp.check()',
    ARRAY['error: sy01_one.sql: revision sy01 differs from the catalog: upgrade script (applied: the catalog refuses the change; put it in a new revision)'],
    'check() says what differs');

-- check() with a desired schema: one row per statement.
SELECT results_eq($$SELECT c.kind || ': ' || c.message FROM migrate.check_files('{}'::text[], '{}'::text[],
        'CREATE TABLE sy_one (a int, b text); CREATE INDEX sy_one_b ON sy_one (b);') c WHERE c.kind = 'schema'$$,
    ARRAY['schema: ALTER TABLE public.sy_one ADD COLUMN a integer;',
          'schema: ALTER TABLE public.sy_one ADD COLUMN b text;',
          'schema: CREATE INDEX sy_one_b ON public.sy_one USING btree (b);'],
    'check(desired): each statement that the schema lacks, a difference');

-- ---------------------------------------------------------------------
-- 3. forget()
-- ---------------------------------------------------------------------
SELECT is(migrate.revision('SELECT 1', NULL, 'f1', 'fg01', '{}'), 'fg01', 'register fg01');
SELECT is(migrate.revision('SELECT 1', NULL, 'f2', 'fg02', ARRAY['fg01']), 'fg02', 'register fg02');
SELECT throws_ok($$SELECT migrate.forget('fg01')$$, '2BP01',
    'cannot forget revision "fg01": revision "fg02" names it as a parent', 'forget() of a revision others name');
SELECT throws_ok($$SELECT migrate.forget('fg0')$$, '42704', 'revision "fg0" does not exist',
    'forget() takes full ids');
SELECT throws_ok($$SELECT migrate.forget('sy01')$$, '55000', 'revision "sy01" is applied and cannot be forgotten',
    'forget() of an applied revision');
SELECT throws_ok($$SELECT migrate.forget(NULL)$$, '22004', 'argument "revision" must not be null', 'forget(NULL)');
SELECT lives_ok($$SELECT migrate.forget('fg02')$$, 'forget() of an unapplied revision');
SELECT ok(NOT EXISTS (SELECT FROM migrate.revisions WHERE id = 'fg02'), 'it is gone');
SELECT is((SELECT count(*) FROM migrate.log WHERE action = 'forget' AND revision = 'fg02' AND direction IS NULL),
    1::bigint, 'and logged');
SELECT is(migrate.revision('CREATE INDEX CONCURRENTLY fg_i ON sy_one (a)', NULL, 'nt', 'fg03', '{}',
                           transactional => false), 'fg03', 'a non-transactional revision');
INSERT INTO migrate.statement_progress (revision, direction, statement, done_at) VALUES ('fg03', 'up', 1, now());
SELECT throws_ok($$SELECT migrate.forget('fg03')$$, '55000',
    'revision "fg03" is partly applied and cannot be forgotten', 'forget() of a half-run non-transactional revision');

-- ---------------------------------------------------------------------
-- 4. Messages for whoever asks
-- ---------------------------------------------------------------------
SELECT is(migrate.revision('SELECT 1', NULL, 'h1', 'hd01', ARRAY['fg01']), 'hd01', 'a second head');
SELECT is(pg_temp.err($$SELECT * FROM migrate.plan('head')$$, 'hint'),
    'Use "heads" for all of them, "<label>@head" for one branch, or merge them with migrate.merge().',
    'two heads: from SQL, merge with migrate.merge()');
SET LOCAL application_name = 'pg_migrate';
SELECT is(pg_temp.err($$SELECT * FROM migrate.plan('head')$$, 'hint'),
    'Use "heads" for all of them, "<label>@head" for one branch, or merge them with "pg_migrate merge heads -m MESSAGE".',
    'two heads: pg_migrate is told the pg_migrate command, whose merge has a file');
RESET application_name;

SELECT throws_ok($$SELECT migrate.require('sy0')$$, '22023',
    'migrate.require() takes a full revision id, not the prefix "sy0"', 'require() with a prefix');
SELECT is(pg_temp.err($$SELECT migrate.require('sy0')$$, 'detail'), '"sy0" is a prefix of revision "sy01".',
    '... naming the revision it matches');
SELECT is(pg_temp.err($$SELECT migrate.require('sy0')$$, 'hint'), 'Pass the full id: SELECT migrate.require(''sy01'');',
    '... and what to pass');
SELECT throws_ok($$SELECT migrate.require('hd01')$$, '55000', 'revision "hd01" is not applied', 'require() behind');
SELECT is(pg_temp.err($$SELECT migrate.require('hd01')$$, 'hint'),
    'To catch up, run "pg_migrate upgrade head" (or SELECT migrate.upgrade(''head'');).',
    'behind: the one hint, as everywhere');
SELECT throws_ok($$SELECT migrate.require('zz99')$$, '55000', 'revision "zz99" is not applied', 'require() of an unknown id');

-- A script that fails under a DO block: its own context, not the block's.
SELECT is(migrate.revision('SELECT 1/0', NULL, 'boom', 'dz01', ARRAY['sy01']), 'dz01', 'a failing revision');
SELECT is(pg_temp.err($q$DO $d$ BEGIN PERFORM migrate.upgrade('dz01'); END $d$$q$, 'context'),
    E'SQL statement "SELECT 1/0"\nupgrade script of revision "dz01", statement 1, line 1',
    'its error shows where in the script, and no PL/pgSQL lines of the caller');

SELECT * FROM finish();
ROLLBACK;
