/*-------------------------------------------------------------------------
 *
 * fmgrutil.c
 *		Arguments and results of the SQL-callable functions: what every
 *		entry file (revision.c, upgrade.c, inspect.c, diff.c, lint.c, ...)
 *		shares.
 *
 * A low module: it uses none of the files that use it.  Every NULL where
 * a value is needed gets the same error, naming the argument.
 *
 * IDENTIFICATION
 *	  src/fmgrutil.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "catalog/pg_type.h"
#include "funcapi.h"
#include "miscadmin.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/tuplestore.h"

#include "migrate.h"

void
arg_reject_null(const char *argname)
{
	ereport(ERROR,
			errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
			errmsg("argument \"%s\" must not be null", argname));
}

/* A text argument that must not be NULL, as a C string. */
char *
arg_text(FunctionCallInfo fcinfo, int argno, const char *argname)
{
	if (PG_ARGISNULL(argno))
		arg_reject_null(argname);
	return text_to_cstring(PG_GETARG_TEXT_PP(argno));
}

/* A text argument that may be NULL (then NULL). */
char *
arg_text_or_null(FunctionCallInfo fcinfo, int argno)
{
	return PG_ARGISNULL(argno) ? NULL : text_to_cstring(PG_GETARG_TEXT_PP(argno));
}

bool
arg_bool(FunctionCallInfo fcinfo, int argno, const char *argname)
{
	if (PG_ARGISNULL(argno))
		arg_reject_null(argname);
	return PG_GETARG_BOOL(argno);
}

/* A scope argument: true for 'tenant', false for 'database'. */
bool
arg_scope(FunctionCallInfo fcinfo, int argno)
{
	char	   *scope = arg_text(fcinfo, argno, "scope");

	if (strcmp(scope, "tenant") == 0)
		return true;
	if (strcmp(scope, "database") != 0)
		ereport(ERROR,
				errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				errmsg("invalid scope \"%s\"", scope),
				errhint("A revision's scope is \"database\" (applied once) or \"tenant\" (applied in every tenant schema)."));
	return false;
}

/*
 * A text[] argument as C strings, each checked with validate_id() and
 * listed at most once.  "what" names an element in messages.
 */
char **
arg_id_array(FunctionCallInfo fcinfo, int argno, const char *argname,
			 const char *what, int *n)
{
	Datum	   *elems;
	bool	   *nulls;
	int			nelems;
	char	  **ids;

	if (PG_ARGISNULL(argno))
		arg_reject_null(argname);
	deconstruct_array(PG_GETARG_ARRAYTYPE_P(argno), TEXTOID, -1, false,
					  TYPALIGN_INT, &elems, &nulls, &nelems);
	ids = palloc(sizeof(char *) * Max(nelems, 1));
	for (int i = 0; i < nelems; i++)
	{
		if (nulls[i])
			ereport(ERROR,
					errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
					errmsg("argument \"%s\" must not contain null elements",
						   argname));
		ids[i] = TextDatumGetCString(elems[i]);
		validate_id(ids[i], what);
		for (int j = 0; j < i; j++)
			if (strcmp(ids[i], ids[j]) == 0)
				ereport(ERROR,
						errcode(ERRCODE_INVALID_PARAMETER_VALUE),
						errmsg("%s \"%s\" is listed twice in argument \"%s\"",
							   what, ids[i], argname));
	}
	*n = nelems;
	return ids;
}

/*
 * A text[] argument as C strings, without NULL elements; NULL stays NULL
 * (*n = -1).
 */
char **
arg_text_array(FunctionCallInfo fcinfo, int argno, const char *argname,
			   int *n)
{
	Datum	   *elems;
	bool	   *nulls;
	int			nelems;
	char	  **strings;

	*n = -1;
	if (PG_ARGISNULL(argno))
		return NULL;
	deconstruct_array(PG_GETARG_ARRAYTYPE_P(argno), TEXTOID, -1, false,
					  TYPALIGN_INT, &elems, &nulls, &nelems);
	strings = palloc(sizeof(char *) * Max(nelems, 1));
	for (int i = 0; i < nelems; i++)
	{
		if (nulls[i])
			ereport(ERROR,
					errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
					errmsg("argument \"%s\" must not contain null elements",
						   argname));
		strings[i] = TextDatumGetCString(elems[i]);
	}
	*n = nelems;
	return strings;
}

/*
 * A text result built in "cxt" (the caller's context, which outlives SPI);
 * NULL for a NULL value.
 */
Datum
result_text(FunctionCallInfo fcinfo, MemoryContext cxt, const char *value)
{
	MemoryContext old;
	text	   *result;

	if (value == NULL)
		PG_RETURN_NULL();
	old = MemoryContextSwitchTo(cxt);
	result = cstring_to_text(value);
	MemoryContextSwitchTo(old);
	PG_RETURN_TEXT_P(result);
}

/*
 * Materialized set-returning functions: the tuplestore lives in the
 * query's memory, so it outlives SPI.
 */
Tuplestorestate *
srf_begin(FunctionCallInfo fcinfo, TupleDesc *tupdesc)
{
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	MemoryContext oldcxt;
	Tuplestorestate *store;
	TupleDesc	desc;

	if (rsinfo == NULL || !IsA(rsinfo, ReturnSetInfo) ||
		!(rsinfo->allowedModes & SFRM_Materialize))
		ereport(ERROR,
				errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
				errmsg("set-valued function called in context that cannot accept a set"));

	oldcxt = MemoryContextSwitchTo(rsinfo->econtext->ecxt_per_query_memory);
	if (get_call_result_type(fcinfo, NULL, &desc) != TYPEFUNC_COMPOSITE)
	{
		desc = CreateTemplateTupleDesc(1);
		TupleDescInitEntry(desc, (AttrNumber) 1, "value", TEXTOID, -1, 0);
	}
	desc = BlessTupleDesc(desc);
	store = tuplestore_begin_heap(true, false, work_mem);
	rsinfo->returnMode = SFRM_Materialize;
	rsinfo->setResult = store;
	rsinfo->setDesc = desc;
	MemoryContextSwitchTo(oldcxt);

	*tupdesc = desc;
	return store;
}

/* A text[] value of C strings. */
Datum
text_array_datum(int n, char **strings)
{
	Datum	   *elems = palloc(sizeof(Datum) * Max(n, 1));

	for (int i = 0; i < n; i++)
		elems[i] = CStringGetTextDatum(strings[i]);
	return PointerGetDatum(construct_array(elems, n, TEXTOID, -1, false,
										   TYPALIGN_INT));
}

/*
 * Was the procedure CALLed on its own, outside a transaction block, so
 * that it may commit?
 */
bool
call_is_nonatomic(FunctionCallInfo fcinfo)
{
	return fcinfo->context != NULL && IsA(fcinfo->context, CallContext) &&
		!castNode(CallContext, fcinfo->context)->atomic;
}
