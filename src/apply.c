/*-------------------------------------------------------------------------
 *
 * apply.c
 *		Running the steps of an upgrade or downgrade, and stamping.
 *
 * Each script is cut into statements by validate.c (the same cut that was
 * checked at registration) and each statement runs through SPI as the
 * caller, with the caller's search_path, under an error context that names
 * the revision, the direction, the statement and its line.  Each step runs
 * in a memory context that is reset before the next, so a long series does
 * not grow the backend.
 *
 * IDENTIFICATION
 *	  src/apply.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "executor/spi.h"
#include "lib/stringinfo.h"
#include "portability/instr_time.h"
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
} StatementErrorContext;

static void
statement_error_callback(void *arg)
{
	StatementErrorContext *ctx = (StatementErrorContext *) arg;

	errcontext("%s script of revision \"%s\", statement %d, line %d",
			   ctx->direction == MIGRATE_UP ? "upgrade" : "downgrade",
			   ctx->rev->id, ctx->stmt->number, ctx->stmt->line);
}

static void
run_script(const MigrateRevision *rev, const char *script,
		   MigrateDirection direction)
{
	List	   *stmts = script_split(script, rev->id, direction);
	ListCell   *lc;
	StatementErrorContext ctx;
	ErrorContextCallback callback;

	/* A script registered before a check was added still gets it. */
	script_check_statements(stmts, script, rev->id, direction);

	ctx.rev = rev;
	ctx.direction = direction;
	callback.callback = statement_error_callback;
	callback.arg = &ctx;
	callback.previous = error_context_stack;
	error_context_stack = &callback;

	foreach(lc, stmts)
	{
		int			rc;

		ctx.stmt = lfirst(lc);
		rc = SPI_execute(ctx.stmt->text, false, 0);
		if (rc < 0)
			elog(ERROR, "SPI_execute failed: %s", SPI_result_code_string(rc));
		SPI_freetuptable(SPI_tuptable);
	}

	error_context_stack = callback.previous;
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
 * 12.4 ms".  The duration is left out when migrate.report_timing is off.
 */
static void
report_step(const char *action, const char *from, const char *to,
			const char *message, const char *suffix, double ms)
{
	StringInfoData buf;

	initStringInfo(&buf);
	appendStringInfo(&buf, "%s %s -> %s", action, from, to);
	if (message && message[0])
		appendStringInfo(&buf, " (%s)", message);
	if (suffix)
		appendStringInfo(&buf, ": %s", suffix);
	else if (migrate_report_timing)
		appendStringInfo(&buf, ": %.1f ms", ms);
	ereport(NOTICE, errmsg("%s", buf.data));
	pfree(buf.data);
}

void
apply_steps(const MigrateGraph *graph, const MigrateSteps *steps,
			MigrateDirection direction)
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
		for (int i = 0; i < steps->nsteps; i++)
		{
			const MigrateRevision *rev = &graph->revs[steps->revs[i]];
			char	   *script = catalog_fetch_script(rev->id, direction);
			TimestampTz started = GetCurrentTimestamp();
			instr_time	start;
			instr_time	duration;
			double		ms;

			INSTR_TIME_SET_CURRENT(start);
			if (script == NULL)
				elog(ERROR, "revision \"%s\" has no downgrade script", rev->id);
			run_script(rev, script, direction);
			INSTR_TIME_SET_CURRENT(duration);
			INSTR_TIME_SUBTRACT(duration, start);
			ms = INSTR_TIME_GET_MILLISEC(duration);

			catalog_set_applied(rev, direction == MIGRATE_UP, ms);
			catalog_log(direction == MIGRATE_UP ? "upgrade" : "downgrade",
						rev->id, direction, started, GetCurrentTimestamp());

			if (direction == MIGRATE_UP)
				report_step("upgrade", parents_text(rev), rev->id,
							rev->message, NULL, ms);
			else
				report_step("downgrade", rev->id, parents_text(rev),
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
stamp_steps(const MigrateGraph *graph, const MigrateSteps *steps,
			MigrateDirection direction)
{
	for (int i = 0; i < steps->nsteps; i++)
	{
		const MigrateRevision *rev = &graph->revs[steps->revs[i]];
		TimestampTz now = GetCurrentTimestamp();

		catalog_set_applied(rev, direction == MIGRATE_UP, -1);
		catalog_log("stamp", rev->id, direction, now, now);
		if (direction == MIGRATE_UP)
			report_step("stamp", parents_text(rev), rev->id, rev->message,
						"marked applied, no script run", 0);
		else
			report_step("stamp", rev->id, parents_text(rev), rev->message,
						"marked not applied, no script run", 0);
	}
}
