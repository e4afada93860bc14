"""Messages that live, in real browsers: edits and deletes seen live by another browser,
reactions, formatting and links, and an edit made while the other user was away, shown after
their connection comes back (resumed, not reloaded)."""

from __future__ import annotations

import re
import uuid

from conftest import Target
from playwright.sync_api import Browser, Locator, Page, WebSocketRoute, expect
from ui import open_as, say, sign_in


def row(page: Page, text: str) -> Locator:
    return page.locator("[data-testid=messages] li.message:not(.pending)").filter(has_text=text)


def act(page: Page, text: str, action: str) -> Locator:
    """Hover the message with this text and click one of its actions; returns the message's
    row, found by its seq from now on (an edit box does not show the text)."""
    seq = row(page, text).get_attribute("data-seq")
    message = page.locator(f"[data-testid=messages] li.message[data-seq='{seq}']")
    message.hover()
    message.get_by_role("button", name=action, exact=True).click()
    return message


def test_edits_and_deletes_are_seen_live(browser: Browser, target: Target, room: str) -> None:
    ada = open_as(browser, target.url, "ada", room)
    bob = open_as(browser, target.url, "bob", room)
    typo = f"a typo heer {uuid.uuid4().hex[:4]}"
    say(ada, typo)
    expect(row(bob, typo)).to_be_visible()
    # Bob may not edit Ada's message: no Edit button for him.
    row(bob, typo).hover()
    expect(row(bob, typo).get_by_role("button", name="Edit", exact=True)).to_have_count(0)

    message = act(ada, typo, "Edit")
    box = message.get_by_role("textbox", name="Edit message")
    expect(box).to_be_focused()
    box.fill("a typo here, fixed")
    box.press("Escape")  # Esc cancels
    expect(row(ada, typo)).to_be_visible()
    act(ada, typo, "Edit").get_by_role("textbox", name="Edit message").fill("a typo here, fixed")
    ada.keyboard.press("Enter")
    fixed = row(bob, "a typo here, fixed")
    expect(fixed).to_be_visible()
    expect(fixed.locator(".edited")).to_have_text("(edited)")
    expect(fixed.locator(".edited")).to_have_attribute(
        "title", re.compile(r"^edited \w")
    )  # the time on hover

    # Up arrow in the empty composer edits the user's last message.
    say(ada, "second thought")
    expect(row(ada, "second thought")).to_be_visible()
    ada.locator(".composer textarea").press("ArrowUp")
    ada.get_by_role("textbox", name="Edit message").fill("second thought, edited")
    ada.keyboard.press("Enter")
    expect(row(bob, "second thought, edited")).to_be_visible()

    message = act(ada, "a typo here, fixed", "Delete")
    message.get_by_role("button", name="Delete", exact=True).last.click()  # the confirmation
    tombstone = bob.locator("li.message.deleted")
    expect(tombstone).to_have_count(1)
    expect(tombstone.locator(".body")).to_have_text("message deleted")
    expect(row(bob, "a typo here")).to_have_count(0)
    # Still there after a reload, as the server has it: the history keeps the tombstone.
    bob.reload()
    expect(bob.locator("li.message.deleted .body")).to_have_text("message deleted")
    expect(row(bob, "second thought, edited")).to_be_visible()


def test_a_reaction_formatting_and_links(browser: Browser, target: Target, room: str) -> None:
    ada = open_as(browser, target.url, "ada", room)
    bob = open_as(browser, target.url, "bob", room)
    ada.locator(".composer textarea").fill(
        "Run this:\n```\nprint('<b>hi</b>')\n```\nDocs at https://example.com/docs and **bold** <img src=x onerror=alert(1)>"
    )
    ada.locator(".composer textarea").press("Enter")
    message = row(bob, "Run this")
    expect(message.locator(".code-block pre code")).to_have_text("print('<b>hi</b>')\n")
    expect(message.locator(".code-block button", has_text="Copy")).to_be_visible()
    link = message.get_by_role("link", name="https://example.com/docs")
    expect(link).to_have_attribute("href", "https://example.com/docs")
    expect(link).to_have_attribute("target", "_blank")
    expect(link).to_have_attribute("rel", "noopener noreferrer nofollow")
    expect(message.locator("strong")).to_have_text("bold")
    expect(message.locator("img")).to_have_count(0)
    expect(message).to_contain_text("<img src=x onerror=alert(1)>")

    act(bob, "Run this", "React")
    bob.get_by_role("button", name="React with 🎉").click()
    chip = row(ada, "Run this").get_by_role("button", name="🎉 1: bob")
    expect(chip).to_be_visible()
    expect(chip).to_have_attribute("aria-pressed", "false")
    chip.click()  # Ada adds hers
    expect(row(bob, "Run this").get_by_role("button", name="🎉 2: bob, ada")).to_have_attribute(
        "aria-pressed", "true"
    )
    # Taking it back.
    row(bob, "Run this").get_by_role("button", name="🎉 2: bob, ada").click()
    expect(row(ada, "Run this").get_by_role("button", name="🎉 1: ada")).to_be_visible()


def test_an_edit_made_while_away_shows_after_reconnecting(
    browser: Browser, target: Target, room: str
) -> None:
    ada = open_as(browser, target.url, "ada", room)
    # Bob's socket goes through the test: it can cut him off, and keep him off, while the
    # page itself (its state, its resume cursor) lives on.
    bob_context = browser.new_context()
    bob = bob_context.new_page()
    sockets: list[WebSocketRoute] = []
    cut_off = {"now": False}

    def through_the_test(socket: WebSocketRoute) -> None:
        if cut_off["now"]:
            socket.close(code=1006, reason="")
            return
        sockets.append(socket)
        socket.connect_to_server()

    bob.route_web_socket("**/api/ws", through_the_test)
    sign_in(bob, target.url, "bob", room)
    say(ada, "before bob left")
    expect(row(bob, "before bob left")).to_be_visible()
    say(ada, "to be changed")
    expect(row(bob, "to be changed")).to_be_visible()

    cut_off["now"] = True
    for socket in sockets:
        socket.close(code=1012, reason="going away")
    expect(bob.get_by_test_id("connection-status")).not_to_have_text("Connected")

    act(ada, "to be changed", "Edit").get_by_role("textbox", name="Edit message").fill(
        "changed while bob was away"
    )
    ada.keyboard.press("Enter")
    act(ada, "before bob left", "React")
    ada.get_by_role("button", name="React with 👀").click()
    expect(row(ada, "before bob left").get_by_role("button", name="👀 1: ada")).to_be_visible()
    # Bob still shows what he had.
    expect(row(bob, "to be changed")).to_be_visible()

    cut_off["now"] = False  # the client's next try (within its 8 s backoff cap) gets through
    expect(bob.get_by_test_id("connection-status")).to_have_text("Connected", timeout=20_000)
    expect(row(bob, "changed while bob was away")).to_be_visible()
    expect(row(bob, "to be changed")).to_have_count(0)
    expect(row(bob, "before bob left").get_by_role("button", name="👀 1: ada")).to_be_visible()
    bob_context.close()
