/*-------------------------------------------------------------------------
 *
 * catalog.h
 *		How the catalog files run their queries: shared by catalog.c, which
 *		defines what is declared here, and the catalog_*.c files, which use
 *		it.  No other file includes it; the rest of the extension reaches
 *		the catalog through the catalog_* functions of migrate.h.
 *
 * IDENTIFICATION
 *	  src/catalog.h
 *
 *-------------------------------------------------------------------------
 */
#ifndef MIGRATE_CATALOG_H
#define MIGRATE_CATALOG_H

#include "postgres.h"

#include "executor/spi.h"
#include "utils/snapshot.h"

/* Who was running, while a query runs as the owner (become_owner()). */
typedef struct SavedUser
{
	Oid			userid;
	int			sec_context;
	int			guc_level;
} SavedUser;

/*
 * A catalog query and its plan, prepared at first use and kept.  A keyed
 * query looks rows up by key: it is planned with index access only, because
 * its plan is made once, possibly while the catalog is still nearly empty,
 * when a scan of the whole table looks cheapest, and then kept while the
 * catalog grows (registering 10,000 revisions in one statement became
 * quadratic).
 */
typedef struct CatalogQuery
{
	const char *sql;
	int			nargs;
	Oid			argtypes[12];
	bool		keyed;
	SPIPlanPtr	plan;
} CatalogQuery;

/*
 * The strings of a graph, packed end to end in large blocks: a graph of
 * 100,000 revisions holds most of a million short strings, and a chunk of
 * its own for each would double the memory they take.  Without an arena
 * (NULL), each string is palloc'd on its own, for a single revision.
 */
typedef struct StringArena
{
	char	   *next;
	size_t		left;
} StringArena;

/* The catalog's relations, and the snapshot a direct read uses */
extern Oid	catalog_relid(const char *name);
extern Snapshot read_snapshot(void);

/* Running a query as the owner of the migrate schema */
extern void become_owner(SavedUser *saved);
extern void restore_user(const SavedUser *saved);
extern Datum caller_name(void);
extern char *sha256_hex(const char *data, size_t len);
extern SPIPlanPtr query_plan(CatalogQuery *query);
extern uint64 run_query(CatalogQuery *query, Datum *values, const char *nulls,
						bool read_only, long count);
extern uint64 run_quiet_write(CatalogQuery *query, Datum *values,
							  const char *nulls);

/* Copying values out of a result */
extern char *text_column(int row, int column, bool *isnull);
extern bool bool_column(int row, int column);
extern char **text_array_column(int row, int column, int *n);
extern char *arena_text(StringArena *arena, Datum value);
extern char **arena_text_array(StringArena *arena, Datum value, bool null,
							   int *n);

#endif							/* MIGRATE_CATALOG_H */
