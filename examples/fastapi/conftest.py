"""What the tests of both applications share: their folder on sys.path, and
a new database on test/run's throwaway cluster (the PG* variables)."""

import os
import sys
import uuid
from pathlib import Path

import psycopg2
import pytest

# Make "import app" work from any working directory.
sys.path.insert(0, str(Path(__file__).resolve().parent))


def admin():
    connection = psycopg2.connect(dbname="postgres")
    connection.autocommit = True
    return connection


@pytest.fixture
def database():
    """A new empty database; yields (libpq URL, SQLAlchemy URL)."""
    name = "fastapi_" + uuid.uuid4().hex[:12]
    connection = admin()
    with connection.cursor() as cursor:
        cursor.execute(f'CREATE DATABASE "{name}"')
    connection.close()
    host = os.environ.get("PGHOST", "/var/run/postgresql")
    port = os.environ.get("PGPORT", "5432")
    user = os.environ.get("PGUSER", "postgres")
    query = f"host={host}&port={port}&user={user}"
    yield f"postgresql:///{name}?{query}", f"postgresql+psycopg2:///{name}?{query}"
    connection = admin()
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = %s",
                       (name,))
        cursor.execute(f'DROP DATABASE "{name}"')
    connection.close()


@pytest.fixture
def async_database(database):
    """database, with the SQLAlchemy URL of create_async_engine (asyncpg)."""
    url, sa_url = database
    return url, sa_url.replace("postgresql+psycopg2://", "postgresql+asyncpg://", 1)
