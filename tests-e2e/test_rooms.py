"""Rooms people can trust, as two people see them in two browsers. Private rooms and direct
messages need people to sign in as themselves: those run on a server in token mode; in auth
mode none (open mode) the UI says that anyone can use any name, and nothing is private."""

from __future__ import annotations

import json
import uuid

import pytest
from conftest import ServerFactory, Target
from playwright.sync_api import Browser, Page, expect
from ui import open_as, say


@pytest.fixture
def team(start_server: ServerFactory) -> Target:
    """A server where people sign in with their own token."""
    tokens = {f"token-of-{user}-e2e": user for user in ("ada", "bob")}
    server = start_server({"HUBBUB_AUTH": "token", "HUBBUB_TOKENS": json.dumps(tokens)})
    return Target(server.url, server)


def open_signed_in(browser: Browser, base: str, user: str, room: str | None = None) -> Page:
    page = browser.new_context().new_page()
    page.goto(f"{base}/?room={room}" if room else base)
    page.get_by_label("Access token").fill(f"token-of-{user}-e2e")
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_test_id("connection-status")).to_have_text("Connected")
    return page


def sidebar_rooms(page: Page) -> object:
    return page.get_by_role("navigation", name="Rooms")


def create_room(page: Page, name: str, private: bool) -> None:
    page.get_by_label("New room").fill(name)
    if private:
        page.get_by_label("Private: only people you add").check()
    page.get_by_role("button", name="Create").click()
    expect(page.get_by_role("heading", level=2, name=f"# {name}")).to_be_visible()


def test_a_private_room_is_invisible_until_its_owner_invites(browser: Browser, team: Target) -> None:
    name = f"hideout-{uuid.uuid4().hex[:6]}"
    ada = open_signed_in(browser, team.url, "ada")
    bob = open_signed_in(browser, team.url, "bob")
    create_room(ada, name, private=True)
    say(ada, "only for the invited")
    expect(ada.locator("li.message.own:not(.pending)")).to_have_count(1)
    bob.reload()  # a fresh list from the server: still not there
    expect(bob.get_by_test_id("connection-status")).to_have_text("Connected")
    expect(sidebar_rooms(bob).get_by_role("button", name=f"# {name}")).to_have_count(0)
    # The owner invites bob from the member list; his sidebar shows the room at once.
    ada.get_by_role("button", name="Members").click()
    ada.get_by_label("Add someone").fill("bob")
    ada.get_by_role("button", name="Add", exact=True).click()
    expect(ada.get_by_test_id("members")).to_contain_text("bob")
    invited = sidebar_rooms(bob).get_by_role("button", name=f"# {name} private")
    expect(invited).to_be_visible()
    invited.click()
    expect(bob.get_by_text("only for the invited")).to_be_visible()


def test_a_direct_message_between_two_people(browser: Browser, team: Target) -> None:
    ada = open_signed_in(browser, team.url, "ada")
    bob = open_signed_in(browser, team.url, "bob")
    expect(ada.get_by_test_id("presence")).to_contain_text("bob")
    ada.get_by_role("button", name="Message bob").click()
    expect(ada.get_by_role("heading", level=2, name="bob")).to_be_visible()
    say(ada, "just between us")
    direct = bob.get_by_role("navigation", name="Direct messages").get_by_role("button", name="ada")
    expect(direct).to_be_visible()
    direct.click()
    expect(bob.get_by_text("just between us")).to_be_visible()
    # The same two people always get the same conversation: from bob's side too.
    bob.get_by_role("button", name="New message").click()
    bob.get_by_label("To", exact=True).fill("ada")
    bob.get_by_role("button", name="Open conversation").click()
    expect(bob.get_by_role("heading", level=2, name="ada")).to_be_visible()
    expect(bob.get_by_text("just between us")).to_be_visible()
    # bob leaves it: out of his list, and what ada writes next does not bring it back.
    bob.get_by_role("button", name="Leave").click()
    expect(bob.get_by_role("heading", level=2, name="# general")).to_be_visible()
    expect(direct).to_have_count(0)
    say(ada, "still there?")
    expect(ada.locator("li.message.own:not(.pending)", has_text="still there?")).to_be_visible()
    expect(direct).to_have_count(0)
    # Opening it again himself brings him back, to all of it.
    bob.get_by_role("button", name="New message").click()
    bob.get_by_label("To", exact=True).fill("ada")
    bob.get_by_role("button", name="Open conversation").click()
    expect(bob.get_by_role("heading", level=2, name="ada")).to_be_visible()
    expect(bob.get_by_text("still there?")).to_be_visible()
    expect(direct).to_be_visible()


def test_removed_while_the_tab_is_open(browser: Browser, team: Target) -> None:
    name = f"crew-{uuid.uuid4().hex[:6]}"
    ada = open_signed_in(browser, team.url, "ada")
    bob = open_signed_in(browser, team.url, "bob")
    create_room(ada, name, private=True)
    ada.get_by_role("button", name="Members").click()
    ada.get_by_label("Add someone").fill("bob")
    ada.get_by_role("button", name="Add", exact=True).click()
    sidebar_rooms(bob).get_by_role("button", name=f"# {name} private").click()
    expect(bob.get_by_role("heading", level=2, name=f"# {name} private")).to_be_visible()
    say(ada, "before you go")
    expect(bob.get_by_text("before you go")).to_be_visible()
    ada.get_by_role("button", name="Remove bob from the room").click()
    expect(bob.get_by_text(f"You were removed from #{name}")).to_be_visible()
    expect(sidebar_rooms(bob).get_by_role("button", name=f"# {name} private")).to_have_count(0)
    expect(bob.get_by_role("heading", level=2, name="# general")).to_be_visible()
    say(ada, "after you left")
    expect(ada.locator("li.message.own:not(.pending)", has_text="after you left")).to_be_visible()
    expect(bob.get_by_text("after you left")).to_have_count(0)


def test_open_mode_says_anyone_can_use_any_name_and_keeps_nothing_private(
    browser: Browser, target: Target, team: Target
) -> None:
    page = browser.new_context().new_page()
    page.goto(target.url)
    expect(page.get_by_role("note")).to_contain_text("Open mode: anyone can use any name")
    ada = open_as(browser, target.url, "ada")
    expect(ada.get_by_test_id("open-mode")).to_be_visible()
    create = ada.get_by_label("New room")
    create.fill(f"hideout-{uuid.uuid4().hex[:6]}")
    ada.get_by_label("Private: only people you add").check()
    ada.get_by_role("button", name="Create").click()
    expect(ada.get_by_role("alert").filter(has_text="auth mode none")).to_be_visible()
    # Where people sign in as themselves, no such notice.
    signed_in = open_signed_in(browser, team.url, "ada")
    expect(signed_in.get_by_test_id("open-mode")).to_have_count(0)
