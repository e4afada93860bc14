"""The first release's schema (the code before Alembic: schema version 0).

A database that release made is adopted at this revision (hubbub/store/schema.py).
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from hubbub.migrations.types import Int, Real

revision = "0000"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "hubbub_rooms",
        sa.Column("name", sa.Text, primary_key=True),
        sa.Column("head", Int, nullable=False, server_default=sa.text("0")),
        sa.Column("created_at", Int, nullable=False),
    )
    op.create_table(
        "hubbub_messages",
        sa.Column("room", sa.Text, sa.ForeignKey("hubbub_rooms.name"), nullable=False),
        sa.Column("seq", Int, nullable=False),
        sa.Column("id", sa.Text, nullable=False, unique=True),
        sa.Column("author", sa.Text, nullable=False),
        sa.Column("body", sa.Text, nullable=False),
        sa.Column("ts", Int, nullable=False),
        sa.Column("client_msg_id", sa.Text),
        sa.Column("client_id", Int),
        sa.PrimaryKeyConstraint("room", "seq"),
    )
    op.create_index(
        "hubbub_messages_idempotency",
        "hubbub_messages",
        ["room", "author", "client_msg_id"],
        unique=True,
        sqlite_where=sa.text("client_msg_id IS NOT NULL"),
        postgresql_where=sa.text("client_msg_id IS NOT NULL"),
    )
    op.create_table(
        "hubbub_sessions",
        sa.Column("id", sa.Text, primary_key=True),
        sa.Column("user", sa.Text, nullable=False),
        sa.Column("expires_at", Real, nullable=False),
    )


def downgrade() -> None:
    raise NotImplementedError("the first release's schema is where the history starts")
