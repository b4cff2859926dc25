/*-------------------------------------------------------------------------
 *
 * catalog_revision.c
 *		One revision's row of migrate.revisions: what registration looks up
 *		(the row, missing parents, labels and prefixes), its checksum, and
 *		the writes of the row (insert, update, reassign, forget); and the
 *		scripts that run, checked against the checksum.
 *
 * IDENTIFICATION
 *	  src/catalog_revision.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/genam.h"
#include "access/htup_details.h"
#include "access/table.h"
#include "catalog/pg_type.h"
#include "executor/spi.h"
#include "utils/builtins.h"
#include "utils/rel.h"

#include "migrate.h"
#include "catalog.h"

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
	" r.downgrade IS NOT NULL,"
	" a.revision IS NOT NULL OR EXISTS (SELECT 1 FROM migrate.tenant_applied t"
	"                                   WHERE t.revision OPERATOR(pg_catalog.=) r.id),"
	" r.transactional, r.upgrade, r.downgrade,"
	" r.scope OPERATOR(pg_catalog.=) 'tenant'"
	" FROM migrate.revisions r"
	" LEFT JOIN migrate.applied a ON a.revision OPERATOR(pg_catalog.=) r.id"
	" WHERE r.id OPERATOR(pg_catalog.=) $1",
	1, {TEXTOID}, true
};
static CatalogQuery q_insert_revision = {
	"INSERT INTO migrate.revisions (id, parents, depends_on, branch_labels,"
	" message, upgrade, downgrade, checksum, created_by, lint_waived,"
	" transactional, scope)"
	" VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)",
	12, {TEXTOID, TEXTARRAYOID, TEXTARRAYOID, TEXTARRAYOID, TEXTOID, TEXTOID,
	TEXTOID, TEXTOID, NAMEOID, TEXTARRAYOID, BOOLOID, TEXTOID}
};
static CatalogQuery q_update_revision = {
	"UPDATE migrate.revisions SET parents = $2, depends_on = $3,"
	" branch_labels = $4, message = $5, upgrade = $6, downgrade = $7,"
	" checksum = $8,"
	" created_at = CASE WHEN $9 IS NULL THEN created_at ELSE pg_catalog.now() END,"
	" created_by = COALESCE($9, created_by),"
	" lint_waived = $10, transactional = $11, scope = $12"
	" WHERE id OPERATOR(pg_catalog.=) $1",
	12, {TEXTOID, TEXTARRAYOID, TEXTARRAYOID, TEXTARRAYOID, TEXTOID, TEXTOID,
	TEXTOID, TEXTOID, NAMEOID, TEXTARRAYOID, BOOLOID, TEXTOID}, true
};
static CatalogQuery q_reassign = {
	"UPDATE migrate.revisions SET created_by = $2"
	" WHERE created_by OPERATOR(pg_catalog.=) $1",
	2, {NAMEOID, NAMEOID}, true
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
										  rev->ndepends + rev->nexternal,
										  rev->depends_ids, rev->transactional,
										  rev->tenant_scope)) != 0)
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
				 bool transactional, bool tenant_scope)
{
	StringInfoData buf;
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
	if (tenant_scope)
		appendStringInfoString(&buf, "scope tenant");

	result = sha256_hex(buf.data, buf.len);
	pfree(buf.data);
	return result;
}

static CatalogQuery q_tenant_revisions = {
	"SELECT u.id FROM pg_catalog.unnest($1) AS u(id)"
	" WHERE EXISTS (SELECT 1 FROM migrate.revisions r"
	"               WHERE r.id OPERATOR(pg_catalog.=) u.id"
	"                 AND r.scope OPERATOR(pg_catalog.=) 'tenant')",
	1, {TEXTARRAYOID}, true
};

/* Which of these registered ids are tenant revisions: tenant[i] for ids[i]. */
void
catalog_tenant_revisions(int n, char **ids, bool *tenant)
{
	Datum		values[1];
	uint64		nrows;

	memset(tenant, 0, sizeof(bool) * n);
	if (n == 0)
		return;
	values[0] = text_array_datum(n, ids);
	nrows = run_query(&q_tenant_revisions, values, NULL, false, 0);
	for (uint64 i = 0; i < nrows; i++)
	{
		char	   *id = text_column(i, 1, NULL);

		for (int j = 0; j < n; j++)
			if (strcmp(ids[j], id) == 0)
				tenant[j] = true;
	}
	SPI_freetuptable(SPI_tuptable);
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

/* The first column of the first row a query of two text parameters finds. */
static char *
first_text(CatalogQuery *query, const char *a, const char *b)
{
	Datum		values[2] = {CStringGetTextDatum(a), CStringGetTextDatum(b)};
	char	   *found = NULL;

	if (run_query(query, values, NULL, false, 1) > 0)
		found = text_column(0, 1, NULL);
	SPI_freetuptable(SPI_tuptable);
	return found;
}

/* The revision, other than except_id, that carries this branch label. */
char *
catalog_label_owner(const char *label, const char *except_id)
{
	return first_text(&q_label_owner, label, except_id);
}

/*
 * A registered id other than except_id that starts with "prefix" (or is
 * it), or NULL: a branch label must not be one, or the label would capture
 * what an operator types as a prefix.
 */
char *
catalog_id_with_prefix(const char *prefix, const char *except_id)
{
	return first_text(&q_id_with_prefix, prefix, except_id);
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
	rev->tenant_scope = bool_column(0, 11);
	SPI_freetuptable(SPI_tuptable);
	return true;
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
	values[11] = CStringGetTextDatum(rev->tenant_scope ? "tenant" : "database");
	memset(nulls, ' ', 12);
	nulls[6] = downgrade ? ' ' : 'n';
}

void
catalog_insert_revision(const MigrateRevision *rev, const char *upgrade,
						const char *downgrade)
{
	Datum		values[12];
	char		nulls[12];

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
	Datum		values[12];
	char		nulls[12];

	revision_values(rev, upgrade, downgrade, values, nulls);
	if (!new_author)
		nulls[8] = 'n';
	run_query(&q_update_revision, values, nulls, false, 0);
}

static CatalogQuery q_set_files = {
	"UPDATE migrate.revisions r SET file = f.file"
	" FROM (SELECT o.id, x.file FROM migrate.revisions o"
	"       LEFT JOIN ROWS FROM (pg_catalog.unnest($1), pg_catalog.unnest($2)) AS x(id, file)"
	"       ON x.id OPERATOR(pg_catalog.=) o.id) AS f"
	" WHERE r.id OPERATOR(pg_catalog.=) f.id AND r.file IS DISTINCT FROM f.file",
	2, {TEXTARRAYOID, TEXTARRAYOID}
};

/*
 * The file each revision was read from (none for the revisions the files
 * do not hold), where it changed (a sync): not a
 * change of the graph, so the cached state stays valid.
 */
void
catalog_set_files(int n, char **ids, char **files)
{
	Datum		values[2] = {text_array_datum(n, ids), text_array_datum(n, files)};

	run_quiet_write(&q_set_files, values, NULL);
}

/*
 * Whether a non-transactional revision is applied (or, with *applied
 * false, is not; with applied NULL, is registered at all): a plan can only
 * hold one then.  Read through the index that holds
 * only those, without SPI: what a no-op upgrade by pg_migrate asks first.
 */
bool
catalog_any_nontransactional(const bool *applied)
{
	Relation	rel = table_open(catalog_relid("revisions"), AccessShareLock);
	SysScanDesc scan = systable_beginscan(rel, catalog_relid("revisions_nontransactional_idx"),
										  true, read_snapshot(), 0, NULL);
	HeapTuple	tuple;
	bool		found = false;

	while (!found && HeapTupleIsValid(tuple = systable_getnext(scan)))
	{
		bool		isnull;
		Datum		id = heap_getattr(tuple, 1, RelationGetDescr(rel), &isnull);

		found = applied == NULL ||
			catalog_is_applied(TextDatumGetCString(id), NULL) == *applied;
	}
	systable_endscan(scan);
	table_close(rel, AccessShareLock);
	return found;
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
