"""SQLite's search index: an FTS5 table of each document's terms (search/terms.py), written by
Hubbub itself, read as a plain inverted index.

Why not FTS5's own trigram tokenizer: it cannot find a word of one or two characters (上海,
会議; SQLite 3.40 has no other way either), and PostgreSQL's pg_trgm cannot find Chinese or
Japanese at all in a database whose LC_CTYPE is C, nor punctuation anywhere ("c++"). So both
databases index the same terms, made once in Python: the trigrams of the folded text, the
characters and pairs of the unspaced scripts, the author, room and kinds, each under its
document's scope (a public room's documents share one, every other room is its own: see
search/terms.py), so that a query reads only the scopes its reader may read. Here each term is an
FTS5 token: ASCII other than a-z and 0-9 written as _ and two hex digits (the ascii tokenizer
takes every other character, and "_", as part of a token), so no term can split, and a query
is quoted tokens joined by AND and OR, made from the terms alone (per readable scope, that
scope's terms ANDed; the scopes ORed): nothing typed into search ever reaches FTS5's syntax.

The table keeps no copy of the terms (content='') and no positions (detail='none'): a
document's terms are removed by naming them again, made from the document as it is stored.
"""

from __future__ import annotations

from collections.abc import Sequence
from contextlib import AbstractContextManager, nullcontext

from sqlalchemy import Connection, Integer, bindparam, column, literal_column, table, text

from hubbub.store.search.base import Doc, Narrowing, Needs, clauses, terms
from hubbub.store.tables import search_docs
from hubbub.store.work.sql import Statement, run_many

TABLE = "hubbub_search_terms"
_ESCAPES = {c: f"_{c:02x}" for c in range(128) if not ("0" <= chr(c) <= "9" or "a" <= chr(c) <= "z")}

_fts = table(TABLE, column("rowid", Integer))
ADD = Statement(text("INSERT INTO hubbub_search_terms (rowid, terms) VALUES (:id, :terms)"))
# FTS5's own command: remove exactly these terms of that row.
REMOVE = Statement(
    text("INSERT INTO hubbub_search_terms (hubbub_search_terms, rowid, terms) VALUES ('delete', :id, :terms)")
)


def token(term: str) -> str:
    return term.translate(_ESCAPES)


def tokens(doc: Doc) -> str:
    return " ".join(token(term) for term in terms(doc))


def _quoted(term: str) -> str:
    return f'"{token(term)}"'  # a token has no quote in it: '"' is written _22


def match(needs: Needs) -> str | None:
    """The MATCH expression: per scope, (its grams AND (one of each group)), ORed."""
    found = []
    for clause in clauses(needs):
        groups = ("(" + " OR ".join(map(_quoted, group)) + ")" for group in clause.any_of)
        parts = [*map(_quoted, clause.all_of), *groups]
        found.append("(" + " AND ".join(parts) + ")")
    return " OR ".join(found) or None


class Fts5Index:
    def added(self, conn: Connection, docs: Sequence[Doc]) -> None:
        run_many(conn, ADD, [{"id": doc.id, "terms": tokens(doc)} for doc in docs])

    def removed(self, conn: Connection, docs: Sequence[Doc]) -> None:
        run_many(conn, REMOVE, [{"id": doc.id, "terms": tokens(doc)} for doc in docs])

    def narrow(self, needs: Needs) -> Narrowing | None:
        expression = match(needs)
        if expression is None:
            return None
        where = literal_column(TABLE).op("MATCH", is_comparison=True)(bindparam("match", expression))
        return Narrowing(_fts.join(search_docs, search_docs.c.id == _fts.c.rowid), where, _fts.c.rowid)

    def searching(self, conn: Connection) -> AbstractContextManager[None]:
        return nullcontext()  # SQLite plans every statement for its values
