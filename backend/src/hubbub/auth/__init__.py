"""Configurable auth: one Authenticator per mode, plus store-backed session cookies."""

from __future__ import annotations

from typing import TYPE_CHECKING

from hubbub.auth.base import Authenticator, AuthError, Identity, LoginRequest
from hubbub.settings import AuthMode, Settings

if TYPE_CHECKING:
    from hubbub.people.accounts import Accounts
    from hubbub.store import Store

__all__ = ["AuthError", "Authenticator", "Identity", "LoginRequest", "create_authenticator"]


def create_authenticator(
    settings: Settings, accounts: Accounts, store: Store | None = None, secret_key: str = ""
) -> Authenticator:
    """The mode's authenticator; password needs the accounts (kept in the database), oidc the
    store (identities bound to names) and the secret key (sign-ins under way are signed)."""
    if settings.auth is AuthMode.NONE:
        from hubbub.auth.none import NoAuth

        return NoAuth()
    if settings.auth is AuthMode.TOKEN:
        from hubbub.auth.token import TokenAuth

        return TokenAuth(settings.tokens, settings.tokens_file)
    if settings.auth is AuthMode.JWT:
        from hubbub.auth.jwt import JwtAuth

        return JwtAuth(settings)
    if settings.auth is AuthMode.OIDC:
        from hubbub.auth.oidc import OidcAuth

        assert store is not None
        assert secret_key
        return OidcAuth(settings, store, secret_key)
    if settings.auth is AuthMode.PROXY:
        from hubbub.auth.proxy import ProxyAuth

        return ProxyAuth(settings.proxy_user_header)
    from hubbub.auth.password import PasswordAuth

    return PasswordAuth(accounts)
