"""Messages: the batch append (group commit), history pages, the message lifecycle (edits,
tombstones, reactions) and the change feed. Each function is one unit of work over a
connection already in the transaction its runner began (see store/database.py)."""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Sequence
from dataclasses import replace
from typing import Any, assert_never

from sqlalchemy import Connection, Row, bindparam, delete, exists, insert, select, true, update
from sqlalchemy import exc as sa_exc

from hubbub.model import (
    MAX_REACTION_KINDS,
    Appended,
    AppendError,
    Delete,
    Draft,
    Edit,
    MessageChange,
    MessageRejectedError,
    NotMemberError,
    React,
    Reaction,
    RoomArchivedError,
    StoredMessage,
    TooManyReactionsError,
    UnknownMessageError,
    UnknownRoomError,
    aggregate_reactions,
)
from hubbub.store.dialect import Dialect
from hubbub.store.tables import members, mentions, messages, reactions, rooms
from hubbub.store.work import files as work_files
from hubbub.store.work.sql import Statement, now_ms, run, run_many, savepoint

_m = messages.c
# Every column a message is read with, in the order message_from_row takes them.
COLUMNS = (
    _m.room,
    _m.seq,
    _m.id,
    _m.author,
    _m.body,
    _m.ts,
    _m.client_msg_id,
    _m.client_id,
    _m.mentions,
    _m.bot,
    _m.edited_at,
    _m.deleted,
    _m.reactions,
    _m.change_seq,
    _m.files,
)
FAR_AWAY = 2**62  # a seq past any room's head


def reactions_to_json(found: Sequence[Reaction]) -> str:
    return json.dumps([[r.emoji, r.count, list(r.users)] for r in found], separators=(",", ":"))


def reactions_from_json(text: str) -> tuple[Reaction, ...]:
    return tuple(Reaction(str(e), int(c), tuple(str(u) for u in users)) for e, c, users in json.loads(text))


def message_from_row(row: Row[Any] | Sequence[Any]) -> StoredMessage:
    room, seq, message_id, author, body, ts, client_msg_id, client_id, mentioned, bot = row[:10]
    edited_at, deleted, shown, change, attached = row[10:15]
    return StoredMessage(
        room=room,
        seq=int(seq),
        id=message_id,
        author=author,
        body=body,
        ts=int(ts),
        client_msg_id=client_msg_id,
        client_id=None if client_id is None else int(client_id),
        mentions=tuple(json.loads(mentioned)),
        bot=bool(bot),
        edited_at=None if edited_at is None else int(edited_at),
        deleted=bool(deleted),
        reactions=reactions_from_json(shown),
        change=int(change),
        files=work_files.infos_from_json(attached),
    )


def _page(*where: Any, newest_first: bool = False) -> Statement:
    order = _m.seq.desc() if newest_first else _m.seq
    return Statement(select(*COLUMNS).where(*where).order_by(order).limit(bindparam("limit")))


def _messages(conn: Connection, statement: Statement, **params: Any) -> list[StoredMessage]:
    return [message_from_row(row) for row in run(conn, statement, **params).rows]


_room = _m.room == bindparam("room")
FIND = _page(_room, _m.author == bindparam("author"), _m.client_msg_id == bindparam("client_msg_id"))
AFTER = _page(_room, _m.seq > bindparam("after"))
BEFORE = _page(_room, _m.seq < bindparam("before"), newest_first=True)
BY_ID = _page(_room, _m.id == bindparam("id"))
CHANGED_SINCE = _page(_room, _m.change_seq > bindparam("after_change"), _m.seq > bindparam("after"))
# Whether the room is archived, and the author a member (read in the appending transaction: a
# removal that commits first wins); no row when there is no such room.
AUTHOR = Statement(
    select(
        rooms.c.archived,
        exists().where(members.c.room == bindparam("room"), members.c.user == bindparam("author")),
    ).where(rooms.c.name == bindparam("room"))
)
NEXT_SEQ = Statement(
    update(rooms)
    .where(rooms.c.name == bindparam("room"))
    .values(head=rooms.c.head + 1)
    .returning(rooms.c.head)
)
INSERT_COLUMNS = (
    "room",
    "seq",
    "id",
    "author",
    "body",
    "ts",
    "client_msg_id",
    "client_id",
    "mentions",
    "bot",
)
INSERT = Statement(insert(messages).values({name: bindparam(name) for name in INSERT_COLUMNS}))
SET_FILES = Statement(
    update(messages)
    .where(_m.room == bindparam("room"), _m.seq == bindparam("seq"))
    .values(files=bindparam("files"))
)
MENTION = Statement(
    insert(mentions).values(user=bindparam("user"), room=bindparam("room"), seq=bindparam("seq"))
)


# --- appending
def append_many(conn: Connection, dialect: Dialect, drafts: Sequence[Draft]) -> list[Appended]:
    """Store.append_many: each draft in a savepoint of its own, so what the database refuses
    of one draft is undone for it alone; an error that is the database's fails them all."""
    dialect.lock_rooms(conn, {draft.room for draft in drafts})
    results: list[Appended] = []
    for draft in drafts:
        try:
            with savepoint(conn):
                results.append(_append_one(conn, draft))
        except AppendError as refused:  # found out after writing: the savepoint undid it
            results.append(refused)
        except Exception as exc:
            if dialect.failed(exc):
                raise
            # Lost an idempotency race to another worker: its message is the answer.
            raced = isinstance(exc, sa_exc.IntegrityError | sqlite3.IntegrityError)
            existing = _find(conn, draft) if raced else None
            results.append(existing or MessageRejectedError(f"{type(exc).__name__}: {exc}"))
    return results


def _find(conn: Connection, draft: Draft) -> tuple[StoredMessage, bool] | None:
    if draft.client_msg_id is None:
        return None
    key = {"room": draft.room, "author": draft.author, "client_msg_id": draft.client_msg_id}
    found = _messages(conn, FIND, **key, limit=1)
    return (found[0], False) if found else None


def _append_one(conn: Connection, draft: Draft) -> Appended:
    # Membership first, before the retry's lookup and before "archived": someone outside the
    # room (never in it, or removed since) learns nothing of it, not even a message of their own.
    room = run(conn, AUTHOR, room=draft.room, author=draft.author).first()
    if room is None:
        return UnknownRoomError(draft.room)
    archived, member = room
    if not member:
        return NotMemberError(draft.room)
    existing = _find(conn, draft)
    if existing is not None:
        return existing
    if archived:
        return RoomArchivedError(draft.room)
    message = draft.stored(int(run(conn, NEXT_SEQ, room=draft.room).scalar()))
    row = {name: getattr(message, name) for name in INSERT_COLUMNS}
    run(conn, INSERT, **{**row, "mentions": json.dumps(list(message.mentions))})
    mentioned = [user for user in message.mentions if user != message.author]
    run_many(conn, MENTION, [{"user": user, "room": message.room, "seq": message.seq} for user in mentioned])
    if draft.files:
        attached = work_files.attach(conn, draft.room, draft.author, message.seq, draft.files)
        run(conn, SET_FILES, room=draft.room, seq=message.seq, files=work_files.infos_to_json(attached))
        message = replace(message, files=attached)
    return message, True


# --- reading
def after(conn: Connection, room: str, after_seq: int, limit: int) -> list[StoredMessage]:
    return _messages(conn, AFTER, room=room, after=after_seq, limit=limit)


def before(conn: Connection, room: str, before_seq: int | None, limit: int) -> list[StoredMessage]:
    bound = FAR_AWAY if before_seq is None else before_seq
    page = _messages(conn, BEFORE, room=room, before=bound, limit=limit)
    page.reverse()
    return page


def message(conn: Connection, room: str, message_id: str) -> StoredMessage | None:
    found = _messages(conn, BY_ID, room=room, id=message_id, limit=1)
    return found[0] if found else None


CHANGE_HEAD = Statement(select(rooms.c.change_head).where(rooms.c.name == bindparam("room")))


def room_changes(conn: Connection, room: str) -> int:
    head = run(conn, CHANGE_HEAD, room=room).scalar()
    return 0 if head is None else int(head)


def changed_since(
    conn: Connection, room: str, after_change: int, after_seq: int, limit: int
) -> list[StoredMessage]:
    return _messages(conn, CHANGED_SINCE, room=room, after_change=after_change, after=after_seq, limit=limit)


# --- changing
CHANGE_STATE = Statement(
    select(rooms.c.archived, rooms.c.change_head).where(rooms.c.name == bindparam("room"))
)
SET_CHANGE_HEAD = Statement(
    update(rooms).where(rooms.c.name == bindparam("room")).values(change_head=bindparam("number"))
)
_this = (_m.room == bindparam("room"), _m.seq == bindparam("seq"))
_numbered: dict[str, Any] = {"change_seq": bindparam("number")}
EDITED = Statement(
    update(messages).where(*_this).values(body=bindparam("body"), edited_at=bindparam("at"), **_numbered)
)
DELETED = Statement(
    update(messages)
    .where(*_this)
    .values(body="", deleted=true(), reactions="[]", mentions="[]", files="[]", **_numbered)
)
REACTED = Statement(update(messages).where(*_this).values(reactions=bindparam("reactions"), **_numbered))
DROP_MENTIONS = Statement(
    delete(mentions).where(mentions.c.room == bindparam("room"), mentions.c.seq == bindparam("seq"))
)
_r = reactions.c
_on_message = (_r.room == bindparam("room"), _r.seq == bindparam("seq"))
_mine = (*_on_message, _r.emoji == bindparam("emoji"), _r.user == bindparam("user"))
DROP_REACTIONS = Statement(delete(reactions).where(*_on_message))
HAS_REACTION = Statement(select(_r.user).where(*_mine))
REACTION_KINDS = Statement(select(_r.emoji).where(*_on_message).distinct())
ADD_REACTION = Statement(
    insert(reactions).values({c: bindparam(c) for c in ("room", "seq", "emoji", "user", "at", "change_seq")})
)
TAKE_BACK = Statement(delete(reactions).where(*_mine))
# In the order people reacted: by the change number that added each (see migration 0005).
REACTIONS = Statement(select(_r.emoji, _r.user).where(*_on_message).order_by(_r.change_seq, _r.at, _r.user))


def change_message(
    conn: Connection, dialect: Dialect, room: str, message_id: str, change: MessageChange
) -> StoredMessage | None:
    """Store.change_message. The room's lock makes change numbers commit in order, like seq."""
    dialect.lock_rooms(conn, [room])
    current = message(conn, room, message_id)
    if current is None or current.deleted:
        raise UnknownMessageError(message_id)
    archived, change_head = run(conn, CHANGE_STATE, room=room).rows[0]
    if archived:
        raise RoomArchivedError(room)
    number = int(change_head) + 1  # used only if something changes
    this = {"room": room, "seq": current.seq}
    match change:
        case Edit(body):
            if body == current.body:
                return None
            run(conn, EDITED, **this, number=number, body=body, at=now_ms())
        case Delete():
            run(conn, DROP_REACTIONS, **this)
            run(conn, DROP_MENTIONS, **this)
            if current.files:  # they go with it; their bytes with the collector's next sweep
                work_files.drop_message_files(conn, room, current.seq)
            run(conn, DELETED, **this, number=number)
        case React(user, emoji, on):
            mine = {**this, "emoji": emoji, "user": user}
            if not on:
                if run(conn, TAKE_BACK, **mine).rowcount == 0:
                    return None
            else:
                # No other transaction adds one meanwhile: they all hold the room's lock.
                if run(conn, HAS_REACTION, **mine).rows:
                    return None
                kinds = set(run(conn, REACTION_KINDS, **this).scalars())
                if emoji not in kinds and len(kinds) >= MAX_REACTION_KINDS:
                    raise TooManyReactionsError(message_id)
                run(conn, ADD_REACTION, **mine, at=now_ms(), change_seq=number)
            shown = aggregate_reactions([(e, u) for e, u in run(conn, REACTIONS, **this).rows])
            run(conn, REACTED, **this, number=number, reactions=reactions_to_json(shown))
        case _:
            assert_never(change)
    run(conn, SET_CHANGE_HEAD, room=room, number=number)
    return message(conn, room, message_id)
