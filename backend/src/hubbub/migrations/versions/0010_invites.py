"""Invitations (issue 24): links an admin makes for someone to pick a name and a password.
Tokens are kept as SHA-256 hashes; ``used`` counts accepted ones, up to ``uses``."""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from hubbub.migrations.types import Int

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "hubbub_invites",
        sa.Column("id", sa.Text, primary_key=True),
        sa.Column("token_hash", sa.Text, nullable=False, unique=True),
        sa.Column("created_by", sa.Text, nullable=False),
        sa.Column("created_at", Int, nullable=False),
        sa.Column("expires_at", Int, nullable=False),
        sa.Column("uses", Int, nullable=False),
        sa.Column("used", Int, nullable=False, server_default=sa.text("0")),
        sa.Column("revoked_at", Int),
    )


def downgrade() -> None:
    op.drop_table("hubbub_invites")
