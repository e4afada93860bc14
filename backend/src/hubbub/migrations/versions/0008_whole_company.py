"""Rooms count their members, and public rooms are found by an index.

A room list showed each room's member count by counting its members, once per room per list:
a company's room list (every public room) read every member of every room, tens of thousands
of rows per user, and a join read the room's members too. The count is now kept with the room,
in the transaction that adds or removes a member. Public rooms are listed by an index on
visibility instead of a scan of every room (direct messages included)."""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from hubbub.migrations.types import Int

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("hubbub_rooms") as batch:
        batch.add_column(sa.Column("member_count", Int, nullable=False, server_default=sa.text("0")))
        batch.create_index("hubbub_rooms_visibility", ["visibility"])
    rooms = sa.table("hubbub_rooms", sa.column("name"), sa.column("member_count"))
    members = sa.table("hubbub_members", sa.column("room"))
    counted = sa.select(sa.func.count()).where(members.c.room == rooms.c.name).scalar_subquery()
    op.execute(rooms.update().values(member_count=counted))


def downgrade() -> None:
    with op.batch_alter_table("hubbub_rooms") as batch:
        batch.drop_index("hubbub_rooms_visibility")
        batch.drop_column("member_count")
