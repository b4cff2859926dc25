"""roles, with their rows

Revision ID: 5e4f6a7b8c9d
Revises: 4d3e5f6a7b8c
Create Date: 2026-11-05 10:00:00
"""
from alembic import op
import sqlalchemy as sa

revision = "5e4f6a7b8c9d"
down_revision = "4d3e5f6a7b8c"
branch_labels = None
depends_on = None


def upgrade():
    roles = op.create_table(
        "roles",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("name", sa.String(30), nullable=False, unique=True),
    )
    op.bulk_insert(roles, [{"id": 1, "name": "admin"}, {"id": 2, "name": "member"}])
    op.add_column("users", sa.Column("role_id", sa.Integer, sa.ForeignKey("roles.id"),
                                     nullable=True))
    # A data migration: every existing user becomes a member.
    op.execute("UPDATE users SET role_id = 2")


def downgrade():
    op.drop_column("users", "role_id")
    op.drop_table("roles")
