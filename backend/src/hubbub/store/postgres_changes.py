"""The PostgreSQL store's message lifecycle: edits, tombstones, reactions and the change feed,
and bot tokens (as sqlite_changes.py). Functions of one connection, in the caller's transaction."""

from __future__ import annotations

import time
from typing import TYPE_CHECKING

from hubbub.store.base import (
    COLUMNS,
    MAX_REACTION_KINDS,
    Delete,
    Edit,
    MessageChange,
    React,
    RoomArchivedError,
    StoredMessage,
    TooManyReactionsError,
    UnknownMessageError,
    aggregate_reactions,
    message_from_row,
    reactions_to_json,
)

if TYPE_CHECKING:
    import asyncpg
    from asyncpg.pool import PoolConnectionProxy

    Conn = PoolConnectionProxy[asyncpg.Record] | asyncpg.Connection[asyncpg.Record]


async def message(conn: Conn, room: str, message_id: str, lock: bool = False) -> StoredMessage | None:
    row = await conn.fetchrow(
        f"SELECT {COLUMNS} FROM hubbub_messages WHERE room = $1 AND id = $2"  # noqa: S608
        + (" FOR UPDATE" if lock else ""),
        room,
        message_id,
    )
    return None if row is None else message_from_row(tuple(row.values()))


async def change_message(
    conn: Conn, room: str, message_id: str, change: MessageChange
) -> StoredMessage | None:
    # The room's row lock, held until commit, makes change numbers commit in order (as seq).
    archived = await conn.fetchval("SELECT archived FROM hubbub_rooms WHERE name = $1 FOR UPDATE", room)
    current = await message(conn, room, message_id, lock=True)
    if current is None or current.deleted:
        raise UnknownMessageError(message_id)
    if archived:
        raise RoomArchivedError(room)
    now = int(time.time() * 1000)
    seq = current.seq
    if isinstance(change, Edit):
        if change.body == current.body:
            return None
        updates, args = "body = $4, edited_at = $5", [change.body, now]
    elif isinstance(change, Delete):
        await conn.execute("DELETE FROM hubbub_reactions WHERE room = $1 AND seq = $2", room, seq)
        await conn.execute("DELETE FROM hubbub_mentions WHERE room = $1 AND seq = $2", room, seq)
        updates, args = "body = '', deleted = true, reactions = '[]', mentions = '[]'", []
    elif isinstance(change, React):
        if change.on:
            kinds = {
                str(row[0])
                for row in await conn.fetch(
                    "SELECT DISTINCT emoji FROM hubbub_reactions WHERE room = $1 AND seq = $2", room, seq
                )
            }
            if change.emoji not in kinds and len(kinds) >= MAX_REACTION_KINDS:
                raise TooManyReactionsError(message_id)
            status = await conn.execute(
                'INSERT INTO hubbub_reactions (room, seq, emoji, "user", at) VALUES ($1, $2, $3, $4, $5) '
                "ON CONFLICT DO NOTHING",
                room,
                seq,
                change.emoji,
                change.user,
                now,
            )
        else:
            status = await conn.execute(
                'DELETE FROM hubbub_reactions WHERE room = $1 AND seq = $2 AND emoji = $3 AND "user" = $4',
                room,
                seq,
                change.emoji,
                change.user,
            )
        if status.endswith(" 0"):
            return None
        pairs = await conn.fetch(
            'SELECT emoji, "user" FROM hubbub_reactions WHERE room = $1 AND seq = $2 ORDER BY at, ctid',
            room,
            seq,
        )
        updates, args = (
            "reactions = $4",
            [reactions_to_json(aggregate_reactions([(p[0], p[1]) for p in pairs]))],
        )
    number = await conn.fetchval(
        "UPDATE hubbub_rooms SET change_head = change_head + 1 WHERE name = $1 RETURNING change_head", room
    )
    await conn.execute(
        f"UPDATE hubbub_messages SET {updates}, change_seq = $3 WHERE room = $1 AND seq = $2",  # noqa: S608
        room,
        seq,
        number,
        *args,
    )
    return await message(conn, room, message_id)


async def room_changes(conn: Conn, room: str) -> int:
    value = await conn.fetchval("SELECT change_head FROM hubbub_rooms WHERE name = $1", room)
    return 0 if value is None else int(value)


async def changed_since(
    conn: Conn, room: str, after_change: int, after_seq: int, limit: int
) -> list[StoredMessage]:
    rows = await conn.fetch(
        f"SELECT {COLUMNS} FROM hubbub_messages "  # noqa: S608
        "WHERE room = $1 AND change_seq > $2 AND seq > $3 ORDER BY seq LIMIT $4",
        room,
        after_change,
        after_seq,
        limit,
    )
    return [message_from_row(tuple(row.values())) for row in rows]


async def add_bot(conn: Conn, name: str, token_hash: str) -> None:
    await conn.execute(
        "INSERT INTO hubbub_bots (name, token_hash, created_at) VALUES ($1, $2, $3) ON CONFLICT (name) "
        "DO UPDATE SET token_hash = excluded.token_hash, created_at = excluded.created_at, revoked_at = NULL",
        name,
        token_hash,
        int(time.time() * 1000),
    )


async def revoke_bot(conn: Conn, name: str) -> bool:
    status = await conn.execute(
        "UPDATE hubbub_bots SET revoked_at = $1 WHERE name = $2 AND revoked_at IS NULL",
        int(time.time() * 1000),
        name,
    )
    return not status.endswith(" 0")


async def bot_for_token(conn: Conn, token_hash: str) -> str | None:
    name = await conn.fetchval(
        "SELECT name FROM hubbub_bots WHERE token_hash = $1 AND revoked_at IS NULL", token_hash
    )
    return None if name is None else str(name)


async def bots(conn: Conn) -> list[tuple[str, bool]]:
    rows = await conn.fetch("SELECT name, revoked_at FROM hubbub_bots ORDER BY name")
    return [(str(row[0]), row[1] is not None) for row in rows]
