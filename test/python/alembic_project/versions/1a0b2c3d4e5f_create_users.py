"""create users

Revision ID: 1a0b2c3d4e5f
Revises:
Create Date: 2026-11-01 10:00:00
"""
from alembic import op
import sqlalchemy as sa

revision = "1a0b2c3d4e5f"
down_revision = None
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "users",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("name", sa.String(50), nullable=False),
        sa.Column("email", sa.String(200), nullable=False, unique=True),
    )


def downgrade():
    op.drop_table("users")
