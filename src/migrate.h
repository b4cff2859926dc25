/*-------------------------------------------------------------------------
 *
 * migrate.h
 *		Types and functions shared by the files of the migrate extension.
 *
 * The revision graph (MigrateGraph) is plain palloc'd memory: catalog_graph.c
 * fills it from migrate.revisions in one query, graph.c and target.c work on
 * it without SPI, apply.c runs the scripts of the steps they choose.
 *
 * IDENTIFICATION
 *	  src/migrate.h
 *
 *-------------------------------------------------------------------------
 */
#ifndef MIGRATE_H
#define MIGRATE_H

#include "postgres.h"

#include "access/tupdesc.h"
#include "datatype/timestamp.h"
#include "fmgr.h"
#include "nodes/pg_list.h"
#include "utils/hsearch.h"

#include "compat.h"

/* Revision ids and branch labels: [A-Za-z0-9_]{1,64}, not a keyword. */
#define MIGRATE_ID_MAXLEN		64

/*
 * What to run when the database is behind its revisions: every message
 * that says so (require(), autogenerate(), check) gives this one way.
 */
#define MIGRATE_CATCH_UP \
	"\"pg_migrate upgrade head\" (or SELECT migrate.upgrade('head');)"

/* Length of the random ids that migrate.revision() makes up. */
#define MIGRATE_RANDOM_ID_LEN	12

typedef enum MigrateDirection
{
	MIGRATE_UP,
	MIGRATE_DOWN
} MigrateDirection;

/*
 * One revision of the graph.  Edges are indexes into MigrateGraph.revs;
 * the names as stored in the catalog are kept too, for messages.
 */
typedef struct MigrateRevision
{
	char	   *id;
	char	   *message;
	char	   *checksum;		/* only when loaded with GRAPH_CHECKSUMS */
	int64		seq;			/* registration order */
	bool		has_downgrade;
	bool		transactional;	/* false: pg_migrate runs it statement by statement */
	bool		phantom;		/* named, but not registered (lenient graphs) */
	bool		tenant_scope;	/* applied in every tenant schema */

	int			nparents;
	char	  **parent_ids;
	int		   *parents;
	int			ndepends;
	char	  **depends_ids;
	int		   *depends;
	int			nlabels;
	char	  **labels;
	/*
	 * Database revisions a tenant revision depends on: not edges of its
	 * graph.  They follow its dependencies in depends_ids (external_ids
	 * points there), as registered.
	 */
	int			nexternal;
	char	  **external_ids;

	/* reverse edges, filled by graph_build() */
	int			nchildren;
	int		   *children;
	int			ndependents;
	int		   *dependents;

	/* scripts, only when loaded with GRAPH_SCRIPTS */
	char	   *upgrade;
	char	   *downgrade;

	/* applied state */
	bool		applied;
	bool		has_applied_at;
	TimestampTz applied_at;
	char	   *applied_checksum;	/* only with GRAPH_CHECKSUMS */

	/* lint findings its scripts waive, only when it is registered */
	List	   *lint_waived;
} MigrateRevision;

/* Finds revisions by id or by branch label (graph.c). */
typedef struct GraphIndex GraphIndex;

/*
 * Every string of a graph that catalog_load_graph() read (ids, messages,
 * scripts, labels, checksums) is also a text value: its four-byte header
 * sits right before it.  graph_text() is that value, returned without a
 * copy.
 */
#define graph_text(s)	((text *) ((char *) (s) - VARHDRSZ))

typedef struct MigrateGraph
{
	int			nrevs;
	MigrateRevision *revs;		/* sorted by registration order */
	GraphIndex *by_id;			/* id -> index, built on the first lookup */
	GraphIndex *by_label;		/* branch label -> index, likewise */
	MemoryContext cxt;			/* where the graph lives */
} MigrateGraph;

/*
 * What a target string resolves to.  MIGRATE_TARGET_REVISIONS holds one
 * revision, or several for "heads"; MIGRATE_TARGET_BRANCH_BASE holds the
 * labelled revision whose branch "<label>@base" names.
 */
typedef enum MigrateTargetKind
{
	MIGRATE_TARGET_BASE,
	MIGRATE_TARGET_REVISIONS,
	MIGRATE_TARGET_BRANCH_BASE
} MigrateTargetKind;

typedef struct MigrateTarget
{
	MigrateTargetKind kind;
	int			nrevs;
	int		   *revs;
} MigrateTarget;

/* An ordered list of revisions to apply, unapply or stamp. */
typedef struct MigrateSteps
{
	int			nsteps;
	int		   *revs;
} MigrateSteps;

/* One statement of a script, as cut out by script_split(). */
typedef struct ScriptStatement
{
	char	   *text;
	int			number;			/* 1-based position in the script */
	int			line;			/* line of the script it starts on */
	int			location;		/* byte offset of its first keyword */
	struct RawStmt *raw;
} ScriptStatement;

/* migrate.c: settings */
extern bool migrate_report_timing;
extern int	migrate_lock_wait;
extern int	migrate_ddl_lock_timeout;
extern int	migrate_ddl_lock_retries;
extern bool migrate_restore_point;

typedef enum MigrateLintMode
{
	MIGRATE_LINT_OFF,
	MIGRATE_LINT_WARN,
	MIGRATE_LINT_ERROR
} MigrateLintMode;
extern int	migrate_lint_mode;
extern int	migrate_lint_large_table;	/* kB */
extern bool migrate_from_pg_migrate(void);
extern const char *migrate_merge_advice(void);

/* graph.c: pure graph algorithms, no SPI */
extern MigrateGraph *graph_build(MigrateRevision *revs, int nrevs, bool lenient);
extern int *graph_cycle_members(const MigrateGraph *graph, int *n);
extern int	graph_find(const MigrateGraph *graph, const char *id);
extern int	graph_find_label(const MigrateGraph *graph, const char *label);
extern int *graph_heads(const MigrateGraph *graph, int *nheads);
extern int *graph_current_heads(const MigrateGraph *graph, int *nheads);
extern char *graph_current_string(const MigrateGraph *graph);
extern void graph_mark_ancestors(const MigrateGraph *graph, const int *seeds,
								 int nseeds, bool *mark);
extern void graph_mark_descendants(const MigrateGraph *graph, const int *seeds,
								   int nseeds, bool dependents, bool *mark);
extern void graph_mark_branch(const MigrateGraph *graph, int labelled,
							  bool *mark);
extern int	graph_branch_root(const MigrateGraph *graph, int labelled);
extern MigrateSteps *graph_order_up(const MigrateGraph *graph, const bool *set);
extern MigrateSteps *graph_order_down(const MigrateGraph *graph,
									  const bool *set);
extern MigrateSteps *graph_upgrade_steps(const MigrateGraph *graph,
										 const MigrateTarget *target);
extern MigrateSteps *graph_downgrade_steps(const MigrateGraph *graph,
										   const MigrateTarget *target,
										   const char *target_text);
extern void graph_stamp_sets(const MigrateGraph *graph,
							 const MigrateTarget *target,
							 MigrateSteps **add, MigrateSteps **remove);
extern char *graph_id_list(const MigrateGraph *graph, const int *revs, int n,
						   bool sort_by_id);

/* target.c: the target grammar, no SPI */
extern MigrateTarget *target_resolve(const MigrateGraph *graph,
									 const char *target);
extern int	target_resolve_revision(const MigrateGraph *graph,
									const char *name);
extern void target_refuse_branch_base(const MigrateTarget *target,
									  const char *text, const char *funcname);
extern MigrateSteps *target_steps(const MigrateGraph *graph,
								  const char *target_text, bool downgrade,
								  const char *funcname);

/* validate.c: ids, labels and scripts, checked with the server's parser */
extern void validate_id(const char *id, const char *what);
extern char *script_name(const char *rev_id, MigrateDirection direction);
extern List *script_split(const char *script, const char *what);
extern bool reindex_is_concurrent(const struct ReindexStmt *stmt);
extern void script_check_statements(List *stmts, const char *script,
									const char *rev_id,
									MigrateDirection direction,
									bool transactional);
extern List *validate_script(const char *script, const char *rev_id,
							 MigrateDirection direction, bool transactional);

/* lint.c: rules on the parse tree, no SPI */
typedef struct LintFinding
{
	int			statement;		/* 1-based */
	int			line;
	const char *rule;
	const char *severity;		/* "error" or "warning" */
	char	   *message;
	char	   *hint;
	bool		ignored;		/* waived by a migrate:lint-ignore comment */
} LintFinding;

extern List *lint_statements(List *stmts, const char *script);
extern List *lint_revision(const char *rev_id, const char *upgrade,
						   List *upgrade_stmts);

/* fmgrutil.c: arguments and results of the SQL-callable functions */
extern bool call_is_nonatomic(FunctionCallInfo fcinfo);
extern void arg_reject_null(const char *argname) pg_attribute_noreturn();
extern char *arg_text(FunctionCallInfo fcinfo, int argno, const char *argname);
extern char *arg_text_or_null(FunctionCallInfo fcinfo, int argno);
extern bool arg_bool(FunctionCallInfo fcinfo, int argno, const char *argname);
extern bool arg_scope(FunctionCallInfo fcinfo, int argno);
extern char **arg_id_array(FunctionCallInfo fcinfo, int argno,
						   const char *argname, const char *what, int *n);
extern char **arg_text_array(FunctionCallInfo fcinfo, int argno,
							 const char *argname, int *n);
extern Datum result_text(FunctionCallInfo fcinfo, MemoryContext cxt,
						 const char *value);
extern struct Tuplestorestate *srf_begin(FunctionCallInfo fcinfo,
										 TupleDesc *tupdesc);
extern Datum text_array_datum(int n, char **strings);

/* lock.c: the migration lock and the guards of state-changing calls */
extern void lock_refuse_state_change(const char *funcname);
extern void lock_open_statement(int number);
extern void lock_close_statement(const char *funcname);
extern int64 lock_state_change(const char *funcname);
extern int64 lock_tenant_change(const char *funcname);
extern bool lock_try_session(bool nontransactional);
extern bool lock_session_held(void);

/* inspect.c: the read-only calls */
extern void inspect_require_head(const MigrateGraph *graph);

/* revision.c: registration */
typedef struct NewRevision
{
	char	   *id;
	bool		id_given;
	const char *upgrade;
	const char *downgrade;
	const char *message;
	bool		parents_given;
	int			nparents;
	char	  **parents;
	int			ndepends;
	char	  **depends;
	int			nlabels;
	char	  **labels;
	bool		transactional;
	bool		tenant_scope;
} NewRevision;

extern char *revision_register(NewRevision *nr);
extern char *revision_register_new(const char *upgrade, const char *downgrade,
								   const char *message);
extern void revision_forget(const MigrateGraph *graph, int index, bool no_file);

/* revfile.c: the revision-file format, no SPI */
typedef struct RevisionFile
{
	char	   *name;			/* as given: a path or a base name */
	int			line;			/* of its "-- migrate:revision" header */
	int			upgrade_line;	/* where its scripts start in the file */
	int			downgrade_line; /* 0: no downgrade */
	bool		is_head;		/* no file names it as a parent */
	NewRevision rev;
} RevisionFile;

extern char *revfile_text(const char *name, const char *data, int len,
						  int encoding);
extern RevisionFile *revfile_parse(const char *name, const char *text);
extern RevisionFile **revfile_parse_all(char **names, const char **datas,
										const int *lens, int n, int encoding);
extern void revfile_order(RevisionFile **files, int n);
extern void revfile_push_context(const RevisionFile *file,
								 ErrorContextCallback *callback);
extern int	revfile_read_archive(const char *archive, int64 len, char ***names,
								 const char ***datas, int **lens);

/* catalog.c: how the catalog files below run their queries */
extern bool catalog_writing;
extern void catalog_connect(void);
extern void catalog_disconnect(void);
extern char *catalog_extension_version(void);

/* catalog_state.c: migrate.state, behind lock.c's lock */
extern int64 catalog_read_changes(void);
extern char *catalog_lock_holder(Oid classid, Oid objid, int16 part);
extern bool catalog_cached_state(List **heads, char **current);
extern void catalog_save_state(const MigrateGraph *graph);
extern void catalog_invalidate_state(void);
extern bool catalog_synced(const char *fingerprint);
extern void catalog_set_synced(const char *fingerprint);

/* catalog_graph.c: the whole graph, in one scan of each table */
extern MigrateGraph *catalog_load_graph(int parts);
/* What catalog_load_graph() reads besides the edges and applied state. */
#define GRAPH_SCRIPTS	0x01	/* upgrade and downgrade scripts */
#define GRAPH_CHECKSUMS	0x02	/* registered and applied checksums */
#define GRAPH_LENIENT	0x04	/* a damaged catalog: see graph_build() */
/*
 * Which revisions: by default the database's.  The tenant graph comes
 * without applied state (each tenant has its own: catalog_tenant_applied()).
 */
#define GRAPH_TENANT	0x08	/* the tenant revisions instead */
#define GRAPH_ALL_SCOPES 0x10	/* both, in one graph (cycles, forget) */

/* catalog_revision.c: one revision's row of migrate.revisions */
extern bool catalog_fetch_revision(const char *id, MigrateRevision *rev);
extern List *catalog_missing_revisions(int n, char **ids);
extern void catalog_tenant_revisions(int n, char **ids, bool *tenant);
extern char *catalog_label_owner(const char *label, const char *except_id);
extern char *catalog_id_with_prefix(const char *prefix, const char *except_id);
extern char *catalog_label_prefix(const char *id, const char *except_id,
								  char **owner);
extern char *catalog_checksum(const char *upgrade, const char *downgrade,
							  int nparents, char **parents,
							  int ndepends, char **depends,
							  bool transactional, bool tenant_scope);
extern void catalog_insert_revision(const MigrateRevision *rev,
									const char *upgrade,
									const char *downgrade);
extern void catalog_update_revision(const MigrateRevision *rev,
									const char *upgrade,
									const char *downgrade, bool new_author);
extern uint64 catalog_reassign(const char *from, const char *to);
extern void catalog_forget_revision(const char *id);
extern void catalog_set_files(int n, char **ids, char **files);
extern bool catalog_any_nontransactional(const bool *applied);
extern char *catalog_fetch_script(const MigrateRevision *rev,
								  MigrateDirection direction, char **author);

/* catalog_tenant.c: the tenants, each one's lock and applied state */
typedef enum TenantLock
{
	TENANT_LOCKED,
	TENANT_BUSY,				/* another transaction holds it */
	TENANT_UNKNOWN				/* not a registered tenant */
} TenantLock;

extern TenantLock catalog_tenant_lock(const char *tenant, bool skip,
									  char **current);
extern bool catalog_tenant_exists(const char *tenant, char **current);
extern void catalog_tenant_applied(MigrateGraph *graph, const char *tenant);
extern void catalog_tenant_save(const char *tenant, const char *current);
extern void catalog_tenant_failed(const char *tenant, const ErrorData *edata);
extern bool catalog_tenant_add(const char *tenant);
extern bool catalog_tenant_remove(const char *tenant);
extern List *catalog_tenant_list(const char *skip);
extern int64 catalog_tenant_count(void);

/* catalog_applied.c: what ran (migrate.applied, log, statement_progress) */
extern bool catalog_is_applied(const char *id, const char *tenant);
extern void catalog_applied_changed(bool tenant);
extern void catalog_set_applied(const MigrateRevision *rev, bool applied,
								double duration_ms, const char *tenant);
extern List *catalog_applied_unregistered(void);
extern void catalog_log(const char *action, const char *revision,
						MigrateDirection direction, TimestampTz started,
						TimestampTz finished, const char *tenant);
extern void catalog_log_failure(const char *action, const char *revision,
								MigrateDirection direction,
								TimestampTz started, TimestampTz finished,
								const ErrorData *edata, const char *tenant);
extern void catalog_statements_done(const char *id, MigrateDirection direction,
									int n, bool *done, bool *started,
									TimestampTz *first);
extern void catalog_statement_done(const char *id, MigrateDirection direction,
								   int number, bool started);
extern void catalog_statements_clear(const char *id, MigrateDirection direction);
extern int64 catalog_statements_recorded(const char *id);

/* sandbox.c: what the desired DDL of migrate.diff() may do */
extern void sandbox_install(void);
extern void sandbox_check_statements(List *stmts, const char *desired,
									 const char *schema);
extern void sandbox_run(List *stmts);
extern void sandbox_check_live_untouched(Oid live, const char *schema);

/* author.c: scripts run with the rights of the role that registered them */
typedef struct AuthorSwitch
{
	Oid			userid;
	int			sec_context;
} AuthorSwitch;

extern Oid	author_role(const char *rev_id, const char *author);
extern void author_become(Oid role, AuthorSwitch *saved);
extern void author_restore(const AuthorSwitch *saved);

/* tenant.c: the tenant frame */
extern void tenant_refuse_other_scope(const MigrateGraph *graph,
									  const char *target, bool tenant_scope);
extern void tenant_refuse_unapplied_external(const MigrateGraph *graph,
											 const MigrateSteps *steps);
extern void tenant_refuse_unknown(const char *tenant) pg_attribute_noreturn();
extern char *tenant_move_to(const char *tenant, const char *target,
							bool downgrade, const char *funcname);

/* apply.c: running scripts */
extern bool apply_in_progress;
extern ErrorData *apply_in_subtransaction(void (*fn) (void *arg), void *arg);
extern void apply_steps(MigrateGraph *graph, const MigrateSteps *steps,
						MigrateDirection direction, const char *tenant);
extern void stamp_steps(MigrateGraph *graph, const MigrateSteps *steps,
						MigrateDirection direction);

#endif							/* MIGRATE_H */
