"""PostgreSQL's search index: each document's terms (search/terms.py: the same as SQLite's,
made by the same code, each under the document's scope) in an array, hubbub_search_terms,
with a GIN index; ``@>`` (has all of these) and ``&&`` (has one of these) take the terms as
values, never as query syntax.

Why not pg_trgm: it takes only what the database's LC_CTYPE calls letters and digits, so in a
database made with the C locale it finds no Chinese or Japanese at all, and nowhere punctuation
("c++"), nor a word of one or two characters (上海). Nor tsvector: its query would have to be
written in tsquery's syntax. (A GIN index over an SQL function making the same terms from the
folded text kept them out of the table, but made indexing 30 times slower.)
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Any

from sqlalchemy import BigInteger, Column, Connection, MetaData, Table, Text, and_, bindparam, delete, or_
from sqlalchemy.dialects.postgresql import ARRAY, insert
from sqlalchemy.sql import ColumnElement

from hubbub.search.terms import PUBLIC_SCOPE, scoped
from hubbub.store.search.base import Clause, Doc, Narrowing, Needs, clauses, terms
from hubbub.store.tables import TERMS_TABLE, search_docs
from hubbub.store.work.sql import Statement, run_many

# Not in tables.py's MetaData: SQLite's table of that name is FTS5's (tables.described).
_terms = Table(
    TERMS_TABLE,
    MetaData(),
    Column("id", BigInteger, primary_key=True),
    Column("terms", ARRAY(Text), nullable=False),
)
ADD = Statement(insert(_terms).values(id=bindparam("id"), terms=bindparam("terms")))
REMOVE = Statement(delete(_terms).where(_terms.c.id == bindparam("id")))


def _array(found: tuple[str, ...]) -> Any:
    return bindparam(None, list(found), type_=ARRAY(Text))


def _clause(clause: Clause) -> ColumnElement[bool]:
    # A room's clause names the room's own term too (every document of the room has it): the
    # planner knows the public scope's frequent terms, but takes any term it has no numbers
    # for to be in a few documents in a thousand; ORed over 30 rooms, that is 6% of them, and
    # it walks every document newest first for a word in none (1.2 s against 5 ms at 100,000
    # documents). Two such terms of one @> it takes to be rare, as room terms are.
    all_of = clause.all_of
    if clause.scope != PUBLIC_SCOPE and all_of != (scoped(clause.scope, ""),):
        all_of = (scoped(clause.scope, ""), *all_of)
    where = [_terms.c.terms.contains(_array(all_of))] if all_of else []
    where += [_terms.c.terms.overlap(_array(group)) for group in clause.any_of]
    return and_(*where)


class GramIndex:
    def added(self, conn: Connection, docs: Sequence[Doc]) -> None:
        run_many(conn, ADD, [{"id": doc.id, "terms": terms(doc)} for doc in docs])

    def removed(self, conn: Connection, docs: Sequence[Doc]) -> None:
        run_many(conn, REMOVE, [{"id": doc.id} for doc in docs])

    def narrow(self, needs: Needs) -> Narrowing | None:
        # One clause per readable scope, ORed: GIN answers each from its own terms' postings
        # and the planner bitmap-ORs them.
        where = [_clause(clause) for clause in clauses(needs)]
        if not where:
            return None
        source = _terms.join(search_docs, search_docs.c.id == _terms.c.id)
        return Narrowing(source, or_(*where), _terms.c.id)

    @contextmanager
    def searching(self, conn: Connection) -> Iterator[None]:
        # The statement's text is the same for every query of as many scopes, so after five
        # runs PostgreSQL may plan it once for no values in particular (a generic plan): then
        # it guesses that many documents meet one of the ORed conditions, and walks them all
        # newest first testing each one's terms (3.5 s at 100,000 documents, against 10 ms).
        # Planned for its own terms each time, the GIN index answers it. (The connection
        # reads in autocommit, so the setting is put back by hand, on this connection only.)
        conn.exec_driver_sql("SET plan_cache_mode = force_custom_plan")
        try:
            yield
        finally:
            conn.exec_driver_sql("RESET plan_cache_mode")
