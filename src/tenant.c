/*-------------------------------------------------------------------------
 *
 * tenant.c
 *		Tenants: schemas that each get every tenant revision.  Registering
 *		and dropping them (migrate.add_tenant(), drop_tenant()), moving one
 *		in the caller's transaction (upgrade() and downgrade() with tenant)
 *		or one revision per transaction (tenant_run_one(), for
 *		run_tenants(): tenant_run.c and tenant_worker.c).
 *
 * Tenant revisions form a graph of their own (catalog_load_graph() with
 * GRAPH_TENANT), with the same target grammar; each tenant has its own
 * applied state.  A call that moves tenants takes the migration lock in
 * share mode, so that tenants move in parallel while no revision is
 * registered and the database's state does not change, and then locks each
 * tenant's row (catalog_tenant.c) while it moves that tenant: never more
 * than one tenant at a time, so two such calls cannot deadlock.
 *
 * IDENTIFICATION
 *	  src/tenant.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/xact.h"
#include "executor/spi.h"
#include "fmgr.h"
#include "utils/builtins.h"
#include "utils/memutils.h"
#include "utils/timestamp.h"

#include "migrate.h"
#include "tenant.h"

/*
 * A target that names a revision of the other scope gets an error that
 * says so, before the target grammar says it knows no such revision.
 */
void
tenant_refuse_other_scope(const MigrateGraph *graph, const char *target,
						  bool tenant_scope)
{
	char		id[MIGRATE_ID_MAXLEN + 1];
	size_t		len = strspn(target, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_");
	MigrateRevision rev;

	if (len == 0 || len > MIGRATE_ID_MAXLEN)
		return;
	memcpy(id, target, len);
	id[len] = '\0';
	/* The keywords name no revision: no catalog lookup for them. */
	if (pg_strcasecmp(id, "head") == 0 || pg_strcasecmp(id, "heads") == 0 ||
		pg_strcasecmp(id, "base") == 0)
		return;
	if (graph_find(graph, id) >= 0 || graph_find_label(graph, id) >= 0 ||
		!catalog_fetch_revision(id, &rev) || rev.tenant_scope == tenant_scope)
		return;
	if (tenant_scope)
		ereport(ERROR,
				errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				errmsg("revision \"%s\" is a database revision, not a tenant revision", id),
				errdetail("Calls that move tenants (with tenant => ..., run_tenants(), add_tenant()) move them through the tenant revisions."),
				errhint("Apply it to the database: SELECT migrate.upgrade('%s');", id));
	ereport(ERROR,
			errcode(ERRCODE_INVALID_PARAMETER_VALUE),
			errmsg("revision \"%s\" is a tenant revision", id),
			errdetail("Without tenant, the call moves the database through the database revisions."),
			errhint("Name the tenant, as in SELECT migrate.upgrade('%s', tenant => 'acme'); or move every tenant with CALL migrate.run_tenants('%s');",
					id, id));
}

/* The database revisions a tenant step depends on must be applied. */
void
tenant_refuse_unapplied_external(const MigrateGraph *graph, const MigrateSteps *steps)
{
	for (int i = 0; i < steps->nsteps; i++)
	{
		const MigrateRevision *rev = &graph->revs[steps->revs[i]];

		for (int j = 0; j < rev->nexternal; j++)
			if (!catalog_is_applied(rev->external_ids[j], NULL))
				ereport(ERROR,
						errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
						errmsg("tenant revision \"%s\" depends on database revision \"%s\", which is not applied",
							   rev->id, rev->external_ids[j]),
						errhint("Upgrade the database first: " MIGRATE_CATCH_UP "."));
	}
}

void
tenant_refuse_unknown(const char *tenant)
{
	ereport(ERROR,
			errcode(ERRCODE_UNDEFINED_OBJECT),
			errmsg("tenant \"%s\" does not exist", tenant),
			errhint("Register it with SELECT migrate.add_tenant('%s'); SELECT tenant FROM migrate.tenants lists the tenants.",
					tenant));
}

/* The tenant graph, with this tenant's applied state. */
static MigrateGraph *
tenant_graph(const char *tenant)
{
	MigrateGraph *graph = catalog_load_graph(GRAPH_TENANT);

	catalog_tenant_applied(graph, tenant);
	return graph;
}

/*
 * Move one tenant to a target in the caller's transaction: lock it, apply
 * (or unapply) the steps, record its new current revision, and return it.
 */
char *
tenant_move_to(const char *tenant, const char *target, bool downgrade,
			   const char *funcname)
{
	MigrateGraph *graph;
	MigrateSteps *steps;
	char	   *recorded;
	char	   *current;

	lock_tenant_change(funcname);
	if (catalog_tenant_lock(tenant, false, &recorded) == TENANT_UNKNOWN)
		tenant_refuse_unknown(tenant);
	graph = tenant_graph(tenant);
	tenant_refuse_other_scope(graph, target, true);
	steps = target_steps(graph, target, downgrade, funcname);
	if (!downgrade)
		tenant_refuse_unapplied_external(graph, steps);
	apply_steps(graph, steps, downgrade ? MIGRATE_DOWN : MIGRATE_UP, tenant);
	current = graph_current_string(graph);
	if (steps->nsteps > 0 ||
		(recorded == NULL) != (current == NULL) ||
		(current && strcmp(recorded, current) != 0))
		catalog_tenant_save(tenant, current);
	return current;
}

/* A schema name as an argument: its NameData, NULL refused. */
static char *
arg_schema(FunctionCallInfo fcinfo, int argno, const char *argname)
{
	if (PG_ARGISNULL(argno))
		arg_reject_null(argname);
	return pstrdup(NameStr(*PG_GETARG_NAME(argno)));
}

/*
 * migrate.add_tenant(schema name) RETURNS text
 *
 * Registers a tenant, creating its schema (as the caller) when missing, and
 * brings it to the tenant heads in the caller's transaction: a new customer
 * is ready when that transaction commits.  Returns its current revision.
 */
PG_FUNCTION_INFO_V1(migrate_add_tenant);
Datum
migrate_add_tenant(PG_FUNCTION_ARGS)
{
	MemoryContext callercxt = CurrentMemoryContext;
	char	   *tenant = arg_schema(fcinfo, 0, "schema");
	char	   *current;
	Datum		result;
	MemoryContext cxt;

	if (tenant[0] == '\0' || strcmp(tenant, "migrate") == 0 ||
		strcmp(tenant, "information_schema") == 0 ||
		strncmp(tenant, "pg_", 3) == 0)
		ereport(ERROR,
				errcode(ERRCODE_RESERVED_NAME),
				errmsg("schema \"%s\" cannot be a tenant", tenant),
				errdetail("Tenant schemas hold one customer's objects; \"migrate\", \"information_schema\" and names starting with \"pg_\" are not theirs."));

	catalog_connect();
	lock_tenant_change("add_tenant");
	if (!catalog_tenant_add(tenant))
		ereport(ERROR,
				errcode(ERRCODE_DUPLICATE_OBJECT),
				errmsg("tenant \"%s\" is already registered", tenant),
				errhint("SELECT migrate.upgrade('head', tenant => '%s') moves it; SELECT * FROM migrate.tenants shows where it is.",
						tenant));
	/* As the caller, who owns the schema it creates. */
	cxt = CurrentMemoryContext;
	if (SPI_execute(psprintf("CREATE SCHEMA IF NOT EXISTS %s",
							 quote_identifier(tenant)), false, 0) != SPI_OK_UTILITY)
		elog(ERROR, "could not create schema \"%s\"", tenant);
	MemoryContextSwitchTo(cxt);
	current = tenant_move_to(tenant, "heads", false, "add_tenant");
	result = result_text(fcinfo, callercxt, current);
	catalog_disconnect();
	return result;
}

/*
 * migrate.drop_tenant(schema name, drop_schema boolean DEFAULT false)
 *	RETURNS void
 *
 * Unregisters a tenant and forgets its applied state; with drop_schema,
 * drops its schema and everything in it, as the caller.
 */
PG_FUNCTION_INFO_V1(migrate_drop_tenant);
Datum
migrate_drop_tenant(PG_FUNCTION_ARGS)
{
	char	   *tenant = arg_schema(fcinfo, 0, "schema");
	bool		drop_schema = arg_bool(fcinfo, 1, "drop_schema");
	MemoryContext cxt;

	catalog_connect();
	lock_tenant_change("drop_tenant");
	if (catalog_tenant_lock(tenant, false, NULL) == TENANT_UNKNOWN)
		tenant_refuse_unknown(tenant);
	catalog_tenant_remove(tenant);
	cxt = CurrentMemoryContext;
	if (drop_schema &&
		SPI_execute(psprintf("DROP SCHEMA IF EXISTS %s CASCADE",
							 quote_identifier(tenant)), false, 0) != SPI_OK_UTILITY)
		elog(ERROR, "could not drop schema \"%s\"", tenant);
	MemoryContextSwitchTo(cxt);
	catalog_disconnect();
	PG_RETURN_VOID();
}

/* ---------------------------------------------------------------------
 * One tenant of migrate.run_tenants(), in the caller or in a worker
 * ---------------------------------------------------------------------
 */

typedef struct TenantStep
{
	MigrateGraph *graph;
	MigrateSteps steps;
	const char *tenant;
} TenantStep;

static void
apply_tenant_step(void *arg)
{
	TenantStep *one = (TenantStep *) arg;

	tenant_refuse_unapplied_external(one->graph, &one->steps);
	apply_steps(one->graph, &one->steps, MIGRATE_UP, one->tenant);
	catalog_tenant_save(one->tenant, graph_current_string(one->graph));
}

/* Errors that end the whole run rather than one tenant: a cancel, a shutdown, no memory. */
static bool
ends_the_run(const ErrorData *edata)
{
	return ERRCODE_TO_CATEGORY(edata->sqlerrcode) == ERRCODE_OPERATOR_INTERVENTION ||
		ERRCODE_TO_CATEGORY(edata->sqlerrcode) == ERRCODE_INSUFFICIENT_RESOURCES;
}

/*
 * Bring one tenant to the target, one revision per transaction.  A failing
 * step is rolled back alone and recorded (migrate.log, and the tenant's
 * last_error), and committed; run->error keeps it.  Waits for a tenant
 * that another session is moving: it holds one step at most.
 */
TenantOutcome
tenant_run_one(TenantRun *run, const char *tenant)
{
	TenantOutcome outcome = TENANT_AT_TARGET;

	for (;;)
	{
		int64		changes;
		char	   *recorded;
		MigrateSteps *steps;
		TenantStep	one;
		ErrorData  *edata;
		TimestampTz started;

		MemoryContextReset(run->stepcxt);
		changes = lock_tenant_change("run_tenants");
		if (run->graph == NULL || changes != run->graph_changes)
		{
			/* Revisions were registered or forgotten: read the graph again. */
			MemoryContext oldcxt;

			MemoryContextReset(run->graphcxt);
			oldcxt = MemoryContextSwitchTo(run->graphcxt);
			run->graph = catalog_load_graph(GRAPH_TENANT);
			run->graph_changes = changes;
			MemoryContextSwitchTo(oldcxt);
		}
		if (catalog_tenant_lock(tenant, false, &recorded) == TENANT_UNKNOWN)
		{
			run->commit();
			return TENANT_GONE;
		}
		catalog_tenant_applied(run->graph, tenant);
		steps = target_steps(run->graph, run->target, false, "run_tenants");
		if (steps->nsteps == 0)
		{
			char	   *current = graph_current_string(run->graph);

			if ((recorded == NULL) != (current == NULL) ||
				(current && strcmp(recorded, current) != 0))
				catalog_tenant_save(tenant, current);
			run->commit();
			return outcome;
		}

		one.graph = run->graph;
		one.steps.nsteps = 1;
		one.steps.revs = steps->revs;
		one.tenant = tenant;
		started = GetCurrentTimestamp();
		edata = apply_in_subtransaction(apply_tenant_step, &one);
		if (edata != NULL)
		{
			if (ends_the_run(edata))
				ReThrowError(edata);
			catalog_log_failure("upgrade", run->graph->revs[steps->revs[0]].id,
								MIGRATE_UP, started, GetCurrentTimestamp(),
								edata, tenant);
			catalog_tenant_failed(tenant, edata);
			run->commit();
			run->error = edata;
			return TENANT_FAILED;
		}
		run->commit();
		outcome = TENANT_MOVED;
	}
}
