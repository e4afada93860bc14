"""PostgreSQL's search index: GIN over an expression of each document's columns,
hubbub_search_terms(folded, author, room, kinds) (migration search_index), which makes the same
terms as search/terms.py does for SQLite: the trigrams of the folded text, the characters and
pairs of the unspaced scripts, the author, room and kinds. PostgreSQL keeps it in step with the
documents by itself, so adding and removing does nothing here.

Why not pg_trgm: it takes only what the database's LC_CTYPE calls letters and digits, so in a
database made with the C locale it finds no Chinese or Japanese at all, and nowhere punctuation
("c++"), nor a word of one or two characters (上海). Nor tsvector: it would need the terms in
the query syntax of tsquery. An array of terms, and ``@>`` (has all of these) and ``&&`` (has
one of these), take values only.
"""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import Connection, Text, and_, bindparam, func
from sqlalchemy.dialects.postgresql import ARRAY

from hubbub.search.terms import term_grams
from hubbub.store.search.base import Doc, Narrowing, Needs
from hubbub.store.tables import search_docs

_d = search_docs.c


class GramIndex:
    def added(self, conn: Connection, docs: Sequence[Doc]) -> None:
        """Nothing: the GIN index follows the documents."""

    def removed(self, conn: Connection, docs: Sequence[Doc]) -> None:
        """Nothing: the GIN index follows the documents."""

    def narrow(self, needs: Needs) -> Narrowing | None:
        terms = func.hubbub_search_terms(_d.folded, _d.author, _d.room, _d.kinds, type_=ARRAY(Text))
        # Made by the database's own function, so the text's grams are exactly the ones it
        # indexes; asked for only where there are some (terms.term_grams says the same).
        where = [
            terms.op("@>", is_comparison=True)(
                func.hubbub_search_grams(bindparam(None, t, type_=Text), type_=ARRAY(Text))
            )
            for t in needs.texts
            if term_grams(t)
        ]
        where += [
            terms.op("&&", is_comparison=True)(bindparam(None, list(group), type_=ARRAY(Text)))
            for group in needs.any_of
            if group
        ]
        if not where:
            return None
        return Narrowing(search_docs, and_(*where), _d.id)
