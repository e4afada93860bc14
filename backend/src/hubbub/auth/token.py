"""Auth mode token: static tokens, each mapped to a user name."""

from __future__ import annotations

import hashlib
from pathlib import Path

from hubbub.auth.base import AuthError, Identity, LoginRequest, check_display_name
from hubbub.settings import AuthMode


def _digest(token: str) -> bytes:
    # Tokens are looked up by digest so the lookup's timing says nothing about the token.
    return hashlib.sha256(token.encode()).digest()


def load_tokens(mapping: dict[str, str], path: Path | None) -> dict[bytes, str]:
    """Tokens from the environment and from a file of 'token user' lines (# comments)."""
    pairs = dict(mapping)
    if path is not None:
        for number, raw in enumerate(path.read_text().splitlines(), start=1):
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
    return table


class TokenAuth:
    mode = AuthMode.TOKEN

    def __init__(self, tokens: dict[bytes, str]) -> None:
        self._tokens = tokens

    async def login(self, request: LoginRequest) -> Identity:
        return await self.verify_bearer(request.token or "")

    async def verify_bearer(self, credential: str) -> Identity:
        user = self._tokens.get(_digest(credential))
        if user is None:
            raise AuthError("unknown token")
        return Identity(user=user)
