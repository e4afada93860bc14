"""End-to-end fixtures: real browsers (pytest-playwright) against a real Hubbub.

Where the server comes from:
- HUBBUB_E2E_BASE_URL set: that server (e.g. the Docker container); scenarios that must start
  servers of their own (other auth modes, several workers) are skipped there, and the restart
  scenario runs HUBBUB_E2E_RESTART_CMD (e.g. `docker restart hubbub-e2e`).
- otherwise: `hubbub serve` processes started here on free ports, like the backend tests do.

Browsers: Playwright's own (`playwright install`), or Debian's /usr/bin/chromium when
Playwright's Chromium is not installed.
"""

from __future__ import annotations

import contextlib
import json
import os
import shlex
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Browser, BrowserContext, BrowserType, Page, Playwright, expect
from pytest_redis import factories

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "backend"))
from engines.drivers import CHROMIUM_ARGS, DEBIAN_CHROMIUM
from tests.services import HubbubServer, wait_for

EXTERNAL_URL = os.environ.get("HUBBUB_E2E_BASE_URL")

expect.set_options(timeout=15_000)
redis_proc = factories.redis_proc(executable="/usr/bin/redis-server", timeout=10)


@pytest.fixture(scope="session")
def browser_type_launch_args(
    browser_type_launch_args: dict[str, Any], browser_type: BrowserType, browser_name: str
) -> dict[str, Any]:
    if browser_name != "chromium":
        return browser_type_launch_args
    bundled = Path(browser_type.executable_path)
    chosen = os.environ.get("HUBBUB_E2E_CHROMIUM")
    if chosen is None and not bundled.exists() and Path(DEBIAN_CHROMIUM).exists():
        chosen = DEBIAN_CHROMIUM
    if chosen is None:
        return browser_type_launch_args
    return {**browser_type_launch_args, "executable_path": chosen, "args": CHROMIUM_ARGS}


# Every page reports what the Content-Security-Policy blocks: the UI must never need more.
CSP_LISTENER = """
document.addEventListener("securitypolicyviolation", (event) => {
  window.__hubbubCspViolation(
    `${event.violatedDirective} blocked ${event.blockedURI || "inline"} at ${event.sourceFile}:${event.lineNumber}`
  );
});
"""


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "csp_violations_expected: the test provokes CSP violations on purpose")
    config.addinivalue_line(
        "markers",
        "smoke: the scenarios that prove a deployment (the Docker image, with one worker and with "
        "two through Redis): sign-in, chat, history, a restart, the security headers",
    )


@pytest.fixture(autouse=True)
def contexts(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> Iterator[list[str]]:
    """Every browser context a test opens reports CSP violations (events and console errors)
    and is closed when the test ends, so its users go offline. The test fails on a violation."""
    violations: list[str] = []
    opened: list[BrowserContext] = []
    new_context = Browser.new_context

    def watched_context(self: Browser, **kwargs: Any) -> BrowserContext:
        context = new_context(self, **kwargs)
        context.expose_function("__hubbubCspViolation", lambda text: violations.append(str(text)))
        context.add_init_script(CSP_LISTENER)
        context.on(
            "console",
            lambda message: (
                violations.append(message.text)
                if "Content Security Policy" in message.text or "Content-Security-Policy" in message.text
                else None
            ),
        )
        opened.append(context)
        return context

    def watched_page(self: Browser, **kwargs: Any) -> Page:
        return watched_context(self, **kwargs).new_page()

    monkeypatch.setattr(Browser, "new_context", watched_context)
    monkeypatch.setattr(Browser, "new_page", watched_page)
    yield violations
    for context in opened:
        with contextlib.suppress(Exception):  # the test may have closed it already
            context.close()
    if request.node.get_closest_marker("csp_violations_expected") is None:
        assert violations == [], f"Content-Security-Policy violations: {violations}"


class Target:
    """The server under test, and how to bounce it."""

    def __init__(self, url: str, local: HubbubServer | None) -> None:
        self.url = url
        self.local = local
        self.stopped = False

    @property
    def ws_url(self) -> str:
        return "ws" + self.url.removeprefix("http")

    def stop(self) -> None:
        self.stopped = True
        if self.local is not None:
            self.local.stop()
        else:
            command = os.environ.get("HUBBUB_E2E_STOP_CMD")
            if not command:
                pytest.skip("set HUBBUB_E2E_STOP_CMD/HUBBUB_E2E_START_CMD to restart an external server")
            subprocess.run(shlex.split(command), check=True)

    def start(self) -> None:
        self.stopped = False
        if self.local is not None:
            self.local.start()
        else:
            subprocess.run(shlex.split(os.environ["HUBBUB_E2E_START_CMD"]), check=True)
            import httpx

            wait_for(lambda: _ready(httpx, self.url), 60, f"{self.url}/readyz")


# Private rooms and DMs need people who sign in as themselves (auth mode none has neither):
# a server in token mode, where each of these names has the token token_of(name).
TEAM = ("ada", "bob", "carl", "olga", "mo", "eve", "alice-private", "carol-outside", "maker")


def token_of(name: str) -> str:
    return f"token-of-{name}-e2e"


# Every test comes from 127.0.0.1: the per-address limits would count them all as one.
OPEN_ENV = {
    "HUBBUB_ROOM_CREATIONS_PER_MINUTE_PER_ADDRESS": "100000",
    "HUBBUB_NEW_MEMBERS_PER_MINUTE_PER_ADDRESS": "100000",
}
TEAM_ENV = {
    "HUBBUB_AUTH": "token",
    "HUBBUB_TOKENS": json.dumps({token_of(name): name for name in TEAM}),
    **OPEN_ENV,
    # One maker makes every test's room (the room fixture).
    "HUBBUB_ROOM_CREATIONS_PER_MINUTE": "100000",
    "HUBBUB_MAX_ROOMS_PER_USER": "100000",
}


def _mode(server: Target | HubbubServer) -> str:
    local = server if isinstance(server, HubbubServer) else server.local
    return local.env.get("HUBBUB_AUTH", "none") if local is not None else "none"


def login_json(server: Target | HubbubServer, name: str) -> dict[str, str]:
    """POST /api/login's body for this person, in the server's auth mode."""
    return {"token": token_of(name)} if _mode(server) == "token" else {"name": name}


def ws_query(server: Target | HubbubServer, name: str) -> str:
    """/api/ws's query string for this person, in the server's auth mode."""
    return f"token={token_of(name)}" if _mode(server) == "token" else f"name={name}"


def _ready(httpx: Any, url: str) -> bool:
    try:
        return bool(httpx.get(f"{url}/readyz", timeout=1).status_code == 200)
    except httpx.HTTPError:
        return False


ServerFactory = Callable[..., HubbubServer]


@pytest.fixture
def start_server(tmp_path: Path) -> Iterator[ServerFactory]:
    """Start local `hubbub serve` processes; skipped when testing an external server."""
    if EXTERNAL_URL:
        pytest.skip("starts servers of its own: runs against local servers only")
    servers: list[HubbubServer] = []

    def start(env: dict[str, str] | None = None, data_dir: Path | None = None) -> HubbubServer:
        server = HubbubServer(env=env or {}, data_dir=data_dir or tmp_path / f"data{len(servers)}")
        servers.append(server)
        return server.start()

    yield start
    for server in servers:
        server.stop()


@pytest.fixture(scope="session")
def target(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Target]:
    """The server most tests share (each in rooms, and mostly under names, of its own):
    external if HUBBUB_E2E_BASE_URL is set, else one local server per test process."""
    if EXTERNAL_URL:
        yield Target(EXTERNAL_URL.rstrip("/"), None)
        return
    server = HubbubServer(env=dict(OPEN_ENV), data_dir=tmp_path_factory.mktemp("shared") / "data").start()
    yield Target(server.url, server)
    server.stop()


@pytest.fixture(scope="session")
def team_target(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Target]:
    """A local server in token mode (TEAM, token_of), shared like ``target``: for private rooms
    and DMs."""
    if EXTERNAL_URL:
        pytest.skip("starts a server of its own: runs against local servers only")
    server = HubbubServer(env=dict(TEAM_ENV), data_dir=tmp_path_factory.mktemp("team") / "data").start()
    yield Target(server.url, server)
    server.stop()


@pytest.fixture
def restartable_target(tmp_path: Path) -> Iterator[Target]:
    """A server the test may stop and start: a local one of its own, or the external one (its
    HUBBUB_E2E_STOP_CMD/START_CMD), put back up if the test failed while it was down."""
    if EXTERNAL_URL:
        external = Target(EXTERNAL_URL.rstrip("/"), None)
        yield external
        if external.stopped:
            external.start()
        return
    server = HubbubServer(env=dict(OPEN_ENV), data_dir=tmp_path / "data").start()
    yield Target(server.url, server)
    server.stop()


@pytest.fixture
def room(request: pytest.FixtureRequest, playwright: Playwright) -> str:
    """A fresh public room per test, on the server the test uses, so tests on one long-lived
    server do not mix. Made by a user of its own (room creation is limited per user and per
    address)."""
    import uuid

    which = next(
        (name for name in ("restartable_target", "team_target") if name in request.fixturenames), "target"
    )
    target: Target = request.getfixturevalue(which)
    return make_room(playwright, target, f"e2e-{uuid.uuid4().hex[:8]}")


def make_room(playwright: Playwright, target: Target, name: str) -> str:
    """A public room made by a user of its own (room creation is limited per user and per
    address)."""
    maker = playwright.request.new_context(base_url=target.url)
    try:
        maker_name = "maker" if _mode(target) == "token" else f"maker-{name}"[:32]
        login = maker.post("/api/login", data=login_json(target, maker_name))
        assert login.ok, login.text()
        response = maker.post("/api/rooms", data={"name": name})
        assert response.ok, response.text()
    finally:
        maker.dispose()
    return name
