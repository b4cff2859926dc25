#!/usr/bin/env python3
# pg_migrate_sqlalchemy.py MODULE:ATTRIBUTE: prints the DDL that SQLAlchemy's
# metadata.create_all() would run on PostgreSQL for that MetaData (or
# declarative base), recorded by a mock engine: enum types, sequences,
# tables, indexes, comments, in SQLAlchemy's own order.  Run by
# "pg_migrate revision --autogenerate --from-sqlalchemy" and "check".
import importlib
import os
import sys


def fail(message):
    sys.stderr.write("pg_migrate: " + message + "\n")
    sys.exit(1)


try:
    import sqlalchemy
    from sqlalchemy import MetaData, create_mock_engine
except ImportError as error:
    fail("cannot import SQLAlchemy 1.4 or later (%s): install it (Debian: apt-get install python3-sqlalchemy), or name a Python that has it with PYTHON" % error)

spec = sys.argv[1]
module_name, _, attribute = spec.partition(":")
sys.path.insert(0, os.getcwd())
try:
    target = importlib.import_module(module_name)
except Exception as error:
    fail("cannot import module %s: %s: %s" % (module_name, type(error).__name__, error))
for part in attribute.split("."):
    if not hasattr(target, part):
        fail("%s has no attribute %s" % (spec, part))
    target = getattr(target, part)
metadata = target if isinstance(target, MetaData) else getattr(target, "metadata", None)
if not isinstance(metadata, MetaData):
    fail("%s is neither a MetaData nor a declarative base with .metadata" % spec)

statements = []


def record(sql, *args, **kwargs):
    statements.append(str(sql.compile(dialect=engine.dialect)).strip() + ";")


engine = create_mock_engine("postgresql://", record)
metadata.create_all(engine, checkfirst=False)
print("\n\n".join(statements))
