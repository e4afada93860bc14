"""Auth mode password: accounts with argon2 hashes in the database. The users file (name:hash
lines, `hubbub add-user --users-file` writes one) is adopted into it (people/accounts.py)."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING

from hubbub.auth import passwords
from hubbub.auth.base import AuthError, Identity, LoginRequest, check_display_name
from hubbub.model import ProfileRuleError
from hubbub.settings import AuthMode

if TYPE_CHECKING:
    from hubbub.people.accounts import Accounts


def parse_users(text: str | None, path: Path) -> dict[str, str]:
    """name -> its line after the name: 'argon2 hash' or 'argon2 hash:admin'."""
    users: dict[str, str] = {}
    for number, raw in enumerate((text or "").splitlines(), start=1):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        name, sep, entry = line.partition(":")
        hashed, _, role = entry.partition(":")
        if not sep or not hashed.startswith("$argon2") or role not in ("", "admin"):
            raise ValueError(f"{path}:{number}: expected 'name:$argon2...' or 'name:$argon2...:admin'")
        users[name] = entry
    return users


def read_users(path: Path) -> dict[str, str]:
    return parse_users(path.read_text() if path.exists() else None, path)


def _write_users(path: Path, users: dict[str, str]) -> None:
    """Atomically, so that a running server never reads half a file."""
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)  # as the server makes it: its own only
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".users-")
    with os.fdopen(fd, "w") as out:
        out.writelines(f"{user}:{entry}\n" for user, entry in sorted(users.items()))
    os.chmod(tmp, 0o600)
    os.replace(tmp, path)


def checked_user(name: str, password: str, min_length: int) -> str:
    """The name, if it and the password pass the rules for a new password; AuthError else."""
    name = check_display_name(name)
    if ":" in name:
        raise AuthError("user names cannot contain ':'")
    try:
        passwords.check_password(password, name, min_length)
    except ProfileRuleError as exc:
        raise AuthError(str(exc)) from exc
    return name


def add_user(
    path: Path,
    name: str,
    password: str,
    *,
    must_exist: bool = False,
    admin: bool | None = None,
    min_length: int = 10,
) -> None:
    """Add or replace a user in a users file (with must_exist, only replace: a password
    change). ``admin`` None keeps the user's role as it was (a new user is not an admin)."""
    name = checked_user(name, password, min_length)
    users = read_users(path)
    if must_exist and name not in users:
        raise AuthError(f"no user named {name!r}")
    if admin is None:
        admin = users.get(name, "").endswith(":admin")
    users[name] = passwords.hash_password(password) + (":admin" if admin else "")
    _write_users(path, users)


def delete_user(path: Path, name: str) -> None:
    users = read_users(path)
    if users.pop(name, None) is None:
        raise AuthError(f"no user named {name!r}")
    _write_users(path, users)


class PasswordAuth:
    """Password users are accounts in the database (hubbub/people/accounts.py): made by the
    first-run screen, invitations, `hubbub add-user`, or adopted from the users file."""

    mode = AuthMode.PASSWORD

    def __init__(self, accounts: Accounts) -> None:
        self._accounts = accounts

    def reload(self) -> bool:
        return False  # the accounts follow the database, and adopt the users file (Runtime)

    def configured_users(self) -> list[str]:
        return []  # every account is in the database already

    async def login(self, request: LoginRequest) -> Identity:
        return await self._accounts.check_password(request.username or "", request.password or "")

    async def verify_bearer(self, credential: str) -> Identity:
        raise AuthError("auth mode password takes no tokens: log in for a session cookie")

    def is_current(self, identity: Identity) -> bool:
        return self._accounts.current(identity)
