-- test/pgtap/state.sql
--
-- Reading the state: current(), heads(), is_applied(), require(),
-- verify(), graph() and the history view, including after the catalog was
-- edited by hand.
\ir setup.psql
SELECT plan(90);

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
-- 1. Empty catalog
-- ---------------------------------------------------------------------
SELECT is(migrate.current(), NULL, 'current() is NULL when nothing is registered');
SELECT is_empty('SELECT * FROM migrate.heads()', 'heads() is empty on an empty graph');
SELECT is_empty('SELECT * FROM migrate.verify()', 'verify() is empty on an empty catalog');
SELECT is_empty('SELECT * FROM migrate.history', 'history is empty on an empty graph');
SELECT ok(NOT migrate.is_applied('anything'), 'is_applied() of an unregistered id is false');
SELECT matches(migrate.graph('dot'), '^digraph', 'graph(dot) of an empty graph is still a digraph');
SELECT is(migrate.upgrade(), NULL, 'upgrade() on an empty graph returns NULL');

-- ---------------------------------------------------------------------
-- 2. A branch: s_root -> s_zeta, s_root -> s_alpha (zeta registered first)
-- ---------------------------------------------------------------------
SELECT is(migrate.revision('SELECT 1', 'SELECT 1', 'root', 's_root'), 's_root', 'register s_root');
SELECT is(migrate.revision('SELECT 1', 'SELECT 1', 'zeta', 's_zeta'), 's_zeta', 'register s_zeta');
SELECT is(migrate.revision('SELECT 1', 'SELECT 1', 'alpha', 's_alpha', ARRAY['s_root'], '{}', ARRAY['alpha_branch']),
    's_alpha', 'register s_alpha');

SELECT results_eq('SELECT * FROM migrate.heads()', ARRAY['s_zeta', 's_alpha'],
    'heads() in registration order, not sorted by id');
SELECT is(migrate.current(), NULL, 'current() is NULL while nothing is applied');
SELECT ok(NOT migrate.is_applied('s_root'), 'is_applied() is false before upgrading');

SELECT is(migrate.upgrade('s_zeta'), 's_zeta', 'upgrade(s_zeta)');
SELECT is(migrate.current(), 's_zeta', 'current() is the single applied head');
SELECT ok(migrate.is_applied('s_root'), 'is_applied() of an applied ancestor');
SELECT ok(migrate.is_applied('s_zeta'), 'is_applied() of the applied head');
SELECT ok(NOT migrate.is_applied('s_alpha'), 'is_applied() of a registered, unapplied revision');
SELECT ok(NOT migrate.is_applied('nosuch'), 'is_applied() of an unregistered revision');
SELECT ok(NOT migrate.is_applied('s_ze'), 'is_applied() takes a full id, not a prefix');
SELECT ok(NOT migrate.is_applied('alpha_branch'), 'is_applied() takes an id, not a label');

SELECT lives_ok($$SELECT migrate.require('s_zeta')$$, 'require() of the applied head');
SELECT lives_ok($$SELECT migrate.require('s_root')$$, 'require() of a revision below the applied head');
SELECT throws_ok($$SELECT migrate.require('s_alpha')$$, '55000', 'revision "s_alpha" is not applied',
    'require() of an unapplied revision on another branch');
SELECT ok(pg_temp.err_detail($$SELECT migrate.require('s_alpha')$$) ~ '\m1 revision behind',
    'the detail says the database is 1 revision behind');
SELECT ok(pg_temp.err_detail($$SELECT migrate.require('s_alpha')$$) ~ 's_zeta',
    'the detail says where the database is');

SELECT is(migrate.upgrade('heads'), 's_alpha,s_zeta', 'upgrade(heads)');
SELECT is(migrate.current(), 's_alpha,s_zeta', 'several applied heads: sorted by id, joined by a comma');
SELECT lives_ok($$SELECT migrate.require('s_alpha')$$, 'require() once applied');
SELECT is_empty('SELECT * FROM migrate.verify()', 'verify() is empty when all is well');

-- ---------------------------------------------------------------------
-- 3. history: newest first (reverse topological, ties latest registered first)
-- ---------------------------------------------------------------------
-- s_x registered before s_y, then made a child of s_y.
SELECT is(migrate.revision('SELECT 1', 'SELECT 1', 'x', 's_x', '{}'), 's_x', 'register s_x');
SELECT is(migrate.revision('SELECT 1', 'SELECT 1', 'y', 's_y', '{}'), 's_y', 'register s_y');
SELECT is(migrate.revision('SELECT 1', 'SELECT 1', 'x', 's_x', ARRAY['s_y']), 's_x', 'move s_x under s_y');

SELECT results_eq('SELECT id FROM migrate.history',
    ARRAY['s_x', 's_y', 's_alpha', 's_zeta', 's_root'],
    'history: children before parents, ties latest registered first');
SELECT results_eq(
    $$SELECT id, parents, message, branch_labels, applied, applied_at IS NOT NULL, is_head, is_current
      FROM migrate.history$$,
    $$VALUES ('s_x', ARRAY['s_y'], 'x', '{}'::text[], false, false, true, false),
             ('s_y', '{}'::text[], 'y', '{}'::text[], false, false, false, false),
             ('s_alpha', ARRAY['s_root'], 'alpha', ARRAY['alpha_branch'], true, true, true, true),
             ('s_zeta', ARRAY['s_root'], 'zeta', '{}'::text[], true, true, true, true),
             ('s_root', '{}'::text[], 'root', '{}'::text[], true, true, false, false)$$,
    'history rows: parents, message, labels, applied state, is_head, is_current');
SELECT is((SELECT applied_at FROM migrate.history WHERE id = 's_zeta'),
          (SELECT applied_at FROM migrate.applied WHERE revision = 's_zeta'),
    'history.applied_at is the time in migrate.applied');
SELECT is(migrate.upgrade('s_x'), 's_alpha,s_x,s_zeta', 'upgrade(s_x)');
SELECT results_eq($$SELECT id FROM migrate.history WHERE is_current$$,
    ARRAY['s_x', 's_alpha', 's_zeta'], 'is_current marks every applied head');
SELECT results_eq($$SELECT id FROM migrate.history WHERE applied AND NOT is_current$$,
    ARRAY['s_y', 's_root'], 'applied revisions below a current head are not current');

-- ---------------------------------------------------------------------
-- 4. graph()
-- ---------------------------------------------------------------------
SELECT is(migrate.revision('SELECT 1', 'SELECT 1', 'dependent "quoted"', 's_dep', ARRAY['s_x'], ARRAY['s_zeta']),
    's_dep', 'register s_dep (unapplied, with a dependency)');
SELECT migrate.graph('dot') AS dot, migrate.graph('mermaid') AS mermaid \gset

SELECT is(migrate.graph(), :'dot'::text, 'graph() defaults to dot');
SELECT matches(:'dot'::text, '^digraph', 'dot output is a digraph');
SELECT matches(:'dot'::text, '"s_root"', 'dot names s_root');
SELECT matches(:'dot'::text, '"s_dep"', 'dot names s_dep');
SELECT ok(:'dot'::text ~ '"s_zeta"\s*->\s*"s_root"' OR :'dot'::text ~ '"s_root"\s*->\s*"s_zeta"',
    'dot has the edge s_root - s_zeta');
SELECT ok(:'dot'::text ~ '"s_alpha"\s*->\s*"s_root"' OR :'dot'::text ~ '"s_root"\s*->\s*"s_alpha"',
    'dot has the edge s_root - s_alpha');
SELECT ok(:'dot'::text ~ '"s_x"\s*->\s*"s_y"' OR :'dot'::text ~ '"s_y"\s*->\s*"s_x"',
    'dot has the edge s_y - s_x');
SELECT ok(:'dot'::text ~ '"s_dep"\s*->\s*"s_zeta"' OR :'dot'::text ~ '"s_zeta"\s*->\s*"s_dep"',
    'dot has the dependency edge s_zeta - s_dep');
SELECT matches(:'dot'::text, '\n\s*"s_root"\s*\[[^\n]*fill', 'dot marks the applied s_root');
SELECT matches(:'dot'::text, '\n\s*"s_x"\s*\[[^\n]*fill', 'dot marks the applied s_x');
SELECT doesnt_match(:'dot'::text, '\n\s*"s_dep"\s*\[[^\n]*fill', 'dot does not mark the unapplied s_dep');
SELECT matches(:'dot'::text, '\}\s*$', 'dot output is closed');

SELECT matches(:'mermaid'::text, '^(flowchart|graph) ', 'mermaid output starts with a flowchart');
SELECT matches(:'mermaid'::text, '\ms_root\M', 'mermaid names s_root');
SELECT matches(:'mermaid'::text, '\ms_dep\M', 'mermaid names s_dep');
SELECT ok(:'mermaid'::text ~ 's_zeta\s*-->\s*s_root' OR :'mermaid'::text ~ 's_root\s*-->\s*s_zeta',
    'mermaid has the edge s_root - s_zeta');
SELECT ok(:'mermaid'::text ~ 's_x\s*-->\s*s_y' OR :'mermaid'::text ~ 's_y\s*-->\s*s_x',
    'mermaid has the edge s_y - s_x');
SELECT ok(:'mermaid'::text ~ '(class [^\n]*\ms_root\M[^\n]*applied|\ms_root\M[^\n]*:::applied)',
    'mermaid marks the applied s_root');
SELECT ok(:'mermaid'::text !~ '(class [^\n]*\ms_dep\M[^\n]*applied|\ms_dep\M[^\n]*:::applied)',
    'mermaid does not mark the unapplied s_dep');
SELECT doesnt_match(:'mermaid'::text, '"dependent "quoted""', 'mermaid escapes double quotes in messages');
SELECT throws_ok($$SELECT migrate.graph('png')$$, '22023', 'unrecognized graph format "png"',
    'graph(png) is refused');

-- ---------------------------------------------------------------------
-- 5. verify() after hand edits, and the state readers follow hand edits
-- ---------------------------------------------------------------------
SELECT upgrade AS zeta_up, checksum AS zeta_sum FROM migrate.revisions WHERE id = 's_zeta' \gset
UPDATE migrate.revisions SET upgrade = 'SELECT 666', checksum = 'x' WHERE id = 's_zeta';
SELECT results_eq('SELECT revision FROM migrate.verify()', ARRAY['s_zeta'],
    'verify() shows an applied revision edited by hand');
SELECT ok((SELECT problem FROM migrate.verify() WHERE revision = 's_zeta') <> '',
    'verify() says what the problem is');
UPDATE migrate.revisions SET upgrade = :'zeta_up', checksum = :'zeta_sum' WHERE id = 's_zeta';
SELECT is_empty('SELECT * FROM migrate.verify()', 'verify() is empty again once repaired');
-- A script edited by hand without touching the checksum column is caught
-- too: verify() checksums the content anew.
UPDATE migrate.revisions SET upgrade = 'SELECT 667' WHERE id = 's_zeta';
SELECT results_eq('SELECT revision FROM migrate.verify()', ARRAY['s_zeta'],
    'verify() shows an applied script edited by hand with its checksum left alone');
UPDATE migrate.revisions SET upgrade = :'zeta_up' WHERE id = 's_zeta';
SELECT is_empty('SELECT * FROM migrate.verify()', 'verify() is empty once the script is restored');

INSERT INTO migrate.applied (revision, checksum) VALUES ('s_ghost', 'x');
SELECT results_eq('SELECT revision FROM migrate.verify()', ARRAY['s_ghost'],
    'verify() shows an applied row with no revision');
SELECT ok((SELECT problem FROM migrate.verify() WHERE revision = 's_ghost') <> '',
    'verify() says what is wrong with s_ghost');
SELECT ok(migrate.is_applied('s_ghost'), 'is_applied() reads migrate.applied');
DELETE FROM migrate.applied WHERE revision = 's_ghost';

SELECT is(migrate.revision('SELECT 1', 'SELECT 1', 'p', 's_p', '{}'), 's_p', 'register s_p');
SELECT is(migrate.revision('SELECT 1', 'SELECT 1', 'c', 's_c', ARRAY['s_p']), 's_c', 'register s_c');
INSERT INTO migrate.applied (revision, checksum)
    SELECT id, checksum FROM migrate.revisions WHERE id = 's_c';
SELECT results_eq('SELECT revision FROM migrate.verify()', ARRAY['s_p'],
    'verify() shows an unapplied ancestor of an applied revision');
SELECT ok((SELECT problem FROM migrate.verify() WHERE revision = 's_p') <> '',
    'verify() says what is wrong with s_p');
SELECT is(migrate.current(), 's_alpha,s_c,s_x,s_zeta', 'current() follows a row inserted by hand');
-- require() is the same check as is_applied(): one index probe on the
-- revision itself.  In a consistent catalog a revision is applied whenever
-- a descendant is; here the catalog was edited by hand, and require()
-- reports the truth for s_p while verify() reports the inconsistency.
SELECT throws_ok($$SELECT migrate.require('s_p')$$, '55000',
    'revision "s_p" is not applied',
    'require() checks the revision itself, like is_applied() (s_c marked by hand, s_p not)');
SELECT is(
    (SELECT count(*) FROM migrate.verify()), 1::bigint, 'only s_p is reported');
DELETE FROM migrate.applied WHERE revision = 's_c';
SELECT is(migrate.current(), 's_alpha,s_x,s_zeta', 'current() follows a row deleted by hand');
SELECT is_empty('SELECT * FROM migrate.verify()', 'verify() is empty after the clean-up');

-- several problems at once
UPDATE migrate.revisions SET checksum = 'x' WHERE id = 's_root';
INSERT INTO migrate.applied (revision, checksum) VALUES ('s_ghost', 'x');
SELECT set_eq('SELECT revision FROM migrate.verify()', ARRAY['s_root', 's_ghost'],
    'verify() reports every problem');
DELETE FROM migrate.applied WHERE revision = 's_ghost';
UPDATE migrate.revisions SET checksum = (SELECT checksum FROM migrate.applied WHERE revision = 's_root')
    WHERE id = 's_root';
SELECT is_empty('SELECT * FROM migrate.verify()', 'verify() is empty after the repair');

-- a single head: the no-op fast path must notice hand edits too
SELECT is(migrate.merge(NULL, 'join', 's_join'), 's_join', 'merge all heads');
SELECT is(migrate.upgrade(), 's_join', 'upgrade() to the single head');
SELECT results_eq('SELECT * FROM migrate.heads()', ARRAY['s_join'], 'heads() after the merge');
DELETE FROM migrate.applied WHERE revision = 's_join';
SELECT ok(NOT migrate.is_applied('s_join'), 'the head is no longer applied');
SELECT ok(migrate.current() <> 's_join', 'current() no longer reports the head');
SELECT is(migrate.upgrade(), 's_join', 'upgrade() applies the head again');
SELECT ok(migrate.is_applied('s_join'), 'the head is applied again');
SELECT is((SELECT count(*) FROM migrate.log WHERE revision = 's_join' AND action = 'upgrade'), 2::bigint,
    'the head was really upgraded a second time');
INSERT INTO migrate.revisions (id, parents, upgrade, downgrade, checksum)
    VALUES ('s_hand', ARRAY['s_join'], 'SELECT 1', 'SELECT 1', 'x');
SELECT results_eq('SELECT * FROM migrate.heads()', ARRAY['s_hand'], 'heads() follows a revision inserted by hand');
SELECT throws_ok('SELECT migrate.upgrade()', '55000',
    'revision "s_hand" was changed in migrate.revisions since it was registered',
    'upgrade() sees the revision inserted by hand, and refuses it: its content was never checked');

SELECT * FROM finish();
ROLLBACK;
