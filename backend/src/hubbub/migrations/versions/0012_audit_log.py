"""The audit log (issue 24): every admin action, who did it, when, and from which address."""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from hubbub.migrations.types import Int

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "hubbub_audit",
        sa.Column("id", Int, primary_key=True, autoincrement=True),
        sa.Column("at", Int, nullable=False),
        sa.Column("actor", sa.Text, nullable=False),
        sa.Column("action", sa.Text, nullable=False),
        sa.Column("target", sa.Text, nullable=False, server_default=sa.text("''")),
        sa.Column("detail", sa.Text, nullable=False, server_default=sa.text("'{}'")),
        sa.Column("address", sa.Text, nullable=False, server_default=sa.text("''")),
    )


def downgrade() -> None:
    op.drop_table("hubbub_audit")
