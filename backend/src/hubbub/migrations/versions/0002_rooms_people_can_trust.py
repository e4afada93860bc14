"""Rooms people can trust: visibility, topic, archive, members, known users, admins (schema
version 2). Existing rooms stay public; whoever has posted in one is a member."""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from hubbub.migrations.types import Flag, Int

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

rooms = sa.table("hubbub_rooms", sa.column("name"), sa.column("created_by"))
messages = sa.table("hubbub_messages", sa.column("room"), sa.column("author"), sa.column("ts"))
members = sa.table(
    "hubbub_members", sa.column("room"), sa.column("user"), sa.column("role"), sa.column("joined_at")
)
users = sa.table("hubbub_users", sa.column("name"), sa.column("seen_at"))


def upgrade() -> None:
    with op.batch_alter_table("hubbub_rooms") as batch:
        batch.add_column(sa.Column("visibility", sa.Text, nullable=False, server_default=sa.text("'public'")))
        batch.add_column(sa.Column("topic", sa.Text, nullable=False, server_default=sa.text("''")))
        batch.add_column(sa.Column("archived", Flag, nullable=False, server_default=sa.false()))
        batch.add_column(sa.Column("dm_key", sa.Text))
    op.create_index(
        "hubbub_rooms_dm_key",
        "hubbub_rooms",
        ["dm_key"],
        unique=True,
        sqlite_where=sa.text("dm_key IS NOT NULL"),
        postgresql_where=sa.text("dm_key IS NOT NULL"),
    )
    op.create_table(
        "hubbub_members",
        sa.Column("room", sa.Text, sa.ForeignKey("hubbub_rooms.name"), nullable=False),
        sa.Column("user", sa.Text, nullable=False),
        sa.Column("role", sa.Text, nullable=False, server_default=sa.text("'member'")),
        sa.Column("joined_at", Int, nullable=False),
        sa.PrimaryKeyConstraint("room", "user"),
    )
    op.create_index("hubbub_members_user", "hubbub_members", ["user"])
    op.create_table(
        "hubbub_users",
        sa.Column("name", sa.Text, primary_key=True),
        sa.Column("seen_at", Int, nullable=False),
    )
    first_post = sa.select(
        messages.c.room, messages.c.author, sa.literal("member"), sa.func.min(messages.c.ts)
    )
    op.execute(
        members.insert().from_select(
            ["room", "user", "role", "joined_at"], first_post.group_by(messages.c.room, messages.c.author)
        )
    )
    created = sa.exists().where(rooms.c.name == members.c.room, rooms.c.created_by == members.c.user)
    op.execute(members.update().where(created).values(role="owner"))
    last_post = sa.select(messages.c.author, sa.func.max(messages.c.ts)).group_by(messages.c.author)
    op.execute(users.insert().from_select(["name", "seen_at"], last_post))
    with op.batch_alter_table("hubbub_sessions") as batch:
        batch.add_column(sa.Column("admin", Flag, nullable=False, server_default=sa.false()))


def downgrade() -> None:
    raise NotImplementedError("no way back before Alembic's first revisions")
