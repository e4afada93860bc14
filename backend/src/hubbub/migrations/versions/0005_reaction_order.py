"""Reactions remember the room's change number that added them: the order people reacted in,
the same in both databases (before, SQLite's rowid and PostgreSQL's ctid broke ties within a
millisecond). Reactions added before keep 0, and their order by time."""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from hubbub.migrations.types import Int

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("hubbub_reactions") as batch:
        batch.add_column(sa.Column("change_seq", Int, nullable=False, server_default=sa.text("0")))


def downgrade() -> None:
    with op.batch_alter_table("hubbub_reactions") as batch:
        batch.drop_column("change_seq")
