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
 * by lock_session(), which waits holding no snapshot) and its second part,
 * it runs in autocommit each statement that nontransactional_statements()
 * lists as not done, between nontransactional_begin() and
 * nontransactional_progress() (or nontransactional_failure()), and
 * nontransactional_finish() at the end, which records the revision applied.
 * Between begin and progress the statement runs at top level in the
 * applier's session, where lock.c refuses every state change, as it does
 * from a transactional script.
 *
 * A run can be killed anywhere (a cancelled CI job, a dropped SSH session).
 * The next run resumes at the first statement not done, and
 * nontransactional_statements() says how (resume_of()): a CONCURRENTLY
 * build that the interrupted run started and its orphaned backend finished
 * is recorded done, an invalid index it left is dropped and built again,
 * and a build still going on is waited for (nontransactional_wait()), never
 * taken for an invalid one.  A DBA or pg_cron can drive the same functions.
 *
 * IDENTIFICATION
 *	  src/nontransactional.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "catalog/namespace.h"
#include "catalog/pg_index.h"
#include "commands/progress.h"
#include "executor/spi.h"
#include "funcapi.h"
#include "lib/stringinfo.h"
#include "miscadmin.h"
#include "nodes/makefuncs.h"
#include "nodes/parsenodes.h"
#include "pgstat.h"
#include "storage/latch.h"
#include "utils/backend_status.h"
#include "utils/builtins.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"
#include "utils/snapmgr.h"
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

/* How a run goes on at a statement that is not done: see resume_of(). */
typedef enum ResumeHow
{
	RESUME_RUN,					/* run it */
	RESUME_RECORD,				/* it took effect: record it done */
	RESUME_REBUILD,				/* drop the invalid index it left, run it */
	RESUME_BUILDING				/* its index is still being built: wait */
} ResumeHow;

static const char *const resume_names[] = {"run", "record", "rebuild", "building"};

typedef struct Resume
{
	ResumeHow	how;
	char	   *index;			/* schema-qualified, unless RESUME_RUN */
	int			pid;			/* the builder, for RESUME_BUILDING */
} Resume;

/*
 * The backend, other than this one, that is building the index, or 0:
 * asked of the backends' progress reports, which a killed client's orphaned
 * backend keeps updating until its CREATE INDEX CONCURRENTLY ends.
 */
static int
index_builder(Oid index)
{
	int			n = pgstat_fetch_stat_numbackends();

	for (int i = 1; i <= n; i++)
	{
		LocalPgBackendStatus *local = MigrateLocalBackendStatus(i);
		PgBackendStatus *be;

		if (local == NULL)
			continue;
		be = &local->backendStatus;
		if (be->st_procpid != MyProcPid &&
			be->st_progress_command == PROGRESS_COMMAND_CREATE_INDEX &&
			be->st_progress_param[PROGRESS_CREATEIDX_INDEX_OID] == (int64) index)
			return be->st_procpid;
	}
	return 0;
}

/* The index called name in the schema of relation (an index's table), or 0. */
static Oid
index_beside(RangeVar *relation, const char *name)
{
	Oid			table = RangeVarGetRelid(relation, NoLock, true);

	if (!OidIsValid(table) || name == NULL)
		return InvalidOid;
	return get_relname_relid(name, get_rel_namespace(table));
}

/*
 * How to go on at a statement not done, given whether a run started it.
 * Only CONCURRENTLY statements leave something behind that a second run
 * trips over: CREATE INDEX CONCURRENTLY leaves its index, valid when the
 * orphaned backend finished the build, invalid when the build stopped; a
 * DROP INDEX CONCURRENTLY that ended leaves nothing to drop.  An index of
 * the statement's name on another table, or a valid one that no run of
 * this statement built, is not ours: the statement runs, and fails as it
 * should.
 */
static Resume
resume_of(Node *node, bool started)
{
	Resume		resume = {RESUME_RUN, NULL, 0};

	if (IsA(node, IndexStmt) && ((IndexStmt *) node)->concurrent)
	{
		IndexStmt  *stmt = (IndexStmt *) node;
		Oid			index = index_beside(stmt->relation, stmt->idxname);
		HeapTuple	tuple;
		bool		valid;
		bool		ours;

		if (!OidIsValid(index))
			return resume;
		tuple = SearchSysCache1(INDEXRELID, ObjectIdGetDatum(index));
		if (!HeapTupleIsValid(tuple))
			return resume;		/* not an index */
		valid = ((Form_pg_index) GETSTRUCT(tuple))->indisvalid;
		ours = ((Form_pg_index) GETSTRUCT(tuple))->indrelid ==
			RangeVarGetRelid(stmt->relation, NoLock, true);
		ReleaseSysCache(tuple);
		if (!ours)
			return resume;
		resume.index = quote_qualified_identifier(get_namespace_name(get_rel_namespace(index)),
												  get_rel_name(index));
		if ((resume.pid = index_builder(index)) != 0)
			resume.how = RESUME_BUILDING;
		else if (!valid)
			resume.how = RESUME_REBUILD;
		else if (started)
			resume.how = RESUME_RECORD;
	}
	else if (IsA(node, DropStmt) && ((DropStmt *) node)->concurrent &&
			 ((DropStmt *) node)->removeType == OBJECT_INDEX && started)
	{
		DropStmt   *stmt = (DropStmt *) node;
		RangeVar   *name = makeRangeVarFromNameList(linitial(stmt->objects));

		if (!OidIsValid(RangeVarGetRelid(name, NoLock, true)))
		{
			resume.how = RESUME_RECORD;
			resume.index = quote_qualified_identifier(name->schemaname, name->relname);
		}
	}
	if (resume.how == RESUME_RUN)
		resume.index = NULL;
	return resume;
}

/*
 * What nontransactional_statements() and the functions after it read: the
 * revision's statements in a direction, and which ran or started.
 */
typedef struct Progress
{
	MigrateRevision *rev;
	List	   *stmts;
	bool	   *done;
	bool	   *started;
	TimestampTz first;
	char	   *author;
} Progress;

static Progress
progress_of(const char *id, MigrateDirection direction)
{
	Progress	p;
	int			n;

	p.rev = nontransactional_revision(NULL, id);
	p.stmts = revision_statements(p.rev, direction, &p.author);
	n = Max(list_length(p.stmts), 1);
	p.done = palloc0(sizeof(bool) * n);
	p.started = palloc0(sizeof(bool) * n);
	catalog_statements_done(id, direction, list_length(p.stmts), p.done,
							p.started, &p.first);
	return p;
}

/* The first statement not done, or NULL. */
static ScriptStatement *
next_statement(const Progress *p)
{
	ListCell   *lc;

	foreach(lc, p->stmts)
	{
		ScriptStatement *stmt = lfirst(lc);

		if (!p->done[stmt->number - 1])
			return stmt;
	}
	return NULL;
}

static MigrateDirection
direction_arg(FunctionCallInfo fcinfo, int arg)
{
	return arg_bool(fcinfo, arg, "downgrade") ? MIGRATE_DOWN : MIGRATE_UP;
}

/*
 * migrate.nontransactional_statements(revision text, downgrade boolean)
 *	RETURNS TABLE(statement int, line int, sql text, done boolean,
 *				  invalid_index text, resume text)
 *
 * resume says how a run goes on at a statement not done (resume_of()):
 * run, record, rebuild (after DROP INDEX CONCURRENTLY of invalid_index) or
 * building (wait: migrate.nontransactional_wait()).
 */
PG_FUNCTION_INFO_V1(migrate_nontransactional_statements);
Datum
migrate_nontransactional_statements(PG_FUNCTION_ARGS)
{
	char	   *id = arg_text(fcinfo, 0, "revision");
	MigrateDirection direction = direction_arg(fcinfo, 1);
	TupleDesc	tupdesc;
	Tuplestorestate *store = srf_begin(fcinfo, &tupdesc);
	Progress	p;
	ListCell   *lc;

	catalog_connect();
	p = progress_of(id, direction);
	if (next_statement(&p) != NULL)
		refuse_other_author(p.rev->id, p.author);
	foreach(lc, p.stmts)
	{
		ScriptStatement *stmt = lfirst(lc);
		bool		done = p.done[stmt->number - 1];
		Datum		values[6];
		bool		nulls[6] = {false, false, false, false, true, true};
		Resume		resume;

		values[0] = Int32GetDatum(stmt->number);
		values[1] = Int32GetDatum(stmt->line);
		values[2] = CStringGetTextDatum(stmt->text);
		values[3] = BoolGetDatum(done);
		if (!done)
		{
			resume = resume_of(stmt->raw->stmt, p.started[stmt->number - 1]);
			if (resume.how == RESUME_REBUILD || resume.how == RESUME_BUILDING)
			{
				values[4] = CStringGetTextDatum(resume.index);
				nulls[4] = false;
			}
			values[5] = CStringGetTextDatum(resume_names[resume.how]);
			nulls[5] = false;
		}
		tuplestore_putvalues(store, tupdesc, values, nulls);
	}
	catalog_disconnect();
	return (Datum) 0;
}

/*
 * migrate.nontransactional_plan(target text DEFAULT 'head',
 *		downgrade boolean DEFAULT false)
 *	RETURNS TABLE(revision text, statements int, needs text)
 *
 * The non-transactional revisions of plan(target), in its order: how many
 * statements each runs, and (upgrade) the target of what it needs first,
 * its parents and dependencies.  The plan is only made when such a
 * revision could be in it: a no-op pg_migrate upgrade asks this first.
 */
PG_FUNCTION_INFO_V1(migrate_nontransactional_plan);
Datum
migrate_nontransactional_plan(PG_FUNCTION_ARGS)
{
	char	   *target_text = arg_text(fcinfo, 0, "target");
	MigrateDirection direction = direction_arg(fcinfo, 1);
	TupleDesc	tupdesc;
	Tuplestorestate *store = srf_begin(fcinfo, &tupdesc);
	MigrateGraph *graph;
	MigrateSteps *steps;
	bool		applied = direction == MIGRATE_DOWN;

	if (!catalog_any_nontransactional(&applied))
		return (Datum) 0;
	catalog_connect();
	graph = catalog_load_graph(0);
	steps = target_steps(graph, target_text, direction == MIGRATE_DOWN, "upgrade");
	for (int i = 0; i < steps->nsteps; i++)
	{
		const MigrateRevision *rev = &graph->revs[steps->revs[i]];
		Datum		values[3];
		bool		nulls[3] = {false, false, true};
		StringInfoData needs;

		if (rev->transactional)
			continue;
		values[0] = CStringGetTextDatum(rev->id);
		values[1] = Int32GetDatum(list_length(revision_statements(rev, direction, NULL)));
		initStringInfo(&needs);
		for (int j = 0; direction == MIGRATE_UP && j < rev->nparents + rev->ndepends; j++)
			appendStringInfo(&needs, "%s%s", j > 0 ? "," : "",
							 j < rev->nparents ? rev->parent_ids[j]
							 : rev->depends_ids[j - rev->nparents]);
		if (needs.len > 0)
		{
			values[2] = CStringGetTextDatum(needs.data);
			nulls[2] = false;
		}
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
	lock_close_statement("nontransactional_progress");
	catalog_connect();
	lock_state_change("nontransactional_progress");
	rev = nontransactional_revision(NULL, id);
	statement_of(rev, revision_statements(rev, direction, NULL), number);
	catalog_statement_done(id, direction, number, false);
	catalog_disconnect();
	PG_RETURN_VOID();
}

/* A statement whose index another backend is still building cannot begin. */
static void
refuse_building(const char *id, const ScriptStatement *stmt, const Resume *resume)
{
	ereport(ERROR,
			errcode(ERRCODE_OBJECT_IN_USE),
			errmsg("index %s of statement %d of revision %s is still being built by process %d",
				   resume->index, stmt->number, id, resume->pid),
			errdetail("An earlier run of the revision started that build and was interrupted."),
			errhint("Wait for it to end (CALL migrate.nontransactional_wait('%s') waits up to migrate.lock_wait, now %d ms; pg_stat_progress_create_index shows how far it is), or stop it with SELECT pg_cancel_backend(%d); then run again.",
					id, migrate_lock_wait, resume->pid));
}

/*
 * migrate.nontransactional_begin(revision text, statement int,
 *								  downgrade boolean) RETURNS void
 *
 * Records that the statement starts, so that a run killed during it is
 * recognised by the next, and refuses state changes in this session until
 * its progress or failure is recorded.  When an interrupted run of it
 * already built its index (resume "record"), records it done instead: the
 * caller then does not run it.
 */
PG_FUNCTION_INFO_V1(migrate_nontransactional_begin);
Datum
migrate_nontransactional_begin(PG_FUNCTION_ARGS)
{
	char	   *id = arg_text(fcinfo, 0, "revision");
	MigrateDirection direction = direction_arg(fcinfo, 2);
	Progress	p;
	ScriptStatement *stmt;
	Resume		resume;

	if (PG_ARGISNULL(1))
		arg_reject_null("statement");
	catalog_connect();
	lock_state_change("nontransactional_begin");
	p = progress_of(id, direction);
	stmt = statement_of(p.rev, p.stmts, PG_GETARG_INT32(1));
	if (p.done[stmt->number - 1])
		ereport(ERROR,
				errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				errmsg("statement %d of revision \"%s\" already ran", stmt->number, id));
	refuse_other_author(p.rev->id, p.author);
	resume = resume_of(stmt->raw->stmt, p.started[stmt->number - 1]);
	switch (resume.how)
	{
		case RESUME_RECORD:
			catalog_statement_done(id, direction, stmt->number, false);
			ereport(NOTICE,
					errmsg("statement %d (line %d) of revision %s took effect in an interrupted run: recorded as done",
						   stmt->number, stmt->line, id),
					errdetail(IsA(stmt->raw->stmt, IndexStmt)
							  ? "Index %s exists and is valid."
							  : "Index %s is gone.", resume.index),
					errhidecontext(true));
			break;
		case RESUME_BUILDING:
			refuse_building(id, stmt, &resume);
			break;
		case RESUME_REBUILD:
			ereport(NOTICE,
					errmsg("dropping index %s, left invalid by an earlier run of statement %d (line %d) of revision %s, to build it again",
						   resume.index, stmt->number, stmt->line, id),
					errhidecontext(true));
			/* FALLTHROUGH */
		case RESUME_RUN:
			catalog_statement_done(id, direction, stmt->number, true);
			lock_open_statement(stmt->number);
			break;
	}
	catalog_disconnect();
	PG_RETURN_VOID();
}

/*
 * CALL migrate.nontransactional_wait(revision text, downgrade boolean)
 *
 * Waits while the index of the revision's next statement is being built by
 * another backend (the orphan of a killed run, which ends its build or, with
 * client_connection_check_interval, notices its client is gone), at most
 * migrate.lock_wait.  Between looks it commits and sleeps holding no
 * snapshot, since the build waits for every older snapshot.
 */
PG_FUNCTION_INFO_V1(migrate_nontransactional_wait);
Datum
migrate_nontransactional_wait(PG_FUNCTION_ARGS)
{
	char	   *id = arg_text(fcinfo, 0, "revision");
	MigrateDirection direction = direction_arg(fcinfo, 1);
	TimestampTz start = GetCurrentTimestamp();
	MemoryContext looks;
	MemoryContext saved;
	bool		told = false;

	if (!call_is_nonatomic(fcinfo))
		ereport(ERROR,
				errcode(ERRCODE_ACTIVE_SQL_TRANSACTION),
				errmsg("migrate.nontransactional_wait() cannot run inside a transaction block"),
				errdetail("It commits between looks, so that it waits holding no snapshot."),
				errhint("Call it on its own, outside BEGIN and COMMIT."));
	if (SPI_connect_ext(SPI_OPT_NONATOMIC) != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect_ext failed");
	looks = AllocSetContextCreate(CurrentMemoryContext, "migrate wait",
								  ALLOCSET_SMALL_SIZES);
	saved = MemoryContextSwitchTo(looks);
	for (;;)
	{
		Progress	p = progress_of(id, direction);
		ScriptStatement *stmt = next_statement(&p);
		Resume		resume;

		if (stmt == NULL)
			break;
		resume = resume_of(stmt->raw->stmt, p.started[stmt->number - 1]);
		if (resume.how != RESUME_BUILDING)
			break;
		if (migrate_lock_wait >= 0 &&
			TimestampDifferenceExceeds(start, GetCurrentTimestamp(), migrate_lock_wait))
			refuse_building(id, stmt, &resume);
		if (!told)
			ereport(NOTICE,
					errmsg("waiting for process %d, which is still building index %s for statement %d of revision %s",
						   resume.pid, resume.index, stmt->number, id),
					errdetail("An earlier run of the revision started that build and was interrupted."),
					errhidecontext(true));
		told = true;
		MemoryContextSwitchTo(saved);
		MemoryContextReset(looks);
		SPI_commit();
		InvalidateCatalogSnapshot();
		(void) WaitLatch(MyLatch, WL_LATCH_SET | WL_TIMEOUT | WL_EXIT_ON_PM_DEATH,
						 200, PG_WAIT_EXTENSION);
		ResetLatch(MyLatch);
		CHECK_FOR_INTERRUPTS();
		MemoryContextSwitchTo(looks);
	}
	MemoryContextSwitchTo(saved);
	MemoryContextDelete(looks);
	SPI_finish();
	PG_RETURN_VOID();
}

/*
 * migrate.nontransactional_failure(revision text, statement int,
 *		sqlstate text, message text, downgrade boolean) RETURNS void
 *
 * A row in migrate.log: which statement failed, and how; and a WARNING
 * telling how the next run goes on.
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
	Resume		resume;
	const char *command;

	if (PG_ARGISNULL(1))
		arg_reject_null("statement");
	lock_close_statement("nontransactional_failure");
	/*
	 * psql 17 and 18 leave LAST_ERROR_SQLSTATE and LAST_ERROR_MESSAGE empty
	 * after a statement of \gexec fails: the failure is recorded without
	 * them (psql printed the error itself).
	 */
	if (sqlstate[0] == '\0' && message[0] == '\0')
		message = "the error psql printed (this psql did not report it)";
	else if (strlen(sqlstate) != 5 || strspn(sqlstate, "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ") != 5)
		ereport(ERROR,
				errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				errmsg("invalid SQLSTATE \"%s\"", sqlstate),
				errdetail("A SQLSTATE is five digits or upper-case letters."));
	catalog_connect();
	lock_state_change("nontransactional_failure");
	rev = nontransactional_revision(NULL, id);
	stmt = statement_of(rev, revision_statements(rev, direction, NULL), PG_GETARG_INT32(1));
	memset(&edata, 0, sizeof(edata));
	if (sqlstate[0] != '\0')
		edata.sqlerrcode = MAKE_SQLSTATE(sqlstate[0], sqlstate[1], sqlstate[2],
										 sqlstate[3], sqlstate[4]);
	edata.message = psprintf("statement %d (line %d): %s", stmt->number, stmt->line, message);
	catalog_log_failure(direction == MIGRATE_UP ? "upgrade" : "downgrade", id,
						direction, now, now, &edata, NULL);
	resume = resume_of(stmt->raw->stmt, true);
	command = direction == MIGRATE_UP ? "pg_migrate upgrade" : "pg_migrate downgrade";
	ereport(WARNING,
			errmsg("statement %d (line %d) of non-transactional revision %s failed",
				   stmt->number, stmt->line, id),
			errdetail("The statements before it ran and stay recorded."),
			resume.how == RESUME_REBUILD
			? errhint("It left index %s invalid: fix the cause, then run \"%s\" again, which drops that index and resumes at statement %d.",
					  resume.index, command, stmt->number)
			: errhint("Fix the cause, then run \"%s\" again: it resumes at statement %d.",
					  command, stmt->number),
			errhidecontext(true));
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
	catalog_statements_done(id, direction, list_length(stmts), done, NULL, &first);
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
						first ? (double) (now - first) / 1000.0 : -1, NULL);
	catalog_log(direction == MIGRATE_UP ? "upgrade" : "downgrade", id, direction,
				first ? first : now, now, NULL);
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
