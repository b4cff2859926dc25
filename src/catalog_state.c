/*-------------------------------------------------------------------------
 *
 * catalog_state.c
 *		The migration state that lock.c's lock guards: migrate.state's
 *		change counter, read right after the lock, the heads and current
 *		revision cached beside it, the trigger that invalidates them on
 *		edits migrate did not make, and who holds the lock.
 *
 * Readers of the cached state (current(), heads()) do not lock: they scan
 * migrate.state directly and see the last committed state.
 *
 * IDENTIFICATION
 *	  src/catalog_state.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/heapam.h"
#include "access/htup_details.h"
#include "access/table.h"
#include "access/tableam.h"
#include "access/xact.h"
#include "catalog/pg_type.h"
#include "commands/trigger.h"
#include "executor/spi.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/rel.h"
#include "utils/snapmgr.h"

#include "migrate.h"
#include "catalog.h"

/* migrate.state.changes as read after taking the lock in this call */
static int64 changes_seen = -1;

static CatalogQuery q_read_state = {
	"SELECT changes, cache_valid, heads, current FROM migrate.state",
	0, {0}
};
static CatalogQuery q_save_state = {
	"UPDATE migrate.state SET changes = changes OPERATOR(pg_catalog.+) 1,"
	" cache_valid = (changes OPERATOR(pg_catalog.=) $1), heads = $2, current = $3,"
	" synced = NULL",
	3, {INT8OID, TEXTARRAYOID, TEXTOID}
};
/*
 * Once per transaction is enough: every version of the row a transaction
 * writes stays until it ends, and a read scans them all, so a statement
 * registering thousands of revisions would otherwise slow down with each.
 */
static CatalogQuery q_invalidate_state = {
	"UPDATE migrate.state SET changes = changes OPERATOR(pg_catalog.+) 1,"
	" cache_valid = false, heads = NULL, current = NULL, synced = NULL"
	" WHERE cache_valid OR synced IS NOT NULL"
	" OR xmin OPERATOR(pg_catalog.<>) pg_catalog.pg_current_xact_id()::pg_catalog.xid",
	0, {0}
};
/* The longest fingerprint kept: a SHA-512 in hex. */
#define MAX_FINGERPRINT 128

static CatalogQuery q_set_synced = {
	"UPDATE migrate.state SET synced = $1",
	1, {TEXTOID}
};
static CatalogQuery q_lock_holder = {
	"SELECT l.pid, a.usename::pg_catalog.text, a.application_name,"
	" a.xact_start::pg_catalog.text"
	" FROM pg_catalog.pg_locks l"
	" LEFT JOIN pg_catalog.pg_stat_activity a ON a.pid OPERATOR(pg_catalog.=) l.pid"
	" WHERE l.locktype OPERATOR(pg_catalog.=) 'object' AND l.granted"
	" AND l.classid OPERATOR(pg_catalog.=) $1 AND l.objid OPERATOR(pg_catalog.=) $2"
	" AND l.objsubid OPERATOR(pg_catalog.=) $3"
	" AND l.database OPERATOR(pg_catalog.=) (SELECT oid FROM pg_catalog.pg_database"
	"     WHERE datname OPERATOR(pg_catalog.=) pg_catalog.current_database())",
	3, {OIDOID, OIDOID, INT2OID}
};

/*
 * Who holds a part of lock.c's lock: "process N (user U, application
 * "A", in a transaction since T)", or "another session".  Only for an
 * error message: the query takes a snapshot of its own.
 */
char *
catalog_lock_holder(Oid classid, Oid objid, int16 part)
{
	Datum		values[3] = {
		ObjectIdGetDatum(classid), ObjectIdGetDatum(objid), Int16GetDatum(part)
	};
	char	   *holder = "another session";

	if (run_query(&q_lock_holder, values, NULL, false, 1) > 0)
	{
		bool		null;
		int32		pid = DatumGetInt32(SPI_getbinval(SPI_tuptable->vals[0],
													  SPI_tuptable->tupdesc,
													  1, &null));
		char	   *user = text_column(0, 2, NULL);
		char	   *application = text_column(0, 3, NULL);
		char	   *since = text_column(0, 4, NULL);

		holder = psprintf("process %d (user %s, application \"%s\"%s%s)",
						  pid, user ? user : "?",
						  application ? application : "",
						  since ? ", in a transaction since " : "",
						  since ? since : "");
	}
	SPI_freetuptable(SPI_tuptable);
	return holder;
}

/*
 * Called right after lock.c took the migration lock: make sure this
 * transaction's snapshot is not older than the last change to the state.
 * Returns the state's change counter; catalog_save_state() adds one to it.
 * Under READ COMMITTED every query after the lock sees what the previous
 * holder committed; under REPEATABLE READ or SERIALIZABLE the snapshot was
 * taken before the wait, and acting on it could apply a revision twice.
 */
int64
catalog_read_changes(void)
{
	int64		seen;

	run_query(&q_read_state, NULL, NULL, !IsolationUsesXactSnapshot(), 1);
	if (SPI_processed != 1)
		elog(ERROR, "migrate.state must have exactly one row");
	seen = DatumGetInt64(SPI_getbinval(SPI_tuptable->vals[0],
									   SPI_tuptable->tupdesc, 1,
									   &(bool) {false}));
	SPI_freetuptable(SPI_tuptable);

	if (IsolationUsesXactSnapshot())
	{
		MemoryContext cxt = CurrentMemoryContext;
		SavedUser	saved;
		int			rc;
		int64		latest;

		become_owner(&saved);
		rc = SPI_execute_snapshot(query_plan(&q_read_state), NULL, NULL,
								  GetLatestSnapshot(), InvalidSnapshot,
								  true, false, 1);
		MemoryContextSwitchTo(cxt);
		restore_user(&saved);
		if (rc != SPI_OK_SELECT || SPI_processed != 1)
			elog(ERROR, "could not read migrate.state: %s",
				 SPI_result_code_string(rc));
		latest = DatumGetInt64(SPI_getbinval(SPI_tuptable->vals[0],
											 SPI_tuptable->tupdesc, 1,
											 &(bool) {false}));
		SPI_freetuptable(SPI_tuptable);
		if (latest != seen)
			ereport(ERROR,
					errcode(ERRCODE_T_R_SERIALIZATION_FAILURE),
					errmsg("could not serialize access to the migration state"),
					errdetail("Another transaction changed the revisions or the applied state after this transaction took its snapshot."),
					errhint("Retry the transaction.  Under REPEATABLE READ or SERIALIZABLE, call migrate's functions first in a new transaction."));
	}
	changes_seen = seen;
	return seen;
}

/*
 * The cached heads and current revision, when the last state-changing call
 * left them valid.  Readers do not lock: they see the last committed state.
 */
bool
catalog_cached_state(List **heads, char **current)
{
	Relation	rel = table_open(catalog_relid("state"), AccessShareLock);
	TableScanDesc scan = table_beginscan(rel, read_snapshot(), 0, NULL);
	HeapTuple	tuple = heap_getnext(scan, ForwardScanDirection);
	TupleDesc	desc = RelationGetDescr(rel);
	bool		isnull;
	bool		valid;

	if (!HeapTupleIsValid(tuple))
		elog(ERROR, "migrate.state must have exactly one row");
	valid = DatumGetBool(heap_getattr(tuple, 3, desc, &isnull));
	if (valid)
	{
		Datum		value = heap_getattr(tuple, 4, desc, &isnull);

		*heads = NIL;
		if (!isnull)
		{
			Datum	   *elems;
			bool	   *nulls;
			int			n;

			deconstruct_array(DatumGetArrayTypeP(value), TEXTOID, -1, false,
							  TYPALIGN_INT, &elems, &nulls, &n);
			for (int i = 0; i < n; i++)
				if (!nulls[i])
					*heads = lappend(*heads, TextDatumGetCString(elems[i]));
		}
		value = heap_getattr(tuple, 5, desc, &isnull);
		*current = isnull ? NULL : TextDatumGetCString(value);
	}
	table_endscan(scan);
	table_close(rel, AccessShareLock);
	return valid;
}

/*
 * Record that the state changed, and cache the graph's heads and current
 * revision.  The cache is only marked valid when nobody else changed the
 * catalog since catalog_lock() (a script might have).
 */
void
catalog_save_state(const MigrateGraph *graph)
{
	int			nheads;
	int		   *heads = graph_heads(graph, &nheads);
	char	  **ids = palloc(sizeof(char *) * Max(nheads, 1));
	char	   *current = graph_current_string(graph);
	Datum		values[3];
	char		nulls[3] = {' ', ' ', ' '};

	Assert(changes_seen >= 0);
	for (int i = 0; i < nheads; i++)
		ids[i] = graph->revs[heads[i]].id;
	values[0] = Int64GetDatum(changes_seen);
	values[1] = text_array_datum(nheads, ids);
	values[2] = current ? CStringGetTextDatum(current) : (Datum) 0;
	nulls[2] = current ? ' ' : 'n';
	run_query(&q_save_state, values, nulls, false, 0);
}

/* Invalidate the cache after an edit migrate did not make itself. */
void
catalog_invalidate_state(void)
{
	run_query(&q_invalidate_state, NULL, NULL, false, 0);
}

/*
 * A fingerprint is kept as given, so that comparing one costs no digest:
 * clients send a digest of their files' state, not the state itself.
 */
static void
check_fingerprint(const char *fingerprint)
{
	if (strlen(fingerprint) == 0 || strlen(fingerprint) > MAX_FINGERPRINT)
		ereport(ERROR,
				errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				errmsg("invalid fingerprint \"%.*s%s\"", MAX_FINGERPRINT, fingerprint,
					   strlen(fingerprint) > MAX_FINGERPRINT ? "..." : ""),
				errdetail("A fingerprint has 1 to %d characters; this one has %zu.",
						  MAX_FINGERPRINT, strlen(fingerprint)),
				errhint("Send a digest of the files' state, such as the hex SHA-256 of their sizes and change times."));
}

/*
 * Whether the last migrate.sync() read files of this fingerprint, and
 * nothing changed the revisions or the applied state since (each change
 * clears it: catalog_invalidate_state(), catalog_save_state(); an
 * unapplied revision may have no file, and files are the truth for what is
 * not applied).  A sync of the same files would then change nothing.
 */
bool
catalog_synced(const char *fingerprint)
{
	Relation	rel;
	TableScanDesc scan;
	HeapTuple	tuple;
	bool		isnull = true;
	Datum		synced = (Datum) 0;
	bool		same;

	check_fingerprint(fingerprint);
	rel = table_open(catalog_relid("state"), AccessShareLock);
	scan = table_beginscan(rel, read_snapshot(), 0, NULL);
	tuple = heap_getnext(scan, ForwardScanDirection);
	/* Read directly, as catalog_cached_state() does: a no-op run's call. */
	if (!HeapTupleIsValid(tuple))
		elog(ERROR, "migrate.state must have exactly one row");
	synced = heap_getattr(tuple, 6, RelationGetDescr(rel), &isnull);
	same = !isnull && strcmp(TextDatumGetCString(synced), fingerprint) == 0;
	table_endscan(scan);
	table_close(rel, AccessShareLock);
	return same;
}

/* At the end of a sync: the files of this fingerprint (or NULL) are in. */
void
catalog_set_synced(const char *fingerprint)
{
	Datum		value = (Datum) 0;

	if (fingerprint)
	{
		check_fingerprint(fingerprint);
		value = CStringGetTextDatum(fingerprint);
	}
	run_query(&q_set_synced, &value, fingerprint ? " " : "n", false, 0);
}

/*
 * migrate.catalog_changed() RETURNS trigger
 *
 * Statement trigger on migrate.revisions and migrate.applied: an edit that
 * migrate did not make itself invalidates the cached heads and current
 * revision, and counts as a change for REPEATABLE READ callers.
 */
PG_FUNCTION_INFO_V1(migrate_catalog_changed);
Datum
migrate_catalog_changed(PG_FUNCTION_ARGS)
{
	if (!CALLED_AS_TRIGGER(fcinfo))
		ereport(ERROR,
				errcode(ERRCODE_E_R_I_E_TRIGGER_PROTOCOL_VIOLATED),
				errmsg("migrate.catalog_changed() must be called as a trigger"));

	if (!catalog_writing)
	{
		catalog_connect();
		catalog_invalidate_state();
		catalog_disconnect();
		if (strcmp(RelationGetRelationName(((TriggerData *) fcinfo->context)->tg_relation),
				   "applied") == 0)
			catalog_applied_changed(false);
	}
	return PointerGetDatum(NULL);
}
