"""Accounts, invitations and the audit log: units of work over one connection.

Every change to an account (created, password, role, deactivation) first bumps the "accounts"
counter. That one UPDATE takes the counter's row lock (PostgreSQL; SQLite writes one at a time
anyway), so account changes are serialized: of two first-runs one finds the other's admin, of
two invitees picking lookalike names the second sees the first's, of two admins demoting each
other the second finds no other admin. The row gets the new number as its ``version``, which
is how workers read what changed since they last looked.
"""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import Connection, and_, bindparam, delete, exists, func, insert, literal, select, update

from hubbub.model import (
    AccountState,
    AuditEntry,
    BotRecord,
    Clash,
    Invite,
    InviteUnusableError,
    LastAdminError,
    NameUnavailableError,
    SetupDoneError,
    UnknownUserError,
    UserRecord,
)
from hubbub.store.tables import audit, bots, counters, invites, sessions, users
from hubbub.store.work.sql import Statement, now_ms, run

u, c, i, a, b = users.c, counters.c, invites.c, audit.c, bots.c


BUMP = Statement(
    update(counters).where(c.name == literal("accounts")).values(value=c.value + 1).returning(c.value)
)
VERSION = Statement(select(c.value).where(c.name == literal("accounts")))
_not_bot = ~exists().where(b.name == u.name)
_active = u.deactivated_at.is_(None)
_state_columns = (u.name, u.password_hash, u.admin, u.deactivated_at, u.version)
STATES_SINCE = Statement(select(*_state_columns).where(u.version > bindparam("since")).order_by(u.version))
STATE = Statement(select(*_state_columns).where(u.name == bindparam("name")))
ALL_NAMES = Statement(select(u.name, u.display_name))
HAS_PASSWORDS = Statement(select(literal(1)).where(u.password_hash.is_not(None)).limit(1))
NEW_USER = Statement(
    insert(users).values(
        {
            col: bindparam(col)
            for col in ("name", "seen_at", "created_at", "password_hash", "admin", "version")
        }
    )
)
SET_PASSWORD = Statement(
    update(users)
    .where(u.name == bindparam("name"))
    .values(
        password_hash=bindparam("password_hash"),
        admin=bindparam("admin"),
        deactivated_at=None,
        version=bindparam("version"),
    )
)
ADOPT = Statement(
    update(users)
    .where(u.name == bindparam("name"))
    .values(
        password_hash=bindparam("password_hash"),
        admin=bindparam("admin"),
        file_entry=bindparam("file_entry"),
        deactivated_at=None,
        version=bindparam("version"),
    )
)
NEW_ADOPTED = Statement(
    insert(users).values(
        {
            col: bindparam(col)
            for col in ("name", "seen_at", "created_at", "password_hash", "admin", "file_entry", "version")
        }
    )
)
ADOPTED = Statement(select(u.name, u.file_entry).where(u.file_entry.is_not(None)))
DROP_ADOPTED = Statement(
    update(users)
    .where(u.name == bindparam("name"))
    .values(password_hash=None, file_entry=None, deactivated_at=bindparam("at"), version=bindparam("version"))
)
SET_ADMIN = Statement(
    update(users)
    .where(u.name == bindparam("name"))
    .values(admin=bindparam("admin"), version=bindparam("version"))
)
SET_DEACTIVATED = Statement(
    update(users)
    .where(u.name == bindparam("name"))
    .values(deactivated_at=bindparam("at"), version=bindparam("version"))
)
OTHER_ADMINS = Statement(select(func.count()).where(u.admin, _active, u.name != bindparam("name"), _not_bot))
END_SESSIONS = Statement(delete(sessions).where(sessions.c.user == bindparam("name")))
LISTING = Statement(
    select(u.name, u.display_name, u.admin, u.deactivated_at, u.seen_at, u.password_hash.is_not(None))
    .where(_not_bot)
    .order_by(func.lower(u.name), u.name)
)
BOT_NAMED = Statement(select(b.name).where(b.name == bindparam("name")))
TOUCH = Statement(
    upsert=lambda insert: (
        insert(users).values(name=bindparam("name"), seen_at=bindparam("at")).on_conflict_do_nothing()
    )
)


def _bump(conn: Connection) -> int:
    return int(run(conn, BUMP).scalar())


def _state(row: Sequence[object]) -> AccountState:
    name, password_hash, admin, deactivated_at, version = row
    return AccountState(
        str(name),
        None if password_hash is None else str(password_hash),
        bool(admin),
        deactivated_at is not None,
        int(version),  # type: ignore[call-overload]
    )


def accounts_version(conn: Connection) -> int:
    return int(run(conn, VERSION).scalar() or 0)


def account_states(conn: Connection, since: int) -> list[AccountState]:
    return [_state(row) for row in run(conn, STATES_SINCE, since=since).rows]


def account(conn: Connection, name: str) -> AccountState | None:
    row = run(conn, STATE, name=name).first()
    return None if row is None else _state(row)


def has_passwords(conn: Connection) -> bool:
    return run(conn, HAS_PASSWORDS).first() is not None


def _check_name(conn: Connection, name: str, clash: Clash) -> None:
    taken = {str(x) for row in run(conn, ALL_NAMES).rows for x in row if x}
    if name in taken:
        raise NameUnavailableError("that name is taken; pick another")
    why = clash(taken)
    if why is not None:
        raise NameUnavailableError(why)


USE_INVITE = Statement(
    update(invites)
    .where(
        i.token_hash == bindparam("token_hash"),
        i.revoked_at.is_(None),
        i.used < i.uses,
        i.expires_at > bindparam("now"),
    )
    .values(used=i.used + 1)
)


def create_account(
    conn: Connection,
    name: str,
    password_hash: str,
    *,
    admin: bool,
    clash: Clash,
    invite_hash: str | None = None,
    first: bool = False,
) -> AccountState:
    """A new password account, made through an invitation (whose use it spends) or as the
    server's first (only while no account has a password). Raises InviteUnusableError,
    SetupDoneError, NameUnavailableError; nothing is written then."""
    version = _bump(conn)
    now = now_ms()
    if invite_hash is not None and run(conn, USE_INVITE, token_hash=invite_hash, now=now).rowcount != 1:
        raise InviteUnusableError
    if first and has_passwords(conn):
        raise SetupDoneError
    _check_name(conn, name, clash)
    run(
        conn,
        NEW_USER,
        name=name,
        seen_at=now,
        created_at=now,
        password_hash=password_hash,
        admin=admin,
        version=version,
    )
    return AccountState(name, password_hash, admin, False, version)


def set_password(
    conn: Connection, name: str, password_hash: str, *, create: bool, admin: bool | None
) -> bool:
    """The account's password (and role, unless None), reactivating it; with ``create``, the
    account is made if missing. False when it is missing and not to be made."""
    version = _bump(conn)
    found = account(conn, name)
    if found is None:
        if not create:
            return False
        now = now_ms()
        run(conn, TOUCH, name=name, at=now)
    keep = found.admin if found is not None else False
    run(
        conn,
        SET_PASSWORD,
        name=name,
        password_hash=password_hash,
        admin=keep if admin is None else admin,
        version=version,
    )
    return True


def adopt(conn: Connection, entries: dict[str, tuple[str, bool, str]]) -> list[str]:
    """The users file, ``name -> (hash, admin, fingerprint of its line)``: every line new or
    changed since it was last adopted is written in (the database's later changes to a line
    left alone stand); an account adopted from a line that is gone loses its password and is
    deactivated. Returns the names changed."""
    adopted = {str(name): str(entry) for name, entry in run(conn, ADOPTED).rows}
    changed = [n for n, (_h, _adm, fp) in entries.items() if adopted.get(n) != fp]
    gone = [n for n in adopted if n not in entries]
    if not changed and not gone:
        return []
    version = _bump(conn)
    now = now_ms()
    for name in changed:
        password_hash, admin, fingerprint = entries[name]
        params = {
            "name": name,
            "password_hash": password_hash,
            "admin": admin,
            "file_entry": fingerprint,
            "version": version,
        }
        if run(conn, ADOPT, **params).rowcount == 0:
            run(conn, NEW_ADOPTED, **params, seen_at=now, created_at=now)
    for name in gone:
        run(conn, DROP_ADOPTED, name=name, at=now, version=version)
        run(conn, END_SESSIONS, name=name)
    return sorted([*changed, *gone])


def _existing(conn: Connection, name: str) -> AccountState:
    found = account(conn, name)
    if found is None or run(conn, BOT_NAMED, name=name).rows:
        raise UnknownUserError([name])
    return found


def set_admin(conn: Connection, name: str, admin: bool) -> AccountState | None:
    """Make the user an admin, or no longer; None when nothing changed. Raises UnknownUserError,
    LastAdminError (the last active admin stays one)."""
    version = _bump(conn)
    found = _existing(conn, name)
    if found.admin == admin:
        return None
    if not admin and not found.deactivated and not run(conn, OTHER_ADMINS, name=name).scalar():
        raise LastAdminError
    run(conn, SET_ADMIN, name=name, admin=admin, version=version)
    return AccountState(name, found.password_hash, admin, found.deactivated, version)


def record_role(conn: Connection, name: str, admin: bool) -> bool:
    """The role a credential carries (token grants, a provider's claim), kept for the admin
    page; True when it differed."""
    found = account(conn, name)
    if found is None or found.admin == admin:
        return False
    run(conn, SET_ADMIN, name=name, admin=admin, version=_bump(conn))
    return True


def set_deactivated(conn: Connection, name: str, deactivated: bool) -> AccountState | None:
    """Deactivate (every session ends with it) or reactivate; None when it was so already.
    Raises UnknownUserError, LastAdminError (the last active admin stays active)."""
    version = _bump(conn)
    found = _existing(conn, name)
    if found.deactivated == deactivated:
        return None
    if deactivated and found.admin and not run(conn, OTHER_ADMINS, name=name).scalar():
        raise LastAdminError
    run(conn, SET_DEACTIVATED, name=name, at=now_ms() if deactivated else None, version=version)
    if deactivated:
        run(conn, END_SESSIONS, name=name)
    return AccountState(name, found.password_hash, found.admin, deactivated, version)


def listing(conn: Connection) -> list[UserRecord]:
    return [
        UserRecord(str(name), str(shown), bool(admin), deactivated is not None, int(seen), bool(password))
        for name, shown, admin, deactivated, seen, password in run(conn, LISTING).rows
    ]


# --- invitations
NEW_INVITE = Statement(
    insert(invites).values(
        {
            col: bindparam(col)
            for col in ("id", "token_hash", "created_by", "created_at", "expires_at", "uses")
        }
    )
)
_open = and_(i.revoked_at.is_(None), i.used < i.uses, i.expires_at > bindparam("now"))
OPEN_INVITES = Statement(
    select(i.id, i.created_by, i.created_at, i.expires_at, i.uses, i.used)
    .where(_open)
    .order_by(i.created_at, i.id)
)
REVOKE_INVITE = Statement(
    update(invites)
    .where((i.id == bindparam("id")) | (i.token_hash == bindparam("token_hash")), _open)
    .values(revoked_at=bindparam("now"))
)


def create_invite(
    conn: Connection, invite_id: str, token_hash: str, created_by: str, expires_at: int, uses: int
) -> Invite:
    now = now_ms()
    run(
        conn,
        NEW_INVITE,
        id=invite_id,
        token_hash=token_hash,
        created_by=created_by,
        created_at=now,
        expires_at=expires_at,
        uses=uses,
    )
    return Invite(invite_id, created_by, now, expires_at, uses, 0)


def open_invites(conn: Connection) -> list[Invite]:
    return [
        Invite(str(iid), str(by), int(at), int(until), int(uses), int(used))
        for iid, by, at, until, uses, used in run(conn, OPEN_INVITES, now=now_ms()).rows
    ]


def revoke_invite(conn: Connection, invite_id: str | None, token_hash: str | None) -> bool:
    """An open invitation, by its id or its token's hash, can no longer be used."""
    return bool(run(conn, REVOKE_INVITE, id=invite_id, token_hash=token_hash, now=now_ms()).rowcount > 0)


# --- the audit log
RECORD = Statement(
    insert(audit).values(
        {col: bindparam(col) for col in ("at", "actor", "action", "target", "detail", "address")}
    )
)
LOG = Statement(
    select(a.id, a.at, a.actor, a.action, a.target, a.detail, a.address)
    .where(a.id < bindparam("before"))
    .order_by(a.id.desc())
    .limit(bindparam("limit"))
)


def record(conn: Connection, actor: str, action: str, target: str, detail: str, address: str) -> None:
    run(conn, RECORD, at=now_ms(), actor=actor, action=action, target=target, detail=detail, address=address)


def audit_log(conn: Connection, before: int | None, limit: int) -> list[AuditEntry]:
    """Newest first."""
    rows = run(conn, LOG, before=before if before is not None else 2**62, limit=limit).rows
    return [
        AuditEntry(int(e), int(at), str(w), str(x), str(t), str(d), str(ad)) for e, at, w, x, t, d, ad in rows
    ]


# --- bots, as the admin page sees them
BOT_LIST = Statement(select(b.name, b.revoked_at, b.created_at).order_by(b.name))
ROTATE = Statement(
    update(bots)
    .where(b.name == bindparam("name"))
    .values(token_hash=bindparam("token_hash"), revoked_at=None)
)
NEW_BOT = Statement(
    insert(bots).values(
        name=bindparam("name"), token_hash=bindparam("token_hash"), created_at=bindparam("at")
    )
)


def bot_list(conn: Connection) -> list[BotRecord]:
    return [BotRecord(str(n), r is not None, int(at)) for n, r, at in run(conn, BOT_LIST).rows]


def create_bot(conn: Connection, name: str, token_hash: str, clash: Clash) -> None:
    """A new bot; NameUnavailableError when a bot or a user has the name, or one like it."""
    _bump(conn)  # serialized with accounts being made: a bot and a user cannot take one name
    _check_name(conn, name, clash)
    if run(conn, BOT_NAMED, name=name).rows:
        raise NameUnavailableError("that name is taken; pick another")
    now = now_ms()
    run(conn, NEW_BOT, name=name, token_hash=token_hash, at=now)
    run(conn, TOUCH, name=name, at=now)


def rotate_bot(conn: Connection, name: str, token_hash: str) -> bool:
    """A new token for the bot (the old one stops working; a revoked bot works again)."""
    return bool(run(conn, ROTATE, name=name, token_hash=token_hash).rowcount == 1)
