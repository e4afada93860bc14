"""SQLite's search index: an FTS5 table of each document's terms (search/terms.py), written by
Hubbub itself, read as a plain inverted index.

Why not FTS5's own trigram tokenizer: it cannot find a word of one or two characters (上海,
会議; SQLite 3.40 has no other way either), and PostgreSQL's pg_trgm cannot find Chinese or
Japanese at all in a database whose LC_CTYPE is C, nor punctuation anywhere ("c++"). So both
databases index the same terms, made once in Python: the trigrams of the folded text, the
characters and pairs of the unspaced scripts, the author, room and kinds. Here each term is an
FTS5 token: ASCII other than a-z and 0-9 written as _ and two hex digits (the ascii tokenizer
takes every other character, and "_", as part of a token), so no term can split, and a query
is a list of quoted tokens joined by AND and OR, made from the terms alone: nothing typed into
search ever reaches FTS5's syntax.

The table keeps no copy of the terms (content='') and no positions (detail='none'): a
document's terms are removed by naming them again, made from the document as it is stored.
"""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import Connection, Integer, bindparam, column, literal_column, table, text

from hubbub.search.terms import grams, meta_terms, term_grams
from hubbub.store.search.base import Doc, Narrowing, Needs
from hubbub.store.tables import search_docs
from hubbub.store.work.sql import Statement, run_many

TABLE = "hubbub_search_terms"
_ESCAPES = {c: f"_{c:02x}" for c in range(128) if not ("0" <= chr(c) <= "9" or "a" <= chr(c) <= "z")}
GRAMS_PER_TEXT = 12  # of a long word's trigrams, enough to make it rare; the text check is exact

_fts = table(TABLE, column("rowid", Integer))
ADD = Statement(text("INSERT INTO hubbub_search_terms (rowid, terms) VALUES (:id, :terms)"))
# FTS5's own command: remove exactly these terms of that row.
REMOVE = Statement(
    text("INSERT INTO hubbub_search_terms (hubbub_search_terms, rowid, terms) VALUES ('delete', :id, :terms)")
)


def token(term: str) -> str:
    return term.translate(_ESCAPES)


def tokens(doc: Doc) -> str:
    terms = grams(doc.folded)
    terms.update(meta_terms(doc.author, doc.room, doc.kinds))
    return " ".join(token(term) for term in terms)


def _spread(found: set[str]) -> list[str]:
    """Up to GRAMS_PER_TEXT of a text's grams, evenly apart (its sorted order is as good as
    any: each one is a condition every match meets)."""
    ordered = sorted(found)
    if len(ordered) <= GRAMS_PER_TEXT:
        return ordered
    step = len(ordered) / GRAMS_PER_TEXT
    return [ordered[int(i * step)] for i in range(GRAMS_PER_TEXT)]


def _quoted(term: str) -> str:
    return f'"{token(term)}"'  # a token has no quote in it: '"' is written _22


class Fts5Index:
    def added(self, conn: Connection, docs: Sequence[Doc]) -> None:
        run_many(conn, ADD, [{"id": doc.id, "terms": tokens(doc)} for doc in docs])

    def removed(self, conn: Connection, docs: Sequence[Doc]) -> None:
        run_many(conn, REMOVE, [{"id": doc.id, "terms": tokens(doc)} for doc in docs])

    def narrow(self, needs: Needs) -> Narrowing | None:
        parts = [" AND ".join(map(_quoted, _spread(term_grams(t)))) for t in needs.texts]
        parts = [part for part in parts if part]
        parts += ["(" + " OR ".join(map(_quoted, group)) + ")" for group in needs.any_of if group]
        if not parts:
            return None
        match = literal_column(TABLE).op("MATCH", is_comparison=True)(bindparam("match", " AND ".join(parts)))
        return Narrowing(_fts.join(search_docs, search_docs.c.id == _fts.c.rowid), match, _fts.c.rowid)
