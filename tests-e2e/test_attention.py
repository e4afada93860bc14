"""Where something new happened, as people see it: badges, the title, the divider, notifications."""

from __future__ import annotations

import uuid

from conftest import Target
from playwright.sync_api import Browser, Page, Playwright, expect
from ui import open_as, open_room, say, wait_until


def public_room(playwright: Playwright, target: Target) -> str:
    """Another public room, made by a user of its own."""
    name = f"e2e-{uuid.uuid4().hex[:8]}"
    maker = playwright.request.new_context(base_url=target.url)
    assert maker.post("/api/login", data={"name": f"maker-{name}"}).ok
    assert maker.post("/api/rooms", data={"name": name}).ok
    maker.dispose()
    return name


def room_button(page: Page, room: str) -> object:
    return page.get_by_role("navigation", name="Rooms").get_by_role("button", name=f"# {room}")


def visit(page: Page, room: str) -> None:
    open_room(page, room)


def test_a_mention_in_another_room_lights_the_badge_and_the_title(
    browser: Browser, playwright: Playwright, target: Target, room: str
) -> None:
    other = public_room(playwright, target)
    ada = open_as(browser, target.url, "ada", other)  # a member of both rooms, looking at `room`
    visit(ada, room)
    bob = open_as(browser, target.url, "bob", other)
    say(bob, "@ada look at this please")
    say(bob, "and something without a mention")
    badge = room_button(ada, other).get_by_test_id("mention-count")
    expect(badge).to_contain_text("mentions: 1")
    expect(room_button(ada, other)).to_have_class("room unread")
    expect(ada).to_have_title("(1) Hubbub")
    visit(ada, other)  # reading it clears both
    expect(ada.locator("li.message.mentions-me")).to_have_count(1)
    expect(ada).to_have_title("Hubbub")
    expect(room_button(ada, other).get_by_test_id("mention-count")).to_have_count(0)


def test_reading_in_one_tab_clears_the_other(
    browser: Browser, playwright: Playwright, target: Target, room: str
) -> None:
    other = public_room(playwright, target)
    tab_one = open_as(browser, target.url, "ada", other)
    visit(tab_one, room)
    tab_two = tab_one.context.new_page()  # the same person, the same session, another tab
    tab_two.goto(f"{target.url}/?room={room}")
    expect(tab_two.get_by_test_id("connection-status")).to_have_text("Connected")
    bob = open_as(browser, target.url, "bob", other)
    for i in range(3):
        say(bob, f"news {i}")
    for tab in (tab_one, tab_two):
        expect(room_button(tab, other).get_by_test_id("unread-count")).to_contain_text("unread: 3")
    visit(tab_one, other)
    expect(tab_one.get_by_text("news 2")).to_be_visible()
    expect(room_button(tab_two, other).get_by_test_id("unread-count")).to_have_count(0)
    expect(room_button(tab_two, other)).not_to_have_class("room unread")


def test_the_divider_sits_where_reading_stopped(
    browser: Browser, playwright: Playwright, target: Target, room: str
) -> None:
    other = public_room(playwright, target)
    bob = open_as(browser, target.url, "bob", other)
    for i in range(3):
        say(bob, f"old {i}")
    ada = open_as(browser, target.url, "ada", other)
    expect(ada.get_by_text("old 2")).to_be_visible()  # read on screen
    expect(ada.get_by_test_id("new-divider")).to_have_count(0)
    visit(ada, room)
    for i in range(2):
        say(bob, f"new {i}")
    expect(room_button(ada, other).get_by_test_id("unread-count")).to_contain_text("unread: 2")
    visit(ada, other)
    divider = ada.get_by_test_id("new-divider")
    expect(divider).to_have_text("New messages")
    expect(ada.locator("li.new-divider + li.message .body")).to_have_text("new 0")
    # Day separators, and the full date of each message in its accessible name.
    expect(ada.locator("li.day").first).to_have_text("Today")
    label = ada.locator("li.message time").first.get_attribute("aria-label")
    assert label is not None and any(ch.isdigit() for ch in label)


# Stands in for the browser's Notification and page visibility: the tab can be "hidden" on
# command, and every notification shown is recorded.
FAKE_HIDDEN_TAB = """
window.__shown = [];
window.__hidden = false;
Object.defineProperty(Document.prototype, "visibilityState", { get: () => (window.__hidden ? "hidden" : "visible") });
Object.defineProperty(Document.prototype, "hidden", { get: () => window.__hidden });
const Real = window.Notification;
window.Notification = class extends Real {
  constructor(title, options) { super(title, options); window.__shown.push(title); }
};
Object.defineProperty(window.Notification, "permission", { get: () => Real.permission });
window.Notification.requestPermission = (...args) => Real.requestPermission(...args);
"""


def test_a_notification_for_a_mention_while_the_tab_is_hidden(
    browser: Browser, playwright: Playwright, target: Target, room: str
) -> None:
    other = public_room(playwright, target)
    context = browser.new_context()
    context.grant_permissions(["notifications"], origin=target.url)
    context.add_init_script(FAKE_HIDDEN_TAB)
    ada = context.new_page()
    from ui import sign_in

    sign_in(ada, target.url, "ada", other)
    visit(ada, room)
    ada.get_by_role("button", name="Notifications off").click()
    expect(ada.get_by_role("button", name="Notifications on")).to_be_visible()
    ada.evaluate("window.__hidden = true")
    bob = open_as(browser, target.url, "bob", other)
    say(bob, "@ada are you there?")
    wait_until(ada, "() => window.__shown.length > 0")
    assert ada.evaluate("window.__shown") == [f"You were mentioned in # {other}"]
