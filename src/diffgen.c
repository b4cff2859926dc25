/*-------------------------------------------------------------------------
 *
 * diffgen.c
 *		Compare two schema models and write the DDL that turns one into the
 *		other: the heart of migrate.diff(), free of SPI.
 *
 * The script runs in dependency order:
 *   1. enum types created or given values, sequences created;
 *   2. views that go or must be rebuilt dropped, dependents first;
 *   3. foreign keys that go or change dropped (and those pointing at a key
 *      that changes), then other constraints and indexes that go or change;
 *   4. tables that go dropped, new tables created;
 *   5. columns of kept tables dropped, added and altered;
 *   6. sequences altered and attached to their columns;
 *   7. constraints and indexes added, foreign keys last, once every table
 *      they name exists;
 *   8. sequences and enum types that go dropped, views created;
 *   9. comments.
 * Everything is visited in name order (views in creation order), so the
 * same models always give the same script, byte for byte.
 *
 * What cannot be told apart (a rename from a drop and an add) and what
 * loses data is reported as a warning, and the script carries it as a
 * comment above the statement.  A downgrade's drops of the tables and
 * columns its upgrade created are not: they hold no data from before the
 * revision.
 *
 * IDENTIFICATION
 *	  src/diffgen.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "utils/builtins.h"

#include "schemamodel.h"

/* Where the script and its warnings go. */
typedef struct DiffOutput
{
	const SchemaModel *from;
	const SchemaModel *to;
	StringInfo	script;
	List	  **warnings;
	bool		downgrade;		/* "to" is where the upgrade came from */
} DiffOutput;

static bool
same_text(const char *a, const char *b)
{
	if (a == NULL || b == NULL)
		return a == b;
	return strcmp(a, b) == 0;
}

static const char *
qualified(const DiffOutput *out, const char *name)
{
	return psprintf("%s.%s", out->to->schema, quote_identifier(name));
}

static void
statement(DiffOutput *out, const char *fmt,...) pg_attribute_printf(2, 3);

/* Append one statement; the format has no trailing semicolon. */
static void
statement(DiffOutput *out, const char *fmt,...)
{
	for (;;)
	{
		va_list		args;
		int			needed;

		va_start(args, fmt);
		needed = appendStringInfoVA(out->script, fmt, args);
		va_end(args);
		if (needed == 0)
			break;
		enlargeStringInfo(out->script, needed);
	}
	appendStringInfoString(out->script, ";\n");
}

static void
warning(DiffOutput *out, const char *fmt,...) pg_attribute_printf(2, 3);

/* A warning, both in the list and as a comment above the next statement. */
static void
warning(DiffOutput *out, const char *fmt,...)
{
	StringInfoData buf;

	initStringInfo(&buf);
	for (;;)
	{
		va_list		args;
		int			needed;

		va_start(args, fmt);
		needed = appendStringInfoVA(&buf, fmt, args);
		va_end(args);
		if (needed == 0)
			break;
		enlargeStringInfo(&buf, needed);
	}
	*out->warnings = lappend(*out->warnings, buf.data);
	appendStringInfoString(out->script, "-- WARNING: ");
	for (const char *p = buf.data; *p; p++)
	{
		if (*p == '\n')
			appendStringInfoString(out->script, "\n-- ");
		else
			appendStringInfoChar(out->script, *p);
	}
	appendStringInfoChar(out->script, '\n');
}

/* ---------------------------------------------------------------------
 * Lookups: every array is sorted by name (views excepted)
 * ---------------------------------------------------------------------
 */

/*
 * Every model struct but DiffView starts with its name, and its arrays are
 * sorted by name: one binary search serves them all.
 */
static int
compare_name(const void *key, const void *element)
{
	return strcmp((const char *) key, *(char *const *) element);
}

static void *
find_by_name(const void *array, int n, size_t size, const char *name)
{
	if (array == NULL || n == 0)
		return NULL;
	return (void *) bsearch(name, array, n, size, compare_name);
}

DiffTable *
diff_find_table(const SchemaModel *model, const char *name)
{
	return find_by_name(model->tables, model->ntables, sizeof(DiffTable), name);
}

/* Columns are in attnum order: a linear search, tables are narrow. */
DiffColumn *
diff_find_column(const DiffTable *table, const char *name)
{
	if (table == NULL)
		return NULL;
	for (int i = 0; i < table->ncolumns; i++)
		if (strcmp(table->columns[i].name, name) == 0)
			return &table->columns[i];
	return NULL;
}

static DiffConstraint *
find_constraint(const DiffTable *table, const char *name)
{
	if (table == NULL)
		return NULL;
	return find_by_name(table->constraints, table->nconstraints,
						sizeof(DiffConstraint), name);
}

static DiffIndex *
find_index(const DiffTable *table, const char *name)
{
	if (table == NULL)
		return NULL;
	return find_by_name(table->indexes, table->nindexes, sizeof(DiffIndex), name);
}

static DiffSequence *
find_sequence(const SchemaModel *model, const char *name)
{
	return find_by_name(model->sequences, model->nsequences,
						sizeof(DiffSequence), name);
}

static DiffEnum *
find_enum(const SchemaModel *model, const char *name)
{
	return find_by_name(model->enums, model->nenums, sizeof(DiffEnum), name);
}

static DiffView *
find_view(const SchemaModel *model, const char *name)
{
	for (int i = 0; i < model->nviews; i++)
		if (strcmp(model->views[i].name, name) == 0)
			return &model->views[i];
	return NULL;
}

static bool
has_label(const DiffEnum *e, const char *label)
{
	for (int i = 0; i < e->nlabels; i++)
		if (strcmp(e->labels[i], label) == 0)
			return true;
	return false;
}

/* ---------------------------------------------------------------------
 * What changes
 * ---------------------------------------------------------------------
 */

/* Two columns differ in a way that a drop and an add must carry. */
static bool
generation_differs(const DiffColumn *a, const DiffColumn *b)
{
	return a->generated != b->generated ||
		(a->generated && !same_text(a->default_expr, b->default_expr));
}

static bool
type_differs(const DiffColumn *a, const DiffColumn *b)
{
	return strcmp(a->type, b->type) != 0 || !same_text(a->collation, b->collation);
}

/*
 * A table whose columns are dropped or change type: views that read it
 * must be dropped before and created again after.
 */
static bool
table_reshaped(const DiffTable *from, const DiffTable *to)
{
	if (to == NULL)
		return true;
	for (int i = 0; i < from->ncolumns; i++)
	{
		const DiffColumn *old = &from->columns[i];
		const DiffColumn *new = diff_find_column(to, old->name);

		if (new == NULL || type_differs(old, new) || generation_differs(old, new))
			return true;
	}
	return false;
}

/* A key that foreign keys may depend on goes or changes on this table. */
static bool
keys_change(const DiffTable *from, const DiffTable *to)
{
	if (to == NULL)
		return true;
	for (int i = 0; i < from->nconstraints; i++)
	{
		const DiffConstraint *old = &from->constraints[i];
		const DiffConstraint *new;

		if (old->type != 'p' && old->type != 'u')
			continue;
		new = find_constraint(to, old->name);
		if (new == NULL || strcmp(old->definition, new->definition) != 0)
			return true;
	}
	for (int i = 0; i < from->nindexes; i++)
	{
		const DiffIndex *old = &from->indexes[i];
		const DiffIndex *new = find_index(to, old->name);

		if (strncmp(old->definition, "CREATE UNIQUE", 13) == 0 &&
			(new == NULL || strcmp(old->definition, new->definition) != 0))
			return true;
	}
	/* A key column that changes type has its foreign keys rebuilt by the server. */
	return false;
}

/*
 * A view can be replaced in place when its old columns come first, with the
 * same names and types, in the new one.
 */
static bool
view_replaceable(const DiffView *old, const DiffView *new)
{
	size_t		len = strlen(old->columns);

	return strncmp(old->columns, new->columns, len) == 0 &&
		(new->columns[len] == '\0' || new->columns[len] == ',');
}

/*
 * Which views of "from" are dropped before the tables change: those that
 * go, change beyond CREATE OR REPLACE, or read a table that is reshaped or a
 * view that is dropped.  Dependencies come first in creation order, so one
 * pass sees every view's inputs settled.
 */
static bool *
views_to_drop(const DiffOutput *out)
{
	const SchemaModel *from = out->from;
	bool	   *drop = palloc0(sizeof(bool) * Max(from->nviews, 1));

	for (int i = 0; i < from->nviews; i++)
	{
		const DiffView *old = &from->views[i];
		const DiffView *new = find_view(out->to, old->name);

		drop[i] = new == NULL ||
			(strcmp(old->definition, new->definition) != 0 &&
			 !view_replaceable(old, new));
		for (int d = 0; !drop[i] && d < old->ndepends; d++)
		{
			const DiffTable *table = diff_find_table(from, old->depends[d]);

			if (table != NULL)
				drop[i] = table_reshaped(table, diff_find_table(out->to, table->name));
			for (int j = 0; j < i && !drop[i]; j++)
				drop[i] = drop[j] && strcmp(from->views[j].name, old->depends[d]) == 0;
		}
	}
	return drop;
}

/* ---------------------------------------------------------------------
 * Writing
 * ---------------------------------------------------------------------
 */

static void
append_column(StringInfo buf, const DiffColumn *col)
{
	appendStringInfo(buf, "%s %s", quote_identifier(col->name), col->type);
	if (col->collation)
		appendStringInfo(buf, " COLLATE %s", col->collation);
	if (col->generated)
		appendStringInfo(buf, " GENERATED ALWAYS AS (%s) STORED", col->default_expr);
	else if (col->default_expr)
		appendStringInfo(buf, " DEFAULT %s", col->default_expr);
	if (col->identity)
		appendStringInfo(buf, " GENERATED %s AS IDENTITY (%s)",
						 col->identity == 'a' ? "ALWAYS" : "BY DEFAULT",
						 col->identity_options);
	if (col->notnull)
		appendStringInfoString(buf, " NOT NULL");
}

static const char *
column_text(const DiffColumn *col)
{
	StringInfoData buf;

	initStringInfo(&buf);
	append_column(&buf, col);
	return buf.data;
}

static void
create_table(DiffOutput *out, const DiffTable *table)
{
	StringInfoData buf;

	initStringInfo(&buf);
	appendStringInfo(&buf, "CREATE TABLE %s (", qualified(out, table->name));
	for (int i = 0; i < table->ncolumns; i++)
	{
		appendStringInfoString(&buf, i == 0 ? "\n    " : ",\n    ");
		append_column(&buf, &table->columns[i]);
	}
	appendStringInfoString(&buf, table->ncolumns > 0 ? "\n)" : ")");
	statement(out, "%s", buf.data);
}

/* The statements that take a kept column from "old" to "new". */
static void
alter_column(DiffOutput *out, const DiffTable *table, const DiffColumn *old,
			 const DiffColumn *new)
{
	const char *t = qualified(out, table->name);
	const char *c = quote_identifier(new->name);
	bool		retype = type_differs(old, new);
	bool		redefault = !same_text(old->default_expr, new->default_expr);

	/* An old default may not survive the new type: drop it first. */
	if (retype && redefault && old->default_expr && !old->identity)
		statement(out, "ALTER TABLE %s ALTER COLUMN %s DROP DEFAULT", t, c);
	if (old->identity && old->identity != new->identity && !new->identity)
		statement(out, "ALTER TABLE %s ALTER COLUMN %s DROP IDENTITY", t, c);
	if (retype)
	{
		StringInfoData buf;

		if (!new->lossless)
			warning(out, "changes the type of column %s.%s from %s to %s, which can fail or lose data",
					t, c, old->type, new->type);
		initStringInfo(&buf);
		appendStringInfo(&buf, "ALTER TABLE %s ALTER COLUMN %s TYPE %s", t, c, new->type);
		if (new->collation)
			appendStringInfo(&buf, " COLLATE %s", new->collation);
		if (new->needs_using)
			appendStringInfo(&buf, " USING %s::%s", c, new->type);
		statement(out, "%s", buf.data);
	}
	if (redefault && !new->identity)
	{
		if (new->default_expr)
			statement(out, "ALTER TABLE %s ALTER COLUMN %s SET DEFAULT %s", t, c, new->default_expr);
		else if (!(retype && old->default_expr) && !old->identity)
			statement(out, "ALTER TABLE %s ALTER COLUMN %s DROP DEFAULT", t, c);
	}
	if (new->identity && old->identity != new->identity)
	{
		const char *kind = new->identity == 'a' ? "ALWAYS" : "BY DEFAULT";

		if (old->identity)
			statement(out, "ALTER TABLE %s ALTER COLUMN %s SET GENERATED %s", t, c, kind);
		else
			statement(out, "ALTER TABLE %s ALTER COLUMN %s ADD GENERATED %s AS IDENTITY (%s)",
					  t, c, kind, new->identity_options);
	}
	if (new->identity && old->identity &&
		!same_text(old->identity_options, new->identity_options))
		statement(out, "ALTER TABLE %s ALTER COLUMN %s %s", t, c, new->identity_alter);
	if (old->notnull != new->notnull && !(new->identity && new->notnull))
		statement(out, "ALTER TABLE %s ALTER COLUMN %s %s NOT NULL", t, c,
				  new->notnull ? "SET" : "DROP");
}

/* Columns of a kept table: dropped, added, altered; renames suspected. */
static void
alter_table_columns(DiffOutput *out, const DiffTable *old, const DiffTable *new)
{
	const char *t = qualified(out, new->name);

	for (int i = 0; i < old->ncolumns; i++)
	{
		const DiffColumn *col = &old->columns[i];
		const DiffColumn *now = diff_find_column(new, col->name);

		if (now != NULL && !generation_differs(col, now))
			continue;
		if (now == NULL)
		{
			for (int j = 0; j < new->ncolumns; j++)
			{
				const DiffColumn *added = &new->columns[j];

				if (diff_find_column(old, added->name) == NULL &&
					strcmp(added->type, col->type) == 0)
					warning(out, "column %s.%s is dropped and column %s is added with the same type: if this is a rename, replace both with ALTER TABLE %s RENAME COLUMN %s TO %s",
							t, quote_identifier(col->name), quote_identifier(added->name),
							t, quote_identifier(col->name), quote_identifier(added->name));
			}
			if (!out->downgrade)
				warning(out, "drops column %s.%s and its data", t, quote_identifier(col->name));
		}
		else
			warning(out, "column %s.%s changes how it is generated: it is dropped and added again, and its data is computed anew",
					t, quote_identifier(col->name));
		statement(out, "ALTER TABLE %s DROP COLUMN %s", t, quote_identifier(col->name));
	}
	for (int i = 0; i < new->ncolumns; i++)
	{
		const DiffColumn *col = &new->columns[i];
		const DiffColumn *was = diff_find_column(old, col->name);

		if (was == NULL || generation_differs(was, col))
			statement(out, "ALTER TABLE %s ADD COLUMN %s", t, column_text(col));
		else
			alter_column(out, new, was, col);
	}
}

static bool
constraint_is_fk(const DiffConstraint *con)
{
	return con->type == 'f';
}

/*
 * Constraints of "from" to drop: those that go or change, and when
 * "foreign_keys", the foreign keys that point at a table whose keys change.
 */
static void
drop_constraints(DiffOutput *out, bool foreign_keys)
{
	for (int i = 0; i < out->from->ntables; i++)
	{
		const DiffTable *old = &out->from->tables[i];
		const DiffTable *new = diff_find_table(out->to, old->name);

		/* A dropped table takes its constraints along, but for foreign keys. */
		if (new == NULL && !foreign_keys)
			continue;
		for (int j = 0; j < old->nconstraints; j++)
		{
			const DiffConstraint *con = &old->constraints[j];
			const DiffConstraint *now = find_constraint(new, con->name);
			bool		drop;

			if (constraint_is_fk(con) != foreign_keys)
				continue;
			drop = now == NULL || strcmp(con->definition, now->definition) != 0;
			if (!drop && foreign_keys && con->references)
			{
				const DiffTable *target = diff_find_table(out->from, con->references);

				drop = target != NULL &&
					keys_change(target, diff_find_table(out->to, target->name));
			}
			if (drop)
				statement(out, "ALTER TABLE %s DROP CONSTRAINT %s",
						  qualified(out, old->name), quote_identifier(con->name));
		}
		if (foreign_keys || new == NULL)
			continue;
		for (int j = 0; j < old->nindexes; j++)
		{
			const DiffIndex *index = &old->indexes[j];
			const DiffIndex *now = find_index(new, index->name);

			if (now == NULL || strcmp(index->definition, now->definition) != 0)
				statement(out, "DROP INDEX %s", qualified(out, index->name));
		}
	}
}

/* Was this constraint of "to" dropped, or is it new? Then it is added. */
static bool
constraint_needed(const DiffOutput *out, const DiffTable *table,
				  const DiffConstraint *con)
{
	const DiffTable *old = diff_find_table(out->from, table->name);
	const DiffConstraint *was = find_constraint(old, con->name);

	if (was == NULL || strcmp(was->definition, con->definition) != 0)
		return true;
	if (constraint_is_fk(con) && con->references)
	{
		const DiffTable *target = diff_find_table(out->from, con->references);

		return target != NULL &&
			keys_change(target, diff_find_table(out->to, target->name));
	}
	return false;
}

static void
add_constraints(DiffOutput *out, bool foreign_keys)
{
	for (int i = 0; i < out->to->ntables; i++)
	{
		const DiffTable *table = &out->to->tables[i];
		const DiffTable *old = diff_find_table(out->from, table->name);

		for (int j = 0; j < table->nconstraints; j++)
		{
			const DiffConstraint *con = &table->constraints[j];

			if (constraint_is_fk(con) == foreign_keys &&
				constraint_needed(out, table, con))
				statement(out, "ALTER TABLE %s ADD CONSTRAINT %s %s",
						  qualified(out, table->name), quote_identifier(con->name),
						  con->definition);
		}
		if (foreign_keys)
			continue;
		for (int j = 0; j < table->nindexes; j++)
		{
			const DiffIndex *index = &table->indexes[j];
			const DiffIndex *was = find_index(old, index->name);

			if (was == NULL || strcmp(was->definition, index->definition) != 0)
				statement(out, "%s", index->definition);
		}
	}
}

/* Enum types: new ones created, new values added in place. */
static void
create_enums(DiffOutput *out)
{
	for (int i = 0; i < out->to->nenums; i++)
	{
		const DiffEnum *e = &out->to->enums[i];
		const DiffEnum *was = find_enum(out->from, e->name);
		const char *name = qualified(out, e->name);

		if (was == NULL)
		{
			StringInfoData buf;

			initStringInfo(&buf);
			for (int j = 0; j < e->nlabels; j++)
				appendStringInfo(&buf, "%s%s", j ? ", " : "", quote_literal_cstr(e->labels[j]));
			statement(out, "CREATE TYPE %s AS ENUM (%s)", name, buf.data);
			continue;
		}
		for (int j = 0; j < was->nlabels; j++)
			if (!has_label(e, was->labels[j]))
				warning(out, "enum type %s keeps its value %s: PostgreSQL cannot remove a value from an enum type in place; recreate the type by hand if it must go",
						name, quote_literal_cstr(was->labels[j]));
		/* Values the two share must keep their order. */
		for (int j = 0, last = -1; j < e->nlabels; j++)
		{
			int			pos = -1;

			for (int k = 0; k < was->nlabels; k++)
				if (strcmp(was->labels[k], e->labels[j]) == 0)
					pos = k;
			if (pos < 0)
				continue;
			if (pos < last)
			{
				warning(out, "enum type %s orders its values differently: PostgreSQL cannot reorder the values of an enum type in place",
						name);
				break;
			}
			last = pos;
		}
		for (int j = 0; j < e->nlabels; j++)
		{
			if (has_label(was, e->labels[j]))
				continue;
			warning(out, "enum type %s gets the value %s, which PostgreSQL lets no statement use before the transaction commits: a statement of this script that uses it fails, so move that statement to a later revision",
					name, quote_literal_cstr(e->labels[j]));
			/*
			 * Placed after its predecessor, which exists by now.  IF NOT
			 * EXISTS: the downgrade cannot drop the value, so the upgrade
			 * must find it there when it runs again.
			 */
			if (j > 0)
				statement(out, "ALTER TYPE %s ADD VALUE IF NOT EXISTS %s AFTER %s", name,
						  quote_literal_cstr(e->labels[j]),
						  quote_literal_cstr(e->labels[j - 1]));
			else if (was->nlabels > 0)
				statement(out, "ALTER TYPE %s ADD VALUE IF NOT EXISTS %s BEFORE %s", name,
						  quote_literal_cstr(e->labels[j]),
						  quote_literal_cstr(was->labels[0]));
			else
				statement(out, "ALTER TYPE %s ADD VALUE IF NOT EXISTS %s", name,
						  quote_literal_cstr(e->labels[j]));
		}
	}
}

/* Is a sequence owned by a column that this script drops? */
static bool
owner_dropped(const DiffOutput *out, const DiffSequence *seq)
{
	const DiffTable *table;
	const DiffColumn *col;
	const DiffColumn *old;

	if (seq->owner_table == NULL)
		return false;
	table = diff_find_table(out->to, seq->owner_table);
	col = diff_find_column(table, seq->owner_column);
	old = diff_find_column(diff_find_table(out->from, seq->owner_table),
						   seq->owner_column);
	return col == NULL || (old != NULL && generation_differs(old, col));
}

static void
comment(DiffOutput *out, const char *what, const char *old, const char *new)
{
	if (same_text(old, new))
		return;
	statement(out, "COMMENT ON %s IS %s", what,
			  new ? quote_literal_cstr(new) : "NULL");
}

static void
write_comments(DiffOutput *out, const bool *view_dropped)
{
	for (int i = 0; i < out->to->ntables; i++)
	{
		const DiffTable *table = &out->to->tables[i];
		const DiffTable *old = diff_find_table(out->from, table->name);
		const char *t = qualified(out, table->name);

		comment(out, psprintf("TABLE %s", t), old ? old->comment : NULL, table->comment);
		for (int j = 0; j < table->ncolumns; j++)
		{
			const DiffColumn *col = &table->columns[j];
			const DiffColumn *was = diff_find_column(old, col->name);

			if (was != NULL && generation_differs(was, col))
				was = NULL;
			comment(out, psprintf("COLUMN %s.%s", t, quote_identifier(col->name)),
					was ? was->comment : NULL, col->comment);
		}
		for (int j = 0; j < table->nconstraints; j++)
		{
			const DiffConstraint *con = &table->constraints[j];
			const DiffConstraint *was = find_constraint(old, con->name);

			if (was != NULL && constraint_needed(out, table, con))
				was = NULL;
			comment(out, psprintf("CONSTRAINT %s ON %s", quote_identifier(con->name), t),
					was ? was->comment : NULL, con->comment);
		}
		for (int j = 0; j < table->nindexes; j++)
		{
			const DiffIndex *index = &table->indexes[j];
			const DiffIndex *was = find_index(old, index->name);

			if (was != NULL && strcmp(was->definition, index->definition) != 0)
				was = NULL;
			comment(out, psprintf("INDEX %s", qualified(out, index->name)),
					was ? was->comment : NULL, index->comment);
		}
	}
	for (int i = 0; i < out->to->nsequences; i++)
	{
		const DiffSequence *seq = &out->to->sequences[i];
		const DiffSequence *was = find_sequence(out->from, seq->name);

		comment(out, psprintf("SEQUENCE %s", qualified(out, seq->name)),
				was && !owner_dropped(out, was) ? was->comment : NULL, seq->comment);
	}
	for (int i = 0; i < out->to->nenums; i++)
	{
		const DiffEnum *e = &out->to->enums[i];
		const DiffEnum *was = find_enum(out->from, e->name);

		comment(out, psprintf("TYPE %s", qualified(out, e->name)),
				was ? was->comment : NULL, e->comment);
	}
	for (int i = 0; i < out->to->nviews; i++)
	{
		const DiffView *view = &out->to->views[i];
		const char *old = NULL;

		for (int j = 0; j < out->from->nviews; j++)
			if (strcmp(out->from->views[j].name, view->name) == 0 && !view_dropped[j])
				old = out->from->views[j].comment;
		comment(out, psprintf("VIEW %s", qualified(out, view->name)), old, view->comment);
	}
}

/* Tables that go while others come with the same columns: renames? */
static void
suspect_table_renames(DiffOutput *out, const DiffTable *dropped)
{
	for (int i = 0; i < out->to->ntables; i++)
	{
		const DiffTable *added = &out->to->tables[i];
		bool		same = added->ncolumns == dropped->ncolumns;

		if (diff_find_table(out->from, added->name) != NULL)
			continue;
		for (int j = 0; same && j < added->ncolumns; j++)
			same = strcmp(added->columns[j].name, dropped->columns[j].name) == 0 &&
				strcmp(added->columns[j].type, dropped->columns[j].type) == 0;
		if (same)
			warning(out, "table %s is dropped and table %s is created with the same columns: if this is a rename, replace both with ALTER TABLE %s RENAME TO %s",
					qualified(out, dropped->name), qualified(out, added->name),
					qualified(out, dropped->name), quote_identifier(added->name));
	}
}

/*
 * Append to "script" the DDL that turns "from" into "to", and to
 * "warnings" what a reviewer must look at.  Nothing is appended when the
 * two are equal.  With "downgrade", the script undoes the upgrade from "to"
 * to "from": the tables and columns it drops are the ones that upgrade
 * created, so dropping them is no warning.
 */
void
diff_generate(const SchemaModel *from, const SchemaModel *to,
			  StringInfo script, List **warnings, bool downgrade)
{
	DiffOutput	out = {from, to, script, warnings, downgrade};
	bool	   *view_dropped = views_to_drop(&out);

	/* 1. Types and sequences that new columns may need. */
	create_enums(&out);
	for (int i = 0; i < to->nsequences; i++)
		if (find_sequence(from, to->sequences[i].name) == NULL)
			statement(&out, "CREATE SEQUENCE %s %s", qualified(&out, to->sequences[i].name),
					  to->sequences[i].definition);

	/* 2. Views, dependents first. */
	for (int i = from->nviews - 1; i >= 0; i--)
		if (view_dropped[i])
			statement(&out, "DROP VIEW %s", qualified(&out, from->views[i].name));

	/* 3. Foreign keys, then the other constraints and indexes. */
	drop_constraints(&out, true);
	drop_constraints(&out, false);

	/* 4. Tables. */
	for (int i = 0; i < from->ntables; i++)
	{
		const DiffTable *table = &from->tables[i];

		if (diff_find_table(to, table->name) != NULL)
			continue;
		suspect_table_renames(&out, table);
		if (!downgrade)
			warning(&out, "drops table %s and its data", qualified(&out, table->name));
		statement(&out, "DROP TABLE %s", qualified(&out, table->name));
	}
	for (int i = 0; i < to->ntables; i++)
		if (diff_find_table(from, to->tables[i].name) == NULL)
			create_table(&out, &to->tables[i]);

	/* 5. Columns of the tables that stay. */
	for (int i = 0; i < to->ntables; i++)
	{
		const DiffTable *old = diff_find_table(from, to->tables[i].name);

		if (old != NULL)
			alter_table_columns(&out, old, &to->tables[i]);
	}

	/* 6. Sequences: changed, and attached to their columns. */
	for (int i = 0; i < to->nsequences; i++)
	{
		const DiffSequence *seq = &to->sequences[i];
		const DiffSequence *was = find_sequence(from, seq->name);
		const char *name = qualified(&out, seq->name);

		if (was != NULL && strcmp(was->definition, seq->definition) != 0)
			statement(&out, "ALTER SEQUENCE %s %s", name, seq->definition);
		if (seq->owner_table == NULL)
		{
			if (was != NULL && was->owner_table != NULL && !owner_dropped(&out, was))
				statement(&out, "ALTER SEQUENCE %s OWNED BY NONE", name);
		}
		else if (was == NULL || owner_dropped(&out, was) ||
				 !same_text(was->owner_table, seq->owner_table) ||
				 !same_text(was->owner_column, seq->owner_column))
			statement(&out, "ALTER SEQUENCE %s OWNED BY %s.%s", name,
					  qualified(&out, seq->owner_table), quote_identifier(seq->owner_column));
	}

	/* 7. Keys, checks and indexes; then foreign keys, all tables being there. */
	add_constraints(&out, false);
	add_constraints(&out, true);

	/* 8. What nothing needs any more, and views. */
	for (int i = 0; i < from->nsequences; i++)
	{
		const DiffSequence *seq = &from->sequences[i];

		/* One owned by a column that goes went with it. */
		if (find_sequence(to, seq->name) == NULL && !owner_dropped(&out, seq))
			statement(&out, "DROP SEQUENCE %s", qualified(&out, seq->name));
	}
	for (int i = 0; i < from->nenums; i++)
		if (find_enum(to, from->enums[i].name) == NULL)
			statement(&out, "DROP TYPE %s", qualified(&out, from->enums[i].name));
	for (int i = 0; i < to->nviews; i++)
	{
		const DiffView *view = &to->views[i];
		const DiffView *was = NULL;

		for (int j = 0; j < from->nviews; j++)
			if (strcmp(from->views[j].name, view->name) == 0 && !view_dropped[j])
				was = &from->views[j];
		if (was == NULL)
			statement(&out, "CREATE VIEW %s AS\n%s", qualified(&out, view->name),
					  view->definition);
		else if (strcmp(was->definition, view->definition) != 0)
			statement(&out, "CREATE OR REPLACE VIEW %s AS\n%s", qualified(&out, view->name),
					  view->definition);
	}

	/* 9. Comments. */
	write_comments(&out, view_dropped);
}
