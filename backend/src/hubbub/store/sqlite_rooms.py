"""The SQLite store's rooms, members and known users: functions of a connection, each run in
one hop on the store's thread (see SQLiteStore)."""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Sequence
from typing import Any

from hubbub.store.base import COUNT_CAP, DM, MEMBER, OWNER, PUBLIC, ROOM_MENTION, Member, NewRoom, RoomInfo

_ROOM = (
    "SELECT r.name, r.head, r.visibility, r.topic, r.created_by, r.archived, m.role, m.last_read "
    "FROM rooms r LEFT JOIN members m ON m.room = r.name AND m.user = ?"
)
# For the list: what is new for the user (?1) in each room they are a member of, counted up to
# COUNT_CAP so that a badge never costs more than that many rows.
_COUNTS = f"""
    , (SELECT count(*) FROM (SELECT 1 FROM messages x
        WHERE m.role IS NOT NULL AND x.room = r.name AND x.seq > m.last_read AND x.author != ?1
        LIMIT {COUNT_CAP}))
    , (SELECT count(*) FROM (SELECT 1 FROM mentions n JOIN messages x ON x.room = n.room AND x.seq = n.seq
        WHERE m.role IS NOT NULL AND n.user IN (?1, '{ROOM_MENTION}') AND n.room = r.name
        AND n.seq > m.last_read AND x.author != ?1 LIMIT {COUNT_CAP}))
"""  # noqa: S608 - constants only


def _now() -> int:
    return int(time.time() * 1000)


def _info(db: sqlite3.Connection, row: tuple[Any, ...]) -> RoomInfo:
    name, head, visibility, topic, owner, archived, role, last_read, *counts = row
    members: tuple[str, ...] = ()
    if visibility == DM and role is not None:  # for its members only: nobody else is told, or waits
        members = tuple(
            u for (u,) in db.execute("SELECT user FROM members WHERE room = ? ORDER BY user", (name,))
        )
    unread, mentioned = counts or (0, 0)
    return RoomInfo(
        name,
        int(head),
        visibility,
        topic,
        owner,
        bool(archived),
        role,
        members,
        int(last_read or 0),
        int(unread),
        int(mentioned),
    )


def ensure_room(db: sqlite3.Connection, name: str) -> bool:
    cursor = db.execute(
        "INSERT INTO rooms (name, head, created_at, visibility) VALUES (?, 0, ?, ?) "
        "ON CONFLICT (name) DO NOTHING",
        (name, _now(), PUBLIC),
    )
    return cursor.rowcount == 1


def create_room(db: sqlite3.Connection, room: NewRoom) -> RoomInfo | None:
    db.execute("BEGIN IMMEDIATE")
    try:
        cursor = db.execute(
            "INSERT INTO rooms (name, head, created_at, created_by, visibility, topic, dm_key) "
            "VALUES (?, 0, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING",
            (room.name, _now(), room.owner, room.visibility, room.topic, room.dm_key),
        )
        if cursor.rowcount != 1:
            db.execute("ROLLBACK")
            return None
        db.executemany(
            "INSERT INTO members (room, user, role, joined_at) VALUES (?, ?, ?, ?)",
            [(room.name, user, OWNER if user == room.owner else MEMBER, _now()) for user in room.members],
        )
        db.execute("COMMIT")
    except BaseException:
        if db.in_transaction:
            db.execute("ROLLBACK")
        raise
    return room_info(db, room.name, room.owner or (room.members[0] if room.members else None))


def rooms_created_by(db: sqlite3.Connection, user: str) -> int:
    return int(db.execute("SELECT count(*) FROM rooms WHERE created_by = ?", (user,)).fetchone()[0])


# One room by name, as a row whether it exists or not (its columns NULL when it does not), the
# member looked up by the name asked for: a missing room costs the work of one the asker may
# not see, so the time of an answer does not tell them apart.
_ROOM_BY_NAME = (
    "SELECT r.name, r.head, r.visibility, r.topic, r.created_by, r.archived, m.role, m.last_read "
    "FROM (SELECT ? AS name) q LEFT JOIN rooms r ON r.name = q.name "
    "LEFT JOIN members m ON m.room = q.name AND m.user = ?"
)


def room_info(db: sqlite3.Connection, name: str, user: str | None) -> RoomInfo | None:
    row = db.execute(_ROOM_BY_NAME, (name, user)).fetchone()
    return None if row[0] is None else _info(db, row)


def find_dm(db: sqlite3.Connection, dm_key: str, user: str) -> RoomInfo | None:
    row = db.execute(f"{_ROOM} WHERE r.dm_key = ?", (user, dm_key)).fetchone()
    return None if row is None else _info(db, row)


def rooms_for(db: sqlite3.Connection, user: str | None, archived: bool) -> list[RoomInfo]:
    # The counts are only worked out here, where the list needs them.
    select = _ROOM.replace(" FROM rooms r", f"{_COUNTS} FROM rooms r").replace("m.user = ?", "m.user = ?1")
    rows = db.execute(
        f"{select} WHERE (r.visibility = ?2 OR m.role IS NOT NULL) AND (?3 OR r.archived = 0) "
        "ORDER BY r.name",
        (user, PUBLIC, archived),
    ).fetchall()
    return [_info(db, row) for row in rows]


def update_room(db: sqlite3.Connection, name: str, topic: str | None, archived: bool | None) -> None:
    if topic is not None:
        db.execute("UPDATE rooms SET topic = ? WHERE name = ?", (topic, name))
    if archived is not None:
        db.execute("UPDATE rooms SET archived = ? WHERE name = ?", (int(archived), name))


def members(db: sqlite3.Connection, room: str, after: str | None, limit: int | None) -> list[Member]:
    rows = db.execute(
        "SELECT user, role FROM members WHERE room = ? AND (? IS NULL OR user > ?) ORDER BY user LIMIT ?",
        (room, after, after, -1 if limit is None else limit),
    )
    return [Member(user, role) for user, role in rows]


def add_members(db: sqlite3.Connection, room: str, users: Sequence[str], role: str) -> list[str]:
    added = []
    for user in users:
        # A new member has read what came before them: they start with nothing unread.
        cursor = db.execute(
            "INSERT INTO members (room, user, role, joined_at, last_read) "
            "SELECT ?, ?, ?, ?, head FROM rooms WHERE name = ? ON CONFLICT DO NOTHING",
            (room, user, role, _now(), room),
        )
        if cursor.rowcount == 1:
            added.append(user)
    return added


def members_among(db: sqlite3.Connection, room: str, names: Sequence[str]) -> list[str]:
    marks = ", ".join("?" for _ in names)
    rows = db.execute(f"SELECT user FROM members WHERE room = ? AND user IN ({marks})", (room, *names))  # noqa: S608
    return [user for (user,) in rows]


def member_rooms(db: sqlite3.Connection, user: str) -> list[str]:
    return [room for (room,) in db.execute("SELECT room FROM members WHERE user = ?", (user,))]


def mark_read(db: sqlite3.Connection, room: str, user: str, seq: int) -> int | None:
    row = db.execute(
        "UPDATE members SET last_read = max(last_read, ?) WHERE room = ? AND user = ? RETURNING last_read",
        (seq, room, user),
    ).fetchone()
    return None if row is None else int(row[0])


def remove_member(db: sqlite3.Connection, room: str, user: str) -> bool:
    return db.execute("DELETE FROM members WHERE room = ? AND user = ?", (room, user)).rowcount == 1


def count_members(db: sqlite3.Connection, room: str) -> int:
    return int(db.execute("SELECT count(*) FROM members WHERE room = ?", (room,)).fetchone()[0])


def touch_users(db: sqlite3.Connection, names: Sequence[str]) -> None:
    db.execute("BEGIN IMMEDIATE")  # one transaction, one fsync, however many
    try:
        db.executemany(
            "INSERT INTO users (name, seen_at) VALUES (?, ?) "
            "ON CONFLICT (name) DO UPDATE SET seen_at = excluded.seen_at",
            [(name, _now()) for name in names],
        )
        db.execute("COMMIT")
    except BaseException:
        if db.in_transaction:
            db.execute("ROLLBACK")
        raise


def known_users(db: sqlite3.Connection, names: Sequence[str]) -> set[str]:
    marks = ", ".join("?" for _ in names)
    return {n for (n,) in db.execute(f"SELECT name FROM users WHERE name IN ({marks})", tuple(names))}  # noqa: S608


def like_prefix(prefix: str) -> str:
    """A LIKE pattern for names starting with the prefix, its own % and _ taken literally ('!' escapes)."""
    return prefix.replace("!", "!!").replace("%", "!%").replace("_", "!_") + "%"


def find_users(db: sqlite3.Connection, prefix: str, limit: int) -> list[str]:
    rows = db.execute(
        "SELECT name FROM users WHERE name LIKE ? ESCAPE '!' ORDER BY lower(name), name LIMIT ?",
        (like_prefix(prefix), limit),
    )
    return [name for (name,) in rows]


def check_author(db: sqlite3.Connection, room: str, author: str) -> str | None:
    """Why the author may not post in the room now ("unknown", "not a member", "archived": in
    that order, so that a non-member never learns more than that), or None."""
    row = db.execute(
        "SELECT archived, EXISTS (SELECT 1 FROM members WHERE room = ? AND user = ?) "
        "FROM rooms WHERE name = ?",
        (room, author, room),
    ).fetchone()
    if row is None:
        return "unknown"
    if not row[1]:
        return "not a member"
    return "archived" if row[0] else None
