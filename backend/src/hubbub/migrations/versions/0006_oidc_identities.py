"""Auth mode oidc: accounts of identity providers bound to user names, and the sign-ins that
came back (each state once)."""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from hubbub.migrations.types import Int, Real

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "hubbub_identities",
        sa.Column("issuer", sa.Text, nullable=False),
        sa.Column("subject", sa.Text, nullable=False),
        sa.Column("user", sa.Text, nullable=False, unique=True),
        sa.Column("skeleton", sa.Text, nullable=False, unique=True),
        sa.Column("created_at", Int, nullable=False),
        sa.PrimaryKeyConstraint("issuer", "subject"),
    )
    op.create_table(
        "hubbub_oidc_states",
        sa.Column("digest", sa.Text, primary_key=True),
        sa.Column("expires_at", Real, nullable=False),
    )


def downgrade() -> None:
    op.drop_table("hubbub_oidc_states")
    op.drop_table("hubbub_identities")
