"""The identity provider as Hubbub knows it: its discovery document and its signing keys (JWKS),
fetched when first needed and kept, fetched again once they are an hour old, and the keys at
once when a token names one Hubbub does not have: the provider rotated its keys.

A token anyone can present (a script's bearer token) may name a key that does not exist, to
make Hubbub ask the provider again and again: those fetch the keys at most once every
UNTRUSTED_REFRESH_SECONDS. An ID token comes from the provider itself (the back channel), so
an unknown key there always fetches them. Either way one fetch at a time: sign-ins that arrive
while one is under way wait for it and share its answer.

When the provider cannot be reached, what was fetched before is used while it lasts; with
nothing fetched, ProviderUnreachableError says why, and the next need tries again.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import httpx2
from joserfc.jwk import KeySet

log = logging.getLogger("hubbub.auth")

METADATA_SECONDS = 3600.0
KEYS_SECONDS = 3600.0
UNTRUSTED_REFRESH_SECONDS = 30.0


class ProviderUnreachableError(Exception):
    """The provider could not be reached, or answered something that is not what it should;
    the message says which URL and why (it holds no secret)."""


@dataclass(frozen=True, slots=True)
class Metadata:
    """What Hubbub uses of the discovery document (OpenID Connect Discovery 1.0)."""

    issuer: str
    authorization_endpoint: str
    token_endpoint: str
    jwks_uri: str
    userinfo_endpoint: str | None
    end_session_endpoint: str | None
    token_endpoint_auth_methods: tuple[str, ...]

    @classmethod
    def parse(cls, document: object, issuer: str) -> Metadata:
        if not isinstance(document, dict):
            raise ValueError("the discovery document is not a JSON object")
        # OpenID Connect Discovery 1.0, 4.3: exactly the issuer asked for, or an impostor.
        if document.get("issuer") != issuer:
            raise ValueError(
                f"the discovery document names issuer {str(document.get('issuer'))[:200]!r}, not "
                f"{issuer!r}: set HUBBUB_OIDC_ISSUER to exactly the provider's issuer"
            )

        def url(name: str, required: bool = True) -> Any:
            value = document.get(name)
            if value is None and not required:
                return None
            if not isinstance(value, str) or not value.startswith(("https://", "http://")):
                raise ValueError(f"the discovery document has no usable {name}")
            return value

        methods = document.get("token_endpoint_auth_methods_supported") or ["client_secret_basic"]
        return cls(
            issuer=issuer,
            authorization_endpoint=url("authorization_endpoint"),
            token_endpoint=url("token_endpoint"),
            jwks_uri=url("jwks_uri"),
            userinfo_endpoint=url("userinfo_endpoint", required=False),
            end_session_endpoint=url("end_session_endpoint", required=False),
            token_endpoint_auth_methods=tuple(str(m) for m in methods if isinstance(m, str)),
        )


@dataclass(frozen=True, slots=True)
class _Fetched:
    value: Any
    at: float


class Provider:
    def __init__(
        self, issuer: str, http: httpx2.AsyncClient, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.issuer = issuer
        self._http = http
        self._clock = clock
        self._metadata: _Fetched | None = None
        self._keys: _Fetched | None = None
        self._untrusted_refresh_at: float | None = None
        self._lock = asyncio.Lock()

    @property
    def discovery_url(self) -> str:
        return self.issuer.rstrip("/") + "/.well-known/openid-configuration"

    async def metadata(self) -> Metadata:
        fetched = self._metadata
        if fetched is not None and self._clock() - fetched.at < METADATA_SECONDS:
            return fetched.value  # type: ignore[no-any-return]
        async with self._lock:
            if self._metadata is not fetched and self._metadata is not None:
                return self._metadata.value  # type: ignore[no-any-return]  # another task fetched it
            try:
                document = await self._get_json(self.discovery_url)
                metadata = Metadata.parse(document, self.issuer)
            except (ProviderUnreachableError, ValueError) as exc:
                if fetched is None:
                    raise ProviderUnreachableError(str(exc)) from exc
                log.warning("identity provider: keeping its discovery document of before: %s", exc)
                return fetched.value  # type: ignore[no-any-return]
            self._metadata = _Fetched(metadata, self._clock())
            return metadata

    async def keys(self, kid: str | None, *, trusted: bool) -> KeySet:
        """The provider's keys, with the one named ``kid`` among them if the provider has it."""
        fetched = self._keys
        fresh = fetched is not None and self._clock() - fetched.at < KEYS_SECONDS
        if fresh and (_has(fetched.value, kid) or not self._may_refresh(trusted)):  # type: ignore[union-attr]
            return fetched.value  # type: ignore[union-attr,no-any-return]
        if fetched is None and not self._may_refresh(trusted):
            # Never fetched (the provider is down): tokens anyone sends do not keep asking.
            raise ProviderUnreachableError("the provider's keys could not be fetched yet")
        async with self._lock:
            if self._keys is not fetched and self._keys is not None:
                return self._keys.value  # type: ignore[no-any-return]  # another task fetched them
            if not trusted:
                self._untrusted_refresh_at = self._clock()
            metadata = await self._metadata_unlocked()
            try:
                keys = KeySet.import_key_set(await self._get_json(metadata.jwks_uri))  # type: ignore[arg-type]
            except (ProviderUnreachableError, ValueError, KeyError, TypeError) as exc:
                if fetched is None:
                    raise ProviderUnreachableError(f"the provider's keys: {exc}") from exc
                log.warning("identity provider: keeping its keys of before: %s", exc)
                return fetched.value  # type: ignore[no-any-return]
            self._keys = _Fetched(keys, self._clock())
            log.info("identity provider: %d signing keys fetched from %s", len(keys.keys), metadata.jwks_uri)
            return keys

    def _may_refresh(self, trusted: bool) -> bool:
        last = self._untrusted_refresh_at
        return trusted or last is None or self._clock() - last >= UNTRUSTED_REFRESH_SECONDS

    async def _metadata_unlocked(self) -> Metadata:
        # keys() holds the lock: the metadata is fetched here without it (rarely: it is kept
        # for an hour, and keys() runs after metadata() on every path that signs in).
        fetched = self._metadata
        if fetched is not None:
            return fetched.value  # type: ignore[no-any-return]
        try:
            metadata = Metadata.parse(await self._get_json(self.discovery_url), self.issuer)
        except ValueError as exc:
            raise ProviderUnreachableError(str(exc)) from exc
        self._metadata = _Fetched(metadata, self._clock())
        return metadata

    async def _get_json(self, url: str) -> object:
        try:
            answer = await self._http.get(url, headers={"accept": "application/json"})
        except httpx2.HTTPError as exc:
            raise ProviderUnreachableError(f"GET {url}: {type(exc).__name__}: {exc}") from exc
        if answer.status_code != 200:
            raise ProviderUnreachableError(f"GET {url}: HTTP {answer.status_code}")
        try:
            return answer.json()
        except ValueError as exc:
            raise ProviderUnreachableError(f"GET {url}: not JSON") from exc


def _has(keys: KeySet, kid: str | None) -> bool:
    if kid is None:
        return len(keys.keys) == 1
    return any(key.kid == kid for key in keys.keys)
