"""Profiles: what a user shows of themself. Units of work over one connection."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import Connection, bindparam, exists, func, select, update

from hubbub.model import Clash, NameUnavailableError, Profile, ProfileChange, UnknownUserError
from hubbub.store.tables import bots, users
from hubbub.store.work.accounts import ALL_NAMES, BUMP
from hubbub.store.work.sql import Statement, run

u = users.c
_columns = (
    u.name,
    u.display_name,
    u.status_emoji,
    u.status_text,
    u.time_zone,
    u.avatar,
    u.deactivated_at.is_not(None),
    exists().where(bots.c.name == u.name),
)
PROFILES = Statement(select(*_columns).where(u.name.in_(bindparam("names", expanding=True))))
PROFILE = Statement(select(*_columns).where(u.name == bindparam("name")))
UPDATE = Statement(
    update(users)
    .where(u.name == bindparam("name"))
    .values(
        display_name=func.coalesce(bindparam("display_name", type_=u.display_name.type), u.display_name),
        status_emoji=func.coalesce(bindparam("status_emoji", type_=u.status_emoji.type), u.status_emoji),
        status_text=func.coalesce(bindparam("status_text", type_=u.status_text.type), u.status_text),
        time_zone=func.coalesce(bindparam("time_zone", type_=u.time_zone.type), u.time_zone),
    )
)


def _profile(row: Sequence[object]) -> Profile:
    name, shown, emoji, text, zone, avatar, deactivated, bot = row
    return Profile(
        str(name),
        str(shown),
        str(emoji),
        str(text),
        str(zone),
        None if avatar is None else str(avatar),
        bool(deactivated),
        bool(bot),
    )


def profiles(conn: Connection, names: Sequence[str]) -> list[Profile]:
    return [_profile(row) for row in run(conn, PROFILES, names=list(names)).rows]


def profile(conn: Connection, name: str) -> Profile | None:
    row = run(conn, PROFILE, name=name).first()
    return None if row is None else _profile(row)


def update_profile(conn: Connection, name: str, change: ProfileChange, clash: Clash) -> Profile:
    """Apply the change; a new display name may not be, or look like, anyone else's name or
    display name (checked in the transaction that sets it: two people cannot both take one).
    Raises UnknownUserError, NameUnavailableError."""
    if change.display_name:
        run(conn, BUMP)  # serialized with accounts being made and other names being picked
        others = {
            str(x) for other, shown in run(conn, ALL_NAMES).rows if other != name for x in (other, shown) if x
        }
        if change.display_name in others:
            raise NameUnavailableError("someone has that name; pick another")
        why = clash(others)
        if why is not None:
            raise NameUnavailableError(why)
    done = run(
        conn,
        UPDATE,
        name=name,
        display_name=change.display_name,
        status_emoji=change.status_emoji,
        status_text=change.status_text,
        time_zone=change.time_zone,
    )
    if done.rowcount != 1:
        raise UnknownUserError([name])
    found = profile(conn, name)
    assert found is not None
    return found


SET_AVATAR = Statement(update(users).where(u.name == bindparam("name")).values(avatar=bindparam("avatar")))


def set_avatar(conn: Connection, name: str, digest: str | None) -> Profile:
    """The user's avatar is now the image of that digest in the file storage (None: initials on
    a colour again). Raises UnknownUserError."""
    if run(conn, SET_AVATAR, name=name, avatar=digest).rowcount != 1:
        raise UnknownUserError([name])
    found = profile(conn, name)
    assert found is not None
    return found
