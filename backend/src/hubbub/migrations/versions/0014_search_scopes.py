"""Search: every term of the index under its document's scope (search/terms.py), so that a
search reads only the scopes its reader may read (issue 25).

What a document's terms are changed, and SQLite's FTS5 table removes a document's terms by
naming them again (0013): so the index is emptied, both tables and the progress, and the server
builds it again the new way in the background at start, as after the upgrade to 0013. Emptying
is quick whatever the size of the history; building it again is the indexer's work (about
5,000 to 7,000 messages a second on one core), and until a room is indexed again a search
brings the rooms it reads up to date first (Store.search), so every message stays findable.

The documents' own rows need no change (a public room's documents already carry the kind
"public", which is how their scope is known), but they are emptied with the rest: the indexer
makes a document and its terms together."""

from __future__ import annotations

from alembic import op

revision = "0014"
down_revision = "0013"
branch_labels = None
depends_on = None


def _empty() -> None:
    if op.get_bind().dialect.name == "sqlite":
        # FTS5's own command for a contentless table: forget every row's terms.
        op.execute("INSERT INTO hubbub_search_terms (hubbub_search_terms) VALUES ('delete-all')")
        op.execute("DELETE FROM hubbub_search_docs")
        op.execute("DELETE FROM hubbub_search_progress")
    else:
        # In the migration's transaction, like any other statement of PostgreSQL's.
        op.execute("TRUNCATE hubbub_search_terms, hubbub_search_docs, hubbub_search_progress")


def upgrade() -> None:
    _empty()


def downgrade() -> None:
    # 0013's terms were not scoped: empty again, and the older server builds them its way.
    _empty()
