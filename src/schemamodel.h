/*-------------------------------------------------------------------------
 *
 * schemamodel.h
 *		The model of a schema that migrate.diff() compares.
 *
 * Each struct but DiffView starts with its name, and the arrays of them are
 * sorted by name (bytewise, as COLLATE "C" sorts), so that diffgen.c finds
 * them by binary search. *
 * diff.c reads a model from the system catalogs (SPI); diffgen.c compares
 * two models and writes the DDL between them without touching SPI, so the
 * comparison can be tested on any pair of models.
 *
 * Every definition is the server's own deparsed text (format_type(),
 * pg_get_expr(), pg_get_constraintdef(), pg_get_indexdef(),
 * pg_get_viewdef()), read under an empty search_path so that names come out
 * schema-qualified, with the scratch schema's name already replaced by the
 * live schema's: two objects are equal exactly when their texts are.
 *
 * IDENTIFICATION
 *	  src/schemamodel.h
 *
 *-------------------------------------------------------------------------
 */
#ifndef MIGRATE_SCHEMAMODEL_H
#define MIGRATE_SCHEMAMODEL_H

#include "postgres.h"

#include "lib/stringinfo.h"
#include "nodes/pg_list.h"

typedef struct DiffColumn
{
	char	   *name;
	char	   *type;			/* format_type(), with its typmod */
	char	   *collation;		/* NULL: the type's default collation */
	bool		notnull;
	char	   *default_expr;	/* NULL: none; the expression when generated */
	char		identity;		/* '\0', 'a' (always) or 'd' (by default) */
	char	   *identity_options;	/* START WITH ... CYCLE, of an identity */
	char	   *identity_alter; /* the same as ALTER COLUMN's SET ... clauses */
	char		generated;		/* '\0' or 's' (stored) */
	char	   *comment;

	/*
	 * Set on the columns of one side when the other side has the same
	 * column with another type: how the change from the other side's type to
	 * this one goes (see diff.c).
	 */
	bool		needs_using;	/* no assignment cast: ALTER ... USING */
	bool		lossless;		/* an implicit, widening change */

	/* Only while the catalogs are read. */
	Oid			typid;
	int32		typmod;
} DiffColumn;

typedef struct DiffConstraint
{
	char	   *name;
	char		type;			/* pg_constraint.contype: p, u, c, f or x */
	char	   *definition;		/* pg_get_constraintdef() */
	char	   *references;		/* a foreign key's table, when in the schema */
	char	   *comment;
} DiffConstraint;

typedef struct DiffIndex
{
	char	   *name;
	char	   *definition;		/* pg_get_indexdef(), without constraint indexes */
	char	   *comment;
} DiffIndex;

typedef struct DiffTable
{
	char	   *name;
	char	   *comment;
	int			ncolumns;
	DiffColumn *columns;		/* in attnum order */
	int			nconstraints;
	DiffConstraint *constraints;	/* sorted by name */
	int			nindexes;
	DiffIndex  *indexes;		/* sorted by name */
} DiffTable;

typedef struct DiffSequence
{
	char	   *name;
	char	   *definition;		/* AS ... INCREMENT BY ... CYCLE */
	char	   *owner_table;	/* OWNED BY, or NULL */
	char	   *owner_column;
	char	   *comment;
} DiffSequence;

typedef struct DiffEnum
{
	char	   *name;
	int			nlabels;
	char	  **labels;			/* in sort order */
	char	   *comment;
} DiffEnum;

typedef struct DiffView
{
	char	   *name;
	char	   *definition;		/* pg_get_viewdef(), without its ";" */
	char	   *columns;		/* "name type, ..." to tell whether OR REPLACE works */
	char	   *comment;
	int			ndepends;
	char	  **depends;		/* tables and views of the schema it reads */
} DiffView;

typedef struct SchemaModel
{
	char	   *schema;			/* quoted, to qualify names */
	int			ntables;
	DiffTable  *tables;			/* sorted by name */
	int			nsequences;
	DiffSequence *sequences;	/* sorted by name */
	int			nenums;
	DiffEnum   *enums;			/* sorted by name */
	int			nviews;
	DiffView   *views;			/* in creation order, so dependencies first */
} SchemaModel;

/* diffgen.c: comparison and DDL, no SPI */
extern DiffTable *diff_find_table(const SchemaModel *model, const char *name);
extern DiffColumn *diff_find_column(const DiffTable *table, const char *name);
extern void diff_generate(const SchemaModel *from, const SchemaModel *to,
						  StringInfo script, List **warnings, bool downgrade);

#endif							/* MIGRATE_SCHEMAMODEL_H */
