"""The search index: the part of search that differs between the databases.

What is the same in both is written once in store/work/search.py: the documents (one per stored,
undeleted message: its folded text, author, room and kinds, hubbub_search_docs), keeping them
in step with the messages, and the search itself, whose base query holds who may read what.
An index only says which documents may match, quickly.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from sqlalchemy import Connection
from sqlalchemy.sql import ColumnElement, FromClause


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
    - ``narrow`` gives the documents that may meet the needs: every document that meets them,
      and perhaps others (the search then checks each candidate's folded text exactly); None
      when the index cannot narrow them at all (texts of one or two characters outside the
      unspaced scripts, and nothing else), and the search reads every document it may show.
      Every index narrows by the same grams, so both databases find the same messages (the
      contract suite, tests/test_search_contract.py, runs against both).
    """

    def added(self, conn: Connection, docs: Sequence[Doc]) -> None: ...

    def removed(self, conn: Connection, docs: Sequence[Doc]) -> None: ...

    def narrow(self, needs: Needs) -> Narrowing | None: ...
