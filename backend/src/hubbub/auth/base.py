"""What every auth mode does; one module per mode."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from hubbub.auth.names import NameError_, normal_name
from hubbub.settings import AuthMode


class AuthError(Exception):
    """Credentials were missing, invalid, expired or forged; the message is safe to show."""


@dataclass(frozen=True, slots=True)
class Identity:
    user: str
    session_id: str | None = None
    expires_at: float | None = None  # seconds since the epoch; None when it never expires
    # What the identity was made from, as a fingerprint (never the credential itself): a
    # session, or a socket, ends when that credential is removed or changed.
    credential: str | None = None
    # Admins may remove anyone from any room and archive any room (they do not read private
    # rooms or direct messages they are not in).
    admin: bool = False


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

    def is_current(self, identity: Identity) -> bool:
        """Whether the credential the identity was made from still stands: False once its
        token is removed, its password changed, or its user deleted."""
        ...

    def reload(self) -> bool:
        """Re-read the credentials if their source changed (a tokens or users file edited while
        the server runs); True when it did, so open sockets are checked again."""
        ...

    def configured_users(self) -> list[str]:
        """The users the configuration names (tokens, the users file): they can be invited
        before they first sign in. Empty where users come from elsewhere (none, jwt)."""
        ...


def admin_by_claim(claims: dict[str, object], claim: str | None, value: str) -> bool:
    """The admin claim (HUBBUB_JWT_ADMIN_CLAIM, HUBBUB_OIDC_ADMIN_CLAIM) is true, equals the
    admin value, or is a list that holds it (roles, groups)."""
    if claim is None:
        return False
    found = claims.get(claim)
    if isinstance(found, list):
        return value in found
    return found is True or found == value


def check_display_name(name: str | None) -> str:
    try:
        return normal_name(name)
    except NameError_ as exc:
        raise AuthError(str(exc)) from exc
