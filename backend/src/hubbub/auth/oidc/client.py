"""Hubbub as the provider's client (the relying party): the authorization request (code flow,
PKCE S256, state, nonce), redeeming the code at the token endpoint, the ID token's checks, the
userinfo claims, and the end-session URL. Authlib speaks OAuth 2.0 (AsyncOAuth2Client, over
httpx2); what is Hubbub's own is which checks must hold and what each failure is called.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from typing import Any
from urllib.parse import urlencode

import httpx2
from authlib.integrations.base_client import OAuthError
from authlib.integrations.httpx_client import AsyncOAuth2Client

from hubbub.auth.oidc.account import SignInRefusedError
from hubbub.auth.oidc.flow import Flow
from hubbub.auth.oidc.provider import Metadata, Provider, ProviderUnreachableError
from hubbub.auth.oidc.tokens import TokenError, check_id_token, key_id
from hubbub.contract.rest import SignInError
from hubbub.logs import register_secret
from hubbub.settings import Settings

log = logging.getLogger("hubbub.auth")


def _auth_method(secret: str | None, supported: tuple[str, ...]) -> str:
    if secret is None:
        return "none"  # a public client: PKCE alone proves the code is ours
    if "client_secret_basic" in supported or "client_secret_post" not in supported:
        return "client_secret_basic"
    return "client_secret_post"


class RelyingParty:
    def __init__(
        self,
        settings: Settings,
        provider: Provider,
        timeout: float,
        clock: Callable[[], float] = time.time,
    ) -> None:
        assert settings.oidc_client_id is not None
        self.provider = provider
        self.client_id = settings.oidc_client_id
        self._secret = settings.oidc_client_secret.get_secret_value() if settings.oidc_client_secret else None
        register_secret(self._secret)
        self._scopes = settings.oidc_scopes
        self._timeout = timeout
        self._clock = clock

    def _client(self, metadata: Metadata) -> AsyncOAuth2Client:
        return AsyncOAuth2Client(
            client_id=self.client_id,
            client_secret=self._secret,
            token_endpoint_auth_method=_auth_method(self._secret, metadata.token_endpoint_auth_methods),
            scope=self._scopes,
            code_challenge_method="S256",
            timeout=self._timeout,
        )

    async def authorization_url(self, flow: Flow) -> str:
        """Where the browser goes to sign in; raises ProviderUnreachableError."""
        metadata = await self.provider.metadata()
        async with self._client(metadata) as client:
            url, _state = client.create_authorization_url(
                metadata.authorization_endpoint,
                state=flow.state,
                code_verifier=flow.verifier,
                nonce=flow.nonce,
                redirect_uri=flow.redirect_uri,
            )
        return str(url)

    async def redeem(self, flow: Flow, code: str) -> dict[str, Any]:
        """The code for tokens; the claims of the checked ID token, with the userinfo
        endpoint's beside them. Raises SignInRefusedError."""
        try:
            metadata = await self.provider.metadata()
            async with self._client(metadata) as client:
                token = await client.fetch_token(
                    metadata.token_endpoint,
                    grant_type="authorization_code",
                    code=code,
                    code_verifier=flow.verifier,
                    redirect_uri=flow.redirect_uri,
                )
                id_token = token.get("id_token")
                access_token = token.get("access_token")
                if not isinstance(id_token, str):
                    raise SignInRefusedError(SignInError.INVALID_TOKEN, "the token response has no ID token")
                claims = await self._checked(id_token, flow, access_token, metadata)
                if metadata.userinfo_endpoint and isinstance(access_token, str):
                    claims = {
                        **await self._userinfo(client, metadata.userinfo_endpoint, access_token, claims),
                        **claims,
                    }
        except ProviderUnreachableError as exc:
            raise SignInRefusedError(SignInError.UNREACHABLE, str(exc)) from exc
        except httpx2.HTTPStatusError as exc:
            code_ = SignInError.UNREACHABLE if exc.response.status_code >= 500 else SignInError.PROVIDER_ERROR
            raise SignInRefusedError(code_, f"token endpoint: HTTP {exc.response.status_code}") from exc
        except httpx2.HTTPError as exc:
            raise SignInRefusedError(SignInError.UNREACHABLE, f"{type(exc).__name__}: {exc}") from exc
        except OAuthError as exc:
            raise SignInRefusedError(
                SignInError.PROVIDER_ERROR, f"token endpoint refused the code: {exc.error}"
            ) from exc
        return claims

    async def _checked(
        self, id_token: str, flow: Flow, access_token: object, metadata: Metadata
    ) -> dict[str, Any]:
        try:
            keys = await self.provider.keys(key_id(id_token), trusted=True)
            return check_id_token(
                id_token,
                keys,
                issuer=metadata.issuer,
                client_id=self.client_id,
                nonce=flow.nonce,
                access_token=access_token if isinstance(access_token, str) else None,
                started_at=flow.started_at,
                now=self._clock(),
            )
        except TokenError as exc:
            raise SignInRefusedError(SignInError.INVALID_TOKEN, str(exc)) from exc

    async def _userinfo(
        self, client: AsyncOAuth2Client, url: str, access_token: str, id_claims: dict[str, Any]
    ) -> dict[str, Any]:
        """Claims the ID token may leave out (a provider that keeps the profile to userinfo)."""
        answer = await client.request(
            "GET", url, headers={"authorization": f"Bearer {access_token}"}, withhold_token=True
        )
        answer.raise_for_status()
        try:
            info = answer.json()
        except ValueError as exc:
            raise SignInRefusedError(SignInError.PROVIDER_ERROR, "userinfo is not JSON") from exc
        if not isinstance(info, dict):
            raise SignInRefusedError(SignInError.PROVIDER_ERROR, "userinfo is not a JSON object")
        # OpenID Connect Core 1.0, 5.3.2: the answer is about the ID token's user, or ignored.
        if info.get("sub") != id_claims.get("sub"):
            raise SignInRefusedError(SignInError.INVALID_TOKEN, "userinfo is about another subject")
        return info

    async def end_session_url(self, post_logout_redirect_uri: str) -> str | None:
        """Where the browser goes to sign out at the provider too (RP-Initiated Logout 1.0), or
        None when the provider has no such endpoint or cannot be reached."""
        try:
            metadata = await self.provider.metadata()
        except ProviderUnreachableError as exc:
            log.warning("sign-out at the identity provider skipped: %s", exc)
            return None
        if metadata.end_session_endpoint is None:
            return None
        # client_id, not id_token_hint: Hubbub keeps no ID token, and the provider asks the
        # user to confirm (a page elsewhere cannot sign anyone out of the provider through us).
        query = urlencode({"client_id": self.client_id, "post_logout_redirect_uri": post_logout_redirect_uri})
        separator = "&" if "?" in metadata.end_session_endpoint else "?"
        return f"{metadata.end_session_endpoint}{separator}{query}"
