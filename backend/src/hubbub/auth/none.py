"""Auth mode none: anyone may chat under a display name of their choosing."""

from __future__ import annotations

from hubbub.auth.base import AuthError, Identity, LoginRequest, check_display_name
from hubbub.settings import AuthMode


class NoAuth:
    mode = AuthMode.NONE

    async def login(self, request: LoginRequest) -> Identity:
        return Identity(user=check_display_name(request.name or request.username))

    async def verify_bearer(self, credential: str) -> Identity:
        raise AuthError("auth mode none takes no tokens; pass ?name= instead")
