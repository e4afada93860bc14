"""Auth mode oidc: users sign in at the team's identity provider (OpenID Connect, code flow with
PKCE); Hubbub then gives them its own session cookie, as in every mode. docs/sso.md.

- provider.py  the provider's discovery document and keys, fetched, kept and refreshed
- flow.py      a sign-in under way, in a signed cookie of the browser that started it
- client.py    the authorization request, the code redeemed, the ID token checked (Authlib)
- tokens.py    which signatures and claims make an ID token (or a script's token) good
- account.py   who the claims say the user is here, and whether they may sign in

The routes are in routes/oidc.py. An account is bound to a name by its issuer and subject
(Store.bind_identity), never by its name: a second account with a taken name is refused.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable

import httpx2

from hubbub.auth.base import AuthError, Identity, LoginRequest, admin_by_claim
from hubbub.auth.names import passes_for, skeleton
from hubbub.auth.oidc.account import Account, SignInRefusedError, account_of
from hubbub.auth.oidc.client import RelyingParty
from hubbub.auth.oidc.flow import FLOW_SECONDS, Flow, Flows
from hubbub.auth.oidc.provider import Provider, ProviderUnreachableError
from hubbub.auth.oidc.tokens import TokenError, check_bearer, key_id
from hubbub.contract.rest import SignInError
from hubbub.settings import AuthMode, Settings
from hubbub.store import Store

__all__ = ["Account", "Flow", "OidcAuth", "ProviderUnreachableError", "SignInRefusedError"]

log = logging.getLogger("hubbub.auth")
TIMEOUT_SECONDS = 10.0  # each request to the provider


class OidcAuth:
    mode = AuthMode.OIDC

    def __init__(
        self, settings: Settings, store: Store, secret_key: str, clock: Callable[[], float] = time.time
    ) -> None:
        assert settings.oidc_issuer is not None
        assert settings.oidc_client_id is not None
        self.settings = settings
        self._store = store
        self._clock = clock
        self._http = httpx2.AsyncClient(timeout=TIMEOUT_SECONDS, follow_redirects=False)
        self.provider = Provider(settings.oidc_issuer, self._http)
        self.party = RelyingParty(settings, self.provider, TIMEOUT_SECONDS, clock)
        self.flows = Flows(secret_key, clock)

    async def warm(self) -> None:
        """Fetch the provider's discovery document and keys now, so the first sign-in does not
        wait for them; a provider that is down is said in the log, and tried again later."""
        try:
            await self.provider.metadata()
            await self.provider.keys(None, trusted=True)
        except ProviderUnreachableError as exc:
            log.warning(
                "identity provider %s not reachable (sign-ins will try again): %s", self.provider.issuer, exc
            )
            return
        log.info("identity provider %s ready", self.provider.issuer)

    async def close(self) -> None:
        await self._http.aclose()

    async def redeem(self, flow: Flow, code: str) -> Account:
        """The provider's code for the account it signed in; raises SignInRefusedError."""
        return account_of(await self.party.redeem(flow, code), self.settings)

    async def use(self, flow: Flow) -> None:
        """The sign-in's state, used: it comes back once (raises SignInRefusedError after)."""
        if not await self._store.use_sign_in_state(flow.state_digest, flow.started_at + FLOW_SECONDS):
            raise SignInRefusedError(SignInError.EXPIRED, "this sign-in came back before (a replay)")

    async def bind(self, account: Account, taken: set[str]) -> Identity:
        """The account's user: the name bound to it, else the one it asks for, bound now;
        raises SignInRefusedError when another account has that name (or one like it), or
        it is (or passes for) one of ``taken`` (bots' names, other people's display names)."""
        user = await self._store.bound_user(account.issuer, account.subject)
        if user is None:
            if account.name in taken or passes_for(account.name, taken) is not None:
                raise SignInRefusedError(
                    SignInError.NAME_TAKEN,
                    f"{account.name!r} is, or looks like, a bot's name or someone's display name",
                )
            user = await self._store.bind_identity(
                account.issuer, account.subject, account.name, skeleton(account.name)
            )
        if user is None:
            raise SignInRefusedError(
                SignInError.NAME_TAKEN,
                f"{account.name!r} (or a name like it) is bound to another account; "
                f"subject {account.subject[:64]!r} refused",
            )
        return Identity(user=user, admin=account.admin)

    # --- the Authenticator protocol
    async def login(self, request: LoginRequest) -> Identity:
        raise AuthError(f"sign in with {self.settings.oidc_name}: GET /api/auth/oidc/login")

    async def verify_bearer(self, credential: str) -> Identity:
        """A script's token: one the provider signed for Hubbub (its client id in ``aud``),
        for an account that has signed in to Hubbub before (and so has a name here)."""
        try:
            keys = await self.provider.keys(key_id(credential), trusted=False)
            claims = check_bearer(
                credential,
                keys,
                issuer=self.provider.issuer,
                audience=self.party.client_id,
                now=self._clock(),
            )
        except TokenError as exc:
            raise AuthError(f"invalid token: {exc}") from exc
        except ProviderUnreachableError as exc:
            raise AuthError("the identity provider's keys cannot be fetched: try again later") from exc
        user = await self._store.bound_user(self.provider.issuer, str(claims["sub"]))
        if user is None:
            raise AuthError("this account has not signed in to Hubbub yet: sign in once in a browser")
        admin = admin_by_claim(claims, self.settings.oidc_admin_claim, self.settings.oidc_admin_value)
        return Identity(user=user, expires_at=float(claims["exp"]), admin=admin)

    def is_current(self, identity: Identity) -> bool:
        return True  # a session lasts its time; a token until its exp

    def reload(self) -> bool:
        return False

    def configured_users(self) -> list[str]:
        return []
