"""Files: uploads kept by the content's SHA-256 in the file storage, one row per upload here
(where, by whom, what it is, the message it is attached to); a message keeps what it shows of
its files, as it keeps its reactions."""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from hubbub.migrations.types import Int

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("hubbub_messages") as batch:
        batch.add_column(sa.Column("files", sa.Text, nullable=False, server_default=sa.text("'[]'")))
    op.create_table(
        "hubbub_files",
        sa.Column("id", sa.Text, primary_key=True),
        sa.Column("room", sa.Text, sa.ForeignKey("hubbub_rooms.name"), nullable=False),
        sa.Column("uploader", sa.Text, nullable=False),
        sa.Column("name", sa.Text, nullable=False),
        sa.Column("size", Int, nullable=False),
        sa.Column("type", sa.Text, nullable=False),
        sa.Column("width", Int),
        sa.Column("height", Int),
        sa.Column("digest", sa.Text, nullable=False),
        sa.Column("thumbnail", sa.Text),
        sa.Column("created_at", Int, nullable=False),
        sa.Column("message_seq", Int),
    )
    op.create_index("hubbub_files_uploader", "hubbub_files", ["uploader"])
    op.create_index("hubbub_files_digest", "hubbub_files", ["digest"])
    op.create_index("hubbub_files_thumbnail", "hubbub_files", ["thumbnail"])
    op.create_index("hubbub_files_message", "hubbub_files", ["room", "message_seq"])
    op.create_index(
        "hubbub_files_unattached",
        "hubbub_files",
        ["created_at"],
        sqlite_where=sa.text("message_seq IS NULL"),
        postgresql_where=sa.text("message_seq IS NULL"),
    )


def downgrade() -> None:
    op.drop_table("hubbub_files")
    with op.batch_alter_table("hubbub_messages") as batch:
        batch.drop_column("files")
