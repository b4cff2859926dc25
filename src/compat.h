/*-------------------------------------------------------------------------
 *
 * compat.h
 *		The differences between PostgreSQL 13 and 18 that migrate meets.
 *
 * Every PG_VERSION_NUM test of the extension lives here, so that the other
 * files read the same on every supported version.
 *
 * IDENTIFICATION
 *	  src/compat.h
 *
 *-------------------------------------------------------------------------
 */
#ifndef MIGRATE_COMPAT_H
#define MIGRATE_COMPAT_H

#include "utils/guc.h"
#include "utils/hsearch.h"

/* PostgreSQL 14 made string keys an explicit hash_create() flag. */
#if PG_VERSION_NUM >= 140000
#define MIGRATE_HASH_STRINGS	HASH_STRINGS
#else
#define MIGRATE_HASH_STRINGS	0
#endif

/* PostgreSQL 15 replaced EmitWarningsOnPlaceholders(). */
#if PG_VERSION_NUM >= 150000
#define MigrateReserveGUCPrefix(prefix) MarkGUCPrefixReserved(prefix)
#else
#define MigrateReserveGUCPrefix(prefix) EmitWarningsOnPlaceholders(prefix)
#endif

/* PostgreSQL 18 wants the module's name and version in its magic block. */
#if PG_VERSION_NUM >= 180000
#define MIGRATE_MODULE_MAGIC \
	PG_MODULE_MAGIC_EXT(.name = "migrate", .version = "0.1.0")
#else
#define MIGRATE_MODULE_MAGIC PG_MODULE_MAGIC
#endif

/* PostgreSQL 16 renamed the lookup of a backend's status by position. */
#if PG_VERSION_NUM >= 160000
#define MigrateLocalBackendStatus(i) pgstat_get_local_beentry_by_index(i)
#else
#define MigrateLocalBackendStatus(i) pgstat_fetch_stat_local_beentry(i)
#endif

/* PostgreSQL 17 moved the local transaction id into the virtual one. */
#if PG_VERSION_NUM >= 170000
#define MigrateLocalXid() (MyProc->vxid.lxid)
#else
#define MigrateLocalXid() (MyProc->lxid)
#endif

/*
 * PostgreSQL 18 removed pg_attribute_noreturn(), which follows a
 * declaration, for pg_noreturn, which precedes it; GCC and Clang take the
 * attribute after it too.
 */
#if PG_VERSION_NUM >= 180000 && !defined(pg_attribute_noreturn)
#if defined(__GNUC__)
#define pg_attribute_noreturn() __attribute__((noreturn))
#else
#define pg_attribute_noreturn()
#endif
#endif

/*
 * PostgreSQL 17 added random(min, max): the OID macro of random() is
 * F_RANDOM_ from then on.  The old name keeps one spelling in sandbox.c.
 */
#if PG_VERSION_NUM >= 170000 && !defined(F_RANDOM)
#define F_RANDOM F_RANDOM_
#endif

#endif							/* MIGRATE_COMPAT_H */
