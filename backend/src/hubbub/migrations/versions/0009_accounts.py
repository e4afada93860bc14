"""Accounts (issue 24): password users live in the database (the users file is adopted into
it), every user has a role and may be deactivated; a counter numbers account changes so that
every worker, and the `hubbub` command, can tell which accounts changed since it last looked."""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from hubbub.migrations.types import Flag, Int

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("hubbub_users") as batch:
        batch.add_column(sa.Column("password_hash", sa.Text))
        batch.add_column(sa.Column("admin", Flag, nullable=False, server_default=sa.false()))
        batch.add_column(sa.Column("deactivated_at", Int))
        batch.add_column(sa.Column("created_at", Int))
        batch.add_column(sa.Column("file_entry", sa.Text))
        batch.add_column(sa.Column("version", Int, nullable=False, server_default=sa.text("0")))
    op.create_index("hubbub_users_version", "hubbub_users", ["version"])
    counters = op.create_table(
        "hubbub_counters",
        sa.Column("name", sa.Text, primary_key=True),
        sa.Column("value", Int, nullable=False, server_default=sa.text("0")),
    )
    op.bulk_insert(counters, [{"name": "accounts", "value": 0}])


def downgrade() -> None:
    op.drop_table("hubbub_counters")
    op.drop_index("hubbub_users_version", "hubbub_users")
    with op.batch_alter_table("hubbub_users") as batch:
        for column in ("version", "file_entry", "created_at", "deactivated_at", "admin", "password_hash"):
            batch.drop_column(column)
