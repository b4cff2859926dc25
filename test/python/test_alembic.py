"""Coming from Alembic, against the real Alembic (Debian's python3-alembic:
1.8 on Debian 12, 1.13 on 13, 1.18 on unstable) and the project in
alembic_project/: a labelled branch, a merge, a dependency and a data
migration, one revision written as Alembic 1.13 and later write them (typed).

pg_migrate import-alembic keeps the graph; a database that Alembic migrated
half-way adopts migrate with "pg_migrate stamp --from-alembic" and then
reaches head with "pg_migrate upgrade head"; its schema and data equal
those of a database Alembic migrated all the way itself (pg_dump of both,
without the version tables).

The same project laid out as Alembic 1.16 and later lay it out, configured
in pyproject.toml ([tool.alembic]) with an alembic.ini for logging only, or
none, imports to the same files, and a database that Alembic migrated
half-way through that configuration is adopted; an Alembic before 1.16 is
refused by name, as is a project that names no scripts folder.
"""

import os
import re
import shutil
import subprocess
import sys
import uuid
from pathlib import Path

import alembic
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
# Alembic 1.16 added [tool.alembic] in pyproject.toml.
READS_TOML = tuple(int(part) for part in alembic.__version__.split(".")[:2]) >= (1, 16)


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

    def alembic(self, *args, cwd=None):
        """The alembic command on alembic_project/alembic.ini, or with the
        configuration it finds in CWD, as a user runs it there."""
        env = dict(os.environ, DATABASE_URL=self.sa_url)
        config = [] if cwd else ["-c", str(PROJECT / "alembic.ini")]
        result = subprocess.run([sys.executable, "-m", "alembic", *config, *args], cwd=cwd,
                                env=env, capture_output=True, text=True)
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


def import_alembic(project, folder, cwd=None):
    return subprocess.run([PG_MIGRATE, "--dir", str(folder), "import-alembic", str(project)],
                          cwd=cwd, env=dict(os.environ, PYTHON=sys.executable),
                          capture_output=True, text=True)


@pytest.fixture
def migrations(tmp_path):
    folder = tmp_path / "migrations"
    result = import_alembic(PROJECT, folder)
    assert result.returncode == 0, result.stderr
    assert "Imported 6 revision(s)" in result.stdout
    return folder


def texts(folder):
    return {p.name: p.read_text() for p in Path(folder).glob("*.sql")}


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


# ------------------------------------------------ Alembic 1.16's layout

def logging_only_ini():
    """alembic_project/alembic.ini without its [alembic] section, as
    Alembic 1.16's pyproject template writes it: logging only."""
    text = (PROJECT / "alembic.ini").read_text()
    return re.sub(r"^\[alembic\]\n(?:[^\[\n].*\n|\n)*", "", text, flags=re.M)


def pyproject_layout(root, alembic_ini):
    """alembic_project/ laid out as "alembic init --template pyproject"
    lays a project out, in ROOT: the scripts in migrations/, configured in
    pyproject.toml, beside an alembic.ini for logging only (or none)."""
    root.mkdir()
    shutil.copytree(PROJECT, root / "migrations", ignore=shutil.ignore_patterns("alembic.ini"))
    (root / "pyproject.toml").write_text(
        '[project]\nname = "shop"\nversion = "1.0"\n\n'
        '[tool.alembic]\n'
        'script_location = "%(here)s/migrations"\n'
        # A list: TOML needs no path separator.
        'version_locations = ["%(here)s/migrations/versions"]\n'
        'prepend_sys_path = ["."]\n')
    if alembic_ini:
        (root / "alembic.ini").write_text(logging_only_ini())
    return root


@pytest.mark.parametrize("alembic_ini", [True, False], ids=["logging-ini", "no-ini"])
def test_pyproject_project_imports_and_is_adopted_or_names_the_alembic_it_needs(
        databases, migrations, tmp_path, alembic_ini):
    assert "[alembic]" not in logging_only_ini() and "[loggers]" in logging_only_ini()
    app = pyproject_layout(tmp_path / "app", alembic_ini)
    for project in (app, app / "pyproject.toml"):
        folder = tmp_path / ("from_" + project.name)
        result = import_alembic(project, folder)
        if not READS_TOML:
            assert result.returncode == 1
            assert result.stderr == (
                f"pg_migrate: {app / 'pyproject.toml'} configures Alembic in [tool.alembic], which "
                f"Alembic reads from 1.16 on, and {sys.executable} has Alembic "
                f"{alembic.__version__}: install Alembic 1.16 or later, or name a Python that has "
                "it with PYTHON\n")
            assert not folder.exists() or not list(folder.iterdir())
            continue
        assert result.returncode == 0, result.stderr
        assert "Imported 6 revision(s) from " in result.stdout
        assert str(app / "pyproject.toml") in result.stdout
        # The same revisions as from alembic.ini: byte for byte.
        assert texts(folder) == texts(migrations)
    if not READS_TOML:
        return

    # A database Alembic 1.16+ migrated half-way through that configuration
    # (the alembic command run in the project's folder) is adopted.
    reference = databases()
    reference.alembic("upgrade", "heads")
    adopted = databases()
    adopted.alembic("upgrade", HALF_WAY, cwd=app)
    assert adopted.query("SELECT version_num FROM alembic_version") == [(HALF_WAY,)]
    stamped = adopt_and_finish(adopted, tmp_path / "from_app")
    assert HALF_WAY in stamped
    assert adopted.query("SELECT migrate.current()") == [("6f5a7b8c9d0e",)]
    assert adopted.schema() == reference.schema()


def test_pyproject_beside_a_full_alembic_ini_is_read_as_its_alembic_reads_it(migrations, tmp_path):
    # Before 1.16 the alembic command reads alembic.ini alone; from 1.16 on
    # alembic.ini comes first and [tool.alembic] fills in: either way the
    # project here is the one alembic.ini names.
    app = tmp_path / "app"
    shutil.copytree(PROJECT, app)
    (app / "pyproject.toml").write_text('[tool.alembic]\nscript_location = "%(here)s/nowhere"\n')
    result = import_alembic(app, tmp_path / "imported")
    assert result.returncode == 0, result.stderr
    assert texts(tmp_path / "imported") == texts(migrations)


def test_relative_script_location_is_found_from_any_folder(migrations, tmp_path):
    # Alembic 1.8's generic template writes "script_location = alembic":
    # relative to where the alembic command runs, the project's folder.
    app = tmp_path / "app"
    shutil.copytree(PROJECT, app / "alembic", ignore=shutil.ignore_patterns("alembic.ini"))
    (app / "alembic.ini").write_text(
        (PROJECT / "alembic.ini").read_text().replace("script_location = %(here)s",
                                                      "script_location = alembic"))
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    result = import_alembic("../app", "imported", cwd=elsewhere)
    assert result.returncode == 0, result.stderr
    assert "into imported" in result.stdout
    assert texts(elsewhere / "imported") == texts(migrations)
    assert not (app / "imported").exists()


def test_a_project_without_a_scripts_folder_is_named_with_where_to_name_it(tmp_path):
    empty = tmp_path / "empty"
    empty.mkdir()
    result = import_alembic(empty, tmp_path / "m")
    assert (result.returncode, result.stderr) == (1, (
        f"pg_migrate: no Alembic project at {empty}: give its folder (with alembic.ini, or "
        "pyproject.toml with [tool.alembic]) or one of those files\n"))

    (empty / "pyproject.toml").write_text('[project]\nname = "shop"\n')
    result = import_alembic(empty / "pyproject.toml", tmp_path / "m")
    assert (result.returncode, result.stderr) == (1, (
        f"pg_migrate: {empty / 'pyproject.toml'} has no [tool.alembic] table: give the Alembic "
        "project's alembic.ini, or its pyproject.toml with [tool.alembic] (Alembic 1.16 and "
        "later)\n"))

    (empty / "alembic.ini").write_text(logging_only_ini())
    result = import_alembic(empty, tmp_path / "m")
    assert (result.returncode, result.stderr) == (1, (
        f"pg_migrate: {empty / 'alembic.ini'} names no script_location: Alembic's scripts folder "
        "is named there, in [alembic] of alembic.ini or, from Alembic 1.16 on, [tool.alembic] of "
        "pyproject.toml\n"))

    (empty / "pyproject.toml").write_text('[tool.alembic\nscript_location = "x"\n')
    result = import_alembic(empty, tmp_path / "m")
    assert result.returncode == 1
    assert result.stderr.startswith(f"pg_migrate: cannot read {empty / 'pyproject.toml'}: ")
    assert result.stderr.endswith(": fix the file, or give the project's alembic.ini\n")
    assert not (tmp_path / "m").exists()
