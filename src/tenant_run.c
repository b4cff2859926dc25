/*-------------------------------------------------------------------------
 *
 * tenant_run.c
 *		CALL migrate.run_tenants(): every tenant to a target, the canary
 *		first, each revision of each tenant committed on its own; a failing
 *		tenant is rolled back and recorded, and the others go on.
 *
 * The calling session runs the canary, then either every tenant itself or,
 * with parallel => N, starts N background workers (tenant_worker.c) that
 * take the tenants one by one, waits for them, and reports.  Both move a
 * tenant with tenant_run_one() (tenant.c).
 *
 * IDENTIFICATION
 *	  src/tenant_run.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/xact.h"
#include "executor/spi.h"
#include "fmgr.h"
#include "lib/stringinfo.h"
#include "utils/builtins.h"
#include "utils/memutils.h"
#include "utils/timestamp.h"

#include "migrate.h"
#include "tenant.h"

static bool
in_list(List *names, const char *name)
{
	ListCell   *lc;

	foreach(lc, names)
		if (strcmp(lfirst(lc), name) == 0)
			return true;
	return false;
}

/* The list without the first name equal to "name". */
static List *
list_delete_first_str(List *names, const char *name)
{
	ListCell   *lc;

	foreach(lc, names)
		if (strcmp(lfirst(lc), name) == 0)
			return list_delete_cell(names, lc);
	return names;
}

static void
refuse_failed_canary(const char *canary, const ErrorData *edata)
{
	ereport(ERROR,
			errcode(edata->sqlerrcode),
			errmsg("canary tenant \"%s\" failed: %s", canary, edata->message),
			errdetail("No other tenant was migrated.  The canary's failed step was rolled back, and its error is recorded in migrate.log and migrate.tenants."),
			edata->context ? errcontext("%s", edata->context) : 0);
}

/*
 * CALL migrate.run_tenants(target text DEFAULT 'head', canary text DEFAULT
 *							NULL, parallel integer DEFAULT 1)
 *
 * Upgrades every tenant to the target: the canary first (when it fails,
 * nothing else runs), then the others in name order, each revision of
 * each tenant committed on its own as run() does.  A failing tenant is
 * rolled back alone and recorded, and the others go on; the call ends with
 * a summary NOTICE, and an error naming the failed tenants if any failed.
 */
PG_FUNCTION_INFO_V1(migrate_run_tenants);
Datum
migrate_run_tenants(PG_FUNCTION_ARGS)
{
	char	   *target = arg_text(fcinfo, 0, "target");
	char	   *canary = arg_text_or_null(fcinfo, 1);
	int			parallel;
	TenantRun	run;
	MemoryContext runcxt;
	List	   *tenants;
	ListCell   *lc;
	int			counts[TENANT_NOUTCOMES] = {0};
	int			nlisted;
	bool		canary_listed;
	StringInfoData failed;
	char	   *head_string = NULL;
	int64		ntenants;

	if (PG_ARGISNULL(2))
		arg_reject_null("parallel");
	parallel = PG_GETARG_INT32(2);
	if (!call_is_nonatomic(fcinfo))
		ereport(ERROR,
				errcode(ERRCODE_ACTIVE_SQL_TRANSACTION),
				errmsg("migrate.run_tenants() cannot run inside a transaction block"),
				errdetail("It commits after each revision of each tenant."),
				errhint("Call it on its own, as CALL migrate.run_tenants(...), outside BEGIN and COMMIT; or use SELECT migrate.upgrade(..., tenant => ...) to move one tenant in the current transaction."));
	if (parallel < 1)
		ereport(ERROR,
				errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				errmsg("invalid parallel %d", parallel),
				errhint("parallel is how many tenants are migrated at once: 1 or more."));

	lock_refuse_state_change("run_tenants");
	if (SPI_connect_ext(SPI_OPT_NONATOMIC) != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect_ext failed");

	/* All live across the commits, in the procedure's SPI memory. */
	runcxt = CurrentMemoryContext;
	memset(&run, 0, sizeof(run));
	run.target = target;
	run.commit = SPI_commit;
	run.graphcxt = AllocSetContextCreate(runcxt, "migrate tenant graph",
										 ALLOCSET_DEFAULT_SIZES);
	run.stepcxt = AllocSetContextCreate(runcxt, "migrate tenant step",
										ALLOCSET_DEFAULT_SIZES);

	/*
	 * The target is checked once, before any tenant moves; a tenant whose
	 * recorded current revision already is every head needs no more look
	 * when the target is the heads.
	 */
	MemoryContextSwitchTo(run.graphcxt);
	run.graph_changes = lock_tenant_change("run_tenants");
	run.graph = catalog_load_graph(GRAPH_TENANT);
	tenant_refuse_other_scope(run.graph, target, true);
	(void) target_resolve(run.graph, target);
	if (pg_strcasecmp(target, "head") == 0 || pg_strcasecmp(target, "heads") == 0)
	{
		for (int i = 0; i < run.graph->nrevs; i++)
			run.graph->revs[i].applied = true;
		head_string = graph_current_string(run.graph);
		head_string = head_string ? MemoryContextStrdup(runcxt, head_string) : NULL;
	}
	MemoryContextSwitchTo(runcxt);
	if (canary && !catalog_tenant_exists(canary, NULL))
		tenant_refuse_unknown(canary);
	ntenants = catalog_tenant_count();
	tenants = catalog_tenant_list(head_string);
	nlisted = list_length(tenants);
	canary_listed = canary && in_list(tenants, canary);
	SPI_commit();

	initStringInfo(&failed);
	if (canary)
	{
		TenantOutcome outcome;

		MemoryContextSwitchTo(run.stepcxt);
		outcome = tenant_run_one(&run, canary);
		MemoryContextSwitchTo(runcxt);
		if (outcome == TENANT_FAILED)
			refuse_failed_canary(canary, run.error);
		counts[outcome]++;
	}
	if (canary)
		tenants = list_delete_first_str(tenants, canary);
	if (parallel > 1 && tenants != NIL)
		tenant_run_parallel(&run, tenants, parallel, counts, &failed);
	else
		foreach(lc, tenants)
		{
			const char *tenant = lfirst(lc);
			TenantOutcome outcome;

			MemoryContextSwitchTo(run.stepcxt);
			outcome = tenant_run_one(&run, tenant);
			MemoryContextSwitchTo(runcxt);
			counts[outcome]++;
			if (outcome == TENANT_FAILED)
				appendStringInfo(&failed, "%s%s", failed.len > 0 ? ", " : "",
								 quote_identifier(tenant));
		}

	/* Those left out of the list were at the heads already. */
	counts[TENANT_AT_TARGET] += (int) ntenants - nlisted - (canary && !canary_listed ? 1 : 0);
	ereport(NOTICE,
			errmsg("%lld tenants: %d migrated, %d already at target, %d failed",
				   (long long) ntenants, counts[TENANT_MOVED],
				   counts[TENANT_AT_TARGET], counts[TENANT_FAILED]),
			errhidecontext(true));
	if (counts[TENANT_FAILED] > 0)
		ereport(ERROR,
				errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				errmsg_plural("%d of %lld tenants failed: %s",
							  "%d of %lld tenants failed: %s",
							  counts[TENANT_FAILED], counts[TENANT_FAILED],
							  (long long) ntenants, failed.data),
				errdetail("Each failed tenant's failing step was rolled back; the revisions before it stay applied, and the other tenants were migrated."),
				errhint("SELECT tenant, last_error FROM migrate.tenants WHERE last_error IS NOT NULL; shows why.  The next run retries them."));
	if (ntenants == 0)
		ereport(NOTICE,
				errmsg("no tenant is registered"),
				errhint("Register one with SELECT migrate.add_tenant('<schema>');"),
				errhidecontext(true));

	SPI_finish();
	PG_RETURN_VOID();
}
