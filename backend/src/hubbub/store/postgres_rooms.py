"""The PostgreSQL store's rooms, members and known users (see sqlite_rooms.py for SQLite's)."""

from __future__ import annotations

import time
from collections.abc import Sequence
from typing import Any

import asyncpg

from hubbub.store.base import COUNT_CAP, DM, MEMBER, OWNER, PUBLIC, ROOM_MENTION, Member, NewRoom, RoomInfo
from hubbub.store.sqlite_rooms import like_prefix

_ROOM = (
    "SELECT r.name, r.head, r.visibility, r.topic, r.created_by, r.archived, m.role, m.last_read "
    'FROM hubbub_rooms r LEFT JOIN hubbub_members m ON m.room = r.name AND m."user" = $1'
)
# For the list: what is new for the user ($1) in each room they are a member of, counted up to
# COUNT_CAP so that a badge never costs more than that many rows.
_COUNTS = f"""
    , (SELECT count(*) FROM (SELECT 1 FROM hubbub_messages x
        WHERE m.role IS NOT NULL AND x.room = r.name AND x.seq > m.last_read AND x.author != $1
        LIMIT {COUNT_CAP}) AS u) AS unread
    , (SELECT count(*) FROM (SELECT 1 FROM hubbub_mentions n
        JOIN hubbub_messages x ON x.room = n.room AND x.seq = n.seq
        WHERE m.role IS NOT NULL AND n."user" IN ($1, '{ROOM_MENTION}') AND n.room = r.name
        AND n.seq > m.last_read AND x.author != $1 LIMIT {COUNT_CAP}) AS t) AS mentions
"""  # noqa: S608 - constants only


def _now() -> int:
    return int(time.time() * 1000)


async def _info(conn: Any, row: asyncpg.Record) -> RoomInfo:
    members: tuple[str, ...] = ()
    if row["visibility"] == DM and row["role"] is not None:  # for its members only (sqlite_rooms._info)
        rows = await conn.fetch(
            'SELECT "user" FROM hubbub_members WHERE room = $1 ORDER BY "user"', row["name"]
        )
        members = tuple(r["user"] for r in rows)
    return RoomInfo(
        row["name"],
        int(row["head"]),
        row["visibility"],
        row["topic"],
        row["created_by"],
        bool(row["archived"]),
        row["role"],
        members,
        int(row["last_read"] or 0),
        int(row.get("unread") or 0),
        int(row.get("mentions") or 0),
    )


async def ensure_room(pool: asyncpg.Pool, name: str) -> bool:
    status = await pool.execute(
        "INSERT INTO hubbub_rooms (name, head, created_at, visibility) VALUES ($1, 0, $2, $3) "
        "ON CONFLICT (name) DO NOTHING",
        name,
        _now(),
        PUBLIC,
    )
    return bool(status == "INSERT 0 1")


async def create_room(pool: asyncpg.Pool, room: NewRoom) -> RoomInfo | None:
    async with pool.acquire() as conn, conn.transaction():
        status = await conn.execute(
            "INSERT INTO hubbub_rooms (name, head, created_at, created_by, visibility, topic, dm_key) "
            "VALUES ($1, 0, $2, $3, $4, $5, $6) ON CONFLICT DO NOTHING",
            room.name,
            _now(),
            room.owner,
            room.visibility,
            room.topic,
            room.dm_key,
        )
        if status != "INSERT 0 1":
            return None
        await conn.executemany(
            'INSERT INTO hubbub_members (room, "user", role, joined_at) VALUES ($1, $2, $3, $4)',
            [(room.name, user, OWNER if user == room.owner else MEMBER, _now()) for user in room.members],
        )
        asker = room.owner or (room.members[0] if room.members else None)
        row = await conn.fetchrow(f"{_ROOM} WHERE r.name = $2", asker, room.name)
        assert row is not None  # inserted just now, in this transaction
        return await _info(conn, row)


# One room by name, as a row whether it exists or not (sqlite_rooms._ROOM_BY_NAME says why).
_ROOM_BY_NAME = (
    "SELECT r.name, r.head, r.visibility, r.topic, r.created_by, r.archived, m.role, m.last_read "
    "FROM (SELECT $2::text AS name) q LEFT JOIN hubbub_rooms r ON r.name = q.name "
    'LEFT JOIN hubbub_members m ON m.room = q.name AND m."user" = $1'
)


async def room_info(pool: asyncpg.Pool, name: str, user: str | None) -> RoomInfo | None:
    async with pool.acquire() as conn:
        row = await conn.fetchrow(_ROOM_BY_NAME, user, name)
        return None if row is None or row["name"] is None else await _info(conn, row)


async def find_dm(pool: asyncpg.Pool, dm_key: str, user: str) -> RoomInfo | None:
    async with pool.acquire() as conn:
        row = await conn.fetchrow(f"{_ROOM} WHERE r.dm_key = $2", user, dm_key)
        return None if row is None else await _info(conn, row)


async def rooms_for(pool: asyncpg.Pool, user: str | None, archived: bool) -> list[RoomInfo]:
    async with pool.acquire() as conn:
        # The counts are only worked out here, where the list needs them.
        select = _ROOM.replace(" FROM hubbub_rooms r", f"{_COUNTS} FROM hubbub_rooms r")
        rows = await conn.fetch(
            f"{select} WHERE (r.visibility = $2 OR m.role IS NOT NULL) AND ($3 OR NOT r.archived) "
            "ORDER BY r.name",
            user,
            PUBLIC,
            archived,
        )
        return [await _info(conn, row) for row in rows]


async def update_room(pool: asyncpg.Pool, name: str, topic: str | None, archived: bool | None) -> None:
    await pool.execute(
        "UPDATE hubbub_rooms SET topic = coalesce($2, topic), archived = coalesce($3, archived) "
        "WHERE name = $1",
        name,
        topic,
        archived,
    )


async def members(pool: asyncpg.Pool, room: str, after: str | None, limit: int | None) -> list[Member]:
    rows = await pool.fetch(
        # Byte order, as SQLite's: a page boundary means the same in both stores.
        'SELECT "user", role FROM hubbub_members WHERE room = $1 '
        'AND ($2::text IS NULL OR "user" COLLATE "C" > $2) ORDER BY "user" COLLATE "C" LIMIT $3',
        room,
        after,
        limit,
    )
    return [Member(r["user"], r["role"]) for r in rows]


async def add_members(pool: asyncpg.Pool, room: str, users: Sequence[str], role: str) -> list[str]:
    # A new member has read what came before them: they start with nothing unread.
    rows = await pool.fetch(
        'INSERT INTO hubbub_members (room, "user", role, joined_at, last_read) '
        "SELECT $1, u, $3, $4, (SELECT head FROM hubbub_rooms WHERE name = $1) "
        'FROM unnest($2::text[]) AS u ON CONFLICT DO NOTHING RETURNING "user"',
        room,
        list(users),
        role,
        _now(),
    )
    added = {r["user"] for r in rows}
    return [user for user in users if user in added]


async def members_among(pool: asyncpg.Pool, room: str, names: Sequence[str]) -> list[str]:
    rows = await pool.fetch(
        'SELECT "user" FROM hubbub_members WHERE room = $1 AND "user" = ANY($2::text[])', room, list(names)
    )
    return [r["user"] for r in rows]


async def member_rooms(pool: asyncpg.Pool, user: str) -> list[str]:
    rows = await pool.fetch('SELECT room FROM hubbub_members WHERE "user" = $1', user)
    return [r["room"] for r in rows]


async def mark_read(pool: asyncpg.Pool, room: str, user: str, seq: int) -> int | None:
    value = await pool.fetchval(
        "UPDATE hubbub_members SET last_read = greatest(last_read, $3) "
        'WHERE room = $1 AND "user" = $2 RETURNING last_read',
        room,
        user,
        seq,
    )
    return None if value is None else int(value)


async def remove_member(pool: asyncpg.Pool, room: str, user: str) -> bool:
    status = await pool.execute('DELETE FROM hubbub_members WHERE room = $1 AND "user" = $2', room, user)
    return bool(status == "DELETE 1")


async def count_members(pool: asyncpg.Pool, room: str) -> int:
    return int(await pool.fetchval("SELECT count(*) FROM hubbub_members WHERE room = $1", room))


async def touch_users(pool: asyncpg.Pool, names: Sequence[str]) -> None:
    await pool.execute(
        "INSERT INTO hubbub_users (name, seen_at) SELECT u, $2 FROM unnest($1::text[]) AS u "
        "ON CONFLICT (name) DO UPDATE SET seen_at = excluded.seen_at",
        sorted(set(names)),
        _now(),
    )


async def known_users(pool: asyncpg.Pool, names: Sequence[str]) -> set[str]:
    rows = await pool.fetch("SELECT name FROM hubbub_users WHERE name = ANY($1::text[])", list(names))
    return {r["name"] for r in rows}


async def find_users(pool: asyncpg.Pool, prefix: str, limit: int) -> list[str]:
    rows = await pool.fetch(
        "SELECT name FROM hubbub_users WHERE name ILIKE $1 ESCAPE '!' ORDER BY lower(name), name LIMIT $2",
        like_prefix(prefix),
        limit,
    )
    return [r["name"] for r in rows]


async def check_author(conn: Any, room: str, author: str) -> str | None:
    """Why the author may not post in the room now ("unknown", "not a member", "archived": in
    that order, so that a non-member never learns more than that), or None."""
    row = await conn.fetchrow(
        'SELECT archived, EXISTS (SELECT 1 FROM hubbub_members WHERE room = $1 AND "user" = $2) AS member '
        "FROM hubbub_rooms WHERE name = $1",
        room,
        author,
    )
    if row is None:
        return "unknown"
    if not row["member"]:
        return "not a member"
    return "archived" if row["archived"] else None
