--
-- A realistic session, as a user would type it in psql: register revisions,
-- look at the plan, upgrade, read the history, step down and up, watch a
-- failing revision roll back, stamp, and verify.
--
CREATE EXTENSION migrate;
SET migrate.report_timing = off;

SELECT migrate.current() IS NULL AS nothing_applied;

SELECT migrate.revision(
  upgrade   => $$CREATE TABLE account (
                   id serial PRIMARY KEY,
                   name varchar(50) NOT NULL,
                   description text
                 );$$,
  downgrade => 'DROP TABLE account;',
  message   => 'create account table',
  id        => '1975ea83b712');

SELECT migrate.revision(
  upgrade   => $$ALTER TABLE account ADD COLUMN last_transaction_date timestamp;
                 -- a data migration in the same revision
                 INSERT INTO account (name) VALUES ('first'), ('second');$$,
  downgrade => $$DELETE FROM account WHERE name IN ('first', 'second');
                 ALTER TABLE account DROP COLUMN last_transaction_date;$$,
  message   => 'add a column',
  id        => 'ae1027a6acf');

SELECT migrate.revision(
  upgrade   => $$CREATE FUNCTION account_count() RETURNS bigint
                 LANGUAGE sql AS $f$ SELECT count(*) FROM account $f$;$$,
  downgrade => 'DROP FUNCTION account_count();',
  message   => 'function with; semicolons and $dollar$ quotes',
  id        => '27c6a30d7c24');

SELECT * FROM migrate.heads();
SELECT step, direction, revision, message FROM migrate.plan();

-- Apply everything; one NOTICE per step.
SELECT migrate.upgrade('head');
SELECT account_count();
SELECT id, parents, message, applied, is_head, is_current FROM migrate.history;

-- At head, a second upgrade does nothing.
SELECT migrate.upgrade('head');

-- One step down, one step up.
SELECT migrate.downgrade('-1');
SELECT migrate.upgrade('+1');

-- A revision whose second statement fails: the whole call rolls back.
SELECT migrate.revision(
  upgrade   => $$CREATE TABLE audit (id int);
                 INSERT INTO audit SELECT * FROM no_such_table;$$,
  downgrade => 'DROP TABLE audit;',
  message   => 'broken audit',
  id        => '3f2a9c1b7d4e');
SELECT migrate.upgrade();
SELECT to_regclass('audit') IS NULL AS audit_absent, migrate.current();

-- Fix it (it was never applied, so it may be replaced) and apply.
SELECT migrate.revision(
  upgrade   => 'CREATE TABLE audit (id int);',
  downgrade => 'DROP TABLE audit;',
  message   => 'audit table',
  id        => '3f2a9c1b7d4e');
SELECT migrate.upgrade();

SELECT action, revision, direction, success FROM migrate.log ORDER BY id;

-- Registering the same content again is a no-op.
SELECT migrate.revision(
  upgrade   => 'CREATE TABLE audit (id int);',
  downgrade => 'DROP TABLE audit;',
  message   => 'audit table',
  id        => '3f2a9c1b7d4e');
SELECT count(*) AS revisions FROM migrate.revisions;

-- Back to base, then adopt the existing schema with stamp instead.
SELECT migrate.downgrade('base');
SELECT to_regclass('account') IS NULL AS account_dropped;
CREATE TABLE account (id serial PRIMARY KEY, name varchar(50) NOT NULL,
                      description text, last_transaction_date timestamp);
SELECT migrate.stamp('ae10');
SELECT migrate.current();
SELECT migrate.upgrade();
SELECT * FROM migrate.verify();

SELECT migrate.stamp('base');
SELECT migrate.current() IS NULL AS nothing_applied;

DROP EXTENSION migrate;
DROP TABLE account, audit;
DROP FUNCTION account_count();
