"""A declarative base whose models live in a module nobody imported."""

from sqlalchemy.orm import declarative_base

Base = declarative_base()
