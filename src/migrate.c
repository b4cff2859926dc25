/*-------------------------------------------------------------------------
 *
 * migrate.c
 *		Module magic and the extension's settings.
 *
 * IDENTIFICATION
 *	  src/migrate.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "fmgr.h"
#include "utils/guc.h"

#include "migrate.h"

MIGRATE_MODULE_MAGIC;

/* migrate.report_timing: show each step's duration in its NOTICE */
bool		migrate_report_timing = true;

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

	MigrateReserveGUCPrefix("migrate");
}
