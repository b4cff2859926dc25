-- test/pgtap/functions.sql
--
-- The objects the extension creates: every function with its exact
-- signature (parameter names, types, defaults, result), the catalog tables,
-- the history view and their columns, and the dump configuration.
\ir setup.psql
SELECT plan(84);

-- ---------------------------------------------------------------------
-- Schema
-- ---------------------------------------------------------------------
SELECT has_schema('migrate', 'schema migrate exists');
SELECT ok(
    EXISTS (SELECT 1 FROM pg_depend d
            JOIN pg_extension e ON e.oid = d.refobjid
            WHERE d.classid = 'pg_namespace'::regclass
              AND d.objid = 'migrate'::regnamespace
              AND d.refclassid = 'pg_extension'::regclass
              AND e.extname = 'migrate'
              AND d.deptype = 'e'),
    'schema migrate belongs to the extension');

-- ---------------------------------------------------------------------
-- Functions: existence with the exact argument types
-- ---------------------------------------------------------------------
SELECT has_function('migrate', 'revision',
    ARRAY['text', 'text', 'text', 'text', 'text[]', 'text[]', 'text[]', 'boolean', 'text'],
    'migrate.revision(text, text, text, text, text[], text[], text[], boolean, text) exists');
SELECT has_function('migrate', 'merge', ARRAY['text[]', 'text', 'text'],
    'migrate.merge(text[], text, text) exists');
SELECT has_function('migrate', 'upgrade', ARRAY['text', 'text'],
    'migrate.upgrade(text, text) exists');
SELECT has_function('migrate', 'downgrade', ARRAY['text', 'text'],
    'migrate.downgrade(text, text) exists');
SELECT has_function('migrate', 'stamp', ARRAY['text'],
    'migrate.stamp(text) exists');
SELECT has_function('migrate', 'plan', ARRAY['text', 'boolean'],
    'migrate.plan(text, boolean) exists');
SELECT has_function('migrate', 'current', ARRAY['text'],
    'migrate.current(text) exists');
SELECT has_function('migrate', 'heads', ARRAY[]::name[],
    'migrate.heads() exists');
SELECT has_function('migrate', 'is_applied', ARRAY['text', 'text'],
    'migrate.is_applied(text, text) exists');
SELECT has_function('migrate', 'require', ARRAY['text', 'text'],
    'migrate.require(text, text) exists');
SELECT has_function('migrate', 'verify', ARRAY[]::name[],
    'migrate.verify() exists');
SELECT has_function('migrate', 'graph', ARRAY['text'],
    'migrate.graph(text) exists');

-- Exactly one overload each: a stray overload would make calls ambiguous.
SELECT results_eq(
    $$SELECT p.proname::text COLLATE "default", count(*)::int FROM pg_proc p
      WHERE p.pronamespace = 'migrate'::regnamespace
        AND p.proname IN ('revision', 'merge', 'upgrade', 'downgrade', 'stamp',
                          'plan', 'current', 'heads', 'is_applied', 'require',
                          'verify', 'graph')
      GROUP BY p.proname ORDER BY p.proname$$,
    $$VALUES ('current', 1), ('downgrade', 1), ('graph', 1), ('heads', 1),
             ('is_applied', 1), ('merge', 1), ('plan', 1), ('require', 1),
             ('revision', 1), ('stamp', 1), ('upgrade', 1), ('verify', 1)$$,
    'each public function has exactly one overload');

-- ---------------------------------------------------------------------
-- Parameter names and defaults (named notation is part of the API)
-- ---------------------------------------------------------------------
SELECT is(pg_get_function_arguments('migrate.revision(text, text, text, text, text[], text[], text[], boolean, text)'::regprocedure),
    'upgrade text, downgrade text DEFAULT NULL::text, message text DEFAULT ''''::text, id text DEFAULT NULL::text, parents text[] DEFAULT NULL::text[], depends_on text[] DEFAULT ''{}''::text[], branch_labels text[] DEFAULT ''{}''::text[], transactional boolean DEFAULT true, scope text DEFAULT ''database''::text',
    'revision() parameters and defaults');
SELECT is(pg_get_function_arguments('migrate.merge(text[], text, text)'::regprocedure),
    'revisions text[] DEFAULT NULL::text[], message text DEFAULT ''''::text, id text DEFAULT NULL::text',
    'merge() parameters and defaults');
SELECT is(pg_get_function_arguments('migrate.upgrade(text, text)'::regprocedure),
    'target text DEFAULT ''head''::text, tenant text DEFAULT NULL::text',
    'upgrade() parameters and defaults');
SELECT is(pg_get_function_arguments('migrate.downgrade(text, text)'::regprocedure),
    'target text, tenant text DEFAULT NULL::text',
    'downgrade() parameters, no default target');
SELECT is(pg_get_function_arguments('migrate.stamp(text)'::regprocedure),
    'target text',
    'stamp() parameter, no default');
SELECT matches(pg_get_function_arguments('migrate.plan(text, boolean)'::regprocedure),
    '^target text DEFAULT ''head''::text, downgrade boolean DEFAULT false(,|$)',
    'plan() parameters and defaults');
SELECT is(pg_get_function_arguments('migrate.is_applied(text, text)'::regprocedure),
    'revision text, tenant text DEFAULT NULL::text', 'is_applied() parameters');
SELECT is(pg_get_function_arguments('migrate.require(text, text)'::regprocedure),
    'revision text, tenant text DEFAULT NULL::text', 'require() parameters');
SELECT is(pg_get_function_arguments('migrate.graph(text)'::regprocedure),
    'format text DEFAULT ''dot''::text', 'graph() parameter and default');
SELECT is(pg_get_function_arguments('migrate.current(text)'::regprocedure),
    'tenant text DEFAULT NULL::text', 'current() takes a tenant, by default none');
SELECT is(pg_get_function_arguments('migrate.heads()'::regprocedure),
    '', 'heads() takes no argument');
SELECT is((SELECT pronargs::int FROM pg_proc WHERE oid = 'migrate.verify()'::regprocedure),
    0, 'verify() takes no input argument');

-- ---------------------------------------------------------------------
-- Results
-- ---------------------------------------------------------------------
SELECT function_returns('migrate', 'revision',
    ARRAY['text', 'text', 'text', 'text', 'text[]', 'text[]', 'text[]', 'boolean', 'text'], 'text',
    'revision() returns text');
SELECT function_returns('migrate', 'merge', ARRAY['text[]', 'text', 'text'], 'text',
    'merge() returns text');
SELECT function_returns('migrate', 'upgrade', ARRAY['text', 'text'], 'text',
    'upgrade() returns text');
SELECT function_returns('migrate', 'downgrade', ARRAY['text', 'text'], 'text',
    'downgrade() returns text');
SELECT function_returns('migrate', 'stamp', ARRAY['text'], 'text',
    'stamp() returns text');
SELECT function_returns('migrate', 'current', ARRAY['text'], 'text',
    'current() returns text');
SELECT function_returns('migrate', 'heads', ARRAY[]::name[], 'setof text',
    'heads() returns setof text');
SELECT function_returns('migrate', 'is_applied', ARRAY['text', 'text'], 'boolean',
    'is_applied() returns boolean');
SELECT function_returns('migrate', 'require', ARRAY['text', 'text'], 'void',
    'require() returns void');
SELECT function_returns('migrate', 'graph', ARRAY['text'], 'text',
    'graph() returns text');
SELECT results_eq(
    $$SELECT a.n COLLATE "default", format_type(a.t, NULL)
      FROM pg_proc p,
           unnest(p.proargnames, p.proallargtypes::oid[], p.proargmodes::text[])
               WITH ORDINALITY AS a(n, t, m, i)
      WHERE p.oid = 'migrate.plan(text, boolean)'::regprocedure AND a.m IN ('o', 't')
      ORDER BY a.i$$,
    $$VALUES ('step', 'integer'), ('direction', 'text'), ('revision', 'text'),
             ('message', 'text'), ('script', 'text')$$,
    'plan() returns the columns (step int, direction text, revision text, message text, script text)');
SELECT ok((SELECT proretset FROM pg_proc WHERE oid = 'migrate.plan(text, boolean)'::regprocedure),
    'plan() returns a set');
SELECT results_eq(
    $$SELECT a.n COLLATE "default", format_type(a.t, NULL)
      FROM pg_proc p,
           unnest(p.proargnames, p.proallargtypes::oid[], p.proargmodes::text[])
               WITH ORDINALITY AS a(n, t, m, i)
      WHERE p.oid = 'migrate.verify()'::regprocedure AND a.m IN ('o', 't')
      ORDER BY a.i$$,
    $$VALUES ('revision', 'text'), ('problem', 'text')$$,
    'verify() returns the columns (revision text, problem text)');
SELECT ok((SELECT proretset FROM pg_proc WHERE oid = 'migrate.verify()'::regprocedure),
    'verify() returns a set');

-- Not STRICT: a NULL argument must raise 22004, not return NULL silently.
SELECT isnt_strict('migrate', 'revision',
    ARRAY['text', 'text', 'text', 'text', 'text[]', 'text[]', 'text[]', 'boolean', 'text'],
    'revision() is not strict (NULL downgrade/id/parents have a meaning)');
SELECT isnt_strict('migrate', 'merge', ARRAY['text[]', 'text', 'text'],
    'merge() is not strict (NULL revisions means all heads)');
SELECT isnt_strict('migrate', 'upgrade', ARRAY['text', 'text'],
    'upgrade() is not strict (NULL target raises an error)');
SELECT isnt_strict('migrate', 'downgrade', ARRAY['text', 'text'],
    'downgrade() is not strict');
SELECT isnt_strict('migrate', 'stamp', ARRAY['text'],
    'stamp() is not strict');
SELECT isnt_strict('migrate', 'plan', ARRAY['text', 'boolean'],
    'plan() is not strict');
SELECT isnt_strict('migrate', 'is_applied', ARRAY['text', 'text'],
    'is_applied() is not strict');
SELECT isnt_strict('migrate', 'require', ARRAY['text', 'text'],
    'require() is not strict');
SELECT isnt_strict('migrate', 'graph', ARRAY['text'],
    'graph() is not strict');

-- State-changing functions must be volatile (never folded or cached).
SELECT volatility_is('migrate', 'revision',
    ARRAY['text', 'text', 'text', 'text', 'text[]', 'text[]', 'text[]', 'boolean', 'text'], 'volatile',
    'revision() is volatile');
SELECT volatility_is('migrate', 'merge', ARRAY['text[]', 'text', 'text'], 'volatile',
    'merge() is volatile');
SELECT volatility_is('migrate', 'upgrade', ARRAY['text', 'text'], 'volatile',
    'upgrade() is volatile');
SELECT volatility_is('migrate', 'downgrade', ARRAY['text', 'text'], 'volatile',
    'downgrade() is volatile');
SELECT volatility_is('migrate', 'stamp', ARRAY['text'], 'volatile',
    'stamp() is volatile');

-- ---------------------------------------------------------------------
-- Catalog tables and the history view
-- ---------------------------------------------------------------------
SELECT has_table('migrate', 'revisions', 'table migrate.revisions exists');
SELECT has_table('migrate', 'applied', 'table migrate.applied exists');
SELECT has_table('migrate', 'log', 'table migrate.log exists');
SELECT has_view('migrate', 'history', 'view migrate.history exists');

SELECT columns_are('migrate', 'revisions',
    ARRAY['id', 'parents', 'depends_on', 'branch_labels', 'message', 'upgrade',
          'downgrade', 'checksum', 'created_at', 'created_by', 'seq', 'lint_waived',
          'transactional', 'file', 'scope'],
    'migrate.revisions has exactly the documented columns');
SELECT columns_are('migrate', 'applied',
    ARRAY['revision', 'applied_at', 'applied_by', 'duration', 'checksum'],
    'migrate.applied has exactly the documented columns');
SELECT columns_are('migrate', 'log',
    ARRAY['id', 'action', 'revision', 'direction', 'started_at', 'finished_at',
          'duration', 'role', 'success', 'sqlstate', 'error', 'tenant'],
    'migrate.log has exactly the documented columns');
SELECT columns_are('migrate', 'history',
    ARRAY['id', 'parents', 'message', 'branch_labels', 'applied', 'applied_at',
          'is_head', 'is_current', 'lint_waived'],
    'migrate.history has exactly the documented columns');

-- Column order of the view is part of its contract (SELECT * users).
SELECT results_eq(
    $$SELECT attname::text COLLATE "default" FROM pg_attribute
      WHERE attrelid = 'migrate.history'::regclass AND attnum > 0 AND NOT attisdropped
      ORDER BY attnum$$,
    ARRAY['id', 'parents', 'message', 'branch_labels', 'applied', 'applied_at',
          'is_head', 'is_current', 'lint_waived'],
    'migrate.history columns are in the documented order');

-- Types of the columns that callers compare against.
SELECT col_type_is('migrate', 'revisions', 'id', 'text', 'revisions.id is text');
SELECT col_type_is('migrate', 'revisions', 'parents', 'text[]', 'revisions.parents is text[]');
SELECT col_type_is('migrate', 'revisions', 'depends_on', 'text[]', 'revisions.depends_on is text[]');
SELECT col_type_is('migrate', 'revisions', 'branch_labels', 'text[]', 'revisions.branch_labels is text[]');
SELECT col_type_is('migrate', 'revisions', 'seq', 'bigint', 'revisions.seq is bigint');
SELECT col_type_is('migrate', 'applied', 'revision', 'text', 'applied.revision is text');
SELECT col_type_is('migrate', 'log', 'direction', 'text', 'log.direction is text');
SELECT col_type_is('migrate', 'log', 'success', 'boolean', 'log.success is boolean');
SELECT col_type_is('migrate', 'history', 'applied', 'boolean', 'history.applied is boolean');
SELECT col_type_is('migrate', 'history', 'applied_at', 'timestamp with time zone',
    'history.applied_at is timestamptz');
SELECT col_type_is('migrate', 'history', 'is_head', 'boolean', 'history.is_head is boolean');
SELECT col_type_is('migrate', 'history', 'is_current', 'boolean', 'history.is_current is boolean');

-- A fresh install is empty.
SELECT is((SELECT count(*) FROM migrate.revisions), 0::bigint, 'no revision after CREATE EXTENSION');
SELECT is((SELECT count(*) FROM migrate.applied), 0::bigint, 'nothing applied after CREATE EXTENSION');
SELECT is((SELECT count(*) FROM migrate.log), 0::bigint, 'empty log after CREATE EXTENSION');

-- ---------------------------------------------------------------------
-- pg_dump: the user data of the catalog is dumped with the database
-- ---------------------------------------------------------------------
SELECT ok('migrate.revisions'::regclass = ANY (
        SELECT unnest(extconfig) FROM pg_extension WHERE extname = 'migrate'),
    'migrate.revisions is in pg_extension.extconfig');
SELECT ok('migrate.applied'::regclass = ANY (
        SELECT unnest(extconfig) FROM pg_extension WHERE extname = 'migrate'),
    'migrate.applied is in pg_extension.extconfig');
SELECT ok('migrate.log'::regclass = ANY (
        SELECT unnest(extconfig) FROM pg_extension WHERE extname = 'migrate'),
    'migrate.log is in pg_extension.extconfig');
SELECT is(
    (SELECT bool_and(c = '') FROM pg_extension e, unnest(e.extcondition) AS c
     WHERE e.extname = 'migrate'),
    true,
    'the catalog tables are dumped whole (no filter condition)');
SELECT is(
    (SELECT array_length(extconfig, 1) = array_length(extcondition, 1)
     FROM pg_extension WHERE extname = 'migrate'),
    true,
    'extconfig and extcondition have one entry each');

SELECT * FROM finish();
ROLLBACK;
