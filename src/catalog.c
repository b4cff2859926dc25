/*-------------------------------------------------------------------------
 *
 * catalog.c
 *		Every read and write of the migrate schema: through SPI, except the
 *		reads that must be fast (is a revision applied, the cached state,
 *		the whole graph), which scan the tables directly.
 *
 * Queries are parameterised, fully schema-qualified (operators too), so a
 * caller's search_path cannot redirect them, and run as the owner of the
 * migrate schema: the catalog is closed to PUBLIC, and the right to use it
 * is the right to EXECUTE the extension's functions.  Migration scripts, in
 * apply.c, run as the caller.  Hot queries keep their plans across calls.
 *
 * The caller connects SPI (catalog_connect) and finishes it; everything
 * returned is allocated in the current memory context.
 *
 * IDENTIFICATION
 *	  src/catalog.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/genam.h"
#include "access/heapam.h"
#include "access/htup_details.h"
#include "access/stratnum.h"
#include "access/table.h"
#include "access/tableam.h"
#include "access/xact.h"
#include "catalog/namespace.h"
#include "catalog/pg_namespace.h"
#include "catalog/pg_type.h"
#include "commands/trigger.h"
#include "common/cryptohash.h"
#include "common/sha2.h"
#include "executor/spi.h"
#include "miscadmin.h"
#include "pgstat.h"
#include "storage/latch.h"
#include "storage/lock.h"
#include "storage/sinval.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/fmgroids.h"
#include "utils/guc.h"
#include "utils/hsearch.h"
#include "utils/inval.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"
#include "utils/rel.h"
#include "utils/snapmgr.h"
#include "utils/syscache.h"
#include "utils/timestamp.h"

#include "migrate.h"

/*
 * Set while migrate itself writes migrate.applied, so that the statement
 * trigger that invalidates migrate.state on foreign edits stays quiet.
 */
bool		catalog_writing = false;

/* migrate.state.changes as read after taking the lock in this call */
static int64 changes_seen = -1;

typedef struct SavedUser
{
	Oid			userid;
	int			sec_context;
	int			guc_level;
} SavedUser;

/*
 * A catalog query and its plan, prepared at first use and kept.  A keyed
 * query looks rows up by key: it is planned with index access only, because
 * its plan is made once, possibly while the catalog is still nearly empty,
 * when a scan of the whole table looks cheapest, and then kept while the
 * catalog grows (registering 10,000 revisions in one statement became
 * quadratic).
 */
typedef struct CatalogQuery
{
	const char *sql;
	int			nargs;
	Oid			argtypes[11];
	bool		keyed;
	SPIPlanPtr	plan;
} CatalogQuery;

static CatalogQuery q_read_state = {
	"SELECT changes, cache_valid, heads, current FROM migrate.state",
	0, {0}
};
static CatalogQuery q_save_state = {
	"UPDATE migrate.state SET changes = changes OPERATOR(pg_catalog.+) 1,"
	" cache_valid = (changes OPERATOR(pg_catalog.=) $1), heads = $2, current = $3",
	3, {INT8OID, TEXTARRAYOID, TEXTOID}
};
/*
 * Once per transaction is enough: every version of the row a transaction
 * writes stays until it ends, and a read scans them all, so a statement
 * registering thousands of revisions would otherwise slow down with each.
 */
static CatalogQuery q_invalidate_state = {
	"UPDATE migrate.state SET changes = changes OPERATOR(pg_catalog.+) 1,"
	" cache_valid = false, heads = NULL, current = NULL"
	" WHERE cache_valid"
	" OR xmin OPERATOR(pg_catalog.<>) pg_catalog.pg_current_xact_id()::pg_catalog.xid",
	0, {0}
};
static CatalogQuery q_fetch_scripts = {
	"SELECT upgrade, downgrade, checksum, created_by FROM migrate.revisions"
	" WHERE id OPERATOR(pg_catalog.=) $1",
	1, {TEXTOID}, true
};
static CatalogQuery q_missing_revisions = {
	"SELECT u.id FROM pg_catalog.unnest($1) WITH ORDINALITY AS u(id, n)"
	" WHERE NOT EXISTS (SELECT 1 FROM migrate.revisions r"
	"                   WHERE r.id OPERATOR(pg_catalog.=) u.id)"
	" ORDER BY u.n",
	1, {TEXTARRAYOID}, true
};
static CatalogQuery q_label_owner = {
	"SELECT id FROM migrate.revisions"
	" WHERE branch_labels OPERATOR(pg_catalog.@>) ARRAY[$1]::pg_catalog.text[]"
	" AND id OPERATOR(pg_catalog.<>) $2",
	2, {TEXTOID, TEXTOID}, true
};
/* Few revisions have labels: a scan, done only when a label is registered. */
static CatalogQuery q_id_with_prefix = {
	"SELECT id FROM migrate.revisions"
	" WHERE pg_catalog.starts_with(id, $1) AND id OPERATOR(pg_catalog.<>) $2"
	" ORDER BY id LIMIT 1",
	2, {TEXTOID, TEXTOID}
};
/* $1 holds every prefix of an id: the label index finds the revisions. */
static CatalogQuery q_label_prefix = {
	"SELECT r.id, l.label FROM migrate.revisions r,"
	" pg_catalog.unnest(r.branch_labels) AS l(label)"
	" WHERE r.branch_labels OPERATOR(pg_catalog.&&) $1"
	" AND l.label OPERATOR(pg_catalog.=) ANY ($1)"
	" AND r.id OPERATOR(pg_catalog.<>) $2"
	" ORDER BY pg_catalog.length(l.label), r.id LIMIT 1",
	2, {TEXTARRAYOID, TEXTOID}, true
};
static CatalogQuery q_fetch_revision = {
	"SELECT r.parents, r.depends_on, r.branch_labels, r.message, r.checksum,"
	" r.downgrade IS NOT NULL, a.revision IS NOT NULL, r.transactional,"
	" r.upgrade, r.downgrade"
	" FROM migrate.revisions r"
	" LEFT JOIN migrate.applied a ON a.revision OPERATOR(pg_catalog.=) r.id"
	" WHERE r.id OPERATOR(pg_catalog.=) $1",
	1, {TEXTOID}, true
};
static CatalogQuery q_insert_revision = {
	"INSERT INTO migrate.revisions (id, parents, depends_on, branch_labels,"
	" message, upgrade, downgrade, checksum, created_by, lint_waived,"
	" transactional)"
	" VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)",
	11, {TEXTOID, TEXTARRAYOID, TEXTARRAYOID, TEXTARRAYOID, TEXTOID, TEXTOID,
	TEXTOID, TEXTOID, NAMEOID, TEXTARRAYOID, BOOLOID}
};
static CatalogQuery q_update_revision = {
	"UPDATE migrate.revisions SET parents = $2, depends_on = $3,"
	" branch_labels = $4, message = $5, upgrade = $6, downgrade = $7,"
	" checksum = $8,"
	" created_at = CASE WHEN $9 IS NULL THEN created_at ELSE pg_catalog.now() END,"
	" created_by = COALESCE($9, created_by),"
	" lint_waived = $10, transactional = $11"
	" WHERE id OPERATOR(pg_catalog.=) $1",
	11, {TEXTOID, TEXTARRAYOID, TEXTARRAYOID, TEXTARRAYOID, TEXTOID, TEXTOID,
	TEXTOID, TEXTOID, NAMEOID, TEXTARRAYOID, BOOLOID}, true
};
static CatalogQuery q_reassign = {
	"UPDATE migrate.revisions SET created_by = $2"
	" WHERE created_by OPERATOR(pg_catalog.=) $1",
	2, {NAMEOID, NAMEOID}, true
};
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
static CatalogQuery q_log = {
	"INSERT INTO migrate.log"
	" (action, revision, direction, started_at, finished_at, duration, role)"
	" VALUES ($1, $2, $3, $4, $5, $5 OPERATOR(pg_catalog.-) $4, $6)",
	6, {TEXTOID, TEXTOID, TEXTOID, TIMESTAMPTZOID, TIMESTAMPTZOID, NAMEOID}
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
static CatalogQuery q_log_failure = {
	"INSERT INTO migrate.log (action, revision, direction, started_at,"
	" finished_at, duration, role, success, sqlstate, error)"
	" VALUES ($1, $2, $3, $4, $5, $5 OPERATOR(pg_catalog.-) $4, $6, false, $7, $8)",
	8, {TEXTOID, TEXTOID, TEXTOID, TIMESTAMPTZOID, TIMESTAMPTZOID, NAMEOID,
	TEXTOID, TEXTOID}
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
/*
 * Forgetting an unapplied revision: its row goes, and the log keeps that
 * it went, with its checksum (the file it came from is what it was).
 */
static CatalogQuery q_forget_revision = {
	"WITH gone AS (DELETE FROM migrate.revisions"
	"              WHERE id OPERATOR(pg_catalog.=) $1 RETURNING id, checksum)"
	" INSERT INTO migrate.log (action, revision, direction, started_at,"
	" finished_at, duration, role, error)"
	" SELECT 'forget', id, NULL, pg_catalog.clock_timestamp(),"
	" pg_catalog.clock_timestamp(), '0'::pg_catalog.interval, $2,"
	" 'checksum ' OPERATOR(pg_catalog.||) checksum FROM gone",
	2, {TEXTOID, NAMEOID}, true
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

/*
 * The owner of the migrate schema: the role that created the extension,
 * unless a superuser changed it since.
 */
static Oid
catalog_owner(void)
{
	Oid			nspid = get_namespace_oid("migrate", false);
	HeapTuple	tuple;
	Oid			owner;

	tuple = SearchSysCache1(NAMESPACEOID, ObjectIdGetDatum(nspid));
	if (!HeapTupleIsValid(tuple))
		elog(ERROR, "cache lookup failed for namespace %u", nspid);
	owner = ((Form_pg_namespace) GETSTRUCT(tuple))->nspowner;
	ReleaseSysCache(tuple);
	return owner;
}

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
typedef struct AppliedAnswer
{
	char		id[MIGRATE_ID_MAXLEN + 1];
	bool		applied;
} AppliedAnswer;

static HTAB *applied_answers = NULL;
static Oid	applied_relid = InvalidOid;
static bool answers_callback_registered = false;
static TransactionId applied_changed_xid = InvalidTransactionId;

static void
forget_applied_answers(Datum arg, Oid relid)
{
	if (applied_answers != NULL &&
		(relid == InvalidOid || relid == applied_relid))
	{
		hash_destroy(applied_answers);
		applied_answers = NULL;
	}
}

/* Did this transaction change migrate.applied? */
static bool
catalog_changed_here(void)
{
	return TransactionIdIsValid(applied_changed_xid) &&
		TransactionIdIsCurrentTransactionId(applied_changed_xid);
}

/* A relation of the migrate schema. */
static Oid
catalog_relid(const char *name)
{
	Oid			relid = get_relname_relid(name, get_namespace_oid("migrate", false));

	if (!OidIsValid(relid))
		ereport(ERROR,
				errcode(ERRCODE_UNDEFINED_TABLE),
				errmsg("relation \"migrate.%s\" does not exist", name),
				errhint("The migrate extension is damaged: reinstall it."));
	return relid;
}

/* The query's snapshot, as SPI's read-only queries use it. */
static Snapshot
read_snapshot(void)
{
	return ActiveSnapshotSet() ? GetActiveSnapshot() : GetTransactionSnapshot();
}

/*
 * Switch to the catalog's owner, with search_path fixed to pg_catalog and
 * pg_temp last, for one query.  The queries qualify every name anyway; the
 * fixed path also means the saved plans, prepared under it, are never
 * planned again because the caller's search_path differs.  On error,
 * transaction or subtransaction abort restores the caller's user id and
 * settings.
 */
static void
become_owner(SavedUser *saved)
{
	GetUserIdAndSecContext(&saved->userid, &saved->sec_context);
	SetUserIdAndSecContext(catalog_owner(),
						   saved->sec_context |
						   SECURITY_LOCAL_USERID_CHANGE |
						   SECURITY_RESTRICTED_OPERATION);
	saved->guc_level = NewGUCNestLevel();
	(void) set_config_option("search_path", "pg_catalog, pg_temp",
							 PGC_USERSET, PGC_S_SESSION, GUC_ACTION_SAVE,
							 true, 0, false);
}

static void
restore_user(const SavedUser *saved)
{
	AtEOXact_GUC(true, saved->guc_level);
	SetUserIdAndSecContext(saved->userid, saved->sec_context);
}

/*
 * The caller's role, for created_by, applied_by and role: catalog queries
 * run as the owner, so CURRENT_USER there would name the owner.
 */
static Datum
caller_name(void)
{
	Name		name = palloc0(NAMEDATALEN);

	namestrcpy(name, GetUserNameFromId(GetUserId(), false));
	return NameGetDatum(name);
}

static SPIPlanPtr
query_plan(CatalogQuery *query)
{
	if (query->plan == NULL)
	{
		SPIPlanPtr	plan = SPI_prepare(query->sql, query->nargs,
									   query->argtypes);

		if (plan == NULL)
			elog(ERROR, "SPI_prepare failed for \"%s\": %s",
				 query->sql, SPI_result_code_string(SPI_result));
		SPI_keepplan(plan);
		query->plan = plan;
	}
	return query->plan;
}

/*
 * Run a catalog query as the owner.  "nulls" follows SPI: ' ' not null,
 * 'n' null; NULL for none.  Results stay in SPI_tuptable until the next
 * query; callers copy what they keep and call SPI_freetuptable().  The
 * caller's memory context stays current (SPI would leave its own), so that
 * what callers copy dies with their context.
 */
static uint64
run_query(CatalogQuery *query, Datum *values, const char *nulls,
		  bool read_only, long count)
{
	MemoryContext cxt = CurrentMemoryContext;
	SavedUser	saved;
	int			rc;

	become_owner(&saved);
	if (query->keyed)
	{
		static const char *const scans[] = {
			"enable_seqscan", "enable_hashjoin", "enable_mergejoin"
		};

		for (int i = 0; i < lengthof(scans); i++)
			(void) set_config_option(scans[i], "off", PGC_USERSET,
									 PGC_S_SESSION, GUC_ACTION_SAVE,
									 true, 0, false);
	}
	rc = SPI_execute_plan(query_plan(query), values, nulls, read_only, count);
	MemoryContextSwitchTo(cxt);
	restore_user(&saved);
	if (rc < 0)
		elog(ERROR, "SPI_execute_plan failed for \"%s\": %s",
			 query->sql, SPI_result_code_string(rc));
	return SPI_processed;
}

/* A write to migrate.applied that must not invalidate migrate.state. */
static uint64
run_quiet_write(CatalogQuery *query, Datum *values, const char *nulls)
{
	uint64		processed = 0;

	catalog_writing = true;
	PG_TRY();
	{
		processed = run_query(query, values, nulls, false, 0);
	}
	PG_FINALLY();
	{
		catalog_writing = false;
	}
	PG_END_TRY();
	return processed;
}

static char *
text_column(int row, int column, bool *isnull)
{
	bool		null;
	Datum		value = SPI_getbinval(SPI_tuptable->vals[row],
									  SPI_tuptable->tupdesc, column, &null);

	if (isnull)
		*isnull = null;
	return null ? NULL : TextDatumGetCString(value);
}

static bool
bool_column(int row, int column)
{
	bool		null;
	Datum		value = SPI_getbinval(SPI_tuptable->vals[row],
									  SPI_tuptable->tupdesc, column, &null);

	return !null && DatumGetBool(value);
}

/* A text[] column as a C array of strings; NULL elements are skipped. */
struct StringArena;
static char **arena_text_array(struct StringArena *arena, Datum value,
							   bool null, int *n);

static int
compare_seq(const void *a, const void *b)
{
	int64		x = ((const MigrateRevision *) a)->seq;
	int64		y = ((const MigrateRevision *) b)->seq;

	return (x > y) - (x < y);
}

static char **
text_array_column(int row, int column, int *n)
{
	bool		null;
	Datum		value = SPI_getbinval(SPI_tuptable->vals[row],
									  SPI_tuptable->tupdesc, column, &null);

	return arena_text_array(NULL, value, null, n);
}


static Datum
text_list_datum(List *strings)
{
	char	  **array = palloc(sizeof(char *) * Max(list_length(strings), 1));
	int			n = 0;
	ListCell   *lc;

	foreach(lc, strings)
		array[n++] = lfirst(lc);
	return text_array_datum(n, array);
}

void
catalog_connect(void)
{
	int			rc = SPI_connect();

	if (rc != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed: %s", SPI_result_code_string(rc));
}

void
catalog_disconnect(void)
{
	int			rc = SPI_finish();

	if (rc != SPI_OK_FINISH)
		elog(ERROR, "SPI_finish failed: %s", SPI_result_code_string(rc));
}

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

/* The columns of migrate.revisions the graph needs, found by name. */
enum
{
	REV_ID, REV_PARENTS, REV_DEPENDS, REV_LABELS, REV_MESSAGE, REV_UPGRADE,
	REV_DOWNGRADE, REV_CHECKSUM, REV_SEQ, REV_TRANSACTIONAL, REV_NCOLUMNS
};
static const char *const revision_columns[REV_NCOLUMNS] = {
	"id", "parents", "depends_on", "branch_labels", "message", "upgrade",
	"downgrade", "checksum", "seq", "transactional"
};

static AttrNumber
attnum_of(Relation rel, const char *column)
{
	AttrNumber	attnum = get_attnum(RelationGetRelid(rel), column);

	if (attnum == InvalidAttrNumber)
		elog(ERROR, "column %s of migrate.%s does not exist", column,
			 RelationGetRelationName(rel));
	return attnum;
}

/*
 * The strings of a graph, packed end to end in large blocks: a graph of
 * 100,000 revisions holds most of a million short strings, and a chunk of
 * its own for each would double the memory they take.  Without an arena
 * (NULL), each string is palloc'd on its own, for a single revision.
 */
typedef struct StringArena
{
	char	   *next;
	size_t		left;
} StringArena;

#define ARENA_BLOCK (64 * 1024)

static void *
arena_alloc(StringArena *arena, size_t size, size_t align)
{
	size_t		pad;
	void	   *result;

	if (arena == NULL)
		return palloc(size);
	/* align is a power of two */
	pad = (align - ((uintptr_t) arena->next & (align - 1))) & (align - 1);
	if (arena->left < size + pad)
	{
		if (size > ARENA_BLOCK / 4)
			return palloc(size);
		arena->next = palloc(ARENA_BLOCK);
		arena->left = ARENA_BLOCK;
		pad = 0;
	}
	result = arena->next + pad;
	arena->next += size + pad;
	arena->left -= size + pad;
	return result;
}

static char *
arena_text(StringArena *arena, Datum value)
{
	text	   *t = DatumGetTextPP(value);
	int			len = VARSIZE_ANY_EXHDR(t);
	char	   *copy = arena_alloc(arena, VARHDRSZ + len + 1, sizeof(int32));
	char	   *result = copy + VARHDRSZ;

	/* A text value and a C string at once: see graph_text(). */
	SET_VARSIZE(copy, VARHDRSZ + len);
	memcpy(result, VARDATA_ANY(t), len);
	result[len] = '\0';
	if ((Pointer) t != DatumGetPointer(value))
		pfree(t);
	return result;
}

static char **
arena_text_array(StringArena *arena, Datum value, bool null, int *n)
{
	Datum	   *elems;
	bool	   *elemnulls;
	int			nelems;
	char	  **result;
	ArrayType  *array;

	*n = 0;
	if (null || VARSIZE_ANY(DatumGetPointer(value)) <= sizeof(ArrayType))
		return NULL;
	array = DatumGetArrayTypeP(value);
	deconstruct_array(array, TEXTOID, -1, false, TYPALIGN_INT,
					  &elems, &elemnulls, &nelems);
	result = arena_alloc(arena, sizeof(char *) * nelems, sizeof(char *));
	for (int i = 0; i < nelems; i++)
		if (!elemnulls[i])
			result[(*n)++] = arena_text(arena, elems[i]);
	pfree(elems);
	pfree(elemnulls);
	if ((Pointer) array != DatumGetPointer(value))
		pfree(array);
	return result;
}

/*
 * Read the graph: every revision with its edges and applied state, by one
 * scan of migrate.revisions and one of migrate.applied; with the scripts
 * and checksums too when the caller asks for them ("parts").
 */
MigrateGraph *
catalog_load_graph(int parts)
{
	Snapshot	snapshot;
	Relation	rel;
	TableScanDesc scan;
	HeapTuple	tuple;
	TupleDesc	desc;
	MigrateGraph *graph;
	int			nrevs = 0;
	int			capacity;
	MigrateRevision *revs;
	StringArena arena = {NULL, 0};
	AttrNumber	col[REV_NCOLUMNS];
	Datum	   *values;
	bool	   *nulls;

	/*
	 * What this transaction wrote so far, and under READ COMMITTED what
	 * others committed up to now (after the lock), as SPI would see it.
	 */
	CommandCounterIncrement();
	snapshot = RegisterSnapshot(GetTransactionSnapshot());

	/* Every revision, one pass over each row. */
	rel = table_open(catalog_relid("revisions"), AccessShareLock);
	desc = RelationGetDescr(rel);
	for (int i = 0; i < REV_NCOLUMNS; i++)
		col[i] = attnum_of(rel, revision_columns[i]);
	/* Sized by the planner's row estimate, so it seldom has to grow. */
	capacity = (int) Min(Max(rel->rd_rel->reltuples * 1.1 + 16, 1024),
						 MaxAllocSize / sizeof(MigrateRevision) / 2);
	revs = palloc0(sizeof(MigrateRevision) * capacity);
	values = palloc(sizeof(Datum) * desc->natts);
	nulls = palloc(sizeof(bool) * desc->natts);
	scan = table_beginscan(rel, snapshot, 0, NULL);
	while ((tuple = heap_getnext(scan, ForwardScanDirection)) != NULL)
	{
		MigrateRevision *rev;

		CHECK_FOR_INTERRUPTS();
		if (nrevs == capacity)
		{
			if (capacity > INT_MAX / 2 / (int) sizeof(MigrateRevision))
				ereport(ERROR,
						errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
						errmsg("too many revisions: more than %d", nrevs));
			revs = repalloc_huge(revs, sizeof(MigrateRevision) * capacity * 2);
			memset(revs + capacity, 0, sizeof(MigrateRevision) * capacity);
			capacity *= 2;
		}
		rev = &revs[nrevs++];
		heap_deform_tuple(tuple, desc, values, nulls);
		rev->id = arena_text(&arena, values[col[REV_ID] - 1]);
		rev->parent_ids = arena_text_array(&arena, values[col[REV_PARENTS] - 1],
										   nulls[col[REV_PARENTS] - 1], &rev->nparents);
		rev->depends_ids = arena_text_array(&arena, values[col[REV_DEPENDS] - 1],
											nulls[col[REV_DEPENDS] - 1], &rev->ndepends);
		rev->labels = arena_text_array(&arena, values[col[REV_LABELS] - 1],
									   nulls[col[REV_LABELS] - 1], &rev->nlabels);
		rev->message = arena_text(&arena, values[col[REV_MESSAGE] - 1]);
		rev->has_downgrade = !nulls[col[REV_DOWNGRADE] - 1];
		rev->seq = DatumGetInt64(values[col[REV_SEQ] - 1]);
		rev->transactional = DatumGetBool(values[col[REV_TRANSACTIONAL] - 1]);
		if (parts & GRAPH_CHECKSUMS)
			rev->checksum = arena_text(&arena, values[col[REV_CHECKSUM] - 1]);
		if (parts & GRAPH_SCRIPTS)
		{
			rev->upgrade = arena_text(&arena, values[col[REV_UPGRADE] - 1]);
			rev->downgrade = rev->has_downgrade
				? arena_text(&arena, values[col[REV_DOWNGRADE] - 1]) : NULL;
		}
	}
	table_endscan(scan);
	table_close(rel, AccessShareLock);

	/* Registration order, which breaks ties everywhere in the graph. */
	qsort(revs, nrevs, sizeof(MigrateRevision), compare_seq);
	graph = graph_build(revs, nrevs, (parts & GRAPH_LENIENT) != 0);

	/* The applied state; a row for an unregistered id is ignored. */
	rel = table_open(catalog_relid("applied"), AccessShareLock);
	desc = RelationGetDescr(rel);
	col[0] = attnum_of(rel, "revision");
	col[1] = attnum_of(rel, "applied_at");
	col[2] = attnum_of(rel, "checksum");
	scan = table_beginscan(rel, snapshot, 0, NULL);
	while ((tuple = heap_getnext(scan, ForwardScanDirection)) != NULL)
	{
		bool		isnull;
		text	   *id = DatumGetTextPP(heap_getattr(tuple, col[0], desc, &isnull));
		char		key[MIGRATE_ID_MAXLEN + 1];
		int			len = VARSIZE_ANY_EXHDR(id);
		Datum		checksum;
		MigrateRevision *rev;
		int			found;

		if (len > MIGRATE_ID_MAXLEN)
			continue;
		memcpy(key, VARDATA_ANY(id), len);
		key[len] = '\0';
		if ((found = graph_find(graph, key)) < 0 || graph->revs[found].phantom)
			continue;
		rev = &graph->revs[found];
		rev->applied = true;
		rev->has_applied_at = true;
		rev->applied_at = DatumGetTimestampTz(heap_getattr(tuple, col[1], desc, &isnull));
		if (parts & GRAPH_CHECKSUMS)
		{
			checksum = heap_getattr(tuple, col[2], desc, &isnull);
			rev->applied_checksum = isnull ? NULL : arena_text(&arena, checksum);
		}
	}
	table_endscan(scan);
	table_close(rel, AccessShareLock);
	UnregisterSnapshot(snapshot);
	return graph;
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

/*
 * The upgrade or downgrade script of a revision, or NULL when it has none,
 * once its content is checked against its checksum: what runs is what was
 * checked at registration, whoever edited the row since.
 */
char *
catalog_fetch_script(const MigrateRevision *rev, MigrateDirection direction,
					 char **author)
{
	Datum		values[1] = {CStringGetTextDatum(rev->id)};
	char	   *upgrade;
	char	   *downgrade;
	char	   *checksum;

	if (run_query(&q_fetch_scripts, values, NULL, false, 1) != 1)
		ereport(ERROR,
				errcode(ERRCODE_UNDEFINED_OBJECT),
				errmsg("revision \"%s\" does not exist", rev->id),
				errdetail("It was removed from migrate.revisions during the call."));
	upgrade = text_column(0, 1, NULL);
	downgrade = text_column(0, 2, NULL);
	checksum = text_column(0, 3, NULL);
	if (author)
		*author = SPI_getvalue(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 4);
	SPI_freetuptable(SPI_tuptable);
	if (strcmp(checksum, catalog_checksum(upgrade, downgrade,
										  rev->nparents, rev->parent_ids,
										  rev->ndepends, rev->depends_ids,
										  rev->transactional)) != 0)
		ereport(ERROR,
				errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				errmsg("revision \"%s\" was changed in migrate.revisions since it was registered",
					   rev->id),
				errdetail("Its scripts, parents or depends_on do not match its checksum: what would run is not what was checked."),
				errhint("Register the revision again with its original content (\"pg_migrate sync\" from its file, or migrate.revision()), which restores the row; migrate.verify() lists such revisions."));
	return direction == MIGRATE_UP ? upgrade : downgrade;
}

static void
append_field(StringInfo buf, const char *field)
{
	if (field == NULL)
		appendStringInfoString(buf, "N");
	else
		appendStringInfo(buf, "%zu:%s", strlen(field), field);
}

/*
 * SHA-256 of what makes a revision what it is: its scripts and its edges.
 * Each field is length-prefixed, so no two contents share a text.  Message
 * and branch labels are descriptive and may change on an applied revision.
 */
char *
catalog_checksum(const char *upgrade, const char *downgrade,
				 int nparents, char **parents, int ndepends, char **depends,
				 bool transactional)
{
	StringInfoData buf;
	pg_cryptohash_ctx *ctx;
	uint8		digest[PG_SHA256_DIGEST_LENGTH];
	char	   *result;

	initStringInfo(&buf);
	appendStringInfoString(&buf, "migrate revision 1\n");
	append_field(&buf, upgrade);
	append_field(&buf, downgrade);
	appendStringInfo(&buf, "%d", nparents);
	for (int i = 0; i < nparents; i++)
		append_field(&buf, parents[i]);
	appendStringInfo(&buf, "%d", ndepends);
	for (int i = 0; i < ndepends; i++)
		append_field(&buf, depends[i]);
	/* Only when set, so that the checksums of other revisions stay as they were. */
	if (!transactional)
		appendStringInfoString(&buf, "non-transactional");

	ctx = pg_cryptohash_create(PG_SHA256);
	if (ctx == NULL || pg_cryptohash_init(ctx) < 0 ||
		pg_cryptohash_update(ctx, (uint8 *) buf.data, buf.len) < 0 ||
		pg_cryptohash_final(ctx, digest, sizeof(digest)) < 0)
		elog(ERROR, "could not compute a SHA-256 checksum: %s",
			 pg_cryptohash_error(ctx));
	pg_cryptohash_free(ctx);

	result = palloc(2 * sizeof(digest) + 1);
	for (int i = 0; i < (int) sizeof(digest); i++)
		snprintf(result + 2 * i, 3, "%02x", digest[i]);
	pfree(buf.data);
	return result;
}

/* Which of these ids are not registered, in the order given. */
List *
catalog_missing_revisions(int n, char **ids)
{
	Datum		values[1];
	List	   *missing = NIL;
	uint64		nrows;

	if (n == 0)
		return NIL;
	values[0] = text_array_datum(n, ids);
	nrows = run_query(&q_missing_revisions, values, NULL, false, 0);
	for (uint64 i = 0; i < nrows; i++)
		missing = lappend(missing, text_column(i, 1, NULL));
	SPI_freetuptable(SPI_tuptable);
	return missing;
}

/* The revision, other than except_id, that carries this branch label. */
char *
catalog_label_owner(const char *label, const char *except_id)
{
	Datum		values[2] = {CStringGetTextDatum(label),
	CStringGetTextDatum(except_id)};
	char	   *owner = NULL;

	if (run_query(&q_label_owner, values, NULL, false, 1) > 0)
		owner = text_column(0, 1, NULL);
	SPI_freetuptable(SPI_tuptable);
	return owner;
}

/*
 * A registered id other than except_id that starts with "prefix" (or is
 * it), or NULL: a branch label must not be one, or the label would capture
 * what an operator types as a prefix.
 */
char *
catalog_id_with_prefix(const char *prefix, const char *except_id)
{
	Datum		values[2] = {CStringGetTextDatum(prefix),
	CStringGetTextDatum(except_id)};
	char	   *id = NULL;

	if (run_query(&q_id_with_prefix, values, NULL, false, 1) > 0)
		id = text_column(0, 1, NULL);
	SPI_freetuptable(SPI_tuptable);
	return id;
}

/*
 * A branch label of a revision other than except_id that is a prefix of
 * "id" (or equals it), or NULL; *owner is its revision.
 */
char *
catalog_label_prefix(const char *id, const char *except_id, char **owner)
{
	int			len = strlen(id);
	char	  **prefixes = palloc(sizeof(char *) * Max(len, 1));
	Datum		values[2];
	char	   *label = NULL;

	for (int i = 0; i < len; i++)
		prefixes[i] = pnstrdup(id, i + 1);
	values[0] = text_array_datum(len, prefixes);
	values[1] = CStringGetTextDatum(except_id);
	if (run_query(&q_label_prefix, values, NULL, false, 1) > 0)
	{
		*owner = text_column(0, 1, NULL);
		label = text_column(0, 2, NULL);
	}
	SPI_freetuptable(SPI_tuptable);
	return label;
}

/*
 * Fill rev with a registered revision's edges, labels, message, checksum
 * and applied flag; false when it is not registered.
 */
bool
catalog_fetch_revision(const char *id, MigrateRevision *rev)
{
	Datum		values[1] = {CStringGetTextDatum(id)};

	if (run_query(&q_fetch_revision, values, NULL, false, 1) == 0)
	{
		SPI_freetuptable(SPI_tuptable);
		return false;
	}
	memset(rev, 0, sizeof(MigrateRevision));
	rev->id = pstrdup(id);
	rev->parent_ids = text_array_column(0, 1, &rev->nparents);
	rev->depends_ids = text_array_column(0, 2, &rev->ndepends);
	rev->labels = text_array_column(0, 3, &rev->nlabels);
	rev->message = text_column(0, 4, NULL);
	rev->checksum = text_column(0, 5, NULL);
	rev->has_downgrade = bool_column(0, 6);
	rev->applied = bool_column(0, 7);
	rev->transactional = bool_column(0, 8);
	rev->upgrade = text_column(0, 9, NULL);
	rev->downgrade = text_column(0, 10, NULL);
	SPI_freetuptable(SPI_tuptable);
	return true;
}

static void
revision_values(const MigrateRevision *rev, const char *upgrade,
				const char *downgrade, Datum *values, char *nulls)
{
	values[0] = CStringGetTextDatum(rev->id);
	values[1] = text_array_datum(rev->nparents, rev->parent_ids);
	values[2] = text_array_datum(rev->ndepends, rev->depends_ids);
	values[3] = text_array_datum(rev->nlabels, rev->labels);
	values[4] = CStringGetTextDatum(rev->message);
	values[5] = CStringGetTextDatum(upgrade);
	values[6] = downgrade ? CStringGetTextDatum(downgrade) : (Datum) 0;
	values[7] = CStringGetTextDatum(rev->checksum);
	values[8] = caller_name();
	values[9] = text_list_datum(rev->lint_waived);
	values[10] = BoolGetDatum(rev->transactional);
	memset(nulls, ' ', 11);
	nulls[6] = downgrade ? ' ' : 'n';
}

void
catalog_insert_revision(const MigrateRevision *rev, const char *upgrade,
						const char *downgrade)
{
	Datum		values[11];
	char		nulls[11];

	revision_values(rev, upgrade, downgrade, values, nulls);
	run_query(&q_insert_revision, values, nulls, false, 0);
}

/*
 * Rewrite a revision's row.  With new_author, the caller becomes the role
 * its scripts run as (new content is the caller's); without, the author
 * stays (a new message, or the checked content put back).
 */
void
catalog_update_revision(const MigrateRevision *rev, const char *upgrade,
						const char *downgrade, bool new_author)
{
	Datum		values[11];
	char		nulls[11];

	revision_values(rev, upgrade, downgrade, values, nulls);
	if (!new_author)
		nulls[8] = 'n';
	run_query(&q_update_revision, values, nulls, false, 0);
}

/* Give every revision registered by "from" to "to"; returns how many. */
uint64
catalog_reassign(const char *from, const char *to)
{
	Datum		values[2];
	Name		a = palloc0(NAMEDATALEN);
	Name		b = palloc0(NAMEDATALEN);

	namestrcpy(a, from);
	namestrcpy(b, to);
	values[0] = NameGetDatum(a);
	values[1] = NameGetDatum(b);
	return run_query(&q_reassign, values, NULL, false, 0);
}

/*
 * Mark a revision applied (with how long its script took; negative for a
 * stamp) or not applied.
 */
void
catalog_set_applied(const MigrateRevision *rev, bool applied,
					double duration_ms)
{
	if (applied)
	{
		Datum		values[3];
		char		nulls[3] = {' ', ' ', ' '};
		Interval   *duration = palloc0(sizeof(Interval));

		duration->time = (TimeOffset) (duration_ms * 1000.0);
		values[0] = CStringGetTextDatum(rev->id);
		values[1] = IntervalPGetDatum(duration);
		values[2] = caller_name();
		if (duration_ms < 0)
			nulls[1] = 'n';
		/* The checksum is copied from the revision's row. */
		if (run_quiet_write(&q_mark_applied, values, nulls) != 1)
			ereport(ERROR,
					errcode(ERRCODE_UNDEFINED_OBJECT),
					errmsg("revision \"%s\" does not exist", rev->id),
					errdetail("It was removed from migrate.revisions during the call."));
	}
	else
	{
		Datum		values[1] = {CStringGetTextDatum(rev->id)};

		run_quiet_write(&q_mark_unapplied, values, NULL);
	}
	catalog_applied_changed();
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
			TimestampTz finished)
{
	Datum		values[6];

	log_values(values, action, revision, direction, started, finished);
	run_query(&q_log, values, NULL, false, 0);
}

/* A failed step of migrate.run(), committed before the error is raised again. */
void
catalog_log_failure(const char *action, const char *revision,
					MigrateDirection direction, TimestampTz started,
					TimestampTz finished, const ErrorData *edata)
{
	Datum		values[8];

	log_values(values, action, revision, direction, started, finished);
	values[6] = CStringGetTextDatum(unpack_sql_state(edata->sqlerrcode));
	values[7] = CStringGetTextDatum(edata->message ? edata->message : "");
	run_query(&q_log_failure, values, NULL, false, 0);
}

/* One index probe; never reads the graph. */
bool
catalog_is_applied(const char *id)
{
	Oid			relid;
	Relation	rel;
	ScanKeyData key;
	SysScanDesc scan;
	bool		applied;
	AppliedAnswer *answer;

	/* Hear about changes committed since this backend last looked. */
	AcceptInvalidationMessages();
	if (applied_answers != NULL && strlen(id) <= MIGRATE_ID_MAXLEN &&
		(answer = hash_search(applied_answers, id, HASH_FIND, NULL)) != NULL)
		return answer->applied;

	relid = catalog_relid("applied");
	rel = table_open(relid, AccessShareLock);
	ScanKeyEntryInitialize(&key, 0, 1, BTEqualStrategyNumber, InvalidOid,
						   TupleDescAttr(RelationGetDescr(rel), 0)->attcollation,
						   F_TEXTEQ, CStringGetTextDatum(id));
	scan = systable_beginscan(rel, catalog_relid("applied_pkey"), true,
							  read_snapshot(), 1, &key);
	applied = HeapTupleIsValid(systable_getnext(scan));
	systable_endscan(scan);
	table_close(rel, AccessShareLock);

	/*
	 * Keep the answer, unless this transaction itself changed the catalog
	 * (its view is not the committed one) or the id cannot be a revision.
	 */
	if (strlen(id) <= MIGRATE_ID_MAXLEN && !catalog_changed_here())
	{
		if (applied_answers == NULL)
		{
			HASHCTL		ctl;

			if (!answers_callback_registered)
			{
				CacheRegisterRelcacheCallback(forget_applied_answers, (Datum) 0);
				answers_callback_registered = true;
			}
			ctl.keysize = MIGRATE_ID_MAXLEN + 1;
			ctl.entrysize = sizeof(AppliedAnswer);
			applied_answers = hash_create("migrate applied answers", 64, &ctl,
										  HASH_ELEM | HASH_STRINGS);
		}
		applied_relid = relid;
		answer = hash_search(applied_answers, id, HASH_ENTER, NULL);
		answer->applied = applied;
	}
	return applied;
}

/*
 * Tell every backend (this one at its next command) that migrate.applied
 * changed, so that they forget the answers catalog_is_applied() kept.
 * Sent at commit, like any catalog invalidation; dropped with a rollback,
 * which leaves nothing to forget.
 */
void
catalog_applied_changed(void)
{
	TransactionId xid = GetCurrentTransactionId();

	/* Once per (sub)transaction: applying 10,000 steps sends one. */
	if (xid != applied_changed_xid)
	{
		CacheInvalidateRelcacheByRelid(catalog_relid("applied"));
		applied_changed_xid = xid;
	}
}

/* Remove an unapplied revision from the catalog, and log it. */
void
catalog_forget_revision(const char *id)
{
	Datum		values[2] = {CStringGetTextDatum(id), caller_name()};

	if (run_query(&q_forget_revision, values, NULL, false, 0) != 1)
		ereport(ERROR,
				errcode(ERRCODE_UNDEFINED_OBJECT),
				errmsg("revision \"%s\" does not exist", id),
				errdetail("It was removed from migrate.revisions during the call."));
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
			catalog_applied_changed();
	}
	return PointerGetDatum(NULL);
}
