/*-------------------------------------------------------------------------
 *
 * revfile.c
 *		The revision-file format: one file per revision, as pg_migrate
 *		keeps them in version control, read here and nowhere else.
 *
 *	  -- migrate:revision 3f2a9c1b7d4e
 *	  -- migrate:parents 1a2b3c4d5e6f         (several: a merge; none: a base)
 *	  -- migrate:message add email to users
 *	  -- migrate:depends_on 9c8b7a6d5e4f      (optional)
 *	  -- migrate:branch_labels auth           (optional)
 *	  -- migrate:transactional false          (optional; default true)
 *	  -- migrate:scope tenant                 (optional; default database)
 *
 *	  -- migrate:upgrade
 *	  ALTER TABLE users ADD COLUMN email text;
 *
 *	  -- migrate:downgrade                    (optional: without it, irreversible)
 *	  ALTER TABLE users DROP COLUMN email;
 *
 * A directive is a line that starts with "-- migrate:" in column 1.  The
 * headers come first; a script is the lines after its section marker up to
 * the next marker or the end of the file, byte for byte, without the blank
 * lines (empty, or only spaces, tabs and CRs) at its start and end, each
 * line followed by a newline.  Inside a script, "-- migrate:lint-ignore"
 * is script text (lint.c reads it).  The file is named <id>.sql or
 * <id>_<anything>.sql.  Ids and labels are checked by validate_id(), as
 * migrate.revision() checks them.
 *
 * Files arrive as a tar archive (what pg_migrate sends: the bytes exactly
 * as on disk) or as names and contents.  Nothing here touches SPI.
 *
 * IDENTIFICATION
 *	  src/revfile.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "lib/stringinfo.h"
#include "mb/pg_wchar.h"
#include "utils/memutils.h"

#include "migrate.h"

#define DIRECTIVE		"-- migrate:"
#define DIRECTIVE_LEN	11

/* Where an error in a file is: which file, and which line. */
typedef struct FileErrorContext
{
	const RevisionFile *file;
	int			line;			/* 0 once the file is read */
} FileErrorContext;

static void
file_error_callback(void *arg)
{
	FileErrorContext *ctx = (FileErrorContext *) arg;

	if (ctx->line > 0)
		errcontext("revision file \"%s\", line %d", ctx->file->name, ctx->line);
	else
		errcontext("revision file \"%s\"", ctx->file->name);
}

/*
 * While a revision read from a file is registered: its scripts' errors
 * name revision, statement and script line; this says which file, and
 * where in it each script starts.
 */
static void
registration_error_callback(void *arg)
{
	const RevisionFile *file = (const RevisionFile *) arg;

	if (file->downgrade_line > 0)
		errcontext("revision file \"%s\" (upgrade script from line %d, downgrade script from line %d)",
				   file->name, file->upgrade_line, file->downgrade_line);
	else
		errcontext("revision file \"%s\" (upgrade script from line %d)",
				   file->name, file->upgrade_line);
}

void
revfile_push_context(const RevisionFile *file, ErrorContextCallback *callback)
{
	callback->callback = registration_error_callback;
	callback->arg = (void *) file;
	callback->previous = error_context_stack;
	error_context_stack = callback;
}

static bool
blank(const char *s, int len)
{
	for (int i = 0; i < len; i++)
		if (s[i] != ' ' && s[i] != '\t' && s[i] != '\r')
			return false;
	return true;
}

/* The value of a header: the rest of the line, without surrounding blanks. */
static char *
trimmed(const char *s, int len)
{
	while (len > 0 && (*s == ' ' || *s == '\t' || *s == '\r'))
		s++, len--;
	while (len > 0 && (s[len - 1] == ' ' || s[len - 1] == '\t' ||
					   s[len - 1] == '\r'))
		len--;
	return pnstrdup(s, len);
}

/* A header's list of ids or labels, separated by blanks; each validated. */
static char **
id_list(const char *value, const char *what, int *n)
{
	char	  **ids = palloc(sizeof(char *) * (strlen(value) / 2 + 1));
	const char *p = value;

	*n = 0;
	for (;;)
	{
		const char *start;

		while (*p == ' ' || *p == '\t')
			p++;
		if (*p == '\0')
			break;
		start = p;
		while (*p && *p != ' ' && *p != '\t')
			p++;
		ids[*n] = pnstrdup(start, p - start);
		validate_id(ids[*n], what);
		for (int j = 0; j < *n; j++)
			if (strcmp(ids[j], ids[*n]) == 0)
				ereport(ERROR,
						errcode(ERRCODE_INVALID_PARAMETER_VALUE),
						errmsg("%s \"%s\" is listed twice", what, ids[*n]));
		(*n)++;
	}
	return ids;
}

enum
{
	H_REVISION, H_PARENTS, H_MESSAGE, H_DEPENDS, H_LABELS, H_TRANSACTIONAL,
	H_SCOPE, NHEADERS
};
static const char *const header_names[NHEADERS] = {
	"revision", "parents", "message", "depends_on", "branch_labels",
	"transactional", "scope"
};

/*
 * The bytes of a file as text in the database encoding: no NUL byte (psql
 * would cut the line there), nothing the encoding cannot hold.  Both are
 * refused naming the line.
 */
static char *
file_text(const char *data, int len, int encoding, FileErrorContext *ctx)
{
	const char *nul = memchr(data, '\0', len);
	int			valid;

	if (nul != NULL)
	{
		const char *line_start = data;

		ctx->line = 1;
		for (const char *p = data; p < nul; p++)
			if (*p == '\n')
				ctx->line++, line_start = p + 1;
		ereport(ERROR,
				errcode(ERRCODE_CHARACTER_NOT_IN_REPERTOIRE),
				errmsg("revision file \"%s\" contains a NUL byte", ctx->file->name),
				errdetail("Byte %d of line %d is NUL: a script is text, and the NUL would cut its line short.",
						  (int) (nul - line_start) + 1, ctx->line));
	}
	valid = pg_encoding_verifymbstr(encoding, data, len);
	if (valid < len)
	{
		ctx->line = 1;
		for (int i = 0; i < valid; i++)
			ctx->line += data[i] == '\n';
		ereport(ERROR,
				errcode(ERRCODE_CHARACTER_NOT_IN_REPERTOIRE),
				errmsg("revision file \"%s\" is not valid %s", ctx->file->name,
					   pg_encoding_to_char(encoding)),
				errdetail("Line %d has a byte sequence that is not %s.",
						  ctx->line, pg_encoding_to_char(encoding)),
				errhint("Save the file as %s, or set client_encoding to the file's encoding.",
						pg_encoding_to_char(encoding)));
	}
	/* Terminated first: with equal encodings the conversion is no copy. */
	return pg_any_to_server(pnstrdup(data, len), len, encoding);
}

/* "lint-ignore" as the word after "-- migrate:": a waiver, part of a script. */
static bool
is_lint_ignore(const char *word)
{
	return strncmp(word, "lint-ignore", 11) == 0 &&
		(word[11] == '\0' || strchr(" \t\r\n", word[11]) != NULL);
}

/*
 * A file name from the archive as text in the database encoding.  A name
 * the encoding cannot hold is refused, shown with its bad bytes escaped:
 * the message must itself be text.
 */
static char *
file_name(const char *name, int encoding)
{
	int			len = strlen(name);
	StringInfoData shown;

	if (pg_encoding_verifymbstr(encoding, name, len) == len)
		return pg_any_to_server(name, len, encoding);
	initStringInfo(&shown);
	for (const unsigned char *c = (const unsigned char *) name; *c; c++)
	{
		if (*c >= 0x20 && *c < 0x7f)
			appendStringInfoChar(&shown, *c);
		else
			appendStringInfo(&shown, "\\x%02x", *c);
	}
	ereport(ERROR,
			errcode(ERRCODE_CHARACTER_NOT_IN_REPERTOIRE),
			errmsg("revision file name \"%s\" is not valid %s", shown.data,
				   pg_encoding_to_char(encoding)),
			errhint("Rename the file: a revision file's name is text, like its content."));
	return NULL;				/* not reached */
}

/* The base name of a path. */
static const char *
base_name(const char *path)
{
	const char *slash = strrchr(path, '/');

	return slash ? slash + 1 : path;
}

/*
 * A file's bytes, in "encoding", as text in the database encoding (see
 * file_text()).
 */
char *
revfile_text(const char *name, const char *data, int len, int encoding)
{
	RevisionFile file = {0};
	FileErrorContext ctx = {&file, 0};
	ErrorContextCallback callback;
	char	   *text;

	file.name = (char *) name;
	callback.callback = file_error_callback;
	callback.arg = &ctx;
	callback.previous = error_context_stack;
	error_context_stack = &callback;
	text = file_text(data, len, encoding, &ctx);
	error_context_stack = callback.previous;
	return text;
}

/*
 * Parse one file's text.  Errors name the file and the line.  Nothing but
 * memory is taken here (revfile_parse_all() relies on it).
 */
RevisionFile *
revfile_parse(const char *name, const char *text)
{
	RevisionFile *file = palloc0(sizeof(RevisionFile));
	FileErrorContext ctx;
	ErrorContextCallback callback;
	const char *p;
	const char *end;
	char	   *header[NHEADERS] = {0};
	int			header_line[NHEADERS] = {0};
	StringInfoData script[2];
	int			section = -1;	/* 0 upgrade, 1 downgrade */
	int			section_line[2] = {0, 0};
	int			pending[2] = {0, 0};	/* blank lines held back */
	StringInfoData held[2];
	int			line = 0;
	const char *base;
	size_t		idlen;

	file->name = pstrdup(name);
	ctx.file = file;
	ctx.line = 0;
	callback.callback = file_error_callback;
	callback.arg = &ctx;
	callback.previous = error_context_stack;
	error_context_stack = &callback;

	for (const char *c = name; *c; c++)
		if ((unsigned char) *c < 0x20 || *c == 0x7f)
			ereport(ERROR,
					errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					errmsg("revision file name \"%s\" contains control characters", name));

	initStringInfo(&script[0]);
	initStringInfo(&script[1]);
	initStringInfo(&held[0]);
	initStringInfo(&held[1]);

	for (p = text; *p; p = *end ? end + 1 : end)
	{
		int			linelen;

		end = strchrnul(p, '\n');
		linelen = end - p;
		ctx.line = ++line;

		if (linelen >= DIRECTIVE_LEN && strncmp(p, DIRECTIVE, DIRECTIVE_LEN) == 0 &&
			!(section >= 0 && is_lint_ignore(p + DIRECTIVE_LEN)))
		{
			const char *word = p + DIRECTIVE_LEN;
			int			wordlen = strcspn(word, " \t\r\n");
			char	   *directive = pnstrdup(word, wordlen);
			char	   *value = trimmed(word + wordlen, linelen - DIRECTIVE_LEN - wordlen);
			int			h;

			if (strcmp(directive, "upgrade") == 0 || strcmp(directive, "downgrade") == 0)
			{
				int			s = directive[0] == 'u' ? 0 : 1;

				if (section_line[s] > 0)
					ereport(ERROR,
							errcode(ERRCODE_SYNTAX_ERROR),
							errmsg("duplicate section \"-- migrate:%s\"", directive),
							errdetail("The first is on line %d.", section_line[s]));
				if (value[0] != '\0')
					ereport(ERROR,
							errcode(ERRCODE_SYNTAX_ERROR),
							errmsg("unexpected text after \"-- migrate:%s\"", directive),
							errhint("The script starts on the next line."));
				section = s;
				section_line[s] = line;
				continue;
			}
			for (h = 0; h < NHEADERS; h++)
				if (strcmp(directive, header_names[h]) == 0)
					break;
			if (h == NHEADERS)
				ereport(ERROR,
						errcode(ERRCODE_SYNTAX_ERROR),
						errmsg("unrecognized directive \"-- migrate:%s\"", directive),
						errhint("The directives are revision, parents, message, depends_on, branch_labels, transactional, scope, upgrade and downgrade; \"-- migrate:lint-ignore\" goes inside a script."));
			if (section >= 0)
				ereport(ERROR,
						errcode(ERRCODE_SYNTAX_ERROR),
						errmsg("header \"-- migrate:%s\" after a section", directive),
						errhint("Headers go before \"-- migrate:upgrade\"."));
			if (header[h] != NULL)
				ereport(ERROR,
						errcode(ERRCODE_SYNTAX_ERROR),
						errmsg("duplicate header \"-- migrate:%s\"", directive),
						errdetail("The first is on line %d.", header_line[h]));
			header[h] = value;
			header_line[h] = line;
			continue;
		}

		if (section < 0)
		{
			if (!blank(p, linelen) && !(linelen >= 2 && p[0] == '-' && p[1] == '-'))
				ereport(ERROR,
						errcode(ERRCODE_SYNTAX_ERROR),
						errmsg("SQL outside a section"),
						errhint("Scripts go after \"-- migrate:upgrade\" or \"-- migrate:downgrade\"."));
			continue;
		}

		/* Blank lines count only once a non-blank line follows them. */
		if (blank(p, linelen))
		{
			if (script[section].len > 0)
			{
				appendBinaryStringInfo(&held[section], p, linelen);
				appendStringInfoChar(&held[section], '\n');
				pending[section]++;
			}
			continue;
		}
		if (pending[section] > 0)
		{
			appendBinaryStringInfo(&script[section], held[section].data, held[section].len);
			resetStringInfo(&held[section]);
			pending[section] = 0;
		}
		appendBinaryStringInfo(&script[section], p, linelen);
		appendStringInfoChar(&script[section], '\n');
		if (file->upgrade_line == 0 && section == 0)
			file->upgrade_line = line;
		if (file->downgrade_line == 0 && section == 1)
			file->downgrade_line = line;
	}

	/* What the whole file says. */
	ctx.line = header_line[H_REVISION];
	if (header[H_REVISION] == NULL)
	{
		ctx.line = 1;
		ereport(ERROR,
				errcode(ERRCODE_SYNTAX_ERROR),
				errmsg("no \"-- migrate:revision\" header"),
				errhint("A revision file starts with \"-- migrate:revision <id>\"."));
	}
	if (header[H_REVISION][0] == '\0')
		ereport(ERROR,
				errcode(ERRCODE_SYNTAX_ERROR),
				errmsg("\"-- migrate:revision\" needs the revision id"));
	validate_id(header[H_REVISION], "revision id");
	file->rev.id = header[H_REVISION];
	file->rev.id_given = true;
	file->line = header_line[H_REVISION];

	base = base_name(name);
	idlen = strlen(file->rev.id);
	if (strncmp(base, file->rev.id, idlen) != 0 ||
		!(strcmp(base + idlen, ".sql") == 0 ||
		  (base[idlen] == '_' && strlen(base) > idlen + 4 &&
		   strcmp(base + strlen(base) - 4, ".sql") == 0)))
		ereport(ERROR,
				errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				errmsg("revision id \"%s\" does not match the file name", file->rev.id),
				errhint("Name the file %s_<slug>.sql or %s.sql.", file->rev.id, file->rev.id));

	ctx.line = header_line[H_PARENTS];
	file->rev.parents_given = true;
	file->rev.parents = id_list(header[H_PARENTS] ? header[H_PARENTS] : "",
								"revision id", &file->rev.nparents);
	ctx.line = header_line[H_DEPENDS];
	file->rev.depends = id_list(header[H_DEPENDS] ? header[H_DEPENDS] : "",
								"revision id", &file->rev.ndepends);
	ctx.line = header_line[H_LABELS];
	file->rev.labels = id_list(header[H_LABELS] ? header[H_LABELS] : "",
							   "branch label", &file->rev.nlabels);
	file->rev.message = header[H_MESSAGE] ? header[H_MESSAGE] : "";
	file->rev.transactional = true;
	if (header[H_TRANSACTIONAL] != NULL)
	{
		ctx.line = header_line[H_TRANSACTIONAL];
		if (pg_strcasecmp(header[H_TRANSACTIONAL], "false") == 0)
			file->rev.transactional = false;
		else if (pg_strcasecmp(header[H_TRANSACTIONAL], "true") != 0)
			ereport(ERROR,
					errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					errmsg("\"-- migrate:transactional\" is true or false, not \"%s\"",
						   header[H_TRANSACTIONAL]));
	}
	file->rev.tenant_scope = false;
	if (header[H_SCOPE] != NULL)
	{
		ctx.line = header_line[H_SCOPE];
		if (strcmp(header[H_SCOPE], "tenant") == 0)
			file->rev.tenant_scope = true;
		else if (strcmp(header[H_SCOPE], "database") != 0)
			ereport(ERROR,
					errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					errmsg("\"-- migrate:scope\" is database or tenant, not \"%s\"",
						   header[H_SCOPE]));
	}

	ctx.line = 0;
	if (section_line[0] == 0)
		ereport(ERROR,
				errcode(ERRCODE_SYNTAX_ERROR),
				errmsg("no \"-- migrate:upgrade\" section"),
				errhint("The upgrade script goes after a line \"-- migrate:upgrade\"."));
	file->rev.upgrade = script[0].data;
	file->rev.downgrade = section_line[1] > 0 ? script[1].data : NULL;
	if (file->upgrade_line == 0)
		file->upgrade_line = section_line[0] + 1;
	if (section_line[1] > 0 && file->downgrade_line == 0)
		file->downgrade_line = section_line[1] + 1;

	error_context_stack = callback.previous;
	return file;
}

static int
compare_by_name(const void *a, const void *b)
{
	return strcmp((*(RevisionFile *const *) a)->name,
				  (*(RevisionFile *const *) b)->name);
}

/*
 * Order files parents (and dependencies) first, ties by file name, with
 * the graph code: edges to revisions that no file holds are left out here
 * (registration checks them against the catalog).  Two files of one id
 * and a cycle among the files are errors naming the files.  The array is
 * sorted in place, and each file learns whether it is a head of the files.
 */
void
revfile_order(RevisionFile **files, int n)
{
	MigrateRevision *revs = palloc0(sizeof(MigrateRevision) * Max(n, 1));
	MigrateGraph *ids;
	MigrateGraph *graph;
	RevisionFile **sorted;
	bool	   *all;
	MigrateSteps *volatile order = NULL;
	MemoryContext cxt = CurrentMemoryContext;

	qsort(files, n, sizeof(RevisionFile *), compare_by_name);

	/* First a graph without edges: the index that finds a file by id. */
	for (int i = 0; i < n; i++)
	{
		revs[i].id = files[i]->rev.id;
		revs[i].seq = i;
	}
	ids = graph_build(revs, n, false);
	for (int i = 0; i < n; i++)
	{
		int			first = graph_find(ids, files[i]->rev.id);

		if (first != i)
			ereport(ERROR,
					errcode(ERRCODE_DUPLICATE_OBJECT),
					errmsg("revision \"%s\" is in two files: \"%s\" and \"%s\"",
						   files[i]->rev.id, files[first]->name, files[i]->name),
					errhint("Each revision has one file: remove one, or give it a new id."));
	}

	revs = palloc0(sizeof(MigrateRevision) * Max(n, 1));
	for (int i = 0; i < n; i++)
	{
		const NewRevision *nr = &files[i]->rev;

		revs[i].id = nr->id;
		revs[i].seq = i;
		revs[i].parent_ids = palloc(sizeof(char *) * Max(nr->nparents, 1));
		for (int j = 0; j < nr->nparents; j++)
			if (graph_find(ids, nr->parents[j]) >= 0)
				revs[i].parent_ids[revs[i].nparents++] = nr->parents[j];
		revs[i].depends_ids = palloc(sizeof(char *) * Max(nr->ndepends, 1));
		for (int j = 0; j < nr->ndepends; j++)
			if (graph_find(ids, nr->depends[j]) >= 0)
				revs[i].depends_ids[revs[i].ndepends++] = nr->depends[j];
	}
	graph = graph_build(revs, n, false);
	all = palloc(sizeof(bool) * Max(n, 1));
	for (int i = 0; i < n; i++)
		all[i] = true;
	/* The graph's cycle error, told of the files (nothing but memory taken). */
	PG_TRY();
	{
		order = graph_order_up(graph, all);
	}
	PG_CATCH();
	{
		ErrorData  *edata;

		MemoryContextSwitchTo(cxt);
		edata = CopyErrorData();
		FlushErrorState();
		if (edata->sqlerrcode != ERRCODE_INVALID_OBJECT_DEFINITION)
			ReThrowError(edata);
		ereport(ERROR,
				errcode(ERRCODE_INVALID_OBJECT_DEFINITION),
				errmsg("the revision files form a cycle"),
				errdetail("%s", edata->detail),
				errhint("Fix the \"-- migrate:parents\" or \"-- migrate:depends_on\" header of one of them."));
	}
	PG_END_TRY();

	/* A head of the files: no file names it as a parent. */
	for (int i = 0; i < n; i++)
		files[i]->is_head = graph->revs[i].nchildren == 0;
	sorted = palloc(sizeof(RevisionFile *) * Max(n, 1));
	for (int i = 0; i < n; i++)
		sorted[i] = files[order->revs[i]];
	memcpy(files, sorted, sizeof(RevisionFile *) * n);
}

/* ---------------------------------------------------------------------
 * The tar archive pg_migrate sends ("tar -chf - *.sql"): POSIX ustar, with
 * GNU's long names and pax "path" records, regular files only.
 * ---------------------------------------------------------------------
 */

#define TAR_BLOCK	512

static void
bad_archive(const char *why)
{
	ereport(ERROR,
			errcode(ERRCODE_INVALID_PARAMETER_VALUE),
			errmsg("the revision files are not a valid tar archive"),
			errdetail("%s", why),
			errhint("Send the output of \"tar -cf - *.sql\" run in the revision folder, or call migrate.sync(names, contents)."));
}

/* A numeric header field: octal digits, or GNU's base-256 for big sizes. */
static uint64
tar_number(const unsigned char *field, int width)
{
	uint64		value = 0;

	if (field[0] & 0x80)
	{
		for (int i = 1; i < width; i++)
			value = (value << 8) | field[i];
		return value;
	}
	for (int i = 0; i < width && field[i]; i++)
	{
		if (field[i] == ' ')
			continue;
		if (field[i] < '0' || field[i] > '7')
			bad_archive("A header has a size that is not a number.");
		value = value * 8 + (field[i] - '0');
	}
	return value;
}

/* The value of "path" in a pax extended header, or NULL. */
static char *
pax_path(const char *data, uint64 len)
{
	const char *p = data;
	const char *end = data + len;

	while (p < end)
	{
		long		reclen = strtol(p, NULL, 10);
		const char *key = memchr(p, ' ', end - p);

		if (reclen <= 0 || key == NULL || p + reclen > end)
			return NULL;
		key++;
		if (strncmp(key, "path=", 5) == 0)
			return pnstrdup(key + 5, p + reclen - 1 - (key + 5));
		p += reclen;
	}
	return NULL;
}

/*
 * The files of an archive, in archive order: their names, and their bytes
 * (which point into the archive).
 */
int
revfile_read_archive(const char *archive, int64 len, char ***names,
					 const char ***datas, int **lens)
{
	int64		at = 0;
	int			n = 0;
	int			capacity = 64;
	char	   *long_name = NULL;

	if (len % TAR_BLOCK != 0)
		bad_archive("Its length is not a multiple of 512 bytes.");
	*names = palloc(sizeof(char *) * capacity);
	*datas = palloc(sizeof(char *) * capacity);
	*lens = palloc(sizeof(int) * capacity);
	while (at + TAR_BLOCK <= len)
	{
		const unsigned char *h = (const unsigned char *) archive + at;
		uint64		size;
		char		type = h[156];
		const char *data = archive + at + TAR_BLOCK;
		char	   *name;
		unsigned	sum = 0;
		bool		zero = true;

		for (int i = 0; i < TAR_BLOCK && zero; i++)
			zero = h[i] == 0;
		if (zero)
			break;				/* the end-of-archive blocks */
		for (int i = 0; i < TAR_BLOCK; i++)
			sum += (i >= 148 && i < 156) ? ' ' : h[i];
		if (sum != tar_number(h + 148, 8))
			bad_archive("A header's checksum does not match.");
		size = tar_number(h + 124, 12);
		if (size > (uint64) (len - at - TAR_BLOCK) || size > MaxAllocSize)
			bad_archive("A file is cut short.");
		at += TAR_BLOCK + (int64) ((size + TAR_BLOCK - 1) / TAR_BLOCK) * TAR_BLOCK;

		if (type == 'L')
		{
			long_name = pnstrdup(data, size);
			continue;
		}
		if (type == 'x')
		{
			long_name = pax_path(data, size);
			continue;
		}
		if (type == 'g' || type == '5')
			continue;
		if (type != '0' && type != '\0')
			bad_archive(psprintf("\"%s\" is not a regular file.",
								 pnstrdup((const char *) h, 100)));

		if (long_name != NULL)
			name = long_name;
		else if (memcmp(h + 257, "ustar", 5) == 0 && h[345] != '\0')
			name = psprintf("%s/%s", pnstrdup((const char *) h + 345, 155),
							pnstrdup((const char *) h, 100));
		else
			name = pnstrdup((const char *) h, 100);
		long_name = NULL;

		if (n == capacity)
		{
			capacity *= 2;
			*names = repalloc(*names, sizeof(char *) * capacity);
			*datas = repalloc(*datas, sizeof(char *) * capacity);
			*lens = repalloc(*lens, sizeof(int) * capacity);
		}
		(*names)[n] = name;
		(*datas)[n] = data;
		(*lens)[n] = (int) size;
		n++;
	}
	return n;
}

/*
 * Parse every file, and report them all at once: a malformed file is an
 * error naming it and its line, and several are one error listing each.
 * The text of a file is checked first (NUL bytes, encoding: conversion may
 * use the catalog, so its errors are raised as they come); the parse
 * itself only allocates memory, so its error can be caught and the next
 * file read.
 */
RevisionFile **
revfile_parse_all(char **names, const char **datas, const int *lens, int n,
				  int encoding)
{
	RevisionFile **files = palloc(sizeof(RevisionFile *) * Max(n, 1));
	MemoryContext cxt = CurrentMemoryContext;
	ErrorData  *first = NULL;
	StringInfoData all;
	int			nbad = 0;

	initStringInfo(&all);
	for (int i = 0; i < n; i++)
	{
		char	   *text;
		ErrorContextCallback *outer = error_context_stack;

		names[i] = file_name(names[i], encoding);
		text = revfile_text(names[i], datas[i], lens[i], encoding);

		/* An error's context is then the file's line alone. */
		error_context_stack = NULL;
		PG_TRY();
		{
			files[i] = revfile_parse(names[i], text);
		}
		PG_CATCH();
		{
			ErrorData  *edata;

			MemoryContextSwitchTo(cxt);
			edata = CopyErrorData();
			FlushErrorState();
			if (first == NULL)
				first = edata;
			appendStringInfo(&all, "%s%s: %s", nbad > 0 ? "\n" : "",
							 edata->context ? edata->context : names[i],
							 edata->message);
			nbad++;
		}
		PG_END_TRY();
		error_context_stack = outer;
	}
	if (nbad == 1)
		ReThrowError(first);
	if (nbad > 1)
		ereport(ERROR,
				errcode(first->sqlerrcode),
				errmsg("%d revision files are malformed", nbad),
				errdetail("%s", all.data));
	return files;
}
