/*-------------------------------------------------------------------------
 *
 * target.c
 *		The target grammar: what "head", "ae1f@head", "-2" and the rest mean
 *		on a given graph.
 *
 *	  head | heads | base
 *	  NAME                     id, label, or unique id prefix (any length)
 *	  NAME@head | NAME@base    the head or the base of NAME's branch
 *	  NAME@+N | NAME@-N        N steps from the applied head of NAME's branch
 *	  +N | -N                  N steps from the current revision
 *	  NAME+N | NAME-N          N steps from NAME
 *
 * Resolution order for a NAME: full id, then branch label, then prefix.
 * The keywords are matched in any case: no id or label can spell them.
 * No SPI here: the caller passes a graph that carries the applied state.
 *
 * IDENTIFICATION
 *	  src/target.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <limits.h>

#include "lib/stringinfo.h"

#include "migrate.h"

/* A position while stepping: a revision index, or BEFORE_BASE. */
#define BEFORE_BASE		(-1)

static void
report_invalid_target(const char *target)
{
	ereport(ERROR,
			errcode(ERRCODE_INVALID_PARAMETER_VALUE),
			errmsg("invalid target \"%s\"", target),
			errdetail("A target is head, heads, base, a revision id or a unique prefix of one, a branch label, <label>@head, <label>@base, +N, -N, <revision>+N or <revision>-N."));
}

static bool
is_name(const char *s, int len)
{
	if (len <= 0 || len > MIGRATE_ID_MAXLEN)
		return false;
	for (int i = 0; i < len; i++)
		if (!(isalnum((unsigned char) s[i]) || s[i] == '_') ||
			IS_HIGHBIT_SET(s[i]))
			return false;
	return true;
}

/* Parse "N" (1 or more) of a relative step; -1 when it is not a number. */
static int
parse_count(const char *s)
{
	long		value = 0;

	if (*s == '\0')
		return -1;
	for (; *s; s++)
	{
		if (*s < '0' || *s > '9')
			return -1;
		value = value * 10 + (*s - '0');
		if (value > INT_MAX)
			return INT_MAX;		/* steps past the end of any graph */
	}
	return value == 0 ? -1 : (int) value;
}

/*
 * Resolve a NAME: an id, a branch label or a unique prefix of any length,
 * in that order, as Alembic takes "alembic upgrade ae1".  Registration
 * keeps labels from looking like prefixes; a catalog where one still does
 * (edited by hand) gets an error naming both, so that nobody's label can
 * capture what an operator typed as a prefix.
 */
int
target_resolve_revision(const MigrateGraph *graph, const char *name)
{
	int			found;
	int			label;
	size_t		len = strlen(name);
	int		   *matches;
	int			nmatches = 0;

	if ((found = graph_find(graph, name)) >= 0)
		return found;
	label = graph_find_label(graph, name);

	/* A label that starts its own revision's id means that revision anyway. */
	matches = palloc(sizeof(int) * Max(graph->nrevs, 1));
	for (int i = 0; i < graph->nrevs; i++)
		if (i != label && strncmp(graph->revs[i].id, name, len) == 0)
			matches[nmatches++] = i;

	if (label >= 0 && nmatches > 0)
		ereport(ERROR,
				errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				errmsg("target \"%s\" is ambiguous: it is a branch label and a revision prefix",
					   name),
				errdetail("\"%s\" is a branch label of revision \"%s\" and a prefix of revisions %s.",
						  name, graph->revs[label].id,
						  graph_id_list(graph, matches, nmatches, true)),
				errhint("Use the full revision id, or rename the branch label."));
	if (label >= 0)
		return label;

	if (nmatches == 0)
		ereport(ERROR,
				errcode(ERRCODE_UNDEFINED_OBJECT),
				errmsg("revision \"%s\" does not exist", name),
				errdetail("No revision id, id prefix or branch label matches \"%s\".",
						  name),
				errhint("SELECT id, message FROM migrate.history lists the revisions."));
	if (nmatches > 1)
		ereport(ERROR,
				errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				errmsg("revision prefix \"%s\" is ambiguous", name),
				errdetail("It matches revisions %s.",
						  graph_id_list(graph, matches, nmatches, true)),
				errhint("Use more characters of the revision id."));
	found = matches[0];
	pfree(matches);
	return found;
}

/*
 * Take "count" steps from "start" along parent edges, forward (towards
 * children) or backward.  Stepping back from a base revision reaches
 * BEFORE_BASE; stepping forward from BEFORE_BASE reaches the graph's single
 * base revision.  A step with several ways to go is refused: the user must
 * name where to go.
 */
static int
step(const MigrateGraph *graph, int start, bool forward, int count,
	 const char *target)
{
	int			node = start;

	for (int taken = 0; taken < count; taken++)
	{
		if (forward && node == BEFORE_BASE)
		{
			int		   *bases = palloc(sizeof(int) * Max(graph->nrevs, 1));
			int			nbases = 0;

			for (int i = 0; i < graph->nrevs; i++)
				if (graph->revs[i].nparents == 0)
					bases[nbases++] = i;
			if (nbases == 0)
				ereport(ERROR,
						errcode(ERRCODE_INVALID_PARAMETER_VALUE),
						errmsg("relative target \"%s\" goes past the end of the revision graph",
							   target),
						errdetail("No revision is registered."));
			if (nbases > 1)
				ereport(ERROR,
						errcode(ERRCODE_INVALID_PARAMETER_VALUE),
						errmsg("relative target \"%s\" is ambiguous", target),
						errdetail("The graph has several base revisions: %s.",
								  graph_id_list(graph, bases, nbases, false)),
						errhint("Name the revision to go to, or use <label>@head."));
			node = bases[0];
		}
		else if (forward)
		{
			const MigrateRevision *rev = &graph->revs[node];

			if (rev->nchildren == 0)
				ereport(ERROR,
						errcode(ERRCODE_INVALID_PARAMETER_VALUE),
						errmsg("relative target \"%s\" goes past the end of the revision graph",
							   target),
						errdetail("Revision \"%s\" is a head: it has no child.",
								  rev->id));
			if (rev->nchildren > 1)
				ereport(ERROR,
						errcode(ERRCODE_INVALID_PARAMETER_VALUE),
						errmsg("relative target \"%s\" is ambiguous", target),
						errdetail("Revision \"%s\" is a branch point with children %s.",
								  rev->id,
								  graph_id_list(graph, rev->children,
												rev->nchildren, false)),
						errhint("Name the revision to go to, or use <label>@head."));
			node = rev->children[0];
		}
		else if (node == BEFORE_BASE)
			ereport(ERROR,
					errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					errmsg("relative target \"%s\" goes past the end of the revision graph",
						   target),
					errdetail("It steps back past base."));
		else
		{
			const MigrateRevision *rev = &graph->revs[node];

			if (rev->nparents > 1)
				ereport(ERROR,
						errcode(ERRCODE_INVALID_PARAMETER_VALUE),
						errmsg("relative target \"%s\" is ambiguous", target),
						errdetail("Revision \"%s\" is a merge point with parents %s.",
								  rev->id,
								  graph_id_list(graph, rev->parents,
												rev->nparents, false)),
						errhint("Name the revision to go to."));
			node = rev->nparents == 0 ? BEFORE_BASE : rev->parents[0];
		}
	}
	return node;
}

/* Where relative steps without a revision start: the single current head. */
static int
current_position(const MigrateGraph *graph, const char *target)
{
	int			n;
	int		   *heads = graph_current_heads(graph, &n);

	if (n == 0)
		return BEFORE_BASE;
	if (n > 1)
		ereport(ERROR,
				errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				errmsg("relative target \"%s\" is ambiguous", target),
				errdetail("The database has several current heads: %s.",
						  graph_id_list(graph, heads, n, true)),
				errhint("Step from a named revision, as in <revision>%s, or from a branch, as in <label>@%s.",
						target, target));
	return heads[0];
}

/*
 * Where "<label>@+N" starts: the applied head within that branch, or
 * BEFORE_BASE when none of the branch is applied.
 */
static int
branch_position(const MigrateGraph *graph, int labelled, const char *target)
{
	bool	   *branch = palloc0(sizeof(bool) * Max(graph->nrevs, 1));
	int		   *heads = palloc(sizeof(int) * Max(graph->nrevs, 1));
	int			n = 0;

	graph_mark_branch(graph, labelled, branch);
	for (int i = 0; i < graph->nrevs; i++)
	{
		const MigrateRevision *rev = &graph->revs[i];
		bool		has_applied_child = false;

		if (!branch[i] || !rev->applied)
			continue;
		for (int j = 0; j < rev->nchildren; j++)
			if (branch[rev->children[j]] && graph->revs[rev->children[j]].applied)
				has_applied_child = true;
		if (!has_applied_child)
			heads[n++] = i;
	}
	if (n > 1)
		ereport(ERROR,
				errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				errmsg("relative target \"%s\" is ambiguous", target),
				errdetail("The branch has several applied heads: %s.",
						  graph_id_list(graph, heads, n, true)),
				errhint("Step from a named revision, as in <revision>+N."));
	if (n == 0)
		return BEFORE_BASE;
	return heads[0];
}

static MigrateTarget *
make_target(MigrateTargetKind kind, int nrevs, const int *revs)
{
	MigrateTarget *t = palloc0(sizeof(MigrateTarget));

	t->kind = kind;
	t->nrevs = nrevs;
	t->revs = palloc(sizeof(int) * Max(nrevs, 1));
	if (nrevs > 0)
		memcpy(t->revs, revs, sizeof(int) * nrevs);
	return t;
}

static MigrateTarget *
position_target(int node)
{
	if (node == BEFORE_BASE)
		return make_target(MIGRATE_TARGET_BASE, 0, NULL);
	return make_target(MIGRATE_TARGET_REVISIONS, 1, &node);
}

/*
 * A relative target.  Stepping back, the last step from a merge point
 * lands on all of its parents (downgrading just the merge), as Alembic's
 * "downgrade -1" does; only stepping further back through it is ambiguous.
 */
static MigrateTarget *
relative_target(const MigrateGraph *graph, int start, bool forward, int count,
				const char *target)
{
	int			node;

	if (forward)
		return position_target(step(graph, start, true, count, target));

	node = step(graph, start, false, count - 1, target);
	if (node != BEFORE_BASE && graph->revs[node].nparents > 1)
		return make_target(MIGRATE_TARGET_REVISIONS, graph->revs[node].nparents,
						   graph->revs[node].parents);
	return position_target(step(graph, node, false, 1, target));
}

/* The single head among the descendants of a revision, along parent edges. */
static int
head_of(const MigrateGraph *graph, int from, const char *target)
{
	bool	   *below = palloc0(sizeof(bool) * Max(graph->nrevs, 1));
	int		   *heads = palloc(sizeof(int) * Max(graph->nrevs, 1));
	int			n = 0;

	graph_mark_descendants(graph, &from, 1, false, below);
	for (int i = 0; i < graph->nrevs; i++)
		if (below[i] && graph->revs[i].nchildren == 0)
			heads[n++] = i;
	if (n > 1)
		ereport(ERROR,
				errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				errmsg("target \"%s\" is ambiguous", target),
				errdetail("The branch of revision \"%s\" has several heads: %s.",
						  graph->revs[from].id,
						  graph_id_list(graph, heads, n, false)),
				errhint("Name one of the heads, or %s.", migrate_merge_advice()));
	return heads[0];
}

/*
 * "a,b": every revision each part names, as migrate.current() lists the
 * applied heads, so that stamp(current()) on one database sets the same
 * state on another.  Each part is a target that names revisions.
 */
static MigrateTarget *
list_target(const MigrateGraph *graph, const char *target)
{
	char	   *copy = pstrdup(target);
	int		   *revs = palloc(sizeof(int) * Max(graph->nrevs, 1));
	bool	   *listed = palloc0(sizeof(bool) * Max(graph->nrevs, 1));
	int			nrevs = 0;
	char	   *part = copy;

	for (;;)
	{
		char	   *comma = strchr(part, ',');
		char	   *end;
		MigrateTarget *one;

		if (comma)
			*comma = '\0';
		while (*part == ' ')
			part++;
		end = part + strlen(part);
		while (end > part && end[-1] == ' ')
			*--end = '\0';
		if (*part == '\0')
			ereport(ERROR,
					errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					errmsg("invalid target \"%s\"", target),
					errdetail("A list of targets has a revision between each pair of commas."));
		one = target_resolve(graph, part);
		if (one->kind != MIGRATE_TARGET_REVISIONS)
			ereport(ERROR,
					errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					errmsg("invalid target \"%s\"", target),
					errdetail("In a list of targets, \"%s\" names no revision.", part),
					errhint("List revisions only, as migrate.current() does."));
		for (int i = 0; i < one->nrevs; i++)
			if (!listed[one->revs[i]])
			{
				listed[one->revs[i]] = true;
				revs[nrevs++] = one->revs[i];
			}
		if (comma == NULL)
			break;
		part = comma + 1;
	}
	return make_target(MIGRATE_TARGET_REVISIONS, nrevs, revs);
}

MigrateTarget *
target_resolve(const MigrateGraph *graph, const char *target)
{
	const char *at;
	const char *sign;
	size_t		len = strlen(target);

	if (strchr(target, ',') != NULL)
		return list_target(graph, target);

	if (pg_strcasecmp(target, "base") == 0)
		return make_target(MIGRATE_TARGET_BASE, 0, NULL);

	if (pg_strcasecmp(target, "heads") == 0)
	{
		int			n;
		int		   *heads = graph_heads(graph, &n);

		if (n == 0)
			return make_target(MIGRATE_TARGET_BASE, 0, NULL);
		return make_target(MIGRATE_TARGET_REVISIONS, n, heads);
	}

	if (pg_strcasecmp(target, "head") == 0)
	{
		int			n;
		int		   *heads = graph_heads(graph, &n);

		if (n == 0)
			return make_target(MIGRATE_TARGET_BASE, 0, NULL);
		if (n > 1)
			ereport(ERROR,
					errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					errmsg("target \"head\" is ambiguous: the revision graph has %d heads", n),
					errdetail("The heads are %s.",
							  graph_id_list(graph, heads, n, false)),
					errhint("Use \"heads\" for all of them, \"<label>@head\" for one branch, or %s.",
							migrate_merge_advice()));
		return make_target(MIGRATE_TARGET_REVISIONS, 1, heads);
	}

	/* +N, -N: from the current revision */
	if (target[0] == '+' || target[0] == '-')
	{
		int			count = parse_count(target + 1);

		if (count < 0)
			report_invalid_target(target);
		return relative_target(graph, current_position(graph, target),
							   target[0] == '+', count, target);
	}

	/* NAME@head, NAME@base, NAME@+N, NAME@-N */
	if ((at = strchr(target, '@')) != NULL)
	{
		char	   *name = pnstrdup(target, at - target);
		const char *suffix = at + 1;
		int			labelled;

		if (!is_name(name, strlen(name)))
			report_invalid_target(target);
		if (pg_strcasecmp(suffix, "head") == 0)
		{
			int			head;

			labelled = target_resolve_revision(graph, name);
			head = head_of(graph, labelled, target);
			return make_target(MIGRATE_TARGET_REVISIONS, 1, &head);
		}
		if (pg_strcasecmp(suffix, "base") == 0)
		{
			labelled = target_resolve_revision(graph, name);
			return make_target(MIGRATE_TARGET_BRANCH_BASE, 1, &labelled);
		}
		if ((suffix[0] == '+' || suffix[0] == '-') &&
			parse_count(suffix + 1) > 0)
		{
			bool		forward = suffix[0] == '+';
			int			count = parse_count(suffix + 1);
			int			from;

			labelled = target_resolve_revision(graph, name);
			from = branch_position(graph, labelled, target);
			if (from == BEFORE_BASE)
			{
				/* None of the branch applied: its first step is its root. */
				if (!forward)
					ereport(ERROR,
							errcode(ERRCODE_INVALID_PARAMETER_VALUE),
							errmsg("relative target \"%s\" goes past the end of the revision graph",
								   target),
							errdetail("No revision of the branch of \"%s\" is applied.",
									  name));
				from = graph_branch_root(graph, labelled);
				count--;
			}
			if (count == 0)
				return position_target(from);
			return relative_target(graph, from, forward, count, target);
		}
		report_invalid_target(target);
	}

	/* NAME+N, NAME-N */
	sign = strpbrk(target, "+-");
	if (sign != NULL)
	{
		char	   *name = pnstrdup(target, sign - target);
		int			count = parse_count(sign + 1);

		if (!is_name(name, strlen(name)) || count < 0)
			report_invalid_target(target);
		return relative_target(graph, target_resolve_revision(graph, name),
							   sign[0] == '+', count, target);
	}

	if (!is_name(target, len))
		report_invalid_target(target);
	{
		int			rev = target_resolve_revision(graph, target);

		return make_target(MIGRATE_TARGET_REVISIONS, 1, &rev);
	}
}

/* <label>@base names no revision to move to: only a downgrade takes it. */
void
target_refuse_branch_base(const MigrateTarget *target, const char *text,
						  const char *funcname)
{
	if (target->kind == MIGRATE_TARGET_BRANCH_BASE)
		ereport(ERROR,
				errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				errmsg("target \"%s\" can only be used to downgrade", text),
				errdetail("migrate.%s() needs a revision to move to.", funcname),
				errhint("Use migrate.downgrade('%s').", text));
}

/*
 * The steps that move the graph to a target, in the order they run: what
 * upgrade(), downgrade(), run() and plan() all start from.  "funcname"
 * names the upgrading call in the error for a <label>@base target.
 */
MigrateSteps *
target_steps(const MigrateGraph *graph, const char *target_text,
			 bool downgrade, const char *funcname)
{
	MigrateTarget *target = target_resolve(graph, target_text);

	if (downgrade)
		return graph_downgrade_steps(graph, target, target_text);
	target_refuse_branch_base(target, target_text, funcname);
	return graph_upgrade_steps(graph, target);
}
