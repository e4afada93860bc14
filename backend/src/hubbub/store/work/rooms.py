"""Rooms, their members and read positions: units of work over one connection."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import (
    BindParameter,
    Boolean,
    Connection,
    and_,
    bindparam,
    case,
    delete,
    false,
    func,
    insert,
    literal,
    or_,
    select,
    update,
)

from hubbub.model import COUNT_CAP, DM, MEMBER, OWNER, PUBLIC, ROOM_MENTION, Member, NewRoom, RoomInfo
from hubbub.store.tables import members, mentions, messages, rooms
from hubbub.store.work.sql import Statement, now_ms, run, run_many

r, m, x = rooms.c, members.c, messages.c
_counted = members.alias("counted")
_user: BindParameter[str] = bindparam("user", type_=m.user.type)


def _room_query(counts: bool = False) -> Any:
    """A room as ``user`` sees it: with their role and read position, and for the list what is
    new for them (counted up to COUNT_CAP, so a badge never costs more than that many rows)."""
    columns: list[Any] = [
        r.name,
        r.head,
        r.visibility,
        r.topic,
        r.created_by,
        r.archived,
        m.role,
        m.last_read,
        select(func.count()).select_from(_counted).where(_counted.c.room == r.name).scalar_subquery(),
    ]
    if counts:
        new = and_(m.role.is_not(None), x.room == r.name, x.seq > m.last_read, x.author != _user)
        mentioned = mentions.join(messages, and_(x.room == mentions.c.room, x.seq == mentions.c.seq))
        unread = select(literal(1)).where(new).limit(COUNT_CAP).correlate(rooms, members)
        mentioning = (
            select(literal(1))
            .select_from(mentioned)
            .where(new, mentions.c.user.in_([_user, literal(ROOM_MENTION)]))
            .limit(COUNT_CAP)
            .correlate(rooms, members)
        )
        columns += [
            select(func.count()).select_from(unread.subquery()).scalar_subquery(),
            select(func.count()).select_from(mentioning.subquery()).scalar_subquery(),
        ]
    return select(*columns).select_from(rooms.outerjoin(members, and_(m.room == r.name, m.user == _user)))


ROOM = Statement(_room_query().where(r.name == bindparam("name")))
DM_ROOM = Statement(_room_query().where(r.dm_key == bindparam("dm_key")))
# Every public room and every room the user is a member of; archived ones only when asked for.
LISTING = Statement(
    _room_query(counts=True)
    .where(
        or_(r.visibility == PUBLIC, m.role.is_not(None)),
        or_(bindparam("archived", type_=Boolean), r.archived == false()),
    )
    .order_by(r.name)
)
DM_MEMBERS = Statement(select(m.user).where(m.room == bindparam("room")).order_by(m.user))


def _info(conn: Connection, row: tuple[Any, ...]) -> RoomInfo:
    name, head, visibility, topic, owner, archived, role, last_read, member_count, *counts = row
    dm_members: tuple[str, ...] = ()
    if visibility == DM:
        dm_members = tuple(run(conn, DM_MEMBERS, room=name).scalars())
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
        int(member_count),
    )


def room_info(conn: Connection, name: str, user: str | None) -> RoomInfo | None:
    row = run(conn, ROOM, name=name, user=user).first()
    return None if row is None else _info(conn, row)


def find_dm(conn: Connection, dm_key: str, user: str) -> RoomInfo | None:
    row = run(conn, DM_ROOM, dm_key=dm_key, user=user).first()
    return None if row is None else _info(conn, row)


def rooms_for(conn: Connection, user: str | None, archived: bool) -> list[RoomInfo]:
    # The counts are only worked out here, where the list needs them.
    return [_info(conn, row) for row in run(conn, LISTING, user=user, archived=archived).rows]


_NEW_ROOM = ("name", "head", "created_at", "created_by", "visibility", "topic", "dm_key")
NEW_ROOM = Statement(
    upsert=lambda insert: insert(rooms).values({c: bindparam(c) for c in _NEW_ROOM}).on_conflict_do_nothing()
)
NEW_MEMBER = Statement(
    insert(members).values({c: bindparam(c) for c in ("room", "user", "role", "joined_at")})
)


def ensure_room(conn: Connection, name: str) -> bool:
    """The public room, made if missing; True when it was."""
    row = {"name": name, "created_at": now_ms(), "visibility": PUBLIC, "created_by": None}
    return run(conn, NEW_ROOM, **row, head=0, topic="", dm_key=None).rowcount == 1


def create_room(conn: Connection, room: NewRoom) -> RoomInfo | None:
    now = now_ms()
    row = {"name": room.name, "created_at": now, "created_by": room.owner, "visibility": room.visibility}
    if run(conn, NEW_ROOM, **row, head=0, topic=room.topic, dm_key=room.dm_key).rowcount != 1:
        return None
    roles = [(u, OWNER if u == room.owner else MEMBER) for u in room.members]
    run_many(
        conn,
        NEW_MEMBER,
        [{"room": room.name, "user": u, "role": role, "joined_at": now} for u, role in roles],
    )
    return room_info(conn, room.name, room.owner or (room.members[0] if room.members else None))


CREATED_BY = Statement(select(func.count()).where(r.created_by == bindparam("user")))
UPDATE_ROOM = Statement(
    update(rooms)
    .where(r.name == bindparam("name"))
    .values(
        topic=func.coalesce(bindparam("topic", type_=r.topic.type), r.topic),
        archived=func.coalesce(bindparam("archived", type_=r.archived.type), r.archived),
    )
)


def rooms_created_by(conn: Connection, user: str) -> int:
    return int(run(conn, CREATED_BY, user=user).scalar())


def update_room(conn: Connection, name: str, topic: str | None, archived: bool | None) -> None:
    """What is None stays as it was."""
    run(conn, UPDATE_ROOM, name=name, topic=topic, archived=archived)


_in_room = m.room == bindparam("room")
MEMBERS = Statement(
    select(m.user, m.role).where(_in_room).order_by(case((m.role == OWNER, 0), else_=1), m.user)
)
# A new member has read what came before them: they start with nothing unread.
ADD_MEMBER = Statement(
    upsert=lambda insert: (
        insert(members)
        .from_select(
            ["room", "user", "role", "joined_at", "last_read"],
            select(
                bindparam("room", type_=m.room.type),
                bindparam("user", type_=m.user.type),
                bindparam("role", type_=m.role.type),
                bindparam("joined_at", type_=m.joined_at.type),
                r.head,
            ).where(r.name == bindparam("room")),
        )
        .on_conflict_do_nothing()
    )
)
REMOVE_MEMBER = Statement(delete(members).where(_in_room, m.user == _user))
COUNT_MEMBERS = Statement(select(func.count()).where(_in_room))
MEMBERS_AMONG = Statement(select(m.user).where(_in_room, m.user.in_(bindparam("names", expanding=True))))
MEMBER_ROOMS = Statement(select(m.room).where(m.user == _user))
MARK_READ = Statement(
    update(members)
    .where(_in_room, m.user == _user)
    .values(last_read=case((m.last_read < bindparam("seq"), bindparam("seq")), else_=m.last_read))
    .returning(m.last_read)
)


def members_of(conn: Connection, room: str) -> list[Member]:
    """Owners first, then by name."""
    return [Member(user, role) for user, role in run(conn, MEMBERS, room=room).rows]


def add_members(conn: Connection, room: str, users: Sequence[str], role: str) -> list[str]:
    """Those of the users who were not members before, now members."""
    now = now_ms()
    return [
        u for u in users if run(conn, ADD_MEMBER, room=room, user=u, role=role, joined_at=now).rowcount == 1
    ]


def remove_member(conn: Connection, room: str, user: str) -> bool:
    return bool(run(conn, REMOVE_MEMBER, room=room, user=user).rowcount == 1)


def count_members(conn: Connection, room: str) -> int:
    return int(run(conn, COUNT_MEMBERS, room=room).scalar())


def members_among(conn: Connection, room: str, names: Sequence[str]) -> list[str]:
    return run(conn, MEMBERS_AMONG, room=room, names=list(names)).scalars()


def member_rooms(conn: Connection, user: str) -> list[str]:
    return run(conn, MEMBER_ROOMS, user=user).scalars()


def mark_read(conn: Connection, room: str, user: str, seq: int) -> int | None:
    """Up to seq, never down; None when the user is not a member."""
    found = run(conn, MARK_READ, room=room, user=user, seq=seq).scalar()
    return None if found is None else int(found)


# --- for admins: every room but direct messages (who talks to whom is not theirs to list)
ALL_ROOMS = Statement(_room_query().where(r.visibility != DM).order_by(r.name))
SET_OWNER = Statement(update(rooms).where(r.name == bindparam("name")).values(created_by=bindparam("user")))
SET_ROLE = Statement(update(members).where(_in_room, m.user == _user).values(role=bindparam("role")))
DEMOTE_OWNERS = Statement(
    update(members).where(_in_room, m.role == OWNER, m.user != _user).values(role=MEMBER)
)


def all_rooms(conn: Connection) -> list[RoomInfo]:
    return [_info(conn, row) for row in run(conn, ALL_ROOMS, user=None).rows]


def transfer_owner(conn: Connection, room: str, user: str) -> bool:
    """Make a member the room's owner (the owner before stays a member); False when the user
    is not a member."""
    if run(conn, SET_ROLE, room=room, user=user, role=OWNER).rowcount != 1:
        return False
    run(conn, DEMOTE_OWNERS, room=room, user=user)
    run(conn, SET_OWNER, name=room, user=user)
    return True
