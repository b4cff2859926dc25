--
-- Bad input: each gets an error that names the bad value, and changes
-- nothing.  (pgTAP checks the SQLSTATEs; this shows what a user reads.)
--
CREATE EXTENSION migrate;
SET migrate.report_timing = off;

SELECT migrate.revision('CREATE TABLE e1 ();', 'DROP TABLE e1;', 'one', 'abcd1111');
SELECT migrate.revision('CREATE TABLE e2 ();', NULL, 'two, irreversible', 'abcd2222');
SELECT migrate.revision('CREATE TABLE e3 ();', 'DROP TABLE e3;', 'three', 'abce3333',
                        branch_labels => '{main}');
SELECT migrate.upgrade('abcd1111');

-- Targets
SELECT migrate.upgrade('nosuchrev');
SELECT migrate.upgrade('abc');
SELECT migrate.upgrade('abcd');
SELECT migrate.upgrade('main@@x');
SELECT migrate.upgrade('+0');
SELECT migrate.upgrade('+9');
SELECT migrate.downgrade('-5');
SELECT migrate.upgrade('main@base');
SELECT migrate.downgrade('abce3333');
SELECT migrate.upgrade(NULL);
SELECT migrate.plan('head', NULL);

-- Downgrading through an irreversible revision is refused before any
-- script runs.
SELECT migrate.upgrade();
SELECT migrate.downgrade('base');
SELECT migrate.current();

-- Revision ids, labels and edges
SELECT migrate.revision('SELECT 1;', id => 'has-dash');
SELECT migrate.revision('SELECT 1;', id => repeat('x', 65));
SELECT migrate.revision('SELECT 1;', id => 'HEAD');
SELECT migrate.revision('SELECT 1;', id => 'ok1', parents => '{nosuch}');
SELECT migrate.revision('SELECT 1;', id => 'ok1', depends_on => '{nosuch}');
SELECT migrate.revision('SELECT 1;', id => 'ok1', parents => ARRAY['abcd1111', 'abcd1111']);
SELECT migrate.revision('SELECT 1;', id => 'ok1', parents => ARRAY['abcd1111', NULL]);
SELECT migrate.revision('SELECT 1;', id => 'ok1', branch_labels => '{main}');
SELECT migrate.revision('SELECT 1;', id => 'ok1', branch_labels => '{abcd1111}');
SELECT migrate.revision('SELECT 1;', id => 'main');
SELECT migrate.revision('SELECT 1;', id => 'ok1', branch_labels => '{base}');
SELECT migrate.revision('SELECT 1;', id => 'abce3333', parents => '{abce3333}');
SELECT migrate.revision(NULL);
SELECT migrate.revision('SELECT 1;', message => NULL);

-- A cycle, through re-registering an unapplied revision with new parents.
SELECT migrate.revision('CREATE TABLE e4 ();', 'DROP TABLE e4;', 'four', 'abcf4444');
SELECT migrate.revision('CREATE TABLE e6 ();', 'DROP TABLE e6;', 'six', 'abcf6666');
SELECT migrate.revision('CREATE TABLE e4 ();', 'DROP TABLE e4;', 'four', 'abcf4444',
                        parents => '{abcf6666}');
SELECT migrate.revision('CREATE TABLE e4 ();', 'DROP TABLE e4;', 'four', 'abcf4444',
                        depends_on => '{abcf6666}');

-- "head" with several heads; a new revision without parents then too.
SELECT migrate.revision('CREATE TABLE e5 ();', 'DROP TABLE e5;', 'five', 'abcf5555',
                        parents => '{abcd2222}');
SELECT migrate.upgrade('head');
SELECT migrate.revision('SELECT 1;', id => 'ok1');
SELECT migrate.merge(ARRAY['abcf6666']);

-- Changing an applied revision
SELECT migrate.revision('CREATE TABLE e1 (changed int);', 'DROP TABLE e1;', 'one', 'abcd1111');

-- Scripts: syntax errors and statements that cannot run in a transaction
SELECT migrate.revision(E'CREATE TABLE ok ();\nCREATE TABL oops ();', id => 'ok1');
SELECT migrate.revision('SELECT 1;', E'DROP TABLE x;\nCOMMIT;', id => 'ok1');
SELECT migrate.revision('VACUUM;', id => 'ok1');
SELECT migrate.revision('CREATE INDEX CONCURRENTLY ok_i ON e1 ((1));', id => 'ok1');
SELECT migrate.revision('COPY e1 FROM STDIN;', id => 'ok1');
SELECT migrate.revision('CREATE DATABASE nope;', id => 'ok1');
SELECT migrate.revision(E'$$unterminated', id => 'ok1');

-- Functions that change state cannot be called from a script.
SELECT migrate.revision('SELECT migrate.upgrade();', id => 'reentry1',
                        parents => '{abce3333}');
SELECT migrate.upgrade('reentry1');

-- Other functions
SELECT migrate.graph('png');
SELECT migrate.require('abce3333');
SELECT migrate.require('abcf5555');
SELECT migrate.require('unknown');
SELECT migrate.is_applied(NULL);

-- Nothing changed: the same revisions, the same applied state.
SELECT id FROM migrate.revisions ORDER BY seq;
SELECT revision FROM migrate.applied ORDER BY revision;

DROP EXTENSION migrate;
DROP TABLE e1, e2;
