-- test/pgtap/apply.sql
--
-- Applying revisions: what upgrade(), downgrade(), stamp() and plan() run,
-- in which order, what they record in migrate.applied and migrate.log, and
-- that a failing call leaves nothing behind.
--
-- Scripts count their runs with sequences (ap_runs, ap_down_runs): nextval()
-- is not undone by a rollback, so a count also shows scripts that ran in a
-- call that failed afterwards.  ap_trace records the order scripts ran in.
\ir setup.psql
SELECT plan(128);

CREATE SEQUENCE ap_runs;
CREATE SEQUENCE ap_down_runs;
CREATE TABLE ap_trace (n serial PRIMARY KEY, what text NOT NULL);

CREATE FUNCTION pg_temp.seqval(seq regclass) RETURNS bigint LANGUAGE plpgsql AS $$
DECLARE
    v bigint;
    called boolean;
BEGIN
    EXECUTE format('SELECT last_value, is_called FROM %s', seq) INTO v, called;
    RETURN CASE WHEN called THEN v ELSE 0 END;
END $$;
CREATE FUNCTION pg_temp.applied() RETURNS text LANGUAGE sql AS $$
    SELECT coalesce(string_agg(revision, ',' ORDER BY revision), '') FROM migrate.applied
$$;
CREATE FUNCTION pg_temp.trace_since(after int) RETURNS text[] LANGUAGE sql AS $$
    SELECT coalesce(array_agg(what ORDER BY n), '{}') FROM ap_trace WHERE n > after
$$;
CREATE FUNCTION pg_temp.trace_mark() RETURNS int LANGUAGE sql AS $$
    SELECT coalesce(max(n), 0) FROM ap_trace
$$;
CREATE FUNCTION pg_temp.log_mark() RETURNS bigint LANGUAGE sql AS $$
    SELECT coalesce(max(id), 0) FROM migrate.log
$$;
-- One script that records itself: runs counter, trace row, optional table.
CREATE FUNCTION pg_temp.up(name text, make_table boolean DEFAULT true) RETURNS text LANGUAGE sql AS $$
    SELECT format('SELECT nextval(''ap_runs''); INSERT INTO ap_trace (what) VALUES (%L);', 'up ' || name)
        || CASE WHEN make_table THEN format(' CREATE TABLE %I (a int);', 'ap_' || name) ELSE '' END
$$;
CREATE FUNCTION pg_temp.down(name text, drop_table boolean DEFAULT true) RETURNS text LANGUAGE sql AS $$
    SELECT format('SELECT nextval(''ap_down_runs''); INSERT INTO ap_trace (what) VALUES (%L);', 'down ' || name)
        || CASE WHEN drop_table THEN format(' DROP TABLE %I;', 'ap_' || name) ELSE '' END
$$;

-- ---------------------------------------------------------------------
-- 1. stamp: the applied state moves, no script runs
-- ---------------------------------------------------------------------
SELECT is(migrate.revision(pg_temp.up('st1'), pg_temp.down('st1'), 'stamp one', 'st1'), 'st1', 'register st1');
SELECT is(migrate.revision(pg_temp.up('st2'), pg_temp.down('st2'), 'stamp two', 'st2'), 'st2', 'register st2');
SELECT is(migrate.revision(pg_temp.up('st3'), pg_temp.down('st3'), 'stamp three', 'st3'), 'st3', 'register st3');

SELECT pg_temp.log_mark() AS mark \gset
SELECT is(migrate.stamp('st2'), 'st2', 'stamp(st2) returns the new current revision');
SELECT is(pg_temp.applied(), 'st1,st2', 'stamp(st2) marks st2 and its ancestor applied');
SELECT is(pg_temp.seqval('ap_runs'), 0::bigint, 'stamp ran no upgrade script');
SELECT hasnt_table('ap_st1', 'stamp did not create the table of st1');
SELECT hasnt_table('ap_st2', 'stamp did not create the table of st2');
SELECT results_eq(
    format($$SELECT action, revision, direction FROM migrate.log WHERE id > %s ORDER BY id$$, :'mark'),
    $$VALUES ('stamp', 'st1', 'up'), ('stamp', 'st2', 'up')$$,
    'stamp logs one (stamp, revision, up) row per revision, parents first');
SELECT is((SELECT checksum FROM migrate.applied WHERE revision = 'st2'),
          (SELECT checksum FROM migrate.revisions WHERE id = 'st2'),
    'a stamped revision records its checksum');

SELECT is(migrate.upgrade(), 'st3', 'upgrade after a stamp');
SELECT is(pg_temp.seqval('ap_runs'), 1::bigint, 'only the unstamped revision ran');
SELECT has_table('ap_st3', 'st3 ran');
SELECT hasnt_table('ap_st2', 'the stamped revision did not run');

SELECT pg_temp.log_mark() AS mark \gset
SELECT is(migrate.stamp('base'), NULL, 'stamp(base) returns NULL');
SELECT is(pg_temp.applied(), '', 'stamp(base) clears the applied state');
SELECT is(pg_temp.seqval('ap_down_runs'), 0::bigint, 'stamp(base) ran no downgrade script');
SELECT has_table('ap_st3', 'stamp(base) did not drop the table of st3');
SELECT results_eq(
    format($$SELECT action, revision, direction FROM migrate.log WHERE id > %s ORDER BY id$$, :'mark'),
    $$VALUES ('stamp', 'st3', 'down'), ('stamp', 'st2', 'down'), ('stamp', 'st1', 'down')$$,
    'stamp(base) logs (stamp, revision, down) rows, children first');
SELECT is(migrate.current(), NULL, 'current() is NULL after stamp(base)');
DROP TABLE ap_st3;
SELECT is(migrate.stamp('st3'), 'st3', 'stamp(head revision) marks the whole chain');
SELECT is(pg_temp.applied(), 'st1,st2,st3', 'all three marked');
SELECT is(pg_temp.seqval('ap_runs'), 1::bigint, 'still no script run by stamp');
SELECT is(migrate.stamp('st3'), 'st3', 'stamping the current state again is a no-op');
SELECT is((SELECT count(*) FROM migrate.log WHERE action = 'stamp' AND revision = 'st3' AND direction = 'up'),
    1::bigint, 'the repeated stamp logged nothing');

-- ---------------------------------------------------------------------
-- 2. upgrade, plan, log and applied rows
-- ---------------------------------------------------------------------
ALTER SEQUENCE ap_runs RESTART;   -- counts from 0 again
SELECT is(migrate.revision(pg_temp.up('a1'), pg_temp.down('a1'), 'add a1', 'a1', '{}'), 'a1', 'register a1 (new base)');
SELECT is(migrate.revision(pg_temp.up('a2'), pg_temp.down('a2'), 'add a2', 'a2', ARRAY['a1']), 'a2', 'register a2');

SELECT pg_temp.log_mark() AS mark \gset
SELECT results_eq(
    $$SELECT step, direction, revision, message, script FROM migrate.plan('a2')$$,
    format($$VALUES (1, 'upgrade', 'a1', 'add a1', %L), (2, 'upgrade', 'a2', 'add a2', %L)$$,
           pg_temp.up('a1'), pg_temp.up('a2')),
    'plan(a2): numbered upgrade steps with messages and upgrade scripts');
SELECT is(pg_temp.seqval('ap_runs'), 0::bigint, 'plan() ran no script');
SELECT is(pg_temp.applied(), 'st1,st2,st3', 'plan() applied nothing');
SELECT is(pg_temp.log_mark(), :'mark'::bigint, 'plan() logged nothing');
SELECT hasnt_table('ap_a1', 'plan() created nothing');

SELECT migrate.upgrade('a2') AS ret \gset
SELECT is(:'ret'::text, migrate.current(), 'upgrade() returns current()');
SELECT is(:'ret'::text, 'a2,st3', 'current() lists both applied heads, sorted by id');
SELECT is(pg_temp.seqval('ap_runs'), 2::bigint, 'upgrade(a2) ran two scripts');
SELECT has_table('ap_a1', 'a1 ran');
SELECT has_table('ap_a2', 'a2 ran');
SELECT results_eq(
    format($$SELECT action, revision, direction, success, role FROM migrate.log WHERE id > %s ORDER BY id$$, :'mark'),
    $$VALUES ('upgrade', 'a1', 'up', true, current_user::name), ('upgrade', 'a2', 'up', true, current_user::name)$$,
    'upgrade logs (upgrade, revision, up) rows in the order applied');
SELECT ok((SELECT bool_and(finished_at >= started_at AND duration IS NOT NULL AND sqlstate IS NULL AND error IS NULL)
           FROM migrate.log WHERE id > :'mark'::bigint),
    'log rows of a successful upgrade have times, a duration and no error');
SELECT results_eq(
    $$SELECT a.revision, a.applied_by, a.checksum = r.checksum, a.duration IS NOT NULL, a.applied_at IS NOT NULL
      FROM migrate.applied a JOIN migrate.revisions r ON r.id = a.revision
      WHERE a.revision IN ('a1', 'a2') ORDER BY a.revision$$,
    $$VALUES ('a1', current_user::name, true, true, true), ('a2', current_user::name, true, true, true)$$,
    'migrate.applied rows: who, the checksum applied, a duration, a time');

SELECT is(migrate.upgrade('a2'), 'a2,st3', 'upgrading to an applied revision is a no-op');
SELECT is(pg_temp.seqval('ap_runs'), 2::bigint, 'the no-op ran no script: each script ran once');
SELECT is((SELECT count(*) FROM migrate.log WHERE revision = 'a2'), 1::bigint, 'the no-op logged nothing');
SELECT is_empty($$SELECT * FROM migrate.plan('a2')$$, 'plan() of an applied target is empty');

SELECT pg_temp.log_mark() AS mark \gset
SELECT results_eq(
    $$SELECT step, direction, revision, message, script FROM migrate.plan('a1', true)$$,
    format($$VALUES (1, 'downgrade', 'a2', 'add a2', %L)$$, pg_temp.down('a2')),
    'plan(a1, downgrade): a downgrade step with the downgrade script');
SELECT results_eq(
    $$SELECT step, direction, revision FROM migrate.plan(target => 'base', downgrade => true)$$,
    $$VALUES (1, 'downgrade', 'a2'), (2, 'downgrade', 'a1'), (3, 'downgrade', 'st3'),
             (4, 'downgrade', 'st2'), (5, 'downgrade', 'st1')$$,
    'plan(base, downgrade): every applied revision, children first, ties latest registered first');
SELECT is(pg_temp.seqval('ap_down_runs'), 0::bigint, 'plan(downgrade) ran no script');
SELECT migrate.downgrade('a1') AS ret \gset
SELECT is(:'ret'::text, migrate.current(), 'downgrade() returns current()');
SELECT is(:'ret'::text, 'a1,st3', 'downgrade(a1) keeps a1 and the other base');
SELECT hasnt_table('ap_a2', 'the downgrade script of a2 ran');
SELECT has_table('ap_a1', 'a1 stays');
SELECT is(pg_temp.seqval('ap_down_runs'), 1::bigint, 'one downgrade script ran');
SELECT results_eq(
    format($$SELECT action, revision, direction, success FROM migrate.log WHERE id > %s ORDER BY id$$, :'mark'),
    $$VALUES ('downgrade', 'a2', 'down', true)$$,
    'downgrade logs a (downgrade, revision, down) row');
SELECT ok(NOT migrate.is_applied('a2'), 'a2 is no longer applied');

-- ---------------------------------------------------------------------
-- 3. Order: parents and dependencies first, ties by registration order
-- ---------------------------------------------------------------------
-- Registered x, y, z as bases, then x gets z as parent: registration order
-- is no longer a topological order.
SELECT is(migrate.revision(pg_temp.up('x', false), pg_temp.down('x', false), 'x', 'ap_x', '{}'), 'ap_x', 'register ap_x');
SELECT is(migrate.revision(pg_temp.up('y', false), pg_temp.down('y', false), 'y', 'ap_y', '{}'), 'ap_y', 'register ap_y');
SELECT is(migrate.revision(pg_temp.up('z', false), pg_temp.down('z', false), 'z', 'ap_z', '{}'), 'ap_z', 'register ap_z');
SELECT is(migrate.revision(pg_temp.up('x', false), pg_temp.down('x', false), 'x', 'ap_x', ARRAY['ap_z']), 'ap_x',
    're-register the unapplied ap_x under ap_z');
SELECT is(migrate.revision(pg_temp.up('top', false), pg_temp.down('top', false), 'top', 'ap_top', ARRAY['ap_x', 'ap_y']),
    'ap_top', 'register ap_top, merging ap_x and ap_y');
-- w registered before late, then made to depend on it
SELECT is(migrate.revision(pg_temp.up('w', false), pg_temp.down('w', false), 'w', 'ap_w', '{}'), 'ap_w', 'register ap_w');
SELECT is(migrate.revision(pg_temp.up('late', false), pg_temp.down('late', false), 'late', 'ap_late', '{}'), 'ap_late', 'register ap_late');
SELECT is(migrate.revision(pg_temp.up('w', false), pg_temp.down('w', false), 'w', 'ap_w', '{}', ARRAY['ap_late']), 'ap_w',
    're-register the unapplied ap_w depending on ap_late');
SELECT is(migrate.revision(pg_temp.up('v', false), pg_temp.down('v', false), 'v', 'ap_v', ARRAY['ap_top'], ARRAY['ap_w']),
    'ap_v', 'register ap_v under ap_top, depending on ap_w');

SELECT results_eq($$SELECT revision FROM migrate.plan('ap_top')$$,
    ARRAY['ap_y', 'ap_z', 'ap_x', 'ap_top'],
    'parents first even when registered later; ties go to the earliest registered');
SELECT results_eq($$SELECT revision FROM migrate.plan('ap_w')$$,
    ARRAY['ap_late', 'ap_w'], 'a dependency is applied first, even when registered later');
SELECT results_eq($$SELECT revision FROM migrate.plan('ap_v')$$,
    ARRAY['ap_y', 'ap_z', 'ap_x', 'ap_top', 'ap_late', 'ap_w', 'ap_v'],
    'upgrade to ap_v: ancestors and dependencies, transitively, in a deterministic order');

SELECT pg_temp.trace_mark() AS tmark \gset
SELECT is(migrate.upgrade('ap_v'), 'a1,ap_late,ap_v,ap_w,st3', 'upgrade(ap_v) returns the applied heads');
SELECT is(pg_temp.trace_since(:'tmark'::int),
    ARRAY['up y', 'up z', 'up x', 'up top', 'up late', 'up w', 'up v'],
    'the scripts ran in exactly the planned order');

-- downgrade: children and dependents first, ties latest registered first
SELECT results_eq($$SELECT revision FROM migrate.plan('ap_late', true)$$,
    ARRAY[]::text[],
    'downgrading to a dependency leaves what depends on it applied: nothing descends from it');
SELECT results_eq($$SELECT revision FROM migrate.plan('ap_late@base', true)$$,
    ARRAY['ap_v', 'ap_w', 'ap_late'],
    'unapplying a dependency unapplies what depends on it, dependents first');
SELECT results_eq($$SELECT revision FROM migrate.plan('ap_z', true)$$,
    ARRAY['ap_v', 'ap_top', 'ap_x'],
    'downgrade to ap_z: its descendants, children first; the other parent of the merge stays');
SELECT pg_temp.trace_mark() AS tmark \gset
SELECT is(migrate.downgrade('ap_late@base'), 'a1,ap_top,st3', 'downgrade(ap_late@base)');
SELECT is(pg_temp.trace_since(:'tmark'::int), ARRAY['down v', 'down w', 'down late'],
    'the dependent revisions were downgraded first');
SELECT ok(migrate.is_applied('ap_top') AND NOT migrate.is_applied('ap_late'),
    'unrelated revisions stay applied');
SELECT is(migrate.upgrade('ap_v'), 'a1,ap_late,ap_v,ap_w,st3', 'upgrade(ap_v) again');

SELECT pg_temp.trace_mark() AS tmark \gset
SELECT is(migrate.downgrade('ap_z'), 'a1,ap_late,ap_w,ap_y,ap_z,st3', 'downgrade(ap_z)');
SELECT is(pg_temp.trace_since(:'tmark'::int), ARRAY['down v', 'down top', 'down x'],
    'children first, even when the child was registered before its parent');
SELECT is(migrate.upgrade('ap_v'), 'a1,ap_late,ap_v,ap_w,st3', 'upgrade(ap_v) once more');

-- the same graph registered in two orders: the order follows registration
SELECT is(migrate.revision('SELECT 1', 'SELECT 1', '', 'o1_p', '{}'), 'o1_p', 'graph 1: p');
SELECT is(migrate.revision('SELECT 1', 'SELECT 1', '', 'o1_q1', ARRAY['o1_p']), 'o1_q1', 'graph 1: q1');
SELECT is(migrate.revision('SELECT 1', 'SELECT 1', '', 'o1_q2', ARRAY['o1_p']), 'o1_q2', 'graph 1: q2');
SELECT is(migrate.revision('SELECT 1', 'SELECT 1', '', 'o1_r', ARRAY['o1_q1', 'o1_q2']), 'o1_r', 'graph 1: r');
SELECT is(migrate.revision('SELECT 1', 'SELECT 1', '', 'o2_p', '{}'), 'o2_p', 'graph 2: p');
SELECT is(migrate.revision('SELECT 1', 'SELECT 1', '', 'o2_q2', ARRAY['o2_p']), 'o2_q2', 'graph 2: q2 first');
SELECT is(migrate.revision('SELECT 1', 'SELECT 1', '', 'o2_q1', ARRAY['o2_p']), 'o2_q1', 'graph 2: q1');
SELECT is(migrate.revision('SELECT 1', 'SELECT 1', '', 'o2_r', ARRAY['o2_q1', 'o2_q2']), 'o2_r', 'graph 2: r');
SELECT results_eq($$SELECT revision FROM migrate.plan('o1_r')$$,
    ARRAY['o1_p', 'o1_q1', 'o1_q2', 'o1_r'], 'graph 1 upgrades q1 before q2');
SELECT results_eq($$SELECT revision FROM migrate.plan('o2_r')$$,
    ARRAY['o2_p', 'o2_q2', 'o2_q1', 'o2_r'], 'graph 2 upgrades q2 before q1');
SELECT is(migrate.upgrade('o1_r'), 'a1,ap_late,ap_v,ap_w,o1_r,st3', 'upgrade graph 1');
SELECT is(migrate.upgrade('o2_r'), 'a1,ap_late,ap_v,ap_w,o1_r,o2_r,st3', 'upgrade graph 2');
SELECT results_eq($$SELECT revision FROM migrate.plan('o1_p', true)$$,
    ARRAY['o1_r', 'o1_q2', 'o1_q1'], 'graph 1 downgrades q2 before q1');
SELECT results_eq($$SELECT revision FROM migrate.plan('o2_p', true)$$,
    ARRAY['o2_r', 'o2_q1', 'o2_q2'], 'graph 2 downgrades q1 before q2');

-- ---------------------------------------------------------------------
-- 4. A failing script: the whole call is undone
-- ---------------------------------------------------------------------
SELECT is(migrate.revision(pg_temp.up('f1'), pg_temp.down('f1'), 'f1', 'f1', '{}'), 'f1', 'register f1');
SELECT is(migrate.revision(pg_temp.up('f2'), pg_temp.down('f2'), 'f2', 'f2', ARRAY['f1']), 'f2', 'register f2');
SELECT is(migrate.revision(pg_temp.up('f3') || ' SELECT 1/0;', pg_temp.down('f3'), 'f3 fails', 'f3', ARRAY['f2']), 'f3',
    'register f3, whose upgrade fails after creating its table');

SELECT pg_temp.applied() AS applied_before, pg_temp.log_mark() AS mark,
       pg_temp.seqval('ap_runs') AS runs_before, migrate.current() AS current_before \gset
SELECT throws_ok($$SELECT migrate.upgrade('f3')$$, '22012', 'division by zero',
    'the error of the failing script reaches the caller');
SELECT is(pg_temp.seqval('ap_runs'), :'runs_before'::bigint + 3, 'f1, f2 and f3 did start');
SELECT hasnt_table('ap_f1', 'the table of an earlier step of the failed call is gone');
SELECT hasnt_table('ap_f2', 'the table of the second step of the failed call is gone');
SELECT hasnt_table('ap_f3', 'the table the failing script created is gone');
SELECT is(pg_temp.applied(), :'applied_before'::text, 'migrate.applied is unchanged');
SELECT is(pg_temp.log_mark(), :'mark'::bigint, 'migrate.log is unchanged');
SELECT is((SELECT count(*) FROM migrate.log WHERE revision IN ('f1', 'f2', 'f3')), 0::bigint,
    'no log row for any step of the failed call');
SELECT is(migrate.current(), :'current_before'::text, 'current() is unchanged');

SELECT is(migrate.upgrade('f2'), 'a1,ap_late,ap_v,ap_w,f2,o1_r,o2_r,st3', 'the revisions before the failing one apply');
SELECT has_table('ap_f2', 'f2 ran');

-- a downgrade failing half-way
SELECT is(migrate.revision(pg_temp.up('g1'), 'SELECT 1/0', 'g1 cannot go down', 'g1', ARRAY['f2']), 'g1', 'register g1');
SELECT is(migrate.revision(pg_temp.up('g2'), pg_temp.down('g2'), 'g2', 'g2', ARRAY['g1']), 'g2', 'register g2');
SELECT is(migrate.upgrade('g2'), 'a1,ap_late,ap_v,ap_w,g2,o1_r,o2_r,st3', 'upgrade to g2');
SELECT pg_temp.applied() AS applied_before, pg_temp.log_mark() AS mark,
       pg_temp.seqval('ap_down_runs') AS down_before \gset
SELECT throws_ok($$SELECT migrate.downgrade('f2')$$, '22012', 'division by zero',
    'a failing downgrade script raises its error');
SELECT is(pg_temp.seqval('ap_down_runs'), :'down_before'::bigint + 1, 'the downgrade of g2 did run');
SELECT has_table('ap_g2', 'the table g2 dropped is back');
SELECT is(pg_temp.applied(), :'applied_before'::text, 'migrate.applied is unchanged after the failed downgrade');
SELECT is(pg_temp.log_mark(), :'mark'::bigint, 'migrate.log is unchanged after the failed downgrade');

-- ---------------------------------------------------------------------
-- 5. Irreversible revisions: refused before anything runs
-- ---------------------------------------------------------------------
SELECT is(migrate.revision(pg_temp.up('i1'), pg_temp.down('i1'), 'i1', 'i1', '{}'), 'i1', 'register i1');
SELECT is(migrate.revision(pg_temp.up('i2'), NULL, 'i2 is irreversible', 'i2', ARRAY['i1']), 'i2', 'register irreversible i2');
SELECT is(migrate.revision(pg_temp.up('i3'), pg_temp.down('i3'), 'i3', 'i3', ARRAY['i2']), 'i3', 'register i3');
SELECT is((SELECT downgrade FROM migrate.revisions WHERE id = 'i2'), NULL, 'i2 has no downgrade script');
SELECT ok(migrate.upgrade('i3') LIKE '%i3%', 'upgrade to i3');
SELECT pg_temp.applied() AS applied_before, pg_temp.log_mark() AS mark,
       pg_temp.seqval('ap_down_runs') AS down_before \gset
SELECT throws_ok($$SELECT migrate.downgrade('i1')$$, '55000', 'revision "i2" cannot be downgraded',
    'downgrading through an irreversible revision is refused');
SELECT is(pg_temp.seqval('ap_down_runs'), :'down_before'::bigint,
    'no downgrade script ran, not even the one of i3 that comes first');
SELECT throws_ok($$SELECT migrate.downgrade('base')$$, '55000', 'revision "i2" cannot be downgraded',
    'downgrade(base) through an irreversible revision is refused');
SELECT is(pg_temp.seqval('ap_down_runs'), :'down_before'::bigint, 'still no downgrade script ran');
SELECT is(pg_temp.applied(), :'applied_before'::text, 'the refusals changed no applied state');
SELECT is(pg_temp.log_mark(), :'mark'::bigint, 'the refusals logged nothing');
SELECT ok(migrate.downgrade('i2') NOT LIKE '%i3%', 'downgrade to the irreversible revision itself is fine');
SELECT hasnt_table('ap_i3', 'i3 was downgraded');
SELECT ok(migrate.is_applied('i2'), 'i2 stays applied');

SELECT * FROM finish();
ROLLBACK;
