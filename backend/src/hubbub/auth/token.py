"""Auth mode token: static tokens, each mapped to a user name."""

from __future__ import annotations

import hashlib
import logging
from pathlib import Path

from hubbub.auth.base import AuthError, Identity, LoginRequest, check_display_name
from hubbub.auth.files import WatchedFile
from hubbub.logs import register_secret
from hubbub.settings import AuthMode

log = logging.getLogger("hubbub.auth")


def _digest(token: str) -> bytes:
    # Tokens are looked up by digest so the lookup's timing says nothing about the token.
    return hashlib.sha256(token.encode()).digest()


def fingerprint(digest: bytes) -> str:
    """What a session keeps of the token it was made from: enough to tell it again, not to use."""
    return hashlib.blake2b(digest, digest_size=16, person=b"hubbub-token").hexdigest()


def parse_tokens(mapping: dict[str, str], text: str | None, path: Path | None) -> dict[bytes, str]:
    """Tokens from the environment and from a file of 'token user' lines (# comments)."""
    pairs = dict(mapping)
    for number, raw in enumerate((text or "").splitlines(), start=1):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        token, _, user = line.partition(" ")
        if not user.strip():
            raise ValueError(f"{path}:{number}: expected 'token user'")
        pairs[token] = user.strip()
    table: dict[bytes, str] = {}
    for token, user in pairs.items():
        if len(token) < 8:
            raise ValueError("static tokens must be at least 8 characters long")
        table[_digest(token)] = check_display_name(user)
        register_secret(token)
    return table


def load_tokens(mapping: dict[str, str], path: Path | None) -> dict[bytes, str]:
    return parse_tokens(mapping, path.read_text() if path is not None else None, path)


class TokenAuth:
    mode = AuthMode.TOKEN

    def __init__(self, mapping: dict[str, str], path: Path | None) -> None:
        self._mapping = mapping
        self._file = WatchedFile(path) if path is not None else None
        self._tokens = load_tokens(mapping, path)
        self._users_by_fingerprint = {fingerprint(d): user for d, user in self._tokens.items()}

    def reload(self) -> bool:
        if self._file is None or not self._file.changed():
            return False
        try:
            self._tokens = parse_tokens(self._mapping, self._file.read(), self._file.path)
        except (ValueError, AuthError) as exc:
            # A file that is wrong keeps the tokens as they were, until it is fixed.
            log.error("tokens file not reloaded: %s", exc)
            return False
        self._users_by_fingerprint = {fingerprint(d): user for d, user in self._tokens.items()}
        return True

    async def login(self, request: LoginRequest) -> Identity:
        return await self.verify_bearer(request.token or "")

    async def verify_bearer(self, credential: str) -> Identity:
        self.reload()
        digest = _digest(credential)
        user = self._tokens.get(digest)
        if user is None:
            raise AuthError("unknown token")
        return Identity(user=user, credential=fingerprint(digest))

    def is_current(self, identity: Identity) -> bool:
        return (
            identity.credential is not None
            and self._users_by_fingerprint.get(identity.credential) == identity.user
        )
