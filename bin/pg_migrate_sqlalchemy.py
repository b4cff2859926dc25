#!/usr/bin/env python3
# pg_migrate_sqlalchemy.py MODULE:ATTRIBUTE: prints the DDL that SQLAlchemy's
# metadata.create_all() would run on PostgreSQL for that MetaData (or
# anything that has one as .metadata: a declarative base of 1.4's
# declarative_base() or 2.0's DeclarativeBase, a registry, a mapped class),
# recorded by a mock engine: enum types, sequences, tables, indexes,
# comments, in SQLAlchemy's own order.  Run by "pg_migrate revision
# --autogenerate --from-sqlalchemy" and "check".
import importlib
import os
import re
import sys


def fail(message):
    sys.stderr.write("pg_migrate: " + message + "\n")
    sys.exit(1)


try:
    import sqlalchemy
    from sqlalchemy import MetaData, create_mock_engine
except ImportError as error:
    fail("cannot import SQLAlchemy 1.4 or later (%s): install it (Debian: apt-get install python3-sqlalchemy), or name a Python that has it with PYTHON" % error)

# What SQLAlchemy 2.0 added for typed models; a module written for 2.0 fails
# to import on 1.4 with "cannot import name ...", which says nothing of
# versions.
NEW_IN_2_0 = {"DeclarativeBase", "DeclarativeBaseNoMeta", "MappedAsDataclass",
              "mapped_column", "WriteOnlyMapped", "DynamicMapped", "async_sessionmaker",
              "Uuid", "Double", "insert_sentinel"}

spec = sys.argv[1]
module_name, _, attribute = spec.partition(":")
sys.path.insert(0, os.getcwd())
try:
    target = importlib.import_module(module_name)
except ImportError as error:
    wanted = re.match(r"cannot import name '(\w+)' from '(sqlalchemy[\w.]*)'", str(error))
    if wanted and wanted.group(1) in NEW_IN_2_0 and sqlalchemy.__version__.startswith("1."):
        fail("module %s uses %s (from %s), new in SQLAlchemy 2.0, and %s has SQLAlchemy %s: "
             "install SQLAlchemy 2.0 or later, or name a Python that has it with PYTHON"
             % (module_name, wanted.group(1), wanted.group(2), sys.executable,
                sqlalchemy.__version__))
    fail("cannot import module %s: %s: %s" % (module_name, type(error).__name__, error))
except Exception as error:
    fail("cannot import module %s: %s: %s" % (module_name, type(error).__name__, error))
for part in attribute.split("."):
    if not hasattr(target, part):
        fail("%s has no attribute %s" % (spec, part))
    target = getattr(target, part)
metadata = target if isinstance(target, MetaData) else getattr(target, "metadata", None)
if not isinstance(metadata, MetaData):
    fail("%s is of type %s, neither a MetaData nor something with one as .metadata: name the "
         "MetaData, the declarative base (Base = declarative_base(), or class "
         "Base(DeclarativeBase)) or its registry, as in myapp.models:Base"
         % (spec, type(target).__name__))
if not metadata.tables:
    # The desired schema would be empty, and the diff would drop every table:
    # most often the modules that define the models were never imported.
    fail("%s has no tables: import the modules that define the models in %s (or name the "
         "module that does), so that their classes are registered on it" % (spec, module_name))

statements = []


def record(sql, *args, **kwargs):
    statements.append(str(sql.compile(dialect=engine.dialect)).strip() + ";")


engine = create_mock_engine("postgresql://", record)
metadata.create_all(engine, checkfirst=False)
print("\n\n".join(statements))
