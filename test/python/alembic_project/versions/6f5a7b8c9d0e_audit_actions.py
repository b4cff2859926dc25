"""audit actions are checked

Revision ID: 6f5a7b8c9d0e
Revises: 5e4f6a7b8c9d
Create Date: 2026-11-06 10:00:00
"""
from alembic import op
import sqlalchemy as sa

revision = "6f5a7b8c9d0e"
down_revision = "5e4f6a7b8c9d"
branch_labels = None
depends_on = "audit"


def upgrade():
    op.create_check_constraint("audit_log_action", "audit_log",
                               "action IN ('login', 'logout', 'update')")


def downgrade():
    op.drop_constraint("audit_log_action", "audit_log", type_="check")
