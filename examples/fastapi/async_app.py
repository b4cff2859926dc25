"""app.py, asyncio all the way: a FastAPI application on SQLAlchemy's
create_async_engine with asyncpg that refuses to run on a database older
than its code.

async_revision_check.py (the module README shows) asks the server which
revisions of migrations/ are heads and checks them with migrate.require()
at start-up (the lifespan: a database that is behind makes it fail) and on
every new pooled connection (requests then answer 503), with one log line
that names the missing revisions and says what to run.  A database that is
ahead is accepted.

    DATABASE_URL=postgresql+asyncpg://app@db/shop uvicorn async_app:app

Written for SQLAlchemy 2.0 and today's FastAPI, in what SQLAlchemy 1.4 and
FastAPI 0.92 (Debian 12's) read as well.
"""

import contextlib
import logging
import os

from fastapi import FastAPI, HTTPException
from fastapi.responses import JSONResponse
from pydantic import BaseModel
from sqlalchemy import Column, DateTime, Integer, Text, func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession, create_async_engine
from sqlalchemy.orm import declarative_base, sessionmaker

from async_revision_check import MIGRATIONS, DatabaseBehind, require_migrations

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
    engine = create_async_engine(database_url or os.environ["DATABASE_URL"], pool_pre_ping=True)
    # Loaded attributes stay loaded after commit: an async session cannot
    # load them lazily when a response reads them.
    sessions = sessionmaker(engine, class_=AsyncSession, expire_on_commit=False)

    @contextlib.asynccontextmanager
    async def lifespan(_app):
        try:
            await require_migrations(engine, migrations)
        except DatabaseBehind as error:
            log.error("refusing to start: %s", error)
            await engine.dispose()
            raise
        yield
        await engine.dispose()

    app = FastAPI(title="shop")
    # What FastAPI(lifespan=...) sets from FastAPI 0.93 on; 0.92 reads it too.
    app.router.lifespan_context = lifespan
    app.state.engine = engine

    @app.exception_handler(DatabaseBehind)
    async def behind_handler(_request, error):
        log.error("refusing to serve: %s", error)
        return JSONResponse(status_code=503, content={"detail": str(error)})

    def as_json(user):
        return {"id": user.id, "name": user.name, "email": user.email,
                "created_at": user.created_at.isoformat()}

    async def get_or_404(db, user_id):
        user = await db.get(User, user_id)
        if user is None:
            raise HTTPException(status_code=404, detail=f"no user {user_id}")
        return user

    async def commit(db, email):
        try:
            await db.commit()
        except IntegrityError:
            raise HTTPException(status_code=409, detail=f"email {email} is taken")

    @app.post("/users", status_code=201)
    async def create_user(data: UserIn):
        async with sessions() as db:
            user = User(name=data.name, email=data.email)
            db.add(user)
            await commit(db, data.email)
            await db.refresh(user)
            return as_json(user)

    @app.get("/users")
    async def list_users():
        async with sessions() as db:
            return [as_json(u) for u in await db.scalars(select(User).order_by(User.id))]

    @app.get("/users/{user_id}")
    async def get_user(user_id: int):
        async with sessions() as db:
            return as_json(await get_or_404(db, user_id))

    @app.put("/users/{user_id}")
    async def update_user(user_id: int, data: UserIn):
        async with sessions() as db:
            user = await get_or_404(db, user_id)
            user.name, user.email = data.name, data.email
            await commit(db, data.email)
            return as_json(user)

    @app.delete("/users/{user_id}", status_code=204)
    async def delete_user(user_id: int):
        async with sessions() as db:
            await db.delete(await get_or_404(db, user_id))
            await db.commit()

    return app


if os.environ.get("DATABASE_URL"):
    app = create_app()
