/*-------------------------------------------------------------------------
 *
 * catalog.c
 *		How migrate queries its catalog: the owner switch, running a query,
 *		and copying values out of its result, shared by the catalog files
 *		through catalog.h.
 *
 * Only the catalog files read and write the migrate schema, each with its
 * own queries: catalog_state.c (migrate.state, and who holds the lock),
 * catalog_graph.c (the whole graph), catalog_revision.c (one revision's
 * row) and catalog_applied.c (what ran: migrate.applied, migrate.log and
 * the progress of non-transactional revisions).  This file holds how their
 * queries run, and uses none of them.
 *
 * Catalog access goes through SPI, except the reads that must be fast (is a
 * revision applied, the cached state, the whole graph), which scan the
 * tables directly.  Queries are parameterised, fully schema-qualified
 * (operators too), so a caller's search_path cannot redirect them, and run
 * as the owner of the migrate schema: the catalog is closed to PUBLIC, and
 * the right to use it is the right to EXECUTE the extension's functions.
 * Migration scripts, in apply.c, run as the caller.  Hot queries keep their
 * plans across calls.
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
#include "access/htup_details.h"
#include "access/stratnum.h"
#include "access/table.h"
#include "catalog/namespace.h"
#include "catalog/pg_extension.h"
#include "catalog/pg_namespace.h"
#include "catalog/pg_type.h"
#include "common/cryptohash.h"
#include "common/sha2.h"
#include "executor/spi.h"
#include "miscadmin.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/fmgroids.h"
#include "utils/guc.h"
#include "utils/lsyscache.h"
#include "utils/snapmgr.h"
#include "utils/syscache.h"

#include "migrate.h"
#include "catalog.h"

/*
 * Set while migrate itself writes migrate.applied, so that the statement
 * trigger that invalidates migrate.state on foreign edits stays quiet.
 */
bool		catalog_writing = false;

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

/* A relation of the migrate schema. */
Oid
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

/* The installed version of the extension, pg_extension.extversion. */
char *
catalog_extension_version(void)
{
	Relation	rel = table_open(ExtensionRelationId, AccessShareLock);
	ScanKeyData key;
	SysScanDesc scan;
	HeapTuple	tuple;
	char	   *version = NULL;

	ScanKeyInit(&key, Anum_pg_extension_extname, BTEqualStrategyNumber,
				F_NAMEEQ, CStringGetDatum("migrate"));
	scan = systable_beginscan(rel, ExtensionNameIndexId, true, NULL, 1, &key);
	tuple = systable_getnext(scan);
	if (HeapTupleIsValid(tuple))
	{
		bool		isnull;
		Datum		value = heap_getattr(tuple, Anum_pg_extension_extversion,
										 RelationGetDescr(rel), &isnull);

		if (!isnull)
			version = TextDatumGetCString(value);
	}
	systable_endscan(scan);
	table_close(rel, AccessShareLock);
	if (version == NULL)
		elog(ERROR, "extension \"migrate\" has no version");
	return version;
}

/* The query's snapshot, as SPI's read-only queries use it. */
Snapshot
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
void
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

void
restore_user(const SavedUser *saved)
{
	AtEOXact_GUC(true, saved->guc_level);
	SetUserIdAndSecContext(saved->userid, saved->sec_context);
}

/*
 * The caller's role, for created_by, applied_by and role: catalog queries
 * run as the owner, so CURRENT_USER there would name the owner.
 */
Datum
caller_name(void)
{
	Name		name = palloc0(NAMEDATALEN);

	namestrcpy(name, GetUserNameFromId(GetUserId(), false));
	return NameGetDatum(name);
}

SPIPlanPtr
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
uint64
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

/*
 * A write that must not invalidate migrate.state: to migrate.applied by
 * the calls that save the state themselves, or of metadata.
 */
uint64
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
char *
text_column(int row, int column, bool *isnull)
{
	bool		null;
	Datum		value = SPI_getbinval(SPI_tuptable->vals[row],
									  SPI_tuptable->tupdesc, column, &null);

	if (isnull)
		*isnull = null;
	return null ? NULL : TextDatumGetCString(value);
}

bool
bool_column(int row, int column)
{
	bool		null;
	Datum		value = SPI_getbinval(SPI_tuptable->vals[row],
									  SPI_tuptable->tupdesc, column, &null);

	return !null && DatumGetBool(value);
}

/* A text[] column as a C array of strings; NULL elements are skipped. */
char **
text_array_column(int row, int column, int *n)
{
	bool		null;
	Datum		value = SPI_getbinval(SPI_tuptable->vals[row],
									  SPI_tuptable->tupdesc, column, &null);

	return arena_text_array(NULL, value, null, n);
}

/* Strings copied into an arena (StringArena, in catalog.h) */
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

char *
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

char **
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

/* The SHA-256 of the bytes, in hex. */
char *
sha256_hex(const char *data, size_t len)
{
	pg_cryptohash_ctx *ctx = pg_cryptohash_create(PG_SHA256);
	uint8		digest[PG_SHA256_DIGEST_LENGTH];
	char	   *result;

	if (ctx == NULL || pg_cryptohash_init(ctx) < 0 ||
		pg_cryptohash_update(ctx, (const uint8 *) data, len) < 0 ||
		pg_cryptohash_final(ctx, digest, sizeof(digest)) < 0)
		elog(ERROR, "could not compute a SHA-256 digest: %s",
			 pg_cryptohash_error(ctx));
	pg_cryptohash_free(ctx);
	result = palloc(2 * sizeof(digest) + 1);
	for (int i = 0; i < (int) sizeof(digest); i++)
		snprintf(result + 2 * i, 3, "%02x", digest[i]);
	return result;
}
