/*-------------------------------------------------------------------------
 *
 * apply.c
 *		Running the steps of an upgrade or downgrade, and stamping.
 *
 * Each script is cut into statements by validate.c (the same cut that was
 * checked at registration) and each statement runs through SPI as the
 * role that registered the revision (author.c), with the caller's
 * search_path (a tenant's schema first, for a tenant revision), under an
 * error context that names the revision, the direction, the statement and
 * its line.  Each step runs
 * in a memory context that is reset before the next, so a long series does
 * not grow the backend.
 *
 * IDENTIFICATION
 *	  src/apply.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/xact.h"
#include "catalog/namespace.h"
#include "catalog/pg_type.h"
#include "executor/spi.h"
#include "lib/stringinfo.h"
#include "miscadmin.h"
#include "nodes/parsenodes.h"
#include "pgstat.h"
#include "storage/latch.h"
#include "tcop/dest.h"
#include "utils/guc.h"
#include "portability/instr_time.h"
#include "utils/builtins.h"
#include "utils/memutils.h"
#include "utils/timestamp.h"

#include "migrate.h"

/* True while a migration script runs: migrate must not be re-entered. */
bool		apply_in_progress = false;

typedef struct StatementErrorContext
{
	const MigrateRevision *rev;
	MigrateDirection direction;
	const ScriptStatement *stmt;
	const char *tenant;
} StatementErrorContext;

static void
statement_error_callback(void *arg)
{
	StatementErrorContext *ctx = (StatementErrorContext *) arg;

	if (ctx->tenant)
		errcontext("%s script of revision \"%s\", statement %d, line %d, in tenant \"%s\"",
				   ctx->direction == MIGRATE_UP ? "upgrade" : "downgrade",
				   ctx->rev->id, ctx->stmt->number, ctx->stmt->line,
				   ctx->tenant);
	else
		errcontext("%s script of revision \"%s\", statement %d, line %d",
				   ctx->direction == MIGRATE_UP ? "upgrade" : "downgrade",
				   ctx->rev->id, ctx->stmt->number, ctx->stmt->line);
}

/* A qualified name for messages. */
static void
append_rangevar(StringInfo buf, const RangeVar *rv)
{
	if (buf->len > 0)
		appendStringInfoString(buf, ", ");
	if (rv->schemaname)
		appendStringInfo(buf, "%s.", quote_identifier(rv->schemaname));
	appendStringInfoString(buf, quote_identifier(rv->relname));
}

/*
 * The tables a statement names, for the message when it cannot get its
 * locks: the raw parse tree of the common DDL and DML statements.
 */
static char *
statement_tables(Node *node)
{
	StringInfoData buf;
	ListCell   *lc;

	initStringInfo(&buf);
	switch (nodeTag(node))
	{
		case T_AlterTableStmt:
			append_rangevar(&buf, ((AlterTableStmt *) node)->relation);
			break;
		case T_IndexStmt:
			append_rangevar(&buf, ((IndexStmt *) node)->relation);
			break;
		case T_RenameStmt:
			if (((RenameStmt *) node)->relation)
				append_rangevar(&buf, ((RenameStmt *) node)->relation);
			break;
		case T_CreateTrigStmt:
			append_rangevar(&buf, ((CreateTrigStmt *) node)->relation);
			break;
		case T_InsertStmt:
			append_rangevar(&buf, ((InsertStmt *) node)->relation);
			break;
		case T_UpdateStmt:
			append_rangevar(&buf, ((UpdateStmt *) node)->relation);
			break;
		case T_DeleteStmt:
			append_rangevar(&buf, ((DeleteStmt *) node)->relation);
			break;
		case T_LockStmt:
			foreach(lc, ((LockStmt *) node)->relations)
				append_rangevar(&buf, lfirst_node(RangeVar, lc));
			break;
		case T_TruncateStmt:
			foreach(lc, ((TruncateStmt *) node)->relations)
				append_rangevar(&buf, lfirst_node(RangeVar, lc));
			break;
		case T_DropStmt:
			foreach(lc, ((DropStmt *) node)->objects)
			{
				if (IsA(lfirst(lc), List))
				{
					if (buf.len > 0)
						appendStringInfoString(&buf, ", ");
					appendStringInfoString(&buf,
										   NameListToQuotedString(lfirst(lc)));
				}
			}
			break;
		default:
			break;
	}
	return buf.len > 0 ? buf.data : NULL;
}

/*
 * Run fn(arg) in a subtransaction.  On success it is committed and NULL
 * returned; on error it is rolled back and the error returned, for the
 * caller to act on and usually raise again with ReThrowError().
 */
ErrorData *
apply_in_subtransaction(void (*fn) (void *arg), void *arg)
{
	MemoryContext oldcxt = CurrentMemoryContext;
	ResourceOwner oldowner = CurrentResourceOwner;
	ErrorData  *volatile edata = NULL;	/* set in PG_CATCH, read after */

	BeginInternalSubTransaction(NULL);
	MemoryContextSwitchTo(oldcxt);
	PG_TRY();
	{
		fn(arg);
		ReleaseCurrentSubTransaction();
	}
	PG_CATCH();
	{
		MemoryContextSwitchTo(oldcxt);
		edata = CopyErrorData();
		FlushErrorState();
		RollbackAndReleaseCurrentSubTransaction();
	}
	PG_END_TRY();
	MemoryContextSwitchTo(oldcxt);
	CurrentResourceOwner = oldowner;
	return edata;
}

typedef struct StatementAttempt
{
	const ScriptStatement *stmt;
	const char *lock_timeout;
} StatementAttempt;

/*
 * Run one statement of a script.  The rows it returns go nowhere as they
 * come (a data migration that selects five million rows must not keep
 * them).  SPI leaves its own procedure context current after a call;
 * switching back keeps what follows in the step's context, which is reset
 * after each revision.
 */
static void
execute_statement(const ScriptStatement *stmt)
{
	MemoryContext cxt = CurrentMemoryContext;
	SPIExecuteOptions options;
	int			rc;

	memset(&options, 0, sizeof(options));
	options.dest = None_Receiver;
	rc = SPI_execute_extended(stmt->text, &options);
	MemoryContextSwitchTo(cxt);
	if (rc < 0)
		elog(ERROR, "SPI_execute failed: %s", SPI_result_code_string(rc));
}

/* One attempt at a statement, under migrate.ddl_lock_timeout. */
static void
attempt_statement(void *arg)
{
	StatementAttempt *try = (StatementAttempt *) arg;

	/* Reverted with the subtransaction, whatever happens. */
	(void) set_config_option("lock_timeout", try->lock_timeout, PGC_USERSET,
							 PGC_S_SESSION, GUC_ACTION_LOCAL, true, 0, false);
	execute_statement(try->stmt);
}

/*
 * Run one statement.  With migrate.ddl_lock_timeout set, the statement runs
 * under that lock_timeout inside a subtransaction; when it times out
 * waiting for a lock it is rolled back to that savepoint and, after a
 * growing pause, tried again, so that it never queues for long in front of
 * the sessions that wait behind it.
 */
static void
run_statement(const MigrateRevision *rev, const ScriptStatement *stmt,
			  MigrateDirection direction)
{
	char		timeout[32];

	if (migrate_ddl_lock_timeout <= 0)
	{
		execute_statement(stmt);
		return;
	}

	snprintf(timeout, sizeof(timeout), "%d", migrate_ddl_lock_timeout);
	for (int attempt = 0;; attempt++)
	{
		StatementAttempt try = {stmt, timeout};
		ErrorData  *edata = apply_in_subtransaction(attempt_statement, &try);

		if (edata == NULL)
			return;
		if (edata->sqlerrcode != ERRCODE_LOCK_NOT_AVAILABLE)
			ReThrowError(edata);
		FreeErrorData(edata);

		if (attempt >= migrate_ddl_lock_retries)
		{
			char	   *tables = statement_tables(stmt->raw->stmt);

			ereport(ERROR,
					errcode(ERRCODE_LOCK_NOT_AVAILABLE),
					errmsg("%s script of revision \"%s\" could not lock %s",
						   direction == MIGRATE_UP ? "upgrade" : "downgrade",
						   rev->id,
						   tables == NULL ? "the tables it needs"
						   : strchr(tables, ',') ? psprintf("tables %s", tables)
						   : psprintf("table %s", tables)),
					errdetail("Statement %d (line %d) waited %d ms for its locks %d times.",
							  stmt->number, stmt->line,
							  migrate_ddl_lock_timeout, attempt + 1),
					errhint("Another session holds a conflicting lock, for example a long transaction.  Retry later, or raise migrate.ddl_lock_timeout or migrate.ddl_lock_retries."));
		}
		else
		{
			long		pause = 100L << Min(attempt, 6);

			ereport(NOTICE,
					errmsg("statement %d of revision %s could not get its locks within %d ms; retry %d of %d in %ld ms",
						   stmt->number, rev->id, migrate_ddl_lock_timeout,
						   attempt + 1, migrate_ddl_lock_retries, pause));
			(void) WaitLatch(MyLatch,
							 WL_LATCH_SET | WL_TIMEOUT | WL_EXIT_ON_PM_DEATH,
							 pause, PG_WAIT_EXTENSION);
			ResetLatch(MyLatch);
			CHECK_FOR_INTERRUPTS();
		}
	}
}

/*
 * A tenant's script finds that tenant's schema first on search_path (it
 * names no schema), and its name in migrate.tenant.
 */
static void
enter_tenant(const char *tenant)
{
	char	   *path = GetConfigOptionByName("search_path", NULL, false);

	(void) set_config_option("search_path",
							 psprintf("%s%s%s", quote_identifier(tenant),
									  path[0] ? ", " : "", path),
							 PGC_USERSET, PGC_S_SESSION, GUC_ACTION_SAVE,
							 true, 0, false);
	(void) set_config_option("migrate.tenant", tenant, PGC_USERSET,
							 PGC_S_SESSION, GUC_ACTION_SAVE, true, 0, false);
}

static void
run_script(const MigrateRevision *rev, const char *script, Oid author,
		   MigrateDirection direction, const char *tenant)
{
	List	   *stmts = script_split(script, script_name(rev->id, direction));
	ListCell   *lc;
	StatementErrorContext ctx;
	ErrorContextCallback callback;
	ErrorContextCallback *outer;
	int			guc_level;
	AuthorSwitch saved;

	/* A script registered before a check was added still gets it. */
	script_check_statements(stmts, script, rev->id, direction, true);

	/*
	 * A script's errors say where in the script they are, and no more: the
	 * frames of whoever called migrate (a DO block, a function, a pg_cron
	 * job) are not the script's.
	 */
	ctx.rev = rev;
	ctx.direction = direction;
	ctx.tenant = tenant;
	callback.callback = statement_error_callback;
	callback.arg = &ctx;
	callback.previous = NULL;
	outer = error_context_stack;
	error_context_stack = &callback;

	/*
	 * What the script sets (search_path, lock_timeout, the lock_timeout of
	 * migrate.ddl_lock_timeout) ends with it: the caller's settings are
	 * what they were, in and after the caller's transaction.
	 */
	guc_level = NewGUCNestLevel();
	if (tenant)
		enter_tenant(tenant);
	author_become(author, &saved);
	PG_TRY();
	{
		foreach(lc, stmts)
		{
			ctx.stmt = lfirst(lc);
			run_statement(rev, ctx.stmt, direction);
		}
	}
	PG_FINALLY();
	{
		author_restore(&saved);
	}
	PG_END_TRY();
	AtEOXact_GUC(false, guc_level);

	error_context_stack = outer;
}

/*
 * With migrate.restore_point on, a named restore point before the first
 * script, created as the caller (pg_create_restore_point() is for
 * superusers unless granted).
 */
static void
create_restore_point(const MigrateRevision *rev, MigrateDirection direction)
{
	MemoryContext cxt = CurrentMemoryContext;
	Oid			argtypes[1] = {TEXTOID};
	Datum		values[1];
	int			rc;
	char	   *name = psprintf("migrate_before_%s_%s",
								direction == MIGRATE_UP ? "upgrade" : "downgrade",
								rev->id);

	values[0] = CStringGetTextDatum(name);
	rc = SPI_execute_with_args("SELECT pg_catalog.pg_create_restore_point($1)",
							   1, argtypes, values, NULL, false, 1);
	MemoryContextSwitchTo(cxt);
	if (rc != SPI_OK_SELECT)
		elog(ERROR, "SPI_execute_with_args failed: %s",
			 SPI_result_code_string(rc));
	SPI_freetuptable(SPI_tuptable);
	ereport(NOTICE, errmsg("restore point \"%s\" created", name));
}

/* "a, b" for the parents of a revision, or "base". */
static char *
parents_text(const MigrateRevision *rev)
{
	StringInfoData buf;

	if (rev->nparents == 0)
		return "base";
	initStringInfo(&buf);
	for (int i = 0; i < rev->nparents; i++)
		appendStringInfo(&buf, "%s%s", i > 0 ? ", " : "", rev->parent_ids[i]);
	return buf.data;
}

/*
 * The progress line: "upgrade 1a2b3c4d5e6f -> 3f2a9c1b7d4e (add email):
 * 12.4 ms", after "tenant acme: " in a tenant.  The duration is left out
 * when migrate.report_timing is off.
 */
static void
report_step(const char *tenant, const char *action, const char *from,
			const char *to, const char *message, const char *suffix, double ms)
{
	StringInfoData buf;

	initStringInfo(&buf);
	if (tenant)
		appendStringInfo(&buf, "tenant %s: ", tenant);
	appendStringInfo(&buf, "%s %s -> %s", action, from, to);
	if (message && message[0])
		appendStringInfo(&buf, " (%s)", message);
	if (suffix)
		appendStringInfo(&buf, ": %s", suffix);
	else if (migrate_report_timing)
		appendStringInfo(&buf, ": %.1f ms", ms);
	/* Progress, not a place: no context lines of the caller's. */
	ereport(NOTICE, errmsg("%s", buf.data), errhidecontext(true));
	pfree(buf.data);
}

/*
 * Run the steps' scripts and record each as applied (or not): in the
 * database, or with "tenant" in that tenant's schema and applied state.
 */
void
apply_steps(MigrateGraph *graph, const MigrateSteps *steps,
			MigrateDirection direction, const char *tenant)
{
	MemoryContext stepcxt;
	MemoryContext oldcxt;

	if (steps->nsteps == 0)
		return;

	stepcxt = AllocSetContextCreate(CurrentMemoryContext, "migrate step",
									ALLOCSET_DEFAULT_SIZES);
	oldcxt = MemoryContextSwitchTo(stepcxt);

	apply_in_progress = true;
	PG_TRY();
	{
		if (migrate_restore_point)
			create_restore_point(&graph->revs[steps->revs[0]], direction);

		for (int i = 0; i < steps->nsteps; i++)
		{
			MigrateRevision *rev = &graph->revs[steps->revs[i]];
			char	   *author;
			char	   *script = catalog_fetch_script(rev, direction, &author);
			Oid			role = author_role(rev->id, author);
			TimestampTz started = GetCurrentTimestamp();
			instr_time	start;
			instr_time	duration;
			double		ms;

			INSTR_TIME_SET_CURRENT(start);
			if (script == NULL)
				elog(ERROR, "revision \"%s\" has no downgrade script", rev->id);
			run_script(rev, script, role, direction, tenant);
			INSTR_TIME_SET_CURRENT(duration);
			INSTR_TIME_SUBTRACT(duration, start);
			ms = INSTR_TIME_GET_MILLISEC(duration);

			catalog_set_applied(rev, direction == MIGRATE_UP, ms, tenant);
			rev->applied = direction == MIGRATE_UP;
			catalog_log(direction == MIGRATE_UP ? "upgrade" : "downgrade",
						rev->id, direction, started, GetCurrentTimestamp(),
						tenant);

			if (direction == MIGRATE_UP)
				report_step(tenant, "upgrade", parents_text(rev), rev->id,
							rev->message, NULL, ms);
			else
				report_step(tenant, "downgrade", rev->id, parents_text(rev),
							rev->message, NULL, ms);

			MemoryContextReset(stepcxt);
		}
	}
	PG_FINALLY();
	{
		apply_in_progress = false;
	}
	PG_END_TRY();

	MemoryContextSwitchTo(oldcxt);
	MemoryContextDelete(stepcxt);
}

/* Mark revisions applied or not, running nothing. */
void
stamp_steps(MigrateGraph *graph, const MigrateSteps *steps,
			MigrateDirection direction)
{
	for (int i = 0; i < steps->nsteps; i++)
	{
		MigrateRevision *rev = &graph->revs[steps->revs[i]];
		TimestampTz now = GetCurrentTimestamp();

		catalog_set_applied(rev, direction == MIGRATE_UP, -1, NULL);
		rev->applied = direction == MIGRATE_UP;
		catalog_log("stamp", rev->id, direction, now, now, NULL);
		if (direction == MIGRATE_UP)
			report_step(NULL, "stamp", parents_text(rev), rev->id, rev->message,
						"marked applied, no script run", 0);
		else
			report_step(NULL, "stamp", rev->id, parents_text(rev), rev->message,
						"marked not applied, no script run", 0);
	}
}
