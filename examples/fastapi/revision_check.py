"""Refuse to use a database that lacks a revision of this code's migrations/.

The heads of the folder are what the code needs, so no revision id is
written by hand: the server reads the files (migrate.files() reads no
catalog) and says which are heads, and migrate.require() checks each head
at start-up and on every new connection the pool opens.  A database that
is ahead (newer revisions, applied by a newer release) passes.
"""

from pathlib import Path

from sqlalchemy import event

MIGRATIONS = Path(__file__).resolve().parent / "migrations"


class DatabaseBehind(RuntimeError):
    """The database lacks a revision that this code needs."""


def require_migrations(engine, folder=MIGRATIONS):
    """Check now, and on each new connection of `engine`, that the heads of
    `folder` are applied; raise DatabaseBehind (one exception, no chained
    traceback) when they are not, or when migrate is not installed."""
    files = sorted(p for p in Path(folder).glob("*.sql") if not p.name.startswith("."))
    names = [p.name for p in files]
    contents = [p.read_text(encoding="utf-8") for p in files]
    heads = []

    @event.listens_for(engine, "connect")
    def require_heads(dbapi_connection, _record):
        with dbapi_connection.cursor() as cursor:
            try:
                if not heads:
                    cursor.execute("SELECT revision FROM migrate.files(%s, %s) WHERE is_head AND scope = 'database'",
                                   (names, contents))
                    heads.extend(revision for revision, in cursor.fetchall())
                for head in heads:
                    cursor.execute("SELECT migrate.require(%s)", (head,))
            except Exception as error:
                dbapi_connection.rollback()
                diag = getattr(error, "diag", None)
                if getattr(diag, "sqlstate", None) not in ("55000", "3F000"):
                    raise
                hint = diag.message_hint or (
                    'The extension migrate is not installed. To catch up, run '
                    '"pg_migrate init", then "pg_migrate upgrade head".')
                raise DatabaseBehind(" ".join(filter(None, (
                    f"the database is behind this code: {diag.message_primary}.",
                    diag.message_detail, hint)))) from None
        dbapi_connection.commit()

    with engine.connect():
        pass
