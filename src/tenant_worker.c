/*-------------------------------------------------------------------------
 *
 * tenant_worker.c
 *		migrate.run_tenants(parallel => N): N dynamic background workers,
 *		started by the call, in the caller's database as the caller's role,
 *		each taking the next tenant until none is left, while the caller
 *		waits, reports each tenant as it ends, and sums up.
 *
 * The workers share a segment of dynamic shared memory (TenantShared,
 * tenant.h): the tenants' names, an atomic counter of the next one to
 * take, and each one's state.  Each worker moves a tenant with the same
 * tenant_run_one() as the caller does, one revision per transaction, so
 * what a failing or killed worker leaves is what a failing or killed
 * session would: the tenant's last step rolled back, and the next run
 * finishes it.  A worker never holds more than one tenant's lock, and the
 * caller holds none while it waits, so nothing waits in a circle.
 *
 * IDENTIFICATION
 *	  src/tenant_worker.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/xact.h"
#include "executor/spi.h"
#include "lib/stringinfo.h"
#include "miscadmin.h"
#include "pgstat.h"
#include "postmaster/bgworker.h"
#include "storage/dsm.h"
#include "storage/latch.h"
#include "tcop/tcopprot.h"
#include "utils/builtins.h"
#include "utils/guc.h"
#include "utils/memutils.h"
#include "utils/snapmgr.h"

#include "migrate.h"
#include "tenant.h"

/*
 * What the scripts and the locks depend on: a worker runs with the
 * caller's values of these.
 */
const char *const tenant_setting_names[TENANT_NSETTINGS] = {
	"search_path", "lock_timeout", "migrate.lock_wait",
	"migrate.ddl_lock_timeout", "migrate.ddl_lock_retries",
	"migrate.report_timing"
};

/* ---------------------------------------------------------------------
 * The worker
 * ---------------------------------------------------------------------
 */

/*
 * A worker's transactions, one per step, as SPI_commit() gives a
 * procedure: SPI connected, under an outer snapshot (each query that writes
 * takes a new one, as in a procedure).
 */
static void
worker_begin(void)
{
	StartTransactionCommand();
	PushActiveSnapshot(GetTransactionSnapshot());
	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");
}

static void
worker_end(void)
{
	SPI_finish();
	PopActiveSnapshot();
	CommitTransactionCommand();
}

static void
worker_commit(void)
{
	MemoryContext cxt = CurrentMemoryContext;

	worker_end();
	worker_begin();
	MemoryContextSwitchTo(cxt);
}

void
migrate_tenant_worker_main(Datum arg)
{
	dsm_segment *seg;
	TenantShared *shared;
	TenantRun	run;

	pqsignal(SIGTERM, die);
	BackgroundWorkerUnblockSignals();

	/* Mapped before any transaction: the mapping lasts across commits. */
	seg = dsm_attach(DatumGetUInt32(arg));
	if (seg == NULL)
		ereport(ERROR,
				errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				errmsg("could not map the shared memory of migrate.run_tenants()"));
	shared = dsm_segment_address(seg);

	BackgroundWorkerInitializeConnectionByOid(shared->database,
											  shared->session_user, 0);
	pgstat_report_appname("migrate.run_tenants() worker");

	StartTransactionCommand();
	for (int i = 0; i < TENANT_NSETTINGS; i++)
		(void) set_config_option(tenant_setting_names[i], shared->settings[i],
								 PGC_USERSET, PGC_S_SESSION, GUC_ACTION_SET,
								 true, 0, false);
	if (OidIsValid(shared->outer_role))
		SetCurrentRoleId(shared->outer_role, superuser_arg(shared->outer_role));
	CommitTransactionCommand();
	worker_begin();

	memset(&run, 0, sizeof(run));
	run.target = shared->target;
	run.commit = worker_commit;
	run.graphcxt = AllocSetContextCreate(TopMemoryContext, "migrate tenant graph",
										 ALLOCSET_DEFAULT_SIZES);
	run.stepcxt = AllocSetContextCreate(TopMemoryContext, "migrate tenant step",
										ALLOCSET_DEFAULT_SIZES);

	for (;;)
	{
		uint32		i = pg_atomic_fetch_add_u32(&shared->next, 1);
		TenantOutcome outcome;

		if (i >= (uint32) shared->ntenants)
			break;
		pg_atomic_write_u32(&shared->slots[i].state, TENANT_TAKEN);
		pgstat_report_activity(STATE_RUNNING,
							   psprintf("migrating tenant %s", shared->slots[i].name));
		MemoryContextSwitchTo(run.stepcxt);
		outcome = tenant_run_one(&run, shared->slots[i].name);
		pg_atomic_write_u32(&shared->slots[i].state, TENANT_DONE + outcome);
		SetLatch(&shared->caller->procLatch);
	}

	/* The caller hears of the exit from the postmaster (bgw_notify_pid). */
	worker_end();
	dsm_detach(seg);
}

/* ---------------------------------------------------------------------
 * The caller's side
 * ---------------------------------------------------------------------
 */

static const char *const outcome_words[TENANT_NOUTCOMES] = {
	"already at target", "migrated", "failed", "dropped during the run"
};

/* Start up to n workers; returns how many started. */
static int
start_workers(dsm_segment *seg, int n, BackgroundWorkerHandle **handles)
{
	BackgroundWorker worker;
	int			started = 0;

	memset(&worker, 0, sizeof(worker));
	worker.bgw_flags = BGWORKER_SHMEM_ACCESS | BGWORKER_BACKEND_DATABASE_CONNECTION;
	worker.bgw_start_time = BgWorkerStart_RecoveryFinished;
	worker.bgw_restart_time = BGW_NEVER_RESTART;
	snprintf(worker.bgw_library_name, BGW_MAXLEN, "migrate");
	snprintf(worker.bgw_function_name, BGW_MAXLEN, "migrate_tenant_worker_main");
	snprintf(worker.bgw_name, BGW_MAXLEN, "migrate.run_tenants() worker for PID %d",
			 MyProcPid);
	snprintf(worker.bgw_type, BGW_MAXLEN, "migrate tenant worker");
	worker.bgw_main_arg = UInt32GetDatum(dsm_segment_handle(seg));
	worker.bgw_notify_pid = MyProcPid;

	for (int i = 0; i < n; i++)
	{
		pid_t		pid;

		if (!RegisterDynamicBackgroundWorker(&worker, &handles[started]))
			break;
		if (WaitForBackgroundWorkerStartup(handles[started], &pid) != BGWH_STARTED)
			break;
		started++;
	}
	if (started < n)
		ereport(NOTICE,
				errmsg("migrate.run_tenants() started %d of %d workers", started, n),
				errdetail("The server has no more background worker slots free."),
				errhint("Raise max_worker_processes, or ask for fewer with parallel => %d.",
						Max(started, 1)),
				errhidecontext(true));
	return started;
}

static bool
any_running(BackgroundWorkerHandle **handles, int n)
{
	for (int i = 0; i < n; i++)
	{
		pid_t		pid;

		if (GetBackgroundWorkerPid(handles[i], &pid) != BGWH_STOPPED)
			return true;
	}
	return false;
}

/* Report the tenants that ended since the last look; true when all did. */
static bool
report_ended(TenantShared *shared, bool *reported, int *counts,
			 StringInfo failed)
{
	bool		all = true;

	pg_read_barrier();
	for (int i = 0; i < shared->ntenants; i++)
	{
		uint32		state = pg_atomic_read_u32(&shared->slots[i].state);
		TenantOutcome outcome;

		if (reported[i])
			continue;
		if (state < TENANT_DONE)
		{
			all = false;
			continue;
		}
		outcome = (TenantOutcome) (state - TENANT_DONE);
		reported[i] = true;
		counts[outcome]++;
		if (outcome == TENANT_FAILED)
			appendStringInfo(failed, "%s%s", failed->len > 0 ? ", " : "",
							 quote_identifier(shared->slots[i].name));
		ereport(NOTICE,
				errmsg("tenant %s: %s", shared->slots[i].name, outcome_words[outcome]),
				errhidecontext(true));
	}
	return all;
}

/*
 * Wait for the workers, reporting each tenant as it ends; then do what no
 * worker finished (none could start, or one stopped) in this session.
 */
static void
wait_and_finish(TenantRun *run, dsm_segment *seg, TenantShared *shared,
				int nwanted, BackgroundWorkerHandle **handles, int *nworkers,
				bool *reported, int *counts, StringInfo failed)
{
	MemoryContext cxt = CurrentMemoryContext;

	*nworkers = start_workers(seg, nwanted, handles);
	while (*nworkers > 0 && any_running(handles, *nworkers))
	{
		(void) report_ended(shared, reported, counts, failed);
		(void) WaitLatch(MyLatch, WL_LATCH_SET | WL_TIMEOUT | WL_EXIT_ON_PM_DEATH,
						 1000, PG_WAIT_EXTENSION);
		ResetLatch(MyLatch);
		CHECK_FOR_INTERRUPTS();
	}
	(void) report_ended(shared, reported, counts, failed);

	/*
	 * A tenant a stopped worker held is rolled back with its transaction;
	 * those no worker took are the caller's.
	 */
	for (int i = 0; i < shared->ntenants; i++)
	{
		uint32		state = pg_atomic_read_u32(&shared->slots[i].state);
		TenantOutcome outcome;

		if (reported[i])
			continue;
		if (state == TENANT_TAKEN)
			ereport(WARNING,
					errmsg("the worker migrating tenant \"%s\" stopped; migrating it again",
						   shared->slots[i].name),
					errhint("The server log says why the worker stopped."));
		MemoryContextSwitchTo(run->stepcxt);
		outcome = tenant_run_one(run, shared->slots[i].name);
		MemoryContextSwitchTo(cxt);
		pg_atomic_write_u32(&shared->slots[i].state, TENANT_DONE + outcome);
	}
	(void) report_ended(shared, reported, counts, failed);
}

/*
 * Move the tenants with "parallel" workers, waiting for them; counts and
 * failed as the caller's own loop would leave them.
 */
void
tenant_run_parallel(TenantRun *run, List *tenants, int parallel, int *counts,
					StringInfo failed)
{
	int			ntenants = list_length(tenants);
	int			nwanted = Min(parallel, ntenants);
	Size		size = offsetof(TenantShared, slots) + sizeof(TenantSlot) * ntenants;
	dsm_segment *seg;
	TenantShared *shared;
	BackgroundWorkerHandle **handles;
	bool	   *reported = palloc0(sizeof(bool) * ntenants);
	int			nworkers = 0;
	ListCell   *lc;
	int			i = 0;

	if (lock_session_held())
		ereport(ERROR,
				errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				errmsg("migrate.run_tenants(parallel => %d) cannot run while this session holds the migration lock",
					   parallel),
				errdetail("Its workers would wait for this session, which waits for them."),
				errhint("Call SELECT migrate.unlock_session(); first, or use parallel => 1."));
	if (strlen(run->target) >= TENANT_SETTING_LEN)
		ereport(ERROR,
				errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
				errmsg("target is too long for parallel => %d: %zu bytes", parallel,
					   strlen(run->target)));
	foreach(lc, tenants)
		if (strlen(lfirst(lc)) >= NAMEDATALEN)
			ereport(ERROR,
					errcode(ERRCODE_NAME_TOO_LONG),
					errmsg("tenant name \"%s\" is too long", (char *) lfirst(lc)),
					errdetail("A tenant is a schema name: at most %d bytes.", NAMEDATALEN - 1));

	seg = dsm_create(size, 0);
	shared = dsm_segment_address(seg);
	memset(shared, 0, size);
	shared->database = MyDatabaseId;
	shared->session_user = GetSessionUserId();
	shared->outer_role = GetCurrentRoleId();
	shared->caller = MyProc;
	strlcpy(shared->target, run->target, TENANT_SETTING_LEN);
	for (int s = 0; s < TENANT_NSETTINGS; s++)
		strlcpy(shared->settings[s],
				GetConfigOptionByName(tenant_setting_names[s], NULL, false),
				TENANT_SETTING_LEN);
	pg_atomic_init_u32(&shared->next, 0);
	shared->ntenants = ntenants;
	foreach(lc, tenants)
	{
		strlcpy(shared->slots[i].name, lfirst(lc), NAMEDATALEN);
		pg_atomic_init_u32(&shared->slots[i].state, TENANT_PENDING);
		i++;
	}

	handles = palloc0(sizeof(BackgroundWorkerHandle *) * nwanted);
	/* The caller commits too when it finishes what the workers left. */
	dsm_pin_mapping(seg);
	PG_TRY();
	{
		wait_and_finish(run, seg, shared, nwanted, handles, &nworkers,
						reported, counts, failed);
	}
	PG_FINALLY();
	{
		/* Cancelled or failed here: the workers stop too. */
		for (int w = 0; w < nworkers; w++)
			TerminateBackgroundWorker(handles[w]);
		dsm_detach(seg);
	}
	PG_END_TRY();
}
