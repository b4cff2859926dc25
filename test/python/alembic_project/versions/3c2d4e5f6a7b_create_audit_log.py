"""create audit log

Revision ID: 3c2d4e5f6a7b
Revises: 1a0b2c3d4e5f
Create Date: 2026-11-03 10:00:00
"""
from alembic import op
import sqlalchemy as sa

revision = "3c2d4e5f6a7b"
down_revision = "1a0b2c3d4e5f"
branch_labels = ("audit",)
depends_on = None


def upgrade():
    op.create_table(
        "audit_log",
        sa.Column("id", sa.BigInteger, primary_key=True),
        sa.Column("user_id", sa.Integer, sa.ForeignKey("users.id", ondelete="CASCADE")),
        sa.Column("action", sa.Text, nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), server_default=sa.func.now()),
    )


def downgrade():
    op.drop_table("audit_log")
