"""What a person does in the UI, as Playwright steps."""

from __future__ import annotations

import re
import time
from collections.abc import Callable

from conftest import token_of
from playwright.sync_api import Browser, BrowserContext, Page, expect


def open_as(browser: Browser, base: str, name: str, room: str | None = None, **context: object) -> Page:
    ctx: BrowserContext = browser.new_context(**context)  # type: ignore[arg-type]
    page = ctx.new_page()
    sign_in(page, base, name, room)
    return page


def sign_in(page: Page, base: str, name: str, room: str | None = None) -> None:
    page.goto(f"{base}/?room={room}" if room else base)
    token = page.get_by_label("Access token")
    expect(token.or_(page.get_by_label("Display name"))).to_be_visible()
    if token.count():  # a server in token mode (conftest.TEAM): everyone has their own
        token.fill(token_of(name))
        page.get_by_role("button", name="Sign in").click()
        expect(page.get_by_test_id("connection-status")).to_have_text("Connected")
        return
    page.get_by_label("Display name").fill(name)
    join = page.get_by_role("button", name="Join the chat")
    # One person per name: a test that used this name before may still be leaving (its socket
    # closing on another worker); the server says so, and the name is free a moment later.
    status = page.get_by_test_id("connection-status")
    in_use = page.get_by_role("alert").filter(has_text="in use")
    for _ in range(40):
        join.click()
        expect(status.or_(in_use)).to_be_visible()
        if status.count():
            break
        page.wait_for_timeout(250)
    expect(page.get_by_test_id("connection-status")).to_have_text("Connected")


def composer(page: Page) -> object:
    return page.get_by_role("textbox", name="Message #")


def say(page: Page, text: str) -> None:
    box = page.locator("textarea")
    box.fill(text)
    box.press("Enter")


def wait_until(page: Page, script: str, arg: object = None, timeout: float = 15.0) -> None:
    """Poll a condition in the page. Not page.wait_for_function: that compiles its predicate with
    eval, which the app's Content-Security-Policy (rightly) refuses."""
    deadline = time.monotonic() + timeout
    while not page.evaluate(script, arg):
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {script}")
        page.wait_for_timeout(50)


def wait_until_true(condition: Callable[[], bool], page: Page, what: str, timeout: float = 15.0) -> None:
    """Poll a condition the test computes (between polls the page runs on)."""
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        page.wait_for_timeout(50)


def message_bodies(page: Page) -> list[str]:
    texts = page.locator("[data-testid=messages] li.message:not(.pending) .body").all_inner_texts()
    return [text.strip() for text in texts]  # a formatted body is a block: no trailing newline


def open_room(page: Page, room: str) -> None:
    """Open a room from the sidebar, where the user's rooms are; a public room they are not in
    is joined from Browse rooms."""
    listed = re.compile(rf"^# {re.escape(room)}(\W|$)")
    entry = page.get_by_role("navigation", name="Rooms").get_by_role("button", name=listed)
    browse = page.get_by_role("button", name="Browse rooms")
    expect(browse).to_be_visible()
    if entry.count():
        entry.click()
    else:
        browse.click()
        dialog = page.get_by_role("dialog", name="Browse rooms")
        dialog.get_by_label("Search rooms").fill(room)
        dialog.get_by_role("button", name=f"Join # {room}").or_(
            dialog.get_by_role("button", name=f"Open # {room}")
        ).click()
    expect(page.get_by_role("heading", level=2, name=f"# {room}")).to_be_visible()
