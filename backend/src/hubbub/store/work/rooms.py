"""Rooms, their members and read positions: units of work over one connection."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import Connection, Row, and_, case, delete, func, insert, literal, or_, select, update

from hubbub.model import COUNT_CAP, DM, MEMBER, OWNER, PUBLIC, ROOM_MENTION, Member, NewRoom, RoomInfo
from hubbub.store.tables import members, mentions, messages, rooms
from hubbub.store.work.sql import now_ms, upsert

r, m = rooms.c, members.c


def _room_query(user: str | None, counts: bool = False) -> Any:
    """A room as ``user`` sees it: with their role and read position, and for the list what is
    new for them (counted up to COUNT_CAP, so a badge never costs more than that many rows)."""
    membership = and_(m.room == r.name, m.user == user)
    columns: list[Any] = [
        r.name,
        r.head,
        r.visibility,
        r.topic,
        r.created_by,
        r.archived,
        m.role,
        m.last_read,
    ]
    if counts:
        new = and_(m.role.is_not(None), messages.c.room == r.name, messages.c.seq > m.last_read)
        not_theirs = messages.c.author != user
        unread = select(literal(1)).where(new, not_theirs).limit(COUNT_CAP).correlate(rooms, members)
        mentioning = (
            select(literal(1))
            .select_from(
                mentions.join(
                    messages, and_(messages.c.room == mentions.c.room, messages.c.seq == mentions.c.seq)
                )
            )
            .where(new, not_theirs, mentions.c.user.in_([user, ROOM_MENTION]))
            .limit(COUNT_CAP)
            .correlate(rooms, members)
        )
        columns += [
            select(func.count()).select_from(unread.subquery()).scalar_subquery(),
            select(func.count()).select_from(mentioning.subquery()).scalar_subquery(),
        ]
    return select(*columns).select_from(rooms.outerjoin(members, membership))


def _info(conn: Connection, row: Row[Any]) -> RoomInfo:
    name, head, visibility, topic, owner, archived, role, last_read, *counts = tuple(row)
    dm_members: tuple[str, ...] = ()
    if visibility == DM:
        dm_members = tuple(conn.execute(select(m.user).where(m.room == name).order_by(m.user)).scalars())
    unread, mentioned = counts or (0, 0)
    return RoomInfo(
        name,
        int(head),
        visibility,
        topic,
        owner,
        bool(archived),
        role,
        dm_members,
        int(last_read or 0),
        int(unread),
        int(mentioned),
    )


def ensure_room(conn: Connection, name: str) -> bool:
    row = {"name": name, "head": 0, "created_at": now_ms(), "visibility": PUBLIC}
    return conn.execute(upsert(conn, rooms).values(row).on_conflict_do_nothing()).rowcount == 1


def create_room(conn: Connection, room: NewRoom) -> RoomInfo | None:
    row = {
        "name": room.name,
        "head": 0,
        "created_at": now_ms(),
        "created_by": room.owner,
        "visibility": room.visibility,
        "topic": room.topic,
        "dm_key": room.dm_key,
    }
    if conn.execute(upsert(conn, rooms).values(row).on_conflict_do_nothing()).rowcount != 1:
        return None
    if room.members:
        now = now_ms()
        conn.execute(
            insert(members),
            [
                {"room": room.name, "user": u, "role": OWNER if u == room.owner else MEMBER, "joined_at": now}
                for u in room.members
            ],
        )
    return room_info(conn, room.name, room.owner or (room.members[0] if room.members else None))


def rooms_created_by(conn: Connection, user: str) -> int:
    return int(conn.execute(select(func.count()).where(r.created_by == user)).scalar_one())


def room_info(conn: Connection, name: str, user: str | None) -> RoomInfo | None:
    row = conn.execute(_room_query(user).where(r.name == name)).first()
    return None if row is None else _info(conn, row)


def find_dm(conn: Connection, dm_key: str, user: str) -> RoomInfo | None:
    row = conn.execute(_room_query(user).where(r.dm_key == dm_key)).first()
    return None if row is None else _info(conn, row)


def rooms_for(conn: Connection, user: str | None, archived: bool) -> list[RoomInfo]:
    # The counts are only worked out here, where the list needs them.
    query = _room_query(user, counts=True).where(or_(r.visibility == PUBLIC, m.role.is_not(None)))
    if not archived:
        query = query.where(r.archived.is_(False))
    return [_info(conn, row) for row in conn.execute(query.order_by(r.name))]


def update_room(conn: Connection, name: str, topic: str | None, archived: bool | None) -> None:
    values = {k: v for k, v in (("topic", topic), ("archived", archived)) if v is not None}
    if values:
        conn.execute(update(rooms).where(r.name == name).values(values))


def members_of(conn: Connection, room: str) -> list[Member]:
    """Owners first, then by name."""
    rows = conn.execute(
        select(m.user, m.role).where(m.room == room).order_by(case((m.role == OWNER, 0), else_=1), m.user)
    )
    return [Member(user, role) for user, role in rows]


def add_members(conn: Connection, room: str, users: Sequence[str], role: str) -> list[str]:
    added = []
    for user in users:
        # A new member has read what came before them: they start with nothing unread.
        row = select(literal(room), literal(user), literal(role), literal(now_ms()), r.head).where(
            r.name == room
        )
        columns = ["room", "user", "role", "joined_at", "last_read"]
        statement = upsert(conn, members).from_select(columns, row).on_conflict_do_nothing()
        if conn.execute(statement).rowcount == 1:
            added.append(user)
    return added


def remove_member(conn: Connection, room: str, user: str) -> bool:
    return conn.execute(delete(members).where(m.room == room, m.user == user)).rowcount == 1


def count_members(conn: Connection, room: str) -> int:
    return int(conn.execute(select(func.count()).where(m.room == room)).scalar_one())


def members_among(conn: Connection, room: str, names: Sequence[str]) -> list[str]:
    return list(conn.execute(select(m.user).where(m.room == room, m.user.in_(names))).scalars())


def member_rooms(conn: Connection, user: str) -> list[str]:
    return list(conn.execute(select(m.room).where(m.user == user)).scalars())


def mark_read(conn: Connection, room: str, user: str, seq: int) -> int | None:
    """Up to seq, never down."""
    moved = case((m.last_read < seq, seq), else_=m.last_read)
    found = conn.execute(
        update(members).where(m.room == room, m.user == user).values(last_read=moved).returning(m.last_read)
    ).scalar()
    return None if found is None else int(found)
