/*-------------------------------------------------------------------------
 *
 * graph.c
 *		The revision graph: building it, and choosing which revisions an
 *		upgrade, downgrade or stamp touches and in which order.
 *
 * The graph comes from migrate.revisions in one query (catalog_graph.c) and
 * lives in the caller's memory context.  Nothing here touches SPI, so the
 * algorithms can be tested on any graph.  Every walk is iterative (a chain
 * of 100,000 revisions must not exhaust the stack) and linear in revisions
 * plus edges, but for the heap that breaks ties, which is only needed when
 * registration order is not already a topological order.
 *
 * Determinism: revisions are kept in registration order, and every ordering
 * breaks ties by it (earliest first going up, latest first going down), as
 * core's find_update_path() breaks ties between update scripts.
 *
 * IDENTIFICATION
 *	  src/graph.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "common/hashfn.h"
#include "lib/binaryheap.h"
#include "lib/stringinfo.h"
#include "utils/memutils.h"

#include "migrate.h"

/* How many ids an error message lists before it says "and N more". */
#define MAX_IDS_IN_MESSAGE	10

/*
 * Ids and labels are found through an open-addressing table of revision
 * indexes: a graph of 100,000 revisions is built on every call that plans,
 * and a flat array of (hash, index) pairs probed linearly costs a fraction
 * of a general-purpose hash table's lookups.  The key itself stays in the
 * revision; a slot only remembers which revision and which of its names.
 */
typedef struct GraphIndexSlot
{
	uint32		hash;
	int			rev;			/* revision index + 1; 0 marks an empty slot */
	int			name;			/* -1: the revision's id; else a label number */
} GraphIndexSlot;

struct GraphIndex
{
	uint32		mask;			/* number of slots - 1, a power of two */
	GraphIndexSlot *slots;
};

/* FNV-1a over the bytes, then murmur's finaliser to spread close ids. */
static uint32
name_hash(const char *name)
{
	uint32		h = 2166136261u;

	for (const unsigned char *p = (const unsigned char *) name; *p; p++)
		h = (h ^ *p) * 16777619u;
	return murmurhash32(h);
}

static GraphIndex *
index_create(int nkeys)
{
	GraphIndex *index = palloc(sizeof(GraphIndex));
	uint64		nslots = 16;

	/* At most half full, so probes stay short. */
	while (nslots < (uint64) nkeys * 2)
		nslots *= 2;
	index->mask = (uint32) (nslots - 1);
	index->slots = palloc0(sizeof(GraphIndexSlot) * nslots);
	return index;
}

static const char *
slot_name(const MigrateGraph *graph, const GraphIndexSlot *slot)
{
	const MigrateRevision *rev = &graph->revs[slot->rev - 1];

	return slot->name < 0 ? rev->id : rev->labels[slot->name];
}

/* The revision a name belongs to, or -1. */
static int
index_find(const MigrateGraph *graph, const GraphIndex *index,
		   const char *name)
{
	uint32		hash = name_hash(name);

	for (uint32 i = hash & index->mask;; i = (i + 1) & index->mask)
	{
		const GraphIndexSlot *slot = &index->slots[i];

		if (slot->rev == 0)
			return -1;
		if (slot->hash == hash && strcmp(slot_name(graph, slot), name) == 0)
			return slot->rev - 1;
	}
}

/*
 * Add a name of revision "rev"; the first revision to claim a name keeps it.
 * Ids are unique (migrate.revisions' primary key), so for them ("name" -1)
 * no slot's key needs a comparison.
 */
static void
index_add(const MigrateGraph *graph, GraphIndex *index, int rev, int name)
{
	const MigrateRevision *owner = &graph->revs[rev];
	const char *key = name < 0 ? owner->id : owner->labels[name];
	uint32		hash = name_hash(key);

	for (uint32 i = hash & index->mask;; i = (i + 1) & index->mask)
	{
		GraphIndexSlot *slot = &index->slots[i];

		if (slot->rev == 0)
		{
			slot->hash = hash;
			slot->rev = rev + 1;
			slot->name = name;
			return;
		}
		if (name >= 0 && slot->hash == hash &&
			strcmp(slot_name(graph, slot), key) == 0)
			return;
	}
}

/*
 * The indexes are built on the first lookup, in the graph's memory context:
 * a plan from base or to head looks nothing up by name, and building them
 * is a fifth of reading a long history.
 */
static void
build_indexes(const MigrateGraph *graph)
{
	MigrateGraph *mutable = (MigrateGraph *) graph;
	MemoryContext oldcxt = MemoryContextSwitchTo(graph->cxt);
	int			nlabels = 0;

	for (int i = 0; i < graph->nrevs; i++)
		nlabels += graph->revs[i].nlabels;
	mutable->by_id = index_create(graph->nrevs);
	mutable->by_label = index_create(nlabels);
	for (int i = 0; i < graph->nrevs; i++)
	{
		index_add(graph, graph->by_id, i, -1);
		for (int j = 0; j < graph->revs[i].nlabels; j++)
			index_add(graph, graph->by_label, i, j);
	}
	MemoryContextSwitchTo(oldcxt);
}

int
graph_find(const MigrateGraph *graph, const char *id)
{
	if (graph->by_id == NULL)
		build_indexes(graph);
	return index_find(graph, graph->by_id, id);
}

int
graph_find_label(const MigrateGraph *graph, const char *label)
{
	if (graph->by_label == NULL)
		build_indexes(graph);
	return index_find(graph, graph->by_label, label);
}

/*
 * Resolve a list of ids to indexes.  The catalog is only ever changed
 * through migrate.revision(), which checks every edge; a dangling one means
 * somebody edited the catalog by hand, and the message says how to repair it.
 */
static void
resolve_edges(const MigrateGraph *graph, const MigrateRevision *rev,
			  int n, char **ids, const char *edge_kind, int *result)
{
	int			self = rev - graph->revs;

	for (int i = 0; i < n; i++)
	{
		/* Most revisions are registered right after their parent. */
		if (self > 0 && strcmp(graph->revs[self - 1].id, ids[i]) == 0)
		{
			result[i] = self - 1;
			continue;
		}
		result[i] = graph_find(graph, ids[i]);
		if (result[i] < 0)
			ereport(ERROR,
					errcode(ERRCODE_UNDEFINED_OBJECT),
					errmsg("revision \"%s\" names %s \"%s\", which is not registered",
						   rev->id, edge_kind, ids[i]),
					errhint("Register revision \"%s\" again, or fix the row of \"%s\" in migrate.revisions.",
							ids[i], rev->id));
	}
}

/*
 * A damaged catalog (edited by hand) may name revisions that are not
 * there.  Built leniently, the graph gets a phantom revision for each: it
 * is never applied, is nobody's head, and verify() reports it; everything
 * that walks the graph works unchanged.  The array grows, so it is
 * returned anew.
 */
static MigrateRevision *
add_phantoms(MigrateRevision *revs, int *nrevs)
{
	MigrateGraph probe = {0};
	int			n = *nrevs;
	int			capacity = n;

	probe.revs = revs;
	probe.nrevs = n;
	probe.cxt = CurrentMemoryContext;
	for (int i = 0; i < *nrevs; i++)
	{
		int			nedges = revs[i].nparents + revs[i].ndepends;

		for (int j = 0; j < nedges; j++)
		{
			char	   *id = j < revs[i].nparents ? revs[i].parent_ids[j]
				: revs[i].depends_ids[j - revs[i].nparents];

			if (graph_find(&probe, id) >= 0)
				continue;
			if (n == capacity)
			{
				capacity = Max(capacity * 2, 16);
				revs = repalloc_huge(revs, sizeof(MigrateRevision) * capacity);
			}
			memset(&revs[n], 0, sizeof(MigrateRevision));
			revs[n].id = id;
			revs[n].message = "";
			revs[n].phantom = true;
			revs[n].seq = PG_INT64_MAX;
			n++;
			/* Found by the next lookups too. */
			probe.revs = revs;
			probe.nrevs = n;
			probe.by_id = NULL;
			probe.by_label = NULL;
		}
	}
	*nrevs = n;
	return revs;
}

/*
 * Build the graph from revisions sorted by registration order.  Takes
 * ownership of the array.  Edge lists are carved out of two pools, one
 * allocation each, rather than four small ones per revision.  An edge to a
 * revision that is not there is an error, or, "lenient", a phantom (see
 * add_phantoms()) for the calls that must answer on a damaged catalog.
 */
MigrateGraph *
graph_build(MigrateRevision *revs, int nrevs, bool lenient)
{
	MigrateGraph *graph = palloc0(sizeof(MigrateGraph));
	int64		nedges = 0;
	int		   *forward;
	int		   *backward;

	if (lenient)
		revs = add_phantoms(revs, &nrevs);
	graph->revs = revs;
	graph->nrevs = nrevs;
	graph->cxt = CurrentMemoryContext;
	for (int i = 0; i < nrevs; i++)
		nedges += revs[i].nparents + revs[i].ndepends;
	if (nedges > MaxAllocSize / sizeof(int))
		ereport(ERROR,
				errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
				errmsg("too many edges in the revision graph: %lld",
					   (long long) nedges));
	/* Parents and dependencies, as indexes; count the reverse edges. */
	forward = palloc(sizeof(int) * Max(nedges, 1));
	backward = palloc(sizeof(int) * Max(nedges, 1));
	for (int i = 0; i < nrevs; i++)
	{
		MigrateRevision *rev = &revs[i];

		rev->parents = forward;
		resolve_edges(graph, rev, rev->nparents, rev->parent_ids,
					  "parent", rev->parents);
		rev->depends = forward + rev->nparents;
		resolve_edges(graph, rev, rev->ndepends, rev->depends_ids,
					  "dependency", rev->depends);
		forward += rev->nparents + rev->ndepends;
		for (int j = 0; j < rev->nparents; j++)
			revs[rev->parents[j]].nchildren++;
		for (int j = 0; j < rev->ndepends; j++)
			revs[rev->depends[j]].ndependents++;
	}

	/* Room for the reverse edges, then filled in index order. */
	for (int i = 0; i < nrevs; i++)
	{
		revs[i].children = backward;
		revs[i].dependents = backward + revs[i].nchildren;
		backward += revs[i].nchildren + revs[i].ndependents;
		revs[i].nchildren = 0;
		revs[i].ndependents = 0;
	}
	/* So every child list is in registration order. */
	for (int i = 0; i < nrevs; i++)
	{
		MigrateRevision *rev = &revs[i];

		for (int j = 0; j < rev->nparents; j++)
		{
			MigrateRevision *parent = &revs[rev->parents[j]];

			parent->children[parent->nchildren++] = i;
		}
		for (int j = 0; j < rev->ndepends; j++)
		{
			MigrateRevision *dependency = &revs[rev->depends[j]];

			dependency->dependents[dependency->ndependents++] = i;
		}
	}
	return graph;
}

/* Revisions that no revision names as parent, in registration order. */
int *
graph_heads(const MigrateGraph *graph, int *nheads)
{
	int		   *heads = palloc(sizeof(int) * Max(graph->nrevs, 1));
	int			n = 0;

	for (int i = 0; i < graph->nrevs; i++)
		if (graph->revs[i].nchildren == 0)
			heads[n++] = i;
	*nheads = n;
	return heads;
}

/* Applied revisions with no applied child, in registration order. */
int *
graph_current_heads(const MigrateGraph *graph, int *nheads)
{
	int		   *heads = palloc(sizeof(int) * Max(graph->nrevs, 1));
	int			n = 0;

	for (int i = 0; i < graph->nrevs; i++)
	{
		const MigrateRevision *rev = &graph->revs[i];
		bool		has_applied_child = false;

		if (!rev->applied)
			continue;
		for (int j = 0; j < rev->nchildren && !has_applied_child; j++)
			has_applied_child = graph->revs[rev->children[j]].applied;
		if (!has_applied_child)
			heads[n++] = i;
	}
	*nheads = n;
	return heads;
}

static const MigrateGraph *sort_graph;

static int
compare_revs_by_id(const void *a, const void *b)
{
	return strcmp(sort_graph->revs[*(const int *) a].id,
				  sort_graph->revs[*(const int *) b].id);
}

/*
 * A list of revision ids for messages and for migrate.current(): joined by
 * ", " (or "," when complete), optionally sorted by id.  With "complete"
 * false, long lists are cut to MAX_IDS_IN_MESSAGE ids.
 */
static char *
id_list(const MigrateGraph *graph, const int *revs, int n, bool sort_by_id,
		bool complete)
{
	StringInfoData buf;
	int		   *sorted = palloc(sizeof(int) * Max(n, 1));
	int			shown = complete ? n : Min(n, MAX_IDS_IN_MESSAGE);

	memcpy(sorted, revs, sizeof(int) * n);
	if (sort_by_id && n > 1)
	{
		sort_graph = graph;
		qsort(sorted, n, sizeof(int), compare_revs_by_id);
	}

	initStringInfo(&buf);
	for (int i = 0; i < shown; i++)
	{
		if (i > 0)
			appendStringInfoString(&buf, complete ? "," : ", ");
		appendStringInfoString(&buf, graph->revs[sorted[i]].id);
	}
	if (shown < n)
		appendStringInfo(&buf, " and %d more", n - shown);
	pfree(sorted);
	return buf.data;
}

char *
graph_id_list(const MigrateGraph *graph, const int *revs, int n,
			  bool sort_by_id)
{
	return id_list(graph, revs, n, sort_by_id, false);
}

/* migrate.current(): the current heads sorted by id, or NULL. */
char *
graph_current_string(const MigrateGraph *graph)
{
	int			n;
	int		   *heads = graph_current_heads(graph, &n);

	if (n == 0)
		return NULL;
	return id_list(graph, heads, n, true, true);
}

/*
 * Mark the seeds and everything they need: parents and dependencies,
 * transitively.  Nodes already marked are taken as done, so "mark" must be
 * zeroed or already closed under this walk.
 */
void
graph_mark_ancestors(const MigrateGraph *graph, const int *seeds, int nseeds,
					 bool *mark)
{
	int		   *stack = palloc(sizeof(int) * Max(graph->nrevs, 1));
	int			top = 0;

	for (int i = 0; i < nseeds; i++)
		if (!mark[seeds[i]])
		{
			mark[seeds[i]] = true;
			stack[top++] = seeds[i];
		}

	while (top > 0)
	{
		const MigrateRevision *rev = &graph->revs[stack[--top]];

		for (int j = 0; j < rev->nparents; j++)
			if (!mark[rev->parents[j]])
			{
				mark[rev->parents[j]] = true;
				stack[top++] = rev->parents[j];
			}
		for (int j = 0; j < rev->ndepends; j++)
			if (!mark[rev->depends[j]])
			{
				mark[rev->depends[j]] = true;
				stack[top++] = rev->depends[j];
			}
	}
	pfree(stack);
}

/*
 * The mirror image: the seeds and their children, transitively, and with
 * "dependents" their dependents too (what must go when the seeds go).
 */
void
graph_mark_descendants(const MigrateGraph *graph, const int *seeds,
					   int nseeds, bool dependents, bool *mark)
{
	int		   *stack = palloc(sizeof(int) * Max(graph->nrevs, 1));
	int			top = 0;

	for (int i = 0; i < nseeds; i++)
		if (!mark[seeds[i]])
		{
			mark[seeds[i]] = true;
			stack[top++] = seeds[i];
		}

	while (top > 0)
	{
		const MigrateRevision *rev = &graph->revs[stack[--top]];

		for (int j = 0; j < rev->nchildren; j++)
			if (!mark[rev->children[j]])
			{
				mark[rev->children[j]] = true;
				stack[top++] = rev->children[j];
			}
		for (int j = 0; dependents && j < rev->ndependents; j++)
			if (!mark[rev->dependents[j]])
			{
				mark[rev->dependents[j]] = true;
				stack[top++] = rev->dependents[j];
			}
	}
	pfree(stack);
}

/*
 * The branch a label names, as Alembic draws it: the labelled revision, its
 * descendants along parent edges, and its ancestors back to (not including)
 * the nearest branch point or merge point.
 */
void
graph_mark_branch(const MigrateGraph *graph, int labelled, bool *mark)
{
	int			root = graph_branch_root(graph, labelled);

	graph_mark_descendants(graph, &labelled, 1, false, mark);
	for (int node = labelled; node != root; node = graph->revs[node].parents[0])
		mark[graph->revs[node].parents[0]] = true;
}

/* The lowest revision of a label's branch: where graph_mark_branch() stops. */
int
graph_branch_root(const MigrateGraph *graph, int labelled)
{
	int			node = labelled;

	while (graph->revs[node].nparents == 1)
	{
		const MigrateRevision *prev = &graph->revs[graph->revs[node].parents[0]];

		if (prev->nchildren > 1 || prev->nparents > 1)
			break;
		node = graph->revs[node].parents[0];
	}
	return node;
}

static int
compare_lowest_first(Datum a, Datum b, void *arg)
{
	int			ia = DatumGetInt32(a);
	int			ib = DatumGetInt32(b);

	return (ia > ib) ? -1 : (ia < ib) ? 1 : 0;
}

static int
compare_highest_first(Datum a, Datum b, void *arg)
{
	return -compare_lowest_first(a, b, arg);
}

static void
report_cycle(const MigrateGraph *graph, const bool *set, const bool *emitted)
{
	int		   *stuck = palloc(sizeof(int) * Max(graph->nrevs, 1));
	int			n = 0;

	for (int i = 0; i < graph->nrevs; i++)
		if (set[i] && !emitted[i])
			stuck[n++] = i;
	ereport(ERROR,
			errcode(ERRCODE_INVALID_OBJECT_DEFINITION),
			errmsg("the revision graph has a cycle"),
			errdetail("Revisions %s are on a cycle or need a revision on one.",
					  graph_id_list(graph, stuck, n, false)),
			errhint("Fix the parents or depends_on of one of them in migrate.revisions."));
}

/*
 * The revisions on a cycle of parents and dependencies, or that need one
 * (*n of them, in registration order); none in a sound graph.  Kahn's walk
 * without the error, for verify().
 */
int *
graph_cycle_members(const MigrateGraph *graph, int *n)
{
	int		   *waiting = palloc0(sizeof(int) * Max(graph->nrevs, 1));
	int		   *ready = palloc(sizeof(int) * Max(graph->nrevs, 1));
	int		   *stuck = palloc(sizeof(int) * Max(graph->nrevs, 1));
	int			nready = 0;

	for (int i = 0; i < graph->nrevs; i++)
	{
		waiting[i] = graph->revs[i].nparents + graph->revs[i].ndepends;
		if (waiting[i] == 0)
			ready[nready++] = i;
	}
	while (nready > 0)
	{
		const MigrateRevision *rev = &graph->revs[ready[--nready]];

		for (int j = 0; j < rev->nchildren; j++)
			if (--waiting[rev->children[j]] == 0)
				ready[nready++] = rev->children[j];
		for (int j = 0; j < rev->ndependents; j++)
			if (--waiting[rev->dependents[j]] == 0)
				ready[nready++] = rev->dependents[j];
	}
	*n = 0;
	for (int i = 0; i < graph->nrevs; i++)
		if (waiting[i] > 0)
			stuck[(*n)++] = i;
	pfree(waiting);
	pfree(ready);
	return stuck;
}

/*
 * The edges a revision waits on when a set is ordered: going up, its
 * parents and dependencies (they come first); going down, its children and
 * dependents.  "after" gives the other side: who waits on it.
 */
typedef struct EdgeLists
{
	int			nfirst;
	const int  *first;
	int			nsecond;
	const int  *second;
} EdgeLists;

static EdgeLists
edges_before(const MigrateRevision *rev, bool up)
{
	EdgeLists	e;

	e.nfirst = up ? rev->nparents : rev->nchildren;
	e.first = up ? rev->parents : rev->children;
	e.nsecond = up ? rev->ndepends : rev->ndependents;
	e.second = up ? rev->depends : rev->dependents;
	return e;
}

static EdgeLists
edges_after(const MigrateRevision *rev, bool up)
{
	return edges_before(rev, !up);
}

/*
 * Order a set of revisions.  Going up, parents and dependencies come first
 * and ties go to the earliest registered; going down, the mirror image:
 * children and dependents first, ties to the latest registered.
 *
 * When registration order already respects every edge, as it does unless an
 * unapplied revision was re-registered with new parents, that order (or its
 * reverse) is the answer.  Otherwise Kahn's algorithm with a heap picks the
 * best ready revision each time.
 */
static MigrateSteps *
order_set(const MigrateGraph *graph, const bool *set, bool up)
{
	MigrateSteps *steps = palloc0(sizeof(MigrateSteps));
	int			count = 0;
	bool		in_order = true;
	int		   *waiting;
	bool	   *emitted;
	binaryheap *ready;

	steps->revs = palloc(sizeof(int) * Max(graph->nrevs, 1));
	for (int i = 0; i < graph->nrevs; i++)
	{
		EdgeLists	e = edges_before(&graph->revs[i], up);

		if (!set[i])
			continue;
		count++;
		for (int j = 0; j < e.nfirst && in_order; j++)
			if (set[e.first[j]] && (up ? e.first[j] >= i : e.first[j] <= i))
				in_order = false;
		for (int j = 0; j < e.nsecond && in_order; j++)
			if (set[e.second[j]] && (up ? e.second[j] >= i : e.second[j] <= i))
				in_order = false;
	}

	if (in_order)
	{
		for (int k = 0; k < graph->nrevs; k++)
		{
			int			i = up ? k : graph->nrevs - 1 - k;

			if (set[i])
				steps->revs[steps->nsteps++] = i;
		}
		return steps;
	}

	waiting = palloc0(sizeof(int) * graph->nrevs);
	emitted = palloc0(sizeof(bool) * graph->nrevs);
	ready = binaryheap_allocate(Max(count, 1),
								up ? compare_lowest_first : compare_highest_first,
								NULL);
	for (int i = 0; i < graph->nrevs; i++)
	{
		EdgeLists	e = edges_before(&graph->revs[i], up);

		if (!set[i])
			continue;
		for (int j = 0; j < e.nfirst; j++)
			waiting[i] += set[e.first[j]];
		for (int j = 0; j < e.nsecond; j++)
			waiting[i] += set[e.second[j]];
		if (waiting[i] == 0)
			binaryheap_add(ready, Int32GetDatum(i));
	}

	while (!binaryheap_empty(ready))
	{
		int			i = DatumGetInt32(binaryheap_remove_first(ready));
		EdgeLists	e = edges_after(&graph->revs[i], up);

		steps->revs[steps->nsteps++] = i;
		emitted[i] = true;
		for (int j = 0; j < e.nfirst; j++)
			if (set[e.first[j]] && --waiting[e.first[j]] == 0)
				binaryheap_add(ready, Int32GetDatum(e.first[j]));
		for (int j = 0; j < e.nsecond; j++)
			if (set[e.second[j]] && --waiting[e.second[j]] == 0)
				binaryheap_add(ready, Int32GetDatum(e.second[j]));
	}

	if (steps->nsteps < count)
		report_cycle(graph, set, emitted);

	binaryheap_free(ready);
	pfree(waiting);
	pfree(emitted);
	return steps;
}

/* Parents and dependencies first, ties to the earliest registered. */
MigrateSteps *
graph_order_up(const MigrateGraph *graph, const bool *set)
{
	return order_set(graph, set, true);
}

/* Children and dependents first, ties to the latest registered. */
MigrateSteps *
graph_order_down(const MigrateGraph *graph, const bool *set)
{
	return order_set(graph, set, false);
}

/*
 * Upgrade: every unapplied revision the target needs, parents and
 * dependencies first.
 */
MigrateSteps *
graph_upgrade_steps(const MigrateGraph *graph, const MigrateTarget *target)
{
	bool	   *set = palloc0(sizeof(bool) * Max(graph->nrevs, 1));

	Assert(target->kind != MIGRATE_TARGET_BRANCH_BASE);
	if (target->kind == MIGRATE_TARGET_REVISIONS)
		graph_mark_ancestors(graph, target->revs, target->nrevs, set);
	for (int i = 0; i < graph->nrevs; i++)
		if (graph->revs[i].applied)
			set[i] = false;
	return graph_order_up(graph, set);
}

/*
 * Downgrade: every applied revision that descends from the target or
 * depends on one that does, children first.  The target stays applied, and
 * so do the revisions it needs, the revisions that depend on the target
 * itself and the branches that do not descend from it.
 */
MigrateSteps *
graph_downgrade_steps(const MigrateGraph *graph, const MigrateTarget *target,
					  const char *target_text)
{
	int			n = graph->nrevs;
	bool	   *set = palloc0(sizeof(bool) * Max(n, 1));
	MigrateSteps *steps;

	switch (target->kind)
	{
		case MIGRATE_TARGET_BASE:
			for (int i = 0; i < n; i++)
				set[i] = graph->revs[i].applied;
			break;

		case MIGRATE_TARGET_REVISIONS:
			{
				bool	   *keep = palloc0(sizeof(bool) * Max(n, 1));
				int		   *children;
				int			nchildren = 0;

				for (int i = 0; i < target->nrevs; i++)
				{
					const MigrateRevision *rev = &graph->revs[target->revs[i]];

					if (!rev->applied)
						ereport(ERROR,
								errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
								errmsg("cannot downgrade to revision \"%s\": it is not applied",
									   rev->id),
								errdetail("Target \"%s\" is ahead of the database, or on a branch that is not applied.",
										  target_text),
								errhint("Use migrate.upgrade() to move forward; migrate.current() shows where the database is."));
				}
				/*
				 * The walk starts at the targets' children, not at the
				 * targets: a revision that depends on a target itself
				 * needs nothing that goes, and stays applied.
				 */
				for (int i = 0; i < target->nrevs; i++)
					nchildren += graph->revs[target->revs[i]].nchildren;
				children = palloc(sizeof(int) * Max(nchildren, 1));
				nchildren = 0;
				for (int i = 0; i < target->nrevs; i++)
				{
					const MigrateRevision *rev = &graph->revs[target->revs[i]];

					for (int j = 0; j < rev->nchildren; j++)
						children[nchildren++] = rev->children[j];
				}
				graph_mark_ancestors(graph, target->revs, target->nrevs, keep);
				graph_mark_descendants(graph, children, nchildren, true, set);
				for (int i = 0; i < n; i++)
					set[i] = set[i] && graph->revs[i].applied && !keep[i];
				pfree(keep);
				pfree(children);
				break;
			}

		case MIGRATE_TARGET_BRANCH_BASE:
			{
				bool	   *branch = palloc0(sizeof(bool) * Max(n, 1));
				int		   *seeds = palloc(sizeof(int) * Max(n, 1));
				int			nseeds = 0;

				graph_mark_branch(graph, target->revs[0], branch);
				for (int i = 0; i < n; i++)
					if (branch[i] && graph->revs[i].applied)
						seeds[nseeds++] = i;
				graph_mark_descendants(graph, seeds, nseeds, true, set);
				for (int i = 0; i < n; i++)
					set[i] = set[i] && graph->revs[i].applied;
				pfree(branch);
				pfree(seeds);
				break;
			}
	}

	steps = graph_order_down(graph, set);
	pfree(set);

	/* Refuse before anything runs, not half-way down. */
	for (int i = 0; i < steps->nsteps; i++)
	{
		const MigrateRevision *rev = &graph->revs[steps->revs[i]];

		if (!rev->has_downgrade)
			ereport(ERROR,
					errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
					errmsg("revision \"%s\" cannot be downgraded", rev->id),
					errdetail("It has no downgrade script, and downgrading to \"%s\" would unapply it.",
							  target_text),
					errhint("Downgrade to \"%s\" or a later revision, or use migrate.stamp() to move the recorded state without running scripts.",
							rev->id));
	}
	return steps;
}

/*
 * Stamp: the applied state becomes exactly the target and what it needs.
 * Returns what to mark applied (in upgrade order) and what to unmark (in
 * downgrade order).
 */
void
graph_stamp_sets(const MigrateGraph *graph, const MigrateTarget *target,
				 MigrateSteps **add, MigrateSteps **remove)
{
	int			n = graph->nrevs;
	bool	   *want = palloc0(sizeof(bool) * Max(n, 1));
	bool	   *set = palloc0(sizeof(bool) * Max(n, 1));

	Assert(target->kind != MIGRATE_TARGET_BRANCH_BASE);
	if (target->kind == MIGRATE_TARGET_REVISIONS)
		graph_mark_ancestors(graph, target->revs, target->nrevs, want);

	for (int i = 0; i < n; i++)
		set[i] = want[i] && !graph->revs[i].applied;
	*add = graph_order_up(graph, set);
	for (int i = 0; i < n; i++)
		set[i] = !want[i] && graph->revs[i].applied;
	*remove = graph_order_down(graph, set);

	pfree(want);
	pfree(set);
}
