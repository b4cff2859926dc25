/*-------------------------------------------------------------------------
 *
 * funcs.c
 *		The SQL-callable functions of the migrate extension.
 *
 * Each function checks its arguments, connects SPI (catalog.c), takes the
 * migration lock if it changes state, and leaves the work to graph.c,
 * target.c and apply.c.  Results are copied to the caller's memory context
 * before SPI is finished.
 *
 * IDENTIFICATION
 *	  src/funcs.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/htup_details.h"
#include "access/xact.h"
#include "access/xlog.h"
#include "catalog/pg_type.h"
#include "commands/trigger.h"
#include "nodes/parsenodes.h"
#include "executor/spi.h"
#include "fmgr.h"
#include "funcapi.h"
#include "lib/stringinfo.h"
#include "miscadmin.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/memutils.h"
#include "utils/rel.h"
#include "utils/timestamp.h"
#include "utils/tuplestore.h"

#include "migrate.h"

/* ---------------------------------------------------------------------
 * Argument helpers
 * ---------------------------------------------------------------------
 */

static void
reject_null(const char *argname)
{
	ereport(ERROR,
			errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
			errmsg("argument \"%s\" must not be null", argname));
}

/*
 * A text argument of the functions of diff.c, lint.c and nontransactional.c,
 * which name it plainly when it is NULL.
 */
char *
required_text(FunctionCallInfo fcinfo, int argno, const char *argname)
{
	if (PG_ARGISNULL(argno))
		ereport(ERROR,
				errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				errmsg("%s must not be null", argname));
	return text_to_cstring(PG_GETARG_TEXT_PP(argno));
}

static char *
text_arg(FunctionCallInfo fcinfo, int argno, const char *argname)
{
	if (PG_ARGISNULL(argno))
		reject_null(argname);
	return text_to_cstring(PG_GETARG_TEXT_PP(argno));
}

/*
 * A text[] argument as C strings, each checked with validate_id() and
 * listed at most once.  "what" names an element in messages.
 */
static char **
id_array_arg(FunctionCallInfo fcinfo, int argno, const char *argname,
			 const char *what, int *n)
{
	ArrayType  *array;
	Datum	   *elems;
	bool	   *nulls;
	int			nelems;
	char	  **ids;

	if (PG_ARGISNULL(argno))
		reject_null(argname);
	array = PG_GETARG_ARRAYTYPE_P(argno);
	deconstruct_array(array, TEXTOID, -1, false, TYPALIGN_INT,
					  &elems, &nulls, &nelems);
	ids = palloc(sizeof(char *) * Max(nelems, 1));
	for (int i = 0; i < nelems; i++)
	{
		if (nulls[i])
			ereport(ERROR,
					errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
					errmsg("argument \"%s\" must not contain null elements",
						   argname));
		ids[i] = TextDatumGetCString(elems[i]);
		validate_id(ids[i], what);
		for (int j = 0; j < i; j++)
			if (strcmp(ids[i], ids[j]) == 0)
				ereport(ERROR,
						errcode(ERRCODE_INVALID_PARAMETER_VALUE),
						errmsg("%s \"%s\" is listed twice in argument \"%s\"",
							   what, ids[i], argname));
	}
	*n = nelems;
	return ids;
}

/*
 * State-changing calls fail clearly on a standby, and cannot be made from
 * a migration script (the lock is already ours, and the state half-done).
 */
static void
prevent_state_change(const char *funcname)
{
	if (RecoveryInProgress())
		ereport(ERROR,
				errcode(ERRCODE_READ_ONLY_SQL_TRANSACTION),
				errmsg("cannot run migrate.%s() on a standby server", funcname),
				errdetail("The server is in recovery: the migration state can only change on the primary."),
				errhint("Run it on the primary server.  migrate.current(), migrate.is_applied() and migrate.require() work here."));
	if (apply_in_progress)
		ereport(ERROR,
				errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				errmsg("cannot call migrate.%s() from a migration script",
					   funcname),
				errdetail("A migration is being applied in this session."));
}

/* Twelve random hex digits. */
static char *
random_id(void)
{
	uint8		bytes[MIGRATE_RANDOM_ID_LEN / 2];
	char	   *id = palloc(MIGRATE_RANDOM_ID_LEN + 1);

	if (!pg_strong_random(bytes, sizeof(bytes)))
		ereport(ERROR,
				errcode(ERRCODE_INTERNAL_ERROR),
				errmsg("could not generate a random revision id"));
	for (int i = 0; i < (int) sizeof(bytes); i++)
		snprintf(id + 2 * i, 3, "%02x", bytes[i]);
	return id;
}

static bool
same_strings(int na, char **a, int nb, char **b)
{
	if (na != nb)
		return false;
	for (int i = 0; i < na; i++)
		if (strcmp(a[i], b[i]) != 0)
			return false;
	return true;
}

static Datum
cstring_result(MemoryContext cxt, const char *value, FunctionCallInfo fcinfo)
{
	MemoryContext old;
	text	   *result;

	if (value == NULL)
		PG_RETURN_NULL();
	old = MemoryContextSwitchTo(cxt);
	result = cstring_to_text(value);
	MemoryContextSwitchTo(old);
	PG_RETURN_TEXT_P(result);
}

/*
 * Materialized set-returning functions: the tuplestore lives in the
 * query's memory, so it outlives SPI.
 */
Tuplestorestate *
begin_srf(FunctionCallInfo fcinfo, TupleDesc *tupdesc)
{
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	MemoryContext oldcxt;
	Tuplestorestate *store;
	TupleDesc	desc;

	if (rsinfo == NULL || !IsA(rsinfo, ReturnSetInfo) ||
		!(rsinfo->allowedModes & SFRM_Materialize))
		ereport(ERROR,
				errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
				errmsg("set-valued function called in context that cannot accept a set"));

	oldcxt = MemoryContextSwitchTo(rsinfo->econtext->ecxt_per_query_memory);
	if (get_call_result_type(fcinfo, NULL, &desc) != TYPEFUNC_COMPOSITE)
	{
		desc = CreateTemplateTupleDesc(1);
		TupleDescInitEntry(desc, (AttrNumber) 1, "value", TEXTOID, -1, 0);
	}
	desc = BlessTupleDesc(desc);
	store = tuplestore_begin_heap(true, false, work_mem);
	rsinfo->returnMode = SFRM_Materialize;
	rsinfo->setResult = store;
	rsinfo->setDesc = desc;
	MemoryContextSwitchTo(oldcxt);

	*tupdesc = desc;
	return store;
}

static Datum
text_array(int n, char **strings)
{
	Datum	   *elems = palloc(sizeof(Datum) * Max(n, 1));

	for (int i = 0; i < n; i++)
		elems[i] = CStringGetTextDatum(strings[i]);
	return PointerGetDatum(construct_array(elems, n, TEXTOID, -1, false,
										   TYPALIGN_INT));
}

/* ---------------------------------------------------------------------
 * Registering revisions
 * ---------------------------------------------------------------------
 */

typedef struct NewRevision
{
	char	   *id;
	bool		id_given;
	const char *upgrade;
	const char *downgrade;
	const char *message;
	bool		parents_given;
	int			nparents;
	char	  **parents;
	int			ndepends;
	char	  **depends;
	int			nlabels;
	char	  **labels;
	bool		transactional;
} NewRevision;

/* The parent of a revision registered without parents: the single head. */
static void
default_parents(NewRevision *nr)
{
	MigrateGraph *graph = catalog_load_graph(0);
	int			nheads;
	int		   *heads = graph_heads(graph, &nheads);

	if (nheads > 1)
		ereport(ERROR,
				errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				errmsg("cannot choose a parent for revision \"%s\": the revision graph has %d heads",
					   nr->id, nheads),
				errdetail("The heads are %s.",
						  graph_id_list(graph, heads, nheads, false)),
				errhint("Pass parents => ARRAY['<id>'] to pick one, or merge the heads first with migrate.merge()."));
	nr->nparents = nheads;
	nr->parents = palloc(sizeof(char *));
	if (nheads == 1)
		nr->parents[0] = graph->revs[heads[0]].id;
}

/* Would making these the revision's parents and dependencies close a cycle? */
static void
check_no_cycle(const NewRevision *nr)
{
	MigrateGraph *graph = catalog_load_graph(0);
	bool	   *above = palloc0(sizeof(bool) * Max(graph->nrevs, 1));
	int		   *seeds = palloc(sizeof(int) * (nr->nparents + nr->ndepends + 1));
	int			nseeds = 0;
	int			self = graph_find(graph, nr->id);

	for (int i = 0; i < nr->nparents; i++)
		seeds[nseeds++] = graph_find(graph, nr->parents[i]);
	for (int i = 0; i < nr->ndepends; i++)
		seeds[nseeds++] = graph_find(graph, nr->depends[i]);
	graph_mark_ancestors(graph, seeds, nseeds, above);
	if (self >= 0 && above[self])
		ereport(ERROR,
				errcode(ERRCODE_INVALID_OBJECT_DEFINITION),
				errmsg("revision \"%s\" would be part of a cycle", nr->id),
				errdetail("Revision \"%s\" is already an ancestor of the parents or dependencies given.",
						  nr->id),
				errhint("A revision's parents and depends_on must come before it."));
}

/*
 * Register a revision; the caller holds the lock.  Identical content is a
 * no-op; new content replaces an unapplied revision and is refused for an
 * applied one.  Returns the id.
 */
static char *
register_revision(NewRevision *nr)
{
	MigrateRevision old;
	MigrateRevision rev;
	bool		exists = catalog_fetch_revision(nr->id, &old);
	List	   *missing;
	char	   *owner;
	char	   *other;
	char	   *label;
	char	   *checksum;
	List	   *upgrade_stmts;
	List	   *waived;

	/* A made-up id is new, and starts with no branch label. */
	while (!nr->id_given &&
		   (exists || catalog_label_prefix(nr->id, nr->id, &owner) != NULL))
	{
		nr->id = random_id();
		exists = catalog_fetch_revision(nr->id, &old);
	}

	if (!nr->parents_given && exists)
	{
		nr->nparents = old.nparents;
		nr->parents = old.parent_ids;
	}

	/*
	 * Unchanged: what every sync of a project's files meets for all but its
	 * newest revisions.  The scripts were checked when they were registered.
	 */
	if (exists)
	{
		checksum = catalog_checksum(nr->upgrade, nr->downgrade,
									nr->nparents, nr->parents,
									nr->ndepends, nr->depends,
									nr->transactional);
		if (strcmp(checksum, old.checksum) == 0 &&
			strcmp(nr->message, old.message) == 0 &&
			same_strings(nr->nlabels, nr->labels, old.nlabels, old.labels))
			return nr->id;
	}

	/* Syntax and forbidden statements first: they do not depend on the graph. */
	upgrade_stmts = validate_script(nr->upgrade, nr->id, MIGRATE_UP,
									nr->transactional);
	if (nr->downgrade)
		validate_script(nr->downgrade, nr->id, MIGRATE_DOWN, nr->transactional);
	waived = lint_revision(nr->id, nr->upgrade, upgrade_stmts);

	if (!nr->parents_given && !exists)
		default_parents(nr);

	for (int i = 0; i < nr->nparents; i++)
		if (strcmp(nr->parents[i], nr->id) == 0)
			ereport(ERROR,
					errcode(ERRCODE_INVALID_OBJECT_DEFINITION),
					errmsg("revision \"%s\" cannot be its own parent", nr->id));
	for (int i = 0; i < nr->ndepends; i++)
		if (strcmp(nr->depends[i], nr->id) == 0)
			ereport(ERROR,
					errcode(ERRCODE_INVALID_OBJECT_DEFINITION),
					errmsg("revision \"%s\" cannot depend on itself", nr->id));

	checksum = catalog_checksum(nr->upgrade, nr->downgrade,
								nr->nparents, nr->parents,
								nr->ndepends, nr->depends,
								nr->transactional);

	missing = catalog_missing_revisions(nr->nparents, nr->parents);
	if (missing != NIL)
		ereport(ERROR,
				errcode(ERRCODE_UNDEFINED_OBJECT),
				errmsg("parent revision \"%s\" does not exist",
					   (char *) linitial(missing)),
				errdetail("Revision \"%s\" names it as a parent.", nr->id),
				errhint("Register the parent first: parents come before their children."));
	missing = catalog_missing_revisions(nr->ndepends, nr->depends);
	if (missing != NIL)
		ereport(ERROR,
				errcode(ERRCODE_UNDEFINED_OBJECT),
				errmsg("dependency revision \"%s\" does not exist",
					   (char *) linitial(missing)),
				errdetail("Revision \"%s\" names it in depends_on.", nr->id),
				errhint("Register the revision it depends on first."));

	for (int i = 0; i < nr->nlabels; i++)
	{
		if ((owner = catalog_label_owner(nr->labels[i], nr->id)) != NULL)
			ereport(ERROR,
					errcode(ERRCODE_DUPLICATE_OBJECT),
					errmsg("branch label \"%s\" is already used by revision \"%s\"",
						   nr->labels[i], owner),
					errhint("Branch labels name one branch each: choose another label."));
		if ((other = catalog_id_with_prefix(nr->labels[i], nr->id)) != NULL)
		{
			if (strcmp(other, nr->labels[i]) == 0)
				ereport(ERROR,
						errcode(ERRCODE_DUPLICATE_OBJECT),
						errmsg("branch label \"%s\" is already a revision id",
							   nr->labels[i]),
						errhint("A label and a revision id would be the same target: choose another label."));
			ereport(ERROR,
					errcode(ERRCODE_DUPLICATE_OBJECT),
					errmsg("branch label \"%s\" is a prefix of revision id \"%s\"",
						   nr->labels[i], other),
					errdetail("A target \"%s\" could mean the label or that revision.",
							  nr->labels[i]),
					errhint("Choose a label that no revision id starts with."));
		}
	}
	if ((label = catalog_label_prefix(nr->id, nr->id, &owner)) != NULL)
	{
		if (strcmp(label, nr->id) == 0)
			ereport(ERROR,
					errcode(ERRCODE_DUPLICATE_OBJECT),
					errmsg("revision id \"%s\" is already a branch label of revision \"%s\"",
						   nr->id, owner),
					errhint("A label and a revision id would be the same target: choose another id."));
		ereport(ERROR,
				errcode(ERRCODE_DUPLICATE_OBJECT),
				errmsg("revision id \"%s\" starts with branch label \"%s\" of revision \"%s\"",
					   nr->id, label, owner),
				errdetail("A target \"%s\" could mean the label or this revision.", label),
				errhint("Choose an id that does not start with a branch label."));
	}

	memset(&rev, 0, sizeof(rev));
	rev.id = nr->id;
	rev.message = (char *) nr->message;
	rev.nparents = nr->nparents;
	rev.parent_ids = nr->parents;
	rev.ndepends = nr->ndepends;
	rev.depends_ids = nr->depends;
	rev.nlabels = nr->nlabels;
	rev.labels = nr->labels;
	rev.checksum = checksum;
	rev.lint_waived = waived;
	rev.transactional = nr->transactional;

	if (!exists)
	{
		catalog_insert_revision(&rev, nr->upgrade, nr->downgrade);
		return nr->id;
	}

	if (strcmp(rev.checksum, old.checksum) == 0)
	{
		/* Same scripts and edges: at most the description changes. */
		if (strcmp(rev.message, old.message) != 0 ||
			!same_strings(rev.nlabels, rev.labels, old.nlabels, old.labels))
			catalog_update_revision(&rev, nr->upgrade, nr->downgrade);
		return nr->id;
	}

	if (old.applied)
		ereport(ERROR,
				errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				errmsg("revision \"%s\" is applied and cannot be changed",
					   nr->id),
				errdetail("Its scripts, parents or depends_on differ from the registered ones."),
				errhint("Put the change in a new revision, or downgrade revision \"%s\" first.",
						nr->id));

	if (!same_strings(rev.nparents, rev.parent_ids, old.nparents, old.parent_ids) ||
		!same_strings(rev.ndepends, rev.depends_ids, old.ndepends, old.depends_ids))
		check_no_cycle(nr);
	catalog_update_revision(&rev, nr->upgrade, nr->downgrade);
	return nr->id;
}

/*
 * migrate.revision(upgrade text, downgrade text, message text, id text,
 *					parents text[], depends_on text[], branch_labels text[])
 *	RETURNS text
 *
 * Registers a revision (see register_revision) and returns its id.
 */
PG_FUNCTION_INFO_V1(migrate_revision);
Datum
migrate_revision(PG_FUNCTION_ARGS)
{
	MemoryContext callercxt = CurrentMemoryContext;
	NewRevision nr;
	char	   *id;

	memset(&nr, 0, sizeof(nr));
	nr.upgrade = text_arg(fcinfo, 0, "upgrade");
	nr.downgrade = PG_ARGISNULL(1) ? NULL : text_to_cstring(PG_GETARG_TEXT_PP(1));
	nr.message = text_arg(fcinfo, 2, "message");
	nr.id_given = !PG_ARGISNULL(3);
	nr.id = nr.id_given ? text_to_cstring(PG_GETARG_TEXT_PP(3)) : random_id();
	validate_id(nr.id, "revision id");
	nr.parents_given = !PG_ARGISNULL(4);
	if (nr.parents_given)
		nr.parents = id_array_arg(fcinfo, 4, "parents", "revision id",
								  &nr.nparents);
	nr.depends = id_array_arg(fcinfo, 5, "depends_on", "revision id",
							  &nr.ndepends);
	nr.labels = id_array_arg(fcinfo, 6, "branch_labels", "branch label",
							 &nr.nlabels);
	if (PG_ARGISNULL(7))
		reject_null("transactional");
	nr.transactional = PG_GETARG_BOOL(7);

	prevent_state_change("revision");
	catalog_connect();
	catalog_lock();
	id = register_revision(&nr);
	id = MemoryContextStrdup(callercxt, id);
	catalog_disconnect();

	PG_RETURN_TEXT_P(cstring_to_text(id));
}

/*
 * migrate.merge(revisions text[], message text, id text) RETURNS text
 *
 * Registers an empty revision whose parents are the given revisions (any
 * target each, "heads" included), or all heads when revisions is NULL.
 */
PG_FUNCTION_INFO_V1(migrate_merge);
Datum
migrate_merge(PG_FUNCTION_ARGS)
{
	MemoryContext callercxt = CurrentMemoryContext;
	NewRevision nr;
	MigrateGraph *graph;
	bool	   *chosen;
	int		   *order;
	int			nchosen = 0;
	char	   *id;

	memset(&nr, 0, sizeof(nr));
	nr.transactional = true;		/* a merge runs no statement */
	nr.message = text_arg(fcinfo, 1, "message");
	nr.id_given = !PG_ARGISNULL(2);
	nr.id = nr.id_given ? text_to_cstring(PG_GETARG_TEXT_PP(2)) : random_id();
	validate_id(nr.id, "revision id");
	nr.upgrade = "";
	nr.downgrade = "";
	nr.depends = NULL;
	nr.labels = NULL;
	nr.parents_given = true;

	prevent_state_change("merge");
	catalog_connect();
	catalog_lock();
	graph = catalog_load_graph(0);

	chosen = palloc0(sizeof(bool) * Max(graph->nrevs, 1));
	order = palloc(sizeof(int) * Max(graph->nrevs, 1));
	if (PG_ARGISNULL(0) && nr.id_given && graph_find(graph, nr.id) >= 0)
	{
		/* Merging "all heads" again under the same id: keep its parents. */
		const MigrateRevision *merged = &graph->revs[graph_find(graph, nr.id)];

		for (int i = 0; i < merged->nparents; i++)
			order[nchosen++] = merged->parents[i];
	}
	else if (PG_ARGISNULL(0))
	{
		int			n;
		int		   *heads = graph_heads(graph, &n);

		for (int i = 0; i < n; i++)
			if (strcmp(graph->revs[heads[i]].id, nr.id) != 0)
			{
				chosen[heads[i]] = true;
				order[nchosen++] = heads[i];
			}
	}
	else
	{
		Datum	   *elems;
		bool	   *nulls;
		int			nelems;

		deconstruct_array(PG_GETARG_ARRAYTYPE_P(0), TEXTOID, -1, false,
						  TYPALIGN_INT, &elems, &nulls, &nelems);
		for (int i = 0; i < nelems; i++)
		{
			MigrateTarget *target;

			if (nulls[i])
				ereport(ERROR,
						errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
						errmsg("argument \"revisions\" must not contain null elements"));
			target = target_resolve(graph, TextDatumGetCString(elems[i]));
			if (target->kind != MIGRATE_TARGET_REVISIONS)
				ereport(ERROR,
						errcode(ERRCODE_INVALID_PARAMETER_VALUE),
						errmsg("cannot merge target \"%s\"",
							   TextDatumGetCString(elems[i])),
						errdetail("A merge joins revisions; this target names none."));
			for (int j = 0; j < target->nrevs; j++)
				if (!chosen[target->revs[j]])
				{
					chosen[target->revs[j]] = true;
					order[nchosen++] = target->revs[j];
				}
		}
	}

	if (nchosen < 2)
		ereport(ERROR,
				errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				errmsg("a merge needs at least two revisions"),
				nchosen == 1
				? errdetail("Only revision \"%s\" was given or found.",
							graph->revs[order[0]].id)
				: errdetail("The revision graph is empty."),
				PG_ARGISNULL(0)
				? errhint("The graph has a single head: there is nothing to merge.")
				: 0);

	nr.nparents = nchosen;
	nr.parents = palloc(sizeof(char *) * nchosen);
	for (int i = 0; i < nchosen; i++)
		nr.parents[i] = graph->revs[order[i]].id;

	id = register_revision(&nr);
	id = MemoryContextStrdup(callercxt, id);
	catalog_disconnect();

	PG_RETURN_TEXT_P(cstring_to_text(id));
}

/* ---------------------------------------------------------------------
 * Moving the database: upgrade, downgrade, stamp
 * ---------------------------------------------------------------------
 */

static void
refuse_branch_base(const MigrateTarget *target, const char *text,
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
static MigrateSteps *
steps_to(MigrateGraph *graph, const char *target_text, bool downgrade,
		 const char *funcname)
{
	MigrateTarget *target = target_resolve(graph, target_text);

	if (downgrade)
		return graph_downgrade_steps(graph, target, target_text);
	refuse_branch_base(target, target_text, funcname);
	return graph_upgrade_steps(graph, target);
}

/*
 * upgrade(), downgrade() and run() run scripts inside a transaction: a
 * non-transactional revision stops them before it runs, saying what to do.
 */
static void
refuse_nontransactional(const MigrateRevision *rev, const char *funcname,
						bool downgrade)
{
	if (rev->transactional)
		return;
	ereport(ERROR,
			errcode(ERRCODE_ACTIVE_SQL_TRANSACTION),
			errmsg("revision \"%s\" is non-transactional", rev->id),
			errdetail("migrate.%s() runs scripts inside a transaction, and the statements of revision \"%s\" (such as CREATE INDEX CONCURRENTLY) must run outside one.",
					  funcname, rev->id),
			errhint("Apply it with \"pg_migrate %s\", which runs its statements one by one outside a transaction; or run the statements migrate.nontransactional_statements('%s'%s) lists yourself (pg_cron can), then call migrate.nontransactional_finish('%s'%s).",
					downgrade ? "downgrade" : "upgrade", rev->id,
					downgrade ? ", true" : "", rev->id, downgrade ? ", true" : ""));
}

static void
refuse_nontransactional_steps(const MigrateGraph *graph,
							  const MigrateSteps *steps, const char *funcname,
							  bool downgrade)
{
	for (int i = 0; i < steps->nsteps; i++)
		refuse_nontransactional(&graph->revs[steps->revs[i]], funcname, downgrade);
}

/*
 * The common no-op: "head" when the cache says the database is at the
 * single head.  Answered without reading the graph.
 */
static bool
at_cached_head(const char *target, char **current)
{
	List	   *heads;

	if (pg_strcasecmp(target, "head") != 0)
		return false;
	if (!catalog_cached_state(&heads, current))
		return false;
	return list_length(heads) == 1 && *current != NULL &&
		strcmp(linitial(heads), *current) == 0;
}

/* After the steps: record the new state, return the current revision. */
static char *
finish_state_change(MigrateGraph *graph, int nsteps)
{
	List	   *heads;
	char	   *current;

	if (nsteps > 0 || (!XactReadOnly && !catalog_cached_state(&heads, &current)))
		catalog_save_state(graph);
	return graph_current_string(graph);
}

static void
mark_steps(MigrateGraph *graph, const MigrateSteps *steps, bool applied)
{
	for (int i = 0; i < steps->nsteps; i++)
		graph->revs[steps->revs[i]].applied = applied;
}

/*
 * migrate.upgrade(target text DEFAULT 'head') RETURNS text
 *
 * Applies every unapplied revision the target needs, in one deterministic
 * order, and returns migrate.current().
 */
PG_FUNCTION_INFO_V1(migrate_upgrade);
Datum
migrate_upgrade(PG_FUNCTION_ARGS)
{
	MemoryContext callercxt = CurrentMemoryContext;
	char	   *target_text = text_arg(fcinfo, 0, "target");
	char	   *current;
	Datum		result;

	prevent_state_change("upgrade");

	/*
	 * Already at head: what every deploy of every replica asks.  Under READ
	 * COMMITTED the last committed state answers it without the lock; a
	 * transaction with an older snapshot takes the lock, which checks that
	 * its snapshot is not stale.
	 */
	if (!IsolationUsesXactSnapshot() && at_cached_head(target_text, &current))
		PG_RETURN_TEXT_P(cstring_to_text(current));

	catalog_connect();
	catalog_lock();

	if (!at_cached_head(target_text, &current))
	{
		MigrateGraph *graph = catalog_load_graph(0);
		MigrateSteps *steps = steps_to(graph, target_text, false, "upgrade");

		refuse_nontransactional_steps(graph, steps, "upgrade", false);
		apply_steps(graph, steps, MIGRATE_UP);
		mark_steps(graph, steps, true);
		current = finish_state_change(graph, steps->nsteps);
	}

	result = cstring_result(callercxt, current, fcinfo);
	catalog_disconnect();
	return result;
}

/*
 * migrate.downgrade(target text) RETURNS text
 *
 * Unapplies every applied revision that descends from the target (or
 * depends on one that does), children first; returns migrate.current().
 */
PG_FUNCTION_INFO_V1(migrate_downgrade);
Datum
migrate_downgrade(PG_FUNCTION_ARGS)
{
	MemoryContext callercxt = CurrentMemoryContext;
	char	   *target_text = text_arg(fcinfo, 0, "target");
	MigrateGraph *graph;
	MigrateSteps *steps;
	Datum		result;

	prevent_state_change("downgrade");
	catalog_connect();
	catalog_lock();

	graph = catalog_load_graph(0);
	steps = steps_to(graph, target_text, true, "downgrade");
	refuse_nontransactional_steps(graph, steps, "downgrade", true);
	apply_steps(graph, steps, MIGRATE_DOWN);
	mark_steps(graph, steps, false);

	result = cstring_result(callercxt,
							finish_state_change(graph, steps->nsteps), fcinfo);
	catalog_disconnect();
	return result;
}

/*
 * migrate.stamp(target text) RETURNS text
 *
 * Makes the applied state exactly the target and what it needs, running
 * no script: for adopting a database whose schema is already there.
 */
PG_FUNCTION_INFO_V1(migrate_stamp);
Datum
migrate_stamp(PG_FUNCTION_ARGS)
{
	MemoryContext callercxt = CurrentMemoryContext;
	char	   *target_text = text_arg(fcinfo, 0, "target");
	MigrateGraph *graph;
	MigrateTarget *target;
	MigrateSteps *add;
	MigrateSteps *remove;
	Datum		result;

	prevent_state_change("stamp");
	catalog_connect();
	catalog_lock();

	graph = catalog_load_graph(0);
	target = target_resolve(graph, target_text);
	refuse_branch_base(target, target_text, "stamp");
	graph_stamp_sets(graph, target, &add, &remove);
	stamp_steps(graph, remove, MIGRATE_DOWN);
	mark_steps(graph, remove, false);
	stamp_steps(graph, add, MIGRATE_UP);
	mark_steps(graph, add, true);

	result = cstring_result(callercxt,
							finish_state_change(graph,
												add->nsteps + remove->nsteps),
							fcinfo);
	catalog_disconnect();
	return result;
}

/*
 * One step of migrate.run(), in a subtransaction: when its script fails,
 * the step is rolled back, the failure is recorded in migrate.log and
 * committed, and the original error is raised again.
 */
typedef struct OneStep
{
	MigrateGraph *graph;
	MigrateSteps steps;
	MigrateDirection direction;
} OneStep;

static void
apply_one_step(void *arg)
{
	OneStep    *one = (OneStep *) arg;

	apply_steps(one->graph, &one->steps, one->direction);
}

static void
run_one_step(MigrateGraph *graph, int rev, MigrateDirection direction)
{
	TimestampTz started = GetCurrentTimestamp();
	OneStep		one = {graph, {1, &rev}, direction};
	ErrorData  *edata = apply_in_subtransaction(apply_one_step, &one);

	if (edata != NULL)
	{
		catalog_log_failure(direction == MIGRATE_UP ? "upgrade" : "downgrade",
							graph->revs[rev].id, direction, started,
							GetCurrentTimestamp(), edata);
		SPI_commit();
		ReThrowError(edata);
	}
}

/*
 * CALL migrate.run(target text DEFAULT 'head', downgrade boolean DEFAULT false)
 *
 * Like upgrade() (or downgrade()), but commits after each revision, so a
 * long series does not hold one transaction.  Each revision takes the lock
 * in its own transaction; the plan is computed once and computed again only
 * when somebody else changed the state in between.
 */
PG_FUNCTION_INFO_V1(migrate_run);
Datum
migrate_run(PG_FUNCTION_ARGS)
{
	char	   *target_text = text_arg(fcinfo, 0, "target");
	bool		downgrade;
	MigrateDirection direction;
	MemoryContext runcxt;
	MemoryContext stepcxt;
	MigrateGraph *graph = NULL;
	MigrateSteps *steps = NULL;
	int			next = 0;
	int64		expected = -1;

	if (PG_ARGISNULL(1))
		reject_null("downgrade");
	downgrade = PG_GETARG_BOOL(1);
	direction = downgrade ? MIGRATE_DOWN : MIGRATE_UP;

	if (fcinfo->context == NULL || !IsA(fcinfo->context, CallContext) ||
		castNode(CallContext, fcinfo->context)->atomic)
		ereport(ERROR,
				errcode(ERRCODE_ACTIVE_SQL_TRANSACTION),
				errmsg("migrate.run() cannot run inside a transaction block"),
				errdetail("It commits after each revision."),
				errhint("Call it on its own, as CALL migrate.run(...), outside BEGIN and COMMIT; or use SELECT migrate.upgrade(...) to apply everything in the current transaction."));

	prevent_state_change("run");
	if (SPI_connect_ext(SPI_OPT_NONATOMIC) != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect_ext failed");

	/*
	 * Both live across the commits, in the procedure's SPI memory: runcxt
	 * holds the graph and the plan, stepcxt what each revision needs and is
	 * reset after it, so that memory does not grow with the revisions.
	 */
	runcxt = AllocSetContextCreate(CurrentMemoryContext, "migrate run",
								   ALLOCSET_DEFAULT_SIZES);
	stepcxt = AllocSetContextCreate(CurrentMemoryContext, "migrate run step",
									ALLOCSET_DEFAULT_SIZES);
	MemoryContextSwitchTo(stepcxt);
	for (;;)
	{
		int64		changes;

		MemoryContextReset(stepcxt);
		prevent_state_change("run");
		changes = catalog_lock();
		if (graph == NULL || changes != expected)
		{
			MemoryContext oldcxt;

			MemoryContextReset(runcxt);
			oldcxt = MemoryContextSwitchTo(runcxt);
			graph = catalog_load_graph(0);
			steps = steps_to(graph, target_text, downgrade, "run");
			next = 0;
			MemoryContextSwitchTo(oldcxt);
		}
		if (next >= steps->nsteps)
			break;

		/* Those before it stay committed. */
		refuse_nontransactional(&graph->revs[steps->revs[next]], "run", downgrade);
		run_one_step(graph, steps->revs[next], direction);
		graph->revs[steps->revs[next]].applied = !downgrade;
		next++;
		catalog_save_state(graph);
		expected = changes + 1;
		SPI_commit();
	}

	/* SPI_finish() deletes both, and returns to the caller's context. */
	SPI_finish();
	PG_RETURN_VOID();
}

/*
 * migrate.plan(target text DEFAULT 'head', downgrade boolean DEFAULT false)
 *	RETURNS TABLE(step int, direction text, revision text, message text,
 *				  script text)
 *
 * Exactly the steps upgrade() or downgrade() would run now, running
 * nothing.  Takes no lock and writes nothing, so it works on a standby.
 */
PG_FUNCTION_INFO_V1(migrate_plan);
Datum
migrate_plan(PG_FUNCTION_ARGS)
{
	char	   *target_text = text_arg(fcinfo, 0, "target");
	bool		downgrade;
	TupleDesc	tupdesc;
	Tuplestorestate *store;
	MigrateGraph *graph;
	MigrateSteps *steps;
	Datum		direction;

	if (PG_ARGISNULL(1))
		reject_null("downgrade");
	downgrade = PG_GETARG_BOOL(1);
	store = begin_srf(fcinfo, &tupdesc);

	catalog_connect();
	graph = catalog_load_graph(GRAPH_SCRIPTS);
	steps = steps_to(graph, target_text, downgrade, "upgrade");

	/* A plan can have 100,000 steps: the graph's strings go out as they are. */
	direction = CStringGetTextDatum(downgrade ? "downgrade" : "upgrade");
	for (int i = 0; i < steps->nsteps; i++)
	{
		const MigrateRevision *rev = &graph->revs[steps->revs[i]];
		Datum		values[5];
		bool		nulls[5] = {false, false, false, false, false};
		char	   *script = downgrade ? rev->downgrade : rev->upgrade;

		values[0] = Int32GetDatum(i + 1);
		values[1] = direction;
		values[2] = PointerGetDatum(graph_text(rev->id));
		values[3] = PointerGetDatum(graph_text(rev->message));
		values[4] = script ? PointerGetDatum(graph_text(script)) : (Datum) 0;
		nulls[4] = script == NULL;
		tuplestore_putvalues(store, tupdesc, values, nulls);
	}

	catalog_disconnect();
	return (Datum) 0;
}

/* ---------------------------------------------------------------------
 * Where the database is: open to every role, no scripts revealed
 * ---------------------------------------------------------------------
 */

/*
 * migrate.current() RETURNS text
 *
 * The applied heads sorted by id and joined by ",", or NULL.
 */
PG_FUNCTION_INFO_V1(migrate_current);
Datum
migrate_current(PG_FUNCTION_ARGS)
{
	MemoryContext callercxt = CurrentMemoryContext;
	List	   *heads;
	char	   *current;
	Datum		result;

	catalog_connect();
	if (!catalog_cached_state(&heads, &current))
		current = graph_current_string(catalog_load_graph(0));
	result = cstring_result(callercxt, current, fcinfo);
	catalog_disconnect();
	return result;
}

/*
 * migrate.heads() RETURNS SETOF text
 *
 * The graph's heads in registration order.
 */
PG_FUNCTION_INFO_V1(migrate_heads);
Datum
migrate_heads(PG_FUNCTION_ARGS)
{
	TupleDesc	tupdesc;
	Tuplestorestate *store = begin_srf(fcinfo, &tupdesc);
	List	   *heads;
	char	   *current;
	ListCell   *lc;

	catalog_connect();
	if (!catalog_cached_state(&heads, &current))
	{
		MigrateGraph *graph = catalog_load_graph(0);
		int			n;
		int		   *idx = graph_heads(graph, &n);

		heads = NIL;
		for (int i = 0; i < n; i++)
			heads = lappend(heads, graph->revs[idx[i]].id);
	}
	foreach(lc, heads)
	{
		Datum		value = CStringGetTextDatum((char *) lfirst(lc));
		bool		null = false;

		tuplestore_putvalues(store, tupdesc, &value, &null);
	}
	catalog_disconnect();
	return (Datum) 0;
}

/*
 * migrate.is_applied(revision text) RETURNS boolean
 *
 * One index probe: true when the revision (full id) is applied.
 */
PG_FUNCTION_INFO_V1(migrate_is_applied);
Datum
migrate_is_applied(PG_FUNCTION_ARGS)
{
	char	   *id = text_arg(fcinfo, 0, "revision");
	bool		applied;

	catalog_connect();
	applied = catalog_is_applied(id);
	catalog_disconnect();
	PG_RETURN_BOOL(applied);
}

/*
 * migrate.require(revision text) RETURNS void
 *
 * Returns when the revision is applied; otherwise raises an error that
 * says how far behind the database is and what to run.
 */
PG_FUNCTION_INFO_V1(migrate_require);
Datum
migrate_require(PG_FUNCTION_ARGS)
{
	char	   *id = text_arg(fcinfo, 0, "revision");
	MigrateGraph *graph;
	int			wanted;
	char	   *current;
	bool	   *needed;
	int		   *missing;
	int			nmissing = 0;

	catalog_connect();
	if (catalog_is_applied(id))
	{
		catalog_disconnect();
		PG_RETURN_VOID();
	}

	/* The slow path: only taken when the application must refuse to run. */
	graph = catalog_load_graph(0);
	current = graph_current_string(graph);
	wanted = graph_find(graph, id);
	if (wanted < 0)
		ereport(ERROR,
				errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				errmsg("revision \"%s\" is not applied", id),
				errdetail("The database does not know revision \"%s\": it is not registered.  The database is at %s.",
						  id, current ? current : "base"),
				errhint("Register and apply the application's revisions, for example with \"pg_migrate upgrade head\"."));

	needed = palloc0(sizeof(bool) * graph->nrevs);
	missing = palloc(sizeof(int) * graph->nrevs);
	graph_mark_ancestors(graph, &wanted, 1, needed);
	for (int i = 0; i < graph->nrevs; i++)
		if (needed[i] && !graph->revs[i].applied)
			missing[nmissing++] = i;

	ereport(ERROR,
			errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
			errmsg("revision \"%s\" is not applied", id),
			errdetail_plural("The database is at %s and is %d revision behind: %s.",
							 "The database is at %s and is %d revisions behind: %s.",
							 nmissing,
							 current ? current : "base", nmissing,
							 graph_id_list(graph, missing, nmissing, false)),
			errhint("Run SELECT migrate.upgrade('%s');", id));
	PG_RETURN_VOID();			/* not reached */
}

/*
 * migrate.verify() RETURNS TABLE(revision text, problem text)
 *
 * Applied revisions whose content (checksummed anew) changed since they
 * were applied,
 * applied revisions missing from the graph, and unapplied revisions that
 * an applied revision needs.  No rows when all is well.
 */
PG_FUNCTION_INFO_V1(migrate_verify);
Datum
migrate_verify(PG_FUNCTION_ARGS)
{
	TupleDesc	tupdesc;
	Tuplestorestate *store = begin_srf(fcinfo, &tupdesc);
	MigrateGraph *graph;
	bool	   *needed;
	int		   *applied;
	int			napplied = 0;
	List	   *unregistered;
	ListCell   *lc;

	catalog_connect();
	graph = catalog_load_graph(GRAPH_SCRIPTS | GRAPH_CHECKSUMS);
	unregistered = catalog_applied_unregistered();

	needed = palloc0(sizeof(bool) * Max(graph->nrevs, 1));
	applied = palloc(sizeof(int) * Max(graph->nrevs, 1));
	for (int i = 0; i < graph->nrevs; i++)
		if (graph->revs[i].applied)
			applied[napplied++] = i;
	graph_mark_ancestors(graph, applied, napplied, needed);

	for (int i = 0; i < graph->nrevs; i++)
	{
		const MigrateRevision *rev = &graph->revs[i];
		const char *problem = NULL;
		Datum		values[2];
		bool		nulls[2] = {false, false};

		/*
		 * Checksum the content anew: a hand edit of a script need not have
		 * touched the checksum column, and a wrong checksum column would
		 * make registering the same content again look like a change.
		 */
		if (rev->applied)
		{
			char	   *content = catalog_checksum(rev->upgrade, rev->downgrade,
												   rev->nparents, rev->parent_ids,
												   rev->ndepends, rev->depends_ids,
												   rev->transactional);

			if (strcmp(rev->applied_checksum, content) != 0)
				problem = "changed since it was applied: its scripts, parents or depends_on differ from what ran";
			else if (strcmp(rev->checksum, content) != 0)
				problem = "its checksum in migrate.revisions does not match its content";
		}
		if (problem == NULL && needed[i] && !rev->applied)
			problem = "not applied, but an applied revision descends from it or depends on it";
		if (problem == NULL)
			continue;
		values[0] = CStringGetTextDatum(rev->id);
		values[1] = CStringGetTextDatum(problem);
		tuplestore_putvalues(store, tupdesc, values, nulls);
	}
	foreach(lc, unregistered)
	{
		Datum		values[2];
		bool		nulls[2] = {false, false};

		values[0] = CStringGetTextDatum((char *) lfirst(lc));
		values[1] = CStringGetTextDatum("applied, but not registered in migrate.revisions");
		tuplestore_putvalues(store, tupdesc, values, nulls);
	}

	catalog_disconnect();
	return (Datum) 0;
}

/* ---------------------------------------------------------------------
 * Showing the graph
 * ---------------------------------------------------------------------
 */

/* A DOT string literal's contents. */
static void
append_dot_escaped(StringInfo buf, const char *s)
{
	for (; *s; s++)
	{
		if (*s == '"' || *s == '\\')
			appendStringInfoChar(buf, '\\');
		if (*s == '\n')
			appendStringInfoString(buf, "\\n");
		else if (*s != '\r')
			appendStringInfoChar(buf, *s);
	}
}

/* A Mermaid quoted label's contents: quotes as entities, one line. */
static void
append_mermaid_escaped(StringInfo buf, const char *s)
{
	for (; *s; s++)
	{
		if (*s == '"')
			appendStringInfoString(buf, "#quot;");
		else if (*s == '\n' || *s == '\r')
			appendStringInfoChar(buf, ' ');
		else
			appendStringInfoChar(buf, *s);
	}
}

static char *
graph_as_dot(const MigrateGraph *graph, const bool *current)
{
	StringInfoData buf;

	initStringInfo(&buf);
	appendStringInfoString(&buf,
						   "digraph migrate {\n"
						   "  rankdir=BT;\n"
						   "  node [shape=box, style=rounded];\n");
	for (int i = 0; i < graph->nrevs; i++)
	{
		const MigrateRevision *rev = &graph->revs[i];

		appendStringInfo(&buf, "  \"%s\" [label=\"%s", rev->id, rev->id);
		if (rev->message[0])
		{
			appendStringInfoString(&buf, "\\n");
			append_dot_escaped(&buf, rev->message);
		}
		appendStringInfoChar(&buf, '"');
		if (rev->applied)
			appendStringInfoString(&buf, ", style=\"rounded,filled\", fillcolor=\"#c8e6c9\"");
		if (current[i])
			appendStringInfoString(&buf, ", penwidth=3");
		appendStringInfoString(&buf, "];\n");
	}
	for (int i = 0; i < graph->nrevs; i++)
	{
		const MigrateRevision *rev = &graph->revs[i];

		for (int j = 0; j < rev->nparents; j++)
			appendStringInfo(&buf, "  \"%s\" -> \"%s\";\n",
							 rev->id, rev->parent_ids[j]);
		for (int j = 0; j < rev->ndepends; j++)
			appendStringInfo(&buf, "  \"%s\" -> \"%s\" [style=dashed, label=\"depends on\"];\n",
							 rev->id, rev->depends_ids[j]);
	}
	appendStringInfoString(&buf, "}\n");
	return buf.data;
}

static char *
graph_as_mermaid(const MigrateGraph *graph, const bool *current)
{
	StringInfoData buf;

	initStringInfo(&buf);
	appendStringInfoString(&buf, "flowchart BT\n");
	for (int i = 0; i < graph->nrevs; i++)
	{
		const MigrateRevision *rev = &graph->revs[i];

		appendStringInfo(&buf, "  %s[\"%s", rev->id, rev->id);
		if (rev->message[0])
		{
			appendStringInfoString(&buf, ": ");
			append_mermaid_escaped(&buf, rev->message);
		}
		appendStringInfoString(&buf, "\"]\n");
	}
	for (int i = 0; i < graph->nrevs; i++)
	{
		const MigrateRevision *rev = &graph->revs[i];

		for (int j = 0; j < rev->nparents; j++)
			appendStringInfo(&buf, "  %s --> %s\n", rev->id, rev->parent_ids[j]);
		for (int j = 0; j < rev->ndepends; j++)
			appendStringInfo(&buf, "  %s -. depends on .-> %s\n",
							 rev->id, rev->depends_ids[j]);
	}
	for (int i = 0; i < graph->nrevs; i++)
	{
		if (graph->revs[i].applied)
			appendStringInfo(&buf, "  class %s applied\n", graph->revs[i].id);
		if (current[i])
			appendStringInfo(&buf, "  class %s current\n", graph->revs[i].id);
	}
	appendStringInfoString(&buf,
						   "  classDef applied fill:#c8e6c9,stroke:#2e7d32\n"
						   "  classDef current stroke-width:3px\n");
	return buf.data;
}

/*
 * migrate.graph(format text DEFAULT 'dot') RETURNS text
 *
 * The graph as Graphviz DOT or Mermaid; edges point from child to parent,
 * applied revisions are filled, current heads drawn thick.
 */
PG_FUNCTION_INFO_V1(migrate_graph);
Datum
migrate_graph(PG_FUNCTION_ARGS)
{
	MemoryContext callercxt = CurrentMemoryContext;
	char	   *format = text_arg(fcinfo, 0, "format");
	MigrateGraph *graph;
	bool	   *current;
	int			ncurrent;
	int		   *heads;
	char	   *text;
	Datum		result;

	if (strcmp(format, "dot") != 0 && strcmp(format, "mermaid") != 0)
		ereport(ERROR,
				errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				errmsg("unrecognized graph format \"%s\"", format),
				errhint("The formats are dot and mermaid."));

	catalog_connect();
	graph = catalog_load_graph(0);
	current = palloc0(sizeof(bool) * Max(graph->nrevs, 1));
	heads = graph_current_heads(graph, &ncurrent);
	for (int i = 0; i < ncurrent; i++)
		current[heads[i]] = true;
	text = strcmp(format, "dot") == 0
		? graph_as_dot(graph, current)
		: graph_as_mermaid(graph, current);
	result = cstring_result(callercxt, text, fcinfo);
	catalog_disconnect();
	return result;
}

/*
 * migrate.history_rows() RETURNS TABLE(id text, parents text[], message text,
 *	branch_labels text[], applied boolean, applied_at timestamptz,
 *	is_head boolean, is_current boolean)
 *
 * The rows of the migrate.history view: newest first, in reverse
 * topological order with ties to the latest registered.
 */
PG_FUNCTION_INFO_V1(migrate_history_rows);
Datum
migrate_history_rows(PG_FUNCTION_ARGS)
{
	TupleDesc	tupdesc;
	Tuplestorestate *store = begin_srf(fcinfo, &tupdesc);
	MigrateGraph *graph;
	bool	   *all;
	bool	   *current;
	MigrateSteps *order;
	int			ncurrent;
	int		   *heads;

	catalog_connect();
	graph = catalog_load_graph(0);
	all = palloc(sizeof(bool) * Max(graph->nrevs, 1));
	memset(all, true, sizeof(bool) * graph->nrevs);
	current = palloc0(sizeof(bool) * Max(graph->nrevs, 1));
	heads = graph_current_heads(graph, &ncurrent);
	for (int i = 0; i < ncurrent; i++)
		current[heads[i]] = true;
	order = graph_order_down(graph, all);

	for (int i = 0; i < order->nsteps; i++)
	{
		const MigrateRevision *rev = &graph->revs[order->revs[i]];
		Datum		values[8];
		bool		nulls[8] = {false, false, false, false, false, false, false, false};

		values[0] = CStringGetTextDatum(rev->id);
		values[1] = text_array(rev->nparents, rev->parent_ids);
		values[2] = CStringGetTextDatum(rev->message);
		values[3] = text_array(rev->nlabels, rev->labels);
		values[4] = BoolGetDatum(rev->applied);
		values[5] = TimestampTzGetDatum(rev->applied_at);
		nulls[5] = !rev->has_applied_at;
		values[6] = BoolGetDatum(rev->nchildren == 0);
		values[7] = BoolGetDatum(current[order->revs[i]]);
		tuplestore_putvalues(store, tupdesc, values, nulls);
	}

	catalog_disconnect();
	return (Datum) 0;
}

/*
 * migrate.catalog_changed() RETURNS trigger
 *
 * Statement trigger on migrate.revisions and migrate.applied: an edit that
 * migrate did not make itself invalidates the cached heads and current
 * revision, and counts as a change for REPEATABLE READ callers.
 */
PG_FUNCTION_INFO_V1(migrate_catalog_changed);
Datum
migrate_catalog_changed(PG_FUNCTION_ARGS)
{
	if (!CALLED_AS_TRIGGER(fcinfo))
		ereport(ERROR,
				errcode(ERRCODE_E_R_I_E_TRIGGER_PROTOCOL_VIOLATED),
				errmsg("migrate.catalog_changed() must be called as a trigger"));

	if (!catalog_writing)
	{
		catalog_connect();
		catalog_invalidate_state();
		catalog_disconnect();
		if (strcmp(RelationGetRelationName(((TriggerData *) fcinfo->context)->tg_relation),
				   "applied") == 0)
			catalog_applied_changed();
	}
	return PointerGetDatum(NULL);
}
