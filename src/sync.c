/*-------------------------------------------------------------------------
 *
 * sync.c
 *		A project's revision files in the server: migrate.files() reads
 *		them, migrate.sync() makes the catalog hold them.
 *
 * The files come as a tar archive of the revision folder (what pg_migrate
 * sends: the bytes as they are on disk) or as arrays of names and
 * contents (what an application or a bare psql can send).  revfile.c reads
 * them; registration is revision.c's.  Files are the truth for what is
 * not applied: sync forgets every unapplied revision that has no file, so
 * a revision registered from a file since deleted (another git branch, a
 * migration regenerated) can never be applied by the next upgrade.
 * Applied revisions without a file stay: they are history.
 *
 * IDENTIFICATION
 *	  src/sync.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/htup_details.h"
#include "catalog/pg_type.h"
#include "executor/spi.h"
#include "fmgr.h"
#include "funcapi.h"
#include "lib/stringinfo.h"
#include "mb/pg_wchar.h"
#include "utils/builtins.h"
#include "utils/tuplestore.h"

#include "migrate.h"

/*
 * The files of the first arguments, read and ordered parents first:
 * (archive bytea) or (names text[], contents text[]).  An archive holds the
 * files' bytes, in the client's encoding as psql would send them; the
 * contents are text already.
 */
static RevisionFile **
files_arg(FunctionCallInfo fcinfo, int *n)
{
	RevisionFile **files;

	if (get_fn_expr_argtype(fcinfo->flinfo, 0) == BYTEAOID)
	{
		bytea	   *archive;
		char	  **names;
		const char **datas;
		int		   *lens;

		if (PG_ARGISNULL(0))
			arg_reject_null("archive");
		archive = PG_GETARG_BYTEA_PP(0);
		*n = revfile_read_archive(VARDATA_ANY(archive),
								  VARSIZE_ANY_EXHDR(archive),
								  &names, &datas, &lens);
		files = revfile_parse_all(names, datas, lens, *n,
								  pg_get_client_encoding());
	}
	else
	{
		int			ncontents;
		char	  **names = arg_text_array(fcinfo, 0, "names", n);
		char	  **contents = arg_text_array(fcinfo, 1, "contents", &ncontents);
		int		   *lens;

		if (names == NULL)
			arg_reject_null("names");
		if (contents == NULL)
			arg_reject_null("contents");
		if (*n != ncontents)
			ereport(ERROR,
					errcode(ERRCODE_ARRAY_SUBSCRIPT_ERROR),
					errmsg("%d file names but %d contents", *n, ncontents),
					errhint("Pass one content for each name, in the same order."));
		lens = palloc(sizeof(int) * Max(*n, 1));
		for (int i = 0; i < *n; i++)
			lens[i] = strlen(contents[i]);
		files = revfile_parse_all(names, (const char **) contents, lens, *n,
								  GetDatabaseEncoding());
	}
	revfile_order(files, *n);
	return files;
}

/*
 * migrate.files(archive bytea)
 * migrate.files(names text[], contents text[])
 *	RETURNS TABLE(file text, revision text, parents text[],
 *				  depends_on text[], branch_labels text[], message text,
 *				  transactional boolean, upgrade text, downgrade text,
 *				  is_head boolean)
 *
 * The revisions the files describe, parents first, reading no catalog: an
 * application learns from it which revision its own files end at.
 */
PG_FUNCTION_INFO_V1(migrate_files);
Datum
migrate_files(PG_FUNCTION_ARGS)
{
	TupleDesc	tupdesc;
	Tuplestorestate *store = srf_begin(fcinfo, &tupdesc);
	int			n;
	RevisionFile **files = files_arg(fcinfo, &n);

	for (int i = 0; i < n; i++)
	{
		const NewRevision *nr = &files[i]->rev;
		Datum		values[11];
		bool		nulls[11] = {0};

		values[0] = CStringGetTextDatum(files[i]->name);
		values[1] = CStringGetTextDatum(nr->id);
		values[2] = text_array_datum(nr->nparents, nr->parents);
		values[3] = text_array_datum(nr->ndepends, nr->depends);
		values[4] = text_array_datum(nr->nlabels, nr->labels);
		values[5] = CStringGetTextDatum(nr->message);
		values[6] = BoolGetDatum(nr->transactional);
		values[7] = CStringGetTextDatum(nr->upgrade);
		values[8] = nr->downgrade ? CStringGetTextDatum(nr->downgrade) : (Datum) 0;
		nulls[8] = nr->downgrade == NULL;
		values[9] = BoolGetDatum(files[i]->is_head);
		values[10] = CStringGetTextDatum(nr->tenant_scope ? "tenant" : "database");
		tuplestore_putvalues(store, tupdesc, values, nulls);
	}
	return (Datum) 0;
}

static bool
same_list(int na, char **a, int nb, char **b)
{
	if (na != nb)
		return false;
	for (int i = 0; i < na; i++)
		if (strcmp(a[i], b[i]) != 0)
			return false;
	return true;
}

static void
put_problem(Tuplestorestate *store, TupleDesc tupdesc, const char *kind,
			const char *message)
{
	Datum		values[2] = {CStringGetTextDatum(kind), CStringGetTextDatum(message)};
	bool		nulls[2] = {false, false};

	tuplestore_putvalues(store, tupdesc, values, nulls);
}

/* What differs between a file and its registered revision, or NULL. */
static char *
file_differences(const NewRevision *nr, const MigrateRevision *rev)
{
	StringInfoData buf;
	bool		content = false;

	initStringInfo(&buf);
#define DIFFERS(cond, what, is_content) \
	do { \
		if (cond) \
		{ \
			appendStringInfo(&buf, "%s%s", buf.len > 0 ? ", " : "", what); \
			content |= is_content; \
		} \
	} while (0)
	DIFFERS(strcmp(nr->upgrade, rev->upgrade) != 0, "upgrade script", true);
	DIFFERS((nr->downgrade == NULL) != (rev->downgrade == NULL) ||
			(nr->downgrade && strcmp(nr->downgrade, rev->downgrade) != 0),
			"downgrade script", true);
	DIFFERS(!same_list(nr->nparents, nr->parents, rev->nparents, rev->parent_ids),
			"parents", true);
	DIFFERS(!same_list(nr->ndepends, nr->depends, rev->ndepends, rev->depends_ids),
			"depends_on", true);
	DIFFERS(strcmp(nr->message, rev->message) != 0, "message", false);
	DIFFERS(!same_list(nr->nlabels, nr->labels, rev->nlabels, rev->labels),
			"branch_labels", false);
	DIFFERS(nr->transactional != rev->transactional, "transactional", true);
	DIFFERS(nr->tenant_scope != rev->tenant_scope, "scope", true);
#undef DIFFERS
	if (buf.len == 0)
		return NULL;
	if (content && rev->applied)
		appendStringInfoString(&buf, " (applied: the catalog refuses the change; put it in a new revision)");
	return buf.data;
}

static void
put_action(Tuplestorestate *store, TupleDesc tupdesc, const char *id,
		   const char *file, const char *action)
{
	Datum		values[3];
	bool		nulls[3] = {false, file == NULL, false};

	values[0] = CStringGetTextDatum(id);
	values[1] = file ? CStringGetTextDatum(file) : (Datum) 0;
	values[2] = CStringGetTextDatum(action);
	tuplestore_putvalues(store, tupdesc, values, nulls);
}

/*
 * migrate.sync(archive bytea, fingerprint text DEFAULT NULL)
 * migrate.sync(names text[], contents text[], fingerprint text DEFAULT NULL)
 *	RETURNS TABLE(revision text, file text, action text)
 *
 * Registers every file's revision, parents first, and forgets every
 * unapplied revision that no file holds; one row per revision, its action
 * "registered", "updated", "unchanged" or "forgotten".  A file whose
 * revision is applied with other content stops everything, as
 * migrate.revision() does.  Unchanged files are compared in memory,
 * against one read of the catalog: a sync of a project with nothing new
 * costs a checksum per file.  Each revision remembers its file (for
 * "Path:" in history), and the state the fingerprint, which
 * migrate.synced() then recognises.
 */
PG_FUNCTION_INFO_V1(migrate_sync);
Datum
migrate_sync(PG_FUNCTION_ARGS)
{
	TupleDesc	tupdesc;
	Tuplestorestate *store = srf_begin(fcinfo, &tupdesc);
	int			n;
	RevisionFile **files = files_arg(fcinfo, &n);
	int			fp_arg = get_fn_expr_argtype(fcinfo->flinfo, 0) == BYTEAOID ? 1 : 2;
	char	   *fingerprint = PG_ARGISNULL(fp_arg) ? NULL : arg_text(fcinfo, fp_arg, "fingerprint");
	MigrateGraph *graph;
	bool	   *has_file;
	bool	   *orphan;
	int			norphans = 0;
	char	  **ids = palloc(sizeof(char *) * Max(n, 1));
	char	  **names = palloc(sizeof(char *) * Max(n, 1));

	catalog_connect();
	lock_state_change("sync");
	graph = catalog_load_graph(GRAPH_CHECKSUMS | GRAPH_SCRIPTS | GRAPH_ALL_SCOPES);
	has_file = palloc0(sizeof(bool) * Max(graph->nrevs, 1));

	for (int i = 0; i < n; i++)
	{
		NewRevision *nr = &files[i]->rev;
		int			known = graph_find(graph, nr->id);
		ErrorContextCallback callback;

		ids[i] = nr->id;
		names[i] = files[i]->name;

		if (known >= 0)
		{
			const MigrateRevision *rev = &graph->revs[known];
			char	   *checksum = catalog_checksum(nr->upgrade, nr->downgrade,
													nr->nparents, nr->parents,
													nr->ndepends, nr->depends,
													nr->transactional,
													nr->tenant_scope);

			/* The row must hold it too: a hand edit is put right. */
			has_file[known] = true;
			if (strcmp(checksum, rev->checksum) == 0 &&
				file_differences(nr, rev) == NULL)
			{
				put_action(store, tupdesc, nr->id, files[i]->name, "unchanged");
				continue;
			}
		}
		revfile_push_context(files[i], &callback);
		revision_register(nr);
		error_context_stack = callback.previous;
		put_action(store, tupdesc, nr->id, files[i]->name,
				   known >= 0 ? "updated" : "registered");
	}

	/* Unapplied and without a file: forgotten, children first. */
	orphan = palloc0(sizeof(bool) * Max(graph->nrevs, 1));
	for (int i = 0; i < graph->nrevs; i++)
		if (!has_file[i] && !graph->revs[i].applied)
		{
			orphan[i] = true;
			norphans++;
		}
	if (norphans > 0)
	{
		MigrateSteps *order = graph_order_down(graph, orphan);
		MigrateGraph *now = catalog_load_graph(GRAPH_ALL_SCOPES);

		for (int i = 0; i < order->nsteps; i++)
		{
			const char *id = graph->revs[order->revs[i]].id;

			revision_forget(now, graph_find(now, id), true);
			put_action(store, tupdesc, id, NULL, "forgotten");
			now = catalog_load_graph(GRAPH_ALL_SCOPES);
		}
	}
	catalog_set_files(n, ids, names);
	catalog_set_synced(fingerprint);

	catalog_disconnect();
	return (Datum) 0;
}

/*
 * migrate.synced(fingerprint text) RETURNS boolean
 *
 * Whether the last sync was given this fingerprint (pg_migrate's: a
 * digest of its files' sizes, inodes and change times) and nothing changed
 * the revisions or the applied state since, so that a client can skip
 * sending files that a sync would find unchanged.
 */
PG_FUNCTION_INFO_V1(migrate_synced);
Datum
migrate_synced(PG_FUNCTION_ARGS)
{
	char	   *fingerprint = arg_text(fcinfo, 0, "fingerprint");

	PG_RETURN_BOOL(catalog_synced(fingerprint));
}

/*
 * migrate.session_start(fingerprint text, lock text DEFAULT 'none',
 *	OUT locked boolean, OUT synced boolean, OUT nontransactional boolean,
 *	OUT version text)
 *
 * What a client such as pg_migrate asks first, in one call: the installed
 * version of the extension (extversion, which a client compares with its
 * own), one try at the migration lock for the session ("migration", or
 * "nontransactional" for both parts, as lock_session() takes them; "none"
 * takes nothing), whether
 * the server already has the files of this fingerprint (synced(); false
 * when the lock is busy, since its holder may change that), and whether
 * any non-transactional revision is registered (if not, no plan can hold
 * one).  A client that did not get the lock waits for it with CALL
 * migrate.lock_session(), which never waits inside a transaction.
 */
PG_FUNCTION_INFO_V1(migrate_session_start);
Datum
migrate_session_start(PG_FUNCTION_ARGS)
{
	char	   *fingerprint = arg_text(fcinfo, 0, "fingerprint");
	char	   *lock = arg_text(fcinfo, 1, "lock");
	TupleDesc	tupdesc;
	Datum		values[4];
	bool		nulls[4] = {false, false, false, false};
	bool		locked = true;

	if (get_call_result_type(fcinfo, NULL, &tupdesc) != TYPEFUNC_COMPOSITE)
		elog(ERROR, "migrate.session_start() must return a record");
	if (strcmp(lock, "migration") == 0 || strcmp(lock, "nontransactional") == 0)
	{
		lock_refuse_state_change("session_start");
		locked = lock_try_session(strcmp(lock, "nontransactional") == 0);
	}
	else if (strcmp(lock, "none") != 0)
		ereport(ERROR,
				errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				errmsg("invalid lock \"%s\"", lock),
				errhint("Use none, migration or nontransactional."));

	values[0] = BoolGetDatum(locked);
	values[1] = BoolGetDatum(locked && catalog_synced(fingerprint));
	values[2] = BoolGetDatum(catalog_any_nontransactional(NULL));
	values[3] = CStringGetTextDatum(catalog_extension_version());
	PG_RETURN_DATUM(HeapTupleGetDatum(heap_form_tuple(BlessTupleDesc(tupdesc),
													  values, nulls)));
}

/*
 * migrate.check_files(archive bytea, desired text DEFAULT NULL,
 *				 schema text DEFAULT 'public')
 * migrate.check_files(names text[], contents text[], desired text DEFAULT NULL,
 *				 schema text DEFAULT 'public')
 *	RETURNS TABLE(kind text, message text)
 *
 * Whether the files, the catalog and the database agree, changing
 * nothing: one row per difference ("error"), one per statement that would
 * bring the schema to the desired one ("schema"), notes ("warning"), what
 * to do ("hint"), and when nothing differs a single "ok" row.  pg_migrate check prints them.
 */
PG_FUNCTION_INFO_V1(migrate_check_files);
Datum
migrate_check_files(PG_FUNCTION_ARGS)
{
	bool		archive = get_fn_expr_argtype(fcinfo->flinfo, 0) == BYTEAOID;
	int			argno = archive ? 1 : 2;
	char	   *desired = arg_text_or_null(fcinfo, argno);
	char	   *schema = arg_text(fcinfo, argno + 1, "schema");
	TupleDesc	tupdesc;
	Tuplestorestate *store = srf_begin(fcinfo, &tupdesc);
	int			n;
	RevisionFile **files = files_arg(fcinfo, &n);
	MigrateGraph *graph;
	bool	   *has_file;
	int			nproblems = 0;
	int		   *current;
	int			ncurrent;
	char	  **wanted;
	int			nwanted = 0;
	StringInfoData wanted_text;
	bool		at_head;
	char	   *current_text;

	catalog_connect();
	graph = catalog_load_graph(GRAPH_SCRIPTS | GRAPH_CHECKSUMS | GRAPH_ALL_SCOPES);
	has_file = palloc0(sizeof(bool) * Max(graph->nrevs, 1));
	wanted = palloc(sizeof(char *) * Max(n, 1));
	initStringInfo(&wanted_text);

	for (int i = 0; i < n; i++)
	{
		const NewRevision *nr = &files[i]->rev;
		int			known = graph_find(graph, nr->id);
		char	   *differences;

		/* The tenants' state is not the database's: their heads are not asked for. */
		if (files[i]->is_head && !nr->tenant_scope)
		{
			wanted[nwanted++] = nr->id;
			appendStringInfo(&wanted_text, "%s%s", nwanted > 1 ? ", " : "", nr->id);
		}
		if (known < 0)
		{
			put_problem(store, tupdesc, "error",
						psprintf("%s: revision %s is not in the catalog",
								 files[i]->name, nr->id));
			nproblems++;
			continue;
		}
		has_file[known] = true;
		if ((differences = file_differences(nr, &graph->revs[known])) != NULL)
		{
			put_problem(store, tupdesc, "error",
						psprintf("%s: revision %s differs from the catalog: %s",
								 files[i]->name, nr->id, differences));
			nproblems++;
		}
	}

	/* What migrate.verify() finds. */
	if (SPI_execute("SELECT revision OPERATOR(pg_catalog.||) ': ' OPERATOR(pg_catalog.||) problem"
					" FROM migrate.verify()", true, 0) != SPI_OK_SELECT)
		elog(ERROR, "SPI_execute failed for migrate.verify()");
	for (uint64 i = 0; i < SPI_processed; i++)
	{
		put_problem(store, tupdesc, "error",
					psprintf("catalog: revision %s",
							 SPI_getvalue(SPI_tuptable->vals[i], SPI_tuptable->tupdesc, 1)));
		nproblems++;
	}

	/* The catalog beyond the files: history, or leftovers. */
	for (int i = 0; i < graph->nrevs; i++)
	{
		const MigrateRevision *rev = &graph->revs[i];

		if (has_file[i])
			continue;
		if (rev->nchildren == 0)
		{
			put_problem(store, tupdesc, "error",
						psprintf("revision %s is a head of the catalog but has no file%s",
								 rev->id,
								 !rev->applied ? ": it is not applied, and the next sync forgets it"
								 : rev->nparents > 1 ? " (a merge made with SQL? write merges with \"pg_migrate merge\")" : ""));
			nproblems++;
		}
		else if (!rev->applied)
			put_problem(store, tupdesc, "warning",
						psprintf("revision %s is in the catalog but has no file: it is not applied, and the next sync forgets it",
								 rev->id));
	}

	/* The database at the files' heads. */
	for (int i = 0; i < graph->nrevs; i++)
		if (graph->revs[i].tenant_scope)
			graph->revs[i].applied = false;
	current = graph_current_heads(graph, &ncurrent);
	at_head = ncurrent == nwanted;
	for (int i = 0; i < nwanted && at_head; i++)
	{
		bool		found = false;

		for (int j = 0; j < ncurrent && !found; j++)
			found = strcmp(graph->revs[current[j]].id, wanted[i]) == 0;
		at_head = found;
	}
	current_text = graph_current_string(graph);
	if (!at_head)
	{
		put_problem(store, tupdesc, "error",
					psprintf("the database is at %s; the files' head is %s",
							 current_text ? current_text : "base",
							 nwanted > 0 ? wanted_text.data : "base"));
		put_problem(store, tupdesc, "hint", "To catch up, run " MIGRATE_CATCH_UP ".");
		nproblems++;
	}

	/* The schema against the desired one. */
	if (desired != NULL)
	{
		Oid			argtypes[2] = {TEXTOID, TEXTOID};
		Datum		values[2] = {CStringGetTextDatum(desired), CStringGetTextDatum(schema)};
		ListCell   *lc;

		if (SPI_execute_with_args("SELECT upgrade FROM migrate.diff($1, $2)", 2,
								  argtypes, values, NULL, false, 1) != SPI_OK_SELECT ||
			SPI_processed != 1)
			elog(ERROR, "SPI_execute failed for migrate.diff()");
		foreach(lc, script_split(SPI_getvalue(SPI_tuptable->vals[0],
											  SPI_tuptable->tupdesc, 1),
								 "the schema difference"))
		{
			put_problem(store, tupdesc, "schema",
						psprintf("%s;", ((ScriptStatement *) lfirst(lc))->text));
			nproblems++;
		}
	}

	if (nproblems == 0)
		put_problem(store, tupdesc, "ok",
					psprintf("%d revision file(s) match the catalog; the database is at %s",
							 n, current_text ? current_text : "base"));
	catalog_disconnect();
	return (Datum) 0;
}
