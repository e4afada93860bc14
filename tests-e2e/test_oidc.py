"""Auth mode oidc in a real browser, against a real OpenID provider (panva's oidc-provider,
backend/tests/oidc_provider.py): the sign-in button, the provider's own login and consent
pages, landing in the chat signed in; signing out, there too; a second person; and an error
coming back from the provider said in words."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from conftest import EXTERNAL_URL
from playwright.sync_api import Browser, Page, expect
from tests.oidc_provider import OidcProvider
from tests.services import HubbubServer, free_port


@pytest.fixture
def idp_and_server(tmp_path: Path) -> Iterator[tuple[OidcProvider, HubbubServer]]:
    if EXTERNAL_URL:
        pytest.skip("starts servers of its own: runs against local servers only")
    provider = OidcProvider().start()
    port = free_port()
    client = provider.register_client(f"http://127.0.0.1:{port}/api/auth/oidc/callback")
    server = HubbubServer(env=client.env(provider), data_dir=tmp_path / "data", port=port)
    try:
        server.start()
        yield provider, server
    finally:
        server.stop()
        provider.stop()


def through_the_provider(page: Page, account: str, consent: bool = True) -> None:
    """The provider's development login page, then its consent page."""
    page.locator("input[name=login]").fill(account)
    page.locator("input[name=password]").fill("any password")
    page.get_by_role("button", name="Sign-in").click()
    if consent:
        page.get_by_role("button", name="Continue").click()
    else:
        page.get_by_role("link", name="[ Cancel ]").click()


def test_sign_in_sign_out_and_a_second_person(
    browser: Browser, idp_and_server: tuple[OidcProvider, HubbubServer]
) -> None:
    provider, server = idp_and_server
    ann = provider.add_account(f"acc-{uuid.uuid4().hex[:8]}", preferred_username="Ann")
    bob = provider.add_account(f"acc-{uuid.uuid4().hex[:8]}", preferred_username="Bob")
    page = browser.new_page()
    page.goto(server.url)
    button = page.get_by_role("button", name="Sign in with Test ID")
    expect(button).to_be_focused()
    button.click()
    expect(page.locator("input[name=login]")).to_be_visible()
    assert page.url.startswith(f"{provider.issuer}/interaction/")  # the provider's own page
    through_the_provider(page, ann)
    expect(page.get_by_test_id("connection-status")).to_have_text("Connected")
    expect(page.locator(".me")).to_have_text("Signed in as Ann")
    assert page.url == f"{server.url}/"

    # Sign out: Hubbub's session ends, then the provider asks to sign out there too.
    page.get_by_role("button", name="Sign out").click()
    page.get_by_role("button", name="Yes, sign me out").click()
    expect(page.get_by_role("button", name="Sign in with Test ID")).to_be_visible()
    assert page.url.startswith(server.url)

    # The next person at this computer signs in as themselves: the provider asks again.
    page.get_by_role("button", name="Sign in with Test ID").click()
    through_the_provider(page, bob)
    expect(page.locator(".me")).to_have_text("Signed in as Bob")
    expect(page.get_by_test_id("connection-status")).to_have_text("Connected")


def test_an_error_from_the_provider_is_said_in_words(
    browser: Browser, idp_and_server: tuple[OidcProvider, HubbubServer]
) -> None:
    provider, server = idp_and_server
    cy = provider.add_account(f"acc-{uuid.uuid4().hex[:8]}", preferred_username="Cy")
    page = browser.new_page()
    page.goto(server.url)
    page.get_by_role("button", name="Sign in with Test ID").click()
    through_the_provider(page, cy, consent=False)
    expect(page.get_by_role("alert")).to_have_text("The sign-in was cancelled at Test ID.")
    assert "sign_in_error" not in page.url  # a reload does not say it again
    page.reload()
    expect(page.get_by_role("button", name="Sign in with Test ID")).to_be_visible()
    expect(page.get_by_role("alert")).to_have_count(0)
    # A made-up error in a link: no words of the link's own on the page.
    page.goto(f"{server.url}/?sign_in_error=Call+555-0100+to+unlock+your+account")
    expect(page.get_by_role("alert")).to_have_text("The sign-in did not complete. Please try again.")
