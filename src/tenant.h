/*-------------------------------------------------------------------------
 *
 * tenant.h
 *		What the tenant files share for migrate.run_tenants(): one tenant's
 *		run (tenant.c), used by the calling session (tenant_run.c) and by
 *		the background workers it starts for parallel => N
 *		(tenant_worker.c), and the dynamic shared memory through which the
 *		workers take tenants.
 *
 * IDENTIFICATION
 *	  src/tenant.h
 *
 *-------------------------------------------------------------------------
 */
#ifndef MIGRATE_TENANT_H
#define MIGRATE_TENANT_H

#include "postgres.h"

#include "port/atomics.h"
#include "storage/proc.h"

#include "migrate.h"

/* How one tenant's run ended. */
typedef enum TenantOutcome
{
	TENANT_AT_TARGET,			/* nothing to do */
	TENANT_MOVED,
	TENANT_FAILED,				/* rolled back and recorded */
	TENANT_GONE,				/* dropped while the run went on */
	TENANT_NOUTCOMES
} TenantOutcome;

/* What a backend needs to move tenants one step per transaction. */
typedef struct TenantRun
{
	const char *target;
	MemoryContext graphcxt;		/* the tenant graph, kept across commits */
	MigrateGraph *graph;
	int64		graph_changes;	/* the state's counter it was read at */
	MemoryContext stepcxt;		/* reset before each step */
	void		(*commit) (void);	/* end the step's transaction, start the next */
	ErrorData  *error;			/* the last failure, until the next tenant */
} TenantRun;

/* tenant.c */
extern TenantOutcome tenant_run_one(TenantRun *run, const char *tenant);

/*
 * The shared memory of a parallel run: the caller fills it, each worker
 * takes the next tenant by an atomic counter and sets its state when done.
 */
#define TENANT_PENDING	0
#define TENANT_TAKEN	1
#define TENANT_DONE		2		/* + TenantOutcome */

typedef struct TenantSlot
{
	char		name[NAMEDATALEN];
	pg_atomic_uint32 state;
} TenantSlot;

/* Settings of the caller the workers run with: script behaviour and locks. */
#define TENANT_NSETTINGS	6
#define TENANT_SETTING_LEN	1024

typedef struct TenantShared
{
	Oid			database;
	Oid			session_user;
	Oid			outer_role;		/* the caller's SET ROLE, or InvalidOid */
	PGPROC	   *caller;			/* whose latch the workers set */
	char		target[TENANT_SETTING_LEN];
	char		settings[TENANT_NSETTINGS][TENANT_SETTING_LEN];
	pg_atomic_uint32 next;		/* the next slot to take */
	int			ntenants;
	TenantSlot	slots[FLEXIBLE_ARRAY_MEMBER];
} TenantShared;

extern const char *const tenant_setting_names[TENANT_NSETTINGS];

/* tenant_worker.c: the workers, and the caller's side of them */
extern void tenant_run_parallel(TenantRun *run, List *tenants, int parallel,
								int *counts, StringInfo failed);
extern PGDLLEXPORT void migrate_tenant_worker_main(Datum arg);

#endif							/* MIGRATE_TENANT_H */
