"""Refuse to use a database that lacks a revision of this code's migrations/:
revision_check.py for asyncio (create_async_engine with asyncpg).

The heads of the folder are what the code needs, so no revision id is
written by hand: the server reads the files (migrate.files() reads no
catalog) and says which are heads, and migrate.require() checks each head
at start-up and on every new connection the pool opens.  A database that
is ahead (newer revisions, applied by a newer release) passes.  SQLAlchemy's
pool events are synchronous: the check is a coroutine that the "connect"
event of engine.sync_engine awaits on the asyncpg connection itself
(run_async).
"""

from pathlib import Path

import asyncpg
from sqlalchemy import event

MIGRATIONS = Path(__file__).resolve().parent / "migrations"


class DatabaseBehind(RuntimeError):
    """The database lacks a revision that this code needs."""


async def require_migrations(engine, folder=MIGRATIONS):
    """Check now, and on each new connection of the AsyncEngine `engine`,
    that the heads of `folder` are applied; raise DatabaseBehind (one
    exception, no chained traceback) when they are not, or when migrate is
    not installed."""
    files = sorted(p for p in Path(folder).glob("*.sql") if not p.name.startswith("."))
    names = [p.name for p in files]
    contents = [p.read_text(encoding="utf-8") for p in files]
    heads = []

    async def require_heads(connection):
        # An asyncpg connection, outside any transaction: nothing to end.
        try:
            if not heads:
                rows = await connection.fetch(
                    "SELECT revision FROM migrate.files($1, $2) WHERE is_head AND scope = 'database'", names, contents)
                heads.extend(row["revision"] for row in rows)
            for head in heads:
                await connection.execute("SELECT migrate.require($1)", head)
        except asyncpg.PostgresError as error:
            if error.sqlstate not in ("55000", "3F000"):
                raise
            hint = error.hint or (
                'The extension migrate is not installed. To catch up, run '
                '"pg_migrate init", then "pg_migrate upgrade head".')
            raise DatabaseBehind(" ".join(filter(None, (
                f"the database is behind this code: {error.message}.",
                error.detail, hint)))) from None

    @event.listens_for(engine.sync_engine, "connect")
    def on_connect(dbapi_connection, _record):
        dbapi_connection.run_async(require_heads)

    async with engine.connect():
        pass
