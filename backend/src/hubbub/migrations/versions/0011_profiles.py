"""Profiles (issue 24): a display name apart from the login name, a status line with an emoji,
a time zone, and an uploaded avatar's file (empty: initials on a colour)."""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None

COLUMNS = ("display_name", "status_emoji", "status_text", "time_zone")


def upgrade() -> None:
    with op.batch_alter_table("hubbub_users") as batch:
        for column in COLUMNS:
            batch.add_column(sa.Column(column, sa.Text, nullable=False, server_default=sa.text("''")))
        batch.add_column(sa.Column("avatar", sa.Text))


def downgrade() -> None:
    with op.batch_alter_table("hubbub_users") as batch:
        for column in ("avatar", *reversed(COLUMNS)):
            batch.drop_column(column)
