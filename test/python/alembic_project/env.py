"""The environment of the test project: Alembic's generic template, with the
URL taken from DATABASE_URL when it is set, else from alembic.ini, else (a
project configured in pyproject.toml may have no alembic.ini) a bare
postgresql:// for offline mode."""

import os
from logging.config import fileConfig

from alembic import context
from sqlalchemy import engine_from_config, pool

config = context.config
# The logging sections of alembic.ini, when there is one: from Alembic 1.16
# on it may hold only those, or be absent (the alembic command names it
# all the same).
if config.config_file_name is not None and os.path.exists(config.config_file_name):
    fileConfig(config.config_file_name)
# get_section(), not get_main_option(): an alembic.ini of logging alone has
# no [alembic] section, and get_main_option() raises for that.
url = (os.environ.get("DATABASE_URL")
       or config.get_section(config.config_ini_section, {}).get("sqlalchemy.url")
       or "postgresql://")


def run_migrations_offline():
    context.configure(url=url, target_metadata=None, literal_binds=True,
                      dialect_opts={"paramstyle": "named"})
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online():
    connectable = engine_from_config({"sqlalchemy.url": url}, prefix="sqlalchemy.",
                                     poolclass=pool.NullPool)
    with connectable.connect() as connection:
        context.configure(connection=connection, target_metadata=None)
        with context.begin_transaction():
            context.run_migrations()


if context.is_offline_mode():
    run_migrations_offline()
else:
    run_migrations_online()
