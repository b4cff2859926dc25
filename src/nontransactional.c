/*-------------------------------------------------------------------------
 *
 * nontransactional.c
 *		Revisions whose statements must run outside a transaction
 *		(CREATE INDEX CONCURRENTLY and the like): their statements one by
 *		one, and the record of each step, for a runner outside a
 *		transaction.
 *
 * migrate.upgrade(), downgrade() and run() refuse such a revision.
 * pg_migrate applies it: holding the migration lock at session level (taken
 * by polling a try-lock, so it never waits inside a transaction) and
 * MIGRATE_NONTRANSACTIONAL_KEY, it runs in autocommit each statement that
 * nontransactional_statements() lists as not done, calls
 * nontransactional_progress() after each, nontransactional_failure() when
 * one fails, and nontransactional_finish() at the end, which records the
 * revision applied.  The next run resumes at the statement that failed, and
 * nontransactional_statements() names the invalid index a failed
 * CONCURRENTLY build left behind, to be dropped first.  A DBA or pg_cron can
 * drive the same functions.
 *
 * IDENTIFICATION
 *	  src/nontransactional.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "catalog/namespace.h"
#include "catalog/pg_index.h"
#include "funcapi.h"
#include "lib/stringinfo.h"
#include "miscadmin.h"
#include "nodes/makefuncs.h"
#include "nodes/parsenodes.h"
#include "utils/builtins.h"
#include "utils/lsyscache.h"
#include "utils/syscache.h"
#include "utils/timestamp.h"
#include "utils/tuplestore.h"

#include "migrate.h"

/*
 * The revision, which must exist and be non-transactional: from the graph
 * when the caller has one, else by one lookup (progress is recorded after
 * every statement, and must not read a long history each time).
 */
static MigrateRevision *
nontransactional_revision(MigrateGraph *graph, const char *id)
{
	MigrateRevision *rev;
	bool		found;

	if (graph != NULL)
	{
		int			index = graph_find(graph, id);

		found = index >= 0;
		rev = found ? &graph->revs[index] : NULL;
	}
	else
	{
		rev = palloc(sizeof(MigrateRevision));
		found = catalog_fetch_revision(id, rev);
	}
	if (!found)
		ereport(ERROR,
				errcode(ERRCODE_UNDEFINED_OBJECT),
				errmsg("revision \"%s\" does not exist", id));
	if (rev->transactional)
		ereport(ERROR,
				errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				errmsg("revision \"%s\" is transactional", id),
				errhint("migrate.upgrade() and migrate.downgrade() apply it."));
	return rev;
}

/* Its statements in a direction, as the server's parser cuts them. */
static List *
revision_statements(const MigrateRevision *rev, MigrateDirection direction,
					char **author)
{
	char	   *script = catalog_fetch_script(rev, direction, author);

	if (script == NULL)
		ereport(ERROR,
				errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				errmsg("revision \"%s\" has no downgrade script", rev->id),
				errdetail("It was registered as irreversible."));
	return script_split(script, script_name(rev->id, direction));
}

/*
 * The statements of a non-transactional revision run in the applier's own
 * session, at top level, where a statement could reset the role to the
 * session's user: they are handed out only to a session whose user has no
 * more rights than the revision's author (is the author, or both are
 * superusers).
 */
static void
refuse_other_author(const char *rev_id, const char *author)
{
	Oid			role = author_role(rev_id, author);
	Oid			session = GetSessionUserId();

	if (role == session || (superuser_arg(role) && superuser_arg(session)))
		return;
	ereport(ERROR,
			errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
			errmsg("non-transactional revision \"%s\" must be applied as role \"%s\", which registered it",
				   rev_id, author),
			errdetail("Its statements run at top level in this session, whose user \"%s\" has other rights; a script runs with the rights of the role that registered it.",
					  GetUserNameFromId(session, false)),
			errhint("Connect as role \"%s\" to apply it (for pg_migrate, PGUSER=%s).",
					author, author));
}

/*
 * The index a CREATE INDEX CONCURRENTLY statement names, when it exists and
 * is invalid (a failed build leaves it so), schema-qualified; else NULL.
 */
static char *
invalid_index_of(Node *node)
{
	IndexStmt  *stmt;
	RangeVar   *name;
	Oid			index;
	HeapTuple	tuple;
	bool		valid = true;

	if (!IsA(node, IndexStmt))
		return NULL;
	stmt = (IndexStmt *) node;
	if (!stmt->concurrent || stmt->idxname == NULL)
		return NULL;
	name = makeRangeVar(stmt->relation->schemaname, stmt->idxname, -1);
	index = RangeVarGetRelid(name, NoLock, true);
	if (!OidIsValid(index))
		return NULL;
	tuple = SearchSysCache1(INDEXRELID, ObjectIdGetDatum(index));
	if (HeapTupleIsValid(tuple))
	{
		valid = ((Form_pg_index) GETSTRUCT(tuple))->indisvalid;
		ReleaseSysCache(tuple);
	}
	if (valid)
		return NULL;
	return quote_qualified_identifier(get_namespace_name(get_rel_namespace(index)),
									  get_rel_name(index));
}

static MigrateDirection
direction_arg(FunctionCallInfo fcinfo, int arg)
{
	return arg_bool(fcinfo, arg, "downgrade") ? MIGRATE_DOWN : MIGRATE_UP;
}

/*
 * migrate.nontransactional_statements(revision text, downgrade boolean)
 *	RETURNS TABLE(statement int, line int, sql text, done boolean,
 *				  invalid_index text)
 */
PG_FUNCTION_INFO_V1(migrate_nontransactional_statements);
Datum
migrate_nontransactional_statements(PG_FUNCTION_ARGS)
{
	char	   *id = arg_text(fcinfo, 0, "revision");
	MigrateDirection direction = direction_arg(fcinfo, 1);
	TupleDesc	tupdesc;
	Tuplestorestate *store = srf_begin(fcinfo, &tupdesc);
	MigrateRevision *rev;
	List	   *stmts;
	bool	   *done;
	char	   *author;
	TimestampTz first;
	ListCell   *lc;

	catalog_connect();
	rev = nontransactional_revision(NULL, id);
	stmts = revision_statements(rev, direction, &author);
	done = palloc0(sizeof(bool) * Max(list_length(stmts), 1));
	catalog_statements_done(id, direction, list_length(stmts), done, &first);
	for (int i = 0; i < list_length(stmts); i++)
		if (!done[i])
		{
			refuse_other_author(rev->id, author);
			break;
		}
	foreach(lc, stmts)
	{
		ScriptStatement *stmt = lfirst(lc);
		Datum		values[5];
		bool		nulls[5] = {false, false, false, false, false};
		char	   *invalid = done[stmt->number - 1] ? NULL : invalid_index_of(stmt->raw->stmt);

		values[0] = Int32GetDatum(stmt->number);
		values[1] = Int32GetDatum(stmt->line);
		values[2] = CStringGetTextDatum(stmt->text);
		values[3] = BoolGetDatum(done[stmt->number - 1]);
		values[4] = invalid ? CStringGetTextDatum(invalid) : (Datum) 0;
		nulls[4] = invalid == NULL;
		tuplestore_putvalues(store, tupdesc, values, nulls);
	}
	catalog_disconnect();
	return (Datum) 0;
}

/* The statement, which must be one of the revision's. */
static ScriptStatement *
statement_of(const MigrateRevision *rev, List *stmts, int number)
{
	if (number < 1 || number > list_length(stmts))
		ereport(ERROR,
				errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				errmsg("revision \"%s\" has no statement %d", rev->id, number),
				errdetail("Its script has %d statements.", list_length(stmts)));
	return list_nth(stmts, number - 1);
}

/*
 * migrate.nontransactional_progress(revision text, statement int,
 *									 downgrade boolean) RETURNS void
 */
PG_FUNCTION_INFO_V1(migrate_nontransactional_progress);
Datum
migrate_nontransactional_progress(PG_FUNCTION_ARGS)
{
	char	   *id = arg_text(fcinfo, 0, "revision");
	MigrateDirection direction = direction_arg(fcinfo, 2);
	MigrateRevision *rev;
	int			number;

	if (PG_ARGISNULL(1))
		arg_reject_null("statement");
	number = PG_GETARG_INT32(1);
	catalog_connect();
	lock_state_change("nontransactional_progress");
	rev = nontransactional_revision(NULL, id);
	statement_of(rev, revision_statements(rev, direction, NULL), number);
	catalog_statement_done(id, direction, number);
	catalog_disconnect();
	PG_RETURN_VOID();
}

/*
 * migrate.nontransactional_failure(revision text, statement int,
 *		sqlstate text, message text, downgrade boolean) RETURNS void
 *
 * A row in migrate.log: which statement failed, and how.
 */
PG_FUNCTION_INFO_V1(migrate_nontransactional_failure);
Datum
migrate_nontransactional_failure(PG_FUNCTION_ARGS)
{
	char	   *id = arg_text(fcinfo, 0, "revision");
	char	   *sqlstate = arg_text(fcinfo, 2, "sqlstate");
	char	   *message = arg_text(fcinfo, 3, "message");
	MigrateDirection direction = direction_arg(fcinfo, 4);
	MigrateRevision *rev;
	ScriptStatement *stmt;
	ErrorData	edata;
	TimestampTz now = GetCurrentTimestamp();

	if (PG_ARGISNULL(1))
		arg_reject_null("statement");
	if (strlen(sqlstate) != 5 || strspn(sqlstate, "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ") != 5)
		ereport(ERROR,
				errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				errmsg("invalid SQLSTATE \"%s\"", sqlstate),
				errdetail("A SQLSTATE is five digits or upper-case letters."));
	catalog_connect();
	lock_state_change("nontransactional_failure");
	rev = nontransactional_revision(NULL, id);
	stmt = statement_of(rev, revision_statements(rev, direction, NULL), PG_GETARG_INT32(1));
	memset(&edata, 0, sizeof(edata));
	edata.sqlerrcode = MAKE_SQLSTATE(sqlstate[0], sqlstate[1], sqlstate[2],
									 sqlstate[3], sqlstate[4]);
	edata.message = psprintf("statement %d (line %d): %s", stmt->number, stmt->line, message);
	catalog_log_failure(direction == MIGRATE_UP ? "upgrade" : "downgrade", id,
						direction, now, now, &edata);
	catalog_disconnect();
	PG_RETURN_VOID();
}

/*
 * migrate.nontransactional_finish(revision text, downgrade boolean)
 *	RETURNS text
 *
 * Records the revision applied (or unapplied) once every statement ran, as
 * migrate.upgrade() would have; returns migrate.current().
 */
PG_FUNCTION_INFO_V1(migrate_nontransactional_finish);
Datum
migrate_nontransactional_finish(PG_FUNCTION_ARGS)
{
	MemoryContext callercxt = CurrentMemoryContext;
	char	   *id = arg_text(fcinfo, 0, "revision");
	MigrateDirection direction = direction_arg(fcinfo, 1);
	MigrateGraph *graph;
	MigrateRevision *rev;
	List	   *stmts;
	bool	   *done;
	TimestampTz first;
	TimestampTz now = GetCurrentTimestamp();
	ListCell   *lc;
	char	   *current;

	catalog_connect();
	lock_state_change("nontransactional_finish");
	graph = catalog_load_graph(0);
	rev = nontransactional_revision(graph, id);

	if (direction == MIGRATE_UP)
	{
		if (rev->applied)
			ereport(ERROR,
					errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
					errmsg("revision \"%s\" is already applied", id));
		for (int i = 0; i < rev->nparents + rev->ndepends; i++)
		{
			int			needed = i < rev->nparents ? rev->parents[i]
				: rev->depends[i - rev->nparents];

			if (!graph->revs[needed].applied)
				ereport(ERROR,
						errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
						errmsg("revision \"%s\" needs revision \"%s\", which is not applied",
							   id, graph->revs[needed].id),
						errhint("Apply it first: migrate.upgrade('%s').", graph->revs[needed].id));
		}
	}
	else
	{
		if (!rev->applied)
			ereport(ERROR,
					errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
					errmsg("revision \"%s\" is not applied", id));
		for (int i = 0; i < rev->nchildren + rev->ndependents; i++)
		{
			int			child = i < rev->nchildren ? rev->children[i]
				: rev->dependents[i - rev->nchildren];

			if (graph->revs[child].applied)
				ereport(ERROR,
						errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
						errmsg("revision \"%s\" is needed by revision \"%s\", which is applied",
							   id, graph->revs[child].id),
						errhint("Downgrade that first: migrate.downgrade('%s').", id));
		}
	}

	stmts = revision_statements(rev, direction, NULL);
	done = palloc0(sizeof(bool) * Max(list_length(stmts), 1));
	catalog_statements_done(id, direction, list_length(stmts), done, &first);
	foreach(lc, stmts)
	{
		ScriptStatement *stmt = lfirst(lc);

		if (!done[stmt->number - 1])
			ereport(ERROR,
					errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
					errmsg("statement %d (line %d) of revision \"%s\" has not run",
						   stmt->number, stmt->line, id),
					errdetail("A non-transactional revision is recorded once every statement of its %s script ran.",
							  direction == MIGRATE_UP ? "upgrade" : "downgrade"),
					errhint("Run it, then call migrate.nontransactional_progress('%s', %d%s).",
							id, stmt->number, direction == MIGRATE_UP ? "" : ", true"));
	}

	catalog_set_applied(rev, direction == MIGRATE_UP,
						first ? (double) (now - first) / 1000.0 : -1);
	catalog_log(direction == MIGRATE_UP ? "upgrade" : "downgrade", id, direction,
				first ? first : now, now);
	catalog_statements_clear(id, direction);
	rev->applied = direction == MIGRATE_UP;
	catalog_save_state(graph);
	current = MemoryContextStrdup(callercxt, graph_current_string(graph) ?
								  graph_current_string(graph) : "");
	catalog_disconnect();
	if (current[0] == '\0')
		PG_RETURN_NULL();
	PG_RETURN_TEXT_P(cstring_to_text(current));
}
