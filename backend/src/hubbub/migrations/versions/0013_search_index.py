"""Search: a document per message (its folded text, author, room, what it has) and how far each
room is indexed; the documents' terms (hubbub/search/terms.py) in hubbub_search_terms: an FTS5
table in SQLite, an array with a GIN index in PostgreSQL (hubbub/store/search/). Starts empty:
the server indexes the history that is already there in the background (store/work/search.py).

A revision that changes what a document's terms are must empty the index (both tables, and
the progress), so that it is built again the new way: SQLite's FTS5 table removes a document's
terms by naming them again."""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from hubbub.migrations.types import Int

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None

# The terms of each document (search/terms.py), made by Hubbub, in an array GIN indexes.
POSTGRES = [
    "CREATE TABLE hubbub_search_terms (id BIGINT PRIMARY KEY, terms TEXT[] NOT NULL)",
    "CREATE INDEX hubbub_search_terms_gin ON hubbub_search_terms USING gin (terms)",
]
# Only the index, no copy of the terms (content=''); rowids only (detail=none): a document's
# terms are each looked up whole, and what matches exactly is decided on the folded text.
SQLITE = (
    "CREATE VIRTUAL TABLE hubbub_search_terms USING fts5("
    "terms, content='', detail='none', columnsize=0, tokenize=\"ascii tokenchars '_'\")"
)


def upgrade() -> None:
    op.create_table(
        "hubbub_search_docs",
        sa.Column("id", Int, primary_key=True, autoincrement=False),
        sa.Column("room", sa.Text, nullable=False),
        sa.Column("seq", Int, nullable=False),
        sa.Column("author", sa.Text, nullable=False),
        sa.Column("kinds", sa.Text, nullable=False, server_default=sa.text("''")),
        sa.Column("folded", sa.Text, nullable=False),
    )
    op.create_index("hubbub_search_docs_message", "hubbub_search_docs", ["room", "seq"], unique=True)
    op.create_table(
        "hubbub_search_progress",
        sa.Column("room", sa.Text, primary_key=True),
        sa.Column("seq", Int, nullable=False, server_default=sa.text("0")),
        sa.Column("change", Int, nullable=False, server_default=sa.text("0")),
    )
    if op.get_bind().dialect.name == "sqlite":
        try:
            op.execute(SQLITE)
        except sa.exc.OperationalError as exc:
            if "fts5" in str(exc):
                raise RuntimeError(
                    "this Python's SQLite was built without FTS5, which search needs: use a "
                    "build with it (Debian's, Python's official images), or PostgreSQL"
                ) from exc
            raise
    else:
        for statement in POSTGRES:
            op.execute(statement)


def downgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        op.execute("DROP TABLE hubbub_search_terms")
    else:
        op.execute("DROP TABLE hubbub_search_terms")
    op.drop_table("hubbub_search_progress")
    op.drop_index("hubbub_search_docs_message", "hubbub_search_docs")
    op.drop_table("hubbub_search_docs")
