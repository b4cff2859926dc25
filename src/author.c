/*-------------------------------------------------------------------------
 *
 * author.c
 *		The rights a script runs with: those of the role that registered
 *		its revision (migrate.revisions.created_by), whoever applies it.
 *
 * Otherwise a deployer could register "ALTER ROLE deployer SUPERUSER" and
 * wait for a superuser (or a pg_cron job) to apply it.  The applier must be
 * allowed to become the author, as SET ROLE would require; the switch is a
 * local user id change, so a script cannot SET ROLE its way back to the
 * applier (validate.c refuses such statements up front, with a better
 * message than the one the switch gives).
 *
 * IDENTIFICATION
 *	  src/author.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "miscadmin.h"
#include "utils/acl.h"
#include "utils/builtins.h"

#include "migrate.h"

/* The role a revision's scripts run as; an error if it cannot be. */
Oid
author_role(const char *rev_id, const char *author)
{
	Oid			role = get_role_oid(author, true);
	Oid			applier = GetUserId();
	bool		allowed;

	if (!OidIsValid(role))
		ereport(ERROR,
				errcode(ERRCODE_UNDEFINED_OBJECT),
				errmsg("role \"%s\", which registered revision \"%s\", does not exist",
					   author, rev_id),
				errdetail("A revision's scripts run with the rights of the role that registered it."),
				errhint("Create the role, or give its revisions to another role with SELECT migrate.reassign_revisions('%s', '<role>'); as a superuser.",
						author));
	if (role == applier)
		return role;
#if PG_VERSION_NUM >= 160000
	allowed = member_can_set_role(applier, role);
#else
	allowed = is_member_of_role(applier, role);
#endif
	if (!allowed)
		ereport(ERROR,
				errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
				errmsg("permission denied to run revision \"%s\" as role \"%s\"",
					   rev_id, author),
				errdetail("A revision's scripts run with the rights of the role that registered it, and role \"%s\" cannot become role \"%s\".",
						  GetUserNameFromId(applier, false), author),
				errhint("Apply it as role \"%s\", or let role \"%s\" become it with GRANT \"%s\" TO \"%s\".",
						author, GetUserNameFromId(applier, false),
						author, GetUserNameFromId(applier, false)));
	return role;
}

/* Become the author for a script; author_restore() undoes it. */
void
author_become(Oid role, AuthorSwitch *saved)
{
	GetUserIdAndSecContext(&saved->userid, &saved->sec_context);
	SetUserIdAndSecContext(role, saved->sec_context | SECURITY_LOCAL_USERID_CHANGE);
}

void
author_restore(const AuthorSwitch *saved)
{
	SetUserIdAndSecContext(saved->userid, saved->sec_context);
}
