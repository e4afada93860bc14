"""Auth mode jwt: tokens signed with an HS* secret, an RS*/ES* public key, or keys from a JWKS URL."""

from __future__ import annotations

import asyncio

import jwt as pyjwt

from hubbub.auth.base import AuthError, Identity, LoginRequest, admin_by_claim
from hubbub.auth.names import NameError_, chosen_name
from hubbub.settings import AuthMode, Settings


class JwtAuth:
    mode = AuthMode.JWT

    def __init__(self, settings: Settings) -> None:
        self._algorithms = list(settings.jwt_algorithms)
        self._audience = settings.jwt_audience
        self._issuer = settings.jwt_issuer
        self._user_claim = settings.jwt_user_claim
        self._admin_claim = settings.jwt_admin_claim
        self._admin_value = settings.jwt_admin_value
        self._key: str | None = None
        self._jwks: pyjwt.PyJWKClient | None = None
        if settings.jwt_secret is not None:
            self._key = settings.jwt_secret.get_secret_value()
        elif settings.jwt_public_key is not None:
            self._key = settings.jwt_public_key
        elif settings.jwt_jwks_url is not None:
            self._jwks = pyjwt.PyJWKClient(settings.jwt_jwks_url, cache_keys=True, timeout=5)

    async def login(self, request: LoginRequest) -> Identity:
        return await self.verify_bearer(request.token or "")

    async def verify_bearer(self, credential: str) -> Identity:
        try:
            key: object = self._key
            if self._jwks is not None:
                # PyJWKClient fetches over blocking HTTP (cached afterwards): keep it off the loop.
                signing_key = await asyncio.to_thread(self._jwks.get_signing_key_from_jwt, credential)
                key = signing_key.key
            claims = pyjwt.decode(
                credential,
                key=key,  # type: ignore[arg-type]
                algorithms=self._algorithms,
                audience=self._audience,
                issuer=self._issuer,
                options={"require": ["exp"], "verify_aud": self._audience is not None},
                leeway=5,
            )
        except pyjwt.ExpiredSignatureError as exc:
            raise AuthError("token has expired") from exc
        except pyjwt.PyJWKClientError as exc:
            raise AuthError(f"no key to check the token: {exc}") from exc
        except pyjwt.InvalidTokenError as exc:
            raise AuthError(f"invalid token: {exc}") from exc
        user = claims.get(self._user_claim)
        if not isinstance(user, str):
            raise AuthError(f"token has no string claim {self._user_claim!r}")
        return Identity(user=self._user(user), expires_at=float(claims["exp"]), admin=self._is_admin(claims))

    def _user(self, claim: str) -> str:
        """The claim as it is, or AuthError: a value that is not already in normal form would be
        folded into another user's name (full-width letters, surrounding spaces), and one that
        mixes scripts passes for another's (a Cyrillic a among Latin letters)."""
        try:
            name = chosen_name(claim)
        except NameError_ as exc:
            raise AuthError(f"the token's {self._user_claim!r} claim is not a usable name: {exc}") from exc
        if name != claim:
            raise AuthError(
                f"the token's {self._user_claim!r} claim is not in normal form (NFKC, no spaces around)"
            )
        return name

    def _is_admin(self, claims: dict[str, object]) -> bool:
        return admin_by_claim(claims, self._admin_claim, self._admin_value)

    def is_current(self, identity: Identity) -> bool:
        return True  # a token stands until its exp, when the sockets it opened are closed

    def reload(self) -> bool:
        return False

    def configured_users(self) -> list[str]:
        return []
