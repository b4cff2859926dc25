-- test/pgtap/revision.sql
--
-- Registering revisions with migrate.revision() and migrate.merge():
-- generated and explicit ids, default parents, new bases, merges,
-- depends_on, branch labels, idempotent re-registration, replacing an
-- unapplied revision, the protection of applied revisions, checksums.
\ir setup.psql
SELECT plan(102);

-- ---------------------------------------------------------------------
-- The first revision: random id, a base
-- ---------------------------------------------------------------------
SELECT migrate.revision('CREATE TABLE rv_one (a int)', 'DROP TABLE rv_one', 'first') AS r1 \gset

SELECT matches(:'r1'::text, '^[0-9a-f]{12}$',
    'revision() without id returns 12 random hex digits');
SELECT is((SELECT count(*) FROM migrate.revisions), 1::bigint,
    'one row in migrate.revisions after the first registration');
SELECT is((SELECT parents FROM migrate.revisions WHERE id = :'r1'::text), '{}'::text[],
    'the first revision, registered with parents NULL, is a base');
SELECT is((SELECT upgrade FROM migrate.revisions WHERE id = :'r1'::text), 'CREATE TABLE rv_one (a int)',
    'the upgrade script is stored as given');
SELECT is((SELECT downgrade FROM migrate.revisions WHERE id = :'r1'::text), 'DROP TABLE rv_one',
    'the downgrade script is stored as given');
SELECT is((SELECT message FROM migrate.revisions WHERE id = :'r1'::text), 'first',
    'the message is stored as given');
SELECT is((SELECT depends_on FROM migrate.revisions WHERE id = :'r1'::text), '{}'::text[],
    'depends_on defaults to {}');
SELECT is((SELECT branch_labels FROM migrate.revisions WHERE id = :'r1'::text), '{}'::text[],
    'branch_labels defaults to {}');
SELECT is((SELECT created_by FROM migrate.revisions WHERE id = :'r1'::text), current_user::name,
    'created_by is the registering role');
SELECT isnt((SELECT checksum FROM migrate.revisions WHERE id = :'r1'::text), NULL,
    'a checksum is stored');
SELECT ok(NOT migrate.is_applied(:'r1'::text), 'registering does not apply');
SELECT hasnt_table('rv_one', 'registering runs no script');
SELECT results_eq('SELECT * FROM migrate.heads()', ARRAY[:'r1'::text],
    'the first revision is the single head');

-- ---------------------------------------------------------------------
-- parents NULL: the single head becomes the parent
-- ---------------------------------------------------------------------
SELECT migrate.revision('CREATE TABLE rv_two (a int)', 'DROP TABLE rv_two', 'second') AS r2 \gset

SELECT matches(:'r2'::text, '^[0-9a-f]{12}$', 'second random id has 12 hex digits');
SELECT isnt(:'r2'::text, :'r1'::text, 'two random ids differ');
SELECT is((SELECT parents FROM migrate.revisions WHERE id = :'r2'::text), ARRAY[:'r1'::text],
    'parents NULL: the parent is the single head');
SELECT ok((SELECT seq FROM migrate.revisions WHERE id = :'r2'::text) >
          (SELECT seq FROM migrate.revisions WHERE id = :'r1'::text),
    'seq follows registration order');

-- explicit id
SELECT is(migrate.revision('CREATE TABLE rv_three (a int)', 'DROP TABLE rv_three', 'third', 'rv3'),
    'rv3', 'revision() with an explicit id returns that id');
SELECT is((SELECT parents FROM migrate.revisions WHERE id = 'rv3'), ARRAY[:'r2'::text],
    'explicit id, parents NULL: parent is the single head');
SELECT results_eq('SELECT * FROM migrate.heads()', ARRAY['rv3'],
    'heads() is the new revision');

-- parents '{}': a new base, a second head
SELECT is(migrate.revision('SELECT 2', 'SELECT 2', 'second base', 'rv_base2', '{}'),
    'rv_base2', 'parents {} registers a new base');
SELECT is((SELECT parents FROM migrate.revisions WHERE id = 'rv_base2'), '{}'::text[],
    'the new base has no parent');
SELECT results_eq('SELECT * FROM migrate.heads()', ARRAY['rv3', 'rv_base2'],
    'two heads, in registration order');

-- parents NULL is refused with several heads
SELECT throws_ok($$SELECT migrate.revision('SELECT 3', NULL, '', 'rv_orphan')$$,
    '22023', 'cannot choose a parent for revision "rv_orphan": the revision graph has 2 heads',
    'parents NULL with two heads is refused');
SELECT is((SELECT count(*) FROM migrate.revisions), 4::bigint,
    'the refused revision was not registered');

-- a merge through revision(): parents kept in the order given
SELECT is(migrate.revision('SELECT 4', 'SELECT 4', 'merge by hand', 'rv_m', ARRAY['rv_base2', 'rv3']),
    'rv_m', 'revision() with two parents registers a merge');
SELECT is((SELECT parents FROM migrate.revisions WHERE id = 'rv_m'), ARRAY['rv_base2', 'rv3'],
    'merge parents are stored in the order given');
SELECT results_eq('SELECT * FROM migrate.heads()', ARRAY['rv_m'],
    'after the merge there is a single head');

-- depends_on and branch_labels
SELECT is(migrate.revision('CREATE TABLE rv_lib (a int)', 'DROP TABLE rv_lib', 'library', 'rv_lib',
                           '{}', '{}', ARRAY['lib']),
    'rv_lib', 'a labelled base');
SELECT is((SELECT branch_labels FROM migrate.revisions WHERE id = 'rv_lib'), ARRAY['lib'],
    'branch_labels are stored');
SELECT is(migrate.revision('CREATE TABLE rv_dep (a int)', 'DROP TABLE rv_dep', 'uses lib', 'rv_dep',
                           ARRAY['rv_m'], ARRAY['rv_lib']),
    'rv_dep', 'a revision with depends_on');
SELECT is((SELECT depends_on FROM migrate.revisions WHERE id = 'rv_dep'), ARRAY['rv_lib'],
    'depends_on is stored');
SELECT is((SELECT parents FROM migrate.revisions WHERE id = 'rv_dep'), ARRAY['rv_m'],
    'depends_on is not a parent');
SELECT results_eq('SELECT * FROM migrate.heads()', ARRAY['rv_lib', 'rv_dep'],
    'a dependency does not stop its target from being a head');

-- ---------------------------------------------------------------------
-- merge()
-- ---------------------------------------------------------------------
SELECT is(migrate.merge(NULL, 'join all', 'rv_join'), 'rv_join',
    'merge() returns the id given');
SELECT is((SELECT parents FROM migrate.revisions WHERE id = 'rv_join'), ARRAY['rv_lib', 'rv_dep'],
    'merge(NULL) merges all heads, in registration order');
SELECT is((SELECT upgrade FROM migrate.revisions WHERE id = 'rv_join'), '',
    'a merge has an empty upgrade script');
SELECT is((SELECT downgrade FROM migrate.revisions WHERE id = 'rv_join'), '',
    'a merge has an empty (not NULL) downgrade script');
SELECT is((SELECT message FROM migrate.revisions WHERE id = 'rv_join'), 'join all',
    'merge() stores the message');
SELECT results_eq('SELECT * FROM migrate.heads()', ARRAY['rv_join'],
    'merge() leaves a single head');

SELECT is(migrate.revision('SELECT 5', 'SELECT 5', 'a', 'rv_a'), 'rv_a', 'child a of the merge');
SELECT is(migrate.revision('SELECT 6', 'SELECT 6', 'b', 'rv_b', ARRAY['rv_join']), 'rv_b',
    'child b of the merge');
SELECT migrate.merge(ARRAY['rv_b', 'rv_a']) AS m2 \gset
SELECT matches(:'m2'::text, '^[0-9a-f]{12}$', 'merge() without id gets a random id');
SELECT is((SELECT parents FROM migrate.revisions WHERE id = :'m2'::text), ARRAY['rv_b', 'rv_a'],
    'merge(revisions) uses the revisions given, in the order given');
SELECT is((SELECT message FROM migrate.revisions WHERE id = :'m2'::text), '',
    'merge() message defaults to the empty string');
SELECT is(migrate.revision('SELECT 7', 'SELECT 7', 'after merge', 'rv_tip'), 'rv_tip',
    'a child of the second merge');
SELECT is((SELECT parents FROM migrate.revisions WHERE id = 'rv_tip'), ARRAY[:'m2'::text],
    'parents NULL after a merge: the merge is the parent');

-- ---------------------------------------------------------------------
-- Identical re-registration is a no-op
-- ---------------------------------------------------------------------
SELECT count(*) AS n_before, max(seq) AS seq_before FROM migrate.revisions \gset
SELECT seq AS rv3_seq, checksum AS rv3_sum, created_at AS rv3_created FROM migrate.revisions WHERE id = 'rv3' \gset

SELECT is(migrate.revision('CREATE TABLE rv_three (a int)', 'DROP TABLE rv_three', 'third', 'rv3'),
    'rv3', 're-registering identical content returns the id');
SELECT is(migrate.revision('CREATE TABLE rv_three (a int)', 'DROP TABLE rv_three', 'third', 'rv3',
                           ARRAY[:'r2'::text]),
    'rv3', 're-registering identical content with explicit parents returns the id');
SELECT is((SELECT count(*) FROM migrate.revisions), :'n_before'::bigint,
    'identical re-registration adds no row');
SELECT is((SELECT max(seq) FROM migrate.revisions), :'seq_before'::bigint,
    'identical re-registration does not move max(seq)');
SELECT is((SELECT seq FROM migrate.revisions WHERE id = 'rv3'), :'rv3_seq'::bigint,
    'identical re-registration keeps the seq of the revision');
SELECT is((SELECT parents FROM migrate.revisions WHERE id = 'rv3'), ARRAY[:'r2'::text],
    'parents NULL on re-registration keeps the registered parents (not the current head)');
SELECT is((SELECT checksum FROM migrate.revisions WHERE id = 'rv3'), :'rv3_sum'::text,
    'identical re-registration keeps the checksum');

-- ---------------------------------------------------------------------
-- Replacing an unapplied revision
-- ---------------------------------------------------------------------
SELECT checksum AS a_sum FROM migrate.revisions WHERE id = 'rv_a' \gset
SELECT is(migrate.revision('SELECT 55', 'SELECT 56', 'a v2', 'rv_a', ARRAY['rv_join']),
    'rv_a', 'new content for an unapplied revision is accepted');
SELECT is((SELECT upgrade || ' / ' || downgrade || ' / ' || message FROM migrate.revisions WHERE id = 'rv_a'),
    'SELECT 55 / SELECT 56 / a v2', 'the new scripts and message replace the old ones');
SELECT isnt((SELECT checksum FROM migrate.revisions WHERE id = 'rv_a'), :'a_sum'::text,
    'the checksum changes with the scripts');
SELECT is((SELECT count(*) FROM migrate.revisions), :'n_before'::bigint,
    'replacing adds no row');

-- the replacement is validated like a new registration
SELECT throws_ok($$SELECT migrate.revision('CREATE TABLE', NULL, 'broken', 'rv_a', ARRAY['rv_join'])$$,
    '42601', 'syntax error at end of input',
    'a replacement with a syntax error is refused');
SELECT throws_ok($$SELECT migrate.revision('SELECT 1', 'VACUUM', 'broken', 'rv_a', ARRAY['rv_join'])$$,
    '0A000', 'VACUUM is not allowed in a migration script',
    'a replacement with a forbidden statement is refused');
SELECT throws_ok($$SELECT migrate.revision('SELECT 1', NULL, 'x', 'rv_a', ARRAY['nope'])$$,
    '42704', 'parent revision "nope" does not exist',
    'a replacement with an unknown parent is refused');
SELECT throws_ok($$SELECT migrate.revision('SELECT 1', NULL, 'x', 'rv_a', ARRAY['rv_join'], ARRAY['nope'])$$,
    '42704', 'dependency revision "nope" does not exist',
    'a replacement with an unknown dependency is refused');
SELECT throws_ok($$SELECT migrate.revision('', '', 'join all', 'rv_join', ARRAY['rv_a'])$$,
    '42P17', 'revision "rv_join" would be part of a cycle',
    'a replacement whose parent descends from it is refused');
SELECT throws_ok($$SELECT migrate.revision('', '', 'join all', 'rv_join', ARRAY['rv_lib', 'rv_dep'], ARRAY['rv_tip'])$$,
    '42P17', 'revision "rv_join" would be part of a cycle',
    'a replacement that depends on its own descendant is refused');
SELECT is((SELECT upgrade || ' / ' || downgrade || ' / ' || message FROM migrate.revisions WHERE id = 'rv_a'),
    'SELECT 55 / SELECT 56 / a v2', 'refused replacements leave the revision as it was');
SELECT is((SELECT parents FROM migrate.revisions WHERE id = 'rv_join'), ARRAY['rv_lib', 'rv_dep'],
    'a refused cycle leaves the parents as they were');

-- new parents for an unapplied revision
SELECT is(migrate.revision('SELECT 6', 'SELECT 6', 'b', 'rv_b', ARRAY['rv_a']), 'rv_b',
    'new parents for an unapplied revision are accepted');
SELECT is((SELECT parents FROM migrate.revisions WHERE id = 'rv_b'), ARRAY['rv_a'],
    'the new parents are stored');

-- ---------------------------------------------------------------------
-- Applied revisions: content frozen, description free
-- ---------------------------------------------------------------------
SELECT is(migrate.upgrade('rv3'), 'rv3', 'upgrade to rv3');
SELECT has_table('rv_three', 'the applied script ran');
SELECT checksum AS rv3_sum FROM migrate.revisions WHERE id = 'rv3' \gset

SELECT throws_ok($$SELECT migrate.revision('CREATE TABLE rv_three (a int, b int)', 'DROP TABLE rv_three', 'third', 'rv3')$$,
    '55000', 'revision "rv3" is applied and cannot be changed',
    'changing the upgrade script of an applied revision is refused');
SELECT throws_ok($$SELECT migrate.revision('CREATE TABLE rv_three (a int)', 'DROP TABLE IF EXISTS rv_three', 'third', 'rv3')$$,
    '55000', 'revision "rv3" is applied and cannot be changed',
    'changing the downgrade script of an applied revision is refused');
SELECT throws_ok($$SELECT migrate.revision('CREATE TABLE rv_three (a int)', NULL, 'third', 'rv3')$$,
    '55000', 'revision "rv3" is applied and cannot be changed',
    'making an applied revision irreversible is refused');
SELECT throws_ok(format($$SELECT migrate.revision('CREATE TABLE rv_three (a int)', 'DROP TABLE rv_three', 'third', 'rv3', ARRAY[%L])$$, :'r1'::text),
    '55000', 'revision "rv3" is applied and cannot be changed',
    'changing the parents of an applied revision is refused');
SELECT throws_ok($$SELECT migrate.revision('CREATE TABLE rv_three (a int)', 'DROP TABLE rv_three', 'third', 'rv3', NULL, ARRAY['rv_base2'])$$,
    '55000', 'revision "rv3" is applied and cannot be changed',
    'changing the depends_on of an applied revision is refused');
SELECT is((SELECT checksum FROM migrate.revisions WHERE id = 'rv3'), :'rv3_sum'::text,
    'refused changes leave the checksum as it was');
SELECT is((SELECT upgrade FROM migrate.revisions WHERE id = 'rv3'), 'CREATE TABLE rv_three (a int)',
    'refused changes leave the script as it was');

SELECT is(migrate.revision('CREATE TABLE rv_three (a int)', 'DROP TABLE rv_three', 'third, reworded', 'rv3'),
    'rv3', 'changing only the message of an applied revision is allowed');
SELECT is((SELECT message FROM migrate.revisions WHERE id = 'rv3'), 'third, reworded',
    'the new message is stored');
SELECT is((SELECT checksum FROM migrate.revisions WHERE id = 'rv3'), :'rv3_sum'::text,
    'the message is not part of the checksum');
SELECT is(migrate.revision('CREATE TABLE rv_three (a int)', 'DROP TABLE rv_three', 'third, reworded', 'rv3',
                           NULL, '{}', ARRAY['three']),
    'rv3', 'changing only the branch labels of an applied revision is allowed');
SELECT is((SELECT branch_labels FROM migrate.revisions WHERE id = 'rv3'), ARRAY['three'],
    'the new branch labels are stored');
SELECT is((SELECT checksum FROM migrate.revisions WHERE id = 'rv3'), :'rv3_sum'::text,
    'branch labels are not part of the checksum');
SELECT ok(migrate.is_applied('rv3'), 'rv3 is still applied after the descriptive changes');
SELECT is((SELECT checksum FROM migrate.applied WHERE revision = 'rv3'), :'rv3_sum'::text,
    'migrate.applied holds the checksum the revision had when applied');
SELECT is_empty('SELECT * FROM migrate.verify()',
    'descriptive changes do not make verify() complain');

-- ---------------------------------------------------------------------
-- Checksums follow the content
-- ---------------------------------------------------------------------
SELECT migrate.revision('SELECT 70', 'SELECT 71', 'c1', 'rv_c1', '{}') AS c1 \gset
SELECT migrate.revision('SELECT 70', 'SELECT 71', 'c2', 'rv_c2', ARRAY['rv_c1']) AS c2 \gset
SELECT migrate.revision('SELECT 70', NULL, 'c3', 'rv_c3', '{}') AS c3 \gset
SELECT migrate.revision('SELECT 70', '', 'c4', 'rv_c4', '{}') AS c4 \gset
SELECT migrate.revision('SELECT 70', 'SELECT 71', 'c5', 'rv_c5', '{}', ARRAY['rv_c1']) AS c5 \gset

SELECT isnt((SELECT checksum FROM migrate.revisions WHERE id = 'rv_c1'),
            (SELECT checksum FROM migrate.revisions WHERE id = 'rv_c2'),
    'same scripts, different parents: different checksums');
SELECT isnt((SELECT checksum FROM migrate.revisions WHERE id = 'rv_c3'),
            (SELECT checksum FROM migrate.revisions WHERE id = 'rv_c4'),
    'downgrade NULL and downgrade empty: different checksums');
SELECT isnt((SELECT checksum FROM migrate.revisions WHERE id = 'rv_c1'),
            (SELECT checksum FROM migrate.revisions WHERE id = 'rv_c5'),
    'same scripts and parents, different depends_on: different checksums');
SELECT checksum AS c5_sum FROM migrate.revisions WHERE id = 'rv_c5' \gset
SELECT is(migrate.revision('SELECT 70', 'SELECT 71', 'c5', 'rv_c5', '{}', '{}'), 'rv_c5',
    'replacing the depends_on of an unapplied revision');
SELECT isnt((SELECT checksum FROM migrate.revisions WHERE id = 'rv_c5'), :'c5_sum'::text,
    'the checksum changes with depends_on');

-- merge() takes targets, and re-registering a merge is a no-op
SELECT is(migrate.merge(ARRAY['rv_c3@head', 'rv_c4'], 'by target', 'rv_mt'), 'rv_mt',
    'merge() of two targets');
SELECT is((SELECT parents FROM migrate.revisions WHERE id = 'rv_mt'), ARRAY['rv_c3', 'rv_c4'],
    'the merge parents are the revisions the targets name');
SELECT count(*) AS n_before, max(seq) AS seq_before FROM migrate.revisions \gset
SELECT is(migrate.merge(ARRAY['rv_c3', 'rv_c4'], 'by target', 'rv_mt'), 'rv_mt',
    're-registering the same merge returns its id');
SELECT is((SELECT count(*) FROM migrate.revisions), :'n_before'::bigint, 'no row added by the repeated merge');
SELECT is((SELECT max(seq) FROM migrate.revisions), :'seq_before'::bigint, 'max(seq) unchanged by the repeated merge');

-- Merging all heads again under the same id keeps the merge's parents.
SELECT lives_ok($$SELECT migrate.revision('SELECT 1', 'SELECT 1', 'side', 'rv_side', '{}')$$,
    'a second base makes two heads');
SELECT is(migrate.merge(NULL, 'join all', 'rv_all'), 'rv_all', 'merge(NULL) joins all heads');
SELECT is(migrate.merge(NULL, 'join all', 'rv_all'), 'rv_all',
    'merge(NULL) again under the same id is a no-op, not "a merge needs at least two revisions"');

-- A made-up id never starts with a branch label: with a label for every
-- two hex digits that no id starts with yet, new random ids all start with
-- the few left (30 of them by chance alone: about never).
CREATE TEMP TABLE rv_pairs AS
    SELECT p FROM (SELECT lpad(to_hex(n), 2, '0') AS p FROM generate_series(0, 255) n) x
     WHERE NOT EXISTS (SELECT FROM migrate.revisions r WHERE left(r.id, 2) = x.p);
SELECT lives_ok($$SELECT migrate.revision('SELECT 1', NULL, 'l', 'rv_lbl' || p, '{}', '{}', ARRAY[p])
                    FROM rv_pairs$$, 'a label for each free pair of hex digits');
SELECT is((SELECT count(*) FROM (SELECT migrate.revision('SELECT 1', NULL, 'random', NULL, '{}') AS id
                                   FROM generate_series(1, 30)) r
            WHERE left(r.id, 2) IN (SELECT p FROM rv_pairs)), 0::bigint,
    'no random id starts with a branch label');

-- A catalog edited by hand so that a label is also a prefix: the name is
-- an error that lists both, never silently the label.
UPDATE migrate.revisions SET branch_labels = '{rv_c}' WHERE id = 'rv_side';
SELECT throws_ok($$SELECT * FROM migrate.plan('rv_c')$$, '22023',
    'target "rv_c" is ambiguous: it is a branch label and a revision prefix',
    'a name that is a label and a prefix is refused');
UPDATE migrate.revisions SET branch_labels = '{}' WHERE id = 'rv_side';

SELECT * FROM finish();
ROLLBACK;
