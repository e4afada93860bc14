"""Search: a document per message (its folded text, author, room, what it has) and how far each
room is indexed; SQLite indexes the documents' terms in an FTS5 table, PostgreSQL with a GIN
index over an expression of them (hubbub/store/search/). Starts empty: the server indexes the
history that is already there in the background (store/work/search.py).

What the terms of a document are (hubbub/search/terms.py) is written out here as it was when
this revision was made: a revision that changes them must empty the index, so that it is
built again the new way."""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from hubbub.migrations.types import Int

revision = "search_index"
down_revision = "0005"
branch_labels = None
depends_on = None

# The scripts written without spaces between words (terms.UNSPACED_RANGES when this was made).
UNSPACED = (
    (0x0E00, 0x0EFF),
    (0x1000, 0x109F),
    (0x1100, 0x11FF),
    (0x1780, 0x17FF),
    (0x2E80, 0x2FDF),
    (0x3005, 0x3007),
    (0x3021, 0x3029),
    (0x3031, 0x3035),
    (0x303B, 0x303C),
    (0x3040, 0x30FF),
    (0x3100, 0x31FF),
    (0x3400, 0x4DBF),
    (0x4E00, 0x9FFF),
    (0xA960, 0xA97F),
    (0xAC00, 0xD7FF),
    (0xF900, 0xFAFF),
    (0x1B000, 0x1B16F),
    (0x20000, 0x3134F),
)


def _unspaced(char: str) -> str:
    code = f"ascii({char})"
    return "(" + " OR ".join(f"{code} BETWEEN {low} AND {high}" for low, high in UNSPACED) + ")"


def _grams(text: str) -> str:
    """SQL for the grams of a folded text (terms.grams): every trigram, and in unspaced scripts
    every character and every pair. Built-in functions only: an index expression must not
    depend on the search_path it is evaluated with."""
    return f"""(
    SELECT coalesce(array_agg(DISTINCT g) FILTER (WHERE g IS NOT NULL), '{{}}'::text[])
    FROM (
        SELECT c, lead(c) OVER w AS c1, lead(c, 2) OVER w AS c2
        FROM unnest(string_to_array({text}, NULL)) WITH ORDINALITY AS chars(c, i)
        WINDOW w AS (ORDER BY i)
    ) AS runs,
    LATERAL (VALUES
        (c || c1 || c2),
        (CASE WHEN {_unspaced("c")} THEN c END),
        (CASE WHEN {_unspaced("c")} AND {_unspaced("c1")} THEN c || c1 END)
    ) AS grams(g)
)"""  # noqa: S608 (made of constants)


POSTGRES = [
    f"""CREATE FUNCTION hubbub_search_grams(t text) RETURNS text[]
LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE AS $$ SELECT {_grams("t")} $$""",
    # A document's terms (terms.grams and terms.meta_terms): what the GIN index holds.
    f"""CREATE FUNCTION hubbub_search_terms(folded text, author text, room text, kinds text)
RETURNS text[] LANGUAGE sql IMMUTABLE PARALLEL SAFE COST 1000 AS $$
SELECT {_grams("folded")}
    || ARRAY[chr(1) || 'a' || author, chr(1) || 'r' || room]
    || coalesce(
        (SELECT array_agg(chr(1) || 'k' || k) FROM unnest(string_to_array(kinds, ' ')) AS k WHERE k <> ''),
        '{{}}'::text[])
$$""",  # noqa: S608 (made of constants)
    "CREATE INDEX hubbub_search_docs_terms ON hubbub_search_docs "
    "USING gin (hubbub_search_terms(folded, author, room, kinds))",
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
        op.execute("DROP INDEX hubbub_search_docs_terms")
        op.execute("DROP FUNCTION hubbub_search_terms(text, text, text, text)")
        op.execute("DROP FUNCTION hubbub_search_grams(text)")
    op.drop_table("hubbub_search_progress")
    op.drop_index("hubbub_search_docs_message", "hubbub_search_docs")
    op.drop_table("hubbub_search_docs")
