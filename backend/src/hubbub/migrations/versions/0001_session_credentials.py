"""A session knows the credential it was made from; a room, who created it (schema version 1)."""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = "0000"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("hubbub_sessions") as batch:
        batch.add_column(sa.Column("credential", sa.Text))
    with op.batch_alter_table("hubbub_rooms") as batch:
        batch.add_column(sa.Column("created_by", sa.Text))
    op.create_index("hubbub_rooms_created_by", "hubbub_rooms", ["created_by"])


def downgrade() -> None:
    raise NotImplementedError("no way back before Alembic's first revisions")
