-- test/pgtap/security.sql
--
-- Privileges: the catalog is closed to PUBLIC, the four checks are open,
-- the documented deployer grant (EXECUTE on all functions) is enough to
-- register and apply, and scripts run with the caller's rights.  Then a
-- search_path full of look-alikes must change nothing.
\ir setup.psql
SELECT plan(137);

CREATE ROLE regress_migrate_app;
CREATE ROLE regress_migrate_deployer;
GRANT EXECUTE ON ALL FUNCTIONS IN SCHEMA migrate TO regress_migrate_deployer;
CREATE SCHEMA regress_migrate_locked;            -- the deployer may not create here
CREATE SCHEMA regress_migrate_deploy;            -- but here it may
GRANT USAGE, CREATE ON SCHEMA regress_migrate_deploy TO regress_migrate_deployer;
CREATE TABLE regress_migrate_deploy.who (usr name, sess name);
GRANT INSERT, SELECT ON regress_migrate_deploy.who TO PUBLIC;

-- Run a statement, return its single value as text, or the error.  Written
-- without operators or unqualified calls, so that a hostile search_path
-- cannot change what it does.
CREATE FUNCTION pg_temp.try(sql text) RETURNS text LANGUAGE plpgsql AS $$
DECLARE
    r text;
BEGIN
    EXECUTE sql INTO r;
    IF r IS NULL THEN
        RETURN '<null>';
    END IF;
    RETURN r;
EXCEPTION WHEN OTHERS THEN
    RETURN pg_catalog.concat('ERROR ', SQLSTATE, ': ', SQLERRM);
END $$;

-- ---------------------------------------------------------------------
-- 1. What PUBLIC may do
-- ---------------------------------------------------------------------
SELECT ok(NOT has_table_privilege('public', 'migrate.revisions', 'SELECT, INSERT, UPDATE, DELETE, TRUNCATE, REFERENCES, TRIGGER'),
    'PUBLIC has no privilege on migrate.revisions');
SELECT ok(NOT has_table_privilege('public', 'migrate.applied', 'SELECT, INSERT, UPDATE, DELETE, TRUNCATE, REFERENCES, TRIGGER'),
    'PUBLIC has no privilege on migrate.applied');
SELECT ok(NOT has_table_privilege('public', 'migrate.log', 'SELECT, INSERT, UPDATE, DELETE, TRUNCATE, REFERENCES, TRIGGER'),
    'PUBLIC has no privilege on migrate.log');
SELECT ok(NOT has_table_privilege('public', 'migrate.history', 'SELECT'),
    'PUBLIC cannot read migrate.history');
SELECT ok(has_schema_privilege('public', 'migrate', 'USAGE'), 'PUBLIC may use schema migrate');
SELECT is_empty($$SELECT p.oid::regprocedure FROM pg_catalog.pg_proc p
                   JOIN pg_catalog.pg_depend d ON d.classid = 'pg_catalog.pg_proc'::regclass AND d.objid = p.oid
                  WHERE d.refclassid = 'pg_catalog.pg_extension'::regclass
                    AND d.refobjid = (SELECT oid FROM pg_catalog.pg_extension WHERE extname = 'migrate')
                    AND p.prosecdef
                    AND NOT coalesce(p.proconfig @> ARRAY['search_path=pg_catalog, pg_temp'], false)$$,
    'every SECURITY DEFINER function of the extension has search_path fixed (there are none)');
SELECT ok(NOT has_schema_privilege('public', 'migrate', 'CREATE'), 'PUBLIC may not create in schema migrate');

SELECT function_privs_are('migrate', 'current', ARRAY['text'], 'public', ARRAY['EXECUTE'],
    'PUBLIC may call current()');
SELECT function_privs_are('migrate', 'heads', ARRAY[]::name[], 'public', ARRAY['EXECUTE'],
    'PUBLIC may call heads()');
SELECT function_privs_are('migrate', 'is_applied', ARRAY['text', 'text'], 'public', ARRAY['EXECUTE'],
    'PUBLIC may call is_applied()');
SELECT function_privs_are('migrate', 'require', ARRAY['text', 'text'], 'public', ARRAY['EXECUTE'],
    'PUBLIC may call require()');
SELECT function_privs_are('migrate', 'revision', ARRAY['text', 'text', 'text', 'text', 'text[]', 'text[]', 'text[]', 'boolean', 'text'],
    'public', ARRAY[]::name[], 'PUBLIC may not call revision()');
SELECT function_privs_are('migrate', 'merge', ARRAY['text[]', 'text', 'text'], 'public', ARRAY[]::name[],
    'PUBLIC may not call merge()');
SELECT function_privs_are('migrate', 'upgrade', ARRAY['text', 'text'], 'public', ARRAY[]::name[],
    'PUBLIC may not call upgrade()');
SELECT function_privs_are('migrate', 'downgrade', ARRAY['text', 'text'], 'public', ARRAY[]::name[],
    'PUBLIC may not call downgrade()');
SELECT function_privs_are('migrate', 'stamp', ARRAY['text'], 'public', ARRAY[]::name[],
    'PUBLIC may not call stamp()');
SELECT function_privs_are('migrate', 'plan', ARRAY['text', 'boolean'], 'public', ARRAY[]::name[],
    'PUBLIC may not call plan()');
SELECT function_privs_are('migrate', 'verify', ARRAY[]::name[], 'public', ARRAY[]::name[],
    'PUBLIC may not call verify()');
SELECT function_privs_are('migrate', 'graph', ARRAY['text'], 'public', ARRAY[]::name[],
    'PUBLIC may not call graph()');

-- ---------------------------------------------------------------------
-- 2. An application role: the checks work, nothing else does
-- ---------------------------------------------------------------------
SELECT is(migrate.revision('SELECT 1', 'SELECT 1', 'one', 'sec1'), 'sec1', 'register sec1');
SELECT is(migrate.revision('SELECT 1', 'SELECT 1', 'two', 'sec2'), 'sec2', 'register sec2');
SELECT is(migrate.upgrade('sec1'), 'sec1', 'upgrade to sec1');

SET SESSION AUTHORIZATION regress_migrate_app;
SELECT is(current_user, 'regress_migrate_app'::name, 'now running as the application role');
SELECT is(migrate.current(), 'sec1', 'the application role can call current()');
SELECT results_eq('SELECT * FROM migrate.heads()', ARRAY['sec2'], 'the application role can call heads()');
SELECT ok(migrate.is_applied('sec1'), 'the application role can call is_applied() (true)');
SELECT ok(NOT migrate.is_applied('sec2'), 'the application role can call is_applied() (false)');
SELECT lives_ok($$SELECT migrate.require('sec1')$$, 'the application role can call require()');
SELECT throws_ok($$SELECT migrate.require('sec2')$$, '55000', 'revision "sec2" is not applied',
    'require() tells the application role it is behind');

SELECT throws_ok($$SELECT migrate.revision('SELECT 1')$$, '42501', 'permission denied for function revision',
    'the application role cannot register');
SELECT throws_ok($$SELECT migrate.merge()$$, '42501', 'permission denied for function merge',
    'the application role cannot merge');
SELECT throws_ok($$SELECT migrate.upgrade()$$, '42501', 'permission denied for function upgrade',
    'the application role cannot upgrade');
SELECT throws_ok($$SELECT migrate.downgrade('base')$$, '42501', 'permission denied for function downgrade',
    'the application role cannot downgrade');
SELECT throws_ok($$SELECT migrate.stamp('base')$$, '42501', 'permission denied for function stamp',
    'the application role cannot stamp');
SELECT throws_ok($$SELECT * FROM migrate.plan()$$, '42501', 'permission denied for function plan',
    'the application role cannot see the plan (it shows scripts)');
SELECT throws_ok($$SELECT * FROM migrate.verify()$$, '42501', 'permission denied for function verify',
    'the application role cannot verify');
SELECT throws_ok($$SELECT migrate.graph()$$, '42501', 'permission denied for function graph',
    'the application role cannot draw the graph');
SELECT throws_ok($$SELECT * FROM migrate.revisions$$, '42501', 'permission denied for table revisions',
    'the application role cannot read migrate.revisions');
SELECT throws_ok($$SELECT * FROM migrate.applied$$, '42501', 'permission denied for table applied',
    'the application role cannot read migrate.applied');
SELECT throws_ok($$SELECT * FROM migrate.log$$, '42501', 'permission denied for table log',
    'the application role cannot read migrate.log');
SELECT throws_ok($$SELECT * FROM migrate.history$$, '42501', 'permission denied for view history',
    'the application role cannot read migrate.history');
SELECT throws_ok($$INSERT INTO migrate.applied (revision, checksum) VALUES ('sec2', 'x')$$, '42501',
    'permission denied for table applied', 'the application role cannot mark a revision applied');
SELECT throws_ok($$DELETE FROM migrate.revisions$$, '42501', 'permission denied for table revisions',
    'the application role cannot delete revisions');
RESET SESSION AUTHORIZATION;
SELECT is(migrate.current(), 'sec1', 'the refused calls changed nothing');

-- a hand edit invalidates the cached state: the readers must then read the
-- graph themselves, which the application role cannot do directly
UPDATE migrate.revisions SET message = 'one, edited' WHERE id = 'sec1';
SET SESSION AUTHORIZATION regress_migrate_app;
SELECT is(migrate.current(), 'sec1', 'current() works for the application role after a hand edit');
SELECT results_eq('SELECT * FROM migrate.heads()', ARRAY['sec2'],
    'heads() works for the application role after a hand edit');
RESET SESSION AUTHORIZATION;
SELECT is((SELECT count(*) FROM migrate.revisions), 2::bigint, 'no revision was added by the application role');

CREATE TEMP TABLE sec2_author AS SELECT created_by FROM migrate.revisions WHERE id = 'sec2';
GRANT SELECT ON sec2_author TO PUBLIC;

-- ---------------------------------------------------------------------
-- 3. The deployer: GRANT EXECUTE ON ALL FUNCTIONS IN SCHEMA migrate
-- ---------------------------------------------------------------------
SET SESSION AUTHORIZATION regress_migrate_deployer;
SELECT throws_ok($$SELECT migrate.upgrade('sec2')$$, '42501',
    'permission denied to run revision "sec2" as role "' || (SELECT created_by FROM pg_temp.sec2_author) || '"',
    'the deployer cannot apply a revision a superuser registered: it would run as that superuser');
RESET SESSION AUTHORIZATION;
SELECT is(migrate.upgrade('sec2'), 'sec2', 'its registrant''s peer applies it');
SET SESSION AUTHORIZATION regress_migrate_deployer;
SELECT is(current_user, 'regress_migrate_deployer'::name, 'now running as the deployer');
SELECT is(migrate.revision(
        'CREATE TABLE regress_migrate_deploy.dep_t (a int); INSERT INTO regress_migrate_deploy.who VALUES (current_user, session_user)',
        'DROP TABLE regress_migrate_deploy.dep_t',
        'deployer table', 'sec_dep', ARRAY['sec2']),
    'sec_dep', 'the deployer can register a revision');
SELECT results_eq($$SELECT revision FROM migrate.plan('sec_dep')$$, ARRAY['sec_dep'],
    'the deployer can plan');
SELECT is(migrate.upgrade('sec_dep'), 'sec_dep', 'the deployer can upgrade');
SELECT is_empty($$SELECT * FROM migrate.verify()$$, 'the deployer can verify');
SELECT matches(migrate.graph(), 'sec_dep', 'the deployer can draw the graph');
SELECT throws_ok($$SELECT * FROM migrate.revisions$$, '42501', 'permission denied for table revisions',
    'EXECUTE does not open the catalog tables to the deployer');
SELECT results_eq($$SELECT usr FROM regress_migrate_deploy.who$$, ARRAY['regress_migrate_deployer'::name],
    'the script ran as the deployer, not as the owner of the extension');
RESET SESSION AUTHORIZATION;

SELECT is((SELECT tableowner FROM pg_tables WHERE schemaname = 'regress_migrate_deploy' AND tablename = 'dep_t'),
    'regress_migrate_deployer'::name, 'a table created by the deployer''s script is owned by the deployer');
SELECT is((SELECT created_by FROM migrate.revisions WHERE id = 'sec_dep'), 'regress_migrate_deployer'::name,
    'migrate.revisions.created_by is the deployer');
SELECT is((SELECT applied_by FROM migrate.applied WHERE revision = 'sec_dep'), 'regress_migrate_deployer'::name,
    'migrate.applied.applied_by is the deployer');
SELECT is((SELECT role FROM migrate.log WHERE revision = 'sec_dep' AND action = 'upgrade'), 'regress_migrate_deployer'::name,
    'migrate.log.role is the deployer');

-- scripts have the deployer's rights, not more
SET SESSION AUTHORIZATION regress_migrate_deployer;
SELECT is(migrate.revision('CREATE TABLE regress_migrate_locked.nope (a int)', 'SELECT 1', 'locked', 'sec_locked', '{}'),
    'sec_locked', 'the deployer can register a script it may not run');
SELECT throws_ok($$SELECT migrate.upgrade('sec_locked')$$, '42501', 'permission denied for schema regress_migrate_locked',
    'the script fails with the deployer''s rights');
SELECT ok(NOT migrate.is_applied('sec_locked'), 'the failed revision is not applied');
SELECT is(migrate.revision('SELECT count(*) FROM migrate.log', 'SELECT 1', 'reads the log', 'sec_peek', '{}'),
    'sec_peek', 'the deployer can register a script reading the catalog');
SELECT throws_ok($$SELECT migrate.upgrade('sec_peek')$$, '42501', 'permission denied for table log',
    'a script cannot read the catalog the deployer cannot read');
SELECT is(migrate.revision('DELETE FROM migrate.applied', 'SELECT 1', 'wipes the state', 'sec_wipe', '{}'),
    'sec_wipe', 'the deployer can register a script writing the catalog');
SELECT throws_ok($$SELECT migrate.upgrade('sec_wipe')$$, '42501', 'permission denied for table applied',
    'a script cannot write the catalog the deployer cannot write');
SELECT throws_ok($$SELECT migrate.revision('SET ROLE regress_migrate_app', 'SELECT 1', 'escalates', 'sec_setrole', '{}')$$,
    '0A000', 'SET ROLE is not allowed in a migration script',
    'a script cannot change its role: it runs as the role that registered it');
SELECT throws_ok($$SELECT migrate.revision('RESET SESSION AUTHORIZATION', NULL, 'escalates', 'sec_setrole', '{}')$$,
    '0A000', 'RESET SESSION AUTHORIZATION is not allowed in a migration script',
    'nor reset its session authorization');
SELECT is(migrate.revision('CREATE ROLE regress_migrate_sneaky SUPERUSER', 'SELECT 1', 'needs superuser',
        'sec_super', '{}'),
    'sec_super', 'the deployer can register a script that needs superuser');
-- The SQLSTATE only: the wording changed in PostgreSQL 16.
SELECT throws_ok($$SELECT migrate.upgrade('sec_super')$$, '42501', NULL,
    'a script that needs superuser fails for the deployer');
SELECT is(migrate.revision($$SELECT pg_catalog.pg_read_file('postgresql.conf')$$, 'SELECT 1',
        'reads a server file', 'sec_file', '{}'),
    'sec_file', 'the deployer can register a script reading a server file');
SELECT throws_ok($$SELECT migrate.upgrade('sec_file')$$, '42501', 'permission denied for function pg_read_file',
    'a script cannot read server files the deployer cannot read');
SELECT is(migrate.downgrade('sec2'), 'sec2', 'the deployer can downgrade');
SELECT is(migrate.stamp('sec_dep'), 'sec_dep', 'the deployer can stamp');
SELECT is(migrate.revision('SELECT 1', 'SELECT 1', 'harmless', 'sec_ok', '{}'), 'sec_ok', 'register sec_ok');
SELECT is(migrate.merge(ARRAY['sec_dep', 'sec_ok'], 'deployer merge', 'sec_merge'), 'sec_merge',
    'the deployer can merge');
RESET SESSION AUTHORIZATION;
SELECT hasnt_table('regress_migrate_deploy', 'dep_t', 'the deployer''s downgrade ran');
SELECT is((SELECT count(*) FROM migrate.applied
            WHERE revision IN ('sec_locked', 'sec_peek', 'sec_wipe', 'sec_setrole', 'sec_super', 'sec_file')),
    0::bigint, 'none of the refused scripts is applied');
SELECT is((SELECT count(*) FROM migrate.applied), 3::bigint, 'the applied state is intact (sec1, sec2, sec_dep)');

-- ---------------------------------------------------------------------
-- 3b. A script runs with its author's rights, whoever applies it
-- ---------------------------------------------------------------------
SET SESSION AUTHORIZATION regress_migrate_deployer;
SELECT is(migrate.revision('ALTER ROLE regress_migrate_deployer SUPERUSER', 'SELECT 1', 'escalates',
        'sec_escalate', ARRAY['sec_merge']),
    'sec_escalate', 'the deployer registers a script that would make it a superuser');
RESET SESSION AUTHORIZATION;
SELECT throws_ok($$SELECT migrate.upgrade('sec_escalate')$$, '42501', NULL,
    'applied by a superuser, it runs as the deployer and fails');
SELECT ok(NOT (SELECT rolsuper FROM pg_roles WHERE rolname = 'regress_migrate_deployer'),
    'the deployer is not a superuser');
SELECT lives_ok($$SELECT migrate.forget('sec_escalate')$$, 'forget it');
SET SESSION AUTHORIZATION regress_migrate_deployer;
SELECT is(migrate.revision('INSERT INTO regress_migrate_deploy.who VALUES (current_user, session_user)', 'SELECT 1',
        'who runs me', 'sec_who', ARRAY['sec_merge']),
    'sec_who', 'the deployer registers a script that records who runs it');
RESET SESSION AUTHORIZATION;
DELETE FROM regress_migrate_deploy.who;
SELECT is(migrate.upgrade('sec_who'), 'sec_who', 'a superuser applies it');
SELECT results_eq($$SELECT usr::text || ' ' || sess::text FROM regress_migrate_deploy.who$$,
    ARRAY['regress_migrate_deployer ' || session_user],
    'it ran as the deployer, in the superuser''s session');
SELECT is((SELECT applied_by FROM migrate.applied WHERE revision = 'sec_who'), current_user,
    'applied_by is who applied it');
SELECT is(migrate.revision('INSERT INTO regress_migrate_deploy.who VALUES (current_user, session_user)', 'SELECT 1',
        'who runs me, described anew', 'sec_who', ARRAY['sec_merge']),
    'sec_who', 'a superuser gives it a new message');
SELECT is((SELECT created_by FROM migrate.revisions WHERE id = 'sec_who'), 'regress_migrate_deployer'::name,
    'a new message does not change whose rights the script has');
-- After pg_dump into a cluster without the registrant.
UPDATE migrate.revisions SET created_by = 'regress_migrate_gone' WHERE id = 'sec_who';
SELECT throws_ok($$SELECT migrate.downgrade('sec_merge')$$, '42704',
    'role "regress_migrate_gone", which registered revision "sec_who", does not exist',
    'a registrant that does not exist is an error naming it');
SET SESSION AUTHORIZATION regress_migrate_deployer;
SELECT throws_ok($$SELECT migrate.reassign_revisions('regress_migrate_gone', 'regress_migrate_deployer')$$, '42501',
    'permission denied to reassign revisions', 'only a superuser chooses whose rights a script has');
RESET SESSION AUTHORIZATION;
SELECT throws_ok($$SELECT migrate.reassign_revisions('regress_migrate_gone', 'regress_migrate_nosuch')$$, '42704',
    'role "regress_migrate_nosuch" does not exist', 'the new registrant must exist');
SELECT is(migrate.reassign_revisions('regress_migrate_gone', 'regress_migrate_deployer'), 1::bigint,
    'a superuser gives the revisions to a role that exists');
SELECT is(migrate.downgrade('sec_merge'), 'sec_merge', 'and it runs again');
-- Non-transactional statements run at top level in the applier's session,
-- where RESET ROLE would be the applier: only the author's session gets them.
SET SESSION AUTHORIZATION regress_migrate_deployer;
SELECT is(migrate.revision('VACUUM regress_migrate_deploy.who', NULL, 'vacuum', 'sec_nt', ARRAY['sec_merge'],
        transactional => false), 'sec_nt', 'the deployer registers a non-transactional revision');
SELECT is((SELECT count(*) FROM migrate.nontransactional_statements('sec_nt', false)), 1::bigint,
    'the deployer''s session gets its statements');
RESET SESSION AUTHORIZATION;
SELECT throws_ok($$SELECT * FROM migrate.nontransactional_statements('sec_nt', false)$$, '42501',
    'non-transactional revision "sec_nt" must be applied as role "regress_migrate_deployer", which registered it',
    'a superuser''s session does not: it would run them with more rights');
SELECT lives_ok($$SELECT migrate.forget('sec_nt')$$, 'forget it');

-- ---------------------------------------------------------------------
-- 4. A hostile search_path changes nothing
-- ---------------------------------------------------------------------
CREATE SCHEMA regress_evil;
GRANT USAGE ON SCHEMA regress_evil TO PUBLIC;
CREATE TABLE regress_evil.calls (what text, usr name);
GRANT INSERT ON regress_evil.calls TO PUBLIC;
-- look-alike tables
CREATE TABLE regress_evil.revisions (id text, parents text[], depends_on text[], branch_labels text[],
    message text, upgrade text, downgrade text, checksum text, created_at timestamptz, created_by name, seq bigint);
CREATE TABLE regress_evil.applied (revision text, applied_at timestamptz, applied_by name, duration interval, checksum text);
CREATE TABLE regress_evil.log (LIKE migrate.log);
CREATE TABLE regress_evil.state (LIKE migrate.state);
GRANT ALL ON regress_evil.revisions, regress_evil.applied, regress_evil.log, regress_evil.state TO PUBLIC;
INSERT INTO regress_evil.applied VALUES ('sec_evil', now(), 'x', NULL, 'x'), ('nosuch', now(), 'x', NULL, 'x');
-- temp tables shadow every unqualified table name
CREATE TEMP TABLE revisions (LIKE regress_evil.revisions);
CREATE TEMP TABLE applied (LIKE regress_evil.applied);
CREATE TEMP TABLE log (LIKE migrate.log);
CREATE TEMP TABLE state (LIKE migrate.state);
INSERT INTO applied SELECT * FROM regress_evil.applied;
GRANT ALL ON revisions, applied, log, state TO PUBLIC;
-- look-alike functions: each records that it was called, by whom
CREATE FUNCTION regress_evil.now() RETURNS timestamptz LANGUAGE plpgsql AS $$
BEGIN INSERT INTO regress_evil.calls VALUES ('now', current_user); RETURN '2000-01-01'; END $$;
CREATE FUNCTION regress_evil.clock_timestamp() RETURNS timestamptz LANGUAGE plpgsql AS $$
BEGIN INSERT INTO regress_evil.calls VALUES ('clock_timestamp', current_user); RETURN '2000-01-01'; END $$;
CREATE FUNCTION regress_evil.sha256(bytea) RETURNS bytea LANGUAGE plpgsql AS $$
BEGIN INSERT INTO regress_evil.calls VALUES ('sha256', current_user); RETURN '\x00'; END $$;
CREATE FUNCTION regress_evil.encode(bytea, text) RETURNS text LANGUAGE plpgsql AS $$
BEGIN INSERT INTO regress_evil.calls VALUES ('encode', current_user); RETURN 'evil'; END $$;
CREATE FUNCTION regress_evil.unnest(text[]) RETURNS SETOF text LANGUAGE plpgsql AS $$
BEGIN INSERT INTO regress_evil.calls VALUES ('unnest', current_user); RETURN; END $$;
CREATE FUNCTION regress_evil.evil_eq(text, text) RETURNS boolean LANGUAGE plpgsql AS $$
BEGIN INSERT INTO regress_evil.calls VALUES ('=', current_user); RETURN true; END $$;
CREATE FUNCTION regress_evil.evil_ne(text, text) RETURNS boolean LANGUAGE plpgsql AS $$
BEGIN INSERT INTO regress_evil.calls VALUES ('<>', current_user); RETURN false; END $$;
CREATE FUNCTION regress_evil.evil_contains(text[], text[]) RETURNS boolean LANGUAGE plpgsql AS $$
BEGIN INSERT INTO regress_evil.calls VALUES ('@>', current_user); RETURN true; END $$;
CREATE FUNCTION regress_evil.evil_plus(bigint, integer) RETURNS bigint LANGUAGE plpgsql AS $$
BEGIN INSERT INTO regress_evil.calls VALUES ('+', current_user); RETURN 0; END $$;
CREATE FUNCTION regress_evil.evil_minus(timestamptz, timestamptz) RETURNS interval LANGUAGE plpgsql AS $$
BEGIN INSERT INTO regress_evil.calls VALUES ('-', current_user); RETURN '1000 years'; END $$;
CREATE FUNCTION regress_evil.evil_match(text, text) RETURNS boolean LANGUAGE plpgsql AS $$
BEGIN INSERT INTO regress_evil.calls VALUES ('~', current_user); RETURN true; END $$;
CREATE OPERATOR regress_evil.= (LEFTARG = text, RIGHTARG = text, FUNCTION = regress_evil.evil_eq);
CREATE OPERATOR regress_evil.<> (LEFTARG = text, RIGHTARG = text, FUNCTION = regress_evil.evil_ne);
CREATE OPERATOR regress_evil.@> (LEFTARG = text[], RIGHTARG = text[], FUNCTION = regress_evil.evil_contains);
CREATE OPERATOR regress_evil.+ (LEFTARG = bigint, RIGHTARG = integer, FUNCTION = regress_evil.evil_plus);
CREATE OPERATOR regress_evil.- (LEFTARG = timestamptz, RIGHTARG = timestamptz, FUNCTION = regress_evil.evil_minus);
CREATE OPERATOR regress_evil.~ (LEFTARG = text, RIGHTARG = text, FUNCTION = regress_evil.evil_match);

-- As the deployer, with the look-alikes before pg_catalog.
SET SESSION AUTHORIZATION regress_migrate_deployer;
SET search_path = regress_evil, pg_catalog, public;
SELECT pg_temp.try($$SELECT migrate.revision('CREATE TABLE regress_migrate_deploy.evil_t (a int)', 'DROP TABLE regress_migrate_deploy.evil_t', 'under a hostile path', 'sec_evil', ARRAY['sec_merge'], '{}', ARRAY['evil_label'])$$) AS h_rev \gset
SELECT pg_temp.try($$SELECT migrate.revision('SELECT 1', 'SELECT 1', 'evil two', 'sec_evil2', ARRAY['sec_evil'], '{}', ARRAY['evil_label2'])$$) AS h_rev2 \gset
SELECT pg_temp.try($$SELECT pg_catalog.string_agg(revision, ',') FROM migrate.plan('sec_evil')$$) AS h_plan \gset
SELECT pg_temp.try($$SELECT migrate.is_applied('nosuch')::text$$) AS h_isapp_nosuch \gset
SELECT pg_temp.try($$SELECT migrate.is_applied('sec_evil')::text$$) AS h_isapp_before \gset
SELECT pg_temp.try($$SELECT migrate.upgrade('sec_evil')$$) AS h_up \gset
SELECT pg_temp.try($$SELECT migrate.current()$$) AS h_current \gset
SELECT pg_temp.try($$SELECT migrate.is_applied('sec_evil')::text$$) AS h_isapp_after \gset
SELECT pg_temp.try($$SELECT migrate.is_applied('sec_evil2')::text$$) AS h_isapp_evil2 \gset
SELECT pg_temp.try($$SELECT pg_catalog.string_agg(h, ',') FROM migrate.heads() AS h$$) AS h_heads \gset
SELECT pg_temp.try($$SELECT migrate.require('sec_evil')::text$$) AS h_require_ok \gset
SELECT pg_temp.try($$SELECT migrate.require('nosuch')::text$$) AS h_require_nosuch \gset
SELECT pg_temp.try($$SELECT pg_catalog.count(*)::text FROM migrate.verify()$$) AS h_verify \gset
SELECT pg_temp.try($$SELECT migrate.revision('SELECT 1', 'SELECT 1', 'evil three', 'sec_evil3', ARRAY['sec_evil2'], '{}', ARRAY['evil_label'])$$) AS h_dup_label \gset
RESET search_path;
RESET SESSION AUTHORIZATION;

SELECT is(:'h_rev'::text, 'sec_evil', 'hostile path: revision() works');
SELECT is(:'h_rev2'::text, 'sec_evil2', 'hostile path: a second revision with its own label');
SELECT is(:'h_plan'::text, 'sec_evil', 'hostile path: plan() is right');
SELECT is(:'h_isapp_nosuch'::text, 'false', 'hostile path: is_applied() of an unknown revision is false');
SELECT is(:'h_isapp_before'::text, 'false', 'hostile path: is_applied() before the upgrade is false');
SELECT is(:'h_up'::text, 'sec_evil', 'hostile path: upgrade() works and returns the current revision');
SELECT is(:'h_current'::text, 'sec_evil', 'hostile path: current() is right');
SELECT is(:'h_isapp_after'::text, 'true', 'hostile path: is_applied() after the upgrade is true');
SELECT is(:'h_isapp_evil2'::text, 'false', 'hostile path: is_applied() of an unapplied revision is false');
SELECT is(:'h_heads'::text, 'sec_locked,sec_peek,sec_wipe,sec_super,sec_file,sec_who,sec_evil2', 'hostile path: heads() is right');
SELECT is(:'h_require_ok'::text, '', 'hostile path: require() of an applied revision passes');
SELECT is(:'h_require_nosuch'::text, 'ERROR 55000: revision "nosuch" is not applied',
    'hostile path: require() of an unknown revision fails');
SELECT is(:'h_verify'::text, '0', 'hostile path: verify() finds nothing wrong');
SELECT is(:'h_dup_label'::text, 'ERROR 42710: branch label "evil_label" is already used by revision "sec_evil"',
    'hostile path: a duplicate label is still refused');
SELECT is_empty($$SELECT * FROM regress_evil.calls$$,
    'no look-alike function or operator was called');
SELECT has_table('regress_migrate_deploy', 'evil_t', 'hostile path: the script ran');
SELECT is((SELECT count(*) FROM regress_evil.revisions) + (SELECT count(*) FROM regress_evil.log)
          + (SELECT count(*) FROM regress_evil.state), 0::bigint,
    'nothing was written to the look-alike tables');
SELECT is((SELECT count(*) FROM regress_evil.applied), 2::bigint, 'the look-alike applied table is untouched');
SELECT is((SELECT count(*) FROM pg_temp.revisions) + (SELECT count(*) FROM pg_temp.log)
          + (SELECT count(*) FROM pg_temp.state), 0::bigint,
    'nothing was written to the temporary look-alike tables');
SELECT ok((SELECT applied_at > '2001-01-01' FROM migrate.applied WHERE revision = 'sec_evil'),
    'applied_at was not taken from a look-alike clock');
SELECT ok((SELECT duration < '1 hour' AND started_at > '2001-01-01'
           FROM migrate.log WHERE revision = 'sec_evil' AND action = 'upgrade'),
    'the log row was not computed with look-alikes');
SELECT is((SELECT branch_labels FROM migrate.revisions WHERE id = 'sec_evil'), ARRAY['evil_label'],
    'the label registered under the hostile path is stored');
SELECT is((SELECT checksum FROM migrate.applied WHERE revision = 'sec_evil'),
          (SELECT checksum FROM migrate.revisions WHERE id = 'sec_evil'),
    'the applied checksum matches the registered one');
SELECT is(migrate.revision('CREATE TABLE regress_migrate_deploy.evil_t (a int)', 'DROP TABLE regress_migrate_deploy.evil_t',
                           'under a hostile path', 'sec_evil', ARRAY['sec_merge'], '{}', ARRAY['evil_label']),
    'sec_evil', 're-registering sec_evil normally is a no-op: its checksum was computed normally');
SELECT is_empty($$SELECT * FROM migrate.verify()$$, 'verify() is empty with the normal path');

-- The application role, with the search_path of the spec.
SET SESSION AUTHORIZATION regress_migrate_app;
SET search_path = regress_evil, public;
SELECT pg_temp.try($$SELECT migrate.current()$$) AS a_current \gset
SELECT pg_temp.try($$SELECT migrate.is_applied('nosuch')::text$$) AS a_nosuch \gset
SELECT pg_temp.try($$SELECT migrate.is_applied('sec_evil')::text$$) AS a_evil \gset
SELECT pg_temp.try($$SELECT migrate.require('sec_evil2')::text$$) AS a_require \gset
SELECT pg_temp.try($$SELECT pg_catalog.string_agg(h, ',') FROM migrate.heads() AS h$$) AS a_heads \gset
SELECT pg_temp.try($$SELECT migrate.upgrade()$$) AS a_upgrade \gset
RESET search_path;
RESET SESSION AUTHORIZATION;
SELECT is(:'a_current'::text, 'sec_evil', 'application role, hostile path: current()');
SELECT is(:'a_nosuch'::text, 'false', 'application role, hostile path: is_applied(unknown)');
SELECT is(:'a_evil'::text, 'true', 'application role, hostile path: is_applied(applied)');
SELECT is(:'a_require'::text, 'ERROR 55000: revision "sec_evil2" is not applied',
    'application role, hostile path: require() of an unapplied revision');
SELECT is(:'a_heads'::text, 'sec_locked,sec_peek,sec_wipe,sec_super,sec_file,sec_who,sec_evil2', 'application role, hostile path: heads()');
SELECT is(:'a_upgrade'::text, 'ERROR 42501: permission denied for function upgrade',
    'application role, hostile path: upgrade() is still refused');
SELECT is_empty($$SELECT * FROM regress_evil.calls$$,
    'still no look-alike called');

-- As the superuser, with the search_path of the spec.
SET search_path = regress_evil, public;
SELECT pg_temp.try($$SELECT migrate.upgrade('sec_evil2')$$) AS s_up \gset
SELECT pg_temp.try($$SELECT migrate.downgrade('sec_evil')$$) AS s_down \gset
SELECT pg_temp.try($$SELECT migrate.stamp('sec_evil2')$$) AS s_stamp \gset
RESET search_path;
SELECT is(:'s_up'::text, 'sec_evil2', 'superuser, hostile path: upgrade()');
SELECT is(:'s_down'::text, 'sec_evil', 'superuser, hostile path: downgrade()');
SELECT is(:'s_stamp'::text, 'sec_evil2', 'superuser, hostile path: stamp()');
SELECT is_empty($$SELECT * FROM regress_evil.calls$$, 'no look-alike called by upgrade, downgrade or stamp');
SELECT is((SELECT count(*) FROM migrate.log WHERE revision = 'sec_evil2'), 3::bigint,
    'upgrade, downgrade and stamp of sec_evil2 were logged');

SELECT * FROM finish();
ROLLBACK;
