/*-------------------------------------------------------------------------
 *
 * catalog_graph.c
 *		Read the whole revision graph: every revision with its edges and
 *		applied state, by one scan of migrate.revisions and one of
 *		migrate.applied.
 *
 * The scans read the tables directly, without SPI or the executor, under
 * the snapshot SPI would use; graph.c builds the graph from what they read.
 *
 * IDENTIFICATION
 *	  src/catalog_graph.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/heapam.h"
#include "access/htup_details.h"
#include "access/table.h"
#include "access/tableam.h"
#include "access/xact.h"
#include "miscadmin.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"
#include "utils/rel.h"
#include "utils/snapmgr.h"
#include "utils/timestamp.h"

#include "migrate.h"
#include "catalog.h"

/* The columns of migrate.revisions the graph needs, found by name. */
enum
{
	REV_ID, REV_PARENTS, REV_DEPENDS, REV_LABELS, REV_MESSAGE, REV_UPGRADE,
	REV_DOWNGRADE, REV_CHECKSUM, REV_SEQ, REV_TRANSACTIONAL, REV_SCOPE,
	REV_NCOLUMNS
};
static const char *const revision_columns[REV_NCOLUMNS] = {
	"id", "parents", "depends_on", "branch_labels", "message", "upgrade",
	"downgrade", "checksum", "seq", "transactional", "scope"
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

/* Is this migrate.revisions.scope value 'tenant'? */
static bool
is_tenant_scope(Datum scope)
{
	text	   *t = DatumGetTextPP(scope);

	return VARSIZE_ANY_EXHDR(t) == 6 && memcmp(VARDATA_ANY(t), "tenant", 6) == 0;
}

/*
 * A tenant revision's dependencies on database revisions are not edges of
 * the tenant graph: the tenant frame checks them against the database's
 * applied state.  Registration puts them after the tenant ones, so they
 * stay in depends_ids, past ndepends, in the order the checksum covers.
 */
static void
split_external_depends(MigrateRevision *revs, int nrevs,
					   char **database_ids, int ndatabase)
{
	HTAB	   *ids;
	HASHCTL		ctl;

	ctl.keysize = MIGRATE_ID_MAXLEN + 1;
	ctl.entrysize = MIGRATE_ID_MAXLEN + 1;
	ctl.hcxt = CurrentMemoryContext;
	ids = hash_create("migrate database ids", Max(ndatabase, 16), &ctl,
					  HASH_ELEM | HASH_STRINGS | HASH_CONTEXT);
	for (int i = 0; i < ndatabase; i++)
		(void) hash_search(ids, database_ids[i], HASH_ENTER, NULL);
	for (int i = 0; i < nrevs; i++)
	{
		MigrateRevision *rev = &revs[i];
		char	  **kept = palloc(sizeof(char *) * Max(rev->ndepends, 1));
		char	  **external = palloc(sizeof(char *) * Max(rev->ndepends, 1));
		int			nkept = 0;

		for (int j = 0; j < rev->ndepends; j++)
		{
			if (strlen(rev->depends_ids[j]) <= MIGRATE_ID_MAXLEN &&
				hash_search(ids, rev->depends_ids[j], HASH_FIND, NULL) != NULL)
				external[rev->nexternal++] = rev->depends_ids[j];
			else
				kept[nkept++] = rev->depends_ids[j];
		}
		if (rev->nexternal == 0)
			continue;
		memcpy(rev->depends_ids, kept, sizeof(char *) * nkept);
		memcpy(rev->depends_ids + nkept, external,
			   sizeof(char *) * rev->nexternal);
		rev->ndepends = nkept;
		rev->external_ids = rev->depends_ids + nkept;
	}
	hash_destroy(ids);
}

/*
 * Mark the revisions a table of applied state (migrate.applied, or
 * tenant_applied for any tenant) lists, with when and, with
 * GRAPH_CHECKSUMS, the checksum they were applied with.
 */
static void
mark_applied(MigrateGraph *graph, const char *table, Snapshot snapshot,
			 int parts, StringArena *arena)
{
	Relation	rel = table_open(catalog_relid(table), AccessShareLock);
	TupleDesc	desc = RelationGetDescr(rel);
	AttrNumber	revision_col = attnum_of(rel, "revision");
	AttrNumber	applied_at_col = attnum_of(rel, "applied_at");
	AttrNumber	checksum_col = attnum_of(rel, "checksum");
	TableScanDesc scan = table_beginscan(rel, snapshot, 0, NULL);
	HeapTuple	tuple;

	while ((tuple = heap_getnext(scan, ForwardScanDirection)) != NULL)
	{
		bool		isnull;
		text	   *id = DatumGetTextPP(heap_getattr(tuple, revision_col, desc, &isnull));
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
		if (rev->applied)
			continue;
		rev->applied = true;
		rev->has_applied_at = true;
		rev->applied_at = DatumGetTimestampTz(heap_getattr(tuple, applied_at_col,
														   desc, &isnull));
		if (parts & GRAPH_CHECKSUMS)
		{
			checksum = heap_getattr(tuple, checksum_col, desc, &isnull);
			rev->applied_checksum = isnull ? NULL : arena_text(arena, checksum);
		}
	}
	table_endscan(scan);
	table_close(rel, AccessShareLock);
}

static int
compare_seq(const void *a, const void *b)
{
	int64		x = ((const MigrateRevision *) a)->seq;
	int64		y = ((const MigrateRevision *) b)->seq;

	return (x > y) - (x < y);
}

/*
 * Read the graph: every revision of a scope with its edges and applied
 * state, by one scan of migrate.revisions and one of migrate.applied; with
 * the scripts and checksums too when the caller asks for them ("parts").
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
	bool		want_tenant = (parts & GRAPH_TENANT) != 0;
	bool		all_scopes = (parts & GRAPH_ALL_SCOPES) != 0;
	char	  **database_ids = NULL;	/* skipped ones, for the tenant graph */
	int			ndatabase = 0;
	int			database_capacity = 0;
	bool		any_depends = false;

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
		heap_deform_tuple(tuple, desc, values, nulls);
		if (is_tenant_scope(values[col[REV_SCOPE] - 1]) != want_tenant &&
			!all_scopes)
		{
			if (want_tenant)
			{
				if (ndatabase == database_capacity)
				{
					database_capacity = Max(64, database_capacity * 2);
					database_ids = database_ids == NULL
						? palloc(sizeof(char *) * database_capacity)
						: repalloc(database_ids, sizeof(char *) * database_capacity);
				}
				database_ids[ndatabase++] = arena_text(&arena,
													   values[col[REV_ID] - 1]);
			}
			continue;
		}
		rev = &revs[nrevs++];
		rev->tenant_scope = is_tenant_scope(values[col[REV_SCOPE] - 1]);
		rev->id = arena_text(&arena, values[col[REV_ID] - 1]);
		rev->parent_ids = arena_text_array(&arena, values[col[REV_PARENTS] - 1],
										   nulls[col[REV_PARENTS] - 1], &rev->nparents);
		rev->depends_ids = arena_text_array(&arena, values[col[REV_DEPENDS] - 1],
											nulls[col[REV_DEPENDS] - 1], &rev->ndepends);
		rev->labels = arena_text_array(&arena, values[col[REV_LABELS] - 1],
									   nulls[col[REV_LABELS] - 1], &rev->nlabels);
		any_depends |= rev->ndepends > 0;
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
	if (want_tenant && any_depends && ndatabase > 0)
		split_external_depends(revs, nrevs, database_ids, ndatabase);
	graph = graph_build(revs, nrevs, (parts & GRAPH_LENIENT) != 0);
	if (want_tenant)
	{
		UnregisterSnapshot(snapshot);
		return graph;
	}

	/* The applied state; a row for an unregistered id is ignored. */
	mark_applied(graph, "applied", snapshot, parts, &arena);
	/* With both scopes, a tenant revision applied in any tenant is applied. */
	if (all_scopes)
		mark_applied(graph, "tenant_applied", snapshot, 0, &arena);
	UnregisterSnapshot(snapshot);
	return graph;
}
