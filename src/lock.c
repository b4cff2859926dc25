/*-------------------------------------------------------------------------
 *
 * lock.c
 *		The migration lock, and the guards every state-changing call
 *		passes before it changes anything.
 *
 * The lock is an object lock on migrate's own row of pg_extension, in
 * ExclusiveLock mode and the user lock method (see lock_tag()): every
 * state-changing call takes it for its transaction first, waiting at most
 * migrate.lock_wait; calls that move tenants take it in ShareLock mode.  Only migrate's functions can take it, unlike an
 * advisory key, which any connected role can take and keep.  pg_migrate
 * holds it for its session (lock_session(), which waits holding no
 * snapshot), and while it runs the statements of a non-transactional
 * revision also holds the lock's second part: a call that finds that part
 * held fails at once instead of waiting inside its transaction.
 *
 * IDENTIFICATION
 *	  src/lock.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/xact.h"
#include "access/xlog.h"
#include "catalog/pg_extension.h"
#include "commands/extension.h"
#include "executor/spi.h"
#include "miscadmin.h"
#include "pgstat.h"
#include "storage/latch.h"
#include "storage/lock.h"
#include "storage/proc.h"
#include "utils/builtins.h"
#include "utils/snapmgr.h"
#include "utils/timestamp.h"

#include "migrate.h"

/*
 * The statement of a non-transactional revision that this session runs at
 * top level, from nontransactional_begin() to the record of its progress or
 * failure (0: none), and the local transaction begin ran in.  The statement
 * itself runs in the transactions after that one: its first cannot record
 * its own progress, which would end the guard from inside it.
 */
static int	open_statement = 0;
static LocalTransactionId open_lxid;

void
lock_open_statement(int number)
{
	open_statement = number;
	open_lxid = MigrateLocalXid();
}

/* Progress or failure of the open statement is recorded: the guard ends. */
void
lock_close_statement(const char *funcname)
{
	if (open_statement == 0)
		return;
	if (MigrateLocalXid() - open_lxid <= 1)
		lock_refuse_state_change(funcname);
	open_statement = 0;
}

/*
 * State-changing calls fail clearly on a standby, and cannot be made from
 * a migration script (the lock is already ours, and the state half-done),
 * nor from a statement of a non-transactional revision.
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
	if (open_statement != 0)
		ereport(ERROR,
				errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				errmsg("cannot call migrate.%s() from a statement of a non-transactional revision",
					   funcname),
				errdetail("Statement %d of a non-transactional revision is being applied in this session.",
						  open_statement));
}

/* The two parts of the lock, as pg_locks shows them in objsubid. */
#define LOCK_MIGRATION			1
#define LOCK_NONTRANSACTIONAL	2

/* The parts lock_session() holds for this session (a bit per part). */
static int	session_parts = 0;

/*
 * The tag names migrate's row of pg_extension, in the user lock method
 * (advisory locks' method, whose session locks end with the session and
 * survive an abort): no SQL command takes a lock of that method on an
 * object, so only these functions can.
 */
static void
lock_tag(LOCKTAG *tag, uint16 part)
{
	SET_LOCKTAG_OBJECT(*tag, MyDatabaseId, ExtensionRelationId,
					   get_extension_oid("migrate", false), part);
	tag->locktag_lockmethodid = USER_LOCKMETHOD;
}

static bool
try_lock(const LOCKTAG *tag, LOCKMODE mode, bool session)
{
	return LockAcquire(tag, mode, session, true) != LOCKACQUIRE_NOT_AVAIL;
}

static void
report_lock_holder(void)
{
	char	   *holder = catalog_lock_holder(ExtensionRelationId,
											 get_extension_oid("migrate", false),
											 LOCK_MIGRATION);

	ereport(ERROR,
			errcode(ERRCODE_LOCK_NOT_AVAILABLE),
			errmsg("could not obtain the migration lock"),
			errdetail("It is held by %s.", holder),
			errhint("Another migration is running.  Wait for it, or let this call wait longer with SET migrate.lock_wait (now %d ms; -1 waits as long as it takes).",
					migrate_lock_wait));
}

/*
 * Fail at once when pg_migrate is running the statements of a
 * non-transactional revision: waiting for the lock inside this transaction
 * would make its CREATE INDEX CONCURRENTLY wait for this transaction, which
 * waits for it.  Asked of the lock manager, with a share lock tried and
 * released at once: a query here, before the migration lock, would take a
 * snapshot older than the lock.
 */
static void
refuse_wait_behind_nontransactional(void)
{
	LOCKTAG		tag;
	char	   *holder;

	lock_tag(&tag, LOCK_NONTRANSACTIONAL);
	if (try_lock(&tag, ShareLock, false))
	{
		LockRelease(&tag, ShareLock, false);
		return;
	}
	holder = catalog_lock_holder(ExtensionRelationId,
								 get_extension_oid("migrate", false),
								 LOCK_NONTRANSACTIONAL);
	ereport(ERROR,
			errcode(ERRCODE_LOCK_NOT_AVAILABLE),
			errmsg("could not obtain the migration lock: pg_migrate is applying a non-transactional revision"),
			errdetail("It is held by %s, which runs statements outside a transaction.  Waiting for it inside this transaction would make a CREATE INDEX CONCURRENTLY of that revision wait for this transaction, which would wait for it.",
					  holder),
			errhint("Retry when it has finished, or run \"pg_migrate upgrade\", which waits outside a transaction."));
}

/*
 * Wait for the migration lock for this transaction as long as
 * migrate.lock_wait allows, polling a try-lock so the wait can be bounded.
 */
static void
acquire_migration_lock(LOCKMODE mode)
{
	LOCKTAG		tag;
	TimestampTz start;

	lock_tag(&tag, LOCK_MIGRATION);
	if (try_lock(&tag, mode, false))
		return;
	refuse_wait_behind_nontransactional();
	if (migrate_lock_wait < 0)
	{
		(void) LockAcquire(&tag, mode, false, false);
		return;
	}

	start = GetCurrentTimestamp();
	while (!try_lock(&tag, mode, false))
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
	acquire_migration_lock(ExclusiveLock);
	return catalog_read_changes();
}

/*
 * A call that moves tenants: the guards, and the migration lock in share
 * mode, which calls moving other tenants share too, but not registration
 * or a change of the database's state (a tenant revision may depend on a
 * database revision).  Each tenant is then locked on its own
 * (catalog_tenant_lock).  Returns the state's change counter: registration
 * moves it, tenants do not.
 */
int64
lock_tenant_change(const char *funcname)
{
	lock_refuse_state_change(funcname);
	acquire_migration_lock(ShareLock);
	return catalog_read_changes();
}

/*
 * One try at the migration lock for the session (with "nontransactional",
 * also the part that makes other callers fail at once instead of waiting
 * inside a transaction): false, holding nothing new, when another session
 * has it.  Never waits, so it may run inside a transaction.
 */
bool
lock_try_session(bool nontransactional)
{
	LOCKTAG		tag;
	LOCKTAG		second;

	lock_tag(&tag, LOCK_MIGRATION);
	if (!try_lock(&tag, ExclusiveLock, true))
		return false;
	if (session_parts & LOCK_MIGRATION)
		LockRelease(&tag, ExclusiveLock, true);	/* held once is enough */
	session_parts |= LOCK_MIGRATION;
	if (nontransactional && !(session_parts & LOCK_NONTRANSACTIONAL))
	{
		/* Only share locks tried and released at once can be in the way. */
		lock_tag(&second, LOCK_NONTRANSACTIONAL);
		(void) LockAcquire(&second, ExclusiveLock, true, false);
		session_parts |= LOCK_NONTRANSACTIONAL;
	}
	return true;
}

/* Does this session hold the migration lock (lock_session())? */
bool
lock_session_held(void)
{
	return (session_parts & LOCK_MIGRATION) != 0;
}

/*
 * CALL migrate.lock_session(nontransactional boolean DEFAULT false)
 *
 * Takes the migration lock for the session, for pg_migrate (or anyone
 * applying revisions from outside): between tries it commits and sleeps
 * holding no snapshot, so that a waiter never makes another session's
 * CREATE INDEX CONCURRENTLY wait for it.  Gives up after migrate.lock_wait.
 * With "nontransactional", also the part that makes other callers fail at
 * once instead of waiting inside a transaction.  migrate.unlock_session()
 * releases both, as does the end of the session.
 */
PG_FUNCTION_INFO_V1(migrate_lock_session);
Datum
migrate_lock_session(PG_FUNCTION_ARGS)
{
	bool		nontransactional = arg_bool(fcinfo, 0, "nontransactional");
	TimestampTz start = GetCurrentTimestamp();
	long		pause = 200;
	bool		told = false;

	if (!call_is_nonatomic(fcinfo))
		ereport(ERROR,
				errcode(ERRCODE_ACTIVE_SQL_TRANSACTION),
				errmsg("migrate.lock_session() cannot run inside a transaction block"),
				errdetail("It commits between tries, so that it waits holding no snapshot."),
				errhint("Call it on its own, as CALL migrate.lock_session(), outside BEGIN and COMMIT."));
	lock_refuse_state_change("lock_session");
	if (SPI_connect_ext(SPI_OPT_NONATOMIC) != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect_ext failed");
	InvalidateCatalogSnapshot();

	while (!lock_try_session(nontransactional))
	{
		if (migrate_lock_wait >= 0 &&
			TimestampDifferenceExceeds(start, GetCurrentTimestamp(),
									   migrate_lock_wait))
			report_lock_holder();
		if (!told)
			ereport(NOTICE,
					errmsg("waiting for the migration lock: another migration is running"),
					errhidecontext(true));
		told = true;
		/* No transaction, so no snapshot, while it sleeps. */
		SPI_commit();
		InvalidateCatalogSnapshot();
		(void) WaitLatch(MyLatch, WL_LATCH_SET | WL_TIMEOUT | WL_EXIT_ON_PM_DEATH,
						 migrate_lock_wait >= 0
						 ? Min(pause, Max(migrate_lock_wait, 1)) : pause,
						 PG_WAIT_EXTENSION);
		ResetLatch(MyLatch);
		CHECK_FOR_INTERRUPTS();
		pause = Min(pause * 2, 5000);
	}
	SPI_finish();
	PG_RETURN_VOID();
}

/*
 * migrate.unlock_session() RETURNS void
 *
 * Releases what migrate.lock_session() took.
 */
PG_FUNCTION_INFO_V1(migrate_unlock_session);
Datum
migrate_unlock_session(PG_FUNCTION_ARGS)
{
	LOCKTAG		tag;

	if (open_statement != 0)
		lock_refuse_state_change("unlock_session");
	if (session_parts & LOCK_NONTRANSACTIONAL)
	{
		lock_tag(&tag, LOCK_NONTRANSACTIONAL);
		LockRelease(&tag, ExclusiveLock, true);
	}
	if (session_parts & LOCK_MIGRATION)
	{
		lock_tag(&tag, LOCK_MIGRATION);
		LockRelease(&tag, ExclusiveLock, true);
	}
	session_parts = 0;
	PG_RETURN_VOID();
}
