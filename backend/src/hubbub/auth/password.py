"""Auth mode password: a users file of argon2 hashes; `hubbub add-user`, `passwd` and
`del-user` write it, and a running server follows."""

from __future__ import annotations

import asyncio
import hashlib
import logging
import os
import tempfile
from pathlib import Path

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from hubbub.auth.base import AuthError, Identity, LoginRequest, check_display_name
from hubbub.auth.files import WatchedFile
from hubbub.settings import AuthMode

log = logging.getLogger("hubbub.auth")
_hasher = PasswordHasher()
# Verifying against this for unknown users keeps the response time from telling who exists.
_DUMMY_HASH = _hasher.hash("hubbub-dummy-password")


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


def add_user(
    path: Path, name: str, password: str, *, must_exist: bool = False, admin: bool | None = None
) -> None:
    """Add or replace a user (with must_exist, only replace: a password change). ``admin``
    None keeps the user's role as it was (a new user is not an admin)."""
    name = check_display_name(name)
    if ":" in name:
        raise AuthError("user names cannot contain ':'")
    if len(password) < 8:
        raise AuthError("passwords must be at least 8 characters long")
    users = read_users(path)
    if must_exist and name not in users:
        raise AuthError(f"no user named {name!r}")
    if admin is None:
        admin = users.get(name, "").endswith(":admin")
    users[name] = _hasher.hash(password) + (":admin" if admin else "")
    _write_users(path, users)


def delete_user(path: Path, name: str) -> None:
    users = read_users(path)
    if users.pop(name, None) is None:
        raise AuthError(f"no user named {name!r}")
    _write_users(path, users)


def fingerprint(entry: str) -> str:
    """What a session keeps of the password it was made from: the digest of its hash and role,
    which changes with every new password (argon2 salts each hash) and every change of role."""
    return hashlib.blake2b(entry.encode(), digest_size=16, person=b"hubbub-passwd").hexdigest()


class PasswordAuth:
    mode = AuthMode.PASSWORD

    def __init__(self, users_file: Path) -> None:
        self._file = WatchedFile(users_file)
        self._users = read_users(users_file)

    def reload(self) -> bool:
        # Re-read when the file changes so `hubbub add-user` takes effect without a restart.
        if not self._file.changed():
            return False
        try:
            self._users = parse_users(self._file.read(), self._file.path)
        except ValueError as exc:
            # A file that is wrong keeps the users as they were, until it is fixed.
            log.error("users file not reloaded: %s", exc)
            return False
        return True

    def configured_users(self) -> list[str]:
        return sorted(self._users)

    async def login(self, request: LoginRequest) -> Identity:
        self.reload()
        name = request.username or ""
        entry = self._users.get(name)
        hashed = entry.partition(":")[0] if entry is not None else None
        try:
            # argon2 is deliberately slow: off the event loop so other users are not held up.
            await asyncio.to_thread(_hasher.verify, hashed or _DUMMY_HASH, request.password or "")
        except (VerificationError, InvalidHashError) as exc:
            raise AuthError("wrong user name or password") from exc
        if entry is None:
            raise AuthError("wrong user name or password")
        return Identity(user=name, credential=fingerprint(entry), admin=entry.endswith(":admin"))

    async def verify_bearer(self, credential: str) -> Identity:
        raise AuthError("auth mode password takes no tokens: log in for a session cookie")

    def is_current(self, identity: Identity) -> bool:
        entry = self._users.get(identity.user)
        return entry is not None and identity.credential == fingerprint(entry)
