-- test/pgtap/errors.sql
--
-- Every bad input: the SQLSTATE and the exact primary message, and that
-- the catalog is unchanged afterwards.
--
-- Graph used (phase 2 onwards):
--   abcd0001 (base) -> abcd0002 (label auth)
--                   -> e_side -> e_irr (irreversible)
\ir setup.psql
SELECT plan(197);

-- Everything a failed call could have touched, as one text.
CREATE FUNCTION pg_temp.state() RETURNS text LANGUAGE sql AS $$
    SELECT concat_ws(' | ',
        (SELECT count(*) FROM migrate.revisions),
        (SELECT string_agg(concat_ws('/', id, checksum, message, parents::text, depends_on::text,
                                     branch_labels::text, upgrade, downgrade), ';' ORDER BY seq)
         FROM migrate.revisions),
        (SELECT count(*) FROM migrate.applied),
        (SELECT string_agg(revision, ';' ORDER BY revision) FROM migrate.applied),
        (SELECT count(*) FROM migrate.log),
        migrate.current())
$$;
-- The DETAIL of the error a statement raises.
CREATE FUNCTION pg_temp.err_detail(sql text) RETURNS text LANGUAGE plpgsql AS $$
DECLARE
    d text;
BEGIN
    EXECUTE sql;
    RETURN NULL;
EXCEPTION WHEN OTHERS THEN
    GET STACKED DIAGNOSTICS d = PG_EXCEPTION_DETAIL;
    RETURN d;
END $$;

-- ---------------------------------------------------------------------
-- 1. Empty graph
-- ---------------------------------------------------------------------
SELECT pg_temp.state() AS snap \gset
SELECT throws_ok($$SELECT migrate.merge()$$, '22023', 'a merge needs at least two revisions',
    'merge() on an empty graph');
SELECT throws_ok($$SELECT migrate.upgrade('nosuch')$$, '42704', 'revision "nosuch" does not exist',
    'unknown revision on an empty graph');
SELECT throws_ok($$SELECT migrate.downgrade('-1')$$, '22023',
    'relative target "-1" goes past the end of the revision graph', '-1 on an empty graph');
SELECT throws_ok($$SELECT migrate.upgrade('+1')$$, '22023',
    'relative target "+1" goes past the end of the revision graph', '+1 on an empty graph');
SELECT is(pg_temp.state(), :'snap'::text, 'nothing changed by the errors on the empty graph');

SELECT is(migrate.revision('CREATE TABLE er_one ()', 'DROP TABLE er_one', 'one', 'abcd0001'), 'abcd0001',
    'register abcd0001');
SELECT throws_ok($$SELECT migrate.merge()$$, '22023', 'a merge needs at least two revisions',
    'merge() with a single head');
SELECT throws_ok($$SELECT migrate.merge(ARRAY['abcd0001'])$$, '22023', 'a merge needs at least two revisions',
    'merge() of one revision');
SELECT throws_ok($$SELECT migrate.merge('{}')$$, '22023', 'a merge needs at least two revisions',
    'merge() of no revision');

-- ---------------------------------------------------------------------
-- 2. The graph: two heads, a label, an irreversible revision
-- ---------------------------------------------------------------------
SELECT is(migrate.revision('CREATE TABLE er_two ()', 'DROP TABLE er_two', 'two', 'abcd0002',
                           NULL, '{}', ARRAY['auth']), 'abcd0002', 'register abcd0002 (auth)');
SELECT is(migrate.revision('CREATE TABLE er_side ()', 'DROP TABLE er_side', 'side', 'e_side',
                           ARRAY['abcd0001']), 'e_side', 'register e_side');
SELECT is(migrate.revision('CREATE TABLE er_irr ()', NULL, 'irreversible', 'e_irr', ARRAY['e_side']), 'e_irr',
    'register e_irr (irreversible)');
SELECT results_eq('SELECT * FROM migrate.heads()', ARRAY['abcd0002', 'e_irr'], 'two heads');

SELECT pg_temp.state() AS snap \gset

-- ---------------------------------------------------------------------
-- 3. NULL arguments: 22004, named after the SQL parameter
-- ---------------------------------------------------------------------
SELECT throws_ok($$SELECT migrate.revision(NULL)$$, '22004', 'argument "upgrade" must not be null',
    'revision(upgrade NULL)');
SELECT throws_ok($$SELECT migrate.revision('SELECT 1', NULL, NULL, 'e_n')$$, '22004',
    'argument "message" must not be null', 'revision(message NULL)');
SELECT throws_ok($$SELECT migrate.revision('SELECT 1', NULL, '', 'e_n', '{}', NULL)$$, '22004',
    'argument "depends_on" must not be null', 'revision(depends_on NULL)');
SELECT throws_ok($$SELECT migrate.revision('SELECT 1', NULL, '', 'e_n', '{}', '{}', NULL)$$, '22004',
    'argument "branch_labels" must not be null', 'revision(branch_labels NULL)');
SELECT throws_ok($$SELECT migrate.revision('SELECT 1', NULL, '', 'e_n', ARRAY['abcd0001', NULL])$$, '22004',
    'argument "parents" must not contain null elements', 'revision(parents with a NULL element)');
SELECT throws_ok($$SELECT migrate.revision('SELECT 1', NULL, '', 'e_n', '{}', ARRAY[NULL::text])$$, '22004',
    'argument "depends_on" must not contain null elements', 'revision(depends_on with a NULL element)');
SELECT throws_ok($$SELECT migrate.revision('SELECT 1', NULL, '', 'e_n', '{}', '{}', ARRAY['x', NULL])$$, '22004',
    'argument "branch_labels" must not contain null elements', 'revision(branch_labels with a NULL element)');
SELECT throws_ok($$SELECT migrate.merge(ARRAY['abcd0002', NULL])$$, '22004',
    'argument "revisions" must not contain null elements', 'merge(revisions with a NULL element)');
-- The same message from every function, the newer ones included.
SELECT throws_ok($$SELECT * FROM migrate.lint(NULL)$$, '22004',
    'argument "script" must not be null', 'lint(script NULL)');
SELECT throws_ok($$SELECT migrate.nontransactional_progress('e_side', NULL)$$, '22004',
    'argument "statement" must not be null', 'nontransactional_progress(statement NULL)');
SELECT throws_ok($$SELECT * FROM migrate.nontransactional_statements('e_side', NULL)$$, '22004',
    'argument "downgrade" must not be null', 'nontransactional_statements(downgrade NULL)');
SELECT throws_ok($$SELECT migrate.merge(NULL, NULL)$$, '22004',
    'argument "message" must not be null', 'merge(message NULL)');
SELECT throws_ok($$SELECT migrate.upgrade(NULL)$$, '22004', 'argument "target" must not be null',
    'upgrade(NULL)');
SELECT throws_ok($$SELECT migrate.downgrade(NULL)$$, '22004', 'argument "target" must not be null',
    'downgrade(NULL)');
SELECT throws_ok($$SELECT migrate.stamp(NULL)$$, '22004', 'argument "target" must not be null',
    'stamp(NULL)');
SELECT throws_ok($$SELECT * FROM migrate.plan(NULL)$$, '22004', 'argument "target" must not be null',
    'plan(NULL)');
SELECT throws_ok($$SELECT * FROM migrate.plan('heads', NULL)$$, '22004', 'argument "downgrade" must not be null',
    'plan(target, NULL)');
SELECT throws_ok($$SELECT migrate.is_applied(NULL)$$, '22004', 'argument "revision" must not be null',
    'is_applied(NULL)');
SELECT throws_ok($$SELECT migrate.require(NULL)$$, '22004', 'argument "revision" must not be null',
    'require(NULL)');
SELECT throws_ok($$SELECT migrate.graph(NULL)$$, '22004', 'argument "format" must not be null',
    'graph(NULL)');
SELECT is(pg_temp.state(), :'snap'::text, 'nothing changed after the NULL arguments');

-- ---------------------------------------------------------------------
-- 4. Target resolution errors, for every function that takes a target
-- ---------------------------------------------------------------------
SELECT throws_ok($$SELECT migrate.upgrade('nosuch')$$, '42704', 'revision "nosuch" does not exist',
    'upgrade(unknown revision)');
SELECT throws_ok($$SELECT migrate.downgrade('nosuch')$$, '42704', 'revision "nosuch" does not exist',
    'downgrade(unknown revision)');
SELECT throws_ok($$SELECT migrate.stamp('nosuch')$$, '42704', 'revision "nosuch" does not exist',
    'stamp(unknown revision)');
SELECT throws_ok($$SELECT * FROM migrate.plan('nosuch')$$, '42704', 'revision "nosuch" does not exist',
    'plan(unknown revision)');
SELECT throws_ok($$SELECT migrate.upgrade('nosuch@head')$$, '42704', 'revision "nosuch" does not exist',
    'unknown revision before @head');
SELECT throws_ok($$SELECT migrate.downgrade('nosuch@base')$$, '42704', 'revision "nosuch" does not exist',
    'unknown revision before @base');
SELECT throws_ok($$SELECT migrate.upgrade('nosuch+1')$$, '42704', 'revision "nosuch" does not exist',
    'unknown revision before +N');
SELECT throws_ok($$SELECT migrate.merge(ARRAY['abcd0002', 'nosuch'])$$, '42704', 'revision "nosuch" does not exist',
    'merge() of an unknown revision');

SELECT throws_ok($$SELECT migrate.upgrade('abc')$$, '22023', 'revision prefix "abc" is ambiguous',
    'upgrade(ambiguous 3-character prefix)');
SELECT throws_ok($$SELECT migrate.downgrade('ab')$$, '22023', 'revision prefix "ab" is ambiguous',
    'downgrade(ambiguous 2-character prefix)');
SELECT throws_ok($$SELECT migrate.stamp('e')$$, '22023', 'revision prefix "e" is ambiguous',
    'stamp(ambiguous 1-character prefix)');
SELECT throws_ok($$SELECT * FROM migrate.plan('z')$$, '42704', 'revision "z" does not exist',
    'plan(1-character prefix of nothing)');

SELECT throws_ok($$SELECT migrate.upgrade('abcd')$$, '22023', 'revision prefix "abcd" is ambiguous',
    'upgrade(ambiguous prefix)');
SELECT throws_ok($$SELECT migrate.downgrade('abcd000')$$, '22023', 'revision prefix "abcd000" is ambiguous',
    'downgrade(ambiguous prefix)');
SELECT throws_ok($$SELECT migrate.stamp('abcd')$$, '22023', 'revision prefix "abcd" is ambiguous',
    'stamp(ambiguous prefix)');
SELECT throws_ok($$SELECT * FROM migrate.plan('abcd')$$, '22023', 'revision prefix "abcd" is ambiguous',
    'plan(ambiguous prefix)');
SELECT ok(pg_temp.err_detail($$SELECT migrate.upgrade('abcd')$$) ~ 'abcd0001'
          AND pg_temp.err_detail($$SELECT migrate.upgrade('abcd')$$) ~ 'abcd0002',
    'the detail of an ambiguous prefix lists the candidates');

SELECT throws_ok($$SELECT migrate.upgrade('a b')$$, '22023', 'invalid target "a b"', 'invalid target "a b"');
SELECT throws_ok($$SELECT migrate.upgrade('+x')$$, '22023', 'invalid target "+x"', 'invalid target "+x"');
SELECT throws_ok($$SELECT migrate.upgrade('a@@b')$$, '22023', 'invalid target "a@@b"', 'invalid target "a@@b"');
SELECT throws_ok($$SELECT migrate.upgrade('+0')$$, '22023', 'invalid target "+0"', 'invalid target "+0"');
SELECT throws_ok($$SELECT migrate.downgrade('-0')$$, '22023', 'invalid target "-0"', 'invalid target "-0"');
SELECT throws_ok($$SELECT migrate.upgrade('')$$, '22023', 'invalid target ""', 'invalid target ""');
SELECT throws_ok($$SELECT migrate.upgrade('+')$$, '22023', 'invalid target "+"', 'invalid target "+"');
SELECT throws_ok($$SELECT migrate.upgrade('abcd0001@tail')$$, '22023', 'invalid target "abcd0001@tail"',
    'invalid target with an unknown @ suffix');
SELECT throws_ok($$SELECT migrate.upgrade('@head')$$, '22023', 'invalid target "@head"',
    'invalid target with no name before @');
SELECT throws_ok($$SELECT migrate.upgrade('abcd0001+')$$, '22023', 'invalid target "abcd0001+"',
    'invalid target with no count');
SELECT throws_ok($$SELECT migrate.upgrade('abcd0001+0')$$, '22023', 'invalid target "abcd0001+0"',
    'invalid target rev+0');
SELECT throws_ok($$SELECT migrate.upgrade('auth@+0')$$, '22023', 'invalid target "auth@+0"',
    'invalid target label@+0');
SELECT throws_ok($$SELECT migrate.stamp('a;b')$$, '22023', 'invalid target "a;b"', 'stamp(invalid target)');
SELECT throws_ok($$SELECT * FROM migrate.plan('a-b-c')$$, '22023', 'invalid target "a-b-c"',
    'plan(invalid target)');
SELECT throws_ok(format($$SELECT migrate.upgrade(%L)$$, repeat('a', 65)), '22023',
    format('invalid target "%s"', repeat('a', 65)), 'a 65-character name is not a target');

SELECT throws_ok($$SELECT migrate.upgrade('head')$$, '22023',
    'target "head" is ambiguous: the revision graph has 2 heads', 'upgrade(head) with two heads');
SELECT throws_ok($$SELECT migrate.upgrade()$$, '22023',
    'target "head" is ambiguous: the revision graph has 2 heads', 'upgrade() with two heads');
SELECT throws_ok($$SELECT migrate.stamp('head')$$, '22023',
    'target "head" is ambiguous: the revision graph has 2 heads', 'stamp(head) with two heads');
SELECT throws_ok($$SELECT migrate.upgrade('abcd0001@head')$$, '22023',
    'target "abcd0001@head" is ambiguous', 'rev@head with two heads above it');

SELECT throws_ok($$SELECT migrate.upgrade('auth@base')$$, '22023',
    'target "auth@base" can only be used to downgrade', 'upgrade(label@base)');
SELECT throws_ok($$SELECT migrate.stamp('auth@base')$$, '22023',
    'target "auth@base" can only be used to downgrade', 'stamp(label@base)');
SELECT throws_ok($$SELECT * FROM migrate.plan('auth@base')$$, '22023',
    'target "auth@base" can only be used to downgrade', 'plan(label@base)');
SELECT throws_ok($$SELECT * FROM migrate.plan('auth@base', false)$$, '22023',
    'target "auth@base" can only be used to downgrade', 'plan(label@base, false)');

SELECT throws_ok($$SELECT migrate.downgrade('abcd0001')$$, '55000',
    'cannot downgrade to revision "abcd0001": it is not applied', 'downgrade to an unapplied revision');
SELECT throws_ok($$SELECT * FROM migrate.plan('abcd0001', true)$$, '55000',
    'cannot downgrade to revision "abcd0001": it is not applied', 'plan(downgrade) to an unapplied revision');
SELECT throws_ok($$SELECT migrate.upgrade('e_irr+1')$$, '22023',
    'relative target "e_irr+1" goes past the end of the revision graph', 'rev+1 from a head');
SELECT throws_ok($$SELECT migrate.upgrade('abcd0001+2')$$, '22023',
    'relative target "abcd0001+2" is ambiguous', 'rev+N through a branch point');
SELECT is(pg_temp.state(), :'snap'::text, 'nothing changed after the target errors');

-- with a single current head
SELECT is(migrate.upgrade('auth'), 'abcd0002', 'upgrade to auth');
SELECT pg_temp.state() AS snap \gset
SELECT throws_ok($$SELECT migrate.upgrade('+5')$$, '22023',
    'relative target "+5" goes past the end of the revision graph', 'upgrade(+5) past the head');
SELECT throws_ok($$SELECT migrate.upgrade('+99999999999')$$, '22023',
    'relative target "+99999999999" goes past the end of the revision graph', 'a huge step count');
SELECT throws_ok($$SELECT migrate.downgrade('-3')$$, '22023',
    'relative target "-3" goes past the end of the revision graph', 'downgrade(-3) past base');
SELECT throws_ok($$SELECT migrate.downgrade('e_side')$$, '55000',
    'cannot downgrade to revision "e_side": it is not applied', 'downgrade to the unapplied branch');
SELECT throws_ok($$SELECT migrate.downgrade('+1')$$, '22023',
    'relative target "+1" goes past the end of the revision graph', 'downgrade(+1) at a head');
SELECT is(pg_temp.state(), :'snap'::text, 'nothing changed after the relative errors');

-- with two current heads
SELECT is(migrate.upgrade('heads'), 'abcd0002,e_irr', 'upgrade(heads)');
SELECT pg_temp.state() AS snap \gset
SELECT throws_ok($$SELECT migrate.downgrade('-1')$$, '22023', 'relative target "-1" is ambiguous',
    'downgrade(-1) with two current heads');
SELECT throws_ok($$SELECT migrate.upgrade('+1')$$, '22023', 'relative target "+1" is ambiguous',
    'upgrade(+1) with two current heads');
SELECT throws_ok($$SELECT migrate.downgrade('e_side')$$, '55000', 'revision "e_irr" cannot be downgraded',
    'downgrade through an irreversible revision');
SELECT throws_ok($$SELECT migrate.downgrade('base')$$, '55000', 'revision "e_irr" cannot be downgraded',
    'downgrade(base) through an irreversible revision');
SELECT throws_ok($$SELECT migrate.downgrade('abcd0001')$$, '55000', 'revision "e_irr" cannot be downgraded',
    'downgrade to the branch point through an irreversible revision');
SELECT has_table('er_two', 'the refused downgrades ran no script');
SELECT is(pg_temp.state(), :'snap'::text, 'nothing changed after the errors with two current heads');

-- ---------------------------------------------------------------------
-- 5. Registration errors
-- ---------------------------------------------------------------------
SELECT throws_ok($$SELECT migrate.revision('SELECT 1', NULL, '', 'a-b')$$, '22023', 'invalid revision id "a-b"',
    'invalid id with a dash');
SELECT throws_ok($$SELECT migrate.revision('SELECT 1', NULL, '', '')$$, '22023', 'invalid revision id ""',
    'empty id');
SELECT throws_ok($$SELECT migrate.revision('SELECT 1', NULL, '', 'a b')$$, '22023', 'invalid revision id "a b"',
    'id with a space');
SELECT throws_ok($$SELECT migrate.revision('SELECT 1', NULL, '', 'café')$$, '22023', 'invalid revision id "café"',
    'id with a non-ASCII letter');
SELECT throws_ok(format($$SELECT migrate.revision('SELECT 1', NULL, '', %L)$$, repeat('x', 65)), '22023',
    format('invalid revision id "%s"', repeat('x', 65)), 'id of 65 characters');
SELECT lives_ok(format($$SELECT migrate.revision('SELECT 1', NULL, '', %L, '{}')$$, repeat('x', 64)),
    'an id of 64 characters is valid');
SELECT pg_temp.state() AS snap \gset

SELECT throws_ok($$SELECT migrate.revision('SELECT 1', NULL, '', 'head')$$, '22023', 'revision id "head" is reserved',
    'id head is reserved');
SELECT throws_ok($$SELECT migrate.revision('SELECT 1', NULL, '', 'HEAD')$$, '22023', 'revision id "HEAD" is reserved',
    'id HEAD is reserved (case-insensitive)');
SELECT throws_ok($$SELECT migrate.revision('SELECT 1', NULL, '', 'Heads')$$, '22023', 'revision id "Heads" is reserved',
    'id Heads is reserved');
SELECT throws_ok($$SELECT migrate.revision('SELECT 1', NULL, '', 'base')$$, '22023', 'revision id "base" is reserved',
    'id base is reserved');
SELECT throws_ok($$SELECT migrate.merge(NULL, '', 'BASE')$$, '22023', 'revision id "BASE" is reserved',
    'merge() with a reserved id');
SELECT throws_ok($$SELECT migrate.merge(NULL, '', 'm-1')$$, '22023', 'invalid revision id "m-1"',
    'merge() with an invalid id');

SELECT throws_ok($$SELECT migrate.revision('SELECT 1', NULL, '', 'e_l', '{}', '{}', ARRAY['a b'])$$, '22023',
    'invalid branch label "a b"', 'invalid branch label');
SELECT throws_ok($$SELECT migrate.revision('SELECT 1', NULL, '', 'e_l', '{}', '{}', ARRAY[''])$$, '22023',
    'invalid branch label ""', 'empty branch label');
SELECT throws_ok($$SELECT migrate.revision('SELECT 1', NULL, '', 'e_l', '{}', '{}', ARRAY['base'])$$, '22023',
    'branch label "base" is reserved', 'branch label base is reserved');
SELECT throws_ok($$SELECT migrate.revision('SELECT 1', NULL, '', 'e_l', '{}', '{}', ARRAY['Head'])$$, '22023',
    'branch label "Head" is reserved', 'branch label Head is reserved');
SELECT throws_ok($$SELECT migrate.revision('SELECT 1', NULL, '', 'e_l', '{}', '{}', ARRAY['heads'])$$, '22023',
    'branch label "heads" is reserved', 'branch label heads is reserved');
SELECT throws_ok($$SELECT migrate.revision('SELECT 1', NULL, '', 'e_l', ARRAY['a-b'])$$, '22023',
    'invalid revision id "a-b"', 'an invalid id in parents');
SELECT throws_ok($$SELECT migrate.revision('SELECT 1', NULL, '', 'e_l', '{}', ARRAY['x y'])$$, '22023',
    'invalid revision id "x y"', 'an invalid id in depends_on');

SELECT throws_ok($$SELECT migrate.revision('SELECT 1', NULL, '', 'e_l', ARRAY['abcd0001', 'abcd0001'])$$, '22023',
    'revision id "abcd0001" is listed twice in argument "parents"', 'the same parent twice');
SELECT throws_ok($$SELECT migrate.revision('SELECT 1', NULL, '', 'e_l', '{}', ARRAY['e_side', 'e_side'])$$, '22023',
    'revision id "e_side" is listed twice in argument "depends_on"', 'the same dependency twice');
SELECT throws_ok($$SELECT migrate.revision('SELECT 1', NULL, '', 'e_l', '{}', '{}', ARRAY['lbl', 'lbl'])$$, '22023',
    'branch label "lbl" is listed twice in argument "branch_labels"', 'the same label twice');

SELECT throws_ok($$SELECT migrate.revision('SELECT 1', NULL, '', 'e_l', ARRAY['nope'])$$, '42704',
    'parent revision "nope" does not exist', 'unknown parent');
SELECT throws_ok($$SELECT migrate.revision('SELECT 1', NULL, '', 'e_l', ARRAY['abcd0002', 'nope'])$$, '42704',
    'parent revision "nope" does not exist', 'unknown second parent');
SELECT throws_ok($$SELECT migrate.revision('SELECT 1', NULL, '', 'e_l', ARRAY['abc'])$$, '42704',
    'parent revision "abc" does not exist', 'parents are full ids, not prefixes');
SELECT throws_ok($$SELECT migrate.revision('SELECT 1', NULL, '', 'e_l', '{}', ARRAY['nope'])$$, '42704',
    'dependency revision "nope" does not exist', 'unknown dependency');

SELECT throws_ok($$SELECT migrate.revision('SELECT 1', NULL, '', 'e_self', ARRAY['e_self'])$$, '42P17',
    'revision "e_self" cannot be its own parent', 'own parent (new revision)');
SELECT throws_ok($$SELECT migrate.revision('SELECT 1', NULL, '', 'e_self', '{}', ARRAY['e_self'])$$, '42P17',
    'revision "e_self" cannot depend on itself', 'own dependency (new revision)');
SELECT throws_ok($$SELECT migrate.revision('CREATE TABLE er_two ()', 'DROP TABLE er_two', 'two', 'abcd0002', ARRAY['abcd0002'])$$,
    '42P17', 'revision "abcd0002" cannot be its own parent', 'own parent (existing revision)');

SELECT throws_ok($$SELECT migrate.revision('SELECT 1', NULL, '', 'e_l', '{}', '{}', ARRAY['auth'])$$, '42710',
    'branch label "auth" is already used by revision "abcd0002"', 'a label used by another revision');
SELECT throws_ok($$SELECT migrate.revision('SELECT 1', NULL, '', 'e_l', '{}', '{}', ARRAY['e_side'])$$, '42710',
    'branch label "e_side" is already a revision id', 'a label equal to a revision id');
SELECT throws_ok($$SELECT migrate.revision('SELECT 1', NULL, '', 'auth', '{}')$$, '42710',
    'revision id "auth" is already a branch label of revision "abcd0002"', 'an id equal to a label');
-- A label must not capture a prefix: "upgrade abcd0" must mean the revisions.
SELECT throws_ok($$SELECT migrate.revision('SELECT 1', NULL, '', 'e_l', '{}', '{}', ARRAY['abcd0'])$$, '42710',
    'branch label "abcd0" is a prefix of revision id "abcd0001"', 'a label that is a prefix of an id');
SELECT throws_ok($$SELECT migrate.revision('SELECT 1', NULL, '', 'e_l', '{}', '{}', ARRAY['e'])$$, '42710',
    'branch label "e" is a prefix of revision id "e_irr"', 'a one-character label that starts ids');
SELECT throws_ok($$SELECT migrate.revision('SELECT 1', NULL, '', 'auth_x1', '{}')$$, '42710',
    'revision id "auth_x1" starts with branch label "auth" of revision "abcd0002"', 'an id that starts with a label');
SELECT throws_ok($$SELECT migrate.revision('SELECT 1', NULL, '', 'e_l')$$, '22023',
    'cannot choose a parent for revision "e_l": the revision graph has 3 heads',
    'parents NULL with several heads');

SELECT throws_ok($$SELECT migrate.revision('CREATE TABLE', NULL, '', 'e_l', '{}')$$, '42601',
    'syntax error at end of input', 'syntax error in an upgrade script');
SELECT throws_ok($$SELECT migrate.revision('SELEC 1', NULL, '', 'e_l', '{}')$$, '42601',
    'syntax error at or near "SELEC"', 'syntax error at a word');
SELECT throws_ok($$SELECT migrate.revision('SELECT 1; CREATE TABLE er_x (a int', NULL, '', 'e_l', '{}')$$, '42601',
    'syntax error at end of input', 'syntax error in the second statement');
SELECT throws_ok($$SELECT migrate.revision('SELECT 1', 'DROP TABLE', '', 'e_l', '{}')$$, '42601',
    'syntax error at end of input', 'syntax error in a downgrade script');
SELECT is(pg_temp.state(), :'snap'::text, 'nothing changed after the registration errors');

-- ---------------------------------------------------------------------
-- 6. Statements that cannot run in a migration
-- ---------------------------------------------------------------------
SELECT throws_ok($$SELECT migrate.revision('CREATE INDEX CONCURRENTLY er_i ON er_one (a)', NULL, '', 'e_f', '{}')$$,
    '0A000', 'CREATE INDEX CONCURRENTLY is not allowed in a migration script', 'CREATE INDEX CONCURRENTLY');
SELECT throws_ok($$SELECT migrate.revision('VACUUM', NULL, '', 'e_f', '{}')$$,
    '0A000', 'VACUUM is not allowed in a migration script', 'VACUUM');
SELECT throws_ok($$SELECT migrate.revision('VACUUM ANALYZE er_one', NULL, '', 'e_f', '{}')$$,
    '0A000', 'VACUUM is not allowed in a migration script', 'VACUUM ANALYZE');
SELECT throws_ok($$SELECT migrate.revision('VACUUM FULL er_one', NULL, '', 'e_f', '{}')$$,
    '0A000', 'VACUUM is not allowed in a migration script', 'VACUUM FULL');
SELECT throws_ok($$SELECT migrate.revision('COMMIT', NULL, '', 'e_f', '{}')$$,
    '0A000', 'COMMIT is not allowed in a migration script', 'COMMIT');
SELECT throws_ok($$SELECT migrate.revision('BEGIN', NULL, '', 'e_f', '{}')$$,
    '0A000', 'BEGIN is not allowed in a migration script', 'BEGIN');
SELECT throws_ok($$SELECT migrate.revision('ROLLBACK', NULL, '', 'e_f', '{}')$$,
    '0A000', 'ROLLBACK is not allowed in a migration script', 'ROLLBACK');
SELECT throws_ok($$SELECT migrate.revision('SAVEPOINT s', NULL, '', 'e_f', '{}')$$,
    '0A000', 'SAVEPOINT is not allowed in a migration script', 'SAVEPOINT');
SELECT throws_ok($$SELECT migrate.revision('CREATE DATABASE er_db', NULL, '', 'e_f', '{}')$$,
    '0A000', 'CREATE DATABASE is not allowed in a migration script', 'CREATE DATABASE');
SELECT throws_ok($$SELECT migrate.revision('DROP DATABASE er_db', NULL, '', 'e_f', '{}')$$,
    '0A000', 'DROP DATABASE is not allowed in a migration script', 'DROP DATABASE');
SELECT throws_ok($$SELECT migrate.revision('COPY er_one FROM STDIN', NULL, '', 'e_f', '{}')$$,
    '0A000', 'COPY FROM STDIN is not allowed in a migration script', 'COPY FROM STDIN');
SELECT throws_ok($$SELECT migrate.revision('COPY er_one TO STDOUT', NULL, '', 'e_f', '{}')$$,
    '0A000', 'COPY TO STDOUT is not allowed in a migration script', 'COPY TO STDOUT');
SELECT throws_ok($$SELECT migrate.revision('COPY (SELECT 1) TO STDOUT', NULL, '', 'e_f', '{}')$$,
    '0A000', 'COPY TO STDOUT is not allowed in a migration script', 'COPY (query) TO STDOUT');
SELECT throws_ok($$SELECT migrate.revision('DROP INDEX CONCURRENTLY er_i', NULL, '', 'e_f', '{}')$$,
    '0A000', 'DROP INDEX CONCURRENTLY is not allowed in a migration script', 'DROP INDEX CONCURRENTLY');
SELECT throws_ok($$SELECT migrate.revision('REINDEX TABLE CONCURRENTLY er_one', NULL, '', 'e_f', '{}')$$,
    '0A000', 'REINDEX CONCURRENTLY is not allowed in a migration script', 'REINDEX TABLE CONCURRENTLY');
SELECT throws_ok($$SELECT migrate.revision('REINDEX (CONCURRENTLY) INDEX er_i', NULL, '', 'e_f', '{}')$$,
    '0A000', 'REINDEX CONCURRENTLY is not allowed in a migration script', 'REINDEX (CONCURRENTLY)');
SELECT throws_ok($$SELECT migrate.revision('ALTER SYSTEM SET work_mem = ''8MB''', NULL, '', 'e_f', '{}')$$,
    '0A000', 'ALTER SYSTEM is not allowed in a migration script', 'ALTER SYSTEM');
SELECT throws_ok($$SELECT migrate.revision('DISCARD ALL', NULL, '', 'e_f', '{}')$$,
    '0A000', 'DISCARD ALL is not allowed in a migration script', 'DISCARD ALL');
SELECT throws_ok($$SELECT migrate.revision('CREATE TABLESPACE er_ts LOCATION ''/nonexistent''', NULL, '', 'e_f', '{}')$$,
    '0A000', 'CREATE TABLESPACE is not allowed in a migration script', 'CREATE TABLESPACE');
SELECT throws_ok($$SELECT migrate.revision('CREATE TABLE er_f (a int); INSERT INTO er_f VALUES (1); COMMIT;', NULL, '', 'e_f', '{}')$$,
    '0A000', 'COMMIT is not allowed in a migration script', 'a forbidden statement after allowed ones');
SELECT throws_ok($$SELECT migrate.revision('SELECT 1', 'VACUUM', '', 'e_f', '{}')$$,
    '0A000', 'VACUUM is not allowed in a migration script', 'VACUUM in a downgrade script');
SELECT throws_ok($$SELECT migrate.revision('SELECT 1', 'DROP TABLE er_one; COMMIT', '', 'e_f', '{}')$$,
    '0A000', 'COMMIT is not allowed in a migration script', 'COMMIT in a downgrade script');
SELECT throws_ok($$SELECT migrate.revision('SELECT 1', 'CREATE INDEX CONCURRENTLY er_i ON er_one (a)', '', 'e_f', '{}')$$,
    '0A000', 'CREATE INDEX CONCURRENTLY is not allowed in a migration script', 'CREATE INDEX CONCURRENTLY in a downgrade script');
SELECT is(pg_temp.state(), :'snap'::text, 'nothing changed after the forbidden statements');

SELECT lives_ok($$SELECT migrate.revision('ANALYZE', 'ANALYZE er_one', 'analyze', 'e_analyze', '{}')$$,
    'ANALYZE is allowed in both scripts');
SELECT lives_ok($$SELECT migrate.revision('CREATE INDEX er_plain ON er_one ((1))', 'DROP INDEX er_plain', 'index', 'e_index', '{}')$$,
    'CREATE INDEX and DROP INDEX without CONCURRENTLY are allowed');
SELECT is((SELECT count(*) FROM migrate.revisions WHERE id IN ('e_analyze', 'e_index')), 2::bigint,
    'the allowed scripts were registered');
SELECT is(migrate.upgrade('e_analyze'), 'abcd0002,e_analyze,e_irr', 'an ANALYZE script runs');
SELECT pg_temp.state() AS snap \gset

-- ---------------------------------------------------------------------
-- 7. Applied revisions cannot change
-- ---------------------------------------------------------------------
SELECT throws_ok($$SELECT migrate.revision('CREATE TABLE er_two (a int)', 'DROP TABLE er_two', 'two', 'abcd0002')$$,
    '55000', 'revision "abcd0002" is applied and cannot be changed', 'new upgrade script for an applied revision');
SELECT throws_ok($$SELECT migrate.revision('CREATE TABLE er_two ()', 'DROP TABLE IF EXISTS er_two', 'two', 'abcd0002')$$,
    '55000', 'revision "abcd0002" is applied and cannot be changed', 'new downgrade script for an applied revision');
SELECT throws_ok($$SELECT migrate.revision('CREATE TABLE er_two ()', 'DROP TABLE er_two', 'two', 'abcd0002', ARRAY['e_side'])$$,
    '55000', 'revision "abcd0002" is applied and cannot be changed', 'new parents for an applied revision');
SELECT throws_ok($$SELECT migrate.revision('CREATE TABLE er_two ()', 'DROP TABLE er_two', 'two', 'abcd0002', NULL, ARRAY['e_side'])$$,
    '55000', 'revision "abcd0002" is applied and cannot be changed', 'new depends_on for an applied revision');
SELECT throws_ok($$SELECT migrate.merge(ARRAY['abcd0002', 'e_irr'], '', 'e_side')$$,
    '55000', 'revision "e_side" is applied and cannot be changed', 'merge() over an applied revision id');

-- a cycle through an unapplied revision
SELECT is(migrate.revision('SELECT 1', 'SELECT 1', 'u1', 'e_u1', '{}'), 'e_u1', 'register e_u1');
SELECT is(migrate.revision('SELECT 1', 'SELECT 1', 'u2', 'e_u2', ARRAY['e_u1']), 'e_u2', 'register e_u2');
SELECT is(migrate.revision('SELECT 1', 'SELECT 1', 'u3', 'e_u3', ARRAY['e_u2']), 'e_u3', 'register e_u3');
SELECT pg_temp.state() AS snap \gset
SELECT throws_ok($$SELECT migrate.revision('SELECT 1', 'SELECT 1', 'u1', 'e_u1', ARRAY['e_u3'])$$,
    '42P17', 'revision "e_u1" would be part of a cycle', 'a parent that descends from the revision');
SELECT throws_ok($$SELECT migrate.revision('SELECT 1', 'SELECT 1', 'u1', 'e_u1', '{}', ARRAY['e_u2'])$$,
    '42P17', 'revision "e_u1" would be part of a cycle', 'a dependency that descends from the revision');
SELECT throws_ok($$SELECT migrate.revision('SELECT 1', 'SELECT 1', 'u2', 'e_u2', ARRAY['e_u1'], ARRAY['e_u3'])$$,
    '42P17', 'revision "e_u2" would be part of a cycle', 'a dependency on its own child');
SELECT is(pg_temp.state(), :'snap'::text, 'nothing changed after the refused changes and cycles');

-- ---------------------------------------------------------------------
-- 8. require, graph
-- ---------------------------------------------------------------------
SELECT throws_ok($$SELECT migrate.require('e_u3')$$, '55000', 'revision "e_u3" is not applied',
    'require() of an unapplied revision');
SELECT ok(pg_temp.err_detail($$SELECT migrate.require('e_u3')$$) ~ '\m3 revisions behind',
    'the detail says how many revisions behind (3)');
SELECT ok(pg_temp.err_detail($$SELECT migrate.require('e_u1')$$) ~ '\m1 revision behind',
    'the detail says how many revisions behind (1)');
SELECT throws_ok($$SELECT migrate.require('nosuch')$$, '55000', 'revision "nosuch" is not applied',
    'require() of an unregistered revision');
SELECT throws_ok($$SELECT migrate.graph('png')$$, '22023', 'unrecognized graph format "png"',
    'unknown graph format');
SELECT throws_ok($$SELECT migrate.graph('')$$, '22023', 'unrecognized graph format ""',
    'empty graph format');

-- ---------------------------------------------------------------------
-- 9. migrate cannot be re-entered from a migration script
-- ---------------------------------------------------------------------
SELECT is(migrate.revision('SELECT migrate.upgrade()', NULL, '', 'e_nest_up', '{}'), 'e_nest_up', 'script calling upgrade()');
SELECT is(migrate.revision($s$SELECT migrate.downgrade('base')$s$, NULL, '', 'e_nest_down', '{}'), 'e_nest_down', 'script calling downgrade()');
SELECT is(migrate.revision($s$SELECT migrate.stamp('base')$s$, NULL, '', 'e_nest_stamp', '{}'), 'e_nest_stamp', 'script calling stamp()');
SELECT is(migrate.revision($s$SELECT migrate.revision('SELECT 1', NULL, '', 'e_inner', '{}')$s$, NULL, '', 'e_nest_rev', '{}'),
    'e_nest_rev', 'script calling revision()');
SELECT is(migrate.revision($s$SELECT migrate.merge(ARRAY['e_u3', 'e_irr'])$s$, NULL, '', 'e_nest_merge', '{}'),
    'e_nest_merge', 'script calling merge()');
SELECT is(migrate.revision('CREATE TABLE er_nest ()', 'SELECT migrate.upgrade(''e_u1'')', '', 'e_nest_dg', ARRAY['e_analyze']),
    'e_nest_dg', 'downgrade script calling upgrade()');
SELECT is(migrate.upgrade('e_nest_dg'), 'abcd0002,e_irr,e_nest_dg', 'upgrade e_nest_dg');
SELECT pg_temp.state() AS snap \gset

SELECT throws_ok($$SELECT migrate.upgrade('e_nest_up')$$, '55000',
    'cannot call migrate.upgrade() from a migration script', 'upgrade() from an upgrade script');
SELECT throws_ok($$SELECT migrate.upgrade('e_nest_down')$$, '55000',
    'cannot call migrate.downgrade() from a migration script', 'downgrade() from an upgrade script');
SELECT throws_ok($$SELECT migrate.upgrade('e_nest_stamp')$$, '55000',
    'cannot call migrate.stamp() from a migration script', 'stamp() from an upgrade script');
SELECT throws_ok($$SELECT migrate.upgrade('e_nest_rev')$$, '55000',
    'cannot call migrate.revision() from a migration script', 'revision() from an upgrade script');
SELECT throws_ok($$SELECT migrate.upgrade('e_nest_merge')$$, '55000',
    'cannot call migrate.merge() from a migration script', 'merge() from an upgrade script');
SELECT throws_ok($$SELECT migrate.downgrade('e_nest_dg-1')$$, '55000',
    'cannot call migrate.upgrade() from a migration script', 'upgrade() from a downgrade script');
SELECT is(pg_temp.state(), :'snap'::text, 'nothing changed after the re-entrant calls');
SELECT ok(NOT migrate.is_applied('e_u1') AND NOT migrate.is_applied('e_inner'),
    'the nested calls did nothing');
SELECT lives_ok($$SELECT migrate.upgrade('e_u1')$$, 'migrate works normally after a refused re-entrant call');

SELECT * FROM finish();
ROLLBACK;
