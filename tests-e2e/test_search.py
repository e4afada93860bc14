"""Search as people use it: "/" or the Search button, operators offered as one types, hits
grouped by room with their matches marked, and Enter opening the room at the message,
highlighted, with history loadable both ways; another browser's new message is found at once,
in any language."""

from __future__ import annotations

import json
import uuid

from conftest import Target
from playwright.sync_api import Browser, Page, expect
from playwright.sync_api import Error as PlaywrightError
from test_chat import post
from ui import message_bodies, open_as, say, wait_until_true
from websockets.sync.client import connect

OLD = 120  # more than a join loads (50): the hit is far back in history


def post_old(target: Target, room: str, special: dict[int, str]) -> list[str]:
    """A bot posts OLD messages to the room, those numbered in ``special`` with their text."""
    bodies = [special.get(i, f"line {i}") for i in range(OLD)]
    with connect(f"{target.ws_url}/api/ws?name=bot") as ws:
        ws.recv()
        ws.send(json.dumps({"type": "join", "room": room}))
        for i, body in enumerate(bodies):
            post(ws, room, body, f"s{i}")
    return bodies


def search(page: Page, query: str) -> None:
    dialog = page.get_by_role("dialog", name="Search")
    expect(dialog).to_be_visible()
    dialog.get_by_role("combobox").fill(query)
    expect(dialog.get_by_test_id("search-status")).to_contain_text("found")


def test_a_hit_opens_its_room_at_the_message_with_history_both_ways(
    browser: Browser, target: Target, room: str
) -> None:
    word = f"qz{uuid.uuid4().hex[:8]}"
    bodies = post_old(target, room, {40: f"Meet at the Hôtel Zürich, {word}"})
    page = open_as(browser, target.url, "reader", room)
    expect(page.locator("li.message")).to_have_count(50)

    # Keyboard only: "/" (outside the message box) opens search; the operators are offered.
    page.get_by_role("region", name="Message history").focus()
    page.keyboard.press("/")
    box = page.get_by_role("dialog", name="Search").get_by_role("combobox")
    expect(box).to_be_focused()
    box.press_sequentially("i")
    expect(page.get_by_role("list", name="Operators")).to_contain_text("in:")
    box.press("Tab")
    expect(box).to_have_value("in:")
    box.press_sequentially(room[:6])
    box.press("Tab")
    expect(box).to_have_value(f"in:{room} ")
    # Accents and case fold, words match inside words: the marks are on the original text.
    box.press_sequentially(f"hotel zur {word[2:]}")
    hits = page.get_by_test_id("search-hit")
    expect(hits).to_have_count(1)
    expect(hits.locator("mark")).to_have_text(["Hôtel", "Zür", word[2:]])
    expect(page.get_by_role("group", name=f"# {room}")).to_be_visible()
    box.press("Enter")

    expect(page.get_by_role("dialog", name="Search")).to_be_hidden()
    focused = page.locator("li.message.focused")
    expect(focused).to_contain_text(f"Meet at the Hôtel Zürich, {word}")
    expect(focused).to_be_in_viewport()
    # Both ways from there: older, then newer, up to the live end, without a gap.
    older = page.get_by_role("button", name="Load older messages")
    newer = page.get_by_test_id("load-newer")
    expect(older).to_be_visible()
    older.dispatch_event("click")
    expect(older).to_have_count(0)

    def at_the_live_end() -> bool:
        """Click "Load newer messages" whenever it may be clicked, until it is gone."""
        try:
            if newer.count() and newer.is_enabled(timeout=1000):
                newer.dispatch_event("click", timeout=1000)
        except PlaywrightError:
            pass  # gone, or loading: asked again
        return newer.count() == 0

    wait_until_true(at_the_live_end, page, "newer pages up to the live end", timeout=60)
    expect(page.locator("li.message")).to_have_count(OLD)
    assert message_bodies(page) == bodies
    # And live again: what the reader says comes at the end.
    say(page, "back at the end")
    expect(page.locator("li.message:not(.pending)").last).to_contain_text("back at the end")


def test_a_new_message_in_any_language_is_found_at_once_on_a_phone(
    browser: Browser, target: Target, room: str
) -> None:
    ada = open_as(browser, target.url, "ada", room)
    bob = open_as(browser, target.url, "bob", room, viewport={"width": 390, "height": 780}, has_touch=True)
    tag = uuid.uuid4().hex[:6]
    say(ada, f"明天在东京开会 {tag}")
    expect(bob.locator("li.message")).to_have_count(1)
    bob.get_by_role("button", name="Search").click()
    # Two Chinese characters (shorter than a trigram), and nothing to split words on.
    search(bob, f"东京 {tag}")
    hit = bob.get_by_test_id("search-hit")
    expect(hit).to_have_count(1)
    expect(hit.locator("mark")).to_have_text(["东京", tag])
    hit.click()
    expect(bob.locator("li.message.focused")).to_contain_text("明天在东京开会")
    # What is not there is not found, and says so.
    bob.get_by_role("button", name="Search").click()
    search_box = bob.get_by_role("dialog", name="Search").get_by_role("combobox")
    search_box.fill(f"大阪 {tag}")
    expect(bob.get_by_test_id("search-status")).to_have_text("Nothing found.")

    # The quick switcher (Ctrl+K) hands what was typed to search when no room or person has it.
    ada.get_by_role("region", name="Message history").focus()
    ada.keyboard.press("Control+k")
    switcher = ada.get_by_role("dialog", name="Jump to")
    switcher.get_by_role("combobox").press_sequentially(tag)
    expect(switcher.get_by_role("option")).to_have_text([f"Search messages for “{tag}” /"])
    switcher.get_by_role("combobox").press("Enter")
    expect(ada.get_by_role("dialog", name="Search").get_by_role("combobox")).to_have_value(tag)
    expect(ada.get_by_test_id("search-hit").locator("mark")).to_have_text([tag])
