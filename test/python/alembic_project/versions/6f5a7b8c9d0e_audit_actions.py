"""audit actions are checked

Revision ID: 6f5a7b8c9d0e
Revises: 5e4f6a7b8c9d
Create Date: 2026-11-06 10:00:00

"""
# Written as Alembic 1.13 and later's script.py.mako writes revisions: typed.
from typing import Sequence, Union

from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision: str = "6f5a7b8c9d0e"
down_revision: Union[str, Sequence[str], None] = "5e4f6a7b8c9d"
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = "audit"


def upgrade() -> None:
    """Upgrade schema."""
    op.create_check_constraint("audit_log_action", "audit_log",
                               "action IN ('login', 'logout', 'update')")


def downgrade() -> None:
    """Downgrade schema."""
    op.drop_constraint("audit_log_action", "audit_log", type_="check")
