/*-------------------------------------------------------------------------
 *
 * inspect.c
 *		The read-only calls: migrate.plan(), current(), heads(),
 *		is_applied(), require(), verify(), graph() and the rows of
 *		migrate.history.
 *
 * None of them takes the lock or writes, so they all work on a standby.
 * current(), heads(), is_applied() and require() are open to every role
 * and reveal no script; is_applied() and require() answer from one index
 * probe, what applications ask on every connection.
 *
 * IDENTIFICATION
 *	  src/inspect.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "fmgr.h"
#include "funcapi.h"
#include "lib/stringinfo.h"
#include "utils/builtins.h"
#include "utils/timestamp.h"
#include "utils/tuplestore.h"

#include "migrate.h"

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
	char	   *target_text = arg_text(fcinfo, 0, "target");
	bool		downgrade;
	TupleDesc	tupdesc;
	Tuplestorestate *store;
	MigrateGraph *graph;
	MigrateSteps *steps;
	Datum		direction;

	downgrade = arg_bool(fcinfo, 1, "downgrade");
	store = srf_begin(fcinfo, &tupdesc);

	catalog_connect();
	graph = catalog_load_graph(GRAPH_SCRIPTS);
	steps = target_steps(graph, target_text, downgrade, "upgrade");

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
 * migrate.current(tenant text DEFAULT NULL) RETURNS text
 *
 * The applied heads sorted by id and joined by ",", or NULL: the
 * database's, or a tenant's as its last change recorded them.
 */
PG_FUNCTION_INFO_V1(migrate_current);
Datum
migrate_current(PG_FUNCTION_ARGS)
{
	MemoryContext callercxt = CurrentMemoryContext;
	char	   *tenant = PG_NARGS() > 0 ? arg_text_or_null(fcinfo, 0) : NULL;
	List	   *heads;
	char	   *current;
	Datum		result;

	catalog_connect();
	if (tenant)
	{
		if (!catalog_tenant_exists(tenant, &current))
			tenant_refuse_unknown(tenant);
	}
	else if (!catalog_cached_state(&heads, &current))
		current = graph_current_string(catalog_load_graph(GRAPH_LENIENT));
	result = result_text(fcinfo, callercxt, current);
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
	Tuplestorestate *store = srf_begin(fcinfo, &tupdesc);
	List	   *heads;
	char	   *current;
	ListCell   *lc;

	catalog_connect();
	if (!catalog_cached_state(&heads, &current))
	{
		MigrateGraph *graph = catalog_load_graph(GRAPH_LENIENT);
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
 * migrate.is_applied(revision text, tenant text DEFAULT NULL) RETURNS boolean
 *
 * One index probe: true when the revision (full id) is applied, in the
 * database or in the tenant.
 */
PG_FUNCTION_INFO_V1(migrate_is_applied);
Datum
migrate_is_applied(PG_FUNCTION_ARGS)
{
	char	   *id = arg_text(fcinfo, 0, "revision");
	char	   *tenant = arg_text_or_null(fcinfo, 1);
	bool		applied;

	catalog_connect();
	applied = catalog_is_applied(id, tenant);
	catalog_disconnect();
	PG_RETURN_BOOL(applied);
}

/*
 * migrate.require(revision text, tenant text DEFAULT NULL) RETURNS void
 *
 * Returns when the revision is applied (in the tenant, with tenant);
 * otherwise raises an error that says how far behind the database (or the
 * tenant) is and what to run.
 */
PG_FUNCTION_INFO_V1(migrate_require);
Datum
migrate_require(PG_FUNCTION_ARGS)
{
	char	   *id = arg_text(fcinfo, 0, "revision");
	char	   *tenant = arg_text_or_null(fcinfo, 1);
	MigrateGraph *graph;
	int			wanted;
	char	   *current;
	bool	   *needed;
	int		   *missing;
	int			nmissing = 0;
	const char *where;
	char	   *catch_up;

	catalog_connect();
	if (catalog_is_applied(id, tenant))
	{
		catalog_disconnect();
		PG_RETURN_VOID();
	}

	/* The slow path: only taken when the application must refuse to run. */
	if (tenant)
	{
		if (!catalog_tenant_exists(tenant, NULL))
			tenant_refuse_unknown(tenant);
		graph = catalog_load_graph(GRAPH_TENANT | GRAPH_LENIENT);
		catalog_tenant_applied(graph, tenant);
		where = psprintf("tenant \"%s\"", tenant);
		catch_up = psprintf("SELECT migrate.upgrade('head', tenant => '%s'); or CALL migrate.run_tenants();",
							tenant);
	}
	else
	{
		graph = catalog_load_graph(GRAPH_LENIENT);
		where = "the database";
		catch_up = MIGRATE_CATCH_UP ".";
	}
	current = graph_current_string(graph);
	wanted = graph_find(graph, id);
	if (wanted < 0)
	{
		size_t		len = strlen(id);
		int		   *matches = palloc(sizeof(int) * Max(graph->nrevs, 1));
		int			nmatches = 0;

		/* A prefix, as targets take: say what to pass instead. */
		for (int i = 0; i < graph->nrevs && len > 0; i++)
			if (strncmp(graph->revs[i].id, id, len) == 0)
				matches[nmatches++] = i;
		if (nmatches > 0)
			ereport(ERROR,
					errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					errmsg("migrate.require() takes a full revision id, not the prefix \"%s\"", id),
					nmatches == 1
					? errdetail("\"%s\" is a prefix of revision \"%s\".", id,
								graph->revs[matches[0]].id)
					: errdetail("\"%s\" is a prefix of revisions %s.", id,
								graph_id_list(graph, matches, nmatches, true)),
					nmatches == 1
					? errhint("Pass the full id: SELECT migrate.require('%s');",
							  graph->revs[matches[0]].id)
					: 0);
		tenant_refuse_other_scope(graph, id, tenant != NULL);
		ereport(ERROR,
				errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				errmsg("revision \"%s\" is not applied", id),
				errdetail("The database does not know revision \"%s\": it is not registered.  %c%s is at %s.",
						  id, pg_toupper(where[0]), where + 1,
						  current ? current : "base"),
				errhint("To catch up, run %s", catch_up));
	}

	needed = palloc0(sizeof(bool) * graph->nrevs);
	missing = palloc(sizeof(int) * graph->nrevs);
	graph_mark_ancestors(graph, &wanted, 1, needed);
	for (int i = 0; i < graph->nrevs; i++)
		if (needed[i] && !graph->revs[i].applied)
			missing[nmissing++] = i;

	ereport(ERROR,
			errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
			tenant ? errmsg("revision \"%s\" is not applied in tenant \"%s\"", id, tenant)
			: errmsg("revision \"%s\" is not applied", id),
			errdetail_plural("%c%s is at %s and is %d revision behind: %s.",
							 "%c%s is at %s and is %d revisions behind: %s.",
							 nmissing, pg_toupper(where[0]), where + 1,
							 current ? current : "base", nmissing,
							 graph_id_list(graph, missing, nmissing, false)),
			errhint("To catch up, run %s", catch_up));
	PG_RETURN_VOID();			/* not reached */
}

static void
put_problem(Tuplestorestate *store, TupleDesc tupdesc, const char *id,
			const char *problem)
{
	Datum		values[2] = {CStringGetTextDatum(id), CStringGetTextDatum(problem)};
	bool		nulls[2] = {false, false};

	tuplestore_putvalues(store, tupdesc, values, nulls);
}

/*
 * migrate.verify() RETURNS TABLE(revision text, problem text)
 *
 * What is wrong with the catalog, one row a problem, none when all is
 * well; it reads a damaged catalog without failing.  Content is
 * checksummed anew, so a hand edit that left the checksum column alone is
 * caught: applied revisions that changed since they ran, revisions (applied
 * or not) whose content no longer matches their checksum, edges to
 * revisions that are not registered, cycles, unapplied revisions that an
 * applied one needs, and applied rows without a revision.
 */
PG_FUNCTION_INFO_V1(migrate_verify);
Datum
migrate_verify(PG_FUNCTION_ARGS)
{
	TupleDesc	tupdesc;
	Tuplestorestate *store = srf_begin(fcinfo, &tupdesc);
	MigrateGraph *graph;
	bool	   *needed;
	int		   *applied;
	int			napplied = 0;
	int		   *cycle;
	int			ncycle;
	bool	   *on_cycle;
	List	   *unregistered;
	ListCell   *lc;

	catalog_connect();
	graph = catalog_load_graph(GRAPH_SCRIPTS | GRAPH_CHECKSUMS | GRAPH_LENIENT);
	unregistered = catalog_applied_unregistered();

	needed = palloc0(sizeof(bool) * Max(graph->nrevs, 1));
	applied = palloc(sizeof(int) * Max(graph->nrevs, 1));
	for (int i = 0; i < graph->nrevs; i++)
		if (graph->revs[i].applied)
			applied[napplied++] = i;
	graph_mark_ancestors(graph, applied, napplied, needed);
	on_cycle = palloc0(sizeof(bool) * Max(graph->nrevs, 1));
	cycle = graph_cycle_members(graph, &ncycle);
	for (int i = 0; i < ncycle; i++)
		on_cycle[cycle[i]] = true;

	for (int i = 0; i < graph->nrevs; i++)
	{
		const MigrateRevision *rev = &graph->revs[i];
		char	   *content;

		if (rev->phantom)
			continue;
		content = catalog_checksum(rev->upgrade, rev->downgrade,
								   rev->nparents, rev->parent_ids,
								   rev->ndepends + rev->nexternal,
								   rev->depends_ids, rev->transactional,
								   rev->tenant_scope);
		if (rev->applied && strcmp(rev->applied_checksum, content) != 0)
			put_problem(store, tupdesc, rev->id,
						"changed since it was applied: its scripts, parents or depends_on differ from what ran");
		else if (strcmp(rev->checksum, content) != 0)
			put_problem(store, tupdesc, rev->id,
						"its content does not match its checksum: it was changed in migrate.revisions since it was registered");
		for (int j = 0; j < rev->nparents + rev->ndepends; j++)
		{
			bool		parent = j < rev->nparents;
			const MigrateRevision *other =
				&graph->revs[parent ? rev->parents[j] : rev->depends[j - rev->nparents]];

			if (other->phantom)
				put_problem(store, tupdesc, rev->id,
							psprintf("names %s \"%s\", which is not registered",
									 parent ? "parent" : "dependency", other->id));
		}
		if (on_cycle[i])
			put_problem(store, tupdesc, rev->id,
						"on a cycle of parents or dependencies, or needs a revision on one");
		if (needed[i] && !rev->applied)
			put_problem(store, tupdesc, rev->id,
						"not applied, but an applied revision descends from it or depends on it");
	}
	foreach(lc, unregistered)
		put_problem(store, tupdesc, (char *) lfirst(lc),
					"applied, but not registered in migrate.revisions");

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
	char	   *format = arg_text(fcinfo, 0, "format");
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
	graph = catalog_load_graph(GRAPH_LENIENT);
	current = palloc0(sizeof(bool) * Max(graph->nrevs, 1));
	heads = graph_current_heads(graph, &ncurrent);
	for (int i = 0; i < ncurrent; i++)
		current[heads[i]] = true;
	text = strcmp(format, "dot") == 0
		? graph_as_dot(graph, current)
		: graph_as_mermaid(graph, current);
	result = result_text(fcinfo, callercxt, text);
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
	Tuplestorestate *store = srf_begin(fcinfo, &tupdesc);
	MigrateGraph *graph;
	bool	   *all;
	bool	   *current;
	MigrateSteps *order;
	int			ncurrent;
	int		   *heads;
	int			ncycle;

	catalog_connect();
	graph = catalog_load_graph(GRAPH_LENIENT);
	all = palloc(sizeof(bool) * Max(graph->nrevs, 1));
	memset(all, true, sizeof(bool) * graph->nrevs);
	current = palloc0(sizeof(bool) * Max(graph->nrevs, 1));
	heads = graph_current_heads(graph, &ncurrent);
	for (int i = 0; i < ncurrent; i++)
		current[heads[i]] = true;
	/* A cycle (a catalog edited by hand) has no order: newest registered first. */
	if (graph_cycle_members(graph, &ncycle), ncycle > 0)
	{
		order = palloc(sizeof(MigrateSteps));
		order->revs = palloc(sizeof(int) * Max(graph->nrevs, 1));
		order->nsteps = 0;
		for (int i = graph->nrevs - 1; i >= 0; i--)
			order->revs[order->nsteps++] = i;
	}
	else
		order = graph_order_down(graph, all);

	for (int i = 0; i < order->nsteps; i++)
	{
		const MigrateRevision *rev = &graph->revs[order->revs[i]];
		Datum		values[8];
		bool		nulls[8] = {false, false, false, false, false, false, false, false};

		if (rev->phantom)
			continue;
		values[0] = CStringGetTextDatum(rev->id);
		values[1] = text_array_datum(rev->nparents, rev->parent_ids);
		values[2] = CStringGetTextDatum(rev->message);
		values[3] = text_array_datum(rev->nlabels, rev->labels);
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
 * migrate.resolve(target text) RETURNS SETOF text
 *
 * The revisions a target names now, as upgrade() and stamp() read it:
 * none for base and <label>@base (they name the point before a revision).
 */
PG_FUNCTION_INFO_V1(migrate_resolve);
Datum
migrate_resolve(PG_FUNCTION_ARGS)
{
	char	   *target_text = arg_text(fcinfo, 0, "target");
	TupleDesc	tupdesc;
	Tuplestorestate *store = srf_begin(fcinfo, &tupdesc);
	MigrateTarget *target;
	MigrateGraph *graph;

	catalog_connect();
	graph = catalog_load_graph(0);
	target = target_resolve(graph, target_text);
	if (target->kind == MIGRATE_TARGET_REVISIONS)
		for (int i = 0; i < target->nrevs; i++)
		{
			Datum		value = CStringGetTextDatum(graph->revs[target->revs[i]].id);
			bool		null = false;

			tuplestore_putvalues(store, tupdesc, &value, &null);
		}
	catalog_disconnect();
	return (Datum) 0;
}

/*
 * Refuses a database behind its head, Alembic's rule for autogenerate: a
 * diff against it would repeat the changes of the revisions it lacks.
 */
void
inspect_require_head(const MigrateGraph *graph)
{
	int		   *pending = palloc(sizeof(int) * Max(graph->nrevs, 1));
	int			npending = 0;

	for (int i = 0; i < graph->nrevs; i++)
		if (!graph->revs[i].applied)
			pending[npending++] = i;
	if (npending > 0)
		ereport(ERROR,
				errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				errmsg("the database is not at head"),
				errdetail("%d registered revisions are not applied (%s): a diff against this database would repeat their changes.",
						  npending, graph_id_list(graph, pending, npending, false)),
				migrate_from_pg_migrate()
				? errhint("Run \"pg_migrate upgrade heads\" first, then generate the next revision.")
				: errhint("Apply them with migrate.upgrade('heads'), then generate the next revision."));
}

/*
 * migrate.require_head() RETURNS void
 *
 * What pg_migrate revision --autogenerate asks before its diff.
 */
PG_FUNCTION_INFO_V1(migrate_require_head);
Datum
migrate_require_head(PG_FUNCTION_ARGS)
{
	catalog_connect();
	inspect_require_head(catalog_load_graph(0));
	catalog_disconnect();
	PG_RETURN_VOID();
}
