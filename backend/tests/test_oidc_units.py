"""Auth mode oidc, the pure parts, with clocks the tests move: where a sign-in may land
(`safe_next`), a sign-in's cookie (its signature, its state, its age), the provider's
discovery document and keys (kept, refreshed on rotation, fetched at most so often for tokens
anyone can present, one fetch for many waiting), who the claims say the user is, and the
settings."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Awaitable, Callable
from typing import Any

import httpx2
import jwt
import pytest
from pydantic import ValidationError

from hubbub.auth.oidc.account import SignInRefusedError, account_of
from hubbub.auth.oidc.flow import FLOW_SECONDS, FlowError, Flows, cookie_name, safe_next
from hubbub.auth.oidc.provider import (
    KEYS_SECONDS,
    METADATA_SECONDS,
    UNTRUSTED_REFRESH_SECONDS,
    Provider,
    ProviderUnreachableError,
)
from hubbub.settings import Settings
from tests.oidc_provider import SigningKey
from tests.test_units import FakeClock

ISSUER = "https://idp.example"


@pytest.mark.parametrize(
    ("wanted", "lands"),
    [
        ("/", "/"),
        ("/?room=general#latest", "/?room=general#latest"),
        ("/rooms/dev%20ops", "/rooms/dev%20ops"),
        (None, "/"),
        ("", "/"),
        ("https://evil.example/", "/"),
        ("//evil.example", "/"),
        ("///evil.example", "/"),
        ("/\\evil.example", "/"),
        ("/\t/evil.example", "/"),
        ("/\n/evil.example", "/"),
        ("/ /x", "/"),
        ("javascript:alert(1)", "/"),
        ("evil.example", "/"),
        ("/api/me", "/"),
        ("/api/auth/oidc/login", "/"),
        ("/caf\u00e9", "/"),
        ("/" + "a" * 2000, "/"),
    ],
)
def test_next_is_a_path_of_this_server(wanted: str | None, lands: str) -> None:
    assert safe_next(wanted) == lands


def test_a_sign_in_cookie_opens_once_checked() -> None:
    clock = FakeClock(1_000_000.0)
    flows = Flows("server-secret", clock)
    flow = flows.start("https://chat.example/api/auth/oidc/callback", "/?room=x")
    sealed = flows.seal(flow)
    assert flows.open(flow.state, {flow.cookie: sealed}) == flow
    assert flow.cookie == cookie_name(flow.state) and flow.next == "/?room=x"
    assert len({flow.state, flow.nonce, flow.verifier}) == 3 and 43 <= len(flow.verifier) <= 128

    refusals = {
        "no state": (None, {flow.cookie: sealed}),
        "no cookie": (flow.state, {}),
        "another state": (flow.state + "x", {flow.cookie: sealed, cookie_name(flow.state + "x"): sealed}),
        "another key": (flow.state, {flow.cookie: Flows("other-secret", clock).seal(flow)}),
        "tampered": (flow.state, {flow.cookie: sealed[:-3] + "AAA"}),
        "too long": ("s" * 300, {cookie_name("s" * 300): sealed}),
    }
    for what, (state, cookies) in refusals.items():
        with pytest.raises(FlowError):
            flows.open(state, cookies)
        assert what  # each one refused

    clock.now += FLOW_SECONDS
    assert flows.open(flow.state, {flow.cookie: sealed}) == flow
    clock.now += 1
    with pytest.raises(FlowError, match="took longer"):
        flows.open(flow.state, {flow.cookie: sealed})
    clock.now = flow.started_at - 1  # a clock set back: not a sign-in of the future
    with pytest.raises(FlowError):
        flows.open(flow.state, {flow.cookie: sealed})


class FakeIdp:
    """The provider's two documents over httpx2's MockTransport, counting what is asked."""

    def __init__(self) -> None:
        self.keys = [SigningKey.new()]
        self.issuer = ISSUER
        self.requests: list[str] = []
        self.down = False
        self.hold: asyncio.Event | None = None

    async def handle(self, request: httpx2.Request) -> httpx2.Response:
        self.requests.append(request.url.path)
        if self.hold is not None:
            await self.hold.wait()
        if self.down:
            raise httpx2.ConnectError("connection refused")
        if request.url.path == "/.well-known/openid-configuration":
            return httpx2.Response(
                200,
                json={
                    "issuer": self.issuer,
                    "authorization_endpoint": f"{ISSUER}/auth",
                    "token_endpoint": f"{ISSUER}/token",
                    "jwks_uri": f"{ISSUER}/jwks",
                    "end_session_endpoint": f"{ISSUER}/logout",
                },
            )
        public = [
            {**json.loads(jwt.algorithms.RSAAlgorithm.to_jwk(key.private.public_key())), "kid": key.kid}
            for key in self.keys
        ]
        return httpx2.Response(200, json={"keys": public})

    def count(self, path: str) -> int:
        return self.requests.count(path)


def provider_for(idp: FakeIdp, clock: FakeClock) -> Provider:
    http = httpx2.AsyncClient(transport=httpx2.MockTransport(idp.handle))
    return Provider(ISSUER, http, clock)


async def test_discovery_is_kept_an_hour_and_kept_while_the_provider_is_down() -> None:
    idp, clock = FakeIdp(), FakeClock()
    provider = provider_for(idp, clock)
    first = await provider.metadata()
    assert first.end_session_endpoint == f"{ISSUER}/logout"
    clock.now += METADATA_SECONDS - 1
    await provider.metadata()
    assert idp.count("/.well-known/openid-configuration") == 1
    clock.now += 1
    idp.down = True
    assert await provider.metadata() == first  # asked again, and what it had is used
    assert idp.count("/.well-known/openid-configuration") == 2
    idp.down = False
    await provider.metadata()
    assert idp.count("/.well-known/openid-configuration") == 3


async def test_discovery_of_another_issuer_or_none_at_all_is_an_error() -> None:
    idp, clock = FakeIdp(), FakeClock()
    idp.down = True
    with pytest.raises(ProviderUnreachableError, match="ConnectError"):
        await provider_for(idp, clock).metadata()
    idp.down = False
    idp.issuer = "https://impostor.example"
    with pytest.raises(ProviderUnreachableError, match=r"names issuer 'https://impostor\.example'"):
        await provider_for(idp, clock).metadata()


async def test_keys_are_fetched_again_for_a_key_id_not_known() -> None:
    idp, clock = FakeIdp(), FakeClock()
    provider = provider_for(idp, clock)
    old = idp.keys[0]
    await provider.keys(old.kid, trusted=True)
    await provider.keys(old.kid, trusted=False)
    assert idp.count("/jwks") == 1
    # Rotation: the provider signs with a new key; an ID token names it.
    new = SigningKey.new()
    idp.keys = [new]
    keys = await provider.keys(new.kid, trusted=True)
    assert [key.kid for key in keys.keys] == [new.kid] and idp.count("/jwks") == 2
    # The keys are fetched again once they are an hour old, whatever is asked.
    clock.now += KEYS_SECONDS
    await provider.keys(new.kid, trusted=False)
    assert idp.count("/jwks") == 3


async def test_tokens_anyone_presents_fetch_keys_at_most_so_often() -> None:
    idp, clock = FakeIdp(), FakeClock()
    provider = provider_for(idp, clock)
    await provider.keys(None, trusted=True)
    for attempt in range(20):
        await provider.keys(f"made-up-{attempt}", trusted=False)
    assert idp.count("/jwks") == 2  # the first, and one for all the made-up key ids
    clock.now += UNTRUSTED_REFRESH_SECONDS
    await provider.keys("made-up-again", trusted=False)
    assert idp.count("/jwks") == 3
    # An ID token (from the provider itself) is never held back.
    await provider.keys("rotated", trusted=True)
    assert idp.count("/jwks") == 4


async def test_tokens_anyone_presents_do_not_keep_asking_a_provider_that_is_down() -> None:
    idp, clock = FakeIdp(), FakeClock()
    idp.down = True
    provider = provider_for(idp, clock)
    for _ in range(5):
        with pytest.raises(ProviderUnreachableError):
            await provider.keys("any", trusted=False)
    assert len(idp.requests) == 1
    idp.down = False
    await provider.keys(idp.keys[0].kid, trusted=True)  # a sign-in asks at once
    clock.now += UNTRUSTED_REFRESH_SECONDS
    await provider.keys(idp.keys[0].kid, trusted=False)
    assert idp.count("/jwks") == 1


async def test_many_waiting_share_one_fetch() -> None:
    idp, clock = FakeIdp(), FakeClock()
    provider = provider_for(idp, clock)
    idp.hold = asyncio.Event()
    waiting: list[Awaitable[Any]] = [provider.keys(idp.keys[0].kid, trusted=True) for _ in range(10)]
    gathered = asyncio.gather(*waiting)
    await until_true(lambda: len(idp.requests) == 1)  # the first asks; the others wait for it
    idp.hold.set()
    await gathered
    assert idp.count("/.well-known/openid-configuration") == 1 and idp.count("/jwks") == 1


async def until_true(condition: Callable[[], bool]) -> None:
    for _ in range(10_000):
        if condition():
            return
        await asyncio.sleep(0)
    raise AssertionError("never")


def settings(**env: Any) -> Settings:
    base = {"auth": "oidc", "oidc_issuer": ISSUER, "oidc_client_id": "hubbub"}
    return Settings(**{**base, **env})


def test_the_claims_name_the_user() -> None:
    plain = settings()
    claims = {"iss": ISSUER, "sub": "u-1", "preferred_username": "Ann"}
    assert account_of(claims, plain).name == "Ann"
    assert account_of({"iss": ISSUER, "sub": "u-1"}, plain).name == "u-1"  # no claim: the subject
    assert account_of({**claims, "preferred_username": "\uff21nn"}, plain).name == "Ann"  # NFKC
    by_email = settings(oidc_user_claim="nickname")
    assert account_of({**claims, "nickname": "annie"}, by_email).name == "annie"
    for name in ("a b/c", 42, "x" * 33, "\u3164", "p\u0430ypal"):
        with pytest.raises(SignInRefusedError) as refused:
            account_of({**claims, "preferred_username": name}, plain)
        assert refused.value.code.value == "name_invalid"


def test_admin_by_claim_or_group() -> None:
    admins = settings(oidc_admin_claim="groups", oidc_admin_value="chat-admins")
    claims = {"iss": ISSUER, "sub": "u-1", "preferred_username": "ann"}
    assert account_of({**claims, "groups": ["x", "chat-admins"]}, admins).admin is True
    assert account_of({**claims, "groups": "chat-admins"}, admins).admin is True
    assert account_of({**claims, "groups": ["x"]}, admins).admin is False
    assert account_of(claims, admins).admin is False
    assert account_of({**claims, "groups": ["chat-admins"]}, settings()).admin is False


def test_settings_say_what_is_wrong() -> None:
    for env, words in (
        ({"oidc_issuer": None}, "needs HUBBUB_OIDC_ISSUER and HUBBUB_OIDC_CLIENT_ID"),
        ({"oidc_client_id": None}, "needs HUBBUB_OIDC_ISSUER and HUBBUB_OIDC_CLIENT_ID"),
        ({"oidc_issuer": "http://idp.example"}, "must be https"),
        ({"oidc_issuer": "ftp://idp.example"}, "http(s) URL"),
        ({"oidc_scopes": "profile email"}, "must include openid"),
        ({"public_url": "https://chat.example/hubbub"}, "no path"),
        ({"oidc_allowed_email_domains": '["not a domain"]'}, "domain name"),
        ({"oidc_allowed_email_domains": "example.com"}, "JSON list"),
    ):
        with pytest.raises(ValidationError, match=words.replace("(", r"\(").replace(")", r"\)")):
            settings(**env)
    good = settings(
        oidc_issuer="http://127.0.0.1:8080/realms/x",
        public_url="https://chat.example/",
        oidc_allowed_email_domains='["Example.COM"]',
    )
    assert good.public_url == "https://chat.example" and good.oidc_allowed_email_domains == ["example.com"]
    assert good.oidc_name == "127.0.0.1" and settings(oidc_provider_name="Keycloak").oidc_name == "Keycloak"
