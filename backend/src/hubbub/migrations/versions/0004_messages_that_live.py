"""Messages that live: edits, tombstones, reactions, a change feed per room; bots (schema
version 4, the last of the code before Alembic)."""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from hubbub.migrations.types import Flag, Int

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("hubbub_messages") as batch:
        batch.add_column(sa.Column("bot", Flag, nullable=False, server_default=sa.false()))
        batch.add_column(sa.Column("edited_at", Int))
        batch.add_column(sa.Column("deleted", Flag, nullable=False, server_default=sa.false()))
        batch.add_column(sa.Column("reactions", sa.Text, nullable=False, server_default=sa.text("'[]'")))
        batch.add_column(sa.Column("change_seq", Int, nullable=False, server_default=sa.text("0")))
    op.create_index(
        "hubbub_messages_changes",
        "hubbub_messages",
        ["room", "change_seq"],
        sqlite_where=sa.text("change_seq > 0"),
        postgresql_where=sa.text("change_seq > 0"),
    )
    with op.batch_alter_table("hubbub_rooms") as batch:
        batch.add_column(sa.Column("change_head", Int, nullable=False, server_default=sa.text("0")))
    op.create_table(
        "hubbub_reactions",
        sa.Column("room", sa.Text, nullable=False),
        sa.Column("seq", Int, nullable=False),
        sa.Column("emoji", sa.Text, nullable=False),
        sa.Column("user", sa.Text, nullable=False),
        sa.Column("at", Int, nullable=False),
        sa.PrimaryKeyConstraint("room", "seq", "emoji", "user"),
    )
    op.create_table(
        "hubbub_bots",
        sa.Column("name", sa.Text, primary_key=True),
        sa.Column("token_hash", sa.Text, nullable=False, unique=True),
        sa.Column("created_at", Int, nullable=False),
        sa.Column("revoked_at", Int),
    )


def downgrade() -> None:
    raise NotImplementedError("no way back before Alembic's first revisions")
