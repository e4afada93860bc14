"""Scenarios that need servers of their own: other auth modes, and two workers through Redis."""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

import jwt
from conftest import ServerFactory
from playwright.sync_api import Browser, Page, expect
from ui import open_as, say

SECRET = "e2e-secret-e2e-secret-e2e-secret-0123"


def refused(page: Page, base: str, fill: dict[str, str], message: str) -> None:
    page.goto(base)
    for label, value in fill.items():
        page.get_by_label(label, exact=True).fill(value)
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("alert")).to_contain_text(message)


def test_token_mode_refuses_bad_token_and_admits_good(browser: Browser, start_server: ServerFactory) -> None:
    server = start_server({"HUBBUB_AUTH": "token", "HUBBUB_TOKENS": '{"good-token-123": "tina"}'})
    page = browser.new_page()
    refused(page, server.url, {"Access token": "bad-token-456"}, "Sign-in refused: unknown token")
    page.get_by_label("Access token").fill("good-token-123")
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_test_id("connection-status")).to_have_text("Connected")
    expect(page.get_by_text("Signed in as")).to_contain_text("tina")


def test_jwt_mode_refuses_expired_and_forged(browser: Browser, start_server: ServerFactory) -> None:
    server = start_server({"HUBBUB_AUTH": "jwt", "HUBBUB_JWT_SECRET": SECRET})
    page = browser.new_page()
    expired = jwt.encode({"sub": "jo", "exp": int(time.time()) - 60}, SECRET, "HS256")
    forged = jwt.encode({"sub": "jo", "exp": int(time.time()) + 600}, SECRET + "x", "HS256")
    refused(page, server.url, {"JWT": expired}, "token has expired")
    refused(page, server.url, {"JWT": forged}, "invalid token")
    page.get_by_label("JWT").fill(jwt.encode({"sub": "jo", "exp": int(time.time()) + 600}, SECRET, "HS256"))
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_test_id("connection-status")).to_have_text("Connected")


def test_password_mode_refusal_and_logout_elsewhere(
    browser: Browser, start_server: ServerFactory, tmp_path: Path
) -> None:
    data = tmp_path / "pw"
    subprocess.run(
        [sys.executable, "-m", "hubbub.cli", "add-user", "pat", "--password-stdin"],
        input="long enough password\n",
        env={"HUBBUB_DATA_DIR": str(data), "PATH": "/usr/bin:/bin"},
        text=True,
        check=True,
        capture_output=True,
    )
    server = start_server({"HUBBUB_AUTH": "password"}, data_dir=data)
    context = browser.new_context()
    page = context.new_page()
    refused(
        page, server.url, {"User name": "pat", "Password": "wrong password"}, "wrong user name or password"
    )
    page.get_by_label("Password", exact=True).fill("long enough password")
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_test_id("connection-status")).to_have_text("Connected")
    # Signing out in a second tab of the same session closes this tab's socket (4401):
    # the first tab says why and shows the sign-in form again.
    other = context.new_page()
    other.goto(server.url)
    other.get_by_role("button", name="Sign out").click()
    expect(page.get_by_text("You were logged out.")).to_be_visible()
    expect(page.get_by_label("User name")).to_be_visible()


def test_two_workers_through_redis(
    browser: Browser, start_server: ServerFactory, tmp_path: Path, redis_proc: object
) -> None:
    url = f"redis://{redis_proc.host}:{redis_proc.port}/0"  # type: ignore[attr-defined]
    shared = tmp_path / "shared"
    one = start_server({"HUBBUB_REDIS_URL": url}, data_dir=shared)
    two = start_server({"HUBBUB_REDIS_URL": url}, data_dir=shared)
    ada = open_as(browser, one.url, "ada")
    bob = open_as(browser, two.url, "bob")
    expect(ada.get_by_test_id("presence")).to_contain_text("bob")
    expect(bob.get_by_test_id("presence")).to_contain_text("ada")
    say(ada, "from worker one")
    expect(bob.get_by_text("from worker one")).to_be_visible()
    say(bob, "from worker two")
    expect(ada.get_by_text("from worker two")).to_be_visible()
    bob.locator("textarea").fill("...")
    expect(ada.get_by_text("bob is typing…")).to_be_visible()
