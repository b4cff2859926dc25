/*-------------------------------------------------------------------------
 *
 * lock.c
 *		The migration lock, and the guards every state-changing call
 *		passes before it changes anything.
 *
 * The lock is a transaction-level advisory lock (MIGRATE_LOCK_KEY): every
 * state-changing call takes it first, waiting at most migrate.lock_wait.
 * pg_migrate holds it at session level, together with
 * MIGRATE_NONTRANSACTIONAL_KEY, while it runs the statements of a
 * non-transactional revision outside a transaction; a call that finds that
 * key held fails at once instead of waiting inside its transaction.
 *
 * IDENTIFICATION
 *	  src/lock.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/xlog.h"
#include "miscadmin.h"
#include "pgstat.h"
#include "storage/latch.h"
#include "storage/lock.h"
#include "utils/builtins.h"
#include "utils/timestamp.h"

#include "migrate.h"

/*
 * State-changing calls fail clearly on a standby, and cannot be made from
 * a migration script (the lock is already ours, and the state half-done).
 */
void
lock_refuse_state_change(const char *funcname)
{
	if (RecoveryInProgress())
		ereport(ERROR,
				errcode(ERRCODE_READ_ONLY_SQL_TRANSACTION),
				errmsg("cannot run migrate.%s() on a standby server", funcname),
				errdetail("The server is in recovery: the migration state can only change on the primary."),
				errhint("Run it on the primary server.  migrate.current(), migrate.is_applied() and migrate.require() work here."));
	if (apply_in_progress)
		ereport(ERROR,
				errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				errmsg("cannot call migrate.%s() from a migration script",
					   funcname),
				errdetail("A migration is being applied in this session."));
}

static void
report_lock_holder(void)
{
	char	   *holder = catalog_lock_holder(MIGRATE_LOCK_KEY);

	ereport(ERROR,
			errcode(ERRCODE_LOCK_NOT_AVAILABLE),
			errmsg("could not obtain the migration lock"),
			errdetail("It is held by %s.", holder),
			errhint("Another migration is running.  Wait for it, or let this call wait longer with SET migrate.lock_wait (now %d ms; -1 waits as long as it takes).",
					migrate_lock_wait));
}

/*
 * Is MIGRATE_NONTRANSACTIONAL_KEY held by another session?  Asked of the
 * lock manager, with a share lock tried and released at once: a query here,
 * before the migration lock, would take a snapshot older than the lock.
 */
static bool
nontransactional_key_held(void)
{
	LOCKTAG		tag;

	SET_LOCKTAG_ADVISORY(tag, MyDatabaseId,
						 (uint32) (MIGRATE_NONTRANSACTIONAL_KEY >> 32),
						 (uint32) (MIGRATE_NONTRANSACTIONAL_KEY & 0xFFFFFFFF), 1);
	if (LockAcquire(&tag, ShareLock, false, true) == LOCKACQUIRE_NOT_AVAIL)
		return true;
	LockRelease(&tag, ShareLock, false);
	return false;
}

/*
 * Fail at once when pg_migrate is running the statements of a
 * non-transactional revision: waiting for the lock inside this transaction
 * would make its CREATE INDEX CONCURRENTLY wait for this transaction, which
 * waits for it.
 */
static void
refuse_wait_behind_nontransactional(void)
{
	char	   *holder;

	if (!nontransactional_key_held())
		return;
	holder = catalog_lock_holder(MIGRATE_NONTRANSACTIONAL_KEY);
	ereport(ERROR,
			errcode(ERRCODE_LOCK_NOT_AVAILABLE),
			errmsg("could not obtain the migration lock: pg_migrate is applying a non-transactional revision"),
			errdetail("It is held by %s, which runs statements outside a transaction.  Waiting for it inside this transaction would make a CREATE INDEX CONCURRENTLY of that revision wait for this transaction, which would wait for it.",
					  holder),
			errhint("Retry when it has finished, or run \"pg_migrate upgrade\", which waits outside a transaction."));
}

/*
 * Wait for the migration lock as long as migrate.lock_wait allows, polling
 * a try-lock so the wait can be bounded.
 */
static void
acquire_migration_lock(void)
{
	TimestampTz start;

	if (DatumGetBool(DirectFunctionCall1(pg_try_advisory_xact_lock_int8,
										 Int64GetDatum(MIGRATE_LOCK_KEY))))
		return;
	refuse_wait_behind_nontransactional();
	if (migrate_lock_wait < 0)
	{
		DirectFunctionCall1(pg_advisory_xact_lock_int8,
							Int64GetDatum(MIGRATE_LOCK_KEY));
		return;
	}

	start = GetCurrentTimestamp();
	while (!DatumGetBool(DirectFunctionCall1(pg_try_advisory_xact_lock_int8,
											 Int64GetDatum(MIGRATE_LOCK_KEY))))
	{
		if (TimestampDifferenceExceeds(start, GetCurrentTimestamp(),
									   migrate_lock_wait))
			report_lock_holder();
		(void) WaitLatch(MyLatch, WL_LATCH_SET | WL_TIMEOUT | WL_EXIT_ON_PM_DEATH,
						 Min(10, Max(migrate_lock_wait, 1)), PG_WAIT_EXTENSION);
		ResetLatch(MyLatch);
		CHECK_FOR_INTERRUPTS();
	}
}

/*
 * Every state-changing call, once SPI is connected: the guards, the lock,
 * and the check that this transaction's snapshot is not stale.  Returns
 * the state's change counter (catalog_read_changes()).
 */
int64
lock_state_change(const char *funcname)
{
	lock_refuse_state_change(funcname);
	acquire_migration_lock();
	return catalog_read_changes();
}
