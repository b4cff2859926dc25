/*-------------------------------------------------------------------------
 *
 * validate.c
 *		Checks on what users register: ids, branch labels, and scripts.
 *
 * Scripts are parsed with the server's own raw parser (syntax only: the
 * objects they name need not exist yet) and cut into statements here, both
 * at registration and when they run, so that what was checked is what runs.
 * Statements that cannot run inside a transaction block are refused by node
 * tag, on the statement inside each RawStmt.
 *
 * IDENTIFICATION
 *	  src/validate.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "commands/defrem.h"
#include "mb/pg_wchar.h"
#include "nodes/parsenodes.h"
#include "parser/parser.h"
#include "tcop/cmdtag.h"
#include "tcop/tcopprot.h"
#include "tcop/utility.h"

#include "migrate.h"

static const char *
direction_name(MigrateDirection direction)
{
	return direction == MIGRATE_UP ? "upgrade" : "downgrade";
}

/*
 * Ids and branch labels share one syntax: [A-Za-z0-9_]{1,64}, and not one
 * of the target keywords.  "what" is "revision id" or "branch label".
 */
void
validate_id(const char *id, const char *what)
{
	size_t		len = strlen(id);
	bool		valid = len > 0 && len <= MIGRATE_ID_MAXLEN;

	for (size_t i = 0; valid && i < len; i++)
		valid = (id[i] >= 'A' && id[i] <= 'Z') ||
			(id[i] >= 'a' && id[i] <= 'z') ||
			(id[i] >= '0' && id[i] <= '9') ||
			id[i] == '_';

	if (!valid)
		ereport(ERROR,
				errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				errmsg("invalid %s \"%s\"", what, id),
				errdetail("A %s has 1 to %d characters, each a letter, a digit or an underscore.",
						  what, MIGRATE_ID_MAXLEN));

	if (pg_strcasecmp(id, "head") == 0 || pg_strcasecmp(id, "heads") == 0 ||
		pg_strcasecmp(id, "base") == 0)
		ereport(ERROR,
				errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				errmsg("%s \"%s\" is reserved", what, id),
				errdetail("head, heads and base are target keywords."));
}

/*
 * The 1-based line of a 0-based byte offset, counting on from an earlier
 * offset whose line is known, so that numbering every statement of a big
 * script stays linear.
 */
static int
line_after(const char *script, int from, int from_line, int offset)
{
	int			line = from_line;

	for (int i = from; i < offset && script[i]; i++)
		if (script[i] == '\n')
			line++;
	return line;
}

static int
line_at_offset(const char *script, int offset)
{
	return line_after(script, 0, 1, offset);
}

/* The byte offset of a 1-based character position (error cursors count characters). */
static int
offset_of_char(const char *script, int charpos)
{
	int			offset = 0;

	for (int i = 1; i < charpos && script[offset]; i++)
		offset += pg_mblen(script + offset);
	return offset;
}

/*
 * RawStmt locations include the white space and comments before a
 * statement; skip them, so that a statement's line is where its first
 * keyword is.
 */
static int
skip_to_statement(const char *script, int offset)
{
	const char *p = script + offset;

	for (;;)
	{
		while (*p == ' ' || *p == '\t' || *p == '\n' || *p == '\r' ||
			   *p == '\f' || *p == '\v')
			p++;
		if (p[0] == '-' && p[1] == '-')
		{
			while (*p && *p != '\n')
				p++;
		}
		else if (p[0] == '/' && p[1] == '*')
		{
			int			depth = 1;

			p += 2;
			while (*p && depth > 0)
			{
				if (p[0] == '/' && p[1] == '*')
					depth++, p += 2;
				else if (p[0] == '*' && p[1] == '/')
					depth--, p += 2;
				else
					p++;
			}
		}
		else
			break;
	}
	return p - script;
}

typedef struct ParseErrorContext
{
	const char *script;
	const char *what;
} ParseErrorContext;

/* How error contexts name a revision's script. */
char *
script_name(const char *rev_id, MigrateDirection direction)
{
	return psprintf("%s script of revision \"%s\"", direction_name(direction), rev_id);
}

/*
 * A syntax error's cursor points into the script, not into the statement
 * the client sent: show it against the script, and say which line.
 */
static void
parse_error_callback(void *arg)
{
	ParseErrorContext *ctx = (ParseErrorContext *) arg;
	int			pos = geterrposition();

	if (pos > 0)
	{
		internalerrposition(pos);
		internalerrquery(ctx->script);
		errposition(0);
		errcontext("%s, line %d", ctx->what,
				   line_at_offset(ctx->script,
								  offset_of_char(ctx->script, pos)));
	}
	else
		errcontext("%s", ctx->what);
}

/*
 * Parse a script and cut it into statements.  A syntax error is raised
 * as the parser raised it, positioned within the script, with "what" (as
 * script_name() makes it) in its context.
 */
List *
script_split(const char *script, const char *what)
{
	ParseErrorContext ctx;
	ErrorContextCallback callback;
	List	   *raw;
	List	   *result = NIL;
	ListCell   *lc;
	int			number = 0;
	int			last_start = 0;
	int			last_line = 1;

	ctx.script = script;
	ctx.what = what;
	callback.callback = parse_error_callback;
	callback.arg = &ctx;
	callback.previous = error_context_stack;
	error_context_stack = &callback;

	raw = pg_parse_query(script);

	error_context_stack = callback.previous;

	foreach(lc, raw)
	{
		RawStmt    *rawstmt = lfirst_node(RawStmt, lc);
		ScriptStatement *stmt = palloc0(sizeof(ScriptStatement));
		int			start = skip_to_statement(script, rawstmt->stmt_location);
		int			end = rawstmt->stmt_len > 0
			? rawstmt->stmt_location + rawstmt->stmt_len
			: (int) strlen(script);

		stmt->number = ++number;
		stmt->line = line_after(script, last_start, last_line, start);
		last_start = start;
		last_line = stmt->line;
		stmt->text = pnstrdup(script + start, Max(end - start, 0));
		stmt->location = start;
		stmt->raw = rawstmt;
		result = lappend(result, stmt);
	}
	return result;
}

/* REINDEX ... CONCURRENTLY?  PostgreSQL 14 made it an option in a list. */
bool
reindex_is_concurrent(const ReindexStmt *stmt)
{
#if PG_VERSION_NUM >= 140000
	ListCell   *lc;
	bool		concurrent = false;

	foreach(lc, stmt->params)
		if (strcmp(lfirst_node(DefElem, lc)->defname, "concurrently") == 0)
			concurrent = defGetBoolean(lfirst_node(DefElem, lc));
	return concurrent;
#else
	return stmt->concurrent;
#endif
}

/*
 * Why a statement cannot run in a migration, as the statement's name for
 * the message plus a hint; NULL when it can.  A migration runs inside the
 * caller's transaction, through SPI, so anything that refuses to run in a
 * transaction block, or that needs the client's copy stream, is out.  A
 * non-transactional revision ("transactional" false) runs its statements
 * one by one at top level: the CONCURRENTLY forms and VACUUM are its
 * purpose.
 */
static const char *
forbidden_statement(Node *node, const char **hint, bool transactional)
{
	*hint = NULL;

	switch (nodeTag(node))
	{
		case T_TransactionStmt:
			*hint = "A migration runs inside one transaction that migrate manages: remove the transaction control statements.";
			return GetCommandTagName(CreateCommandTag(node));

		case T_VacuumStmt:
			if (!((VacuumStmt *) node)->is_vacuumcmd || !transactional)
				return NULL;	/* ANALYZE runs fine in a transaction */
			*hint = "Put it in a non-transactional revision (transactional => false, or \"-- migrate:transactional false\" in its file), applied by pg_migrate.";
			return "VACUUM";

		case T_IndexStmt:
			if (!((IndexStmt *) node)->concurrent || !transactional)
				return NULL;
			*hint = "Put it in a non-transactional revision (transactional => false, or \"-- migrate:transactional false\" in its file), applied by pg_migrate; or build the index without CONCURRENTLY.";
			return "CREATE INDEX CONCURRENTLY";

		case T_DropStmt:
			if (!((DropStmt *) node)->concurrent || !transactional)
				return NULL;
			*hint = "Put it in a non-transactional revision (transactional => false, or \"-- migrate:transactional false\" in its file), applied by pg_migrate; or drop the index without CONCURRENTLY.";
			return "DROP INDEX CONCURRENTLY";

		case T_ReindexStmt:
			{
				ReindexStmt *stmt = (ReindexStmt *) node;

				if (reindex_is_concurrent(stmt) && transactional)
				{
					*hint = "Put it in a non-transactional revision (transactional => false, or \"-- migrate:transactional false\" in its file), applied by pg_migrate; or reindex without CONCURRENTLY.";
					return "REINDEX CONCURRENTLY";
				}
				if (stmt->kind == REINDEX_OBJECT_DATABASE ||
					stmt->kind == REINDEX_OBJECT_SYSTEM)
				{
					*hint = "Reindex the tables the migration changes, or reindex the database outside the migration.";
					return stmt->kind == REINDEX_OBJECT_DATABASE
						? "REINDEX DATABASE" : "REINDEX SYSTEM";
				}
				return NULL;
			}

		case T_ClusterStmt:
			if (((ClusterStmt *) node)->relation != NULL)
				return NULL;
			*hint = "Name the table to cluster.";
			return "CLUSTER without a table";

		case T_CopyStmt:
			{
				CopyStmt   *stmt = (CopyStmt *) node;

				if (stmt->filename != NULL)
					return NULL;
				*hint = "Use INSERT statements, or COPY from a file on the server.";
				return stmt->is_from ? "COPY FROM STDIN" : "COPY TO STDOUT";
			}

		case T_CreatedbStmt:
			*hint = "Create the database before migrating it.";
			return "CREATE DATABASE";

		case T_DropdbStmt:
			*hint = "Drop the database outside the migration.";
			return "DROP DATABASE";

		case T_CreateTableSpaceStmt:
			*hint = "Create the tablespace before migrating.";
			return "CREATE TABLESPACE";

		case T_DropTableSpaceStmt:
			*hint = "Drop the tablespace outside the migration.";
			return "DROP TABLESPACE";

		case T_AlterSystemStmt:
			*hint = "Change server settings outside the migration, or use ALTER DATABASE ... SET.";
			return "ALTER SYSTEM";

		case T_DiscardStmt:
			if (((DiscardStmt *) node)->target != DISCARD_ALL)
				return NULL;
			*hint = "Discard only what you need, as in DISCARD TEMP.";
			return "DISCARD ALL";

		default:
			return NULL;
	}
}

/* "SET ROLE", "RESET SESSION AUTHORIZATION" and the like; else NULL. */
static const char *
changes_role(Node *node)
{
	VariableSetStmt *stmt;
	const char *what;

	if (!IsA(node, VariableSetStmt))
		return NULL;
	stmt = (VariableSetStmt *) node;
	if (stmt->name == NULL)
		return NULL;
	if (strcmp(stmt->name, "role") == 0)
		what = "ROLE";
	else if (strcmp(stmt->name, "session_authorization") == 0)
		what = "SESSION AUTHORIZATION";
	else
		return NULL;
	return psprintf("%s %s", stmt->kind == VAR_RESET ? "RESET" : "SET", what);
}

/*
 * Check that every statement of a script can run inside the migration's
 * transaction, as the role that registered it.
 */
void
script_check_statements(List *stmts, const char *script, const char *rev_id,
						MigrateDirection direction, bool transactional)
{
	ListCell   *lc;

	foreach(lc, stmts)
	{
		ScriptStatement *stmt = lfirst(lc);
		const char *hint;
		const char *why = "cannot run inside a transaction block";
		const char *name = changes_role(stmt->raw->stmt);

		if (name != NULL)
		{
			why = "changes its role: a script runs with the rights of the role that registered its revision";
			hint = "Register the revision as the role it should run as (SET ROLE before registering it), or give what it creates to that role with ALTER ... OWNER TO.";
		}
		else
			name = forbidden_statement(stmt->raw->stmt, &hint, transactional);
		if (name != NULL)
			ereport(ERROR,
					errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
					errmsg("%s is not allowed in a migration script", name),
					errdetail("Statement %d (line %d) of the %s script of revision \"%s\" %s.",
							  stmt->number, stmt->line,
							  direction_name(direction), rev_id, why),
					errhint("%s", hint),
					internalerrquery(script),
					internalerrposition(pg_mbstrlen_with_len(script, stmt->location) + 1));
	}
}

/* Check a script: its syntax, then its statements, which it returns. */
List *
validate_script(const char *script, const char *rev_id,
				MigrateDirection direction, bool transactional)
{
	List	   *stmts = script_split(script, script_name(rev_id, direction));

	script_check_statements(stmts, script, rev_id, direction, transactional);
	return stmts;
}
