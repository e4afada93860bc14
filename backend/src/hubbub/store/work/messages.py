"""Messages: the batch append (group commit), history pages, the message lifecycle (edits,
tombstones, reactions) and the change feed. Each function is one unit of work over a
connection already in the transaction its runner began (see store/database.py)."""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any, assert_never

from sqlalchemy import Connection, Row, delete, insert, select, update
from sqlalchemy import exc as sa_exc

from hubbub.model import (
    MAX_REACTION_KINDS,
    Appended,
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
from hubbub.store.work.sql import now_ms

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
)
FAR_AWAY = 2**62  # a seq past any room's head


def reactions_to_json(found: Sequence[Reaction]) -> str:
    return json.dumps([[r.emoji, r.count, list(r.users)] for r in found], separators=(",", ":"))


def reactions_from_json(text: str) -> tuple[Reaction, ...]:
    return tuple(Reaction(str(e), int(c), tuple(str(u) for u in users)) for e, c, users in json.loads(text))


def message_from_row(row: Row[Any] | Sequence[Any]) -> StoredMessage:
    room, seq, message_id, author, body, ts, client_msg_id, client_id, mentioned, bot = row[:10]
    edited_at, deleted, shown, change = row[10:14]
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
    )


def _select(
    conn: Connection, *where: Any, order: Any = _m.seq, limit: int | None = None
) -> list[StoredMessage]:
    query = select(*COLUMNS).where(*where).order_by(order).limit(limit)
    return [message_from_row(row) for row in conn.execute(query)]


# --- appending
def append_many(conn: Connection, dialect: Dialect, drafts: Sequence[Draft]) -> list[Appended]:
    """Store.append_many: each draft in a savepoint of its own, so what the database refuses
    of one draft is undone for it alone; an error that is the database's fails them all."""
    dialect.lock_rooms(conn, {draft.room for draft in drafts})
    results: list[Appended] = []
    for draft in drafts:
        try:
            with conn.begin_nested():
                results.append(_find(conn, draft) or _append_one(conn, draft))
        except Exception as exc:
            if dialect.failed(exc):
                raise
            # Lost an idempotency race to another worker: its message is the answer.
            existing = _find(conn, draft) if isinstance(exc, sa_exc.IntegrityError) else None
            results.append(existing or MessageRejectedError(f"{type(exc).__name__}: {exc}"))
    return results


def _find(conn: Connection, draft: Draft) -> tuple[StoredMessage, bool] | None:
    if draft.client_msg_id is None:
        return None
    found = _select(
        conn, _m.room == draft.room, _m.author == draft.author, _m.client_msg_id == draft.client_msg_id
    )
    return (found[0], False) if found else None


def _append_one(conn: Connection, draft: Draft) -> Appended:
    # The author's membership is checked in this transaction: a removal that commits first wins.
    member = select(members.c.user).where(members.c.room == draft.room, members.c.user == draft.author)
    room = conn.execute(select(rooms.c.archived, member.exists()).where(rooms.c.name == draft.room)).first()
    if room is None:
        return UnknownRoomError(draft.room)
    if room.archived:
        return RoomArchivedError(draft.room)
    if not room[1]:
        return NotMemberError(draft.room)
    head = conn.execute(
        update(rooms).where(rooms.c.name == draft.room).values(head=rooms.c.head + 1).returning(rooms.c.head)
    ).scalar_one()
    message = draft.stored(int(head))
    conn.execute(
        insert(messages).values(
            room=message.room,
            seq=message.seq,
            id=message.id,
            author=message.author,
            body=message.body,
            ts=message.ts,
            client_msg_id=message.client_msg_id,
            client_id=message.client_id,
            mentions=json.dumps(list(message.mentions)),
            bot=message.bot,
        )
    )
    mentioned = [user for user in message.mentions if user != message.author]
    if mentioned:
        conn.execute(
            insert(mentions), [{"user": u, "room": message.room, "seq": message.seq} for u in mentioned]
        )
    return message, True


# --- reading
def after(conn: Connection, room: str, after_seq: int, limit: int) -> list[StoredMessage]:
    return _select(conn, _m.room == room, _m.seq > after_seq, limit=limit)


def before(conn: Connection, room: str, before_seq: int | None, limit: int) -> list[StoredMessage]:
    bound = FAR_AWAY if before_seq is None else before_seq
    page = _select(conn, _m.room == room, _m.seq < bound, order=_m.seq.desc(), limit=limit)
    page.reverse()
    return page


def message(conn: Connection, room: str, message_id: str) -> StoredMessage | None:
    found = _select(conn, _m.room == room, _m.id == message_id)
    return found[0] if found else None


def room_changes(conn: Connection, room: str) -> int:
    head = conn.execute(select(rooms.c.change_head).where(rooms.c.name == room)).scalar()
    return 0 if head is None else int(head)


def changed_since(
    conn: Connection, room: str, after_change: int, after_seq: int, limit: int
) -> list[StoredMessage]:
    return _select(conn, _m.room == room, _m.change_seq > after_change, _m.seq > after_seq, limit=limit)


# --- changing
def change_message(
    conn: Connection, dialect: Dialect, room: str, message_id: str, change: MessageChange
) -> StoredMessage | None:
    """Store.change_message. The room's lock makes change numbers commit in order, like seq."""
    dialect.lock_rooms(conn, [room])
    current = message(conn, room, message_id)
    if current is None or current.deleted:
        raise UnknownMessageError(message_id)
    found = conn.execute(select(rooms.c.archived, rooms.c.change_head).where(rooms.c.name == room)).one()
    if found.archived:
        raise RoomArchivedError(room)
    number = int(found.change_head) + 1  # used only if something changes
    now = now_ms()
    seq = current.seq
    values: dict[str, Any]
    match change:
        case Edit(body):
            if body == current.body:
                return None
            values = {"body": body, "edited_at": now}
        case Delete():
            conn.execute(delete(reactions).where(reactions.c.room == room, reactions.c.seq == seq))
            conn.execute(delete(mentions).where(mentions.c.room == room, mentions.c.seq == seq))
            values = {"body": "", "deleted": True, "reactions": "[]", "mentions": "[]"}
        case React():
            if not _react(conn, room, message_id, seq, change, number, now):
                return None
            values = {"reactions": reactions_to_json(_reactions(conn, room, seq))}
        case _:
            assert_never(change)
    conn.execute(update(rooms).where(rooms.c.name == room).values(change_head=number))
    conn.execute(update(messages).where(_m.room == room, _m.seq == seq).values(**values, change_seq=number))
    return message(conn, room, message_id)


def _react(
    conn: Connection, room: str, message_id: str, seq: int, change: React, number: int, now: int
) -> bool:
    """Add or take back one reaction; False when it was already there, or already gone. No
    other transaction adds one meanwhile: they all hold the room's lock."""
    r = reactions.c
    mine = (r.room == room, r.seq == seq, r.emoji == change.emoji, r.user == change.user)
    if not change.on:
        return conn.execute(delete(reactions).where(*mine)).rowcount > 0
    if conn.execute(select(r.user).where(*mine)).first() is not None:
        return False
    kinds = set(conn.execute(select(r.emoji).where(r.room == room, r.seq == seq).distinct()).scalars())
    if change.emoji not in kinds and len(kinds) >= MAX_REACTION_KINDS:
        raise TooManyReactionsError(message_id)
    row = {
        "room": room,
        "seq": seq,
        "emoji": change.emoji,
        "user": change.user,
        "at": now,
        "change_seq": number,
    }
    conn.execute(insert(reactions).values(row))
    return True


def _reactions(conn: Connection, room: str, seq: int) -> tuple[Reaction, ...]:
    r = reactions.c
    pairs = conn.execute(
        select(r.emoji, r.user).where(r.room == room, r.seq == seq).order_by(r.change_seq, r.at, r.user)
    )
    return aggregate_reactions([(emoji, user) for emoji, user in pairs])
