/*-------------------------------------------------------------------------
 *
 * migrate.c
 *		Module magic, the extension's settings, and who is asking.
 *
 * IDENTIFICATION
 *	  src/migrate.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <limits.h>

#include "fmgr.h"
#include "utils/guc.h"

#include "migrate.h"

MIGRATE_MODULE_MAGIC;

/* migrate.report_timing: show each step's duration in its NOTICE */
bool		migrate_report_timing = true;

/* migrate.lock_wait: ms to wait for the migration lock; -1 waits forever */
int			migrate_lock_wait = -1;

/* migrate.ddl_lock_timeout: lock_timeout for each script statement; 0 off */
int			migrate_ddl_lock_timeout = 0;

/* migrate.ddl_lock_retries: retries of a statement that timed out */
int			migrate_ddl_lock_retries = 5;

/* migrate.restore_point: create a restore point before the first script */
bool		migrate_restore_point = false;

/* migrate.tenant: the tenant whose script runs, set only while it runs */
static char *migrate_tenant = NULL;

/* migrate.lint: what registration does with lint findings */
int			migrate_lint_mode = MIGRATE_LINT_WARN;

/* migrate.lint_large_table: kB from which a lock-heavy statement is an error */
int			migrate_lint_large_table = 100 * 1024;

static const struct config_enum_entry lint_modes[] = {
	{"off", MIGRATE_LINT_OFF, false},
	{"warn", MIGRATE_LINT_WARN, false},
	{"error", MIGRATE_LINT_ERROR, false},
	{NULL, 0, false}
};

void		_PG_init(void);

void
_PG_init(void)
{
	DefineCustomBoolVariable("migrate.report_timing",
							 "Shows how long each step took in the progress notices.",
							 "Turn it off for output that does not change from run to run, as in tests.",
							 &migrate_report_timing,
							 true,
							 PGC_USERSET,
							 0,
							 NULL, NULL, NULL);

	DefineCustomIntVariable("migrate.lock_wait",
							"How long a state-changing call waits for the migration lock.",
							"-1 waits as long as it takes; 0 fails at once, naming the session that holds the lock.",
							&migrate_lock_wait,
							-1, -1, INT_MAX,
							PGC_USERSET,
							GUC_UNIT_MS,
							NULL, NULL, NULL);

	DefineCustomIntVariable("migrate.ddl_lock_timeout",
							"How long each script statement may wait for its locks before it is retried.",
							"0 lets statements wait as long as it takes.  Otherwise a statement that times out is rolled back to a savepoint and retried, so that it does not queue in front of other sessions.",
							&migrate_ddl_lock_timeout,
							0, 0, INT_MAX,
							PGC_USERSET,
							GUC_UNIT_MS,
							NULL, NULL, NULL);

	DefineCustomIntVariable("migrate.ddl_lock_retries",
							"How many times a script statement that timed out waiting for a lock is retried.",
							"The waits between attempts double, starting at 100 ms.",
							&migrate_ddl_lock_retries,
							5, 0, 1000,
							PGC_USERSET,
							0,
							NULL, NULL, NULL);

	DefineCustomBoolVariable("migrate.restore_point",
							 "Creates a restore point named migrate_before_<revision> before the first script of each call.",
							 "For point-in-time recovery to just before a migration.  Needs wal_level replica or higher and the right to call pg_create_restore_point().",
							 &migrate_restore_point,
							 false,
							 PGC_USERSET,
							 0,
							 NULL, NULL, NULL);

	DefineCustomStringVariable("migrate.tenant",
							   "The tenant schema whose tenant revision script is running.",
							   "Set by migrate while a tenant revision's script runs, for the script to read with current_setting('migrate.tenant'); empty otherwise.",
							   &migrate_tenant,
							   "",
							   PGC_USERSET,
							   0,
							   NULL, NULL, NULL);

	DefineCustomEnumVariable("migrate.lint",
							 "What registering a revision does with the findings of migrate.lint().",
							 "off: nothing; warn: a NOTICE for each; error: registration fails on a finding of severity error.",
							 &migrate_lint_mode,
							 MIGRATE_LINT_WARN,
							 lint_modes,
							 PGC_USERSET,
							 0,
							 NULL, NULL, NULL);

	DefineCustomIntVariable("migrate.lint_large_table",
							"The table size from which lint findings about locks and rewrites are errors rather than warnings.",
							NULL,
							&migrate_lint_large_table,
							100 * 1024, 0, INT_MAX,
							PGC_USERSET,
							GUC_UNIT_KB,
							NULL, NULL, NULL);

	MigrateReserveGUCPrefix("migrate");
	sandbox_install();
}

/*
 * Whether pg_migrate (its application_name) is calling, so that a hint can
 * name the command its user types rather than the SQL function.
 */
bool
migrate_from_pg_migrate(void)
{
	return application_name != NULL && strcmp(application_name, "pg_migrate") == 0;
}

/*
 * How to merge several heads, told the way the caller works: pg_migrate
 * keeps merges as files, and a merge registered with SQL would have none.
 */
const char *
migrate_merge_advice(void)
{
	if (migrate_from_pg_migrate())
		return "merge them with \"pg_migrate merge heads -m MESSAGE\"";
	return "merge them with migrate.merge()";
}
