"""The server and its published OpenAPI document agree: schemathesis generates requests from
/api/openapi.json (valid ones, and ones the schema says are wrong) against a real server in
each auth mode, and checks every answer against the document: no server error, only
documented status codes, bodies, content types and headers as documented, what the schema
refuses refused and what it allows accepted."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from pathlib import Path

import httpx
import jwt
import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from hypothesis.errors import Unsatisfiable

from tests.conftest import ServerFactory
from tests.oidc_provider import Browser, OidcProvider
from tests.services import HubbubServer, free_port, hubbub_cli

EXAMPLES = 100  # per operation and generation mode (valid, invalid): 200 per operation, in every mode
JWT_SECRET = "schema-jwt-secret-0123456789abcdef"


def accepting(path: str, *statuses: str) -> dict[str, object]:
    """The operations of a path whose schema-valid requests may still be refused, as
    documented. (Only include-path: several include-* keys select what matches any of them.)"""
    return {
        "include-path": path,
        "checks": {"positive_data_acceptance": {"expected-statuses": ["2xx", "401", *statuses]}},
    }


# Rules the schema cannot say: a direct message needs someone besides its maker (a list of only
# themselves is schema-valid, and answered 400 as documented); a name or password must pass
# the name rules and not be common, a name not look like anyone's (400, 409); an invitation
# must exist (404); the admin endpoints answer 403 to anyone but an admin, who this caller is not;
# the first run happens once (409); auth mode none has no direct messages at all (403); a search
# has at most 32 words and something to search for, and history takes one of before, after and
# around (400).
CONFIG = schemathesis.config.SchemathesisConfig.from_dict(
    {
        # A redirect is an answer to check against the document, not a page to fetch (the
        # sign-in redirects lead to the identity provider).
        "max-redirects": 0,
        "operations": [
            accepting("/api/dms", "400", "403", "404", "429"),
            accepting("/api/me/profile", "400", "409"),
            accepting("/api/me/avatar", "413", "422", "429"),
            accepting("/api/users/{name}/avatar", "404"),
            accepting("/api/setup", "400", "409"),
            accepting("/api/invites/{token}/accept", "400", "404", "409", "429"),
            accepting("/api/invites", "403", "409"),
            accepting("/api/search", "400", "403", "404", "429"),
            accepting("/api/rooms/{room}/messages", "400", "403", "404", "429"),
            {
                "include-path-regex": "^/api/admin/",
                "checks": {"positive_data_acceptance": {"expected-statuses": ["2xx", "401", "403"]}},
            },
        ],
    }
)


def credentials_for(mode: str, server: HubbubServer) -> dict[str, str]:
    """A signed-in caller's headers in this mode (oidc: through the provider's pages)."""
    if mode == "oidc":
        browser = Browser(server.url)
        try:
            answer = browser.sign_in("sam")
            assert answer.headers["location"] == "/", answer.headers["location"]
            return {"Cookie": f"session={browser.session()}"}
        finally:
            browser.close()
    if mode == "token":
        return {"Authorization": "Bearer schema-token-0123"}
    if mode == "jwt":
        token = jwt.encode({"sub": "sam", "exp": 4102444800}, JWT_SECRET, "HS256")
        return {"Authorization": f"Bearer {token}"}
    if mode == "proxy":
        return {"Remote-User": "sam"}  # from 127.0.0.1, the trusted proxy here
    login = {"name": "sam"} if mode == "none" else {"username": "sam", "password": "schema password"}
    answer = httpx.post(f"{server.url}/api/login", json=login)
    assert answer.status_code == 200, answer.text
    return {"Cookie": f"session={answer.cookies['session']}"}


@pytest.fixture
def provider_for(request: pytest.FixtureRequest) -> Iterator[OidcProvider | None]:
    """Auth mode oidc's identity provider (a real one), for that mode only."""
    if request.node.callspec.params["mode"] != "oidc":
        yield None
        return
    provider = OidcProvider().start()
    yield provider
    provider.stop()


# Hundreds of requests per operation: minutes on a busy machine, not the default two.
@pytest.mark.timeout(900)
@pytest.mark.parametrize("mode", ["none", "token", "password", "jwt", "proxy", "oidc"])
def test_answers_agree_with_the_published_schema(
    hubbub_server: ServerFactory, tmp_path: Path, mode: str, provider_for: OidcProvider | None
) -> None:
    env = {"HUBBUB_AUTH": mode}
    port = free_port()
    if provider_for is not None:
        client = provider_for.register_client(f"http://127.0.0.1:{port}/api/auth/oidc/callback")
        env = client.env(provider_for)
    if mode == "token":
        env["HUBBUB_TOKENS"] = json.dumps({"schema-token-0123": "sam"})
    if mode == "jwt":
        env["HUBBUB_JWT_SECRET"] = JWT_SECRET
    if mode == "proxy":
        env["HUBBUB_TRUSTED_PROXIES"] = "127.0.0.1"
    data = tmp_path / "data"
    if mode == "password":
        made = hubbub_cli(data, "add-user", "sam", "--password-stdin", stdin="schema password\n")
        assert made.returncode == 0, made.stderr
    server = hubbub_server(env, data_dir=data, port=port)
    headers = credentials_for(mode, server)
    schema = schemathesis.openapi.from_url(f"{server.url}/api/openapi.json", config=CONFIG)
    failures: dict[str, str] = {}
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) >= 33
    for operation in operations:
        for generation in schemathesis.GenerationMode:
            check = one_operation(operation, generation, server.url, headers)
            try:
                check()
            except Unsatisfiable:
                assert generation is schemathesis.GenerationMode.NEGATIVE, operation.label
                continue  # the schema allows every input there is: nothing invalid to send
            except (Exception, BaseExceptionGroup) as exc:  # every operation's findings, not the first
                # A flaky or grouped failure says little itself: what it holds says what failed.
                inner = exc.exceptions if isinstance(exc, BaseExceptionGroup) else ()
                text = "\n".join([str(exc), *(f"  {type(e).__name__}: {e}" for e in inner)])
                failures[f"{operation.label} ({generation.value})"] = text[:4000]
    assert not failures, "\n\n".join(f"{label}:\n{text}" for label, text in failures.items())


def one_operation(
    operation: schemathesis.APIOperation,
    generation: schemathesis.GenerationMode,
    base_url: str,
    headers: dict[str, str],
) -> Callable[[], None]:
    @given(case=operation.as_strategy(generation_mode=generation))
    @settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=list(HealthCheck), derandomize=True)
    def check(case: schemathesis.Case) -> None:
        case.call_and_validate(base_url=base_url, headers=headers)

    return check
