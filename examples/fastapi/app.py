"""A FastAPI + SQLAlchemy application that refuses to run on a database
older than its code.

The code names the newest revision it needs (REQUIRED_REVISION, one of the
revision files in migrations/).  It asks the database with
migrate.require() at start-up and on every new pooled connection
(SQLAlchemy's "connect" event): a database that is behind makes start-up
fail, and requests answer 503, with a log line that names the missing
revisions and says what to run.  A database that is ahead (newer revisions,
backward compatible, applied by a newer release) is accepted.

    DATABASE_URL=postgresql+psycopg2://app@db/shop uvicorn app:app

The schema is the one Alembic's tutorials use: users with a name and a
unique email, and later a created_at column.
"""

import logging
import os

from fastapi import FastAPI, HTTPException
from fastapi.responses import JSONResponse
from pydantic import BaseModel
from sqlalchemy import Column, DateTime, Integer, Text, create_engine, event, func, select
from sqlalchemy.exc import DBAPIError, IntegrityError
from sqlalchemy.orm import Session, declarative_base

# The newest revision this code needs: bump it with each migration the
# code depends on.
REQUIRED_REVISION = "8d2f4b6a1c93"

log = logging.getLogger("shop")

Base = declarative_base()


class User(Base):
    __tablename__ = "users"

    id = Column(Integer, primary_key=True)
    name = Column(Text, nullable=False)
    email = Column(Text, nullable=False, unique=True)
    created_at = Column(DateTime(timezone=True), nullable=False, server_default=func.now())


class UserIn(BaseModel):
    name: str
    email: str


class DatabaseBehind(RuntimeError):
    """The database lacks a revision this code needs."""


def require_revision(dbapi_connection, revision=REQUIRED_REVISION):
    """Raise DatabaseBehind unless `revision` is applied.

    Runs on a raw DB-API connection and ends its transaction either way, so
    the pool gets the connection back clean.
    """
    cursor = dbapi_connection.cursor()
    try:
        cursor.execute("SELECT migrate.require(%s)", (revision,))
    except Exception as error:
        dbapi_connection.rollback()
        diag = getattr(error, "diag", None)
        what = (diag.message_primary if diag and diag.message_primary else str(error).strip())
        detail = diag.message_detail if diag and diag.message_detail else ""
        raise DatabaseBehind(
            f"the database is not ready for this code: {what}. {detail} "
            f"Run \"pg_migrate upgrade head\" (or SELECT migrate.upgrade('{revision}');) "
            f"before starting it.".replace("  ", " ")
        ) from error
    finally:
        cursor.close()
    dbapi_connection.commit()


def create_app(database_url=None):
    engine = create_engine(database_url or os.environ["DATABASE_URL"], pool_pre_ping=True)

    @event.listens_for(engine, "connect")
    def check_revision(dbapi_connection, _record):
        require_revision(dbapi_connection)

    app = FastAPI(title="shop")
    app.state.engine = engine

    def connection_error(error):
        # The connect event's DatabaseBehind arrives wrapped by SQLAlchemy.
        cause = error if isinstance(error, DatabaseBehind) else error.__cause__ or error.orig
        if isinstance(cause, DatabaseBehind):
            return cause
        return None

    @app.on_event("startup")
    def check_database():
        try:
            with engine.connect():
                pass
        except (DatabaseBehind, DBAPIError) as error:
            behind = connection_error(error)
            if behind is None:
                raise
            log.error("refusing to start: %s", behind)
            raise behind

    @app.exception_handler(DatabaseBehind)
    def behind_handler(_request, error):
        log.error("refusing to serve: %s", error)
        return JSONResponse(status_code=503, content={"detail": str(error)})

    def run(work):
        with Session(engine) as db:
            try:
                return work(db)
            except DBAPIError as error:
                behind = connection_error(error)
                if behind is not None:
                    raise behind
                raise

    def as_json(user):
        return {"id": user.id, "name": user.name, "email": user.email,
                "created_at": user.created_at.isoformat()}

    @app.post("/users", status_code=201)
    def create_user(data: UserIn):
        def work(db):
            user = User(name=data.name, email=data.email)
            db.add(user)
            try:
                db.commit()
            except IntegrityError:
                raise HTTPException(status_code=409, detail=f"email {data.email} is taken")
            db.refresh(user)
            return as_json(user)
        return run(work)

    @app.get("/users")
    def list_users():
        return run(lambda db: [as_json(u) for u in db.scalars(select(User).order_by(User.id))])

    @app.get("/users/{user_id}")
    def get_user(user_id: int):
        def work(db):
            user = db.get(User, user_id)
            if user is None:
                raise HTTPException(status_code=404, detail=f"no user {user_id}")
            return as_json(user)
        return run(work)

    @app.put("/users/{user_id}")
    def update_user(user_id: int, data: UserIn):
        def work(db):
            user = db.get(User, user_id)
            if user is None:
                raise HTTPException(status_code=404, detail=f"no user {user_id}")
            user.name, user.email = data.name, data.email
            try:
                db.commit()
            except IntegrityError:
                raise HTTPException(status_code=409, detail=f"email {data.email} is taken")
            return as_json(user)
        return run(work)

    @app.delete("/users/{user_id}", status_code=204)
    def delete_user(user_id: int):
        def work(db):
            user = db.get(User, user_id)
            if user is None:
                raise HTTPException(status_code=404, detail=f"no user {user_id}")
            db.delete(user)
            db.commit()
        run(work)

    return app


if os.environ.get("DATABASE_URL"):
    app = create_app()
