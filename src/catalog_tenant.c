/*-------------------------------------------------------------------------
 *
 * catalog_tenant.c
 *		The tenants: migrate.tenant_schemas (who they are, each one's lock,
 *		current revision and last error) and each one's applied state in
 *		migrate.tenant_applied, as the tenant graph needs it.
 *
 * A tenant's row is its lock: every change to a tenant's state first locks
 * that row (catalog_tenant_lock), so that two sessions never move the same
 * tenant at once while different tenants move in parallel, and a
 * REPEATABLE READ caller whose snapshot is stale fails instead of applying
 * a revision twice.
 *
 * IDENTIFICATION
 *	  src/catalog_tenant.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "catalog/pg_type.h"
#include "executor/spi.h"
#include "utils/builtins.h"

#include "migrate.h"
#include "catalog.h"

static CatalogQuery q_tenant_lock = {
	"SELECT current FROM migrate.tenant_schemas"
	" WHERE tenant OPERATOR(pg_catalog.=) $1 FOR UPDATE",
	1, {TEXTOID}, true
};
static CatalogQuery q_tenant_try_lock = {
	"SELECT current FROM migrate.tenant_schemas"
	" WHERE tenant OPERATOR(pg_catalog.=) $1 FOR UPDATE SKIP LOCKED",
	1, {TEXTOID}, true
};
static CatalogQuery q_tenant_exists = {
	"SELECT current FROM migrate.tenant_schemas"
	" WHERE tenant OPERATOR(pg_catalog.=) $1",
	1, {TEXTOID}, true
};
static CatalogQuery q_tenant_applied = {
	"SELECT revision FROM migrate.tenant_applied"
	" WHERE tenant OPERATOR(pg_catalog.=) $1",
	1, {TEXTOID}, true
};
static CatalogQuery q_tenant_save = {
	"UPDATE migrate.tenant_schemas SET current = $2,"
	" changes = changes OPERATOR(pg_catalog.+) 1, last_error = NULL,"
	" last_sqlstate = NULL, updated_at = pg_catalog.clock_timestamp()"
	" WHERE tenant OPERATOR(pg_catalog.=) $1",
	2, {TEXTOID, TEXTOID}, true
};
static CatalogQuery q_tenant_failed = {
	"UPDATE migrate.tenant_schemas SET last_error = $2, last_sqlstate = $3,"
	" updated_at = pg_catalog.clock_timestamp()"
	" WHERE tenant OPERATOR(pg_catalog.=) $1",
	3, {TEXTOID, TEXTOID, TEXTOID}, true
};
static CatalogQuery q_tenant_add = {
	"INSERT INTO migrate.tenant_schemas (tenant, registered_by) VALUES ($1, $2)"
	" ON CONFLICT (tenant) DO NOTHING",
	2, {TEXTOID, NAMEOID}
};
static CatalogQuery q_tenant_remove = {
	"WITH gone AS (DELETE FROM migrate.tenant_applied"
	"              WHERE tenant OPERATOR(pg_catalog.=) $1)"
	" DELETE FROM migrate.tenant_schemas WHERE tenant OPERATOR(pg_catalog.=) $1",
	1, {TEXTOID}, true
};
/* Every tenant, or those not at "skip": the no-op run reads no graph for them. */
static CatalogQuery q_tenant_list = {
	"SELECT tenant FROM migrate.tenant_schemas"
	" WHERE $1 IS NULL OR current IS DISTINCT FROM $1 OR last_error IS NOT NULL"
	" ORDER BY tenant",
	1, {TEXTOID}
};
static CatalogQuery q_tenant_count = {
	"SELECT pg_catalog.count(*) FROM migrate.tenant_schemas",
	0, {0}
};

/*
 * Lock a tenant's row for this transaction.  With "skip", a row another
 * transaction holds is not waited for: TENANT_BUSY.  *current (when not
 * NULL) is its current revision as last recorded (NULL unless locked).
 */
TenantLock
catalog_tenant_lock(const char *tenant, bool skip, char **current)
{
	Datum		values[1] = {CStringGetTextDatum(tenant)};
	TenantLock	result = TENANT_LOCKED;

	if (run_query(skip ? &q_tenant_try_lock : &q_tenant_lock, values, NULL,
				  false, 1) == 0)
	{
		/* Locked by another transaction, or not registered? */
		SPI_freetuptable(SPI_tuptable);
		result = skip && run_query(&q_tenant_exists, values, NULL, false, 1) > 0
			? TENANT_BUSY : TENANT_UNKNOWN;
		if (skip)
			SPI_freetuptable(SPI_tuptable);
		if (current)
			*current = NULL;
		return result;
	}
	if (current)
		*current = text_column(0, 1, NULL);
	SPI_freetuptable(SPI_tuptable);
	return result;
}

/* Is this a registered tenant?  *current is its recorded current revision. */
bool
catalog_tenant_exists(const char *tenant, char **current)
{
	Datum		values[1] = {CStringGetTextDatum(tenant)};
	bool		found = run_query(&q_tenant_exists, values, NULL, true, 1) > 0;

	if (current)
		*current = found ? text_column(0, 1, NULL) : NULL;
	SPI_freetuptable(SPI_tuptable);
	return found;
}

/* Set the tenant graph's applied state to the tenant's. */
void
catalog_tenant_applied(MigrateGraph *graph, const char *tenant)
{
	Datum		values[1] = {CStringGetTextDatum(tenant)};
	uint64		nrows;

	for (int i = 0; i < graph->nrevs; i++)
		graph->revs[i].applied = false;
	nrows = run_query(&q_tenant_applied, values, NULL, false, 0);
	for (uint64 i = 0; i < nrows; i++)
	{
		char	   *id = text_column(i, 1, NULL);
		int			found = graph_find(graph, id);

		if (found >= 0)
			graph->revs[found].applied = true;
	}
	SPI_freetuptable(SPI_tuptable);
}

/* A step moved the tenant: its new current revision, and no last error. */
void
catalog_tenant_save(const char *tenant, const char *current)
{
	Datum		values[2] = {CStringGetTextDatum(tenant),
	current ? CStringGetTextDatum(current) : (Datum) 0};

	run_query(&q_tenant_save, values, current ? "  " : " n", false, 0);
}

/* A step of the tenant failed and was rolled back: what the error said. */
void
catalog_tenant_failed(const char *tenant, const ErrorData *edata)
{
	Datum		values[3];
	char		nulls[3] = {' ', ' ', ' '};

	values[0] = CStringGetTextDatum(tenant);
	values[1] = CStringGetTextDatum(edata->message ? edata->message : "");
	values[2] = edata->sqlerrcode == 0 ? (Datum) 0
		: CStringGetTextDatum(unpack_sql_state(edata->sqlerrcode));
	nulls[2] = edata->sqlerrcode == 0 ? 'n' : ' ';
	run_query(&q_tenant_failed, values, nulls, false, 0);
}

/* Register a tenant; false when it already is. */
bool
catalog_tenant_add(const char *tenant)
{
	Datum		values[2] = {CStringGetTextDatum(tenant), caller_name()};

	return run_query(&q_tenant_add, values, NULL, false, 0) == 1;
}

/* Unregister a tenant with its applied state; false when it was not one. */
bool
catalog_tenant_remove(const char *tenant)
{
	Datum		values[1] = {CStringGetTextDatum(tenant)};

	return run_query(&q_tenant_remove, values, NULL, false, 0) == 1;
}

/*
 * The tenants in name order, but for those whose recorded current revision
 * is "skip" and that have no error to retry (skip NULL: all of them).
 */
List *
catalog_tenant_list(const char *skip)
{
	Datum		values[1] = {skip ? CStringGetTextDatum(skip) : (Datum) 0};
	uint64		nrows = run_query(&q_tenant_list, values, skip ? " " : "n",
								  true, 0);
	List	   *tenants = NIL;

	for (uint64 i = 0; i < nrows; i++)
		tenants = lappend(tenants, text_column(i, 1, NULL));
	SPI_freetuptable(SPI_tuptable);
	return tenants;
}

int64
catalog_tenant_count(void)
{
	bool		isnull;
	int64		n;

	run_query(&q_tenant_count, NULL, NULL, true, 1);
	n = DatumGetInt64(SPI_getbinval(SPI_tuptable->vals[0],
									SPI_tuptable->tupdesc, 1, &isnull));
	SPI_freetuptable(SPI_tuptable);
	return n;
}
