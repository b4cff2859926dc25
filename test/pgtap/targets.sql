-- test/pgtap/targets.sql
--
-- Every target form, on a graph with a branch and (later) a merge, checked
-- with migrate.plan() and with real upgrades and downgrades.
--
--   abcd0001 (A)                       base
--   abcd0002 (B)     parent A          branch point
--   bcde0003 (C)     parent B          label "ui"
--   cdef0004 (D)     parent B          label "feat"
--   cdef0005 (E)     parent D
--   face0006 (M)     parents C, E      merge (registered in phase 2)
--   f00d0007 (N)     parent M          (phase 2)
--
-- Every revision creates table tg_<letter> and its downgrade drops it.
\ir setup.psql
SELECT plan(155);

-- Which tg_* tables exist, and which revisions are applied.
CREATE FUNCTION pg_temp.tg() RETURNS text LANGUAGE sql AS $$
    SELECT coalesce(string_agg(c.relname::text, ',' ORDER BY c.relname), '')
    FROM pg_class c
    WHERE c.relname LIKE 'tg\_%' AND c.relkind = 'r' AND pg_table_is_visible(c.oid)
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
CREATE FUNCTION pg_temp.applied() RETURNS text LANGUAGE sql AS $$
    SELECT coalesce(string_agg(revision, ',' ORDER BY revision), '') FROM migrate.applied
$$;

SELECT is(migrate.revision('CREATE TABLE tg_a ()', 'DROP TABLE tg_a', 'A', 'abcd0001'),
    'abcd0001', 'register abcd0001');
SELECT is(migrate.revision('CREATE TABLE tg_b ()', 'DROP TABLE tg_b', 'B', 'abcd0002'),
    'abcd0002', 'register abcd0002');
SELECT is(migrate.revision('CREATE TABLE tg_c ()', 'DROP TABLE tg_c', 'C', 'bcde0003',
                        ARRAY['abcd0002'], '{}', ARRAY['ui']),
    'bcde0003', 'register bcde0003');
SELECT is(migrate.revision('CREATE TABLE tg_d ()', 'DROP TABLE tg_d', 'D', 'cdef0004',
                        ARRAY['abcd0002'], '{}', ARRAY['feat']),
    'cdef0004', 'register cdef0004');
SELECT is(migrate.revision('CREATE TABLE tg_e ()', 'DROP TABLE tg_e', 'E', 'cdef0005',
                        ARRAY['cdef0004'], '{}', ARRAY['feat_tip']),
    'cdef0005', 'register cdef0005');

-- ---------------------------------------------------------------------
-- Phase 1: nothing applied, two heads (bcde0003, cdef0005)
-- ---------------------------------------------------------------------
SELECT is(migrate.current(), NULL, 'nothing applied yet');

-- names
SELECT results_eq($$SELECT revision FROM migrate.plan('bcde0003')$$,
    ARRAY['abcd0001', 'abcd0002', 'bcde0003'], 'full id: the revision and its ancestors');
SELECT results_eq($$SELECT revision FROM migrate.plan('bcde')$$,
    ARRAY['abcd0001', 'abcd0002', 'bcde0003'], 'unique prefix of 4 characters');
SELECT results_eq($$SELECT revision FROM migrate.plan('cdef0005')$$,
    ARRAY['abcd0001', 'abcd0002', 'cdef0004', 'cdef0005'], 'full id on the other branch');
SELECT throws_ok($$SELECT * FROM migrate.plan('abcd')$$,
    '22023', 'revision prefix "abcd" is ambiguous', 'ambiguous prefix abcd');
SELECT throws_ok($$SELECT * FROM migrate.plan('cdef00')$$,
    '22023', 'revision prefix "cdef00" is ambiguous', 'ambiguous prefix cdef00');
SELECT results_eq($$SELECT revision FROM migrate.plan('cdef0004')$$,
    ARRAY['abcd0001', 'abcd0002', 'cdef0004'], 'full id that is also a prefix of nothing else');
SELECT throws_ok($$SELECT * FROM migrate.plan('abc')$$,
    '22023', 'revision prefix "abc" is ambiguous', 'a 3-character prefix matching two revisions');
SELECT throws_ok($$SELECT * FROM migrate.plan('a')$$,
    '22023', 'revision prefix "a" is ambiguous', 'a 1-character prefix matching two revisions');
-- Any unique prefix, as Alembic takes "alembic upgrade ae1".
SELECT results_eq($$SELECT revision FROM migrate.plan('bcd')$$,
    ARRAY['abcd0001', 'abcd0002', 'bcde0003'], 'unique prefix of 3 characters');
SELECT results_eq($$SELECT revision FROM migrate.plan('b')$$,
    ARRAY['abcd0001', 'abcd0002', 'bcde0003'], 'unique prefix of 1 character');
SELECT is(pg_temp.err_detail($$SELECT * FROM migrate.plan('c')$$),
    'It matches revisions cdef0004, cdef0005.', 'an ambiguous prefix lists the candidates');
SELECT throws_ok($$SELECT * FROM migrate.plan('zzzz')$$,
    '42704', 'revision "zzzz" does not exist', 'a prefix matching nothing');
SELECT results_eq($$SELECT revision FROM migrate.plan('ui')$$,
    ARRAY['abcd0001', 'abcd0002', 'bcde0003'], 'a 2-character branch label is a valid target');
SELECT results_eq($$SELECT revision FROM migrate.plan('feat')$$,
    ARRAY['abcd0001', 'abcd0002', 'cdef0004'], 'branch label: the labelled revision');

-- head, heads, base
SELECT throws_ok($$SELECT * FROM migrate.plan('head')$$,
    '22023', 'target "head" is ambiguous: the revision graph has 2 heads',
    'head with two heads is ambiguous');
SELECT throws_ok($$SELECT * FROM migrate.plan()$$,
    '22023', 'target "head" is ambiguous: the revision graph has 2 heads',
    'plan() defaults to head');
SELECT results_eq($$SELECT revision FROM migrate.plan('heads')$$,
    ARRAY['abcd0001', 'abcd0002', 'bcde0003', 'cdef0004', 'cdef0005'],
    'heads: every head and its ancestors, in registration order');
SELECT is_empty($$SELECT * FROM migrate.plan('base')$$, 'upgrade to base: nothing to do');

-- @head
SELECT results_eq($$SELECT revision FROM migrate.plan('feat@head')$$,
    ARRAY['abcd0001', 'abcd0002', 'cdef0004', 'cdef0005'], 'label@head: the head of the branch');
SELECT results_eq($$SELECT revision FROM migrate.plan('cdef0004@head')$$,
    ARRAY['abcd0001', 'abcd0002', 'cdef0004', 'cdef0005'], 'rev@head: the head above a revision');
SELECT results_eq($$SELECT revision FROM migrate.plan('bcde0003@head')$$,
    ARRAY['abcd0001', 'abcd0002', 'bcde0003'], 'rev@head of a head is the head');
SELECT throws_ok($$SELECT * FROM migrate.plan('abcd0002@head')$$,
    '22023', 'target "abcd0002@head" is ambiguous', 'rev@head above a branch point is ambiguous');
SELECT throws_ok($$SELECT * FROM migrate.plan('abcd0001@head')$$,
    '22023', 'target "abcd0001@head" is ambiguous', 'base@head with two heads is ambiguous');

-- @base is for downgrades only
SELECT throws_ok($$SELECT * FROM migrate.plan('feat@base')$$,
    '22023', 'target "feat@base" can only be used to downgrade', 'plan(up) refuses label@base');
SELECT throws_ok($$SELECT migrate.upgrade('feat@base')$$,
    '22023', 'target "feat@base" can only be used to downgrade', 'upgrade() refuses label@base');
SELECT throws_ok($$SELECT migrate.stamp('feat@base')$$,
    '22023', 'target "feat@base" can only be used to downgrade', 'stamp() refuses label@base');

-- relative from the current revision (nothing applied)
SELECT results_eq($$SELECT revision FROM migrate.plan('+1')$$,
    ARRAY['abcd0001'], '+1 from base: the base revision');
SELECT results_eq($$SELECT revision FROM migrate.plan('+2')$$,
    ARRAY['abcd0001', 'abcd0002'], '+2 from base');
SELECT throws_ok($$SELECT * FROM migrate.plan('+3')$$,
    '22023', 'relative target "+3" is ambiguous', '+3 would step through a branch point');
SELECT throws_ok($$SELECT * FROM migrate.plan('-1', true)$$,
    '22023', 'relative target "-1" goes past the end of the revision graph',
    '-1 with nothing applied goes past base');

-- relative from a revision
SELECT results_eq($$SELECT revision FROM migrate.plan('abcd0001+1')$$,
    ARRAY['abcd0001', 'abcd0002'], 'rev+1');
SELECT throws_ok($$SELECT * FROM migrate.plan('abcd0001+2')$$,
    '22023', 'relative target "abcd0001+2" is ambiguous', 'rev+N through a branch point');
SELECT results_eq($$SELECT revision FROM migrate.plan('cdef0004+1')$$,
    ARRAY['abcd0001', 'abcd0002', 'cdef0004', 'cdef0005'], 'rev+1 along a branch');
SELECT throws_ok($$SELECT * FROM migrate.plan('cdef0005+1')$$,
    '22023', 'relative target "cdef0005+1" goes past the end of the revision graph',
    'rev+1 from a head goes past the end');
SELECT results_eq($$SELECT revision FROM migrate.plan('cdef0005-1')$$,
    ARRAY['abcd0001', 'abcd0002', 'cdef0004'], 'rev-1');
SELECT results_eq($$SELECT revision FROM migrate.plan('cdef0005-2')$$,
    ARRAY['abcd0001', 'abcd0002'], 'rev-2 steps back through the branch point (one parent)');
SELECT results_eq($$SELECT revision FROM migrate.plan('ui-1')$$,
    ARRAY['abcd0001', 'abcd0002'], 'label-1');
SELECT is_empty($$SELECT * FROM migrate.plan('abcd0001-1')$$, 'base revision -1 is base');
SELECT throws_ok($$SELECT * FROM migrate.plan('abcd0001-2')$$,
    '22023', 'relative target "abcd0001-2" goes past the end of the revision graph',
    'rev-N past base');

-- relative within a branch (nothing of it applied)
SELECT results_eq($$SELECT revision FROM migrate.plan('feat@+1')$$,
    ARRAY['abcd0001', 'abcd0002', 'cdef0004'], 'label@+1 with nothing applied: the root of the branch');
SELECT results_eq($$SELECT revision FROM migrate.plan('feat@+2')$$,
    ARRAY['abcd0001', 'abcd0002', 'cdef0004', 'cdef0005'], 'label@+2');
SELECT throws_ok($$SELECT * FROM migrate.plan('feat@+3')$$,
    '22023', 'relative target "feat@+3" goes past the end of the revision graph',
    'label@+N past the head of the branch');
SELECT throws_ok($$SELECT * FROM migrate.plan('feat@-1', true)$$,
    '22023', 'relative target "feat@-1" goes past the end of the revision graph',
    'label@-1 with nothing of the branch applied');

-- plan() runs nothing
SELECT is(pg_temp.tg(), '', 'planning created no table');
SELECT is((SELECT count(*) FROM migrate.log), 0::bigint, 'planning logged nothing');

-- ---------------------------------------------------------------------
-- Real moves on the branched graph
-- ---------------------------------------------------------------------
SELECT is(migrate.upgrade('+2'), 'abcd0002', 'upgrade(+2) returns the new current revision');
SELECT is(pg_temp.tg(), 'tg_a,tg_b', 'upgrade(+2) ran two scripts');
SELECT throws_ok($$SELECT * FROM migrate.plan('+1')$$,
    '22023', 'relative target "+1" is ambiguous', '+1 from a branch point is ambiguous');
SELECT results_eq($$SELECT revision FROM migrate.plan('-1', true)$$,
    ARRAY['abcd0002'], 'plan(-1, downgrade) from abcd0002');
SELECT results_eq($$SELECT revision FROM migrate.plan('-2', true)$$,
    ARRAY['abcd0002', 'abcd0001'], 'plan(-2, downgrade) reaches base');
SELECT throws_ok($$SELECT * FROM migrate.plan('-3', true)$$,
    '22023', 'relative target "-3" goes past the end of the revision graph', '-3 past base');
SELECT is(migrate.downgrade('-1'), 'abcd0001', 'downgrade(-1)');
SELECT is(pg_temp.tg(), 'tg_a', 'downgrade(-1) ran one downgrade script');

SELECT is(migrate.upgrade('ui'), 'bcde0003', 'upgrade to a branch label');
SELECT is(pg_temp.tg(), 'tg_a,tg_b,tg_c', 'upgrade(ui) applied B and C');
SELECT is(migrate.upgrade('feat@+1'), 'bcde0003,cdef0004',
    'upgrade(feat@+1) with nothing of the branch applied: its root');
SELECT is(migrate.upgrade('feat@+1'), 'bcde0003,cdef0005',
    'upgrade(feat@+1) again: one step along the branch');
SELECT is(pg_temp.tg(), 'tg_a,tg_b,tg_c,tg_d,tg_e', 'both branches applied');

-- several current heads
SELECT throws_ok($$SELECT * FROM migrate.plan('-1', true)$$,
    '22023', 'relative target "-1" is ambiguous', '-1 with two current heads is ambiguous');
SELECT throws_ok($$SELECT migrate.downgrade('-1')$$,
    '22023', 'relative target "-1" is ambiguous', 'downgrade(-1) with two current heads');
SELECT throws_ok($$SELECT migrate.upgrade('+1')$$,
    '22023', 'relative target "+1" is ambiguous', 'upgrade(+1) with two current heads');
SELECT is(pg_temp.applied(), 'abcd0001,abcd0002,bcde0003,cdef0004,cdef0005',
    'the refused relative moves changed nothing');

SELECT is(migrate.downgrade('feat@-1'), 'bcde0003,cdef0004', 'downgrade(feat@-1)');
SELECT is(pg_temp.tg(), 'tg_a,tg_b,tg_c,tg_d', 'downgrade(feat@-1) removed E only');
SELECT is(migrate.upgrade('heads'), 'bcde0003,cdef0005', 'upgrade(heads) applies every head');

-- label@base: remove the branch back to its branch point, keep the other one
SELECT results_eq($$SELECT revision FROM migrate.plan('feat@base', true)$$,
    ARRAY['cdef0005', 'cdef0004'], 'plan(feat@base, downgrade): the branch, children first');
SELECT results_eq($$SELECT revision FROM migrate.plan('feat_tip@base', true)$$,
    ARRAY['cdef0005', 'cdef0004'],
    'label@base with the label above the root of its branch: back to the same branch point');
SELECT throws_ok($$SELECT * FROM migrate.plan('ui@base')$$,
    '22023', 'target "ui@base" can only be used to downgrade', 'plan(label@base) refused once applied too');
SELECT is(migrate.downgrade('feat@base'), 'bcde0003', 'downgrade(feat@base)');
SELECT is(pg_temp.tg(), 'tg_a,tg_b,tg_c', 'feat@base removed D and E and kept A, B, C');
SELECT is(pg_temp.applied(), 'abcd0001,abcd0002,bcde0003', 'applied after feat@base');

-- downgrade to a branch point: every applied descendant, children first
SELECT is(migrate.upgrade('cdef0005'), 'bcde0003,cdef0005', 'upgrade the feat branch again');
SELECT results_eq($$SELECT revision FROM migrate.plan('abcd0002', true)$$,
    ARRAY['cdef0005', 'cdef0004', 'bcde0003'],
    'downgrade to the branch point: children first, ties latest registered first');
SELECT is(migrate.downgrade('abcd0002'), 'abcd0002', 'downgrade to the branch point');
SELECT is(pg_temp.tg(), 'tg_a,tg_b', 'both branches removed, the branch point kept');
SELECT throws_ok($$SELECT migrate.downgrade('bcde0003')$$,
    '55000', 'cannot downgrade to revision "bcde0003": it is not applied',
    'downgrade to a revision that is not applied');
SELECT throws_ok($$SELECT migrate.downgrade('feat')$$,
    '55000', 'cannot downgrade to revision "cdef0004": it is not applied',
    'downgrade to a label whose revision is not applied names the revision');

-- ---------------------------------------------------------------------
-- Phase 2: merge the branches, one head again
-- ---------------------------------------------------------------------
SELECT is(migrate.revision('CREATE TABLE tg_m ()', 'DROP TABLE tg_m', 'M', 'face0006',
                        ARRAY['bcde0003', 'cdef0005']),
    'face0006', 'register face0006');
SELECT is(migrate.revision('CREATE TABLE tg_n ()', 'DROP TABLE tg_n', 'N', 'f00d0007'),
    'f00d0007', 'register f00d0007');

SELECT results_eq($$SELECT * FROM migrate.heads()$$, ARRAY['f00d0007'], 'one head after the merge');
SELECT results_eq($$SELECT revision FROM migrate.plan('head')$$,
    ARRAY['bcde0003', 'cdef0004', 'cdef0005', 'face0006', 'f00d0007'],
    'head: every unapplied revision below the head, parents first');
SELECT results_eq($$SELECT revision FROM migrate.plan('face')$$,
    ARRAY['bcde0003', 'cdef0004', 'cdef0005', 'face0006'], 'prefix of the merge');
SELECT results_eq($$SELECT revision FROM migrate.plan('feat@head')$$,
    ARRAY['bcde0003', 'cdef0004', 'cdef0005', 'face0006', 'f00d0007'],
    'label@head goes through the merge to the single head');
SELECT results_eq($$SELECT revision FROM migrate.plan('bcde0003+1')$$,
    ARRAY['bcde0003', 'cdef0004', 'cdef0005', 'face0006'],
    'rev+1 into a merge point (one child)');
SELECT results_eq($$SELECT revision FROM migrate.plan('abcd0002@head')$$,
    ARRAY['bcde0003', 'cdef0004', 'cdef0005', 'face0006', 'f00d0007'],
    'rev@head above a branch point that was merged');
SELECT set_eq($$SELECT revision FROM migrate.plan('face0006-1')$$,
    $$SELECT revision FROM migrate.plan('face0006') EXCEPT SELECT 'face0006'$$,
    'rev-1 from a merge point lands on all its parents');
SELECT throws_ok($$SELECT * FROM migrate.plan('f00d0007-3')$$,
    '22023', 'relative target "f00d0007-3" is ambiguous', 'rev-3 stepping back through a merge point');
SELECT results_eq($$SELECT revision FROM migrate.plan('f00d0007-1')$$,
    ARRAY['bcde0003', 'cdef0004', 'cdef0005', 'face0006'], 'rev-1 onto a merge point');

SELECT is(migrate.upgrade(), 'f00d0007', 'upgrade() defaults to head');
SELECT is(pg_temp.tg(), 'tg_a,tg_b,tg_c,tg_d,tg_e,tg_m,tg_n', 'every script ran');
SELECT is(migrate.upgrade('head'), 'f00d0007', 'upgrade(head) at head is a no-op returning current');
SELECT is((SELECT count(*) FROM migrate.log WHERE revision = 'f00d0007'), 1::bigint,
    'the head was applied once');
SELECT throws_ok($$SELECT * FROM migrate.plan('+1')$$,
    '22023', 'relative target "+1" goes past the end of the revision graph', '+1 at the head');
SELECT throws_ok($$SELECT migrate.upgrade('+5')$$,
    '22023', 'relative target "+5" goes past the end of the revision graph', 'upgrade(+5) at the head');
SELECT throws_ok($$SELECT * FROM migrate.plan('-3', true)$$,
    '22023', 'relative target "-3" is ambiguous', '-3 from the head steps back through the merge');
SELECT results_eq($$SELECT revision FROM migrate.plan('-1', true)$$,
    ARRAY['f00d0007'], '-1 from the head');
SELECT results_eq($$SELECT revision FROM migrate.plan('feat@-1', true)$$,
    ARRAY['f00d0007'], 'label@-1 once the whole branch is applied');
SELECT results_eq($$SELECT revision FROM migrate.plan('bcde0003+1', true)$$,
    ARRAY['f00d0007'], 'rev+1 as a downgrade target');
SELECT results_eq($$SELECT revision FROM migrate.plan('ui', true)$$,
    ARRAY['f00d0007', 'face0006'], 'downgrade to a label keeps the other branch');
SELECT is(migrate.downgrade('-1'), 'face0006', 'downgrade(-1) from the head');
SELECT is(pg_temp.tg(), 'tg_a,tg_b,tg_c,tg_d,tg_e,tg_m', 'downgrade(-1) removed N only');

-- label@base through a merge: the branch and the merge go, the other branch stays
SELECT is(migrate.downgrade('feat@base'), 'bcde0003', 'downgrade(feat@base) after the merge');
SELECT is(pg_temp.tg(), 'tg_a,tg_b,tg_c', 'the feat branch and the merge were removed');
SELECT is(pg_temp.applied(), 'abcd0001,abcd0002,bcde0003', 'the ui branch stays applied');

SELECT is(migrate.upgrade('f00d'), 'f00d0007', 'upgrade to a unique prefix');
SELECT is(migrate.downgrade('base'), NULL, 'downgrade(base) returns NULL');
SELECT is(pg_temp.tg(), '', 'downgrade(base) removed every table');
SELECT is(pg_temp.applied(), '', 'downgrade(base) unapplied everything');
SELECT is(migrate.upgrade('base'), NULL, 'upgrade(base) with nothing applied is a no-op');

-- ---------------------------------------------------------------------
-- Phase 3: a second base, and a revision that depends on the head
-- ---------------------------------------------------------------------
SELECT is(migrate.revision('CREATE TABLE tg_o ()', 'DROP TABLE tg_o', 'O', 'f1ee0008', '{}'),
    'f1ee0008', 'register a second base f1ee0008');
SELECT is(migrate.revision('CREATE TABLE tg_p ()', 'DROP TABLE tg_p', 'P', 'f1ee0009',
                           ARRAY['f1ee0008'], ARRAY['f00d0007']),
    'f1ee0009', 'register f1ee0009, depending on f00d0007');
SELECT throws_ok($$SELECT * FROM migrate.plan('+1')$$,
    '22023', 'relative target "+1" is ambiguous', '+1 from base with two base revisions');
SELECT results_eq($$SELECT revision FROM migrate.plan('f00d0007@head')$$,
    ARRAY['abcd0001', 'abcd0002', 'bcde0003', 'cdef0004', 'cdef0005', 'face0006', 'f00d0007'],
    'rev@head follows parent edges only: a revision depending on it is not on its branch');
SELECT results_eq($$SELECT revision FROM migrate.plan('feat@head')$$,
    ARRAY['abcd0001', 'abcd0002', 'bcde0003', 'cdef0004', 'cdef0005', 'face0006', 'f00d0007'],
    'label@head follows parent edges only');
SELECT results_eq($$SELECT revision FROM migrate.plan('f1ee0009')$$,
    ARRAY['abcd0001', 'abcd0002', 'bcde0003', 'cdef0004', 'cdef0005', 'face0006', 'f00d0007',
          'f1ee0008', 'f1ee0009'],
    'upgrading to a revision applies what it depends on, transitively');
SELECT is(migrate.upgrade('f1ee0009'), 'f00d0007,f1ee0009', 'upgrade(f1ee0009): both applied heads');
SELECT results_eq($$SELECT revision FROM migrate.plan('face0006', true)$$,
    ARRAY['f1ee0009', 'f00d0007'],
    'downgrading below a dependency unapplies the revision that depends on it first');
SELECT is(migrate.downgrade('face0006'), 'f1ee0008,face0006', 'downgrade(face0006)');
SELECT is(pg_temp.tg(), 'tg_a,tg_b,tg_c,tg_d,tg_e,tg_m,tg_o', 'the dependent revision was downgraded');

-- The keywords are matched in any case (no id or label can spell them).
SELECT is((SELECT count(*) FROM migrate.plan('HEADS')), (SELECT count(*) FROM migrate.plan('heads')),
    'HEADS means heads');
SELECT is((SELECT count(*) FROM migrate.plan('Base', true)), (SELECT count(*) FROM migrate.plan('base', true)),
    'Base means base');

-- A list of targets, as current() prints the applied heads: every
-- revision each part names.
SELECT is(migrate.current(), 'f1ee0008,face0006', 'two applied heads before the list targets');
SELECT is(migrate.downgrade('base'), NULL, 'downgrade(base) before the list targets');
SELECT results_eq($$SELECT revision FROM migrate.plan('bcde0003, cdef0004')$$,
    ARRAY['abcd0001', 'abcd0002', 'bcde0003', 'cdef0004'],
    'upgrade to "bcde0003, cdef0004": both, and what they need');
SELECT results_eq($$SELECT revision FROM migrate.plan('ui,feat,bcde0003')$$,
    (SELECT array_agg(revision ORDER BY step) FROM migrate.plan('ui')) ||
    (SELECT array_agg(revision ORDER BY step) FROM migrate.plan('feat') WHERE revision NOT IN
        (SELECT revision FROM migrate.plan('ui'))),
    'labels in a list; a revision named twice counts once');
SELECT is(migrate.stamp('bcde0003,cdef0004'), 'bcde0003,cdef0004', 'stamp a list of revisions');
SELECT is(migrate.stamp(migrate.current()), 'bcde0003,cdef0004', 'stamp(current()) changes nothing');
SELECT is(pg_temp.applied(), 'abcd0001,abcd0002,bcde0003,cdef0004', 'the list stamped both branches');
SELECT throws_ok($$SELECT * FROM migrate.plan('bcde0003,,cdef0004')$$, '22023',
    'invalid target "bcde0003,,cdef0004"', 'an empty part of a list is refused');
SELECT throws_ok($$SELECT * FROM migrate.plan('bcde0003,base')$$, '22023',
    'invalid target "bcde0003,base"', 'base in a list is refused');
SELECT throws_ok($$SELECT * FROM migrate.plan('bcde0003,nope')$$, '42704',
    'revision "nope" does not exist', 'an unknown revision in a list is named');

-- ---------------------------------------------------------------------
-- Phase 4: downgrading to a revision that another revision depends on.
-- Only the target's descendants go, and what depends on one of them; a
-- revision that depends on the target itself stays, as in Alembic.
--
--   dep_a (label dep_lbl) <- dep_c <- dep_d
--   dep_b: a base that depends on dep_a
--   dep_e: a base that depends on dep_c
-- ---------------------------------------------------------------------
SELECT is(migrate.stamp('base'), NULL, 'stamp(base) before phase 4');
SELECT is(migrate.revision('CREATE TABLE tg_da ()', 'DROP TABLE tg_da', 'dA', 'dep_a', '{}', '{}',
                           ARRAY['dep_lbl']), 'dep_a', 'register dep_a');
SELECT is(migrate.revision('CREATE TABLE tg_dc ()', 'DROP TABLE tg_dc', 'dC', 'dep_c', ARRAY['dep_a']),
    'dep_c', 'register dep_c');
SELECT is(migrate.revision('CREATE TABLE tg_dd ()', 'DROP TABLE tg_dd', 'dD', 'dep_d', ARRAY['dep_c']),
    'dep_d', 'register dep_d');
SELECT is(migrate.revision('CREATE TABLE tg_db ()', 'DROP TABLE tg_db', 'dB', 'dep_b', '{}', ARRAY['dep_a']),
    'dep_b', 'register dep_b, depending on dep_a');
SELECT is(migrate.revision('CREATE TABLE tg_de ()', 'DROP TABLE tg_de', 'dE', 'dep_e', '{}', ARRAY['dep_c']),
    'dep_e', 'register dep_e, depending on dep_c');
SELECT is(migrate.upgrade('dep_d,dep_b,dep_e'), 'dep_b,dep_d,dep_e', 'phase 4: all five applied');
SELECT results_eq($$SELECT revision FROM migrate.plan('dep_a', true)$$,
    ARRAY['dep_e', 'dep_d', 'dep_c'],
    'plan(dep_a, true): its descendants and what depends on them, not what depends on dep_a');
SELECT is(migrate.downgrade('dep_a'), 'dep_a,dep_b', 'downgrade(dep_a) keeps dep_b, which depends on dep_a');
SELECT is(pg_temp.tg(), 'tg_da,tg_db', 'the downgrade script of dep_b did not run');
SELECT is(migrate.upgrade('dep_d,dep_e'), 'dep_b,dep_d,dep_e', 'phase 4: applied again');
SELECT results_eq($$SELECT revision FROM migrate.plan('dep_lbl', true)$$,
    ARRAY['dep_e', 'dep_d', 'dep_c'], 'the same through a branch label');
SELECT is(migrate.downgrade('dep_lbl'), 'dep_a,dep_b', 'downgrade(<label>) keeps dep_b');
SELECT is(migrate.upgrade('dep_d,dep_e'), 'dep_b,dep_d,dep_e', 'phase 4: applied once more');
SELECT results_eq($$SELECT revision FROM migrate.plan('dep_d-2', true)$$,
    ARRAY['dep_e', 'dep_d', 'dep_c'], 'the same through a relative target');
SELECT is(migrate.downgrade('dep_d-2'), 'dep_a,dep_b', 'downgrade(<rev>-2) keeps dep_b');
SELECT is(pg_temp.tg(), 'tg_da,tg_db', 'only dep_a and dep_b remain');
SELECT results_eq($$SELECT revision FROM migrate.plan('base', true)$$,
    ARRAY['dep_b', 'dep_a'], 'what depends on a revision still goes down before it');

SELECT * FROM finish();
ROLLBACK;
