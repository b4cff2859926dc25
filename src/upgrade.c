/*-------------------------------------------------------------------------
 *
 * upgrade.c
 *		The calls that move the database: migrate.upgrade(), downgrade(),
 *		stamp() and run().
 *
 * upgrade(), downgrade() and stamp() share one frame: connect, pass the
 * guards and take the lock (lock.c), read the graph, apply or stamp the
 * steps the target asks for (target.c, apply.c), record the new state and
 * return migrate.current().  run() walks the same steps with a commit
 * after each.
 *
 * IDENTIFICATION
 *	  src/upgrade.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/xact.h"
#include "executor/spi.h"
#include "fmgr.h"
#include "nodes/parsenodes.h"
#include "utils/builtins.h"
#include "utils/memutils.h"
#include "utils/timestamp.h"

#include "migrate.h"

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

/* The frame's start: SPI, the guards and the lock, and the graph. */
static MigrateGraph *
change_begin(const char *funcname)
{
	catalog_connect();
	lock_state_change(funcname);
	return catalog_load_graph(0);
}

/*
 * The frame's end: record the new state (also when nothing moved but the
 * cache was stale), and return migrate.current() in the caller's context.
 */
static Datum
change_end(FunctionCallInfo fcinfo, MemoryContext callercxt,
		   MigrateGraph *graph, int nsteps)
{
	List	   *heads;
	char	   *current;
	Datum		result;

	if (nsteps > 0 || (!XactReadOnly && !catalog_cached_state(&heads, &current)))
		catalog_save_state(graph);
	result = result_text(fcinfo, callercxt, graph_current_string(graph));
	catalog_disconnect();
	return result;
}

/* Apply (or unapply) the steps that move the graph to a target. */
static Datum
move_to(FunctionCallInfo fcinfo, const char *funcname, bool downgrade)
{
	MemoryContext callercxt = CurrentMemoryContext;
	char	   *target = arg_text(fcinfo, 0, "target");
	char	   *tenant = arg_text_or_null(fcinfo, 1);
	MigrateGraph *graph;
	MigrateSteps *steps;

	if (tenant)
	{
		/* One tenant's schema and state (tenant.c). */
		char	   *current;
		Datum		result;

		catalog_connect();
		current = tenant_move_to(tenant, target, downgrade, funcname);
		result = result_text(fcinfo, callercxt, current);
		catalog_disconnect();
		return result;
	}

	if (!downgrade)
	{
		char	   *current;
		Datum		result;

		/*
		 * Already at head: what every deploy of every replica asks.  Under
		 * READ COMMITTED the last committed state answers it without the
		 * lock; a transaction with an older snapshot takes the lock, which
		 * checks that its snapshot is not stale.
		 */
		lock_refuse_state_change(funcname);
		if (!IsolationUsesXactSnapshot() && at_cached_head(target, &current))
			PG_RETURN_TEXT_P(cstring_to_text(current));
		catalog_connect();
		lock_state_change(funcname);
		if (at_cached_head(target, &current))
		{
			result = result_text(fcinfo, callercxt, current);
			catalog_disconnect();
			return result;
		}
		graph = catalog_load_graph(0);
	}
	else
		graph = change_begin(funcname);

	tenant_refuse_other_scope(graph, target, false);
	steps = target_steps(graph, target, downgrade, funcname);
	for (int i = 0; i < steps->nsteps; i++)
		refuse_nontransactional(&graph->revs[steps->revs[i]], funcname, downgrade);
	apply_steps(graph, steps, downgrade ? MIGRATE_DOWN : MIGRATE_UP, NULL);
	return change_end(fcinfo, callercxt, graph, steps->nsteps);
}

/*
 * migrate.upgrade(target text DEFAULT 'head', tenant text DEFAULT NULL)
 *	RETURNS text
 *
 * Applies every unapplied revision the target needs, in one deterministic
 * order, and returns migrate.current(): the database's revisions, or with
 * tenant the tenant revisions in that tenant's schema.
 */
PG_FUNCTION_INFO_V1(migrate_upgrade);
Datum
migrate_upgrade(PG_FUNCTION_ARGS)
{
	return move_to(fcinfo, "upgrade", false);
}

/*
 * migrate.downgrade(target text, tenant text DEFAULT NULL) RETURNS text
 *
 * Unapplies every applied revision that descends from the target (or
 * depends on one that does), children first; returns migrate.current().
 */
PG_FUNCTION_INFO_V1(migrate_downgrade);
Datum
migrate_downgrade(PG_FUNCTION_ARGS)
{
	return move_to(fcinfo, "downgrade", true);
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
	char	   *target_text = arg_text(fcinfo, 0, "target");
	MigrateGraph *graph = change_begin("stamp");
	MigrateTarget *target = target_resolve(graph, target_text);
	MigrateSteps *add;
	MigrateSteps *remove;

	target_refuse_branch_base(target, target_text, "stamp");
	graph_stamp_sets(graph, target, &add, &remove);
	stamp_steps(graph, remove, MIGRATE_DOWN);
	stamp_steps(graph, add, MIGRATE_UP);
	return change_end(fcinfo, callercxt, graph, add->nsteps + remove->nsteps);
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

	apply_steps(one->graph, &one->steps, one->direction, NULL);
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
							GetCurrentTimestamp(), edata, NULL);
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
	char	   *target_text = arg_text(fcinfo, 0, "target");
	bool		downgrade = arg_bool(fcinfo, 1, "downgrade");
	MigrateDirection direction = downgrade ? MIGRATE_DOWN : MIGRATE_UP;
	MemoryContext runcxt;
	MemoryContext stepcxt;
	MigrateGraph *graph = NULL;
	MigrateSteps *steps = NULL;
	int			next = 0;
	int64		expected = -1;

	if (!call_is_nonatomic(fcinfo))
		ereport(ERROR,
				errcode(ERRCODE_ACTIVE_SQL_TRANSACTION),
				errmsg("migrate.run() cannot run inside a transaction block"),
				errdetail("It commits after each revision."),
				errhint("Call it on its own, as CALL migrate.run(...), outside BEGIN and COMMIT; or use SELECT migrate.upgrade(...) to apply everything in the current transaction."));

	lock_refuse_state_change("run");
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
		changes = lock_state_change("run");
		if (graph == NULL || changes != expected)
		{
			MemoryContext oldcxt;

			MemoryContextReset(runcxt);
			oldcxt = MemoryContextSwitchTo(runcxt);
			graph = catalog_load_graph(0);
			steps = target_steps(graph, target_text, downgrade, "run");
			next = 0;
			MemoryContextSwitchTo(oldcxt);
		}
		if (next >= steps->nsteps)
			break;

		/* Those before it stay committed. */
		refuse_nontransactional(&graph->revs[steps->revs[next]], "run", downgrade);
		run_one_step(graph, steps->revs[next], direction);
		next++;
		catalog_save_state(graph);
		expected = changes + 1;
		SPI_commit();
	}

	/* SPI_finish() deletes both, and returns to the caller's context. */
	SPI_finish();
	PG_RETURN_VOID();
}
