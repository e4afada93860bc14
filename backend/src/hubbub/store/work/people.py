"""Who there is: known users, bots and their tokens, sessions. Units of work over one connection."""

from __future__ import annotations

import time
from collections.abc import Sequence

from sqlalchemy import Connection, delete, func, insert, select, update

from hubbub.model import SessionRecord
from hubbub.store.tables import bots, sessions, users
from hubbub.store.work.sql import now_ms, upsert


# --- users
def touch_users(conn: Connection, names: Sequence[str]) -> None:
    """One statement for all of them, in name order (two workers' waves cannot deadlock)."""
    seen = now_ms()
    statement = upsert(conn, users).on_conflict_do_update(index_elements=["name"], set_={"seen_at": seen})
    conn.execute(statement, [{"name": name, "seen_at": seen} for name in sorted(set(names))])


def known_users(conn: Connection, names: Sequence[str]) -> set[str]:
    return set(conn.execute(select(users.c.name).where(users.c.name.in_(names))).scalars())


def like_prefix(prefix: str) -> str:
    """A LIKE pattern for names starting with the prefix, its own % and _ taken literally ('!' escapes)."""
    return prefix.replace("!", "!!").replace("%", "!%").replace("_", "!_") + "%"


def find_users(conn: Connection, prefix: str, limit: int) -> list[str]:
    name = users.c.name
    query = select(name).where(name.ilike(like_prefix(prefix), escape="!"))
    return list(conn.execute(query.order_by(func.lower(name), name).limit(limit)).scalars())


# --- bots
def add_bot(conn: Connection, name: str, token_hash: str) -> None:
    """A new bot, or a new token for a bot (the old one stops working) that is no longer revoked."""
    row = {"name": name, "token_hash": token_hash, "created_at": now_ms(), "revoked_at": None}
    statement = upsert(conn, bots).values(row)
    changed = {"token_hash": statement.excluded.token_hash, "created_at": statement.excluded.created_at}
    conn.execute(
        statement.on_conflict_do_update(index_elements=["name"], set_={**changed, "revoked_at": None})
    )


def revoke_bot(conn: Connection, name: str) -> bool:
    live = (bots.c.name == name, bots.c.revoked_at.is_(None))
    return conn.execute(update(bots).where(*live).values(revoked_at=now_ms())).rowcount > 0


def bot_for_token(conn: Connection, token_hash: str) -> str | None:
    live = (bots.c.token_hash == token_hash, bots.c.revoked_at.is_(None))
    return conn.execute(select(bots.c.name).where(*live)).scalar()


def all_bots(conn: Connection) -> list[tuple[str, bool]]:
    rows = conn.execute(select(bots.c.name, bots.c.revoked_at).order_by(bots.c.name))
    return [(str(name), revoked is not None) for name, revoked in rows]


# --- sessions
def create_session(conn: Connection, record: SessionRecord) -> None:
    row = {
        "id": record.id,
        "user": record.user,
        "expires_at": record.expires_at,
        "credential": record.credential,
        "admin": record.admin,
    }
    conn.execute(insert(sessions).values(row))
    # Housekeeping rides on logins: expired sessions never pile up.
    conn.execute(delete(sessions).where(sessions.c.expires_at < time.time()))


def get_session(conn: Connection, session_id: str) -> SessionRecord | None:
    s = sessions.c
    row = conn.execute(
        select(s.id, s.user, s.expires_at, s.credential, s.admin).where(s.id == session_id)
    ).first()
    if row is None or float(row.expires_at) < time.time():
        return None
    return SessionRecord(str(row.id), str(row.user), float(row.expires_at), row.credential, bool(row.admin))


def delete_session(conn: Connection, session_id: str) -> None:
    conn.execute(delete(sessions).where(sessions.c.id == session_id))
