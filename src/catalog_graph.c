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

static int
compare_seq(const void *a, const void *b)
{
	int64		x = ((const MigrateRevision *) a)->seq;
	int64		y = ((const MigrateRevision *) b)->seq;

	return (x > y) - (x < y);
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
