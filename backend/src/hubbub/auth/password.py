"""Auth mode password: a users file of argon2 hashes; `hubbub add-user` writes it."""

from __future__ import annotations

import asyncio
import os
import tempfile
from pathlib import Path

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from hubbub.auth.base import AuthError, Identity, LoginRequest, check_display_name
from hubbub.settings import AuthMode

_hasher = PasswordHasher()
# Verifying against this for unknown users keeps the response time from telling who exists.
_DUMMY_HASH = _hasher.hash("hubbub-dummy-password")


def read_users(path: Path) -> dict[str, str]:
    users: dict[str, str] = {}
    if not path.exists():
        return users
    for number, raw in enumerate(path.read_text().splitlines(), start=1):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        name, sep, hashed = line.partition(":")
        if not sep or not hashed.startswith("$argon2"):
            raise ValueError(f"{path}:{number}: expected 'name:$argon2...'")
        users[name] = hashed
    return users


def add_user(path: Path, name: str, password: str) -> None:
    """Add or replace a user, writing the file atomically so a running server never reads half."""
    name = check_display_name(name)
    if ":" in name:
        raise AuthError("user names cannot contain ':'")
    if len(password) < 8:
        raise AuthError("passwords must be at least 8 characters long")
    users = read_users(path)
    users[name] = _hasher.hash(password)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".users-")
    with os.fdopen(fd, "w") as out:
        out.writelines(f"{user}:{hashed}\n" for user, hashed in sorted(users.items()))
    os.chmod(tmp, 0o600)
    os.replace(tmp, path)


class PasswordAuth:
    mode = AuthMode.PASSWORD

    def __init__(self, users_file: Path) -> None:
        self._path = users_file
        self._users: dict[str, str] = {}
        self._mtime: float | None = None

    def _current_users(self) -> dict[str, str]:
        # Re-read when the file changes so `hubbub add-user` takes effect without a restart.
        mtime = self._path.stat().st_mtime if self._path.exists() else None
        if mtime != self._mtime:
            self._users = read_users(self._path)
            self._mtime = mtime
        return self._users

    async def login(self, request: LoginRequest) -> Identity:
        name = request.username or ""
        hashed = self._current_users().get(name)
        try:
            # argon2 is deliberately slow: off the event loop so other users are not held up.
            await asyncio.to_thread(_hasher.verify, hashed or _DUMMY_HASH, request.password or "")
        except (VerificationError, InvalidHashError) as exc:
            raise AuthError("wrong user name or password") from exc
        if hashed is None:
            raise AuthError("wrong user name or password")
        return Identity(user=name)

    async def verify_bearer(self, credential: str) -> Identity:
        raise AuthError("auth mode password takes no tokens: log in for a session cookie")
