"""add users.created_at

Revision ID: 2b1c3d4e5f6a
Revises: 1a0b2c3d4e5f
Create Date: 2026-11-02 10:00:00
"""
from alembic import op
import sqlalchemy as sa

revision = "2b1c3d4e5f6a"
down_revision = "1a0b2c3d4e5f"
branch_labels = None
depends_on = None


def upgrade():
    op.add_column("users", sa.Column("created_at", sa.DateTime(timezone=True),
                                     server_default=sa.func.now(), nullable=False))
    op.create_index("ix_users_created_at", "users", ["created_at"])


def downgrade():
    op.drop_index("ix_users_created_at", table_name="users")
    op.drop_column("users", "created_at")
