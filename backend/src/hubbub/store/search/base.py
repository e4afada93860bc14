"""The search index: the part of search that differs between the databases.

What is the same in both is written once in store/work/search.py: the documents (one per stored,
undeleted message: its folded text, author, room and kinds, hubbub_search_docs), keeping them
in step with the messages, and the search itself, whose base query holds who may read what.
An index only says which documents may match, quickly.
"""

from __future__ import annotations

from collections.abc import Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass
from typing import Any, Protocol

from sqlalchemy import Connection
from sqlalchemy.sql import ColumnElement, FromClause

from hubbub.search.terms import PUBLIC_SCOPE, document_terms, scoped, term_grams

GRAMS_PER_TEXT = 12  # of a long word's trigrams, enough to make it rare; the text check is exact
# A room's own scope is small (the public one holds every public room): a few grams of a text
# make it rare there, and each one asked of each room is another lookup in the index.
ROOM_GRAMS = 3
# Grams per text asked of all the reader's other scopes together (at least one each): a reader
# of many rooms (200 DMs) asks one gram of each, never thousands of terms, and is still
# narrowed by the index, to rooms they may read only.
SHARED_GRAMS = 120


@dataclass(frozen=True, slots=True)
class Doc:
    """A document as hubbub_search_docs holds it."""

    id: int
    room: str
    seq: int
    author: str
    kinds: tuple[str, ...]
    folded: str


@dataclass(frozen=True, slots=True)
class Needs:
    """What every matching document has: each of ``texts`` (folded) somewhere in its text, and
    of each group in ``any_of`` at least one of the terms (terms.meta_terms: an author, a
    room, a kind)."""

    texts: tuple[str, ...] = ()
    any_of: tuple[tuple[str, ...], ...] = ()
    # The scopes the reader may read (terms.scope_of): only documents of these may match, and
    # an index reads no posting list of any other.
    scopes: tuple[str, ...] = (PUBLIC_SCOPE,)


@dataclass(frozen=True, slots=True)
class Clause:
    """A document of one scope that may meet the needs has every term of ``all_of`` and one of
    each group of ``any_of``: terms of that scope only (terms.scoped)."""

    scope: str
    all_of: tuple[str, ...]
    any_of: tuple[tuple[str, ...], ...]


def terms(doc: Doc) -> list[str]:
    """The terms an index holds for a document, the same in every index."""
    return document_terms(doc.folded, doc.author, doc.room, doc.kinds)


def spread(found: set[str], most: int) -> list[str]:
    """Up to ``most`` of a text's grams, evenly apart (its sorted order is as good as any:
    each one is a condition every match meets)."""
    ordered = sorted(found)
    if len(ordered) <= most:
        return ordered
    step = len(ordered) / most
    return [ordered[int(i * step)] for i in range(most)]


def clauses(needs: Needs) -> list[Clause]:
    """What an index asks, the same in every index: a document may meet the needs if it meets
    the clause of one of the reader's scopes. A clause with no gram and no group asks for the
    scope's own term (every document of the scope: a text of one or two Latin letters), so
    even then only readable scopes' postings are read."""
    others = sum(1 for scope in needs.scopes if scope != PUBLIC_SCOPE)
    share = max(1, min(ROOM_GRAMS, SHARED_GRAMS // max(1, others)))
    found: list[Clause] = []
    for scope in dict.fromkeys(needs.scopes):
        most = GRAMS_PER_TEXT if scope == PUBLIC_SCOPE else share
        grams = sorted({gram for text in needs.texts for gram in spread(term_grams(text), most)})
        all_of = tuple(scoped(scope, gram) for gram in grams)
        any_of = tuple(tuple(scoped(scope, term) for term in group) for group in needs.any_of if group)
        found.append(Clause(scope, all_of or ((scoped(scope, ""),) if not any_of else ()), any_of))
    return found


@dataclass(frozen=True, slots=True)
class Narrowing:
    """Where the candidates come from (``source``, which joins hubbub_search_docs), what they
    satisfy (``where``), and the column holding their document id, to order and bound them by
    (the index's own, so the database reads it newest first and stops at the page's end)."""

    source: FromClause
    where: ColumnElement[bool]
    id: ColumnElement[Any]


class SearchIndex(Protocol):
    """An index over the documents' terms (search/terms.py: grams of the folded text, the
    author, the room, the kinds).

    - ``added`` and ``removed`` run in the transaction that inserts the documents or is about
      to delete or change them, so that the index holds the terms of exactly the documents
      there are, at every commit. (An index the database keeps by itself does nothing here.)
    - ``narrow`` gives the documents that may meet the needs: every document of the needs'
      scopes that meets them, and perhaps others of those scopes (the search then checks each
      candidate's folded text exactly); None when there is no scope to read. It asks the index
      for ``clauses(needs)``, the clauses ORed, and for no term of any other scope, so what it
      reads of the index never depends on rooms the reader may not read. Every index narrows
      by the same clauses, so both databases find the same messages (the contract suite,
      tests/test_search_contract.py, runs against both, and checks what each is asked).
    - ``searching`` wraps the search's statements (PostgreSQL: how they are planned).
    """

    def added(self, conn: Connection, docs: Sequence[Doc]) -> None: ...

    def removed(self, conn: Connection, docs: Sequence[Doc]) -> None: ...

    def narrow(self, needs: Needs) -> Narrowing | None: ...

    def searching(self, conn: Connection) -> AbstractContextManager[None]:
        """Around the search's narrowed statements, on their connection."""
        ...
