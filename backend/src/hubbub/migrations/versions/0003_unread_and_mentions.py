"""Unread and mentions: each member's read position, each message's mentions (schema version 3).
What was there before counts as read: an upgrade does not light every badge."""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from hubbub.migrations.types import Int

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

rooms = sa.table("hubbub_rooms", sa.column("name"), sa.column("head"))
members = sa.table("hubbub_members", sa.column("room"), sa.column("last_read"))


def upgrade() -> None:
    with op.batch_alter_table("hubbub_members") as batch:
        batch.add_column(sa.Column("last_read", Int, nullable=False, server_default=sa.text("0")))
    head = sa.select(rooms.c.head).where(rooms.c.name == members.c.room).scalar_subquery()
    op.execute(members.update().values(last_read=head))
    with op.batch_alter_table("hubbub_messages") as batch:
        batch.add_column(sa.Column("mentions", sa.Text, nullable=False, server_default=sa.text("'[]'")))
    op.create_table(
        "hubbub_mentions",
        sa.Column("user", sa.Text, nullable=False),
        sa.Column("room", sa.Text, nullable=False),
        sa.Column("seq", Int, nullable=False),
        sa.PrimaryKeyConstraint("user", "room", "seq"),
    )


def downgrade() -> None:
    raise NotImplementedError("no way back before Alembic's first revisions")
