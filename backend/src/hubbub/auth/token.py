"""Auth mode token: static tokens, each mapped to a user name."""

from __future__ import annotations

import hashlib
import logging
from pathlib import Path

from hubbub.auth.base import AuthError, Identity, LoginRequest, check_display_name
from hubbub.auth.files import WatchedFile
from hubbub.logs import register_secret
from hubbub.settings import AuthMode, TokenGrant

log = logging.getLogger("hubbub.auth")


def _digest(token: str) -> bytes:
    # Tokens are looked up by digest so the lookup's timing says nothing about the token.
    return hashlib.sha256(token.encode()).digest()


def fingerprint(digest: bytes, admin: bool) -> str:
    """What a session keeps of the token it was made from: enough to tell it again, not to use.
    The role is part of it: a token made admin (or no longer) starts new sessions."""
    return hashlib.blake2b(digest + bytes([admin]), digest_size=16, person=b"hubbub-token").hexdigest()


Grant = tuple[str, bool]  # user, admin


def parse_tokens(mapping: dict[str, TokenGrant], text: str | None, path: Path | None) -> dict[bytes, Grant]:
    """Tokens from the environment and from a file of 'token user [admin]' lines (# comments)."""
    pairs: dict[str, Grant] = {token: (grant.user, grant.admin) for token, grant in mapping.items()}
    for number, raw in enumerate((text or "").splitlines(), start=1):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        token, user, *role = line.split()
        if not user or role not in ([], ["admin"]):
            raise ValueError(f"{path}:{number}: expected 'token user' or 'token user admin'")
        pairs[token] = (user, role == ["admin"])
    table: dict[bytes, Grant] = {}
    for token, (user, admin) in pairs.items():
        if len(token) < 8:
            raise ValueError("static tokens must be at least 8 characters long")
        table[_digest(token)] = (check_display_name(user), admin)
        register_secret(token)
    return table


def load_tokens(mapping: dict[str, TokenGrant], path: Path | None) -> dict[bytes, Grant]:
    return parse_tokens(mapping, path.read_text() if path is not None else None, path)


class TokenAuth:
    mode = AuthMode.TOKEN

    def __init__(self, mapping: dict[str, TokenGrant], path: Path | None) -> None:
        self._mapping = mapping
        self._file = WatchedFile(path) if path is not None else None
        self._tokens = load_tokens(mapping, path)
        self._users_by_fingerprint = {
            fingerprint(d, admin): user for d, (user, admin) in self._tokens.items()
        }

    def reload(self) -> bool:
        if self._file is None or not self._file.changed():
            return False
        try:
            self._tokens = parse_tokens(self._mapping, self._file.read(), self._file.path)
        except (ValueError, AuthError) as exc:
            # A file that is wrong keeps the tokens as they were, until it is fixed.
            log.error("tokens file not reloaded: %s", exc)
            return False
        self._users_by_fingerprint = {
            fingerprint(d, admin): user for d, (user, admin) in self._tokens.items()
        }
        return True

    def configured_users(self) -> list[str]:
        return sorted({user for user, _admin in self._tokens.values()})

    async def login(self, request: LoginRequest) -> Identity:
        return await self.verify_bearer(request.token or "")

    async def verify_bearer(self, credential: str) -> Identity:
        self.reload()
        digest = _digest(credential)
        grant = self._tokens.get(digest)
        if grant is None:
            raise AuthError("unknown token")
        user, admin = grant
        return Identity(user=user, credential=fingerprint(digest, admin), admin=admin)

    def is_current(self, identity: Identity) -> bool:
        return (
            identity.credential is not None
            and self._users_by_fingerprint.get(identity.credential) == identity.user
        )
