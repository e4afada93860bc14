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
    literal_column,
    null,
    or_,
    select,
    union_all,
    update,
)

from hubbub.model import COUNT_CAP, DM, MEMBER, OWNER, PUBLIC, ROOM_MENTION, Member, NewRoom, RoomInfo
from hubbub.store.tables import members, mentions, messages, rooms
from hubbub.store.work.sql import Statement, now_ms, run, run_many

r, m, x = rooms.c, members.c, messages.c
_user: BindParameter[str] = bindparam("user", type_=m.user.type)
_archived_too = or_(bindparam("archived", type_=Boolean), r.archived == false())

# A room as ``user`` sees it: with their role and read position. Its member count is kept with
# the room (member_count, written with the members): reading it costs the same for a room of
# ten as for one of ten thousand.
_ROOM_COLUMNS: list[Any] = [
    r.name,
    r.head,
    r.visibility,
    r.topic,
    r.created_by,
    r.archived,
    m.role,
    m.last_read,
    r.member_count,
]
_as_user = rooms.outerjoin(members, and_(m.room == r.name, m.user == _user))


def _counts() -> list[Any]:
    """What is new for the member ``user`` in the room: counted up to COUNT_CAP, so a badge
    never costs more than that many rows."""
    new = and_(x.room == r.name, x.seq > m.last_read, x.author != _user)
    mentioned = mentions.join(messages, and_(x.room == mentions.c.room, x.seq == mentions.c.seq))
    unread = select(literal(1)).where(new).limit(COUNT_CAP).correlate(rooms, members)
    mentioning = (
        select(literal(1))
        .select_from(mentioned)
        .where(new, mentions.c.user.in_([_user, literal(ROOM_MENTION)]))
        .limit(COUNT_CAP)
        .correlate(rooms, members)
    )
    return [
        select(func.count()).select_from(unread.subquery()).scalar_subquery(),
        select(func.count()).select_from(mentioning.subquery()).scalar_subquery(),
    ]


ALL = 2**62  # a LIMIT past any count of rows


def _room_by_name() -> Any:
    """One room by name, as a row whether it exists or not (its columns NULL when it does not),
    the membership looked up by the name asked for: a missing room costs the work of one the
    asker may not see, so the time of an answer does not tell them apart."""
    asked = select(bindparam("name", type_=r.name.type).label("name")).subquery("asked")
    found = asked.outerjoin(rooms, r.name == asked.c.name).outerjoin(
        members, and_(m.room == asked.c.name, m.user == _user)
    )
    return select(*_ROOM_COLUMNS).select_from(found)


ROOM = Statement(_room_by_name())
DM_ROOM = Statement(select(*_ROOM_COLUMNS).select_from(_as_user).where(r.dm_key == bindparam("dm_key")))
# Every room the user is a member of (by the members' index on user), with what is new there.
MINE = (
    select(*_ROOM_COLUMNS, *_counts())
    .select_from(rooms.join(members, and_(m.room == r.name, m.user == _user)))
    .where(_archived_too)
)
MEMBER_LISTING = Statement(MINE.order_by(r.name))
# Every public room (by the rooms' index on visibility), as someone who is not a member of it sees it.
PUBLIC_LISTING = Statement(
    select(*_ROOM_COLUMNS[:6], null(), null(), r.member_count)
    .where(r.visibility == PUBLIC, _archived_too)
    .order_by(r.name)
)
# Both, for one user: their rooms, then the public rooms they are not in; archived ones only
# when asked for. Neither half reads a room the user cannot see: thousands of direct messages
# between others cost this list nothing.
LISTING = Statement(
    union_all(
        MINE,
        select(*_ROOM_COLUMNS, literal(0), literal(0))
        .select_from(_as_user)
        .where(r.visibility == PUBLIC, m.role.is_(None), _archived_too),
    ).order_by(literal_column("name"))
)
DM_MEMBERS = Statement(select(m.user).where(m.room == bindparam("room")).order_by(m.user))


def _info(conn: Connection, row: tuple[Any, ...]) -> RoomInfo:
    name, head, visibility, topic, owner, archived, role, last_read, member_count, *counts = row
    dm_members: tuple[str, ...] = ()
    if visibility == DM and role is not None:  # for its members only: nobody else is told, or waits
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
    return None if row is None or row[0] is None else _info(conn, row)


def find_dm(conn: Connection, dm_key: str, user: str) -> RoomInfo | None:
    row = run(conn, DM_ROOM, dm_key=dm_key, user=user).first()
    return None if row is None else _info(conn, row)


def rooms_for(conn: Connection, user: str | None, archived: bool) -> list[RoomInfo]:
    # The counts are only worked out here, where the list needs them.
    return [_info(conn, row) for row in run(conn, LISTING, user=user, archived=archived).rows]


def rooms_of(conn: Connection, user: str, archived: bool) -> list[RoomInfo]:
    return [_info(conn, row) for row in run(conn, MEMBER_LISTING, user=user, archived=archived).rows]


def public_rooms(conn: Connection, archived: bool) -> list[RoomInfo]:
    return [_info(conn, row) for row in run(conn, PUBLIC_LISTING, archived=archived).rows]


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
    if roles:
        run(conn, COUNTED, room=room.name, added=len(roles))
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
# By name, in the database's order of text (SQLite: bytes; PostgreSQL: its collation), the
# order of the primary key's index: a page is one range of it, however large the room.
MEMBERS = Statement(
    select(m.user, m.role)
    .where(_in_room, m.user > bindparam("after"))
    .order_by(m.user)
    .limit(bindparam("limit"))
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
# Written in the transaction that adds or removes members: the count is always theirs.
COUNTED = Statement(
    update(rooms)
    .where(r.name == bindparam("room"))
    .values(member_count=r.member_count + bindparam("added", type_=r.member_count.type))
)
COUNT_MEMBERS = Statement(select(r.member_count).where(r.name == bindparam("room")))
MEMBERS_AMONG = Statement(select(m.user).where(_in_room, m.user.in_(bindparam("names", expanding=True))))
MEMBER_ROOMS = Statement(select(m.room).where(m.user == _user))
MARK_READ = Statement(
    update(members)
    .where(_in_room, m.user == _user)
    .values(last_read=case((m.last_read < bindparam("seq"), bindparam("seq")), else_=m.last_read))
    .returning(m.last_read)
)


def members_of(conn: Connection, room: str, after: str | None, limit: int | None) -> list[Member]:
    """By name: those after ``after`` (from the first when None), at most ``limit`` (all when
    None). A name is never empty, so "" comes before every one."""
    bound = ALL if limit is None else limit
    return [
        Member(user, role)
        for user, role in run(conn, MEMBERS, room=room, after=after or "", limit=bound).rows
    ]


def add_members(conn: Connection, room: str, users: Sequence[str], role: str) -> list[str]:
    """Those of the users who were not members before, now members."""
    now = now_ms()
    added = [
        u for u in users if run(conn, ADD_MEMBER, room=room, user=u, role=role, joined_at=now).rowcount == 1
    ]
    if added:
        run(conn, COUNTED, room=room, added=len(added))
    return added


def remove_member(conn: Connection, room: str, user: str) -> bool:
    if run(conn, REMOVE_MEMBER, room=room, user=user).rowcount != 1:
        return False
    run(conn, COUNTED, room=room, added=-1)
    return True


def count_members(conn: Connection, room: str) -> int:
    return int(run(conn, COUNT_MEMBERS, room=room).scalar() or 0)


def members_among(conn: Connection, room: str, names: Sequence[str]) -> list[str]:
    return run(conn, MEMBERS_AMONG, room=room, names=list(names)).scalars()


def member_rooms(conn: Connection, user: str) -> list[str]:
    return run(conn, MEMBER_ROOMS, user=user).scalars()


def mark_read(conn: Connection, room: str, user: str, seq: int) -> int | None:
    """Up to seq, never down; None when the user is not a member."""
    found = run(conn, MARK_READ, room=room, user=user, seq=seq).scalar()
    return None if found is None else int(found)


# --- for admins: every room but direct messages (who talks to whom is not theirs to list)
ALL_ROOMS = Statement(
    select(*_ROOM_COLUMNS[:6], null(), null(), r.member_count).where(r.visibility != DM).order_by(r.name)
)
SET_OWNER = Statement(update(rooms).where(r.name == bindparam("name")).values(created_by=bindparam("user")))
SET_ROLE = Statement(update(members).where(_in_room, m.user == _user).values(role=bindparam("role")))
DEMOTE_OWNERS = Statement(
    update(members).where(_in_room, m.role == OWNER, m.user != _user).values(role=MEMBER)
)


def all_rooms(conn: Connection) -> list[RoomInfo]:
    return [_info(conn, row) for row in run(conn, ALL_ROOMS).rows]


def transfer_owner(conn: Connection, room: str, user: str) -> bool:
    """Make a member the room's owner (the owner before stays a member); False when the user
    is not a member."""
    if run(conn, SET_ROLE, room=room, user=user, role=OWNER).rowcount != 1:
        return False
    run(conn, DEMOTE_OWNERS, room=room, user=user)
    run(conn, SET_OWNER, name=room, user=user)
    return True
