"""Auth mode oidc against a real OpenID provider (panva's oidc-provider, tests/oidc_provider.py),
over real HTTP: each test signs in as a browser would, through the provider's own login and
consent pages, and then breaks one thing: the state, the code, the nonce, the ID token (minted
with the provider's own keys where the provider cannot be made to send it), the keys, the
provider itself, the name.

A failed sign-in is always a redirect into the app, `/?sign_in_error=<code>`; what went wrong
is in the server's log.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from urllib.parse import urlencode, urlsplit, urlunsplit

import httpx
import jwt
import pytest
from itsdangerous import URLSafeSerializer

from tests.client import ChatClient
from tests.conftest import ServerFactory
from tests.isolation import unique
from tests.oidc_provider import (
    Browser,
    Client,
    OidcProvider,
    SigningKey,
    query,
    static_client,
    wait_until_gone,
)
from tests.services import HubbubServer, free_port, hubbub_cli, until


@pytest.fixture(scope="module")
def provider() -> Iterator[OidcProvider]:
    """One provider for the module's tests: each registers a client of its own."""
    started = OidcProvider().start()
    yield started
    started.stop()


@dataclass
class Setup:
    """A Hubbub server in auth mode oidc, the provider it signs in with, and its client there."""

    provider: OidcProvider
    server: HubbubServer
    client: Client
    browsers: list[Browser] = field(default_factory=list)

    def browser(self) -> Browser:
        made = Browser(self.server.url)
        self.browsers.append(made)
        return made

    def account(self, name: str | None = None, **claims: object) -> str:
        """A new account at the provider; its id is what its login page takes, and its sub."""
        account = f"acc-{uuid.uuid4().hex[:8]}"
        if name is not None:
            claims["preferred_username"] = name
        return self.provider.add_account(account, **claims)

    def me(self, browser: Browser) -> httpx.Response:
        return httpx.get(f"{self.server.url}/api/me", cookies={"session": browser.session() or ""})

    def log_mark(self) -> int:
        return len(self.server.log())

    def log_since(self, mark: int) -> str:
        """What the server logged since the mark: on a shared server, this test's lines."""
        return self.server.log()[mark:]

    def close(self) -> None:
        for browser in self.browsers:
            browser.close()


SetupFactory = Callable[..., Setup]
ADMINS = {"HUBBUB_OIDC_ADMIN_CLAIM": "groups", "HUBBUB_OIDC_ADMIN_VALUE": "hubbub-admins"}


@pytest.fixture(scope="module")
def shared(module_server: ServerFactory, provider: OidcProvider) -> Iterator[Setup]:
    """A server the module's tests share (a confidential client, admins by group, debug logs):
    each test signs in with accounts of its own, and reads only its own lines of the log."""
    port = free_port()
    client = provider.register_client(f"http://127.0.0.1:{port}/api/auth/oidc/callback")
    server = module_server({**client.env(provider), **ADMINS, "HUBBUB_LOG_LEVEL": "debug"}, port=port)
    setup = Setup(provider, server, client)
    yield setup
    setup.close()


@pytest.fixture
def oidc(hubbub_server: ServerFactory, provider: OidcProvider) -> Iterator[SetupFactory]:
    made: list[Setup] = []

    def start(public: bool = False, on: OidcProvider | None = None, **env: str) -> Setup:
        idp = on or provider
        port = free_port()
        client = idp.register_client(f"http://127.0.0.1:{port}/api/auth/oidc/callback", public=public)
        server = hubbub_server({**client.env(idp), **env}, port=port)
        made.append(Setup(idp, server, client))
        return made[-1]

    yield start
    for setup in made:
        setup.close()


def sign_in_error(answer: httpx.Response) -> str | None:
    """The error a callback's redirect names; None when it signed in."""
    assert answer.status_code == 303, (answer.status_code, answer.text)
    location = answer.headers["location"]
    return query(location).get("sign_in_error") if location.startswith("/?sign_in_error=") else None


def with_params(url: str, **params: str | None) -> str:
    """The URL with these query parameters replaced (None: removed)."""
    parts = urlsplit(url)
    current = query(url)
    for key, value in params.items():
        if value is None:
            current.pop(key, None)
        else:
            current[key] = value
    return urlunsplit(parts._replace(query=urlencode(current)))


# --- signing in


async def test_signs_in_through_the_provider_pages(shared: Setup) -> None:
    setup = shared
    name = unique("ann")
    account = setup.account(name, groups=["staff", "hubbub-admins"], email=f"{name}@example.com")
    browser = setup.browser()
    authorize = browser.start("/?room=general#latest")
    params = query(authorize)
    assert params["code_challenge_method"] == "S256" and len(params["code_challenge"]) == 43
    assert len(params["state"]) >= 43 and len(params["nonce"]) >= 43 and "code_verifier" not in params
    assert params["redirect_uri"] == f"{setup.server.url}/api/auth/oidc/callback"
    assert params["scope"] == "openid profile email" and params["response_type"] == "code"
    flow_cookie = next(c for c in browser.http.cookies.jar if c.name.startswith("hubbub_oidc_"))
    assert flow_cookie.path == "/api/auth/oidc/callback" and flow_cookie.has_nonstandard_attr("HttpOnly")

    answer = browser.finish(browser.authorize(authorize, account))
    assert sign_in_error(answer) is None
    assert answer.headers["location"] == "/?room=general#latest"
    assert not [c for c in browser.http.cookies.jar if c.name.startswith("hubbub_oidc_")]
    me = setup.me(browser)
    assert me.status_code == 200 and me.json()["user"] == name and me.json()["admin"] is True
    # The session is Hubbub's own, as in every mode: the chat's socket takes it.
    chat = await ChatClient.open(
        f"{setup.server.ws_url}/api/ws", additional_headers={"Cookie": f"session={browser.session()}"}
    )
    await chat.close()

    # Not in the admin group: signed in, not an admin.
    plain = setup.account(unique("bob"), groups=["staff"])
    other = setup.browser()
    assert sign_in_error(other.sign_in(plain)) is None
    assert setup.me(other).json()["admin"] is False


def test_nothing_secret_reaches_the_log(shared: Setup) -> None:
    setup = shared
    mark = setup.log_mark()
    browser = setup.browser()
    authorize = browser.start()
    sealed = next(c.value for c in browser.http.cookies.jar if c.name.startswith("hubbub_oidc_"))
    flow = URLSafeSerializer("unused").loads_unsafe(sealed)[1]  # readable, though signed
    callback = browser.authorize(authorize, setup.account(unique("cy")))
    assert sign_in_error(browser.finish(callback)) is None
    log = setup.log_since(mark)
    assert "DEBUG" in log and "code=[redacted]" in log and "state=[redacted]" in log
    secrets = [query(callback)["code"], flow["state"], flow["nonce"], flow["verifier"], browser.session()]
    assert setup.client.client_secret is not None
    secrets.append(setup.client.client_secret)
    leaked = [secret for secret in secrets if secret and secret in log]
    assert not leaked
    assert "eyJ" not in log  # no JWT (ID token, access token) in any form


def test_denied_at_the_provider_is_said(shared: Setup) -> None:
    setup = shared
    browser = setup.browser()
    callback = browser.authorize(browser.start(), setup.account(unique("dee")), consent=False)
    assert query(callback)["error"] == "access_denied"
    assert sign_in_error(browser.finish(callback)) == "denied"
    assert setup.me(browser).status_code == 401


def test_next_is_a_path_of_this_server_only(shared: Setup) -> None:
    setup = shared
    account = setup.account(unique("eve"))
    for wanted in (
        "https://evil.example/",
        "//evil.example/x",
        "/\\evil.example",
        "/\t/evil.example",
        "javascript:alert(1)",
        "/api/me",
        "room",
    ):
        answer = setup.browser().sign_in(account, next_path=wanted)
        assert sign_in_error(answer) is None and answer.headers["location"] == "/", wanted


# --- the state: forged, missing, from another browser, used twice


def test_state_forged_missing_or_from_another_browser_is_refused(shared: Setup) -> None:
    setup = shared
    mark = setup.log_mark()
    account = setup.account(unique("fay"))
    browser = setup.browser()
    callback = browser.authorize(browser.start(), account)
    state = query(callback)["state"]

    assert sign_in_error(browser.finish(with_params(callback, state=None))) == "expired"
    assert sign_in_error(browser.finish(with_params(callback, state=state[:-2] + "xx"))) == "expired"
    # Login CSRF: an attacker's code and state, in a victim's browser.
    victim = setup.browser()
    victim.start()
    assert sign_in_error(victim.finish(callback)) == "expired"
    assert setup.me(victim).status_code == 401
    # The sign-in cookie re-signed with another key, or pointing at another state.
    cookie_name = next(c.name for c in browser.http.cookies.jar if c.name.startswith("hubbub_oidc_"))
    forged_cookie = URLSafeSerializer("not-the-servers-key", salt="hubbub-oidc-flow").dumps(
        {
            "state": state,
            "nonce": "n",
            "verifier": "v" * 64,
            "redirect_uri": "x",
            "next": "/",
            "started_at": time.time(),
        }
    )
    forger = httpx.Client(follow_redirects=False, cookies={cookie_name: forged_cookie})
    answer = forger.get(callback)
    assert sign_in_error(answer) == "expired"
    forger.close()
    # None of that used up the real sign-in: its browser finishes it.
    assert sign_in_error(browser.finish(callback)) is None
    assert setup.me(browser).status_code == 200
    log = setup.log_since(mark)
    assert "no sign-in with this state was started in this browser" in log
    assert "forged or from another server" in log


def test_a_replayed_code_is_refused(shared: Setup) -> None:
    setup = shared
    mark = setup.log_mark()
    account = setup.account(unique("gus"))
    browser = setup.browser()
    callback = browser.authorize(browser.start(), account)
    # The sign-in cookie, as an attacker who copied it would have it.
    kept = {c.name: c.value for c in browser.http.cookies.jar if c.name.startswith("hubbub_oidc_")}
    assert sign_in_error(browser.finish(callback)) is None
    # The very same answer again, cookie and all: Hubbub has seen that state come back.
    replay = httpx.Client(follow_redirects=False, cookies=kept)
    assert sign_in_error(replay.get(callback)) == "expired"
    replay.close()
    assert "came back before (a replay)" in setup.log_since(mark)
    # The code in a new sign-in of the same browser (its own state and verifier): the provider
    # refuses a code it gave once (and would refuse another verifier).
    fresh = query(browser.start())["state"]
    assert sign_in_error(browser.finish(with_params(callback, state=fresh))) == "provider_error"
    assert "token endpoint refused the code: invalid_grant" in setup.log_since(mark)


def test_a_public_client_signs_in_and_pkce_binds_its_codes(oidc: SetupFactory) -> None:
    """With no client secret, PKCE is what makes a code useless to whoever intercepts it: a
    code redeemed in a sign-in of the attacker's own (its state, cookie and verifier) is
    refused, the provider checking the verifier against the challenge the code was made for."""
    setup = oidc(public=True)
    own = setup.browser()
    assert sign_in_error(own.sign_in(setup.account(unique("gil")))) is None
    assert setup.me(own).status_code == 200
    victim = setup.browser()
    stolen = victim.authorize(victim.start(), setup.account(unique("hal")))
    attacker = setup.browser()
    own_state = query(attacker.start())["state"]
    answer = attacker.finish(with_params(stolen, state=own_state))
    assert sign_in_error(answer) == "provider_error"
    assert "invalid_grant" in setup.server.log()
    assert setup.me(attacker).status_code == 401


# --- the ID token


def test_a_wrong_nonce_is_refused(shared: Setup) -> None:
    """The nonce in the authorization request changed on its way (the provider then puts that
    one in the ID token): the ID token is not the answer to this browser's sign-in."""
    setup = shared
    mark = setup.log_mark()
    browser = setup.browser()
    authorize = with_params(browser.start(), nonce="n-" + uuid.uuid4().hex)
    assert sign_in_error(browser.finish(browser.authorize(authorize, setup.account(unique("ida"))))) == (
        "invalid_token"
    )
    assert "InvalidClaimError: invalid_claim: Invalid claim: 'nonce'" in setup.log_since(mark)


def minted_claims(setup: Setup, authorize: str, account: str, **changes: object) -> dict[str, object]:
    now = int(time.time())
    claims: dict[str, object] = {
        "iss": setup.provider.issuer,
        "aud": setup.client.client_id,
        "sub": account,
        "nonce": query(authorize)["nonce"],
        "iat": now,
        "exp": now + 300,
    }
    return {key: value for key, value in {**claims, **changes}.items() if value is not None}


def unsigned(claims: dict[str, object]) -> str:
    return jwt.encode(claims, None, algorithm="none")


FOREIGN = SigningKey.new()  # a key the provider does not have


@pytest.mark.parametrize(
    ("changes", "signing", "reason"),
    [
        ({}, "provider", None),  # the control: a token minted this way is good
        ({"aud": "another-client"}, "provider", "aud"),
        ({"aud": ["another-client", "{client}"]}, "provider", "azp"),
        ({"aud": ["another-client", "{client}"], "azp": "another-client"}, "provider", "azp"),
        ({"exp": int(time.time()) - 3600, "iat": int(time.time()) - 7200}, "provider", "ExpiredTokenError"),
        ({"iat": int(time.time()) - 7200}, "provider", "issued before this sign-in began"),
        ({"iat": int(time.time()) + 3600}, "provider", "issued in the future"),
        ({"iss": "https://impostor.example"}, "provider", "iss"),
        ({"nonce": None}, "provider", "nonce"),
        ({"exp": None}, "provider", "exp"),
        ({}, "unsigned", "UnsupportedAlgorithmError"),
        ({}, "foreign key", "BadSignatureError"),
        ({}, "client secret (HS256)", "signature not verified"),
    ],
    ids=[
        "good",
        "other-audience",
        "two-audiences-no-azp",
        "azp-other",
        "expired",
        "issued-before-sign-in",
        "issued-in-future",
        "other-issuer",
        "no-nonce",
        "no-exp",
        "unsigned",
        "foreign-key",
        "hs256-client-secret",
    ],
)
def test_id_tokens_the_provider_would_never_send_are_refused(
    shared: Setup, provider: OidcProvider, changes: dict[str, object], signing: str, reason: str | None
) -> None:
    setup = shared
    mark = setup.log_mark()
    account = setup.account(unique("jo"))
    browser = setup.browser()
    authorize = browser.start()
    callback = browser.authorize(authorize, account)
    resolved = {
        key: [setup.client.client_id if x == "{client}" else x for x in value]
        if isinstance(value, list)
        else value
        for key, value in changes.items()
    }
    claims = minted_claims(setup, authorize, account, **resolved)
    if signing == "provider":
        token = provider.mint(claims)
    elif signing == "unsigned":
        token = unsigned(claims)
    elif signing == "foreign key":
        token = jwt.encode(claims, FOREIGN.private, algorithm="RS256", headers={"kid": provider.keys[0].kid})
    else:
        assert setup.client.client_secret is not None
        token = jwt.encode(
            claims, setup.client.client_secret, algorithm="HS256", headers={"kid": provider.keys[0].kid}
        )
    provider.next_id_token(token)
    answer = browser.finish(callback)
    if reason is None:
        assert sign_in_error(answer) is None
        assert setup.me(browser).status_code == 200
        return
    assert sign_in_error(answer) == "invalid_token"
    assert setup.me(browser).status_code == 401
    refusal = [line for line in setup.log_since(mark).splitlines() if "refused (invalid_token)" in line]
    assert len(refusal) == 1 and reason in refusal[0], refusal


def test_keys_rotated_at_the_provider(oidc: SetupFactory) -> None:
    idp = OidcProvider().start()
    try:
        setup = oidc(on=idp)
        first = setup.account(unique("kim"))
        assert sign_in_error(setup.browser().sign_in(first)) is None
        old = idp.keys[0]
        idp.rotate([SigningKey.new()])  # the old key is gone from the provider's set
        # The next ID token names a key Hubbub has not seen: it fetches the keys again.
        assert sign_in_error(setup.browser().sign_in(setup.account(unique("lou")))) is None
        fetched = [line for line in setup.server.log().splitlines() if "signing keys fetched" in line]
        assert len(fetched) == 2, fetched
        # A token signed with the key the provider dropped is refused from now on.
        browser = setup.browser()
        authorize = browser.start()
        callback = browser.authorize(authorize, first)
        idp.next_id_token(idp.mint(minted_claims(setup, authorize, first), key=old))
        assert sign_in_error(browser.finish(callback)) == "invalid_token"
        # Keys may also be added before they are used, and the new one used later.
        newer = SigningKey.new()
        idp.rotate([newer, *idp.keys])
        assert sign_in_error(setup.browser().sign_in(first)) is None
    finally:
        idp.stop()


# --- the provider down


def test_provider_down_at_startup_and_during_a_sign_in(hubbub_server: ServerFactory) -> None:
    port = free_port()
    client, metadata = static_client(f"http://127.0.0.1:{port}/api/auth/oidc/callback")
    idp = OidcProvider(clients=[metadata])  # not started yet
    server = hubbub_server(client.env(idp), port=port)  # starts, and is ready, without it
    assert httpx.get(f"{server.url}/readyz").status_code == 200
    wait_for_log(server, "not reachable (sign-ins will try again)")
    browser = Browser(server.url)
    try:
        down = browser.http.get(f"{server.url}/api/auth/oidc/login")
        assert down.status_code == 303 and down.headers["location"] == "/?sign_in_error=unreachable"
        assert httpx.get(f"{server.url}/api/config").status_code == 200

        idp.start()  # the provider comes up: sign-ins work, no restart of Hubbub
        account = idp.add_account(f"acc-{uuid.uuid4().hex[:8]}", preferred_username=unique("max"))
        assert sign_in_error(browser.sign_in(account)) is None

        # Down between the provider's answer and Hubbub redeeming the code.
        second = Browser(server.url)
        callback = second.authorize(second.start(), account)
        idp.stop()
        wait_until_gone(idp.issuer)
        assert sign_in_error(second.finish(callback)) == "unreachable"
        second.close()
        assert httpx.get(f"{server.url}/readyz").status_code == 200
        assert setup_me(server, browser).status_code == 200  # who signed in before stays signed in
        idp.start()
        third = Browser(server.url)
        assert sign_in_error(third.sign_in(account)) is None
        third.close()
    finally:
        browser.close()
        idp.stop()


def wait_for_log(server: HubbubServer, text: str) -> None:
    """The server logged this (something it does on its own, when it gets to it)."""
    deadline = time.monotonic() + 30
    while text not in server.log():
        assert time.monotonic() < deadline, f"{text!r} never logged"
        time.sleep(0.05)


def setup_me(server: HubbubServer, browser: Browser) -> httpx.Response:
    return httpx.get(f"{server.url}/api/me", cookies={"session": browser.session() or ""})


# --- names


def test_a_second_account_with_a_taken_name_is_refused_never_merged(shared: Setup) -> None:
    setup = shared
    name = unique("nia")
    first = setup.account(name)
    assert sign_in_error(setup.browser().sign_in(first)) is None
    second = setup.account(name)  # another subject asking for the same name
    assert sign_in_error(setup.browser().sign_in(second)) == "name_taken"
    # A name that only looks the same (case, confusable letters) is just as taken.
    assert sign_in_error(setup.browser().sign_in(setup.account(name.upper()))) == "name_taken"
    # The first account still signs in as itself; the name stays bound to it.
    again = setup.browser()
    assert sign_in_error(again.sign_in(first)) is None
    assert setup.me(again).json()["user"] == name
    assert f"subject {second!r} refused" in setup.server.log()


def test_a_new_name_may_not_pass_for_someones_display_name(shared: Setup) -> None:
    setup = shared
    name = unique("kai")
    shown = unique("Mo")  # what kai calls themself here, before any "mo…" signed in
    kai = setup.browser()
    kai_account = setup.account(name)
    assert sign_in_error(kai.sign_in(kai_account)) is None
    profile = httpx.patch(
        f"{setup.server.url}/api/me/profile",
        json={"display_name": shown},
        cookies={"session": kai.session() or ""},
    )
    assert profile.status_code == 200, profile.text
    # An account whose name is (or looks like) that display name would look like kai.
    for wanted in (shown, shown.lower()):
        assert sign_in_error(setup.browser().sign_in(setup.account(wanted))) == "name_taken"
    assert f"{shown!r} is, or looks like, a bot's name or someone's display name" in setup.server.log()
    # kai signs in again as themself (bound names are not checked again).
    assert sign_in_error(setup.browser().sign_in(kai_account)) is None
    # Names that look like no one's are let in, as before.
    assert sign_in_error(setup.browser().sign_in(setup.account(unique("lee")))) is None


def test_user_names_pass_the_same_rules(shared: Setup) -> None:
    setup = shared
    # No preferred_username: the subject is the name.
    plain = setup.provider.add_account(f"s-{uuid.uuid4().hex[:8]}", preferred_username="")
    browser = setup.browser()
    assert sign_in_error(browser.sign_in(plain)) is None
    assert setup.me(browser).json()["user"] == plain
    for bad in ("has/slash", "x" * 33, "a\u200bb", "p\u0430ypal"):  # a zero-width space; a Cyrillic a
        assert sign_in_error(setup.browser().sign_in(setup.account(bad))) == "name_invalid", bad
    # A bot's name, or one that passes for it, is not for a person.
    bot = unique("bot")
    made = hubbub_cli(setup.server.data_dir, "add-bot", bot)
    assert made.returncode == 0, made.stderr
    assert sign_in_error(setup.browser().sign_in(setup.account(bot))) == "name_taken"


def test_allowed_email_domains(oidc: SetupFactory) -> None:
    setup = oidc(HUBBUB_OIDC_ALLOWED_EMAIL_DOMAINS='["example.com"]')
    outcomes = {}
    for label, email, verified in (
        ("verified", "x@example.com", True),
        ("unverified", "x@example.com", False),
        ("other domain", "x@example.org", True),
        ("subdomain", "x@sub.example.com", True),
        ("look-alike", "x@example.com.evil.io", True),
        ("none", None, True),
    ):
        claims = {"email_verified": verified} | ({"email": email} if email else {})
        outcomes[label] = sign_in_error(setup.browser().sign_in(setup.account(unique("ola"), **claims)))
    assert outcomes == {
        "verified": None,
        "unverified": "email_domain",
        "other domain": "email_domain",
        "subdomain": "email_domain",
        "look-alike": "email_domain",
        "none": "email_domain",
    }


# --- signing out, tokens, other modes


async def test_sign_out_ends_the_session_and_the_providers(shared: Setup) -> None:
    setup = shared
    browser = setup.browser()
    assert sign_in_error(browser.sign_in(setup.account(unique("pat")))) is None
    cookie = browser.session()
    chat = await ChatClient.open(
        f"{setup.server.ws_url}/api/ws", additional_headers={"Cookie": f"session={cookie}"}
    )
    # Not from another site's page (CSRF): the session stays.
    forged = httpx.post(
        f"{setup.server.url}/api/auth/oidc/logout",
        cookies={"session": cookie or ""},
        headers={"Origin": "https://evil.example"},
    )
    assert forged.status_code == 403 and setup.me(browser).status_code == 200
    answer = httpx.post(
        f"{setup.server.url}/api/auth/oidc/logout",
        cookies={"session": cookie or ""},
        headers={"Origin": setup.server.url},
    )
    assert answer.status_code == 200
    assert await chat.closed() == (4401, "logged out")
    assert setup.me(browser).status_code == 401
    url = answer.json()["end_session_url"]
    assert url.startswith(f"{setup.provider.issuer}/session/end?")
    assert query(url) == {
        "client_id": setup.client.client_id,
        "post_logout_redirect_uri": f"{setup.server.url}/",
    }
    # The provider takes it: its page asks the user to confirm signing out.
    page = browser.http.get(url)
    assert page.status_code == 200 and "logout" in page.text.lower()


def test_sign_out_at_the_provider_can_be_turned_off(oidc: SetupFactory) -> None:
    setup = oidc(HUBBUB_OIDC_END_SESSION="false")
    browser = setup.browser()
    assert sign_in_error(browser.sign_in(setup.account(unique("quin")))) is None
    answer = httpx.post(
        f"{setup.server.url}/api/auth/oidc/logout", cookies={"session": browser.session() or ""}
    )
    assert answer.status_code == 200 and answer.json() == {"end_session_url": None}
    assert setup.me(browser).status_code == 401


async def test_scripts_and_bots_keep_their_tokens(oidc: SetupFactory, provider: OidcProvider) -> None:
    setup = oidc()  # its own: it counts the server's fetches of the provider's keys
    name = unique("rae")
    account = setup.account(name)
    now = int(time.time())
    token_claims = {
        "iss": provider.issuer,
        "aud": setup.client.client_id,
        "sub": account,
        "iat": now,
        "exp": now + 300,
    }
    # Before the account ever signed in, it has no name here.
    before = httpx.get(
        f"{setup.server.url}/api/me", headers={"Authorization": f"Bearer {provider.mint(token_claims)}"}
    )
    assert before.status_code == 401 and "sign in once in a browser" in before.json()["detail"]
    assert sign_in_error(setup.browser().sign_in(account)) is None
    good = provider.mint(token_claims)
    me = httpx.get(f"{setup.server.url}/api/me", headers={"Authorization": f"Bearer {good}"})
    assert me.status_code == 200 and me.json()["user"] == name
    chat = await ChatClient.open(f"{setup.server.ws_url}/api/ws?token={good}")
    await chat.close()
    for bad in (
        provider.mint({**token_claims, "aud": "someone-else"}),
        provider.mint({**token_claims, "exp": now - 3600}),
        jwt.encode(token_claims, FOREIGN.private, algorithm="RS256", headers={"kid": provider.keys[0].kid}),
        unsigned(token_claims),
    ):
        refused = httpx.get(f"{setup.server.url}/api/me", headers={"Authorization": f"Bearer {bad}"})
        assert refused.status_code == 401, refused.text
    # Tokens naming keys nobody has: the provider's keys are fetched again at most once in a while.
    for _ in range(5):
        unknown = jwt.encode(
            token_claims, FOREIGN.private, algorithm="RS256", headers={"kid": uuid.uuid4().hex}
        )
        assert (
            httpx.get(
                f"{setup.server.url}/api/me", headers={"Authorization": f"Bearer {unknown}"}
            ).status_code
            == 401
        )
    fetched = [line for line in setup.server.log().splitlines() if "signing keys fetched" in line]
    assert len(fetched) <= 2, fetched
    # Bots post with their own tokens, as in every mode: a good one is let in (and told the
    # room is not one of its own), a wrong one is not.
    made = hubbub_cli(setup.server.data_dir, "add-bot", unique("bot"))
    assert made.returncode == 0, made.stderr
    bot_token = made.stdout.strip().split()[-1]
    post = {"body": "hi", "client_msg_id": "m1"}
    url = f"{setup.server.url}/api/rooms/general/messages"
    assert httpx.post(url, json=post, headers={"Authorization": f"Bearer {bot_token}"}).status_code == 404
    assert (
        httpx.post(url, json=post, headers={"Authorization": "Bearer hbb_wrongwrongwrong"}).status_code == 401
    )


def test_other_modes_answer_the_oidc_routes(hubbub_server: ServerFactory) -> None:
    server = hubbub_server()
    answer = httpx.get(f"{server.url}/api/auth/oidc/login")
    assert answer.status_code == 303 and answer.headers["location"] == "/?sign_in_error=not_configured"
    answer = httpx.get(f"{server.url}/api/auth/oidc/callback?code=x&state=y")
    assert answer.status_code == 303 and answer.headers["location"] == "/?sign_in_error=not_configured"
    assert httpx.get(f"{server.url}/api/config").json()["oidc_provider_name"] is None


def test_password_login_is_refused_in_oidc_mode(shared: Setup) -> None:
    setup = shared
    answer = httpx.post(f"{setup.server.url}/api/login", json={"username": "x", "password": "y" * 10})
    assert answer.status_code == 401 and "sign in with Test ID" in answer.json()["detail"]
    assert httpx.get(f"{setup.server.url}/api/config").json()["oidc_provider_name"] == "Test ID"


# --- accounts a first sign-in made are accounts like any other (issue 24)


async def test_an_account_made_by_a_first_sign_in_is_deactivated_like_any(
    shared: Setup, provider: OidcProvider
) -> None:
    setup = shared
    boss = setup.account(unique("bea"), groups=["hubbub-admins"])
    admin_browser = setup.browser()
    assert sign_in_error(admin_browser.sign_in(boss)) is None
    admin = httpx.Client(base_url=setup.server.url, cookies={"session": admin_browser.session() or ""})
    name = unique("ole")
    account = setup.account(name)
    browser = setup.browser()
    assert sign_in_error(browser.sign_in(account)) is None
    listed = {u["name"]: u for u in admin.get("/api/admin/users").json()}
    assert listed[name]["deactivated"] is False and listed[name]["admin"] is False
    socket = await ChatClient.open(
        f"{setup.server.ws_url}/api/ws", additional_headers={"Cookie": f"session={browser.session()}"}
    )
    now = int(time.time())
    token = provider.mint(
        {"iss": provider.issuer, "aud": setup.client.client_id, "sub": account, "iat": now, "exp": now + 300}
    )
    bearer = {"Authorization": f"Bearer {token}"}
    assert httpx.get(f"{setup.server.url}/api/me", headers=bearer).status_code == 200

    assert admin.post(f"/api/admin/users/{name}/deactivate").status_code == 204
    assert await socket.closed() == (4401, "account deactivated")
    assert setup.me(browser).status_code == 401  # the session ended with it
    assert httpx.get(f"{setup.server.url}/api/me", headers=bearer).status_code == 401
    # The provider still lets them in; Hubbub does not, and says why in words.
    mark = setup.log_mark()
    again = setup.browser()
    assert sign_in_error(again.sign_in(account)) == "deactivated"
    assert again.session() is None
    assert f"refused (deactivated): {name!r}" in setup.log_since(mark)

    assert admin.post(f"/api/admin/users/{name}/reactivate").status_code == 204
    back = setup.browser()
    assert sign_in_error(back.sign_in(account)) is None
    assert setup.me(back).json()["user"] == name


async def test_without_an_admin_claim_roles_are_hubbubs(oidc: SetupFactory) -> None:
    setup = oidc(HUBBUB_CREDENTIAL_CHECK_SECONDS="0.2")
    config = httpx.get(f"{setup.server.url}/api/config").json()
    assert config["role_source"] == "hubbub" and config["setup_needed"] is False
    name = unique("ida")
    # A claim no setting names makes no admin: the first sign-in makes a member.
    account = setup.account(name, groups=["hubbub-admins"])
    browser = setup.browser()
    assert sign_in_error(browser.sign_in(account)) is None
    assert setup.me(browser).json()["admin"] is False
    made = hubbub_cli(setup.server.data_dir, "set-role", name, "admin", **setup.server.env)
    assert made.returncode == 0, made.stderr
    # The session this browser has becomes an admin's, without a new sign-in (the server
    # follows what the command changed within HUBBUB_CREDENTIAL_CHECK_SECONDS).
    await until(lambda: setup.me(browser).json()["admin"], "the server to follow hubbub set-role")
    admin = httpx.Client(base_url=setup.server.url, cookies={"session": browser.session() or ""})
    listed = {u["name"]: u for u in admin.get("/api/admin/users").json()}
    assert listed[name]["admin"] is True
    # Invitations are password mode's: here the provider decides who signs up.
    assert admin.post("/api/invites", json={}).status_code == 409
    # The next sign-in keeps the role Hubbub holds (the claim still names no setting).
    again = setup.browser()
    assert sign_in_error(again.sign_in(account)) is None
    assert setup.me(again).json()["admin"] is True
