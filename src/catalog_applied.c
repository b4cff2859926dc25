/*-------------------------------------------------------------------------
 *
 * catalog_applied.c
 *		What ran: migrate.applied (is a revision applied, with the answers
 *		this backend keeps; marking one applied or not), migrate.log, and
 *		migrate.statement_progress, the statements of a non-transactional
 *		revision that ran.
 *
 * IDENTIFICATION
 *	  src/catalog_applied.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/genam.h"
#include "access/stratnum.h"
#include "access/table.h"
#include "access/xact.h"
#include "catalog/pg_type.h"
#include "executor/spi.h"
#include "utils/builtins.h"
#include "utils/fmgroids.h"
#include "utils/hsearch.h"
#include "utils/inval.h"
#include "utils/rel.h"
#include "utils/timestamp.h"

#include "migrate.h"
#include "catalog.h"

static CatalogQuery q_mark_applied = {
	"INSERT INTO migrate.applied (revision, duration, checksum, applied_by)"
	" SELECT r.id, $2, r.checksum, $3 FROM migrate.revisions r"
	" WHERE r.id OPERATOR(pg_catalog.=) $1",
	3, {TEXTOID, INTERVALOID, NAMEOID}, true
};
static CatalogQuery q_mark_unapplied = {
	"DELETE FROM migrate.applied WHERE revision OPERATOR(pg_catalog.=) $1",
	1, {TEXTOID}, true
};
static CatalogQuery q_tenant_mark_applied = {
	"INSERT INTO migrate.tenant_applied"
	" (tenant, revision, duration, checksum, applied_by)"
	" SELECT $4, r.id, $2, r.checksum, $3 FROM migrate.revisions r"
	" WHERE r.id OPERATOR(pg_catalog.=) $1",
	4, {TEXTOID, INTERVALOID, NAMEOID, TEXTOID}, true
};
static CatalogQuery q_tenant_mark_unapplied = {
	"DELETE FROM migrate.tenant_applied"
	" WHERE tenant OPERATOR(pg_catalog.=) $2 AND revision OPERATOR(pg_catalog.=) $1",
	2, {TEXTOID, TEXTOID}, true
};
static CatalogQuery q_log = {
	"INSERT INTO migrate.log (action, revision, direction, started_at,"
	" finished_at, duration, role, tenant)"
	" VALUES ($1, $2, $3, $4, $5, $5 OPERATOR(pg_catalog.-) $4, $6, $7)",
	7, {TEXTOID, TEXTOID, TEXTOID, TIMESTAMPTZOID, TIMESTAMPTZOID, NAMEOID,
	TEXTOID}
};
static CatalogQuery q_log_failure = {
	"INSERT INTO migrate.log (action, revision, direction, started_at,"
	" finished_at, duration, role, tenant, success, sqlstate, error)"
	" VALUES ($1, $2, $3, $4, $5, $5 OPERATOR(pg_catalog.-) $4, $6, $7,"
	" false, $8, $9)",
	9, {TEXTOID, TEXTOID, TEXTOID, TIMESTAMPTZOID, TIMESTAMPTZOID, NAMEOID,
	TEXTOID, TEXTOID, TEXTOID}
};
static CatalogQuery q_statements_done = {
	"SELECT statement, started_at, done_at IS NOT NULL FROM migrate.statement_progress"
	" WHERE revision OPERATOR(pg_catalog.=) $1 AND direction OPERATOR(pg_catalog.=) $2"
	" ORDER BY statement",
	2, {TEXTOID, TEXTOID}, true
};
static CatalogQuery q_statement_started = {
	"INSERT INTO migrate.statement_progress (revision, direction, statement)"
	" VALUES ($1, $2, $3) ON CONFLICT DO NOTHING",
	3, {TEXTOID, TEXTOID, INT4OID}
};
static CatalogQuery q_statement_done = {
	"INSERT INTO migrate.statement_progress (revision, direction, statement, done_at)"
	" VALUES ($1, $2, $3, pg_catalog.clock_timestamp())"
	" ON CONFLICT (revision, direction, statement) DO UPDATE"
	" SET done_at = pg_catalog.clock_timestamp()",
	3, {TEXTOID, TEXTOID, INT4OID}
};
static CatalogQuery q_statements_clear = {
	"DELETE FROM migrate.statement_progress"
	" WHERE revision OPERATOR(pg_catalog.=) $1 AND direction OPERATOR(pg_catalog.=) $2",
	2, {TEXTOID, TEXTOID}, true
};
static CatalogQuery q_statements_recorded = {
	"SELECT pg_catalog.count(*) FROM migrate.statement_progress"
	" WHERE revision OPERATOR(pg_catalog.=) $1",
	1, {TEXTOID}, true
};
static CatalogQuery q_applied_unregistered = {
	"SELECT a.revision FROM migrate.applied a"
	" WHERE NOT EXISTS (SELECT 1 FROM migrate.revisions r"
	"                   WHERE r.id OPERATOR(pg_catalog.=) a.revision)"
	" ORDER BY a.applied_at, a.revision",
	0, {0}
};

/* ---------------------------------------------------------------------
 * Direct reads, for the calls every application makes on every
 * connection or deploy: no SPI and no executor, only the table (and its
 * index) under the caller's snapshot.  They bypass privileges, as the
 * owner's queries do: what they return is open to every role.
 * ---------------------------------------------------------------------
 */

/*
 * The answers of catalog_is_applied(), kept by this backend: applications
 * ask the same question on every connection check.  Every change to
 * migrate.applied sends an invalidation (catalog_applied_changed); the
 * callback forgets the answers, and catalog_is_applied() accepts pending
 * invalidations before it looks.
 */
/*
 * The key is the id, then a space and the tenant for a tenant's answer:
 * ids have no spaces.  Tenants are schema names, shorter than NAMEDATALEN.
 */
#define ANSWER_KEYLEN	(MIGRATE_ID_MAXLEN + 1 + NAMEDATALEN)

typedef struct AppliedAnswer
{
	char		key[ANSWER_KEYLEN];
	bool		applied;
} AppliedAnswer;

static HTAB *applied_answers = NULL;
static Oid	applied_relid = InvalidOid;
static Oid	tenant_applied_relid = InvalidOid;
static bool answers_callback_registered = false;
static TransactionId applied_changed_xid = InvalidTransactionId;
static TransactionId tenant_changed_xid = InvalidTransactionId;

static void
forget_applied_answers(Datum arg, Oid relid)
{
	if (applied_answers != NULL &&
		(relid == InvalidOid || relid == applied_relid ||
		 relid == tenant_applied_relid))
	{
		hash_destroy(applied_answers);
		applied_answers = NULL;
	}
}

/* Did this transaction change migrate.applied (or tenant_applied)? */
static bool
catalog_changed_here(bool tenant)
{
	TransactionId xid = tenant ? tenant_changed_xid : applied_changed_xid;

	return TransactionIdIsValid(xid) && TransactionIdIsCurrentTransactionId(xid);
}

/*
 * One index probe of migrate.applied, or of tenant_applied for a tenant;
 * never reads the graph.
 */
bool
catalog_is_applied(const char *id, const char *tenant)
{
	Oid			relid;
	Relation	rel;
	ScanKeyData keys[2];
	SysScanDesc scan;
	bool		applied;
	AppliedAnswer *answer;
	char		answer_key[ANSWER_KEYLEN];
	bool		cacheable = strlen(id) <= MIGRATE_ID_MAXLEN &&
		(tenant == NULL || strlen(tenant) < NAMEDATALEN);

	if (cacheable)
		snprintf(answer_key, sizeof(answer_key), "%s%s%s", id,
				 tenant ? " " : "", tenant ? tenant : "");

	/* Hear about changes committed since this backend last looked. */
	AcceptInvalidationMessages();
	if (applied_answers != NULL && cacheable &&
		(answer = hash_search(applied_answers, answer_key, HASH_FIND, NULL)) != NULL)
		return answer->applied;

	relid = catalog_relid(tenant ? "tenant_applied" : "applied");
	rel = table_open(relid, AccessShareLock);
	if (tenant)
	{
		/* The key of tenant_applied: (tenant, revision). */
		ScanKeyEntryInitialize(&keys[0], 0, 1, BTEqualStrategyNumber, InvalidOid,
							   TupleDescAttr(RelationGetDescr(rel), 0)->attcollation,
							   F_TEXTEQ, CStringGetTextDatum(tenant));
		ScanKeyEntryInitialize(&keys[1], 0, 2, BTEqualStrategyNumber, InvalidOid,
							   TupleDescAttr(RelationGetDescr(rel), 1)->attcollation,
							   F_TEXTEQ, CStringGetTextDatum(id));
		scan = systable_beginscan(rel, catalog_relid("tenant_applied_pkey"), true,
								  read_snapshot(), 2, keys);
	}
	else
	{
		ScanKeyEntryInitialize(&keys[0], 0, 1, BTEqualStrategyNumber, InvalidOid,
							   TupleDescAttr(RelationGetDescr(rel), 0)->attcollation,
							   F_TEXTEQ, CStringGetTextDatum(id));
		scan = systable_beginscan(rel, catalog_relid("applied_pkey"), true,
								  read_snapshot(), 1, keys);
	}
	applied = HeapTupleIsValid(systable_getnext(scan));
	systable_endscan(scan);
	table_close(rel, AccessShareLock);

	/*
	 * Keep the answer, unless this transaction itself changed the catalog
	 * (its view is not the committed one) or the id cannot be a revision.
	 */
	if (cacheable && !catalog_changed_here(tenant != NULL))
	{
		if (applied_answers == NULL)
		{
			HASHCTL		ctl;

			if (!answers_callback_registered)
			{
				CacheRegisterRelcacheCallback(forget_applied_answers, (Datum) 0);
				answers_callback_registered = true;
			}
			ctl.keysize = ANSWER_KEYLEN;
			ctl.entrysize = sizeof(AppliedAnswer);
			applied_answers = hash_create("migrate applied answers", 64, &ctl,
										  HASH_ELEM | HASH_STRINGS);
		}
		if (tenant)
			tenant_applied_relid = relid;
		else
			applied_relid = relid;
		answer = hash_search(applied_answers, answer_key, HASH_ENTER, NULL);
		answer->applied = applied;
	}
	return applied;
}

/*
 * Tell every backend (this one at its next command) that migrate.applied
 * (or tenant_applied) changed, so that they forget the answers
 * catalog_is_applied() kept.  Sent at commit, like any catalog
 * invalidation; dropped with a rollback, which leaves nothing to forget.
 */
void
catalog_applied_changed(bool tenant)
{
	TransactionId xid = GetCurrentTransactionId();
	TransactionId *last = tenant ? &tenant_changed_xid : &applied_changed_xid;

	/* Once per (sub)transaction: applying 10,000 steps sends one. */
	if (xid != *last)
	{
		CacheInvalidateRelcacheByRelid(catalog_relid(tenant ? "tenant_applied"
													 : "applied"));
		*last = xid;
	}
}

/* ---------------------------------------------------------------------
 * What migrate.applied and migrate.log record
 * ---------------------------------------------------------------------
 */

/*
 * Mark a revision applied (with how long its script took; negative for a
 * stamp) or not applied.
 */
void
catalog_set_applied(const MigrateRevision *rev, bool applied,
					double duration_ms, const char *tenant)
{
	if (applied)
	{
		Datum		values[4];
		char		nulls[4] = {' ', ' ', ' ', ' '};
		Interval   *duration = palloc0(sizeof(Interval));

		duration->time = (TimeOffset) (duration_ms * 1000.0);
		values[0] = CStringGetTextDatum(rev->id);
		values[1] = IntervalPGetDatum(duration);
		values[2] = caller_name();
		values[3] = tenant ? CStringGetTextDatum(tenant) : (Datum) 0;
		if (duration_ms < 0)
			nulls[1] = 'n';
		/* The checksum is copied from the revision's row. */
		if (run_quiet_write(tenant ? &q_tenant_mark_applied : &q_mark_applied,
							values, nulls) != 1)
			ereport(ERROR,
					errcode(ERRCODE_UNDEFINED_OBJECT),
					errmsg("revision \"%s\" does not exist", rev->id),
					errdetail("It was removed from migrate.revisions during the call."));
	}
	else
	{
		Datum		values[2] = {CStringGetTextDatum(rev->id),
		tenant ? CStringGetTextDatum(tenant) : (Datum) 0};

		run_quiet_write(tenant ? &q_tenant_mark_unapplied : &q_mark_unapplied,
						values, NULL);
	}
	catalog_applied_changed(tenant != NULL);
}

/* Applied revisions that migrate.revisions no longer has. */
List *
catalog_applied_unregistered(void)
{
	List	   *ids = NIL;
	uint64		nrows = run_query(&q_applied_unregistered, NULL, NULL, true, 0);

	for (uint64 i = 0; i < nrows; i++)
		ids = lappend(ids, text_column(i, 1, NULL));
	SPI_freetuptable(SPI_tuptable);
	return ids;
}

/* The first six values of a migrate.log row, shared by q_log and q_log_failure. */
static void
log_values(Datum *values, const char *action, const char *revision,
		   MigrateDirection direction, TimestampTz started,
		   TimestampTz finished)
{
	values[0] = CStringGetTextDatum(action);
	values[1] = CStringGetTextDatum(revision);
	values[2] = CStringGetTextDatum(direction == MIGRATE_UP ? "up" : "down");
	values[3] = TimestampTzGetDatum(started);
	values[4] = TimestampTzGetDatum(finished);
	values[5] = caller_name();
}

void
catalog_log(const char *action, const char *revision,
			MigrateDirection direction, TimestampTz started,
			TimestampTz finished, const char *tenant)
{
	Datum		values[7];

	log_values(values, action, revision, direction, started, finished);
	values[6] = tenant ? CStringGetTextDatum(tenant) : (Datum) 0;
	run_query(&q_log, values, tenant ? NULL : "      n", false, 0);
}

/* A failed step of migrate.run(), committed before the error is raised again. */
void
catalog_log_failure(const char *action, const char *revision,
					MigrateDirection direction, TimestampTz started,
					TimestampTz finished, const ErrorData *edata,
					const char *tenant)
{
	Datum		values[9];
	char		nulls[10] = "         ";

	log_values(values, action, revision, direction, started, finished);
	values[6] = tenant ? CStringGetTextDatum(tenant) : (Datum) 0;
	nulls[6] = tenant ? ' ' : 'n';
	/* No SQLSTATE (0) when the client could not tell it. */
	values[7] = edata->sqlerrcode == 0 ? (Datum) 0
		: CStringGetTextDatum(unpack_sql_state(edata->sqlerrcode));
	nulls[7] = edata->sqlerrcode == 0 ? 'n' : ' ';
	values[8] = CStringGetTextDatum(edata->message ? edata->message : "");
	run_query(&q_log_failure, values, nulls, false, 0);
}

/* ---------------------------------------------------------------------
 * Statements of a non-transactional revision that ran
 * ---------------------------------------------------------------------
 */

static Datum
direction_datum(MigrateDirection direction)
{
	return CStringGetTextDatum(direction == MIGRATE_UP ? "up" : "down");
}

/*
 * Which of a revision's n statements ran (done[0..n-1]) and which started
 * (started[0..n-1], when not NULL: a run began them, and may have been
 * interrupted); *first is when the first of them started, or 0.
 */
void
catalog_statements_done(const char *id, MigrateDirection direction, int n,
						bool *done, bool *started, TimestampTz *first)
{
	Datum		values[2] = {CStringGetTextDatum(id), direction_datum(direction)};
	uint64		rows = run_query(&q_statements_done, values, NULL, false, 0);

	*first = 0;
	for (uint64 i = 0; i < rows; i++)
	{
		bool		isnull;
		HeapTuple	tuple = SPI_tuptable->vals[i];
		TupleDesc	desc = SPI_tuptable->tupdesc;
		int32		number = DatumGetInt32(SPI_getbinval(tuple, desc, 1, &isnull));
		TimestampTz at = DatumGetTimestampTz(SPI_getbinval(tuple, desc, 2, &isnull));

		if (number >= 1 && number <= n)
		{
			done[number - 1] = DatumGetBool(SPI_getbinval(tuple, desc, 3, &isnull));
			if (started)
				started[number - 1] = true;
		}
		if (*first == 0 || at < *first)
			*first = at;
	}
	SPI_freetuptable(SPI_tuptable);
}

/* A statement starts (started) or ran. */
void
catalog_statement_done(const char *id, MigrateDirection direction, int number,
					   bool started)
{
	Datum		values[3] = {CStringGetTextDatum(id), direction_datum(direction),
	Int32GetDatum(number)};

	run_query(started ? &q_statement_started : &q_statement_done, values, NULL,
			  false, 0);
}

void
catalog_statements_clear(const char *id, MigrateDirection direction)
{
	Datum		values[2] = {CStringGetTextDatum(id), direction_datum(direction)};

	run_query(&q_statements_clear, values, NULL, false, 0);
}


/* How many statements of a non-transactional revision are recorded as run. */
int64
catalog_statements_recorded(const char *id)
{
	Datum		values[1] = {CStringGetTextDatum(id)};
	bool		isnull;
	int64		n;

	run_query(&q_statements_recorded, values, NULL, true, 1);
	n = DatumGetInt64(SPI_getbinval(SPI_tuptable->vals[0],
									SPI_tuptable->tupdesc, 1, &isnull));
	SPI_freetuptable(SPI_tuptable);
	return n;
}
