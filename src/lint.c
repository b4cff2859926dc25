/*-------------------------------------------------------------------------
 *
 * lint.c
 *		Rules about locks, rewrites and breaking changes, checked on the
 *		server's own parse tree of every statement of a script.
 *
 * Each rule looks at one raw statement (what the parser made of it, before
 * any object is looked up) and at what the server knows now: whether the
 * table it names exists, and how big it is.  A table the script itself
 * creates is new: nothing can be waiting on it, so most rules pass over it.
 * A rule's severity is "error" when the table is at least
 * migrate.lint_large_table big (the lock would be held for as long as a
 * scan or a rewrite of it takes), "warning" otherwise.
 *
 * A statement preceded by the comment line
 *		-- migrate:lint-ignore rule[, rule ...]
 * is not reported for those rules; the finding is kept, marked ignored, so
 * that migrate.revision() can record what was waived.
 *
 * Nothing here takes a lock that could wait: sizes come from the relation
 * when a lock on it is free at once, and from pg_class's estimate otherwise.
 *
 * IDENTIFICATION
 *	  src/lint.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/relation.h"
#include "catalog/index.h"
#include "catalog/namespace.h"
#include "catalog/pg_class.h"
#include "catalog/pg_proc.h"
#include "catalog/pg_type.h"
#include "commands/defrem.h"
#include "commands/tablecmds.h"
#include "funcapi.h"
#include "nodes/makefuncs.h"
#include "nodes/nodeFuncs.h"
#include "nodes/parsenodes.h"
#include "parser/parse_coerce.h"
#include "parser/parse_type.h"
#include "storage/bufmgr.h"
#include "storage/lmgr.h"
#include "utils/builtins.h"
#include "utils/lsyscache.h"
#include "utils/rel.h"
#include "utils/syscache.h"
#include "utils/tuplestore.h"

#include "migrate.h"

/* What the server knows of a table a statement names. */
typedef struct TableFacts
{
	Oid			relid;			/* InvalidOid: does not exist (yet) */
	bool		created_here;	/* created earlier in the same script */
	int64		bytes;
	double		rows;			/* estimate; < 0 when never counted */
	const char *name;			/* as the statement wrote it */
} TableFacts;

typedef struct LintContext
{
	List	   *created;		/* names of the tables the script creates */
	List	   *findings;
	const ScriptStatement *stmt;
	List	   *ignored;		/* rules the current statement waives */
	int			reported;		/* findings for the current statement */
} LintContext;

static const char *
pretty_size(int64 bytes)
{
	static const char *const units[] = {"bytes", "kB", "MB", "GB", "TB"};
	double		size = bytes;
	int			unit = 0;

	while (size >= 1024 && unit < lengthof(units) - 1)
	{
		size /= 1024;
		unit++;
	}
	return unit == 0 ? psprintf("%lld bytes", (long long) bytes)
		: psprintf("%.1f %s", size, units[unit]);
}

static char *
range_name(const RangeVar *rv)
{
	return rv->schemaname ? psprintf("%s.%s", rv->schemaname, rv->relname)
		: pstrdup(rv->relname);
}

static TableFacts
table_facts(LintContext *ctx, const RangeVar *rv)
{
	TableFacts	facts = {InvalidOid, false, 0, -1, NULL};
	ListCell   *lc;

	facts.name = range_name(rv);
	foreach(lc, ctx->created)
		if (strcmp(lfirst(lc), facts.name) == 0)
			facts.created_here = true;
	if (facts.created_here)
		return facts;
	facts.relid = RangeVarGetRelid(rv, NoLock, true);
	if (!OidIsValid(facts.relid) || get_rel_relkind(facts.relid) == RELKIND_VIEW)
	{
		facts.relid = InvalidOid;
		return facts;
	}
	if (ConditionalLockRelationOid(facts.relid, AccessShareLock))
	{
		Relation	rel = try_relation_open(facts.relid, NoLock);

		if (rel != NULL)
		{
			facts.bytes = (int64) RelationGetNumberOfBlocks(rel) * BLCKSZ;
			facts.rows = rel->rd_rel->reltuples;
			relation_close(rel, NoLock);
		}
		UnlockRelationOid(facts.relid, AccessShareLock);
	}
	else
	{
		HeapTuple	tuple = SearchSysCache1(RELOID, ObjectIdGetDatum(facts.relid));

		if (HeapTupleIsValid(tuple))
		{
			Form_pg_class form = (Form_pg_class) GETSTRUCT(tuple);

			facts.bytes = (int64) form->relpages * BLCKSZ;
			facts.rows = form->reltuples;
			ReleaseSysCache(tuple);
		}
	}
	return facts;
}

static bool
exists(const TableFacts *facts)
{
	return OidIsValid(facts->relid);
}

static bool
large(const TableFacts *facts)
{
	return facts->bytes >= (int64) migrate_lint_large_table * 1024;
}

/* "table "orders" (1.2 GB, about 10000000 rows)" */
static const char *
describe(const TableFacts *facts)
{
	if (facts->rows >= 0)
		return psprintf("table \"%s\" (%s, about %.0f rows)", facts->name,
						pretty_size(facts->bytes), facts->rows);
	return psprintf("table \"%s\" (%s)", facts->name, pretty_size(facts->bytes));
}

static const char *
by_size(const TableFacts *facts)
{
	return large(facts) ? "error" : "warning";
}

static void
report(LintContext *ctx, const char *rule, const char *severity,
	   const char *message, const char *hint)
{
	LintFinding *finding = palloc0(sizeof(LintFinding));
	ListCell   *lc;

	finding->statement = ctx->stmt->number;
	finding->line = ctx->stmt->line;
	finding->rule = rule;
	finding->severity = severity;
	finding->message = pstrdup(message);
	finding->hint = hint ? pstrdup(hint) : NULL;
	foreach(lc, ctx->ignored)
		if (strcmp(lfirst(lc), rule) == 0 || strcmp(lfirst(lc), "all") == 0)
			finding->ignored = true;
	ctx->findings = lappend(ctx->findings, finding);
	ctx->reported++;
}

/* ---------------------------------------------------------------------
 * Helpers for the rules
 * ---------------------------------------------------------------------
 */

/* Does a raw expression call a volatile function? */
static bool
calls_volatile(Node *node, void *context)
{
	if (node == NULL)
		return false;
	if (IsA(node, FuncCall))
	{
		FuncCall   *call = (FuncCall *) node;
		FuncCandidateList candidates;

		candidates = FuncnameGetCandidates(call->funcname, -1, NIL, false, false,
#if PG_VERSION_NUM >= 140000
										   false,
#endif
										   true);
		for (; candidates != NULL; candidates = candidates->next)
			if (func_volatile(candidates->oid) == PROVOLATILE_VOLATILE)
				return true;
	}
	return raw_expression_tree_walker(node, calls_volatile, context);
}

static Constraint *
column_constraint(const ColumnDef *def, ConstrType type)
{
	ListCell   *lc;

	foreach(lc, def->constraints)
	{
		Constraint *con = lfirst_node(Constraint, lc);

		if (con->contype == type)
			return con;
	}
	return NULL;
}

/*
 * Is a column's type a serial pseudo-type, which stands for a nextval()
 * default?  The test transformColumnDefinition() makes: one unqualified
 * name, not %TYPE.
 */
static bool
is_serial(const TypeName *type)
{
	static const char *const serials[] = {
		"smallserial", "serial2", "serial", "serial4", "bigserial", "serial8"
	};
	const char *name;

	if (type == NULL || list_length(type->names) != 1 || type->pct_type)
		return false;
	name = strVal(linitial(type->names));
	for (int i = 0; i < lengthof(serials); i++)
		if (strcmp(name, serials[i]) == 0)
			return true;
	return false;
}

/*
 * Would ALTER COLUMN ... TYPE rewrite the table?  Not when the new type is
 * binary coercible from the old one with no narrower length, and no USING
 * expression is given; yes when that cannot be told.
 */
static bool
type_change_rewrites(const TableFacts *facts, const char *column,
					 const AlterTableCmd *cmd)
{
	ColumnDef  *def = (ColumnDef *) cmd->def;
	HeapTuple	tuple;
	Oid			old_type;
	int32		old_typmod;
	Type		new_type;
	Oid			new_typid;
	int32		new_typmod;
	bool		rewrites = true;

	if (def->raw_default != NULL)
		return true;
	tuple = SearchSysCacheAttName(facts->relid, column);
	if (!HeapTupleIsValid(tuple))
		return true;
	old_type = ((Form_pg_attribute) GETSTRUCT(tuple))->atttypid;
	old_typmod = ((Form_pg_attribute) GETSTRUCT(tuple))->atttypmod;
	ReleaseSysCache(tuple);

	new_type = LookupTypeName(NULL, def->typeName, &new_typmod, true);
	if (new_type == NULL)
		return true;
	new_typid = ((Form_pg_type) GETSTRUCT(new_type))->oid;
	ReleaseSysCache(new_type);

	if (new_typid == old_type)
	{
		if (new_typid == NUMERICOID && old_typmod >= 0 && new_typmod >= 0)
			/* More digits at the same scale is a catalog change only. */
			rewrites = ((old_typmod - VARHDRSZ) & 0xffff) != ((new_typmod - VARHDRSZ) & 0xffff) ||
				new_typmod < old_typmod;
		else
			rewrites = !(new_typmod < 0 || (old_typmod >= 0 && new_typmod >= old_typmod));
	}
	else if (IsBinaryCoercible(old_type, new_typid))
		rewrites = !(new_typmod < 0 ||
					 (old_typmod >= 0 && new_typmod >= old_typmod));
	return rewrites;
}

/* ---------------------------------------------------------------------
 * The rules, by statement
 * ---------------------------------------------------------------------
 */

static void
lint_alter_table(LintContext *ctx, AlterTableStmt *stmt)
{
	TableFacts	facts;
	ListCell   *lc;

#if PG_VERSION_NUM >= 140000
	if (stmt->objtype != OBJECT_TABLE)
		return;
#else
	if (stmt->relkind != OBJECT_TABLE)
		return;
#endif
	facts = table_facts(ctx, stmt->relation);
	if (!exists(&facts))
		return;

	foreach(lc, stmt->cmds)
	{
		AlterTableCmd *cmd = lfirst_node(AlterTableCmd, lc);

		switch (cmd->subtype)
		{
			case AT_AddColumn:
				{
					ColumnDef  *def = (ColumnDef *) cmd->def;
					Constraint *dflt = column_constraint(def, CONSTR_DEFAULT);
					Constraint *generated = column_constraint(def, CONSTR_GENERATED);
					Constraint *identity = column_constraint(def, CONSTR_IDENTITY);
					bool		serial = is_serial(def->typeName);
					const char *rewrite = NULL;

					if ((def->is_not_null || column_constraint(def, CONSTR_NOTNULL)) &&
						dflt == NULL && generated == NULL && identity == NULL && !serial)
						report(ctx, "add-column-not-null-without-default",
							   facts.rows > 0 || facts.bytes > 0 ? "error" : "warning",
							   psprintf("column \"%s\" is added to existing %s as NOT NULL without a default: it fails as soon as the table has a row",
										def->colname, describe(&facts)),
							   "Add the column with a DEFAULT (a constant default costs nothing since PostgreSQL 11), or add it nullable, backfill it, then set NOT NULL.");

					/*
					 * A value computed for every existing row rewrites the
					 * table: a stored generated expression, a volatile
					 * default, and so also a serial's nextval() default and
					 * an identity column's sequence.
					 */
					if (generated != NULL)
						rewrite = "with a stored generated expression";
					else if (identity != NULL)
						rewrite = "as an identity column, which numbers every row from its sequence";
					else if (serial)
						rewrite = psprintf("as %s, whose nextval() default is volatile",
										   strVal(linitial(def->typeName->names)));
					else if (dflt != NULL && calls_volatile(dflt->raw_expr, NULL))
						rewrite = "with a volatile default";
					if (rewrite != NULL)
						report(ctx, "add-column-volatile-default", by_size(&facts),
							   psprintf("column \"%s\" is added to %s %s: the whole table is rewritten under ACCESS EXCLUSIVE",
										def->colname, describe(&facts), rewrite),
							   "Add the column without a default, then SET DEFAULT for new rows (nextval() of a sequence, for a serial or identity column) and backfill existing rows in batches.");
					break;
				}
			case AT_SetNotNull:
				report(ctx, "set-not-null", by_size(&facts),
					   psprintf("SET NOT NULL on column \"%s\" of %s scans the whole table under ACCESS EXCLUSIVE",
								cmd->name, describe(&facts)),
					   "Add CHECK (column IS NOT NULL) NOT VALID, VALIDATE CONSTRAINT in a later transaction, then SET NOT NULL (which uses the check and skips the scan) and drop the check.");
				break;
			case AT_AddConstraint:
				{
					Constraint *con = (Constraint *) cmd->def;

					if ((con->contype == CONSTR_FOREIGN || con->contype == CONSTR_CHECK) &&
						!con->skip_validation)
						report(ctx, "add-constraint-without-not-valid", by_size(&facts),
							   psprintf("%s constraint added to %s without NOT VALID: every row is checked while writes wait",
										con->contype == CONSTR_FOREIGN ? "a foreign key" : "a check",
										describe(&facts)),
							   "Add it NOT VALID, then ALTER TABLE ... VALIDATE CONSTRAINT in a later transaction, which lets writes through.");
					if ((con->contype == CONSTR_UNIQUE || con->contype == CONSTR_PRIMARY) &&
						con->indexname == NULL)
						report(ctx, "add-unique-without-index", by_size(&facts),
							   psprintf("%s added to %s builds its index while writes wait",
										con->contype == CONSTR_PRIMARY ? "a primary key" : "a unique constraint",
										describe(&facts)),
							   "CREATE UNIQUE INDEX CONCURRENTLY first (in a non-transactional revision), then ADD CONSTRAINT ... USING INDEX.");
					break;
				}
			case AT_AlterColumnType:
				if (type_change_rewrites(&facts, cmd->name, cmd))
					report(ctx, "alter-column-type-rewrite", by_size(&facts),
						   psprintf("changing the type of column \"%s\" rewrites %s under ACCESS EXCLUSIVE",
									cmd->name, describe(&facts)),
						   "Add a new column of the new type, backfill it in batches, then switch the application over and drop the old one.");
				break;
			case AT_DropColumn:
				report(ctx, "drop-column", "warning",
					   psprintf("column \"%s\" of %s is dropped with its data; the application version still running may still read it",
								cmd->name, describe(&facts)),
					   "Deploy code that no longer uses the column first, then drop it in a later revision.");
				break;
			default:
				break;
		}
	}

	/* Whatever else it does, ACCESS EXCLUSIVE on a big table. */
	if (ctx->reported == 0 && large(&facts) &&
		AlterTableGetLockLevel(stmt->cmds) == AccessExclusiveLock)
		report(ctx, "access-exclusive-on-large-table", "warning",
			   psprintf("ALTER TABLE takes ACCESS EXCLUSIVE on %s: every query on it waits for the statement and for the transactions ahead of it",
						describe(&facts)),
			   "Set migrate.ddl_lock_timeout, so that the statement gives way instead of queueing every query behind it.");
}

static void
lint_statement(LintContext *ctx, Node *node)
{
	switch (nodeTag(node))
	{
		case T_CreateStmt:
			ctx->created = lappend(ctx->created,
								   range_name(((CreateStmt *) node)->relation));
			break;

		case T_CreateTableAsStmt:
			ctx->created = lappend(ctx->created,
								   range_name(((CreateTableAsStmt *) node)->into->rel));
			break;

		case T_IndexStmt:
			{
				IndexStmt  *stmt = (IndexStmt *) node;
				TableFacts	facts = table_facts(ctx, stmt->relation);

				if (!stmt->concurrent && exists(&facts))
					report(ctx, "create-index-not-concurrently", by_size(&facts),
						   psprintf("CREATE INDEX on existing %s blocks writes to it until the index is built",
									describe(&facts)),
						   "Use CREATE INDEX CONCURRENTLY, in a revision marked non-transactional (-- migrate:transactional false), applied by pg_migrate.");
				break;
			}

		case T_DropStmt:
			{
				DropStmt   *stmt = (DropStmt *) node;
				ListCell   *lc;

				foreach(lc, stmt->objects)
				{
					RangeVar   *rv;
					TableFacts	facts;

					if (stmt->removeType != OBJECT_TABLE && stmt->removeType != OBJECT_INDEX)
						break;
					rv = makeRangeVarFromNameList(lfirst(lc));
					if (stmt->removeType == OBJECT_TABLE)
					{
						facts = table_facts(ctx, rv);
						if (exists(&facts))
							report(ctx, "drop-table", "warning",
								   psprintf("%s is dropped with its data; the application version still running may still use it",
											describe(&facts)),
								   "Deploy code that no longer uses the table first, then drop it in a later revision.");
					}
					else if (!stmt->concurrent)
					{
						Oid			index = RangeVarGetRelid(rv, NoLock, true);
						Oid			table = OidIsValid(index) ? IndexGetRelation(index, true) : InvalidOid;

						if (!OidIsValid(table))
							continue;
						rv = makeRangeVar(get_namespace_name(get_rel_namespace(table)),
										  get_rel_name(table), -1);
						facts = table_facts(ctx, rv);
						if (exists(&facts))
							report(ctx, "drop-index-not-concurrently", by_size(&facts),
								   psprintf("DROP INDEX \"%s\" takes ACCESS EXCLUSIVE on %s",
											NameListToString(lfirst(lc)), describe(&facts)),
								   "Use DROP INDEX CONCURRENTLY, in a revision marked non-transactional (-- migrate:transactional false), applied by pg_migrate.");
					}
				}
				break;
			}

		case T_AlterTableStmt:
			lint_alter_table(ctx, (AlterTableStmt *) node);
			break;

		case T_RenameStmt:
			{
				RenameStmt *stmt = (RenameStmt *) node;
				TableFacts	facts;

				if ((stmt->renameType != OBJECT_TABLE && stmt->renameType != OBJECT_COLUMN) ||
					stmt->relation == NULL)
					break;
				facts = table_facts(ctx, stmt->relation);
				if (!exists(&facts))
					break;
				if (stmt->renameType == OBJECT_TABLE)
					report(ctx, "rename-table", "warning",
						   psprintf("%s is renamed to \"%s\": the application version still running uses the old name",
									describe(&facts), stmt->newname),
						   "Create a view with the old name for the time both versions run, or add the new table and migrate in steps.");
				else
					report(ctx, "rename-column", "warning",
						   psprintf("column \"%s\" of %s is renamed to \"%s\": the application version still running uses the old name",
									stmt->subname, describe(&facts), stmt->newname),
						   "Add the new column, write both, backfill, switch the readers, then drop the old one.");
				break;
			}

		case T_VacuumStmt:
			{
				VacuumStmt *stmt = (VacuumStmt *) node;
				ListCell   *lc;
				bool		full = false;

				foreach(lc, stmt->options)
					if (strcmp(lfirst_node(DefElem, lc)->defname, "full") == 0)
						full = defGetBoolean(lfirst_node(DefElem, lc));
				if (!stmt->is_vacuumcmd || !full)
					break;
				if (stmt->rels == NIL)
				{
					report(ctx, "vacuum-full", "error",
						   "VACUUM FULL of the whole database rewrites every table under ACCESS EXCLUSIVE",
						   "Use pg_repack, or plain VACUUM.");
					break;
				}
				foreach(lc, stmt->rels)
				{
					TableFacts	facts = table_facts(ctx, lfirst_node(VacuumRelation, lc)->relation);

					if (exists(&facts))
						report(ctx, "vacuum-full", by_size(&facts),
							   psprintf("VACUUM FULL rewrites %s under ACCESS EXCLUSIVE", describe(&facts)),
							   "Use pg_repack, or plain VACUUM.");
				}
				break;
			}

		case T_ClusterStmt:
			{
				ClusterStmt *stmt = (ClusterStmt *) node;
				TableFacts	facts;

				if (stmt->relation == NULL)
					break;
				facts = table_facts(ctx, stmt->relation);
				if (exists(&facts))
					report(ctx, "cluster", by_size(&facts),
						   psprintf("CLUSTER rewrites %s under ACCESS EXCLUSIVE", describe(&facts)),
						   "Use pg_repack, which reorders a table without blocking it.");
				break;
			}

		case T_ReindexStmt:
			{
				ReindexStmt *stmt = (ReindexStmt *) node;
				TableFacts	facts;

				if (reindex_is_concurrent(stmt) || stmt->relation == NULL)
					break;
				if (stmt->kind == REINDEX_OBJECT_INDEX)
				{
					Oid			index = RangeVarGetRelid(stmt->relation, NoLock, true);
					Oid			table = OidIsValid(index) ? IndexGetRelation(index, true) : InvalidOid;

					if (!OidIsValid(table))
						break;
					facts = table_facts(ctx, makeRangeVar(get_namespace_name(get_rel_namespace(table)),
														  get_rel_name(table), -1));
				}
				else
					facts = table_facts(ctx, stmt->relation);
				if (exists(&facts))
					report(ctx, "reindex-not-concurrently", by_size(&facts),
						   psprintf("REINDEX blocks writes to %s while it runs", describe(&facts)),
						   "Use REINDEX CONCURRENTLY, in a revision marked non-transactional (-- migrate:transactional false), applied by pg_migrate.");
				break;
			}

		case T_LockStmt:
			{
				LockStmt   *stmt = (LockStmt *) node;
				ListCell   *lc;

				foreach(lc, stmt->relations)
				{
					TableFacts	facts = table_facts(ctx, lfirst_node(RangeVar, lc));

					if (exists(&facts))
						report(ctx, "lock-table", "warning",
							   psprintf("LOCK TABLE holds %s until the migration commits", describe(&facts)),
							   "Let each statement take the lock it needs, with migrate.ddl_lock_timeout set.");
				}
				break;
			}

		case T_TruncateStmt:
			{
				TruncateStmt *stmt = (TruncateStmt *) node;
				ListCell   *lc;

				foreach(lc, stmt->relations)
				{
					TableFacts	facts = table_facts(ctx, lfirst_node(RangeVar, lc));

					if (exists(&facts) && large(&facts))
						report(ctx, "access-exclusive-on-large-table", "warning",
							   psprintf("TRUNCATE takes ACCESS EXCLUSIVE on %s", describe(&facts)),
							   "Set migrate.ddl_lock_timeout, so that the statement gives way instead of queueing every query behind it.");
				}
				break;
			}

		default:
			break;
	}
}

/*
 * The rules a statement waives: the "-- migrate:lint-ignore" lines right
 * above it.
 */
static List *
waived_rules(const char *script, int location)
{
	List	   *rules = NIL;
	const char *end = script + location;

	/*
	 * Only a statement that starts its line has a line above it: walk back
	 * over its indentation alone, so that a script of a million statements
	 * on one line stays linear.
	 */
	while (end > script && (end[-1] == ' ' || end[-1] == '\t'))
		end--;
	if (end > script && end[-1] != '\n')
		return NIL;

	/* Walk back over the comment lines just above the statement. */
	while (end > script)
	{
		const char *line_end = end;
		const char *start;
		const char *p;

		/* End of the previous line. */
		while (line_end > script && line_end[-1] != '\n')
			line_end--;
		if (line_end == script)
			break;
		line_end--;
		start = line_end;
		while (start > script && start[-1] != '\n')
			start--;
		p = start;
		while (p < line_end && (*p == ' ' || *p == '\t'))
			p++;
		if (line_end - p < 2 || strncmp(p, "--", 2) != 0)
			break;
		p += 2;
		while (p < line_end && (*p == ' ' || *p == '\t'))
			p++;
		if (line_end - p > 19 && strncmp(p, "migrate:lint-ignore", 19) == 0)
		{
			char	   *list = pnstrdup(p + 19, line_end - p - 19);
			char	   *token;
			char	   *save;

			for (token = strtok_r(list, " \t,\r", &save); token != NULL;
				 token = strtok_r(NULL, " \t,\r", &save))
				rules = lappend(rules, pstrdup(token));
		}
		end = start;
	}
	return rules;
}

/*
 * Lint the statements of a script (as script_split() cut them): every
 * finding, ignored ones included, in statement order.
 */
List *
lint_statements(List *stmts, const char *script)
{
	LintContext ctx;
	ListCell   *lc;

	memset(&ctx, 0, sizeof(ctx));
	foreach(lc, stmts)
	{
		ctx.stmt = lfirst(lc);
		ctx.ignored = waived_rules(script, ctx.stmt->location);
		ctx.reported = 0;
		lint_statement(&ctx, ctx.stmt->raw->stmt);
	}
	return ctx.findings;
}

/*
 * migrate.lint(script text)
 *	RETURNS TABLE(statement int, line int, rule text, severity text,
 *				  message text, hint text)
 *
 * What the rules find in a script, as registration would report it; the
 * findings its lint-ignore comments waive are left out.
 */
PG_FUNCTION_INFO_V1(migrate_lint);
Datum
migrate_lint(PG_FUNCTION_ARGS)
{
	char	   *script;
	TupleDesc	tupdesc;
	Tuplestorestate *store;
	ListCell   *lc;

	script = arg_text(fcinfo, 0, "script");
	store = srf_begin(fcinfo, &tupdesc);
	foreach(lc, lint_statements(script_split(script, "script"), script))
	{
		LintFinding *finding = lfirst(lc);
		Datum		values[6];
		bool		nulls[6] = {false, false, false, false, false, false};

		if (finding->ignored)
			continue;
		values[0] = Int32GetDatum(finding->statement);
		values[1] = Int32GetDatum(finding->line);
		values[2] = CStringGetTextDatum(finding->rule);
		values[3] = CStringGetTextDatum(finding->severity);
		values[4] = CStringGetTextDatum(finding->message);
		values[5] = finding->hint ? CStringGetTextDatum(finding->hint) : (Datum) 0;
		nulls[5] = finding->hint == NULL;
		tuplestore_putvalues(store, tupdesc, values, nulls);
	}
	return (Datum) 0;
}

/*
 * Lint a revision's upgrade script at registration, as migrate.lint says:
 * NOTICEs, or with "error" an ERROR for the first finding of severity
 * error.  Downgrades are not linted: undoing what the upgrade created is
 * what they are for.  Returns the waived findings, as
 * "rule (upgrade, statement N, line L)".
 */
List *
lint_revision(const char *rev_id, const char *upgrade, List *upgrade_stmts)
{
	List	   *waived = NIL;
	ListCell   *lc;

	if (migrate_lint_mode == MIGRATE_LINT_OFF)
		return NIL;
	foreach(lc, lint_statements(upgrade_stmts, upgrade))
	{
		LintFinding *finding = lfirst(lc);
		bool		fails = migrate_lint_mode == MIGRATE_LINT_ERROR &&
			strcmp(finding->severity, "error") == 0;

		if (finding->ignored)
		{
			waived = lappend(waived, psprintf("%s (upgrade, statement %d, line %d)",
											  finding->rule, finding->statement,
											  finding->line));
			continue;
		}
		ereport(fails ? ERROR : NOTICE,
				errcode(fails ? ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE : ERRCODE_WARNING),
				errmsg("%s: %s", finding->rule, finding->message),
				errdetail("Statement %d (line %d) of the upgrade script of revision \"%s\"; severity %s.%s",
						  finding->statement, finding->line, rev_id, finding->severity,
						  fails ? " migrate.lint is error." : ""),
				finding->hint
				? errhint("%s To accept it, put \"-- migrate:lint-ignore %s\" on the line above the statement.",
						  finding->hint, finding->rule)
				: 0);
	}
	return waived;
}
