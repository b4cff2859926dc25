"""Coming from Alembic, against the real Alembic (Debian's python3-alembic)
and the project in alembic_project/: a labelled branch, a merge, a
dependency and a data migration.

pg_migrate import-alembic keeps the graph; a database that Alembic migrated
half-way adopts migrate with "pg_migrate stamp --from-alembic" and then
reaches head with "pg_migrate upgrade head"; its schema and data equal
those of a database Alembic migrated all the way itself (pg_dump of both,
without the version tables).
"""

import os
import re
import subprocess
import sys
import uuid
from pathlib import Path

import psycopg2
import pytest
from alembic.config import Config
from alembic.script import ScriptDirectory

HERE = Path(__file__).resolve().parent
PROJECT = HERE / "alembic_project"
ROOT = HERE.parent.parent
PG_MIGRATE = str(ROOT / "bin" / "pg_migrate")
BINDIR = os.environ.get("PG_BINDIR", "")
HALF_WAY, AUDIT = "2b1c3d4e5f6a", "3c2d4e5f6a7b"


def admin_execute(sql, *args):
    connection = psycopg2.connect(dbname="postgres")
    connection.autocommit = True
    with connection.cursor() as cursor:
        cursor.execute(sql, args)
    connection.close()


class Database:
    def __init__(self, name):
        self.name = name
        host = os.environ.get("PGHOST", "/var/run/postgresql")
        port = os.environ.get("PGPORT", "5432")
        user = os.environ.get("PGUSER", "postgres")
        query = f"host={host}&port={port}&user={user}"
        self.url = f"postgresql:///{name}?{query}"
        self.sa_url = f"postgresql+psycopg2:///{name}?{query}"

    def query(self, sql):
        connection = psycopg2.connect(dbname=self.name)
        try:
            with connection.cursor() as cursor:
                cursor.execute(sql)
                rows = cursor.fetchall()
            connection.commit()
            return rows
        finally:
            connection.close()

    def alembic(self, *args):
        env = dict(os.environ, DATABASE_URL=self.sa_url)
        result = subprocess.run([sys.executable, "-m", "alembic", "-c", str(PROJECT / "alembic.ini"),
                                 *args], env=env, capture_output=True, text=True)
        assert result.returncode == 0, result.stderr
        return result.stdout

    def pg_migrate(self, migrations, *args, check=True):
        env = dict(os.environ, PYTHON=sys.executable)
        result = subprocess.run([PG_MIGRATE, "-d", self.url, "--dir", str(migrations), *args],
                                env=env, capture_output=True, text=True)
        if check:
            assert result.returncode == 0, result.stderr
        return result

    def schema(self):
        """The public schema as pg_dump writes it, without Alembic's table."""
        pg_dump = os.path.join(BINDIR, "pg_dump") if BINDIR else "pg_dump"
        out = subprocess.run([pg_dump, "--schema-only", "--no-owner", "--schema=public",
                              "--exclude-table=public.alembic_version", self.url],
                             capture_output=True, text=True, check=True).stdout
        # Comments, settings and the \restrict key of each dump run aside.
        return "\n".join(line for line in out.splitlines()
                         if line and not line.startswith(("--", "SET ", "\\restrict", "\\unrestrict")))


@pytest.fixture
def databases():
    made = []

    def make():
        database = Database("alembic_" + uuid.uuid4().hex[:12])
        admin_execute(f'CREATE DATABASE "{database.name}"')
        made.append(database)
        return database

    yield make
    for database in made:
        admin_execute("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = %s",
                      database.name)
        admin_execute(f'DROP DATABASE "{database.name}"')


@pytest.fixture
def migrations(tmp_path):
    folder = tmp_path / "migrations"
    result = subprocess.run([PG_MIGRATE, "--dir", str(folder), "import-alembic", str(PROJECT)],
                            env=dict(os.environ, PYTHON=sys.executable),
                            capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    assert "Imported 6 revision(s)" in result.stdout
    return folder


def directives(path):
    found = {}
    for line in path.read_text().splitlines():
        m = re.match(r"^-- migrate:(\w+) ?(.*)$", line)
        if m and m.group(1) not in ("upgrade", "downgrade"):
            found[m.group(1)] = m.group(2)
    return found


def test_import_keeps_ids_parents_labels_dependencies_and_messages(migrations):
    scripts = ScriptDirectory.from_config(Config(str(PROJECT / "alembic.ini")))
    files = {directives(p)["revision"]: directives(p) for p in migrations.glob("*.sql")}
    assert len(files) == 6
    for rev in scripts.walk_revisions():
        got = files[rev.revision]
        down = rev.down_revision
        parents = () if down is None else (down,) if isinstance(down, str) else tuple(down)
        assert got["parents"].split() == list(parents), rev.revision
        assert got["message"] == rev.doc
        assert got.get("branch_labels", "").split() == sorted(rev._orig_branch_labels)
        assert got.get("depends_on", "").split() == list(rev._resolved_dependencies or ())
    text = next(migrations.glob("5e4f6a7b8c9d_*.sql")).read_text()
    assert "INSERT INTO roles (id, name) VALUES (1, 'admin');" in text
    assert "alembic_version" not in "".join(p.read_text() for p in migrations.glob("*.sql"))
    assert "BEGIN;" not in text and "COMMIT;" not in text


def test_import_is_repeatable(migrations):
    result = subprocess.run([PG_MIGRATE, "--dir", str(migrations), "import-alembic", str(PROJECT)],
                            env=dict(os.environ, PYTHON=sys.executable), capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    assert "Imported 0 revision(s)" in result.stdout


def adopt_and_finish(database, migrations):
    """Alembic took the database part of the way: migrate adopts it and
    finishes; returns what stamp --from-alembic printed."""
    database.pg_migrate(migrations, "init")
    stamped = database.pg_migrate(migrations, "stamp", "--from-alembic").stdout
    database.pg_migrate(migrations, "upgrade", "head")
    return stamped


def test_half_way_with_alembic_then_migrate_equals_alembic_all_the_way(databases, migrations):
    reference = databases()
    reference.alembic("upgrade", "heads")

    adopted = databases()
    adopted.alembic("upgrade", HALF_WAY)
    adopted.query("INSERT INTO users (name, email) VALUES ('ann', 'ann@example.com') RETURNING id")
    reference.query("INSERT INTO users (name, email) VALUES ('ann', 'ann@example.com') RETURNING id")
    stamped = adopt_and_finish(adopted, migrations)
    assert HALF_WAY in stamped
    assert adopted.query("SELECT migrate.current()") == [("6f5a7b8c9d0e",)]
    # Nothing ran twice: the log shows the four revisions after the stamp.
    assert adopted.query("SELECT action, count(*) FROM migrate.log GROUP BY 1 ORDER BY 1") == \
        [("stamp", 2), ("upgrade", 4)]

    assert adopted.schema() == reference.schema()
    assert adopted.query("SELECT * FROM roles ORDER BY id") == [(1, "admin"), (2, "member")]
    assert adopted.query("SELECT name, role_id FROM users") == [("ann", 2)]


def test_from_scratch_with_migrate_equals_alembic(databases, migrations):
    reference = databases()
    reference.alembic("upgrade", "heads")
    fresh = databases()
    fresh.pg_migrate(migrations, "init")
    fresh.pg_migrate(migrations, "upgrade", "head")
    assert fresh.schema() == reference.schema()

    # And back down, as Alembic's downgrade scripts do it.
    fresh.pg_migrate(migrations, "downgrade", "base")
    assert fresh.query("SELECT count(*) FROM pg_tables WHERE schemaname = 'public'") == [(0,)]


def test_stamp_from_alembic_with_two_heads(databases, migrations):
    reference = databases()
    reference.alembic("upgrade", "heads")
    adopted = databases()
    adopted.alembic("upgrade", HALF_WAY)
    adopted.alembic("upgrade", AUDIT)
    assert sorted(adopted.query("SELECT version_num FROM alembic_version")) == \
        [(HALF_WAY,), (AUDIT,)]
    adopted.pg_migrate(migrations, "init")
    adopted.pg_migrate(migrations, "stamp", "--from-alembic")
    assert adopted.query("SELECT migrate.current()") == [(f"{HALF_WAY},{AUDIT}",)]
    adopted.pg_migrate(migrations, "upgrade", "head")
    assert adopted.schema() == reference.schema()


def test_stamp_from_alembic_needs_its_table(databases, migrations):
    database = databases()
    database.pg_migrate(migrations, "init")
    result = database.pg_migrate(migrations, "stamp", "--from-alembic", check=False)
    assert result.returncode == 1
    assert "no table alembic_version in this database" in result.stderr
    assert database.query("SELECT count(*) FROM migrate.applied") == [(0,)]


def test_import_without_alembic_says_what_to_install(tmp_path):
    result = subprocess.run([PG_MIGRATE, "--dir", str(tmp_path / "m"), "import-alembic", str(PROJECT)],
                            env=dict(os.environ, PYTHON="/nonexistent/python3"),
                            capture_output=True, text=True)
    assert result.returncode == 1
    assert "python3-alembic" in result.stderr
