"""A FastAPI + SQLAlchemy application that refuses to run on a database
older than its code.

The code needs the heads of its own migrations/ folder: revision_check.py
(the module README shows) asks the server which revisions are heads and
checks them with migrate.require() at start-up and on every new pooled
connection (SQLAlchemy's "connect" event).  A database that is behind makes
start-up fail, and requests answer 503, with one log line that names the
missing revisions and says what to run.  A database that is ahead (newer
revisions, backward compatible, applied by a newer release) is accepted.
No revision id is written by hand: a new file in migrations/ is a new head.

    DATABASE_URL=postgresql+psycopg2://app@db/shop uvicorn app:app

The schema is the one Alembic's tutorials use: users with a name and a
unique email, and later a created_at column.
"""

import contextlib
import logging
import os

from fastapi import FastAPI, HTTPException
from fastapi.responses import JSONResponse
from pydantic import BaseModel
from sqlalchemy import Column, DateTime, Integer, Text, create_engine, func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, declarative_base

from revision_check import MIGRATIONS, DatabaseBehind, require_migrations

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


def create_app(database_url=None, migrations=MIGRATIONS):
    engine = create_engine(database_url or os.environ["DATABASE_URL"], pool_pre_ping=True)

    @contextlib.asynccontextmanager
    async def lifespan(_app):
        try:
            require_migrations(engine, migrations)
        except DatabaseBehind as error:
            log.error("refusing to start: %s", error)
            raise
        yield
        engine.dispose()

    app = FastAPI(title="shop")
    # What FastAPI(lifespan=...) sets from FastAPI 0.93 on (on_event is
    # deprecated there); 0.92 (Debian 12's) reads it too.
    app.router.lifespan_context = lifespan
    app.state.engine = engine

    @app.exception_handler(DatabaseBehind)
    def behind_handler(_request, error):
        log.error("refusing to serve: %s", error)
        return JSONResponse(status_code=503, content={"detail": str(error)})

    def run(work):
        with Session(engine) as db:
            return work(db)

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
