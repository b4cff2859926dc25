"""Tests of the example application against a real database (test/run's
throwaway cluster, through the PG* variables): at head it serves; behind,
it refuses to start and says what to run; after "pg_migrate upgrade head"
it starts; ahead of its code, it is accepted; a new revision file is a new
head the code needs, with no id edited by hand; and a pooled connection
opened after the database went back is refused.  README's snippet is
revision_check.py, byte for byte.
"""

import logging
import os
import re
import traceback
import shutil
import subprocess
from pathlib import Path

import pytest
import sqlalchemy
from fastapi.testclient import TestClient

import app as shop
import revision_check

HERE = Path(__file__).resolve().parent
PG_MIGRATE = os.environ.get("PG_MIGRATE", str(HERE.parent.parent / "bin" / "pg_migrate"))
FIRST, SECOND = "3c1e9a7b2f10", "8d2f4b6a1c93"


def pg_migrate(url, *args, migrations=HERE / "migrations"):
    result = subprocess.run([PG_MIGRATE, "-d", url, "--dir", str(migrations), *args],
                            capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    return result.stdout


def test_at_head_serves_crud(database):
    url, sa_url = database
    pg_migrate(url, "init")
    pg_migrate(url, "upgrade", "head")
    with TestClient(shop.create_app(sa_url)) as client:
        created = client.post("/users", json={"name": "ann", "email": "ann@example.com"})
        assert created.status_code == 201, created.text
        user = created.json()
        assert user["name"] == "ann" and user["created_at"]
        assert client.get(f"/users/{user['id']}").json()["email"] == "ann@example.com"
        assert client.post("/users", json={"name": "bob", "email": "ann@example.com"}).status_code == 409
        updated = client.put(f"/users/{user['id']}", json={"name": "Ann", "email": "ann@example.org"})
        assert updated.json()["email"] == "ann@example.org"
        assert [u["name"] for u in client.get("/users").json()] == ["Ann"]
        assert client.delete(f"/users/{user['id']}").status_code == 204
        assert client.get(f"/users/{user['id']}").status_code == 404


def test_behind_refuses_to_start_then_upgrade_starts(database, caplog):
    url, sa_url = database
    pg_migrate(url, "init")
    pg_migrate(url, "upgrade", FIRST)
    with caplog.at_level(logging.ERROR, logger="shop"):
        with pytest.raises(shop.DatabaseBehind):
            with TestClient(shop.create_app(sa_url)):
                pass
    line = caplog.text
    assert "refusing to start: the database is behind this code" in line
    assert f'revision "{SECOND}" is not applied' in line
    assert f"The database is at {FIRST} and is 1 revision behind: {SECOND}" in line
    assert "pg_migrate upgrade head" in line

    pg_migrate(url, "upgrade", "head")
    with TestClient(shop.create_app(sa_url)) as client:
        assert client.post("/users", json={"name": "cy", "email": "cy@example.com"}).status_code == 201


def test_database_without_migrate_refuses_to_start(database, caplog):
    _url, sa_url = database
    with caplog.at_level(logging.ERROR, logger="shop"):
        with pytest.raises(shop.DatabaseBehind):
            with TestClient(shop.create_app(sa_url)):
                pass
    assert "pg_migrate upgrade head" in caplog.text


def test_ahead_is_accepted(database, tmp_path):
    url, sa_url = database
    migrations = tmp_path / "migrations"
    shutil.copytree(HERE / "migrations", migrations)
    # A newer release added a nullable column: this code does not know it
    # and need not.
    (migrations / "c4d1e2f3a5b6_add_users_nickname.sql").write_text(
        "-- migrate:revision c4d1e2f3a5b6\n"
        f"-- migrate:parents {SECOND}\n"
        "-- migrate:message add users.nickname\n\n"
        "-- migrate:upgrade\nALTER TABLE users ADD COLUMN nickname text;\n\n"
        "-- migrate:downgrade\nALTER TABLE users DROP COLUMN nickname;\n")
    pg_migrate(url, "init", migrations=migrations)
    pg_migrate(url, "upgrade", "head", migrations=migrations)
    assert pg_migrate(url, "current", migrations=migrations).split()[0] == "c4d1e2f3a5b6"
    with TestClient(shop.create_app(sa_url)) as client:
        assert client.post("/users", json={"name": "di", "email": "di@example.com"}).status_code == 201
        assert len(client.get("/users").json()) == 1


def test_each_new_pooled_connection_checks(database, caplog):
    url, sa_url = database
    pg_migrate(url, "init")
    pg_migrate(url, "upgrade", "head")
    application = shop.create_app(sa_url)
    with TestClient(application) as client:
        assert client.get("/users").status_code == 200
        # Someone takes the database back while the application runs; the
        # connections it opens from now on are refused.
        pg_migrate(url, "downgrade", FIRST)
        application.state.engine.dispose()
        with caplog.at_level(logging.ERROR, logger="shop"):
            response = client.get("/users")
        assert response.status_code == 503
        assert f'revision "{SECOND}" is not applied' in response.json()["detail"]
        assert "refusing to serve" in caplog.text


NICKNAME = "c4d1e2f3a5b6"


def add_nickname(migrations, parent=SECOND, revision=NICKNAME):
    (migrations / f"{revision}_add_users_nickname.sql").write_text(
        f"-- migrate:revision {revision}\n"
        f"-- migrate:parents {parent}\n"
        "-- migrate:message add users.nickname\n\n"
        f"-- migrate:upgrade\nALTER TABLE users ADD COLUMN nickname_{revision} text;\n\n"
        f"-- migrate:downgrade\nALTER TABLE users DROP COLUMN nickname_{revision};\n")


def test_a_new_revision_file_is_what_the_code_needs(database, tmp_path):
    url, sa_url = database
    pg_migrate(url, "init")
    pg_migrate(url, "upgrade", "head")
    migrations = tmp_path / "migrations"
    shutil.copytree(HERE / "migrations", migrations)
    add_nickname(migrations)
    # The database has every revision of the old folder, not the new file's.
    with pytest.raises(shop.DatabaseBehind) as behind:
        with TestClient(shop.create_app(sa_url, migrations)):
            pass
    assert f'revision "{NICKNAME}" is not applied' in str(behind.value)
    pg_migrate(url, "upgrade", "head", migrations=migrations)
    with TestClient(shop.create_app(sa_url, migrations)) as client:
        assert client.get("/users").status_code == 200


def test_every_head_of_the_folder_is_required(database, tmp_path):
    url, sa_url = database
    migrations = tmp_path / "migrations"
    shutil.copytree(HERE / "migrations", migrations)
    add_nickname(migrations, revision="aaaa00000001")
    add_nickname(migrations, revision="bbbb00000002")
    pg_migrate(url, "init", migrations=migrations)
    pg_migrate(url, "upgrade", "aaaa00000001", migrations=migrations)
    with pytest.raises(shop.DatabaseBehind) as behind:
        with TestClient(shop.create_app(sa_url, migrations)):
            pass
    assert 'revision "bbbb00000002" is not applied' in str(behind.value)


def test_one_exception_without_a_chained_traceback(database):
    url, sa_url = database
    pg_migrate(url, "init")
    pg_migrate(url, "upgrade", FIRST)
    with pytest.raises(revision_check.DatabaseBehind) as behind:
        with TestClient(shop.create_app(sa_url)):
            pass
    printed = "".join(traceback.format_exception(behind.type, behind.value, behind.tb))
    assert printed.count("Traceback (most recent call last)") == 1, printed
    assert behind.value.__cause__ is None and behind.value.__suppress_context__
    # One hint, the one the server gives everywhere.
    assert str(behind.value).endswith(
        'To catch up, run "pg_migrate upgrade head" (or SELECT migrate.upgrade(\'head\');).')


@pytest.mark.skipif(sqlalchemy.__version__.startswith("1."),
                    reason=f"SQLAlchemy {sqlalchemy.__version__} has no psycopg 3 dialect "
                           "(postgresql+psycopg is new in SQLAlchemy 2.0)")
def test_psycopg_3_behind_then_at_head(database):
    # README says psycopg2 or psycopg 3: the module uses what both have
    # (cursor(), execute() with %s, diag, rollback(), commit()).
    url, sa_url = database
    sa_url = sa_url.replace("postgresql+psycopg2://", "postgresql+psycopg://", 1)
    pg_migrate(url, "init")
    pg_migrate(url, "upgrade", FIRST)
    with pytest.raises(shop.DatabaseBehind) as behind:
        with TestClient(shop.create_app(sa_url)):
            pass
    assert str(behind.value).startswith(
        f'the database is behind this code: revision "{SECOND}" is not applied. The database is '
        f"at {FIRST} and is 1 revision behind: {SECOND}. To catch up")
    pg_migrate(url, "upgrade", "head")
    application = shop.create_app(sa_url)
    with TestClient(application) as client:
        assert client.post("/users", json={"name": "ed", "email": "ed@example.com"}).status_code == 201
        assert application.state.engine.dialect.driver == "psycopg"


def test_readme_shows_the_module_the_example_runs():
    readme = (HERE.parent.parent / "README.md").read_text(encoding="utf-8")
    shown = re.search(r"<!-- examples/fastapi/revision_check.py -->\n```python\n(.*?)```\n",
                      readme, re.S)
    assert shown, "README lost the revision_check.py snippet"
    assert shown.group(1) == (HERE / "revision_check.py").read_text(encoding="utf-8")
