"""Tests of the asyncio application (async_app.py, create_async_engine with
asyncpg) against a real database, served as uvicorn serves it: the ASGI
lifespan protocol around requests.  At head it serves; behind, its
start-up fails and says what to run; after "pg_migrate upgrade head" it
starts; ahead of its code, it is accepted; a new revision file is a new
head it needs; a connection the pool opens after the database went back is
refused.  README's snippet is
async_revision_check.py, byte for byte.
"""

import asyncio
import contextlib
import logging
import os
import re
import shutil
import subprocess
import traceback
from pathlib import Path

import httpx
import pytest

import async_app as shop
import async_revision_check

HERE = Path(__file__).resolve().parent
PG_MIGRATE = os.environ.get("PG_MIGRATE", str(HERE.parent.parent / "bin" / "pg_migrate"))
FIRST, SECOND = "3c1e9a7b2f10", "8d2f4b6a1c93"
NICKNAME = "c4d1e2f3a5b6"


def pg_migrate(url, *args, migrations=HERE / "migrations"):
    result = subprocess.run([PG_MIGRATE, "-d", url, "--dir", str(migrations), *args],
                            capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    return result.stdout


def add_nickname(migrations, parent=SECOND, revision=NICKNAME):
    (migrations / f"{revision}_add_users_nickname.sql").write_text(
        f"-- migrate:revision {revision}\n"
        f"-- migrate:parents {parent}\n"
        "-- migrate:message add users.nickname\n\n"
        f"-- migrate:upgrade\nALTER TABLE users ADD COLUMN nickname_{revision} text;\n\n"
        f"-- migrate:downgrade\nALTER TABLE users DROP COLUMN nickname_{revision};\n")


class StartupFailed(Exception):
    """The server's lifespan said lifespan.startup.failed; the exception
    start-up raised is the cause."""


@contextlib.asynccontextmanager
async def serving(application):
    """The application as uvicorn runs it: lifespan.startup, then requests
    (httpx's ASGI transport), then lifespan.shutdown."""
    to_app, from_app = asyncio.Queue(), asyncio.Queue()
    scope = {"type": "lifespan", "asgi": {"version": "3.0", "spec_version": "2.0"}, "state": {}}
    lifespan = asyncio.ensure_future(application(scope, to_app.get, from_app.put))
    await to_app.put({"type": "lifespan.startup"})
    started = await asyncio.wait_for(from_app.get(), 60)
    if started["type"] == "lifespan.startup.failed":
        try:
            await lifespan
        except Exception as error:
            raise StartupFailed(started.get("message", "")) from error
        raise StartupFailed(started.get("message", ""))
    assert started["type"] == "lifespan.startup.complete", started
    try:
        transport = httpx.ASGITransport(app=application)
        async with httpx.AsyncClient(transport=transport, base_url="http://shop") as client:
            yield client
    finally:
        await to_app.put({"type": "lifespan.shutdown"})
        assert (await asyncio.wait_for(from_app.get(), 60))["type"] == "lifespan.shutdown.complete"
        await lifespan


async def refused_start(application):
    """Starts APPLICATION, which must refuse; returns the DatabaseBehind."""
    with pytest.raises(StartupFailed) as failed:
        async with serving(application):
            pass
    assert isinstance(failed.value.__cause__, shop.DatabaseBehind), failed.value.__cause__
    return failed.value.__cause__


@pytest.mark.asyncio
async def test_at_head_serves_crud(async_database):
    url, sa_url = async_database
    pg_migrate(url, "init")
    pg_migrate(url, "upgrade", "head")
    async with serving(shop.create_app(sa_url)) as client:
        created = await client.post("/users", json={"name": "ann", "email": "ann@example.com"})
        assert created.status_code == 201, created.text
        user = created.json()
        assert user["name"] == "ann" and user["created_at"]
        assert (await client.get(f"/users/{user['id']}")).json()["email"] == "ann@example.com"
        taken = await client.post("/users", json={"name": "bob", "email": "ann@example.com"})
        assert taken.status_code == 409
        updated = await client.put(f"/users/{user['id']}",
                                   json={"name": "Ann", "email": "ann@example.org"})
        assert updated.json()["email"] == "ann@example.org"
        assert [u["name"] for u in (await client.get("/users")).json()] == ["Ann"]
        assert (await client.delete(f"/users/{user['id']}")).status_code == 204
        assert (await client.get(f"/users/{user['id']}")).status_code == 404


@pytest.mark.asyncio
async def test_behind_refuses_to_start_then_upgrade_starts(async_database, caplog):
    url, sa_url = async_database
    pg_migrate(url, "init")
    pg_migrate(url, "upgrade", FIRST)
    with caplog.at_level(logging.ERROR, logger="shop"):
        behind = await refused_start(shop.create_app(sa_url))
    line = caplog.text
    assert "refusing to start: the database is behind this code" in line
    assert f'revision "{SECOND}" is not applied' in line
    assert f"The database is at {FIRST} and is 1 revision behind: {SECOND}" in line
    assert "pg_migrate upgrade head" in line
    assert str(behind) in line

    pg_migrate(url, "upgrade", "head")
    async with serving(shop.create_app(sa_url)) as client:
        created = await client.post("/users", json={"name": "cy", "email": "cy@example.com"})
        assert created.status_code == 201


@pytest.mark.asyncio
async def test_database_without_migrate_refuses_to_start(async_database, caplog):
    _url, sa_url = async_database
    with caplog.at_level(logging.ERROR, logger="shop"):
        behind = await refused_start(shop.create_app(sa_url))
    assert str(behind) == (
        'the database is behind this code: schema "migrate" does not exist. The extension '
        'migrate is not installed. To catch up, run "pg_migrate init", then '
        '"pg_migrate upgrade head".')
    assert "refusing to start" in caplog.text


@pytest.mark.asyncio
async def test_ahead_is_accepted(async_database, tmp_path):
    url, sa_url = async_database
    migrations = tmp_path / "migrations"
    shutil.copytree(HERE / "migrations", migrations)
    # A newer release added a nullable column: this code does not know it
    # and need not.
    add_nickname(migrations)
    pg_migrate(url, "init", migrations=migrations)
    pg_migrate(url, "upgrade", "head", migrations=migrations)
    assert pg_migrate(url, "current", migrations=migrations).split()[0] == NICKNAME
    async with serving(shop.create_app(sa_url)) as client:
        created = await client.post("/users", json={"name": "di", "email": "di@example.com"})
        assert created.status_code == 201
        assert len((await client.get("/users")).json()) == 1


@pytest.mark.asyncio
async def test_a_new_revision_file_is_what_the_code_needs(async_database, tmp_path):
    url, sa_url = async_database
    pg_migrate(url, "init")
    pg_migrate(url, "upgrade", "head")
    migrations = tmp_path / "migrations"
    shutil.copytree(HERE / "migrations", migrations)
    add_nickname(migrations)
    behind = await refused_start(shop.create_app(sa_url, migrations))
    assert f'revision "{NICKNAME}" is not applied' in str(behind)
    pg_migrate(url, "upgrade", "head", migrations=migrations)
    async with serving(shop.create_app(sa_url, migrations)) as client:
        assert (await client.get("/users")).status_code == 200


@pytest.mark.asyncio
async def test_each_new_pooled_connection_checks(async_database, caplog):
    url, sa_url = async_database
    pg_migrate(url, "init")
    pg_migrate(url, "upgrade", "head")
    application = shop.create_app(sa_url)
    engine = application.state.engine
    async with serving(application) as client:
        assert (await client.get("/users")).status_code == 200
        # Someone takes the database back while the application runs.
        pg_migrate(url, "downgrade", FIRST)
        # With the pool's one connection held (checked when it was opened),
        # a request makes the pool open another: refused.
        async with engine.connect():
            with caplog.at_level(logging.ERROR, logger="shop"):
                response = await client.get("/users")
        assert response.status_code == 503
        assert f'revision "{SECOND}" is not applied' in response.json()["detail"]
        assert "refusing to serve" in caplog.text
        # And after the pool let its connections go, every new one is refused.
        await engine.dispose()
        assert (await client.get("/users")).status_code == 503
        pg_migrate(url, "upgrade", "head")
        assert (await client.get("/users")).status_code == 200


@pytest.mark.asyncio
async def test_one_exception_without_a_chained_traceback(async_database):
    url, sa_url = async_database
    pg_migrate(url, "init")
    pg_migrate(url, "upgrade", FIRST)
    engine = shop.create_async_engine(sa_url)
    try:
        with pytest.raises(async_revision_check.DatabaseBehind) as behind:
            await async_revision_check.require_migrations(engine)
    finally:
        await engine.dispose()
    printed = "".join(traceback.format_exception(behind.type, behind.value, behind.tb))
    assert printed.count("Traceback (most recent call last)") == 1, printed
    assert behind.value.__cause__ is None and behind.value.__suppress_context__
    # One hint, the one the server gives everywhere.
    assert str(behind.value) == (
        f'the database is behind this code: revision "{SECOND}" is not applied. The database is '
        f"at {FIRST} and is 1 revision behind: {SECOND}. To catch up, run \"pg_migrate upgrade "
        "head\" (or SELECT migrate.upgrade('head');).")


def test_readme_shows_the_module_the_example_runs():
    readme = (HERE.parent.parent / "README.md").read_text(encoding="utf-8")
    shown = re.search(r"<!-- examples/fastapi/async_revision_check.py -->\n```python\n(.*?)```\n",
                      readme, re.S)
    assert shown, "README lost the async_revision_check.py snippet"
    assert shown.group(1) == (HERE / "async_revision_check.py").read_text(encoding="utf-8")
