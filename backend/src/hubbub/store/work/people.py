"""Who there is: known users, bots and their tokens, sessions. Units of work over one connection."""

from __future__ import annotations

import time
from collections.abc import Sequence

from sqlalchemy import Connection, bindparam, delete, func, insert, select, update

from hubbub.model import SessionRecord
from hubbub.store.tables import bots, sessions, users
from hubbub.store.work.sql import Statement, now_ms, run, run_many

u, b, s = users.c, bots.c, sessions.c

# --- users
SEEN = Statement(
    upsert=lambda insert: (
        insert(users)
        .values(name=bindparam("name"), seen_at=bindparam("seen_at"))
        .on_conflict_do_update(index_elements=["name"], set_={"seen_at": bindparam("seen_at")})
    )
)
# Deactivated users are not found, offered, or invited.
KNOWN = Statement(
    select(u.name).where(u.name.in_(bindparam("names", expanding=True)), u.deactivated_at.is_(None))
)
NAMED_LIKE = Statement(
    select(u.name)
    .where(
        u.name.ilike(bindparam("pattern"), escape="!")
        | u.display_name.ilike(bindparam("pattern"), escape="!"),
        u.deactivated_at.is_(None),
    )
    .order_by(func.lower(u.name), u.name)
    .limit(bindparam("limit"))
)


def touch_users(conn: Connection, names: Sequence[str]) -> None:
    """One statement for all of them, in name order (two workers' waves cannot deadlock)."""
    seen = now_ms()
    run_many(conn, SEEN, [{"name": name, "seen_at": seen} for name in sorted(set(names))])


def known_users(conn: Connection, names: Sequence[str]) -> set[str]:
    return set(run(conn, KNOWN, names=list(names)).scalars())


def like_prefix(prefix: str) -> str:
    """A LIKE pattern for names starting with the prefix, its own % and _ taken literally ('!' escapes)."""
    return prefix.replace("!", "!!").replace("%", "!%").replace("_", "!_") + "%"


def find_users(conn: Connection, prefix: str, limit: int) -> list[str]:
    """Names or display names starting with the prefix, case-insensitive, by name; not the
    deactivated."""
    return run(conn, NAMED_LIKE, pattern=like_prefix(prefix), limit=limit).scalars()


# --- bots
# A new bot, or a new token for a bot (the old one stops working) that is no longer revoked.
ADD_BOT = Statement(
    upsert=lambda insert: (
        insert(bots)
        .values(name=bindparam("name"), token_hash=bindparam("token_hash"), created_at=bindparam("at"))
        .on_conflict_do_update(
            index_elements=["name"],
            set_={"token_hash": bindparam("token_hash"), "created_at": bindparam("at"), "revoked_at": None},
        )
    )
)
_live = b.revoked_at.is_(None)
REVOKE = Statement(update(bots).where(b.name == bindparam("name"), _live).values(revoked_at=bindparam("at")))
BOT_FOR_TOKEN = Statement(select(b.name).where(b.token_hash == bindparam("token_hash"), _live))
ALL_BOTS = Statement(select(b.name, b.revoked_at).order_by(b.name))


def add_bot(conn: Connection, name: str, token_hash: str) -> None:
    run(conn, ADD_BOT, name=name, token_hash=token_hash, at=now_ms())


def revoke_bot(conn: Connection, name: str) -> bool:
    return bool(run(conn, REVOKE, name=name, at=now_ms()).rowcount > 0)


def bot_for_token(conn: Connection, token_hash: str) -> str | None:
    name = run(conn, BOT_FOR_TOKEN, token_hash=token_hash).scalar()
    return None if name is None else str(name)


def all_bots(conn: Connection) -> list[tuple[str, bool]]:
    return [(str(name), revoked is not None) for name, revoked in run(conn, ALL_BOTS).rows]


# --- sessions
NEW_SESSION = Statement(
    insert(sessions).values({c: bindparam(c) for c in ("id", "user", "expires_at", "credential", "admin")})
)
EXPIRED = Statement(delete(sessions).where(s.expires_at < bindparam("now")))
SESSION = Statement(select(s.id, s.user, s.expires_at, s.credential, s.admin).where(s.id == bindparam("id")))
END_SESSION = Statement(delete(sessions).where(s.id == bindparam("id")))


def create_session(conn: Connection, record: SessionRecord) -> None:
    run(
        conn,
        NEW_SESSION,
        id=record.id,
        user=record.user,
        expires_at=record.expires_at,
        credential=record.credential,
        admin=record.admin,
    )
    # Housekeeping rides on logins: expired sessions never pile up.
    run(conn, EXPIRED, now=time.time())


def get_session(conn: Connection, session_id: str) -> SessionRecord | None:
    row = run(conn, SESSION, id=session_id).first()
    if row is None or float(row[2]) < time.time():
        return None
    return SessionRecord(str(row[0]), str(row[1]), float(row[2]), row[3], bool(row[4]))


def delete_session(conn: Connection, session_id: str) -> None:
    run(conn, END_SESSION, id=session_id)
