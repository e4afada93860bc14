"""Auth mode oidc: accounts of identity providers bound to user names, and each sign-in's state
used once. Units of work over one connection."""

from __future__ import annotations

import time

from sqlalchemy import Connection, bindparam, delete, select

from hubbub.store.tables import identities, oidc_states
from hubbub.store.work.sql import Statement, now_ms, run

i, st = identities.c, oidc_states.c

BOUND = Statement(select(i.user).where(i.issuer == bindparam("issuer"), i.subject == bindparam("subject")))
# Nothing when the account, its name or what its name looks like is bound already: the
# conflict is on any of the three unique keys, so two sign-ins at once cannot both win.
BIND = Statement(
    upsert=lambda insert: (
        insert(identities)
        .values(
            issuer=bindparam("issuer"),
            subject=bindparam("subject"),
            user=bindparam("user"),
            skeleton=bindparam("skeleton"),
            created_at=bindparam("at"),
        )
        .on_conflict_do_nothing()
    )
)
USE_STATE = Statement(
    upsert=lambda insert: (
        insert(oidc_states)
        .values(digest=bindparam("digest"), expires_at=bindparam("expires_at"))
        .on_conflict_do_nothing()
    )
)
STALE_STATES = Statement(delete(oidc_states).where(st.expires_at < bindparam("now")))


def bound_user(conn: Connection, issuer: str, subject: str) -> str | None:
    name = run(conn, BOUND, issuer=issuer, subject=subject).scalar()
    return None if name is None else str(name)


def bind_identity(conn: Connection, issuer: str, subject: str, user: str, skeleton: str) -> str | None:
    """The name the account is bound to: the one it had, else ``user`` if that name and its
    skeleton are free; None when they are not."""
    if (found := bound_user(conn, issuer, subject)) is not None:
        return found
    if run(conn, BIND, issuer=issuer, subject=subject, user=user, skeleton=skeleton, at=now_ms()).rowcount:
        return user
    return bound_user(conn, issuer, subject)  # None unless that very account won a race


def use_state(conn: Connection, digest: str, expires_at: float) -> bool:
    """True the first time; False when that state came back before."""
    run(conn, STALE_STATES, now=time.time())  # housekeeping rides on sign-ins
    return bool(run(conn, USE_STATE, digest=digest, expires_at=expires_at).rowcount)
