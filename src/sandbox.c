/*-------------------------------------------------------------------------
 *
 * sandbox.c
 *		What the desired DDL of migrate.diff() may do: define objects of its
 *		own, and nothing else.
 *
 * diff.c runs the desired DDL as the caller, in a scratch schema, inside a
 * subtransaction that is always rolled back.  Before it runs, each of its
 * statements must be a definition that migrate.diff() compares, without a
 * schema-qualified name (sandbox_check_statements()); once it ran, an
 * object of its own that uses the live schema, or an object of the live
 * schema that it changed, is refused (sandbox_check_live_untouched()).
 *
 * The rollback undoes what the DDL writes, not what the expressions that
 * PostgreSQL evaluates while it runs do (partition bounds, the default of
 * ALTER TABLE ... ADD COLUMN, USING of a type change, a CHECK validated over
 * rows): a file written, a backend signalled, an advisory lock taken, a
 * sequence advanced.  So while the desired DDL runs (sandbox_run()), an
 * object access hook refuses every call of a volatile function
 * (sandbox_object_access()), at any depth, whatever calls it; immutable and
 * stable functions, which may not change anything, run.
 *
 * IDENTIFICATION
 *	  src/sandbox.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/xact.h"
#include "catalog/objectaccess.h"
#include "catalog/pg_proc.h"
#include "catalog/pg_type.h"
#include "executor/spi.h"
#include "mb/pg_wchar.h"
#include "nodes/parsenodes.h"
#include "tcop/cmdtag.h"
#include "tcop/utility.h"
#include "utils/fmgroids.h"
#include "utils/lsyscache.h"
#include "utils/regproc.h"

#include "migrate.h"

/*
 * What the desired DDL did to the live schema ($1), found by the catalog
 * rows this subtransaction ($2) wrote: objects of its own that depend on
 * objects of the live schema (extensions' objects are shared, and may be
 * used), else objects of the live schema it changed.
 *
 * Like diff.c's queries, it runs under an empty search_path, so
 * unqualified operators can only be pg_catalog's.
 */
static const char *const q_live_touched =
"SELECT kind, what FROM ("
"SELECT 'changes' AS kind, x.what FROM ("
" SELECT pg_catalog.format('table %I', c.relname) AS what FROM pg_catalog.pg_class c"
"  WHERE c.relnamespace = $1 AND c.xmin = $2"
" UNION ALL SELECT pg_catalog.format('column %I.%I', c.relname, a.attname)"
"  FROM pg_catalog.pg_attribute a JOIN pg_catalog.pg_class c ON c.oid = a.attrelid"
"  WHERE c.relnamespace = $1 AND a.xmin = $2"
" UNION ALL SELECT pg_catalog.format('type %I', t.typname) FROM pg_catalog.pg_type t"
"  WHERE t.typnamespace = $1 AND t.xmin = $2"
" UNION ALL SELECT pg_catalog.format('constraint %I', k.conname) FROM pg_catalog.pg_constraint k"
"  WHERE k.connamespace = $1 AND k.xmin = $2) x"
" UNION ALL "
"SELECT 'uses', pg_catalog.pg_describe_object(d.refclassid, d.refobjid, 0)"
" FROM pg_catalog.pg_depend d"
" WHERE d.xmin = $2 AND d.deptype = 'n'"
" AND ((d.refclassid = 'pg_catalog.pg_class'::pg_catalog.regclass"
"       AND EXISTS (SELECT 1 FROM pg_catalog.pg_class r"
"                   WHERE r.oid = d.refobjid AND r.relnamespace = $1))"
"   OR (d.refclassid = 'pg_catalog.pg_type'::pg_catalog.regclass"
"       AND EXISTS (SELECT 1 FROM pg_catalog.pg_type t"
"                   WHERE t.oid = d.refobjid AND t.typnamespace = $1)))"
" AND NOT EXISTS (SELECT 1 FROM pg_catalog.pg_depend e"
"                 WHERE e.classid = d.refclassid AND e.objid = d.refobjid"
"                 AND e.deptype = 'e')"
") found ORDER BY kind DESC, what LIKE 'index %', what LIMIT 1";

/* ---------------------------------------------------------------------
 * What the desired DDL may hold
 * ---------------------------------------------------------------------
 */

/* The schema a statement names explicitly, or NULL. */
static const char *
named_schema(Node *node)
{
	switch (nodeTag(node))
	{
		case T_CreateStmt:
			return ((CreateStmt *) node)->relation->schemaname;
		case T_IndexStmt:
			return ((IndexStmt *) node)->relation->schemaname;
		case T_AlterTableStmt:
			return ((AlterTableStmt *) node)->relation->schemaname;
		case T_CreateSeqStmt:
			return ((CreateSeqStmt *) node)->sequence->schemaname;
		case T_AlterSeqStmt:
			return ((AlterSeqStmt *) node)->sequence->schemaname;
		case T_ViewStmt:
			return ((ViewStmt *) node)->view->schemaname;
		case T_CreateEnumStmt:
			{
				List	   *name = ((CreateEnumStmt *) node)->typeName;

				return list_length(name) > 1 ? strVal(linitial(name)) : NULL;
			}
		case T_AlterEnumStmt:
			{
				List	   *name = ((AlterEnumStmt *) node)->typeName;

				return list_length(name) > 1 ? strVal(linitial(name)) : NULL;
			}
		default:
			return NULL;
	}
}

/* Statements that define what diff() compares; everything else is refused. */
static bool
defines_schema(Node *node)
{
	switch (nodeTag(node))
	{
		case T_CreateStmt:
			return ((CreateStmt *) node)->relation->relpersistence != RELPERSISTENCE_TEMP;
		case T_IndexStmt:
			return !((IndexStmt *) node)->concurrent;
		case T_ViewStmt:
			return ((ViewStmt *) node)->view->relpersistence != RELPERSISTENCE_TEMP;
		case T_AlterTableStmt:
		case T_CreateSeqStmt:
		case T_AlterSeqStmt:
		case T_CreateEnumStmt:
		case T_AlterEnumStmt:
		case T_CommentStmt:
			return true;
		default:
			return false;
	}
}

/* An error cursor at a statement (counted in characters: only on errors). */
static int
statement_cursor(const char *desired, const ScriptStatement *stmt)
{
	return pg_mbstrlen_with_len(desired, stmt->location) + 1;
}

/* Refuse a statement that is not a definition, or that names a schema. */
void
sandbox_check_statements(List *stmts, const char *desired,
						 const char *schema)
{
	ListCell   *lc;

	foreach(lc, stmts)
	{
		ScriptStatement *stmt = lfirst(lc);
		Node	   *node = stmt->raw->stmt;
		const char *named;

		if (!defines_schema(node))
			ereport(ERROR,
					errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
					errmsg("%s is not allowed in the desired schema",
						   GetCommandTagName(CreateCommandTag(node))),
					errdetail("Statement %d (line %d) of the desired schema is not a definition migrate.diff() compares: it takes CREATE TABLE, CREATE INDEX (without CONCURRENTLY), CREATE SEQUENCE, CREATE TYPE ... AS ENUM, CREATE VIEW, ALTER TABLE, ALTER SEQUENCE, ALTER TYPE and COMMENT ON.",
							  stmt->number, stmt->line),
					errhint("Remove it from the desired schema."),
					internalerrquery(desired),
					internalerrposition(statement_cursor(desired, stmt)));
		if ((named = named_schema(node)) != NULL)
			ereport(ERROR,
					errcode(ERRCODE_INVALID_SCHEMA_DEFINITION),
					errmsg("the desired schema names schema \"%s\"", named),
					errdetail("Statement %d (line %d) of the desired schema qualifies a name with a schema.",
							  stmt->number, stmt->line),
					errhint("Write names without a schema: migrate.diff() creates the desired objects in a scratch schema and compares them with schema \"%s\".",
							schema),
					internalerrquery(desired),
					internalerrposition(statement_cursor(desired, stmt)));
	}
}

typedef struct DesiredErrorContext
{
	const ScriptStatement *stmt;
} DesiredErrorContext;

static void
desired_error_callback(void *arg)
{
	DesiredErrorContext *ctx = arg;

	if (ctx->stmt != NULL)
		errcontext("statement %d of the desired schema, line %d",
				   ctx->stmt->number, ctx->stmt->line);
}

/* ---------------------------------------------------------------------
 * No volatile call while the desired DDL runs
 * ---------------------------------------------------------------------
 */

static object_access_hook_type next_object_access_hook = NULL;
static bool desired_running = false;

/*
 * Volatile only because their result changes from call to call: they
 * change nothing, and a default of ALTER TABLE ... ADD COLUMN may use them.
 */
static bool
changes_nothing(Oid func)
{
	switch (func)
	{
		case F_RANDOM:
		case F_GEN_RANDOM_UUID:
		case F_CLOCK_TIMESTAMP:
		case F_TIMEOFDAY:
			return true;
		default:
			return false;
	}
}

/*
 * The executor announces every function it is about to call
 * (OAT_FUNCTION_EXECUTE, next to its EXECUTE privilege check), built-in or
 * not, at every depth: the one place that sees all the expressions DDL
 * evaluates.
 */
static void
sandbox_object_access(ObjectAccessType access, Oid classId, Oid objectId,
					  int subId, void *arg)
{
	if (next_object_access_hook)
		next_object_access_hook(access, classId, objectId, subId, arg);
	if (!desired_running || access != OAT_FUNCTION_EXECUTE ||
		func_volatile(objectId) != PROVOLATILE_VOLATILE || changes_nothing(objectId))
		return;
	ereport(ERROR,
			errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
			errmsg("the desired schema may not call volatile function %s",
				   format_procedure(objectId)),
			errdetail("PostgreSQL evaluates this expression while it runs the desired schema, and what a volatile function does (a file written, a backend signalled, a lock taken, a sequence advanced) outlives the scratch work migrate.diff() rolls back."),
			errhint("Where DDL evaluates an expression (a partition bound, the default of ALTER TABLE ... ADD COLUMN, USING, a CHECK over rows), use only immutable or stable functions.  A default written in CREATE TABLE is stored, not evaluated."));
}

/* From _PG_init(). */
void
sandbox_install(void)
{
	next_object_access_hook = object_access_hook;
	object_access_hook = sandbox_object_access;
}

/* Run the desired DDL, one statement at a time, with the hook on. */
void
sandbox_run(List *stmts)
{
	DesiredErrorContext ctx = {NULL};
	ErrorContextCallback callback;
	ListCell   *lc;

	callback.callback = desired_error_callback;
	callback.arg = &ctx;
	callback.previous = error_context_stack;
	error_context_stack = &callback;
	desired_running = true;
	PG_TRY();
	{
		foreach(lc, stmts)
		{
			int			rc;

			ctx.stmt = lfirst(lc);
			rc = SPI_execute(ctx.stmt->text, false, 0);
			if (rc < 0)
				elog(ERROR, "SPI_execute failed: %s", SPI_result_code_string(rc));
		}
	}
	PG_FINALLY();
	{
		desired_running = false;
	}
	PG_END_TRY();
	error_context_stack = callback.previous;
}

/* ---------------------------------------------------------------------
 * What it did to the live schema
 * ---------------------------------------------------------------------
 */

/* Refuse desired DDL that changed the live schema or depends on it. */
void
sandbox_check_live_untouched(Oid live, const char *schema)
{
	Oid			argtypes[2] = {OIDOID, XIDOID};
	Datum		values[2];
	int			rc;

	values[0] = ObjectIdGetDatum(live);
	values[1] = TransactionIdGetDatum(GetCurrentTransactionIdIfAny());
	rc = SPI_execute_with_args(q_live_touched, 2, argtypes, values, NULL, false, 1);
	if (rc != SPI_OK_SELECT)
		elog(ERROR, "SPI_execute_with_args failed: %s", SPI_result_code_string(rc));
	if (SPI_processed == 0)
		return;
	if (strcmp(SPI_getvalue(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1), "changes") == 0)
		ereport(ERROR,
				errcode(ERRCODE_INVALID_SCHEMA_DEFINITION),
				errmsg("the desired schema changes %s of schema \"%s\"",
					   SPI_getvalue(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 2), schema),
				errdetail("A statement of the desired schema named an object that exists in schema \"%s\" but not in the desired schema.",
						  schema),
				errhint("Create every object in the desired schema before a statement alters it or refers to it."));
	ereport(ERROR,
			errcode(ERRCODE_INVALID_SCHEMA_DEFINITION),
			errmsg("the desired schema refers to %s",
				   SPI_getvalue(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 2)),
			errdetail("The desired schema is compared with schema \"%s\", so it cannot use that schema's objects: it must define every table, view, sequence and type it uses.",
					  schema),
			errhint("Add its definition to the desired schema."));
}
