/*-------------------------------------------------------------------------
 *
 * revision.c
 *		Registering revisions: migrate.revision() and migrate.merge(), and
 *		the registration every other way in (autogenerate, sync) goes
 *		through.
 *
 * Registration checks a revision completely before it writes anything:
 * its id and labels, its scripts (validate.c), lint (lint.c), its edges
 * against the catalog, and that it closes no cycle.  Identical content is
 * a no-op, so syncing a project's files costs little for the unchanged.
 *
 * IDENTIFICATION
 *	  src/revision.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "catalog/pg_type.h"
#include "fmgr.h"
#include "miscadmin.h"
#include "utils/acl.h"
#include "utils/array.h"
#include "utils/builtins.h"

#include "migrate.h"

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


/* Does the registered row hold exactly this content (scripts and edges)? */
static bool
same_content(const NewRevision *nr, const MigrateRevision *old)
{
	return strcmp(nr->upgrade, old->upgrade) == 0 &&
		(nr->downgrade == NULL) == (old->downgrade == NULL) &&
		(nr->downgrade == NULL || strcmp(nr->downgrade, old->downgrade) == 0) &&
		same_strings(nr->nparents, nr->parents, old->nparents, old->parent_ids) &&
		same_strings(nr->ndepends, nr->depends, old->ndepends, old->depends_ids) &&
		nr->transactional == old->transactional &&
		nr->tenant_scope == old->tenant_scope;
}

/* The parent of a revision registered without parents: its scope's single head. */
static void
default_parents(NewRevision *nr)
{
	MigrateGraph *graph = catalog_load_graph(nr->tenant_scope ? GRAPH_TENANT : 0);
	int			nheads;
	int		   *heads = graph_heads(graph, &nheads);

	if (nheads > 1)
		ereport(ERROR,
				errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				errmsg("cannot choose a parent for revision \"%s\": the revision graph has %d heads",
					   nr->id, nheads),
				errdetail("The heads are %s.",
						  graph_id_list(graph, heads, nheads, false)),
				errhint("Pass parents => ARRAY['<id>'] to pick one, or first %s.",
						migrate_merge_advice()));
	nr->nparents = nheads;
	nr->parents = palloc(sizeof(char *));
	if (nheads == 1)
		nr->parents[0] = graph->revs[heads[0]].id;
}

/* Would making these the revision's parents and dependencies close a cycle? */
static void
check_no_cycle(const NewRevision *nr)
{
	MigrateGraph *graph = catalog_load_graph(GRAPH_ALL_SCOPES);
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
 * A tenant revision's parents are tenant revisions, and a database
 * revision's are database revisions: each scope is a graph of its own.  A
 * tenant revision may depend on database revisions (they must be applied
 * in the database before it runs in a tenant), never the other way round.
 */
static void
check_scopes(const NewRevision *nr)
{
	const char *scope = nr->tenant_scope ? "tenant" : "database";
	bool	   *tenant = palloc(sizeof(bool) * Max(Max(nr->nparents, nr->ndepends), 1));

	catalog_tenant_revisions(nr->nparents, nr->parents, tenant);
	for (int i = 0; i < nr->nparents; i++)
		if (tenant[i] != nr->tenant_scope)
			ereport(ERROR,
					errcode(ERRCODE_INVALID_OBJECT_DEFINITION),
					errmsg("parent revision \"%s\" is a %s revision, but revision \"%s\" is a %s revision",
						   nr->parents[i], tenant[i] ? "tenant" : "database",
						   nr->id, scope),
					errdetail("Database revisions and tenant revisions form two graphs: a revision's parents are of its own scope."),
					nr->tenant_scope
					? errhint("To run only after database revision \"%s\", name it in depends_on.",
							  nr->parents[i])
					: errhint("Register revision \"%s\" with scope => 'tenant', or choose a database revision as its parent.",
							  nr->id));

	catalog_tenant_revisions(nr->ndepends, nr->depends, tenant);
	for (int i = 0; i < nr->ndepends; i++)
		if (tenant[i] && !nr->tenant_scope)
			ereport(ERROR,
					errcode(ERRCODE_INVALID_OBJECT_DEFINITION),
					errmsg("database revision \"%s\" cannot depend on tenant revision \"%s\"",
						   nr->id, nr->depends[i]),
					errdetail("A database revision is applied once, before any tenant is migrated."),
					errhint("Make revision \"%s\" a tenant revision (scope => 'tenant'), or drop the dependency.",
							nr->id));
}

/*
 * A tenant revision's database dependencies are stored after its tenant
 * ones, where its graph looks for them (catalog_graph.c); before its
 * checksum, which covers the order.
 */
static void
order_tenant_depends(NewRevision *nr)
{
	bool	   *tenant;
	char	  **ordered;
	int			n = 0;

	if (!nr->tenant_scope || nr->ndepends < 2)
		return;
	tenant = palloc(sizeof(bool) * nr->ndepends);
	catalog_tenant_revisions(nr->ndepends, nr->depends, tenant);
	ordered = palloc(sizeof(char *) * nr->ndepends);
	for (int pass = 0; pass < 2; pass++)
		for (int i = 0; i < nr->ndepends; i++)
			if (tenant[i] == (pass == 0))
				ordered[n++] = nr->depends[i];
	nr->depends = ordered;
}

/*
 * Register a revision; the caller holds the lock.  Identical content is a
 * no-op; new content replaces an unapplied revision and is refused for an
 * applied one.  Returns the id.
 */
char *
revision_register(NewRevision *nr)
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
	if (nr->tenant_scope && !nr->transactional)
		ereport(ERROR,
				errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				errmsg("tenant revision \"%s\" cannot be non-transactional", nr->id),
				errdetail("Each tenant's revisions run and are recorded in that tenant's own transaction."),
				errhint("Put statements that must run outside a transaction, such as CREATE INDEX CONCURRENTLY, in a database revision."));
	order_tenant_depends(nr);

	/*
	 * Unchanged: what every sync of a project's files meets for all but its
	 * newest revisions.  The scripts were checked when they were registered.
	 */
	if (exists)
	{
		checksum = catalog_checksum(nr->upgrade, nr->downgrade,
									nr->nparents, nr->parents,
									nr->ndepends, nr->depends,
									nr->transactional, nr->tenant_scope);
		if (strcmp(checksum, old.checksum) == 0 && same_content(nr, &old) &&
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
								nr->transactional, nr->tenant_scope);

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
	check_scopes(nr);

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
	rev.tenant_scope = nr->tenant_scope;

	if (!exists)
	{
		catalog_insert_revision(&rev, nr->upgrade, nr->downgrade);
		return nr->id;
	}

	if (strcmp(rev.checksum, old.checksum) == 0)
	{
		/*
		 * What was registered, by its checksum.  A row whose content no
		 * longer matches it was edited behind migrate's back: this puts
		 * back what was checked, applied or not.
		 */
		if (!same_content(nr, &old))
		{
			catalog_update_revision(&rev, nr->upgrade, nr->downgrade, false);
			ereport(NOTICE,
					errmsg("revision %s restored: its row in migrate.revisions did not match its checksum",
						   nr->id),
					errhidecontext(true));
		}
		/* Same scripts and edges: at most the description changes. */
		else if (strcmp(rev.message, old.message) != 0 ||
				 !same_strings(rev.nlabels, rev.labels, old.nlabels, old.labels))
			catalog_update_revision(&rev, nr->upgrade, nr->downgrade, false);
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
	catalog_update_revision(&rev, nr->upgrade, nr->downgrade, true);
	return nr->id;
}

/*
 * What migrate.revision() does once its arguments are read: take the lock
 * and register.  Returns the id, in the caller's memory context.
 */
static char *
register_with_lock(NewRevision *nr)
{
	MemoryContext callercxt = CurrentMemoryContext;
	char	   *id;

	catalog_connect();
	lock_state_change("revision");
	id = revision_register(nr);
	id = MemoryContextStrdup(callercxt, id);
	catalog_disconnect();
	return id;
}

/*
 * migrate.revision(upgrade, downgrade, message), its other arguments left
 * to their defaults: a made-up id, the single head as its parent, no
 * dependency or branch label, transactional.  The same checks, lint and
 * NOTICEs; returns the id, in the caller's memory context.  For
 * migrate.autogenerate(), which registers its diff so.
 */
char *
revision_register_new(const char *upgrade, const char *downgrade,
					  const char *message)
{
	NewRevision nr;

	memset(&nr, 0, sizeof(nr));
	nr.upgrade = upgrade;
	nr.downgrade = downgrade;
	nr.message = message;
	nr.id_given = false;
	nr.id = random_id();
	validate_id(nr.id, "revision id");
	nr.parents_given = false;
	nr.transactional = true;
	return register_with_lock(&nr);
}

/*
 * migrate.revision(upgrade text, downgrade text, message text, id text,
 *					parents text[], depends_on text[], branch_labels text[])
 *	RETURNS text
 *
 * Registers a revision (see revision_register) and returns its id.
 */
PG_FUNCTION_INFO_V1(migrate_revision);
Datum
migrate_revision(PG_FUNCTION_ARGS)
{
	NewRevision nr;
	char	   *id;

	memset(&nr, 0, sizeof(nr));
	nr.upgrade = arg_text(fcinfo, 0, "upgrade");
	nr.downgrade = arg_text_or_null(fcinfo, 1);
	nr.message = arg_text(fcinfo, 2, "message");
	nr.id_given = !PG_ARGISNULL(3);
	nr.id = nr.id_given ? text_to_cstring(PG_GETARG_TEXT_PP(3)) : random_id();
	validate_id(nr.id, "revision id");
	nr.parents_given = !PG_ARGISNULL(4);
	if (nr.parents_given)
		nr.parents = arg_id_array(fcinfo, 4, "parents", "revision id",
								  &nr.nparents);
	nr.depends = arg_id_array(fcinfo, 5, "depends_on", "revision id",
							  &nr.ndepends);
	nr.labels = arg_id_array(fcinfo, 6, "branch_labels", "branch label",
							 &nr.nlabels);
	nr.transactional = arg_bool(fcinfo, 7, "transactional");
	nr.tenant_scope = arg_scope(fcinfo, 8);

	id = register_with_lock(&nr);

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
	nr.message = arg_text(fcinfo, 1, "message");
	nr.id_given = !PG_ARGISNULL(2);
	nr.id = nr.id_given ? text_to_cstring(PG_GETARG_TEXT_PP(2)) : random_id();
	validate_id(nr.id, "revision id");
	nr.upgrade = "";
	nr.downgrade = "";
	nr.depends = NULL;
	nr.labels = NULL;
	nr.parents_given = true;

	catalog_connect();
	lock_state_change("merge");
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
		int			nnames;
		char	  **names = arg_text_array(fcinfo, 0, "revisions", &nnames);

		for (int i = 0; i < nnames; i++)
		{
			MigrateTarget *target = target_resolve(graph, names[i]);

			if (target->kind != MIGRATE_TARGET_REVISIONS)
				ereport(ERROR,
						errcode(ERRCODE_INVALID_PARAMETER_VALUE),
						errmsg("cannot merge target \"%s\"", names[i]),
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

	id = revision_register(&nr);
	id = MemoryContextStrdup(callercxt, id);
	catalog_disconnect();

	PG_RETURN_TEXT_P(cstring_to_text(id));
}


/*
 * Remove an unapplied revision from the catalog: the undo of registering
 * it, for a revision whose file is gone (sync does this for every such
 * revision) or that should never have been registered.  The graph must be
 * current.  "no_file" says that sync found no file for it.
 */
void
revision_forget(const MigrateGraph *graph, int index, bool no_file)
{
	const MigrateRevision *rev = &graph->revs[index];

	if (rev->applied)
		ereport(ERROR,
				errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				errmsg("revision \"%s\" is applied and cannot be forgotten", rev->id),
				errdetail("Forgetting removes an unapplied revision from the catalog; an applied one is history."),
				errhint("Downgrade it first, for example with SELECT migrate.downgrade('%s-1');",
						rev->id));
	if (rev->nchildren > 0 || rev->ndependents > 0)
	{
		bool		child = rev->nchildren > 0;
		const MigrateRevision *other = &graph->revs[child ? rev->children[0]
													: rev->dependents[0]];

		if (no_file)
			ereport(ERROR,
					errcode(ERRCODE_DEPENDENT_OBJECTS_STILL_EXIST),
					errmsg("revision \"%s\" has no file, but revision \"%s\" names it as %s",
						   rev->id, other->id, child ? "a parent" : "a dependency"),
					errdetail("Revision \"%s\" is not applied and its file is gone, so the files no longer describe the graph.",
							  rev->id),
					errhint("Restore the file of revision \"%s\", or change the %s of revision \"%s\".",
							rev->id, child ? "parents" : "depends_on", other->id));
		ereport(ERROR,
				errcode(ERRCODE_DEPENDENT_OBJECTS_STILL_EXIST),
				errmsg("cannot forget revision \"%s\": revision \"%s\" names it as %s",
					   rev->id, other->id, child ? "a parent" : "a dependency"),
				errhint("Forget revision \"%s\" first, or register it with other %s.",
						other->id, child ? "parents" : "depends_on"));
	}
	if (catalog_statements_recorded(rev->id) > 0)
		ereport(ERROR,
				errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				errmsg("revision \"%s\" is partly applied and cannot be forgotten", rev->id),
				errdetail("Some statements of this non-transactional revision ran; migrate.nontransactional_statements('%s') lists them.",
						  rev->id),
				errhint("Finish applying it (pg_migrate upgrade) and downgrade it, or undo its statements and DELETE its rows from migrate.statement_progress."));

	catalog_forget_revision(rev->id);
	ereport(NOTICE,
			errmsg(no_file ? "revision %s forgotten: it was not applied and has no file"
				   : "revision %s forgotten", rev->id),
			errhidecontext(true));
}

/*
 * migrate.forget(revision text) RETURNS void
 *
 * Removes an unapplied revision that nothing else names from the catalog
 * (see revision_forget), with a row in migrate.log.
 */
PG_FUNCTION_INFO_V1(migrate_forget);
Datum
migrate_forget(PG_FUNCTION_ARGS)
{
	char	   *id = arg_text(fcinfo, 0, "revision");
	MigrateGraph *graph;
	int			index;

	catalog_connect();
	lock_state_change("forget");
	graph = catalog_load_graph(GRAPH_ALL_SCOPES);
	index = graph_find(graph, id);
	if (index < 0)
		ereport(ERROR,
				errcode(ERRCODE_UNDEFINED_OBJECT),
				errmsg("revision \"%s\" does not exist", id),
				errhint("migrate.forget() takes a full revision id; SELECT id, message FROM migrate.history lists them."));
	revision_forget(graph, index, false);
	catalog_disconnect();
	PG_RETURN_VOID();
}

/*
 * migrate.reassign_revisions(from_role text, to_role text) RETURNS bigint
 *
 * Gives the revisions registered by from_role to to_role, whose rights
 * their scripts then run with: the way out when a restored dump names a
 * role the new cluster lacks, or a registrant leaves.  Superusers only,
 * since it chooses whose rights a script gets.
 */
PG_FUNCTION_INFO_V1(migrate_reassign_revisions);
Datum
migrate_reassign_revisions(PG_FUNCTION_ARGS)
{
	char	   *from = arg_text(fcinfo, 0, "from_role");
	char	   *to = arg_text(fcinfo, 1, "to_role");
	uint64		n;

	if (!superuser())
		ereport(ERROR,
				errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
				errmsg("permission denied to reassign revisions"),
				errdetail("Only superusers may choose the role a revision's scripts run as."));
	if (!OidIsValid(get_role_oid(to, true)))
		ereport(ERROR,
				errcode(ERRCODE_UNDEFINED_OBJECT),
				errmsg("role \"%s\" does not exist", to));
	catalog_connect();
	(void) lock_state_change("reassign_revisions");
	n = catalog_reassign(from, to);
	catalog_disconnect();
	ereport(NOTICE,
			errmsg("%llu revision(s) of role \"%s\" now run as role \"%s\"",
				   (unsigned long long) n, from, to),
			errhidecontext(true));
	PG_RETURN_INT64((int64) n);
}
