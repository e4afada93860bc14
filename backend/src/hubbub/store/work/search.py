"""Search, once for both databases: the documents kept in step with the messages (``follow``),
and the search itself (``search``), whose one query holds who may read what. What differs
between the databases, the index over the documents' terms, is a SearchIndex
(store/search/).

Following the messages: each room's progress (hubbub_search_progress) says up to which seq its
messages are in the index, and up to which change number their edits and deletes are. Both
numbers are gapless and commit in order per room, so "everything after them" is exactly what
the index lacks, whoever stored it, on whichever worker, before or after a crash: indexing
needs nothing from the transaction that stores a message, and never delays it.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from typing import Any

from sqlalchemy import (
    Connection,
    Text,
    and_,
    bindparam,
    false,
    func,
    literal,
    or_,
    select,
    update,
)
from sqlalchemy.sql import ColumnElement

from hubbub.model import PUBLIC, ROOM_MENTION, Found, StoredMessage
from hubbub.search.fold import fold
from hubbub.search.query import SearchQuery
from hubbub.search.terms import AUTHOR, KIND, PUBLIC_KIND, PUBLIC_SCOPE, ROOM, kinds
from hubbub.store.dialect import Dialect
from hubbub.store.search.base import Doc, Needs, SearchIndex
from hubbub.store.tables import members, mentions, messages, rooms, search_docs, search_progress
from hubbub.store.work.messages import COLUMNS, message_from_row
from hubbub.store.work.sql import Statement, run, run_many

d, p, r, m, x = search_docs.c, search_progress.c, rooms.c, members.c, messages.c
SAME_MS = 1024  # documents of one millisecond: the id is ts * SAME_MS + a number below it
CHUNK = 100  # candidates read at a time while filling a page

# --- following the messages
_done_seq, _done_change = func.coalesce(p.seq, 0), func.coalesce(p.change, 0)
_behind = or_(r.head > _done_seq, r.change_head > _done_change)
_lagging = (
    select(r.name, r.change_head)
    .select_from(rooms.outerjoin(search_progress, p.room == r.name))
    .where(_behind)
    .order_by(r.name)
)
LAGGING = Statement(_lagging)
LAGGING_AMONG = Statement(_lagging.where(r.name.in_(bindparam("names", expanding=True))))
# Those the user may read (public, or a member), the same rule as rooms_for.
LAGGING_FOR = Statement(
    select(r.name)
    .select_from(
        rooms.outerjoin(search_progress, p.room == r.name).outerjoin(
            members, and_(m.room == r.name, m.user == bindparam("user"))
        )
    )
    .where(_behind, or_(r.visibility == PUBLIC, m.user.is_not(None)))
)
START = Statement(
    upsert=lambda insert: insert(search_progress).values(room=bindparam("room")).on_conflict_do_nothing()
)
PROGRESS = Statement(select(p.seq, p.change).where(p.room == bindparam("room")).with_for_update())
ADVANCE = Statement(
    update(search_progress)
    .where(p.room == bindparam("room"))
    .values(seq=bindparam("seq"), change=bindparam("change"))
)
NEW = Statement(
    select(*COLUMNS)
    .where(x.room == bindparam("room"), x.seq > bindparam("after"))
    .order_by(x.seq)
    .limit(bindparam("limit"))
)
# Changes to what is indexed already. (change_seq > 0 lets SQLite use the partial index.)
CHANGED = Statement(
    select(*COLUMNS)
    .where(
        x.room == bindparam("room"),
        x.change_seq > 0,
        x.change_seq > bindparam("after_change"),
        x.seq <= bindparam("upto"),
    )
    .order_by(x.change_seq)
    .limit(bindparam("limit"))
)
DOCS = Statement(
    select(d.id, d.room, d.seq, d.author, d.kinds, d.folded).where(
        d.room == bindparam("room"), d.seq.in_(bindparam("seqs", expanding=True))
    )
)
INSERT_DOC = Statement(
    upsert=lambda insert: (
        insert(search_docs)
        .values({c: bindparam(c) for c in ("id", "room", "seq", "author", "kinds", "folded")})
        .on_conflict_do_nothing(index_elements=["id"])
    )
)
UPDATE_DOC = Statement(
    update(search_docs)
    .where(d.id == bindparam("doc"))
    .values(kinds=bindparam("kinds"), folded=bindparam("folded"))
)
DELETE_DOC = Statement(search_docs.delete().where(d.id == bindparam("doc")))


READABLE = Statement(
    select(r.name)
    .select_from(rooms.outerjoin(members, and_(m.room == r.name, m.user == bindparam("user"))))
    .where(r.name.in_(bindparam("names", expanding=True)), or_(r.visibility == PUBLIC, m.user.is_not(None)))
)


IS_PUBLIC = Statement(select(r.visibility == PUBLIC).where(r.name == bindparam("room")))
# The rooms besides the public ones that the user may read: those they are a member of.
OTHERS_READABLE = Statement(
    select(m.room)
    .select_from(members.join(rooms, r.name == m.room))
    .where(m.user == bindparam("user"), r.visibility != PUBLIC)
    .order_by(m.room)
)


def readable(conn: Connection, user: str | None, names: Sequence[str]) -> list[str]:
    """Those of the rooms the user may read: one lookup each, whether a room is not there or
    not theirs to read, so neither answers differently, nor sooner."""
    return run(conn, READABLE, user=user, names=list(names)).scalars()


def lagging(conn: Connection, user: str | None) -> list[str]:
    """The rooms the user may read whose index is behind their messages."""
    return run(conn, LAGGING_FOR, user=user).scalars()


def follow(conn: Connection, index: SearchIndex, names: Sequence[str] | None, limit: int) -> int:
    """Store.follow_index: bring the rooms' documents (every room's, for None) up to date with
    their messages, looking at up to ``limit`` messages; how many it looked at."""
    behind = run(conn, LAGGING, names=None) if names is None else run(conn, LAGGING_AMONG, names=list(names))
    looked = 0
    for name, change_head in behind.rows:
        if looked >= limit:
            break
        looked += _follow_room(conn, index, name, int(change_head), limit - looked)
    return looked


def _follow_room(conn: Connection, index: SearchIndex, room: str, change_head: int, limit: int) -> int:
    run(conn, START, room=room)
    # Locked (PostgreSQL; SQLite's writes are one at a time): two workers catching up on one
    # room take turns, and the second finds the first's work done.
    seq_done, change_done = (int(n) for n in run(conn, PROGRESS, room=room).rows[0])
    changed = [
        message_from_row(row)
        for row in run(conn, CHANGED, room=room, after_change=change_done, upto=seq_done, limit=limit).rows
    ]
    new = [
        message_from_row(row)
        for row in run(conn, NEW, room=room, after=seq_done, limit=limit - len(changed)).rows
    ]
    public = bool(run(conn, IS_PUBLIC, room=room).scalars()[0])
    _apply_changes(conn, index, room, changed, public)
    _add(conn, index, room, [message for message in new if not message.deleted], public)
    if len(changed) < limit:
        # Every change to what was indexed is in now, and what was added is as it is now.
        change_done = max(change_done, change_head)
    elif changed:
        change_done = changed[-1].change  # in change order: everything up to it is in
    run(conn, ADVANCE, room=room, seq=new[-1].seq if new else seq_done, change=change_done)
    return len(changed) + len(new)


def _document(message: StoredMessage, doc_id: int, public: bool) -> Doc:
    """A room's visibility never changes: a public room's documents carry PUBLIC_KIND, which
    puts them, and all their terms in the index, in the public scope (terms.scope_of)."""
    folded = fold(message.body)
    has = kinds(message, folded) + ((PUBLIC_KIND,) if public else ())
    return Doc(doc_id, message.room, message.seq, message.author, has, folded)


def _apply_changes(
    conn: Connection, index: SearchIndex, room: str, changed: list[StoredMessage], public: bool
) -> None:
    if not changed:
        return
    rows = run(conn, DOCS, room=room, seqs=[message.seq for message in changed]).rows
    existing = {int(seq): Doc(int(i), rm, int(seq), a, tuple(k.split()), f) for i, rm, seq, a, k, f in rows}
    gone: list[Doc] = []
    renewed: list[Doc] = []
    missing: list[StoredMessage] = []
    for message in changed:
        doc = existing.get(message.seq)
        if message.deleted:
            if doc is not None:
                gone.append(doc)
        elif doc is None:
            missing.append(message)
        else:
            now = _document(message, doc.id, public)
            if (now.folded, now.kinds) != (doc.folded, doc.kinds):  # not a reaction
                gone.append(doc)
                renewed.append(now)
    index.removed(conn, gone)
    kept = {doc.id for doc in renewed}
    for doc in gone:
        if doc.id not in kept:
            run(conn, DELETE_DOC, doc=doc.id)
    run_many(
        conn,
        UPDATE_DOC,
        [{"doc": doc.id, "kinds": " ".join(doc.kinds), "folded": doc.folded} for doc in renewed],
    )
    index.added(conn, renewed)
    _add(conn, index, room, missing, public)


def _add(conn: Connection, index: SearchIndex, room: str, found: list[StoredMessage], public: bool) -> None:
    """Documents for messages of one room. An id is the message's millisecond and a number:
    another message of that millisecond may have it, and this one takes the next free one."""
    docs = {m.seq: _document(m, m.ts * SAME_MS + m.seq % SAME_MS, public) for m in found}
    run_many(conn, INSERT_DOC, [_row(doc) for doc in docs.values()])
    if docs:
        stored = {int(row[2]): int(row[0]) for row in run(conn, DOCS, room=room, seqs=list(docs)).rows}
        for seq, doc in list(docs.items()):
            while stored.get(seq) != doc.id:
                doc = dataclasses.replace(doc, id=doc.id + 1)
                if run(conn, INSERT_DOC, **_row(doc)).rowcount == 1:
                    stored[seq] = doc.id
            docs[seq] = doc
    index.added(conn, list(docs.values()))


def _row(doc: Doc) -> dict[str, Any]:
    return {
        "id": doc.id,
        "room": doc.room,
        "seq": doc.seq,
        "author": doc.author,
        "kinds": " ".join(doc.kinds),
        "folded": doc.folded,
    }


# --- searching
def search(
    conn: Connection,
    dialect: Dialect,
    index: SearchIndex,
    user: str | None,
    query: SearchQuery,
    before: int | None,
    limit: int,
) -> Found:
    """Store.search."""
    others = run(conn, OTHERS_READABLE, user=user).scalars() if user is not None else []
    statement, high, low = _statement(dialect, index, user, query, others)
    if before is not None:
        high = min(high, before)
    with index.searching(conn):
        return _fill(conn, statement, query, high, low, limit)


def _fill(conn: Connection, statement: Any, query: SearchQuery, high: int, low: int, limit: int) -> Found:
    """A page of hits, read CHUNK candidates at a time, newest first."""
    found: list[tuple[int, StoredMessage]] = []
    while True:
        rows = conn.execute(statement, {"high": high, "low": low, "chunk": CHUNK}).all()
        for row in rows:
            doc_id = int(row[0])
            if query.matches(row[1]):
                if len(found) == limit:  # one more than the page: there is a next one
                    return Found(tuple(message for _id, message in found), found[-1][0])
                found.append((doc_id, message_from_row(row[2:])))
            high = doc_id
        if len(rows) < CHUNK:
            return Found(tuple(message for _id, message in found), None)


def _statement(
    dialect: Dialect, index: SearchIndex, user: str | None, query: SearchQuery, others: Sequence[str]
) -> tuple[Any, int, int]:
    """The base query, newest first: the candidates the index narrows to, in rooms the user
    may read (public ones, and those they are a member of), not deleted, meeting the
    operators, containing every word and none of the excluded ones (except that a word's
    start, for term*, is checked on the rows that come back: query.matches)."""
    needs = Needs(
        tuple(term.text for term in query.include),
        tuple(
            group
            for group in (
                tuple(AUTHOR + a for a in sorted(query.authors)),
                tuple(ROOM + room for room in sorted(query.rooms)),
                *((KIND + kind,) for kind in sorted(query.has)),
            )
            if group
        ),
        # The scopes the user may read, in the index too (the join below decides): the index
        # reads no term of a room they may not read, so what is only there costs no time.
        (PUBLIC_SCOPE, *others),
    )
    narrowing = index.narrow(needs)
    source = search_docs if narrowing is None else narrowing.source
    doc_id = d.id if narrowing is None else narrowing.id
    where: list[ColumnElement[bool]] = [] if narrowing is None else [narrowing.where]
    caller = literal(user, type_=Text)
    member = and_(m.room == d.room, m.user == caller)
    where += [
        doc_id < bindparam("high"),
        doc_id >= bindparam("low"),
        or_(r.visibility == PUBLIC, m.user.is_not(None)),
        x.deleted == false(),
    ]
    where += [dialect.contains(d.folded, literal(term.text)) for term in query.include]
    where += [~dialect.contains(d.folded, literal(term.text)) for term in query.exclude if not term.prefix]
    if query.authors:
        where.append(d.author.in_(sorted(query.authors)))
    if query.rooms:
        where.append(d.room.in_(sorted(query.rooms)))
    for kind in sorted(query.has):
        where.append(dialect.contains(literal(" ") + d.kinds + literal(" "), literal(f" {kind} ")))
    if query.mentioned:
        # The caller by name, or @room in a room they are a member of (not just a reader).
        of_room = mentions.c.room == d.room, mentions.c.seq == d.seq
        by_name = select(mentions.c.seq).where(*of_room, mentions.c.user == caller).exists()
        everyone = select(mentions.c.seq).where(*of_room, mentions.c.user == literal(ROOM_MENTION)).exists()
        where += [or_(by_name, and_(everyone, m.user.is_not(None))), d.author != caller]
    statement = (
        select(doc_id, d.folded, *COLUMNS)
        .select_from(
            source.join(rooms, r.name == d.room)
            .outerjoin(members, member)
            .join(messages, and_(x.room == d.room, x.seq == d.seq))
        )
        .where(*where)
        .order_by(doc_id.desc())
        .limit(bindparam("chunk"))
    )
    high = FAR if query.before is None else query.before * SAME_MS
    low = 0 if query.after is None else query.after * SAME_MS
    return statement, high, low


FAR = 2**62  # past every document id
