"""The models of test_sqlalchemy.py in the style SQLAlchemy 1.4 and 2.0 both
read (declarative_base(), Column): the same schema as models_typed.py."""

import enum

from sqlalchemy import Column, DateTime, Enum, ForeignKey, Index, Integer, String, Text, func
from sqlalchemy.orm import declarative_base, relationship

Base = declarative_base()


class Mood(enum.Enum):
    sad = 1
    happy = 2


class User(Base):
    __tablename__ = "users"

    id = Column(Integer, primary_key=True)
    email = Column(Text, nullable=False, unique=True)
    nickname = Column(String(40))
    mood = Column(Enum(Mood, name="mood"), comment="how they feel")
    created_at = Column(DateTime, nullable=False, server_default=func.now())
    posts = relationship("Post", back_populates="author")


class Post(Base):
    __tablename__ = "posts"
    __table_args__ = (Index("posts_title_idx", "title"),)

    id = Column(Integer, primary_key=True)
    user_id = Column(Integer, ForeignKey("users.id", ondelete="CASCADE"), nullable=False)
    title = Column(String(200))
    author = relationship("User", back_populates="posts")
