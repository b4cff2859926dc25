/*-------------------------------------------------------------------------
 *
 * diff.c
 *		migrate.diff() and migrate.autogenerate(): run the desired DDL in a
 *		scratch schema, read both schemas from the system catalogs, and let
 *		diffgen.c write the DDL between them.
 *
 * The desired DDL runs as the caller, in schema "migrate_desired", inside a
 * subtransaction that is always rolled back: nothing it does outlives the
 * call, whether it succeeds or fails.  It may only define objects of its
 * own; a statement of another kind, a schema-qualified name, an object
 * that reads or changes the live schema, or a call of a volatile function
 * while it runs, is refused with the statement that did it (sandbox.c).
 *
 * Both schemas are read under an empty search_path, so the server's
 * deparsers qualify every name; "migrate_desired." is then replaced by the
 * live schema's name, and the two models compare as texts.
 *
 * IDENTIFICATION
 *	  src/diff.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/xact.h"
#include "access/xlog.h"
#include "catalog/namespace.h"
#include "catalog/pg_type.h"
#include "executor/spi.h"
#include "funcapi.h"
#include "miscadmin.h"
#include "parser/parse_coerce.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/guc.h"
#include "utils/memutils.h"
#include "utils/resowner.h"
#include "utils/tuplestore.h"

#include "migrate.h"
#include "schemamodel.h"

/* Where the desired DDL runs; its name is replaced in every definition. */
#define SCRATCH_SCHEMA	"migrate_desired"

/* ---------------------------------------------------------------------
 * The catalog queries; $1 is the schema's oid.  They run under an empty
 * search_path, so unqualified operators can only be pg_catalog's.
 * ---------------------------------------------------------------------
 */

/* Not an object an extension installed in the schema. */
#define NOT_EXTENSION_MEMBER(classid, oid) \
	" AND NOT EXISTS (SELECT 1 FROM pg_catalog.pg_depend e" \
	" WHERE e.classid = '" classid "'::pg_catalog.regclass" \
	" AND e.objid = " oid " AND e.deptype = 'e')"

static const char *const q_tables =
"SELECT c.relname, pg_catalog.obj_description(c.oid, 'pg_class')"
" FROM pg_catalog.pg_class c"
" WHERE c.relnamespace = $1 AND c.relkind = 'r' AND NOT c.relispartition"
NOT_EXTENSION_MEMBER("pg_catalog.pg_class", "c.oid")
" ORDER BY c.relname COLLATE \"C\"";

static const char *const q_columns =
"SELECT c.relname, a.attname, pg_catalog.format_type(a.atttypid, a.atttypmod),"
" CASE WHEN a.attcollation <> t.typcollation"
"      THEN a.attcollation::pg_catalog.regcollation::pg_catalog.text END,"
" a.attnotnull, pg_catalog.pg_get_expr(d.adbin, d.adrelid),"
" a.attidentity::pg_catalog.text, a.attgenerated::pg_catalog.text,"
" pg_catalog.col_description(c.oid, a.attnum), a.atttypid, a.atttypmod,"
" pg_catalog.format('START WITH %s INCREMENT BY %s MINVALUE %s MAXVALUE %s CACHE %s %s',"
"   s.seqstart, s.seqincrement, s.seqmin, s.seqmax, s.seqcache,"
"   CASE WHEN s.seqcycle THEN 'CYCLE' ELSE 'NO CYCLE' END),"
" pg_catalog.format('SET START WITH %s SET INCREMENT BY %s SET MINVALUE %s SET MAXVALUE %s SET CACHE %s SET %s',"
"   s.seqstart, s.seqincrement, s.seqmin, s.seqmax, s.seqcache,"
"   CASE WHEN s.seqcycle THEN 'CYCLE' ELSE 'NO CYCLE' END)"
" FROM pg_catalog.pg_class c"
" JOIN pg_catalog.pg_attribute a ON a.attrelid = c.oid"
" JOIN pg_catalog.pg_type t ON t.oid = a.atttypid"
" LEFT JOIN pg_catalog.pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum"
/* An identity column's own sequence, for its options. */
" LEFT JOIN (pg_catalog.pg_depend i JOIN pg_catalog.pg_sequence s ON s.seqrelid = i.objid)"
"   ON a.attidentity <> '' AND i.classid = 'pg_catalog.pg_class'::pg_catalog.regclass"
"  AND i.refclassid = 'pg_catalog.pg_class'::pg_catalog.regclass"
"  AND i.refobjid = c.oid AND i.refobjsubid = a.attnum AND i.deptype = 'i'"
" WHERE c.relnamespace = $1 AND c.relkind = 'r' AND NOT c.relispartition"
" AND a.attnum > 0 AND NOT a.attisdropped"
" ORDER BY c.relname COLLATE \"C\", a.attnum";

static const char *const q_constraints =
"SELECT c.relname, k.conname, k.contype::pg_catalog.text,"
" pg_catalog.pg_get_constraintdef(k.oid),"
" CASE WHEN f.relnamespace = $1 THEN f.relname END,"
" pg_catalog.obj_description(k.oid, 'pg_constraint')"
" FROM pg_catalog.pg_constraint k"
" JOIN pg_catalog.pg_class c ON c.oid = k.conrelid"
" LEFT JOIN pg_catalog.pg_class f ON f.oid = k.confrelid"
" WHERE c.relnamespace = $1 AND c.relkind = 'r' AND NOT c.relispartition"
" AND k.contype IN ('p', 'u', 'c', 'f', 'x')"
" ORDER BY c.relname COLLATE \"C\", k.conname COLLATE \"C\"";

/* Indexes that no constraint owns: those come with their constraint. */
static const char *const q_indexes =
"SELECT t.relname, i.relname, pg_catalog.pg_get_indexdef(i.oid),"
" pg_catalog.obj_description(i.oid, 'pg_class')"
" FROM pg_catalog.pg_index x"
" JOIN pg_catalog.pg_class i ON i.oid = x.indexrelid"
" JOIN pg_catalog.pg_class t ON t.oid = x.indrelid"
" WHERE t.relnamespace = $1 AND t.relkind = 'r' AND NOT t.relispartition"
" AND NOT EXISTS (SELECT 1 FROM pg_catalog.pg_constraint k"
"                 WHERE k.conindid = x.indexrelid AND k.conrelid = x.indrelid"
"                 AND k.contype IN ('p', 'u', 'x'))"
" ORDER BY t.relname COLLATE \"C\", i.relname COLLATE \"C\"";

/* Sequences but identity columns' own, which come with their column. */
static const char *const q_sequences =
"SELECT c.relname,"
" pg_catalog.format('AS %s INCREMENT BY %s MINVALUE %s MAXVALUE %s START WITH %s CACHE %s %s',"
"   pg_catalog.format_type(s.seqtypid, NULL), s.seqincrement, s.seqmin, s.seqmax,"
"   s.seqstart, s.seqcache, CASE WHEN s.seqcycle THEN 'CYCLE' ELSE 'NO CYCLE' END),"
" o.relname, o.attname, pg_catalog.obj_description(c.oid, 'pg_class')"
" FROM pg_catalog.pg_sequence s"
" JOIN pg_catalog.pg_class c ON c.oid = s.seqrelid"
" LEFT JOIN (SELECT d.objid, t.relname, a.attname"
"            FROM pg_catalog.pg_depend d"
"            JOIN pg_catalog.pg_class t ON t.oid = d.refobjid"
"            JOIN pg_catalog.pg_attribute a ON a.attrelid = d.refobjid AND a.attnum = d.refobjsubid"
"            WHERE d.classid = 'pg_catalog.pg_class'::pg_catalog.regclass"
"            AND d.refclassid = 'pg_catalog.pg_class'::pg_catalog.regclass"
"            AND d.deptype = 'a') o ON o.objid = c.oid"
" WHERE c.relnamespace = $1"
" AND NOT EXISTS (SELECT 1 FROM pg_catalog.pg_depend d"
"                 WHERE d.classid = 'pg_catalog.pg_class'::pg_catalog.regclass"
"                 AND d.objid = c.oid AND d.deptype = 'i')"
NOT_EXTENSION_MEMBER("pg_catalog.pg_class", "c.oid")
" ORDER BY c.relname COLLATE \"C\"";

static const char *const q_enums =
"SELECT t.typname, e.enumlabel, pg_catalog.obj_description(t.oid, 'pg_type')"
" FROM pg_catalog.pg_type t"
" JOIN pg_catalog.pg_enum e ON e.enumtypid = t.oid"
" WHERE t.typnamespace = $1"
NOT_EXTENSION_MEMBER("pg_catalog.pg_type", "t.oid")
" ORDER BY t.typname COLLATE \"C\", e.enumsortorder";

/* In creation order: a view can only read views created before it. */
static const char *const q_views =
"SELECT c.relname, pg_catalog.pg_get_viewdef(c.oid),"
" (SELECT pg_catalog.string_agg(pg_catalog.quote_ident(a.attname) OPERATOR(pg_catalog.||) ' '"
"         OPERATOR(pg_catalog.||) pg_catalog.format_type(a.atttypid, a.atttypmod), ', '"
"         ORDER BY a.attnum)"
"  FROM pg_catalog.pg_attribute a WHERE a.attrelid = c.oid AND a.attnum > 0),"
" pg_catalog.obj_description(c.oid, 'pg_class'),"
" ARRAY(SELECT DISTINCT r.relname::pg_catalog.text"
"       FROM pg_catalog.pg_rewrite w"
"       JOIN pg_catalog.pg_depend d ON d.objid = w.oid"
"        AND d.classid = 'pg_catalog.pg_rewrite'::pg_catalog.regclass"
"        AND d.refclassid = 'pg_catalog.pg_class'::pg_catalog.regclass"
"       JOIN pg_catalog.pg_class r ON r.oid = d.refobjid"
"       WHERE w.ev_class = c.oid AND r.oid <> c.oid AND r.relnamespace = $1"
"       ORDER BY 1)"
" FROM pg_catalog.pg_class c"
" WHERE c.relnamespace = $1 AND c.relkind = 'v'"
NOT_EXTENSION_MEMBER("pg_catalog.pg_class", "c.oid")
" ORDER BY c.oid";

/* ---------------------------------------------------------------------
 * Reading a model
 * ---------------------------------------------------------------------
 */

typedef struct ModelReader
{
	MemoryContext cxt;			/* where the model lives */
	const char *scratch;		/* "migrate_desired." when reading it, or NULL */
	const char *schema;			/* quoted live schema, replacing it */
} ModelReader;

static void
read_rows(const char *sql, Oid nsp)
{
	Oid			argtypes[1] = {OIDOID};
	Datum		values[1] = {ObjectIdGetDatum(nsp)};
	/* Not read-only: the desired DDL's last statement must be visible. */
	int			rc = SPI_execute_with_args(sql, 1, argtypes, values, NULL, false, 0);

	if (rc != SPI_OK_SELECT)
		elog(ERROR, "SPI_execute_with_args failed: %s", SPI_result_code_string(rc));
}

/* A name or a comment, as it is (names are never qualified), or NULL. */
static char *
plain_at(const ModelReader *reader, uint64 row, int col)
{
	char	   *value = SPI_getvalue(SPI_tuptable->vals[row], SPI_tuptable->tupdesc, col);

	return value ? MemoryContextStrdup(reader->cxt, value) : NULL;
}

/*
 * A definition in the model's context, or NULL; read from the scratch
 * schema, its qualified names become the live schema's.
 */
static char *
text_at(const ModelReader *reader, uint64 row, int col)
{
	char	   *value = SPI_getvalue(SPI_tuptable->vals[row], SPI_tuptable->tupdesc, col);
	StringInfoData buf;
	size_t		len;
	const char *p;
	const char *hit;

	if (value == NULL)
		return NULL;
	if (reader->scratch == NULL || strstr(value, reader->scratch) == NULL)
		return MemoryContextStrdup(reader->cxt, value);
	/* Scratch names become the live schema's. */
	len = strlen(reader->scratch);
	initStringInfo(&buf);
	for (p = value; (hit = strstr(p, reader->scratch)) != NULL; p = hit + len)
	{
		appendBinaryStringInfo(&buf, p, hit - p);
		appendStringInfo(&buf, "%s.", reader->schema);
	}
	appendStringInfoString(&buf, p);
	return MemoryContextStrdup(reader->cxt, buf.data);
}

static bool
bool_at(uint64 row, int col)
{
	bool		isnull;
	Datum		d = SPI_getbinval(SPI_tuptable->vals[row], SPI_tuptable->tupdesc, col, &isnull);

	return !isnull && DatumGetBool(d);
}

static Datum
datum_at(uint64 row, int col)
{
	bool		isnull;

	return SPI_getbinval(SPI_tuptable->vals[row], SPI_tuptable->tupdesc, col, &isnull);
}

/* Rows are sorted by their first column: the rows [*start, end) of one name. */
static uint64
same_first(uint64 start)
{
	char	   *name = SPI_getvalue(SPI_tuptable->vals[start], SPI_tuptable->tupdesc, 1);
	uint64		end = start + 1;

	while (end < SPI_processed &&
		   strcmp(SPI_getvalue(SPI_tuptable->vals[end], SPI_tuptable->tupdesc, 1), name) == 0)
		end++;
	return end;
}

static char
char_at(uint64 row, int col)
{
	char	   *value = SPI_getvalue(SPI_tuptable->vals[row], SPI_tuptable->tupdesc, col);

	return value ? value[0] : '\0';
}

static void
read_column(const ModelReader *reader, uint64 row, DiffColumn *col)
{
	col->name = plain_at(reader, row, 2);
	col->type = text_at(reader, row, 3);
	col->collation = text_at(reader, row, 4);
	col->notnull = bool_at(row, 5);
	col->default_expr = text_at(reader, row, 6);
	col->identity = char_at(row, 7);
	col->generated = char_at(row, 8);
	col->comment = plain_at(reader, row, 9);
	col->typid = DatumGetObjectId(datum_at(row, 10));
	col->typmod = DatumGetInt32(datum_at(row, 11));
	if (col->identity)
	{
		col->identity_options = text_at(reader, row, 12);
		col->identity_alter = text_at(reader, row, 13);
	}
}

static void
read_constraint(const ModelReader *reader, uint64 row, DiffConstraint *con)
{
	con->name = plain_at(reader, row, 2);
	con->type = char_at(row, 3);
	con->definition = text_at(reader, row, 4);
	con->references = plain_at(reader, row, 5);
	con->comment = plain_at(reader, row, 6);
}

static void
read_index(const ModelReader *reader, uint64 row, DiffIndex *index)
{
	index->name = plain_at(reader, row, 2);
	index->definition = text_at(reader, row, 3);
	index->comment = plain_at(reader, row, 4);
}

/* What a table holds of each kind of part. */
typedef enum TablePart
{
	PART_COLUMNS, PART_CONSTRAINTS, PART_INDEXES
} TablePart;

/*
 * The rows of a query sorted by table name (column 1), each run of them
 * made into the parts of its table; rows of tables the model left out
 * (partitions, extensions' tables) are skipped.
 */
static void
read_parts(const ModelReader *reader, SchemaModel *model, TablePart part)
{
	for (uint64 i = 0; i < SPI_processed;)
	{
		uint64		end = same_first(i);
		int			n = end - i;
		DiffTable  *table = diff_find_table(model,
											SPI_getvalue(SPI_tuptable->vals[i], SPI_tuptable->tupdesc, 1));

		if (table == NULL)
		{
			i = end;
			continue;
		}
		switch (part)
		{
			case PART_COLUMNS:
				table->ncolumns = n;
				table->columns = MemoryContextAllocZero(reader->cxt, sizeof(DiffColumn) * n);
				for (int j = 0; j < n; j++)
					read_column(reader, i + j, &table->columns[j]);
				break;
			case PART_CONSTRAINTS:
				table->nconstraints = n;
				table->constraints = MemoryContextAllocZero(reader->cxt, sizeof(DiffConstraint) * n);
				for (int j = 0; j < n; j++)
					read_constraint(reader, i + j, &table->constraints[j]);
				break;
			case PART_INDEXES:
				table->nindexes = n;
				table->indexes = MemoryContextAllocZero(reader->cxt, sizeof(DiffIndex) * n);
				for (int j = 0; j < n; j++)
					read_index(reader, i + j, &table->indexes[j]);
				break;
		}
		i = end;
	}
}

static void
read_tables(const ModelReader *reader, Oid nsp, SchemaModel *model)
{
	read_rows(q_tables, nsp);
	model->ntables = SPI_processed;
	model->tables = MemoryContextAllocZero(reader->cxt,
										   sizeof(DiffTable) * Max(SPI_processed, 1));
	for (uint64 i = 0; i < SPI_processed; i++)
	{
		model->tables[i].name = plain_at(reader, i, 1);
		model->tables[i].comment = plain_at(reader, i, 2);
	}
	read_rows(q_columns, nsp);
	read_parts(reader, model, PART_COLUMNS);
	read_rows(q_constraints, nsp);
	read_parts(reader, model, PART_CONSTRAINTS);
	read_rows(q_indexes, nsp);
	read_parts(reader, model, PART_INDEXES);
}

static void
read_sequences_enums_views(const ModelReader *reader, Oid nsp, SchemaModel *model)
{
	uint64		n;

	read_rows(q_sequences, nsp);
	model->nsequences = SPI_processed;
	model->sequences = MemoryContextAllocZero(reader->cxt,
											  sizeof(DiffSequence) * Max(SPI_processed, 1));
	for (uint64 i = 0; i < SPI_processed; i++)
	{
		DiffSequence *seq = &model->sequences[i];

		seq->name = plain_at(reader, i, 1);
		seq->definition = text_at(reader, i, 2);
		seq->owner_table = plain_at(reader, i, 3);
		seq->owner_column = plain_at(reader, i, 4);
		seq->comment = plain_at(reader, i, 5);
	}

	read_rows(q_enums, nsp);
	model->enums = MemoryContextAllocZero(reader->cxt,
										  sizeof(DiffEnum) * Max(SPI_processed, 1));
	n = 0;
	for (uint64 i = 0; i < SPI_processed;)
	{
		uint64		end = same_first(i);
		DiffEnum   *e = &model->enums[n++];

		e->name = plain_at(reader, i, 1);
		e->comment = plain_at(reader, i, 3);
		e->nlabels = end - i;
		e->labels = MemoryContextAlloc(reader->cxt, sizeof(char *) * (end - i));
		for (int j = 0; i < end; i++, j++)
		{
			/* Labels are data, never names: not rewritten. */
			e->labels[j] = MemoryContextStrdup(reader->cxt,
											   SPI_getvalue(SPI_tuptable->vals[i], SPI_tuptable->tupdesc, 2));
		}
	}
	model->nenums = n;

	read_rows(q_views, nsp);
	model->nviews = SPI_processed;
	model->views = MemoryContextAllocZero(reader->cxt,
										  sizeof(DiffView) * Max(SPI_processed, 1));
	for (uint64 i = 0; i < SPI_processed; i++)
	{
		DiffView   *view = &model->views[i];
		char	   *definition = text_at(reader, i, 2);
		size_t		len = strlen(definition);
		Datum	   *elems;
		bool	   *nulls;
		int			nelems;

		/* pg_get_viewdef() ends with ";": the statement adds its own. */
		while (len > 0 && (definition[len - 1] == ';' || definition[len - 1] == '\n' ||
						   definition[len - 1] == ' '))
			definition[--len] = '\0';
		view->name = plain_at(reader, i, 1);
		view->definition = definition;
		view->columns = text_at(reader, i, 3);
		view->comment = plain_at(reader, i, 4);
		deconstruct_array(DatumGetArrayTypeP(datum_at(i, 5)), TEXTOID, -1, false,
						  TYPALIGN_INT, &elems, &nulls, &nelems);
		view->ndepends = nelems;
		view->depends = MemoryContextAlloc(reader->cxt, sizeof(char *) * Max(nelems, 1));
		for (int j = 0; j < nelems; j++)
			view->depends[j] = MemoryContextStrdup(reader->cxt, TextDatumGetCString(elems[j]));
	}
}

static SchemaModel *
read_model(MemoryContext cxt, Oid nsp, const char *schema, bool scratch)
{
	ModelReader reader;
	SchemaModel *model = MemoryContextAllocZero(cxt, sizeof(SchemaModel));

	reader.cxt = cxt;
	reader.scratch = scratch ? SCRATCH_SCHEMA "." : NULL;
	reader.schema = quote_identifier(schema);
	model->schema = MemoryContextStrdup(cxt, reader.schema);
	read_tables(&reader, nsp, model);
	read_sequences_enums_views(&reader, nsp, model);
	return model;
}

/*
 * A type change from "old" to "new": whether ALTER ... TYPE needs USING,
 * and whether it loses nothing (an implicit cast that does not narrow).
 */
static void
classify_type_change(const DiffColumn *old, DiffColumn *new)
{
	Oid			from = old->typid;
	Oid			to = new->typid;

	new->needs_using = !can_coerce_type(1, &from, &to, COERCION_ASSIGNMENT);
	if (from == to)
	{
		if (from == NUMERICOID && old->typmod >= 0 && new->typmod >= 0)
		{
			int			old_scale = (old->typmod - VARHDRSZ) & 0xffff;
			int			new_scale = (new->typmod - VARHDRSZ) & 0xffff;
			int			old_digits = ((old->typmod - VARHDRSZ) >> 16) - old_scale;
			int			new_digits = ((new->typmod - VARHDRSZ) >> 16) - new_scale;

			new->lossless = new_scale >= old_scale && new_digits >= old_digits;
		}
		else
			new->lossless = new->typmod < 0 ||
				(old->typmod >= 0 && new->typmod >= old->typmod);
	}
	else
		new->lossless = can_coerce_type(1, &from, &to, COERCION_IMPLICIT) &&
			new->typmod < 0;
}

static void
classify_type_changes(SchemaModel *from, SchemaModel *to)
{
	for (int i = 0; i < to->ntables; i++)
	{
		DiffTable  *table = &to->tables[i];
		DiffTable  *old = diff_find_table(from, table->name);

		for (int j = 0; old != NULL && j < table->ncolumns; j++)
		{
			DiffColumn *col = &table->columns[j];
			DiffColumn *was = diff_find_column(old, col->name);

			if (was != NULL && strcmp(was->type, col->type) != 0)
			{
				classify_type_change(was, col);
				classify_type_change(col, was);
			}
		}
	}
}

/* ---------------------------------------------------------------------
 * The diff
 * ---------------------------------------------------------------------
 */

typedef struct SchemaDiff
{
	char	   *upgrade;
	char	   *downgrade;
	List	   *warnings;
} SchemaDiff;

static void
set_search_path(const char *value)
{
	(void) set_config_option("search_path", value, PGC_USERSET, PGC_S_SESSION,
							 GUC_ACTION_SAVE, true, 0, false);
}

/* Run the desired DDL and read both models, in a subtransaction rolled back. */
static void
read_both(List *stmts, Oid live, const char *schema,
		  MemoryContext cxt, SchemaModel **live_model, SchemaModel **desired_model)
{
	MemoryContext callercxt = CurrentMemoryContext;
	ResourceOwner owner = CurrentResourceOwner;

	BeginInternalSubTransaction(NULL);
	MemoryContextSwitchTo(callercxt);
	PG_TRY();
	{
		int			nestlevel;
		Oid			scratch;
		const char *path = namespace_search_path;

		if (SPI_connect() != SPI_OK_CONNECT)
			elog(ERROR, "SPI_connect failed");
		nestlevel = NewGUCNestLevel();
		if (SPI_execute("CREATE SCHEMA " SCRATCH_SCHEMA, false, 0) != SPI_OK_UTILITY)
			elog(ERROR, "could not create schema " SCRATCH_SCHEMA);
		scratch = get_namespace_oid(SCRATCH_SCHEMA, false);
		/* Unqualified names are created in the scratch schema. */
		set_search_path(psprintf(SCRATCH_SCHEMA "%s%s", *path ? ", " : "", path));
		sandbox_run(stmts);
		set_search_path("");
		sandbox_check_live_untouched(live, schema);
		*live_model = read_model(cxt, live, schema, false);
		*desired_model = read_model(cxt, scratch, schema, true);
		/* Casts between the types, while the desired types exist. */
		classify_type_changes(*live_model, *desired_model);
		AtEOXact_GUC(false, nestlevel);
		SPI_finish();
	}
	PG_CATCH();
	{
		ErrorData  *edata;

		MemoryContextSwitchTo(callercxt);
		edata = CopyErrorData();
		FlushErrorState();
		RollbackAndReleaseCurrentSubTransaction();
		MemoryContextSwitchTo(callercxt);
		CurrentResourceOwner = owner;
		ReThrowError(edata);
	}
	PG_END_TRY();
	RollbackAndReleaseCurrentSubTransaction();
	MemoryContextSwitchTo(callercxt);
	CurrentResourceOwner = owner;
}

static SchemaDiff *
schema_diff(const char *desired, const char *schema)
{
	Oid			live = get_namespace_oid(schema, true);
	List	   *stmts;
	SchemaModel *live_model;
	SchemaModel *desired_model;
	SchemaDiff *result = palloc0(sizeof(SchemaDiff));
	StringInfoData script;
	List	   *downgrade_warnings = NIL;
	ListCell   *lc;

	if (!OidIsValid(live))
		ereport(ERROR,
				errcode(ERRCODE_UNDEFINED_SCHEMA),
				errmsg("schema \"%s\" does not exist", schema),
				errhint("Name the schema the desired DDL describes, as in migrate.diff(desired, schema => 'public')."));
	if (strcmp(schema, SCRATCH_SCHEMA) == 0 || OidIsValid(get_namespace_oid(SCRATCH_SCHEMA, true)))
		ereport(ERROR,
				errcode(ERRCODE_DUPLICATE_SCHEMA),
				errmsg("schema \"%s\" already exists", SCRATCH_SCHEMA),
				errdetail("migrate.diff() builds the desired schema under that name, and rolls it back."),
				errhint("Rename or drop schema \"%s\".", SCRATCH_SCHEMA));
	if (XactReadOnly || IsInParallelMode() || RecoveryInProgress())
		ereport(ERROR,
				errcode(ERRCODE_READ_ONLY_SQL_TRANSACTION),
				errmsg("migrate.diff() cannot run in a read-only transaction"),
				errdetail("It builds the desired schema, then rolls it back."));

	stmts = script_split(desired, "desired schema");
	sandbox_check_statements(stmts, desired, schema);
	read_both(stmts, live, schema, CurrentMemoryContext,
			  &live_model, &desired_model);

	initStringInfo(&script);
	diff_generate(live_model, desired_model, &script, &result->warnings, false);
	result->upgrade = script.data;
	initStringInfo(&script);
	diff_generate(desired_model, live_model, &script, &downgrade_warnings, true);
	result->downgrade = script.data;
	foreach(lc, downgrade_warnings)
		result->warnings = lappend(result->warnings,
								   psprintf("downgrade: %s", (char *) lfirst(lc)));
	return result;
}

/*
 * migrate.diff(desired text, schema text DEFAULT 'public')
 *	RETURNS TABLE(upgrade text, downgrade text, warnings text[])
 *
 * One row: the DDL from "schema" to the desired one and back, empty when
 * they are the same, and what a reviewer must look at (warnings about the
 * downgrade start with "downgrade: ").
 */
PG_FUNCTION_INFO_V1(migrate_diff);
Datum
migrate_diff(PG_FUNCTION_ARGS)
{
	const char *desired = arg_text(fcinfo, 0, "desired");
	const char *schema = arg_text(fcinfo, 1, "schema");
	SchemaDiff *diff = schema_diff(desired, schema);
	TupleDesc	tupdesc;
	Tuplestorestate *store = srf_begin(fcinfo, &tupdesc);
	Datum		values[3];
	bool		nulls[3] = {false, false, false};
	Datum	   *warnings;
	int			n = 0;
	ListCell   *lc;

	warnings = palloc(sizeof(Datum) * Max(list_length(diff->warnings), 1));
	foreach(lc, diff->warnings)
		warnings[n++] = CStringGetTextDatum(lfirst(lc));
	values[0] = CStringGetTextDatum(diff->upgrade);
	values[1] = CStringGetTextDatum(diff->downgrade);
	values[2] = PointerGetDatum(construct_array(warnings, n, TEXTOID, -1, false,
												TYPALIGN_INT));
	tuplestore_putvalues(store, tupdesc, values, nulls);
	return (Datum) 0;
}

/*
 * migrate.autogenerate(desired text, message text DEFAULT '',
 *						schema text DEFAULT 'public') RETURNS text
 *
 * Registers the diff as a new revision on the current head, as
 * migrate.revision(upgrade, downgrade, message) does, with its checks
 * (revision_register_new()), and returns its id; NULL, registering
 * nothing, when there is no difference.  Warnings are raised as WARNINGs.
 * Refused while registered revisions are not applied.
 */
PG_FUNCTION_INFO_V1(migrate_autogenerate);
Datum
migrate_autogenerate(PG_FUNCTION_ARGS)
{
	const char *desired = arg_text(fcinfo, 0, "desired");
	const char *message = arg_text(fcinfo, 1, "message");
	const char *schema = arg_text(fcinfo, 2, "schema");
	SchemaDiff *diff;
	ListCell   *lc;
	char	   *id;

	inspect_require_head(catalog_load_graph(0));
	diff = schema_diff(desired, schema);
	if (diff->upgrade[0] == '\0')
		PG_RETURN_NULL();
	foreach(lc, diff->warnings)
		ereport(WARNING,
				errmsg("%s", (char *) lfirst(lc)));
	id = revision_register_new(diff->upgrade, diff->downgrade, message);
	PG_RETURN_TEXT_P(cstring_to_text(id));
}
