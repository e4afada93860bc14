"""Auth mode none: anyone may chat under a display name of their choosing."""

from __future__ import annotations

from hubbub.auth.base import AuthError, Identity, LoginRequest
from hubbub.auth.names import NameError_, chosen_name
from hubbub.settings import AuthMode


class NoAuth:
    mode = AuthMode.NONE

    async def login(self, request: LoginRequest) -> Identity:
        try:
            return Identity(user=chosen_name(request.name or request.username))
        except NameError_ as exc:
            raise AuthError(str(exc)) from exc

    async def verify_bearer(self, credential: str) -> Identity:
        raise AuthError("auth mode none takes no tokens; pass ?name= instead")

    def is_current(self, identity: Identity) -> bool:
        return True

    def reload(self) -> bool:
        return False

    def configured_users(self) -> list[str]:
        return []
