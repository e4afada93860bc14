"""Auth mode none: anyone may chat under a display name of their choosing."""

from __future__ import annotations

from hubbub.auth.base import AuthError, Identity, LoginRequest
from hubbub.auth.names import NameError_, NameIndex, chosen_name, passes_for
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


def name_refusal(name: str, online: NameIndex, bots: set[str], *, signing_in: bool) -> str | None:
    """Why, in this mode, the name may not be used now (safe to show); None when it may.

    A name is all that tells people apart here: it may not be, or pass for (the same letters
    after Unicode's confusables), a bot's name or the name of someone online. Signing in for a
    session refuses the exact name of someone online too; a socket's ``?name=`` (scripts,
    bots, tabs) may open several under one name. The login route and the WebSocket both ask here.
    """
    if signing_in and name in online:
        return "that name is in use right now"
    if name in bots or passes_for(name, bots) is not None:
        return "that name is a bot's"
    if online.passes_for(name) is not None:
        return "that name looks like the name of someone online"
    return None
