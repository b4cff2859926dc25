"""merge audit into main

Revision ID: 4d3e5f6a7b8c
Revises: 2b1c3d4e5f6a, 3c2d4e5f6a7b
Create Date: 2026-11-04 10:00:00
"""
from alembic import op
import sqlalchemy as sa

revision = "4d3e5f6a7b8c"
down_revision = ("2b1c3d4e5f6a", "3c2d4e5f6a7b")
branch_labels = None
depends_on = None


def upgrade():
    pass


def downgrade():
    pass
