"""The core scenarios in all three engines: Chromium, Firefox and WebKit.

Playwright drives each engine it has a browser for; elsewhere Debian's Firefox ESR runs over
WebDriver BiDi and Debian's WebKitGTK through WebKitWebDriver (engines/drivers.py). The steps
are the same for all (engines/steps.py). Pictures of each engine land in test-results/, and in
docs/screenshots/engines/ with HUBBUB_UPDATE_SCREENSHOTS=1.
"""

from __future__ import annotations

import json
import os
import shutil
import uuid
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from conftest import ServerFactory, Target
from engines import steps
from engines.drivers import ENGINES, Driver, Drivers, Engine, Window
from playwright.sync_api import Playwright
from test_chat import post_history

RESULTS = Path(__file__).resolve().parent / "test-results" / "screenshots" / "engines"
DOCS = Path(__file__).resolve().parent.parent / "docs" / "screenshots" / "engines"


@pytest.fixture(scope="session")
def engine_drivers(playwright: Playwright) -> Iterator[Drivers]:
    drivers = Drivers(playwright)
    yield drivers
    drivers.close()


class Open:
    """Opens a page in an engine for this test; at the end, checks each for CSP violations."""

    def __init__(self, drivers: Drivers) -> None:
        self._drivers = drivers
        self.pages: list[Driver] = []

    def __call__(self, engine: Engine, window: Window | None = None) -> Driver:
        if (missing := self._drivers.available(engine)) is not None:
            # scripts/test installs every engine and sets this: there, a missing one is a failure.
            if os.environ.get("HUBBUB_E2E_REQUIRE_ENGINES") == "1":
                pytest.fail(f"{engine}: {missing}")
            pytest.skip(f"{engine}: {missing}")
        driver = self._drivers.open(engine, window)
        self.pages.append(driver)
        return driver


@pytest.fixture
def open_in(engine_drivers: Drivers) -> Iterator[Open]:
    opener = Open(engine_drivers)
    yield opener
    try:
        violations = {
            f"{d.engine} ({d.client})": steps.csp_violations(d) for d in opener.pages if not d.closed
        }
        assert not any(violations.values()), f"Content-Security-Policy violations: {violations}"
    finally:
        engine_drivers.close_pages()


def shoot(driver: Driver, name: str) -> None:
    RESULTS.mkdir(parents=True, exist_ok=True)
    driver.screenshot(RESULTS / name)
    if os.environ.get("HUBBUB_UPDATE_SCREENSHOTS") == "1":
        DOCS.mkdir(parents=True, exist_ok=True)
        shutil.copy(RESULTS / name, DOCS / name)


def new_room(target: Target, name: str) -> str:
    with httpx.Client(base_url=target.url) as http:
        assert http.post("/api/login", json={"name": f"maker-{name}"}).status_code == 200
        assert http.post("/api/rooms", json={"name": name}).status_code in (200, 201)
    return name


def history(target: Target, room: str) -> list[str]:
    return [m["body"] for m in httpx.get(f"{target.url}/api/rooms/{room}/messages").json()["messages"]]


@pytest.mark.parametrize("engine", ENGINES)
def test_sign_in_page_back_and_switch_rooms(open_in: Open, target: Target, room: str, engine: Engine) -> None:
    other = new_room(target, f"e2e-{uuid.uuid4().hex[:8]}")
    post_history(target, room, 70)
    post_history(target, other, 3)
    page = open_in(engine)
    steps.sign_in(page, target.url, f"{engine}-reader", room)
    steps.wait_count(page, "li.message", 50)  # the newest page first
    steps.click(page, "button", "Load older messages")
    steps.wait_count(page, "li.message", 70)
    assert steps.bodies(page) == [f"old {i}" for i in range(70)]
    steps.open_room(page, other)
    steps.wait_count(page, "li.message", 3)
    assert steps.bodies(page) == ["old 0", "old 1", "old 2"]
    steps.open_room(page, room)
    steps.wait_count(page, "li.message", 70)


@pytest.mark.parametrize("engine", ENGINES)
def test_a_message_typed_offline_is_sent_once_after_a_restart(
    open_in: Open, restartable_target: Target, room: str, engine: Engine
) -> None:
    target = restartable_target
    page = open_in(engine)
    steps.sign_in(page, target.url, f"{engine}-writer", room)
    steps.say(page, "before the restart")
    target.stop()
    steps.wait_for(
        page,
        "() => document.querySelector('[data-testid=connection-status]')?.textContent !== 'Connected'",
        what="the page to notice the server is gone",
    )
    text = f"typed offline in {engine}"
    page.type(steps.element(page, "textarea"), text, enter=True)
    steps.wait_count(page, "[data-testid=pending-message]", 1)
    assert steps.stored_outbox(page) == [text]  # kept in the engine's storage, for a reload
    target.start()
    steps.wait_connected(page)
    steps.wait_count(page, "[data-testid=pending-message]", 0)
    steps.wait_message(page, text)
    assert history(target, room) == ["before the restart", text]  # stored once
    assert steps.stored_outbox(page) == []


@pytest.mark.parametrize("engine", ENGINES)
def test_too_many_tabs_is_explained_and_recovers(
    open_in: Open, start_server: ServerFactory, engine: Engine
) -> None:
    """The server's close code (4429) reaches the page through the engine's WebSocket."""
    server = start_server(
        {
            "HUBBUB_AUTH": "token",
            "HUBBUB_TOKENS": json.dumps({"token-of-tess-0123": "tess"}),
            "HUBBUB_MAX_CONNECTIONS_PER_USER": "1",
        }
    )
    first, second = open_in(engine), open_in(engine)
    for page in (first, second):
        steps.open_page(page, server.url)
        page.type(steps.element(page, "input[type=password]"), "token-of-tess-0123", enter=True)
    steps.wait_connected(first)
    alert = steps.element(second, "[role=alert]", None, containing="Too many open chat tabs")
    first.close()
    second.click(steps.element(second, f"{alert} button", "Use here"))
    steps.wait_connected(second)
    steps.say(second, "here now")


@pytest.mark.parametrize("engine", ENGINES)
def test_dark_mode(open_in: Open, target: Target, room: str, engine: Engine) -> None:
    light = open_in(engine, Window(color_scheme="light"))
    steps.open_page(light, target.url)
    steps.element(light, "input[autocomplete=nickname]")
    assert steps.background_luminance(light) > 0.7
    dark = open_in(engine, Window(color_scheme="dark"))
    steps.sign_in(dark, target.url, f"{engine}-night", room)
    assert steps.background_luminance(dark) < 0.3
    steps.say(dark, f"Evening from {engine}.")
    shoot(dark, f"{engine}-dark.png")


def test_chatting_across_engines(open_in: Open, target: Target, room: str) -> None:
    """A Firefox user, a WebKit user and a Chromium user in one room: each reads every line."""
    people = {engine: open_in(engine) for engine in ("firefox", "webkit", "chromium")}
    for engine, page in people.items():
        steps.sign_in(page, target.url, f"{engine}-user", room)
    names = [f"{engine}-user" for engine in people]
    for page in people.values():
        steps.wait_for(
            page,
            "(names) => names.every((n) => document.querySelector('[data-testid=presence]')?.textContent.includes(n))",
            names,
            what="everyone online",
        )
    lines = [f"Hello from {engine}!" for engine in people]
    for line, page in zip(lines, people.values(), strict=True):
        steps.say(page, line)
    for engine, page in people.items():
        for line in lines:
            steps.wait_message(page, line)
        assert steps.bodies(page) == lines, engine  # one order for everyone
        shoot(page, f"{engine}.png")
