-- test/pgtap/tenants.sql
--
-- Tenants in one transaction: the scope rules of tenant revisions and
-- their errors, add_tenant() and drop_tenant(), scripts that run in the
-- tenant's schema and see its name, each tenant's own state (upgrade,
-- downgrade, current, is_applied, require, the tenants view, the log), and
-- what run_tenants() refuses before it starts.  run_tenants() itself
-- commits, so test/sh/tenants.sh runs it.
\ir setup.psql
SELECT plan(63);

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
-- 1. Scope rules
-- ---------------------------------------------------------------------
SELECT is(migrate.revision('CREATE TABLE public.d1_t (id int)', 'DROP TABLE public.d1_t', 'db one', 'd1'),
    'd1', 'a database revision');
SELECT is(migrate.revision('CREATE TABLE items (id int PRIMARY KEY, owner text DEFAULT current_setting(''migrate.tenant''))',
    'DROP TABLE items', 'tenant one', 't1', scope => 'tenant'),
    't1', 'a tenant revision');
SELECT is((SELECT parents FROM migrate.revisions WHERE id = 't1'), '{}'::text[],
    'the first tenant revision is a base: the database head is not its parent');
SELECT is(migrate.revision('CREATE TABLE public.d2_t (id int)', 'DROP TABLE public.d2_t', 'db two', 'd2'),
    'd2', 'a second database revision');
SELECT is((SELECT parents FROM migrate.revisions WHERE id = 'd2'), ARRAY['d1'],
    'a database revision without parents follows the database head, not the tenant one');
SELECT is(migrate.revision('INSERT INTO items (id) VALUES (1)', 'DELETE FROM items', 'tenant two', 't2',
    scope => 'tenant'), 't2', 'a second tenant revision');
SELECT is((SELECT parents FROM migrate.revisions WHERE id = 't2'), ARRAY['t1'],
    'a tenant revision without parents follows the tenant head');
SELECT is((SELECT scope FROM migrate.revisions WHERE id = 't2'), 'tenant', 'its scope is recorded');

SELECT throws_ok($$SELECT migrate.revision('SELECT 1', scope => 'galaxy')$$, '22023',
    'invalid scope "galaxy"', 'an unknown scope is refused');
SELECT throws_ok($$SELECT migrate.revision('SELECT 1', id => 'tx', transactional => false, scope => 'tenant')$$,
    '22023', 'tenant revision "tx" cannot be non-transactional', 'a tenant revision is transactional');
SELECT throws_ok($$SELECT migrate.revision('SELECT 1', id => 'tx', parents => ARRAY['d2'], scope => 'tenant')$$,
    '42P17', 'parent revision "d2" is a database revision, but revision "tx" is a tenant revision',
    'a tenant revision cannot have a database parent');
SELECT throws_ok($$SELECT migrate.revision('SELECT 1', id => 'dx', parents => ARRAY['t2'])$$,
    '42P17', 'parent revision "t2" is a tenant revision, but revision "dx" is a database revision',
    'a database revision cannot have a tenant parent');
SELECT throws_ok($$SELECT migrate.revision('SELECT 1', id => 'dx', depends_on => ARRAY['t1'])$$,
    '42P17', 'database revision "dx" cannot depend on tenant revision "t1"',
    'a database revision cannot depend on a tenant revision');
SELECT ok(NOT EXISTS (SELECT 1 FROM migrate.revisions WHERE id IN ('tx', 'dx')), 'nothing was registered by the refused calls');

-- A tenant revision that needs a database revision: d3 is not applied yet.
SELECT is(migrate.revision('CREATE TABLE public.d3_t (id int)', 'DROP TABLE public.d3_t', 'db three', 'd3'),
    'd3', 'a third database revision');
SELECT is(migrate.revision('CREATE VIEW item_count AS SELECT count(*) AS n FROM items, public.d3_t',
    'DROP VIEW item_count', 'tenant three', 't3', parents => ARRAY['t1'], depends_on => ARRAY['d3', 't1'],
    scope => 'tenant'), 't3', 'a tenant revision may depend on a database revision (and start a second tenant branch)');
SELECT is((SELECT depends_on FROM migrate.revisions WHERE id = 't3'), ARRAY['t1', 'd3'],
    'its tenant dependencies are stored before its database ones');

-- ---------------------------------------------------------------------
-- 2. The database does not see the tenant revisions
-- ---------------------------------------------------------------------
SELECT is(migrate.upgrade('d2'), 'd2', 'upgrade(d2) moves the database');
SELECT is(migrate.current(), 'd2', 'current() is the database''s');
SELECT results_eq('SELECT * FROM migrate.heads()', ARRAY['d3'], 'heads() are the database''s');
SELECT throws_ok($$SELECT migrate.upgrade('t1')$$, '22023', 'revision "t1" is a tenant revision',
    'a tenant revision named as a database target is refused');
SELECT is(pg_temp.err_detail($$SELECT migrate.require('t1')$$),
    'Without tenant, the call moves the database through the database revisions.',
    'require() of a tenant revision without tenant says it is one');

-- ---------------------------------------------------------------------
-- 3. add_tenant(): the schema, brought to the tenant heads now
-- ---------------------------------------------------------------------
SELECT throws_ok($$SELECT migrate.add_tenant('acme')$$, '55000',
    'tenant revision "t3" depends on database revision "d3", which is not applied',
    'a tenant cannot reach a revision whose database dependency is not applied');
SELECT ok(to_regnamespace('acme') IS NULL AND NOT EXISTS (SELECT 1 FROM migrate.tenant_schemas),
    'the failed add_tenant() left neither schema nor tenant');
SELECT is(migrate.upgrade(), 'd3', 'the database at its head');
SELECT is(migrate.add_tenant('acme'), 't2,t3', 'add_tenant() creates the schema and returns its current revision');
SELECT ok(to_regclass('acme.items') IS NOT NULL AND to_regclass('acme.item_count') IS NOT NULL,
    'the tenant''s scripts ran in its schema');
SELECT is((SELECT owner FROM acme.items WHERE id = 1), 'acme', 'a script reads the tenant''s name in migrate.tenant');
SELECT ok(to_regclass('public.items') IS NULL, 'nothing was created in the caller''s schema');
SELECT is(current_setting('migrate.tenant'), '', 'migrate.tenant is empty after the scripts');
SELECT is(current_setting('search_path'), '"$user", public', 'the caller''s search_path is what it was');

CREATE SCHEMA globex;
CREATE TABLE globex.legacy (id int);
SELECT is(migrate.add_tenant('globex'), 't2,t3', 'an existing schema is adopted');
SELECT ok(to_regclass('globex.legacy') IS NOT NULL AND to_regclass('globex.items') IS NOT NULL,
    'its objects stay, and the tenant revisions ran in it');
SELECT throws_ok($$SELECT migrate.add_tenant('acme')$$, '42710', 'tenant "acme" is already registered',
    'a tenant is registered once');
SELECT throws_ok($$SELECT migrate.add_tenant('pg_toast')$$, '42939', 'schema "pg_toast" cannot be a tenant',
    'a system schema cannot be a tenant');
SELECT throws_ok($$SELECT migrate.add_tenant('migrate')$$, '42939', 'schema "migrate" cannot be a tenant',
    'migrate''s own schema cannot be a tenant');
SELECT throws_ok($$SELECT migrate.add_tenant(NULL)$$, '22004', NULL, 'a NULL schema is refused');

-- ---------------------------------------------------------------------
-- 4. Each tenant's own state
-- ---------------------------------------------------------------------
SELECT ok(migrate.is_applied('t2', tenant => 'acme'), 'is_applied() in a tenant');
SELECT ok(NOT migrate.is_applied('t2'), 'a tenant revision is not applied in the database');
SELECT ok(NOT migrate.is_applied('t2', tenant => 'nobody'), 'nor in a tenant that does not exist');
SELECT throws_ok($$SELECT migrate.is_applied(NULL, tenant => 'acme')$$, '22004', NULL, 'is_applied(NULL) is refused');
SELECT lives_ok($$SELECT migrate.require('t3', tenant => 'acme')$$, 'require() passes in a tenant at head');

SELECT is(migrate.downgrade('t1', tenant => 'acme'), 't1', 'downgrade() in one tenant');
SELECT ok(to_regclass('acme.item_count') IS NULL AND to_regclass('globex.item_count') IS NOT NULL,
    'only that tenant''s schema changed');
SELECT ok(NOT migrate.is_applied('t3', tenant => 'acme') AND migrate.is_applied('t3', tenant => 'globex'),
    'only that tenant''s state changed');
SELECT is(migrate.current(tenant => 'acme'), 't1', 'current() of a tenant');
SELECT is(migrate.current(tenant => 'globex'), 't2,t3', 'current() of another');
SELECT is(migrate.current(), 'd3', 'current() of the database did not move');
SELECT throws_ok($$SELECT migrate.require('t3', tenant => 'acme')$$, '55000',
    'revision "t3" is not applied in tenant "acme"', 'require() fails in a tenant that is behind');
SELECT is(pg_temp.err_detail($$SELECT migrate.require('t3', tenant => 'acme')$$),
    'Tenant "acme" is at t1 and is 1 revision behind: t3.', 'and says how far behind it is');
SELECT throws_ok($$SELECT migrate.current(tenant => 'nobody')$$, '42704', 'tenant "nobody" does not exist',
    'current() of an unknown tenant');
SELECT throws_ok($$SELECT migrate.upgrade('head', tenant => 'nobody')$$, '42704', 'tenant "nobody" does not exist',
    'upgrade() of an unknown tenant');
SELECT throws_ok($$SELECT migrate.upgrade('d1', tenant => 'acme')$$, '22023',
    'revision "d1" is a database revision, not a tenant revision', 'a database revision named as a tenant target');

SELECT results_eq($$SELECT tenant, current, behind, last_error FROM migrate.tenants ORDER BY tenant$$,
    $$VALUES ('acme', 't1', 2::bigint, NULL::text), ('globex', 't2,t3', 0::bigint, NULL::text)$$,
    'the tenants view: each tenant, its current revision, how far behind it is');
SELECT is(migrate.upgrade('t2', tenant => 'acme'), 't2', 'upgrade() of a tenant to a revision');
SELECT is((SELECT array_agg(revision ORDER BY id) FROM migrate.log WHERE tenant = 'acme'),
    ARRAY['t1', 't2', 't3', 't3', 't2', 't2'], 'the log names the tenant of each step');

SELECT throws_ok($$SELECT migrate.forget('t3')$$, '55000', 'revision "t3" is applied and cannot be forgotten',
    'a tenant revision applied in a tenant is not forgotten');

-- ---------------------------------------------------------------------
-- 5. drop_tenant()
-- ---------------------------------------------------------------------
SELECT throws_ok($$SELECT migrate.drop_tenant('nobody')$$, '42704', 'tenant "nobody" does not exist',
    'drop_tenant() of an unknown tenant');
SELECT lives_ok($$SELECT migrate.drop_tenant('globex')$$, 'drop_tenant() unregisters');
SELECT ok(to_regclass('globex.items') IS NOT NULL AND NOT migrate.is_applied('t1', tenant => 'globex'),
    'its schema stays, its state is gone');
SELECT lives_ok($$SELECT migrate.drop_tenant('acme', drop_schema => true)$$, 'drop_tenant(drop_schema => true)');
SELECT ok(to_regnamespace('acme') IS NULL, 'drops the schema too');

-- ---------------------------------------------------------------------
-- 6. run_tenants() refuses before it starts
-- ---------------------------------------------------------------------
SELECT throws_ok($$CALL migrate.run_tenants()$$, '25001',
    'migrate.run_tenants() cannot run inside a transaction block', 'run_tenants() commits: not in a transaction');

SELECT * FROM finish();
ROLLBACK;
