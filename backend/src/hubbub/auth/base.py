"""What every auth mode does; one module per mode."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Protocol

from hubbub.settings import AuthMode

DISPLAY_NAME_RE = re.compile(r"^[\w][\w .-]{0,31}$")


class AuthError(Exception):
    """Credentials were missing, invalid, expired or forged; the message is safe to show."""


@dataclass(frozen=True, slots=True)
class Identity:
    user: str
    session_id: str | None = None
    expires_at: float | None = None  # seconds since the epoch; None when it never expires


@dataclass(frozen=True, slots=True)
class LoginRequest:
    name: str | None = None
    token: str | None = None
    username: str | None = None
    password: str | None = None


class Authenticator(Protocol):
    mode: AuthMode

    async def login(self, request: LoginRequest) -> Identity:
        """Check what the login form sent; raise AuthError when it is not good."""
        ...

    async def verify_bearer(self, credential: str) -> Identity:
        """Check a token given on a WebSocket URL or Authorization header."""
        ...


def check_display_name(name: str | None) -> str:
    name = (name or "").strip()
    if not DISPLAY_NAME_RE.fullmatch(name):
        raise AuthError(
            "display name must be 1-32 letters, digits, spaces, '.', '_' or '-', "
            "starting with a letter or digit"
        )
    return name
