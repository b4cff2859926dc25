--
-- migrate.run(): one transaction per revision.  A failing revision is
-- rolled back alone, its failure is committed to migrate.log, and the
-- revisions before it stay applied.
--
CREATE EXTENSION migrate;
SET migrate.report_timing = off;

SELECT migrate.revision('CREATE TABLE run_a (id int);', 'DROP TABLE run_a;', 'a', 'run00001');
SELECT migrate.revision('INSERT INTO run_a VALUES (1);', 'DELETE FROM run_a;', 'b', 'run00002');
SELECT migrate.revision($$CREATE TABLE run_c (id int);
                          INSERT INTO run_a VALUES (1 / 0);$$,
                        'DROP TABLE run_c;', 'c fails', 'run00003');
SELECT migrate.revision('CREATE TABLE run_d (id int);', 'DROP TABLE run_d;', 'd', 'run00004');

CALL migrate.run();

-- a and b are committed; c left nothing behind; d never ran.
SELECT migrate.current();
SELECT to_regclass('run_c') IS NULL AS c_rolled_back, (SELECT count(*) FROM run_a) AS rows_in_a;
SELECT action, revision, direction, success, sqlstate, error,
       role = current_user AS by_caller, finished_at >= started_at AS timed
  FROM migrate.log ORDER BY id;

-- Inside a transaction block it refuses, and changes nothing.
BEGIN;
CALL migrate.run();
ROLLBACK;

-- Fixed, the rest goes through; then all the way down with run().
SELECT migrate.revision('CREATE TABLE run_c (id int);', 'DROP TABLE run_c;', 'c', 'run00003');
CALL migrate.run('head');
CALL migrate.run('run00002', true);
SELECT migrate.current();
CALL migrate.run('base', true);
SELECT migrate.current() IS NULL AS nothing_applied;

-- With migrate.restore_point on, a named restore point comes first.
SET migrate.restore_point = on;
SELECT migrate.upgrade('run00001');
CALL migrate.run('run00002');
RESET migrate.restore_point;
SELECT migrate.downgrade('base');

-- Bad arguments are refused as by upgrade().
CALL migrate.run('nosuchrev');
CALL migrate.run(NULL);
CALL migrate.run('head', NULL);

DROP EXTENSION migrate;
