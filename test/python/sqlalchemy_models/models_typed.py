"""The models of test_sqlalchemy.py in SQLAlchemy 2.0's typed style
(DeclarativeBase, Mapped[...], mapped_column): the same schema as
models_classic.py, column for column."""

import enum
from datetime import datetime
from typing import List, Optional

from sqlalchemy import ForeignKey, Index, String, Text, func
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship


class Base(DeclarativeBase):
    pass


class Mood(enum.Enum):
    sad = 1
    happy = 2


class User(Base):
    __tablename__ = "users"

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(Text, unique=True)
    nickname: Mapped[Optional[str]] = mapped_column(String(40))
    mood: Mapped[Optional[Mood]] = mapped_column(comment="how they feel")
    created_at: Mapped[datetime] = mapped_column(server_default=func.now())
    posts: Mapped[List["Post"]] = relationship(back_populates="author")


class Post(Base):
    __tablename__ = "posts"
    __table_args__ = (Index("posts_title_idx", "title"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    title: Mapped[Optional[str]] = mapped_column(String(200))
    author: Mapped[User] = relationship(back_populates="posts")
