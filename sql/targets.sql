--
-- The target grammar on a graph with a branch, a merge, branch labels, a
-- second base and a cross-branch dependency:
--
--   aaaa01 (core) - aaaa02 - aaaa03 -+- bbbb01 (feature) - bbbb02 -+- cccc99 (merge)
--                     ^               +- cccc01 - cccc02 ----------+
--                     | depends_on
--   dddd01 (networking) - dddd02
--
CREATE EXTENSION migrate;
SET migrate.report_timing = off;

CREATE FUNCTION rev(id text, parents text[], labels text[] DEFAULT '{}',
                    depends text[] DEFAULT '{}') RETURNS text
LANGUAGE sql AS $$
  SELECT migrate.revision(
    upgrade => format('CREATE TABLE t_%s ();', id),
    downgrade => format('DROP TABLE t_%s;', id),
    message => 'step ' || id, id => id, parents => parents,
    depends_on => depends, branch_labels => labels)
$$;

SELECT rev('aaaa01', '{}', '{core}');
SELECT rev('aaaa02', '{aaaa01}');
SELECT rev('aaaa03', '{aaaa02}');
SELECT rev('bbbb01', '{aaaa03}', '{feature}');
SELECT rev('bbbb02', '{bbbb01}');
SELECT rev('cccc01', '{aaaa03}');
SELECT rev('cccc02', '{cccc01}');
SELECT rev('dddd01', '{}', '{networking}');
SELECT rev('dddd02', '{dddd01}', '{}', '{aaaa02}');

CREATE FUNCTION steps(target text, down boolean DEFAULT false) RETURNS text
LANGUAGE sql AS $$
  SELECT coalesce(string_agg(revision, ' ' ORDER BY step), '(none)')
    FROM migrate.plan(target, down)
$$;

-- Three heads, in registration order.
SELECT * FROM migrate.heads();

-- Every form of target, planned from an empty database.
SELECT steps('heads') AS heads;
SELECT steps('bbbb02') AS full_id;
SELECT steps('bbbb') AS prefix_is_ambiguous;
SELECT steps('cccc02') AS other_branch;
SELECT steps('feature') AS label;
SELECT steps('feature@head') AS label_head;
SELECT steps('aaaa03@head') AS rev_head;
SELECT steps('networking@head') AS with_dependency;
SELECT steps('+2') AS plus_two;
SELECT steps('aaaa02+1') AS rev_plus_one;
SELECT steps('bbbb02-2') AS rev_minus_two;
SELECT steps('base') AS base;
SELECT steps('head');

-- Merge the two branches of core; now "core@head" has one head.
SELECT migrate.merge(ARRAY['bbbb02', 'cccc02'], 'merge feature', 'cccc99');
SELECT * FROM migrate.heads();
SELECT steps('core@head') AS core_head;
-- One step back from a merge unapplies just the merge; stepping further
-- back through it is ambiguous.
SELECT steps('cccc99-1') AS merge_minus_one;
SELECT steps('cccc99-2') AS merge_minus_two;

-- Apply the networking branch; its dependency comes first.
SELECT migrate.upgrade('networking@head');
SELECT migrate.current();

-- Apply everything else.
SELECT migrate.upgrade('heads');
SELECT migrate.current();
SELECT id, applied, is_head, is_current FROM migrate.history;

-- Relative steps from the current revision are ambiguous with two heads.
SELECT migrate.downgrade('-1');

-- A branch's own relative steps.
SELECT steps('networking@-1', true) AS networking_minus_one;

SELECT steps('cccc99-1', true) AS down_from_merge;

-- Downgrade one branch back to its base; the other branches stay.
SELECT steps('feature@base', true) AS feature_base;
SELECT migrate.downgrade('feature@base');
SELECT migrate.current();
SELECT migrate.upgrade('feature@+1');
SELECT migrate.upgrade('feature@head');

-- Downgrading to a revision keeps it and what it needs; revisions that
-- depend on what goes (dddd02 depends on aaaa02) go too.
SELECT steps('aaaa01', true) AS to_aaaa01;
SELECT migrate.downgrade('aaaa01');
SELECT migrate.current();

-- Registration order breaks ties: the same graph registered in another
-- order plans the same parents-first order, with ties in that new order.
SELECT migrate.downgrade('base');
DROP EXTENSION migrate;
CREATE EXTENSION migrate;
SELECT rev('cccc01x', '{}');
SELECT rev('aaaa01x', '{}');
SELECT rev('bbbb01x', '{aaaa01x}');
SELECT rev('cccc02x', '{cccc01x}');
SELECT steps('heads') AS tie_break;

-- Re-registering an unapplied revision on a later parent makes
-- registration order disagree with the graph: the order still puts
-- parents first, going up and going down.
SELECT migrate.revision('CREATE TABLE t_cccc01x ();', 'DROP TABLE t_cccc01x;',
                        'step cccc01x', 'cccc01x', parents => '{bbbb01x}');
SELECT steps('heads') AS reordered_up;
SELECT migrate.upgrade('heads');
SELECT steps('base', true) AS reordered_down;
SELECT id FROM migrate.history;
SELECT migrate.downgrade('base');

DROP EXTENSION migrate;
DROP FUNCTION rev(text, text[], text[], text[]);
DROP FUNCTION steps(text, boolean);
