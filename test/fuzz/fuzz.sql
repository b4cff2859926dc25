-- Hostile input for every migrate function, generated in the server.
--
-- Random and mutated targets, ids, labels, parent arrays, messages and
-- scripts go through each function in its own subtransaction; every outcome
-- (success, or the SQLSTATE of the error) lands in fuzz.outcome.  Run by
-- test/sh/fuzz.sh, which then checks that no error was an internal one and
-- that the server log shows no crash.  psql variables: seed (0..1), rounds.

SET client_min_messages = warning;
SET statement_timeout = '120s';
SELECT setseed(:seed);
SELECT set_config('fuzz.rounds', :'rounds', false);
CREATE EXTENSION IF NOT EXISTS migrate;
CREATE SCHEMA fuzz;

CREATE TABLE fuzz.outcome (
    func text NOT NULL,
    sqlstate text,              -- NULL: the call succeeded
    message text,
    input text
);

-- What migrate.verify() found wrong after each phase: must stay empty.
CREATE TABLE fuzz.problems (problem text);

CREATE FUNCTION fuzz.n(bound int) RETURNS int
LANGUAGE sql AS $fz$ SELECT floor(random() * bound)::int $fz$;

CREATE FUNCTION fuzz.pick(choices text[]) RETURNS text
LANGUAGE sql AS $fz$ SELECT choices[1 + fuzz.n(cardinality(choices))] $fz$;

-- Characters of every kind but NUL: control characters, ASCII, Latin-1,
-- other planes.
CREATE FUNCTION fuzz.junk(len int) RETURNS text
LANGUAGE sql AS $fz$
    SELECT coalesce(string_agg(chr(CASE fuzz.n(5)
                                     WHEN 0 THEN 1 + fuzz.n(31)
                                     WHEN 1 THEN 32 + fuzz.n(95)
                                     WHEN 2 THEN 127 + fuzz.n(129)
                                     WHEN 3 THEN 256 + fuzz.n(55000)
                                     ELSE 65536 + fuzz.n(1000000) END), ''), '')
      FROM generate_series(1, len)
$fz$;

-- Pieces that mean something to one parser or another.
CREATE FUNCTION fuzz.token() RETURNS text
LANGUAGE sql AS $fz$
    SELECT fuzz.pick(ARRAY[
        '$$', '$x$', '$', '''', '"', ';', '--', '/*', '*/', E'\n', E'\t', E'\r',
        E'\x01', E'\x7f', E'\\', '@', '+', '-', '+1', '-1', '+999999999999',
        '-2147483649', '0', ':', '::', ',', '(', ')', '[', ']', '{', '}', '%s',
        'head', 'heads', 'base', 'HEAD', 'Base', '@head', '@base', 'current',
        'a1', 'b2', 'main', 'feature', 'NULL', ' ', 'é', '🙂', chr(65533),
        repeat('a', 64), repeat('9', 30), repeat('(', 200), repeat('@', 50),
        'SELECT 1', 'BEGIN', 'COMMIT', 'ROLLBACK', 'SAVEPOINT s', 'VACUUM',
        'CREATE INDEX CONCURRENTLY i ON t (a)', 'DO $d$ BEGIN END $d$',
        'CREATE TABLE fz (id int)', 'COPY fz FROM STDIN', 'PREPARE TRANSACTION ''x''',
        'SET search_path = x', 'RESET ALL', 'LISTEN c', 'ALTER SYSTEM SET work_mem = 1',
        'CALL migrate.run()', 'SELECT migrate.upgrade()'])
$fz$;

-- One to four edits of the seed: delete, insert a token or junk, replace,
-- duplicate, or cut.
CREATE FUNCTION fuzz.mutate(seed text) RETURNS text
LANGUAGE plpgsql AS $fz$
DECLARE
    s text := coalesce(seed, '');
    pos int;
    len int;
BEGIN
    FOR i IN 1 .. 1 + fuzz.n(4) LOOP
        pos := 1 + fuzz.n(length(s) + 1);
        len := fuzz.n(8);
        CASE fuzz.n(6)
            WHEN 0 THEN s := overlay(s PLACING '' FROM pos FOR len);
            WHEN 1 THEN s := overlay(s PLACING fuzz.token() FROM pos FOR 0);
            WHEN 2 THEN s := overlay(s PLACING fuzz.junk(1 + fuzz.n(4)) FROM pos FOR len);
            WHEN 3 THEN s := overlay(s PLACING fuzz.token() FROM pos FOR len);
            WHEN 4 THEN s := overlay(s PLACING substr(s, pos, len) FROM pos FOR 0);
            ELSE s := left(s, pos);
        END CASE;
    END LOOP;
    RETURN s;
END
$fz$;

-- A random value for a text argument: NULL, empty, junk, a token, or a
-- mutated seed.
CREATE FUNCTION fuzz.text_from(seeds text[]) RETURNS text
LANGUAGE sql AS $fz$
    SELECT CASE fuzz.n(12)
             WHEN 0 THEN NULL
             WHEN 1 THEN ''
             WHEN 2 THEN fuzz.junk(1 + fuzz.n(40))
             WHEN 3 THEN fuzz.token()
             WHEN 4 THEN fuzz.pick(seeds)
             ELSE fuzz.mutate(fuzz.pick(seeds)) END
$fz$;

CREATE FUNCTION fuzz.array_from(seeds text[]) RETURNS text[]
LANGUAGE sql AS $fz$
    SELECT CASE fuzz.n(8)
             WHEN 0 THEN NULL
             WHEN 1 THEN '{}'::text[]
             WHEN 2 THEN ARRAY[NULL]::text[]
             WHEN 3 THEN ARRAY[fuzz.pick(seeds), fuzz.pick(seeds)]
             ELSE ARRAY(SELECT fuzz.text_from(seeds) FROM generate_series(1, 1 + fuzz.n(3))) END
$fz$;

-- Runs SQL (a call with its arguments already quoted in) and records how
-- it ended.  Calls that should leave nothing behind are rolled back.
CREATE FUNCTION fuzz.try(func text, call text, keep boolean DEFAULT true) RETURNS text
LANGUAGE plpgsql AS $fz$
DECLARE
    result text;
    state text;
    msg text;
BEGIN
    BEGIN
        EXECUTE call INTO result;
        IF NOT keep THEN
            RAISE EXCEPTION USING ERRCODE = 'FZ001';
        END IF;
    EXCEPTION WHEN OTHERS THEN
        GET STACKED DIAGNOSTICS state = RETURNED_SQLSTATE, msg = MESSAGE_TEXT;
        IF state = 'FZ001' THEN
            state := NULL;
            msg := NULL;
        END IF;
        result := NULL;
    END;
    INSERT INTO fuzz.outcome VALUES (func, state, msg, left(call, 300));
    RETURN result;
END
$fz$;

CREATE TABLE fuzz.ids (id text PRIMARY KEY);

-- Registration: revision() and merge().  Most calls are valid but for one
-- argument made hostile, so that they get past the first check; some are
-- wholly valid, so that the graph grows (labels, merges, dependencies) and
-- later calls meet a real one.  What was registered is sometimes applied
-- and rolled back at once.
DO $fz$
DECLARE
    id_seeds text[] := ARRAY['a1b2c3', 'rev_1', 'x', 'abcdef012345', 'head', 'base',
                             'main@head', 'a' || repeat('b', 100), '1234', 'a-b', 'a.b'];
    valid_scripts text[] := ARRAY[
        'SELECT 1; SELECT 2;', 'CREATE TEMP TABLE IF NOT EXISTS fz_a (id int);',
        'DO $d$ BEGIN RAISE NOTICE ''x''; END $d$;', 'SELECT ''it''''s''; -- comment',
        'CREATE OR REPLACE FUNCTION fz_f() RETURNS int LANGUAGE sql AS $f$ SELECT 1 $f$;',
        'SELECT 1/0;', ';;;', ' ', '/* only a comment */'];
    hostile_scripts text[] := valid_scripts || ARRAY[
        '$$ unterminated', '/* open comment', 'COMMIT;', 'BEGIN; SELECT 1; COMMIT;',
        'CREATE INDEX CONCURRENTLY fz_i ON fz_a (id);', 'VACUUM fz_a;', 'COPY fz_a FROM STDIN;',
        'SELECT migrate.upgrade(''head'');', 'CALL migrate.run();'];
    known text[];
    rounds int := current_setting('fuzz.rounds')::int;
    args text[];
    hostile int;
    id text;
BEGIN
    FOR i IN 1 .. rounds LOOP
        SELECT coalesce(array_agg(f.id), '{}') INTO known
          FROM (SELECT f.id FROM fuzz.ids f ORDER BY random() LIMIT 3) f;
        -- Which argument is hostile (0 = none).
        hostile := CASE WHEN fuzz.n(10) < 3 THEN 0 ELSE 1 + fuzz.n(7) END;
        IF fuzz.n(10) < 8 THEN
            args := ARRAY[
                quote_nullable(CASE WHEN hostile = 1 THEN fuzz.text_from(hostile_scripts)
                                    ELSE fuzz.pick(valid_scripts) END),
                quote_nullable(CASE WHEN hostile = 2 THEN fuzz.text_from(hostile_scripts)
                                    WHEN fuzz.n(4) = 0 THEN NULL ELSE fuzz.pick(valid_scripts) END),
                quote_nullable(CASE WHEN hostile = 3 THEN fuzz.text_from(ARRAY['msg', E'multi\nline'])
                                    ELSE 'message ' || i END),
                quote_nullable(CASE WHEN hostile = 4 THEN fuzz.text_from(id_seeds || known)
                                    WHEN fuzz.n(5) = 0 THEN NULL ELSE 'f' || i END),
                quote_nullable(CASE WHEN hostile = 5 THEN fuzz.array_from(id_seeds || known)
                                    WHEN fuzz.n(3) = 0 THEN NULL
                                    ELSE known[1:fuzz.n(3)] END),
                quote_nullable(CASE WHEN hostile = 6 THEN fuzz.array_from(id_seeds || known)
                                    WHEN fuzz.n(4) = 0 THEN known[1:1] ELSE '{}' END),
                quote_nullable(CASE WHEN hostile = 7 THEN fuzz.array_from(ARRAY['main', 'x@y', 'head', 'a b', ''])
                                    WHEN fuzz.n(4) = 0 THEN ARRAY['l' || fuzz.n(6)] ELSE '{}' END)];
            id := fuzz.try('revision', format(
                'SELECT migrate.revision(upgrade => %s, downgrade => %s, message => %s, id => %s,'
                ' parents => %s, depends_on => %s, branch_labels => %s)', VARIADIC args));
        ELSE
            id := fuzz.try('merge', format(
                'SELECT migrate.merge(revisions => %L, message => %L, id => %L)',
                CASE WHEN hostile IN (1, 2) THEN fuzz.array_from(known || id_seeds)
                     WHEN fuzz.n(2) = 0 THEN NULL ELSE known[1:2] END,
                CASE WHEN hostile = 3 THEN fuzz.text_from(ARRAY['merge']) ELSE 'merge ' || i END,
                CASE WHEN hostile IN (4, 5) THEN fuzz.text_from(id_seeds || known)
                     WHEN fuzz.n(3) = 0 THEN NULL ELSE 'm' || i END));
        END IF;
        IF id IS NOT NULL THEN
            INSERT INTO fuzz.ids VALUES (id) ON CONFLICT DO NOTHING;
            IF fuzz.n(4) = 0 THEN
                PERFORM fuzz.try('upgrade', format('SELECT migrate.upgrade(%L)', id), false);
            END IF;
        END IF;
    END LOOP;
END
$fz$;

-- The registrations left a consistent catalog; the target phase starts
-- from an empty one, so that its graph is the one below.
INSERT INTO fuzz.problems SELECT 'after registration: ' || revision || ': ' || problem
  FROM migrate.verify();
DROP EXTENSION migrate;
CREATE EXTENSION migrate;

-- Targets: a graph with two branches, a merge, labels and a dependency,
-- whose scripts are harmless (one fails); random and mutated targets
-- through every function that takes one.
SELECT migrate.revision('SELECT 1;', 'SELECT 1;', 'root', 'aaaa0001', parents => '{}',
                        branch_labels => '{main}');
SELECT migrate.revision('SELECT 2;', 'SELECT 2;', 'b', 'aaaa0002', parents => '{aaaa0001}');
SELECT migrate.revision('SELECT 3;', 'SELECT 3;', 'c', 'aaaa0003', parents => '{aaaa0001}',
                        branch_labels => '{feature}');
SELECT migrate.revision('SELECT 4;', 'SELECT 1/0;', 'd', 'aaaa0004', parents => '{aaaa0003}',
                        depends_on => '{aaaa0002}');
SELECT migrate.merge('{aaaa0002,aaaa0004}', 'join', 'aaaa0005');
SELECT migrate.revision('SELECT 6;', 'SELECT 6;', 'e', 'aaaa0006', parents => '{aaaa0005}');
SELECT migrate.revision('SELECT 7;', 'SELECT 7;', 'other root', 'bbbb0001', parents => '{}',
                        branch_labels => '{other}');

DO $fz$
DECLARE
    seeds text[] := ARRAY['head', 'heads', 'base', 'aaaa0001', 'aaaa0004', 'aaaa', 'aaaa0005',
                          'main@head', 'feature@head', 'other@base', 'feature@+1', 'main@-1',
                          'aaaa0002+1', 'aaaa0006-2', '+1', '-1', '+2', '-3', 'heads+1',
                          'aaaa0001@head', 'other@aaaa0001', 'feature@aaaa0003', 'bbbb0001'];
    rounds int := current_setting('fuzz.rounds')::int;
    target text;
BEGIN
    FOR i IN 1 .. rounds LOOP
        target := fuzz.text_from(seeds);
        CASE fuzz.n(9)
            WHEN 0 THEN PERFORM fuzz.try('upgrade', format('SELECT migrate.upgrade(%L)', target));
            WHEN 1 THEN PERFORM fuzz.try('downgrade', format('SELECT migrate.downgrade(%L)', target));
            WHEN 2 THEN PERFORM fuzz.try('stamp', format('SELECT migrate.stamp(%L)', target));
            WHEN 3 THEN PERFORM fuzz.try('plan', format(
                'SELECT count(*)::text FROM migrate.plan(%L, %L)', target,
                (ARRAY[true, false, NULL])[1 + fuzz.n(3)]));
            WHEN 4 THEN PERFORM fuzz.try('is_applied', format('SELECT migrate.is_applied(%L)', target));
            WHEN 5 THEN PERFORM fuzz.try('require', format('SELECT migrate.require(%L)', target));
            WHEN 6 THEN PERFORM fuzz.try('graph', format('SELECT length(migrate.graph(%L))', target));
            WHEN 7 THEN PERFORM fuzz.try('current', 'SELECT migrate.current() || string_agg(h, '','') FROM migrate.heads() h');
            ELSE PERFORM fuzz.try('history', 'SELECT count(*)::text || (SELECT count(*) FROM migrate.verify()) FROM migrate.history');
        END CASE;
    END LOOP;
END
$fz$;

-- Targets for run(), which must be called at top level: test/sh/fuzz.sh
-- runs these with \gexec.
CREATE TABLE fuzz.run_calls AS
SELECT format('CALL migrate.run(%L, %L)', fuzz.text_from(ARRAY['head', 'base', 'aaaa0004', '+1', '-1', 'main@head']),
              (ARRAY[true, false, NULL])[1 + fuzz.n(3)]) AS call
  FROM generate_series(1, greatest(:rounds / 10, 10));

-- Big scripts: 10 MB each.
SELECT fuzz.try('revision 10MB junk',
                format('SELECT migrate.revision(%L, id => %L, parents => %L)',
                       fuzz.junk(1000) || repeat(fuzz.junk(1000), 10 * 1024), 'big00001', '{}'));
SELECT fuzz.try('revision 10MB unterminated dollar quote',
                format('SELECT migrate.revision(%L, id => %L, parents => %L)',
                       'SELECT $q$' || repeat('x', 10 * 1024 * 1024), 'big00002', '{}'));
SELECT fuzz.try('revision 10MB string literal',
                format('SELECT migrate.revision(%L, %L, id => %L, parents => %L)',
                       'SELECT length(''' || repeat('y', 10 * 1024 * 1024) || ''');', 'SELECT 1;',
                       'big00003', '{}'));
SELECT fuzz.try('upgrade 10MB string literal', 'SELECT migrate.upgrade(''big00003'')');
SELECT fuzz.try('revision 10MB of statements',
                format('SELECT migrate.revision(%L, %L, id => %L, parents => %L)',
                       repeat('SELECT 1;', 1200000), 'SELECT 1;', 'big00004', '{}'));
SELECT fuzz.try('plan 10MB of statements', 'SELECT count(*)::text FROM migrate.plan(''big00004'')');
SELECT fuzz.try('revision deep nesting',
                format('SELECT migrate.revision(%L, id => %L, parents => %L)',
                       'SELECT ' || repeat('(', 100000) || '1' || repeat(')', 100000) || ';',
                       'big00005', '{}'));
SELECT fuzz.try('upgrade long target', format('SELECT migrate.upgrade(%L)', repeat('head+1', 200000)));
SELECT fuzz.try('upgrade long target', format('SELECT migrate.upgrade(%L)', repeat('a', 1000000)));

INSERT INTO fuzz.problems SELECT 'after targets: ' || revision || ': ' || problem
  FROM migrate.verify();
