"""A team's first day, as issue 28 tells it: each rough edge, fixed and kept fixed. Every test
waits for what a person would see; none asserts on time."""

from __future__ import annotations

import json
import re
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import httpx
from axe_playwright_python.sync_playwright import Axe
from conftest import TEAM_ENV, ServerFactory, Target, login_json, make_room, ws_query
from playwright.sync_api import Browser, Locator, Page, Playwright, expect
from test_chat import post, post_history
from tests.services import HubbubServer
from ui import open_as, wait_until
from websockets.sync.client import ClientConnection, connect

HISTORY = '[role=region][aria-label="Message history"]'


@contextmanager
def speaker(target: Target | HubbubServer, name: str, room: str) -> Iterator[ClientConnection]:
    """Someone else in the room, on a plain WebSocket."""
    with connect(f"{target.ws_url}/api/ws?{ws_query(target, name)}") as ws:
        json.loads(ws.recv(timeout=10))  # hello
        ws.send(json.dumps({"type": "join", "room": room}))
        yield ws


def at_bottom(page: Page) -> bool:
    return bool(
        page.evaluate(
            "(css) => { const r = document.querySelector(css); return r.scrollHeight - r.scrollTop - r.clientHeight < 5; }",
            HISTORY,
        )
    )


def type_lines(page: Page, lines: list[str]) -> None:
    box = page.locator("textarea")
    for i, line in enumerate(lines):
        if i:
            box.press("Shift+Enter")
        box.press_sequentially(line)


# --- 1. The list follows the conversation


def test_the_list_follows_after_a_five_line_message(browser: Browser, target: Target, room: str) -> None:
    post_history(target, room, 30)
    ada = open_as(browser, target.url, "ada", room, viewport={"width": 1000, "height": 700})
    expect(ada.locator("li.message")).to_have_count(30)
    wait_until(
        ada,
        f"() => {{ const r = document.querySelector('{HISTORY}'); return r.scrollHeight - r.scrollTop - r.clientHeight < 5; }}",
    )
    type_lines(ada, [f"line {i}" for i in range(1, 7)])
    ada.locator("textarea").press("Enter")
    mine = ada.locator("li.message.own", has_text="line 6")
    expect(mine).to_be_in_viewport(ratio=0.95)
    with speaker(target, "bob", room) as bob:
        for i in range(3):
            post(bob, room, f"after {i}", f"after-{i}")
    expect(ada.locator("li.message", has_text="after 2")).to_be_in_viewport(ratio=0.95)


def test_scrolled_up_new_messages_offer_a_jump(browser: Browser, target: Target, room: str) -> None:
    post_history(target, room, 40)
    ada = open_as(browser, target.url, "ada", room, viewport={"width": 1000, "height": 700})
    expect(ada.locator("li.message")).to_have_count(40)
    ada.get_by_test_id("messages").hover()
    ada.mouse.wheel(0, -400)
    wait_until(
        ada,
        f"() => {{ const r = document.querySelector('{HISTORY}'); return r.scrollHeight - r.scrollTop - r.clientHeight > 200; }}",
    )
    # A growing message box does not pull the list down while the reader is up there.
    type_lines(ada, [f"draft {i}" for i in range(1, 7)])
    with speaker(target, "bob", room) as bob:
        post(bob, room, "while you read", "w1")
        post(bob, room, "and another", "w2")
    jump = ada.get_by_role("button", name="Jump to latest (2 new)")
    expect(jump).to_be_visible()
    expect(ada.locator("li.message", has_text="and another")).not_to_be_in_viewport()
    jump.click()
    expect(ada.locator("li.message", has_text="and another")).to_be_in_viewport()
    expect(jump).to_have_count(0)


# --- helpers for the rest


def sidebar(page: Page) -> Locator:
    return page.get_by_role("navigation", name="Rooms")


def listed(page: Page, room: str) -> Locator:
    """The room's entry in the sidebar (its accessible name starts with "# room")."""
    return sidebar(page).get_by_role("button", name=re.compile(rf"^# {re.escape(room)}(\W|$)"))


def heading(page: Page, label: str) -> Locator:
    return page.get_by_role("heading", level=2, name=label)


def enter(page: Page, server: Target | HubbubServer, room: str) -> None:
    """Open a room by its address and wait until it is joined (a member from then on)."""
    page.goto(f"{server.url}/?room={room}")
    expect(heading(page, f"# {room}")).to_be_visible()
    # Messages, or "No messages yet", show once the server has answered the join.
    expect(page.locator("li.message").first.or_(page.get_by_text("No messages yet"))).to_be_visible()


def make_rooms(server: Target | HubbubServer, maker: str, names: list[str], topic: str = "") -> None:
    with httpx.Client(base_url=server.url) as http:
        assert http.post("/api/login", json=login_json(server, maker)).status_code == 200
        for name in names:
            answer = http.post("/api/rooms", json={"name": name, "topic": topic})
            assert answer.status_code in (200, 201), answer.text


def api(page: Page, path: str) -> Any:
    """A GET as the page's signed-in user."""
    answer = page.request.get(
        path if path.startswith("http") else f"{page.url.split('/?')[0].rstrip('/')}{path}"
    )
    assert answer.ok, answer.text()
    return answer.json()


def summary_of(page: Page, room: str) -> dict[str, Any]:
    return next(r for r in api(page, "/api/rooms") if r["name"] == room)


def server_says(page: Page, condition: Callable[[], bool], what: str, timeout: float = 15.0) -> None:
    """Poll the server (through the page's session) until the condition holds."""
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        page.wait_for_timeout(50)


ROOMY = {
    "HUBBUB_RATE_LIMIT_PER_SECOND": "1000",
    "HUBBUB_RATE_LIMIT_BURST": "1000",
    "HUBBUB_ROOM_CREATIONS_PER_MINUTE": "1000",
}


# --- 2. Drafts


def test_drafts_stay_per_room_across_switches_and_reloads(
    browser: Browser, target: Target, room: str
) -> None:
    other = f"e2e-{uuid.uuid4().hex[:8]}"
    make_rooms(target, f"maker-{other}", [other])
    with speaker(target, "bob", other) as bob:
        post(bob, other, "what shall we ship?", "q1")
    ada = open_as(browser, target.url, "ada", room)
    enter(ada, target, other)
    question = ada.locator("li.message", has_text="what shall we ship?")
    question.hover()
    question.get_by_role("button", name="Reply").click()
    box = ada.locator("textarea")
    box.press("End")
    box.press_sequentially("the search, I think")
    listed(ada, room).click()
    expect(heading(ada, f"# {room}")).to_be_visible()
    expect(ada.locator("textarea")).to_have_value("")
    expect(listed(ada, other)).to_contain_text("draft")
    listed(ada, other).click()
    expect(ada.locator("textarea")).to_have_value(
        re.compile(r"^> what shall we ship\?\n\n@bob the search, I think$")
    )
    ada.reload()
    expect(ada.locator("textarea")).to_have_value(re.compile(r"the search, I think$"))
    ada.locator("textarea").press("Enter")
    expect(ada.locator("li.message.own:not(.pending)", has_text="the search, I think")).to_be_visible()
    ada.reload()
    expect(ada.get_by_test_id("connection-status")).to_have_text("Connected")
    expect(ada.locator("textarea")).to_have_value("")  # sent: no draft left


# --- 3. Fifty rooms: sections, Browse rooms, a filter


def test_fifty_rooms_in_sections_and_the_rest_behind_browse(
    browser: Browser, start_server: ServerFactory
) -> None:
    server = start_server({**TEAM_ENV, **ROOMY})  # a DM below: people sign in as themselves
    names = [f"room-{i:02d}" for i in range(50)]
    make_rooms(server, "olga", names, topic="where things happen")
    ada = open_as(browser, server.url, "ada", viewport={"width": 1100, "height": 749})
    for name in names[:3]:  # ada is in three of them
        enter(ada, server, name)
    with httpx.Client(base_url=server.url) as http:
        assert http.post("/api/login", json=login_json(server, "bob")).status_code == 200
        dm = http.post("/api/dms", json={"users": ["ada"]}).json()["name"]
    with speaker(server, "bob", dm) as bob:
        post(bob, dm, "lunch?", "dm1")
    # The unread DM is at the top, in its own section, not two thousand pixels down.
    unread = ada.get_by_role("region", name="Unread")
    entry = unread.get_by_role("button", name=re.compile(r"^bob"))
    expect(entry).to_be_visible()
    box = entry.bounding_box()
    assert box is not None and box["y"] < 300, box
    rooms = ada.get_by_role("region", name="Rooms", exact=True)
    expect(rooms.get_by_role("button", name=re.compile(r"^# room-"))).to_have_count(3)
    expect(listed(ada, names[10])).to_have_count(0)  # not one of hers: behind Browse rooms
    # Sections fold.
    toggle = rooms.get_by_role("button", name="Rooms", exact=True)
    toggle.click()
    expect(toggle).to_have_attribute("aria-expanded", "false")
    expect(rooms.get_by_role("button", name=re.compile(r"^# room-"))).to_have_count(0)
    toggle.click()
    # A filter box.
    sidebar(ada).get_by_label("Filter rooms").fill("01")
    expect(sidebar(ada).get_by_role("button", name=re.compile(r"^# room-"))).to_have_count(1)
    sidebar(ada).get_by_label("Filter rooms").fill("")
    # Browse rooms: search, member counts, topic, a preview, then join.
    with speaker(server, "carl", names[42]) as carl:
        post(carl, names[42], "welcome to forty-two", "w42")
    ada.get_by_role("button", name="Browse rooms").click()
    dialog = ada.get_by_role("dialog", name="Browse rooms")
    expect(dialog).to_be_visible()
    dialog.get_by_label("Search rooms").fill("room-42")
    row = dialog.get_by_role("listitem").filter(has_text="# room-42")
    expect(row).to_have_count(1)
    expect(row).to_contain_text("where things happen")
    expect(row).to_contain_text("2 members")  # olga, and carl who posted
    row.get_by_role("button", name="Preview").click()
    expect(dialog.get_by_text("welcome to forty-two")).to_be_visible()
    dialog.get_by_role("button", name="Join # room-42").click()
    expect(heading(ada, "# room-42")).to_be_visible()
    expect(rooms.get_by_role("button", name=re.compile(r"^# room-42"))).to_be_visible()
    # The phone drawer has the same sections.
    ada.set_viewport_size({"width": 390, "height": 844})
    expect(rooms).to_be_hidden()
    ada.get_by_role("button", name=re.compile(r"^Rooms")).click()
    expect(rooms).to_be_visible()
    expect(unread).to_be_visible()
    expect(ada.get_by_role("button", name="Browse rooms")).to_be_visible()


# --- 4. The keyboard: a quick switcher, next and previous room, Esc, the shortcut list, skip links


def test_the_keyboard_gets_everywhere(browser: Browser, start_server: ServerFactory) -> None:
    server = start_server({**TEAM_ENV, **ROOMY})  # a DM below: people sign in as themselves
    make_rooms(server, "olga", ["alpha-team", "beta-launch", "gamma-ops"])
    with httpx.Client(base_url=server.url) as http:
        assert http.post("/api/login", json=login_json(server, "bob")).status_code == 200  # bob is known
    ada = open_as(browser, server.url, "ada", viewport={"width": 1100, "height": 749})
    for name in ("alpha-team", "beta-launch", "gamma-ops", "general"):
        enter(ada, server, name)
    # Ctrl+K: fuzzy search, Enter opens.
    ada.keyboard.press("Control+k")
    switcher = ada.get_by_role("dialog", name="Jump to")
    expect(switcher).to_be_visible()
    search = switcher.get_by_role("combobox")
    expect(search).to_be_focused()
    search.press_sequentially("btlnch")
    expect(switcher.get_by_role("option").first).to_have_text(re.compile(r"# beta-launch"))
    search.press("Enter")
    expect(heading(ada, "# beta-launch")).to_be_visible()
    expect(switcher).to_be_hidden()
    expect(ada.locator("textarea")).to_be_focused()
    # People too: Enter on a person opens the conversation with them.
    ada.keyboard.press("Control+k")
    switcher.get_by_role("combobox").press_sequentially("bob")
    expect(switcher.get_by_role("option", name=re.compile(r"^bob"))).to_be_visible()
    switcher.get_by_role("combobox").press("Enter")
    expect(heading(ada, "bob")).to_be_visible()
    # Alt+Up/Down: the previous and next room in the list's order.
    enter(ada, server, "beta-launch")
    expect(listed(ada, "gamma-ops")).to_be_visible()  # the list is in: there is a next room
    ada.keyboard.press("Alt+ArrowDown")
    expect(heading(ada, "# gamma-ops")).to_be_visible()
    ada.keyboard.press("Alt+ArrowUp")
    expect(heading(ada, "# beta-launch")).to_be_visible()
    # Alt+Shift+Down: the next room with something unread.
    with speaker(server, "carl", "alpha-team") as carl:
        post(carl, "alpha-team", "news in alpha", "n1")
        expect(listed(ada, "alpha-team")).to_contain_text("unread")
        ada.keyboard.press("Alt+Shift+ArrowDown")
        expect(heading(ada, "# alpha-team")).to_be_visible()
        server_says(ada, lambda: summary_of(ada, "alpha-team")["unread"] == 0, "the news in alpha read")
        # Esc marks the room read, even what is not on screen yet.
        enter(ada, server, "gamma-ops")
        for i in range(3):
            post(carl, "alpha-team", f"more {i}", f"m{i}")
        expect(listed(ada, "alpha-team")).to_contain_text("unread: 3")
        ada.keyboard.press("Alt+Shift+ArrowUp")
        expect(heading(ada, "# alpha-team")).to_be_visible()
    ada.locator("textarea").press("Escape")
    head = summary_of(ada, "alpha-team")["head"]
    server_says(
        ada, lambda: summary_of(ada, "alpha-team")["last_read"] == head, "alpha-team read to its head"
    )
    # ? (outside a text field) and Ctrl+/ list the shortcuts.
    ada.get_by_role("region", name="Message history").focus()
    ada.keyboard.press("?")
    shortcuts = ada.get_by_role("dialog", name="Keyboard shortcuts")
    expect(shortcuts).to_be_visible()
    expect(shortcuts).to_contain_text("Alt+Shift+↓")
    ada.keyboard.press("Escape")
    expect(shortcuts).to_be_hidden()
    ada.locator("textarea").press("Control+/")
    expect(shortcuts).to_be_visible()
    ada.keyboard.press("Escape")
    # Skip links: the page's first Tab stops, and one Shift+Tab from the message box.
    ada.reload()
    expect(ada.get_by_test_id("connection-status")).to_have_text("Connected")
    first = ada.evaluate(
        "() => document.querySelector('a[href], button, input, textarea, [tabindex]:not([tabindex=\"-1\"])').textContent"
    )
    assert first == "Skip to the message box"
    skip = ada.get_by_role("link", name="Skip to the message box")
    skip.focus()
    expect(skip).to_be_in_viewport()
    ada.keyboard.press("Enter")
    box = ada.locator("textarea")
    expect(box).to_be_focused()
    box.press("Shift+Tab")
    back = ada.get_by_role("link", name="Back to the room list")
    expect(back).to_be_focused()
    expect(back).to_be_in_viewport()
    ada.keyboard.press("Enter")
    expect(sidebar(ada).get_by_label("Filter rooms")).to_be_focused()


# --- 5. 200 unread: open at the first, with the divider, and count only what was shown


def test_a_long_backlog_opens_at_the_first_unread(browser: Browser, start_server: ServerFactory) -> None:
    server = start_server(ROOMY)
    ada = open_as(browser, server.url, "ada", viewport={"width": 1100, "height": 749})
    assert ada.request.post(f"{server.url}/api/rooms", data={"name": "backlog"}).ok  # hers, nothing read yet
    with speaker(server, "bob", "backlog") as bob:
        for i in range(200):
            post(bob, "backlog", f"backlog {i}", f"b{i}")
    expect(listed(ada, "backlog")).to_contain_text("unread: 200")
    listed(ada, "backlog").click()
    expect(ada.get_by_test_id("new-divider")).to_be_in_viewport()
    expect(ada.locator("li.message .body").get_by_text("backlog 0", exact=True)).to_be_in_viewport()
    expect(ada.get_by_role("button", name=re.compile(r"Jump to latest \(\d+ new\)"))).to_be_visible()
    # What was on screen is read; the rest is not.
    server_says(ada, lambda: summary_of(ada, "backlog")["last_read"] > 0, "the first screenful read")
    listed(ada, "general").click()
    expect(heading(ada, "# general")).to_be_visible()
    read = summary_of(ada, "backlog")["last_read"]
    assert 0 < read < 100, read
    expect(listed(ada, "backlog")).to_contain_text(f"unread: {200 - read}")


# --- 6. @mentions in any script


def test_mention_autocomplete_knows_every_alphabet(browser: Browser, target: Target, room: str) -> None:
    with speaker(target, "Zoë", room), speaker(target, "محمد", room):
        ada = open_as(browser, target.url, "ada", room)
        box = ada.locator("textarea")
        box.press_sequentially("hi @Zo")
        suggestions = ada.get_by_role("listbox", name="People to mention")
        expect(suggestions.get_by_role("option", name="@Zoë")).to_be_visible()
        box.press_sequentially("ë")
        expect(suggestions.get_by_role("option", name="@Zoë")).to_be_visible()
        box.press("Enter")
        expect(box).to_have_value("hi @Zoë ")
        box.press_sequentially("and @مح")
        expect(suggestions.get_by_role("option", name="@محمد")).to_be_visible()
        box.press("Tab")
        expect(box).to_have_value("hi @Zoë and @محمد ")


# --- 7. Focus lands where the user goes on


def test_focus_lands_where_the_user_continues(browser: Browser, team_target: Target, room: str) -> None:
    target = team_target  # a DM below: people sign in as themselves
    with httpx.Client(base_url=target.url) as http:
        assert http.post("/api/login", json=login_json(target, "bob")).status_code == 200
    ada = open_as(browser, target.url, "ada", room)
    ada.get_by_role("button", name="New message").click()
    ada.get_by_label("To", exact=True).fill("bob")
    ada.get_by_role("button", name="Open conversation").click()
    expect(heading(ada, "bob")).to_be_visible()
    box = ada.locator("textarea")
    expect(box).to_be_focused()
    ada.keyboard.type("hi bob")  # the first space must not reopen the dialog
    expect(ada.get_by_role("dialog")).to_be_hidden()
    expect(box).to_have_value("hi bob")
    box.press("Enter")
    mine = ada.locator("li.message.own:not(.pending)", has_text="hi bob")
    expect(mine).to_be_visible()
    mine.hover()
    react = mine.get_by_role("button", name="React", exact=True)
    react.click()
    ada.get_by_role("button", name="React with 🎉").click()
    expect(react).to_be_focused()
    react.click()
    expect(ada.get_by_role("group", name="Pick a reaction")).to_be_visible()
    ada.keyboard.press("Escape")
    expect(react).to_be_focused()
    mine.get_by_role("button", name="Delete").click()
    ada.get_by_role("group", name="Delete this message?").get_by_role("button", name="Delete").click()
    expect(box).to_be_focused()


# --- 8. A quote is not a mention


def test_a_reply_does_not_ping_those_the_quote_mentions(browser: Browser, target: Target, room: str) -> None:
    with speaker(target, "ada", room) as ada_ws, speaker(target, "bob", room) as bob:
        post(bob, room, "@ada can you look?", "q1")
        carol = open_as(browser, target.url, "carol", room)
        question = carol.locator("li.message", has_text="can you look?")
        question.hover()
        question.get_by_role("button", name="Reply").click()
        carol.locator("textarea").press("End")
        carol.locator("textarea").press_sequentially("on it")
        carol.locator("textarea").press("Enter")
        expect(carol.locator("li.message.own:not(.pending)", has_text="on it")).to_be_visible()
        del ada_ws
    history = httpx.get(f"{target.url}/api/rooms/{room}/messages").json()["messages"]
    assert [m["mentions"] for m in history] == [["ada"], ["bob"]]


# --- 9. Formatting: numbered lists, www. links, shortcodes, an emoji picker, big emoji, highlighted code


def test_formatting_a_team_uses(browser: Browser, target: Target, room: str) -> None:
    ada = open_as(browser, target.url, "ada", room)
    scripts: list[str] = []
    ada.on(
        "request", lambda request: scripts.append(request.url) if request.resource_type == "script" else None
    )
    box = ada.locator("textarea")

    def send(text: str) -> Locator:
        mine = ada.locator("li.message.own:not(.pending)")
        before = mine.count()
        box.fill(text)
        box.press("Enter")
        expect(mine).to_have_count(before + 1)
        return ada.locator(f'li.message[data-seq="{mine.last.get_attribute("data-seq")}"]')

    steps = send("1. build\n2. test\n3. ship")
    expect(steps.locator("ol > li")).to_have_count(3)
    assert steps.locator("ol").evaluate("(ol) => getComputedStyle(ol).listStyleType") == "decimal"
    link = send("docs at www.example.org/guide").get_by_role("link", name="www.example.org/guide")
    expect(link).to_have_attribute("href", "https://www.example.org/guide")
    expect(send(":tada: shipped").locator(".body")).to_have_text("🎉 shipped")
    # The composer's emoji picker: search, insert, and the recent one first next time.
    ada.get_by_role("button", name="Emoji").click()
    picker = ada.get_by_role("group", name="Pick an emoji")
    picker.get_by_label("Search emoji").fill("rocket")
    picker.get_by_role("button", name="Insert 🚀").click()
    expect(box).to_have_value("🚀")
    expect(box).to_be_focused()
    ada.get_by_role("button", name="Emoji").click()
    expect(picker.locator(".emoji-grid button").first).to_have_accessible_name("Insert 🚀")
    ada.keyboard.press("Escape")
    big = send("🚀🚀").locator(".body")
    small = steps.locator(".body li").first
    big_size = float(big.evaluate("(b) => parseFloat(getComputedStyle(b).fontSize)"))
    assert big_size >= 1.8 * float(small.evaluate("(b) => parseFloat(getComputedStyle(b).fontSize)"))
    # Highlighting: its code is fetched only once a code block is shown, and styled by classes.
    assert not [url for url in scripts if "highlight" in url]
    code = send("```python\ndef ship(version):\n    return True\n```").locator("code")
    expect(code.locator(".hljs-keyword").first).to_have_text("def")
    assert [url for url in scripts if "highlight" in url]


# --- 10. Phone: one top row, a Members close button, a dialog that fits, popovers in view


def test_phone_top_bar_sheet_and_dialog_fit(browser: Browser, target: Target, room: str) -> None:
    phone = open_as(browser, target.url, "mo", room, viewport={"width": 390, "height": 844}, is_mobile=True)
    bar = phone.locator("header.topbar")
    box = bar.bounding_box()
    assert box is not None and box["height"] <= 60, box
    expect(bar).to_contain_text(f"# {room}")
    expect(bar.get_by_role("button", name=re.compile(r"^Rooms"))).to_be_visible()
    expect(bar.get_by_role("button", name="Menu")).to_be_visible()
    bar.get_by_role("button", name="Menu").click()
    expect(phone.get_by_role("button", name="Sign out")).to_be_visible()
    phone.keyboard.press("Escape")
    expect(phone.get_by_role("button", name="Sign out")).to_be_hidden()
    phone.get_by_role("button", name="Members").click()
    members = phone.get_by_role("region", name=re.compile(r"^Members"))
    expect(members).to_be_visible()
    members.get_by_role("button", name="Close").click()
    expect(members).to_be_hidden()
    expect(phone.get_by_role("button", name="Members")).to_be_focused()
    phone.get_by_role("button", name=re.compile(r"^Rooms")).click()
    phone.get_by_role("button", name="New message").click()
    dialog = phone.get_by_role("dialog", name="New message")
    field = dialog.get_by_label("To", exact=True).bounding_box()
    frame = dialog.bounding_box()
    assert field is not None and frame is not None
    assert field["x"] + field["width"] <= frame["x"] + frame["width"], (field, frame)


def test_popovers_open_inside_the_window(browser: Browser, target: Target, room: str) -> None:
    post_history(target, room, 30)
    ada = open_as(browser, target.url, "ada", room, viewport={"width": 1000, "height": 600})
    expect(ada.locator("li.message")).to_have_count(30)
    say_text = "the last word"
    ada.locator("textarea").fill(say_text)
    ada.locator("textarea").press("Enter")
    last = ada.locator("li.message.own:not(.pending)", has_text=say_text)
    expect(last).to_be_visible()
    last.hover()
    last.get_by_role("button", name="React", exact=True).click()
    expect(ada.get_by_role("group", name="Pick a reaction")).to_be_in_viewport(ratio=1)
    ada.keyboard.press("Escape")
    last.hover()
    last.get_by_role("button", name="Delete").click()
    expect(ada.get_by_role("group", name="Delete this message?")).to_be_in_viewport(ratio=1)


# --- 11. The room list follows leaving, archiving and removal


def test_the_room_list_follows_leave_archive_and_removal(browser: Browser, target: Target) -> None:
    gone, shelved = f"e2e-{uuid.uuid4().hex[:8]}", f"e2e-{uuid.uuid4().hex[:8]}"
    olga = open_as(browser, target.url, "olga")
    for name in (gone, shelved):
        assert olga.request.post(f"{target.url}/api/rooms", data={"name": name}).ok
    bob = open_as(browser, target.url, "bob", gone)
    enter(bob, target, shelved)
    other_tab = bob.context.new_page()
    other_tab.goto(f"{target.url}/?room=general")
    expect(listed(other_tab, gone)).to_be_visible()
    listed(bob, gone).click()
    bob.get_by_role("button", name="Leave").click()
    expect(heading(bob, "# general")).to_be_visible()
    expect(listed(bob, gone)).to_have_count(0)
    expect(listed(other_tab, gone)).to_have_count(0)  # the other tab follows
    # Archived by its owner: out of everyone's list, into Browse rooms' Archived.
    assert olga.request.patch(f"{target.url}/api/rooms/{shelved}", data={"archived": True}).ok
    expect(listed(other_tab, shelved)).to_have_count(0)
    other_tab.get_by_role("button", name="Browse rooms").click()
    browse = other_tab.get_by_role("dialog", name="Browse rooms")
    browse.get_by_role("tab", name="Archived").click()
    expect(browse.get_by_role("listitem").filter(has_text=f"# {shelved}")).to_be_visible()
    other_tab.keyboard.press("Escape")
    # Removed from a public room: told that joining again is open to them.
    assert olga.request.patch(f"{target.url}/api/rooms/{shelved}", data={"archived": False}).ok
    expect(listed(bob, shelved)).to_be_visible()
    listed(bob, shelved).click()
    assert olga.request.delete(f"{target.url}/api/rooms/{shelved}/members/bob").ok
    expect(bob.get_by_role("alert").filter(has_text=f"You were removed from #{shelved}")).to_contain_text(
        "public: you can join it again"
    )


# --- 12. Right-to-left


def test_right_to_left_text_reads_right_to_left(browser: Browser, target: Target, room: str) -> None:
    ada = open_as(browser, target.url, "ada", room)
    box = ada.locator("textarea")
    box.fill("مرحبا بالجميع")
    assert box.evaluate("(b) => getComputedStyle(b).direction") == "rtl"
    box.press("Enter")
    body = ada.locator("li.message.own:not(.pending) .body")
    expect(body).to_have_text("مرحبا بالجميع")
    assert body.evaluate("(b) => getComputedStyle(b).direction") == "rtl"
    with speaker(target, "سارة", room) as sara:
        post(sara, room, "hello", "h1")
    author = ada.locator("li.message", has_text="hello").locator(".author")
    expect(author).to_have_attribute("dir", "auto")
    assert author.evaluate("(a) => getComputedStyle(a).direction") == "rtl"


# --- 13. Grouped messages, long ones folded


def test_a_run_of_messages_is_grouped_and_a_long_one_folded(
    browser: Browser, target: Target, room: str
) -> None:
    with speaker(target, "bot-log", room) as bot:
        for i in range(3):
            post(bot, room, f"step {i}", f"s{i}")
        post(bot, room, "\n".join(f"log line {i}" for i in range(200)), "log")
    ada = open_as(browser, target.url, "ada", room, viewport={"width": 1100, "height": 800})
    expect(ada.locator("li.message")).to_have_count(4)
    # Their name shows once; it is still read out for each (visually hidden, not removed).
    shown = ada.locator("li.message .author").evaluate_all(
        "(names) => names.map((n) => n.getBoundingClientRect().width > 2)"
    )
    assert shown == [True, False, False, False]
    expect(ada.locator("li.message.continued")).to_have_count(3)
    log = ada.locator("li.message").last
    box = log.bounding_box()
    assert box is not None and box["height"] < 700, box
    more = log.get_by_role("button", name="Show more")
    more.click()
    expect(log.get_by_role("button", name="Show less")).to_have_attribute("aria-expanded", "true")
    box = log.bounding_box()
    assert box is not None and box["height"] > 3000, box


# --- 14. A DM preview (opt-in), the size limit said, a readable "sending…"


def check(page: Page, screen: str) -> None:
    """No serious or critical axe violation on what the page shows."""
    result = Axe().run(page)
    serious = [v for v in result.response["violations"] if v["impact"] in ("serious", "critical")]
    assert not serious, f"{screen}: {result.generate_report()}"


RECORD_NOTIFICATIONS = """
window.__shown = [];
window.__hidden = false;
Object.defineProperty(Document.prototype, "visibilityState", { get: () => (window.__hidden ? "hidden" : "visible") });
Object.defineProperty(Document.prototype, "hidden", { get: () => window.__hidden });
const Real = window.Notification;
window.Notification = class extends Real {
  constructor(title, options) { super(title, options); window.__shown.push([title, options && options.body]); }
};
Object.defineProperty(window.Notification, "permission", { get: () => Real.permission });
window.Notification.requestPermission = (...args) => Real.requestPermission(...args);
"""


def test_a_direct_message_notification_can_show_its_text(
    browser: Browser, team_target: Target, room: str
) -> None:
    target = team_target  # a DM: people sign in as themselves
    context = browser.new_context()
    context.grant_permissions(["notifications"], origin=target.url)
    context.add_init_script(RECORD_NOTIFICATIONS)
    ada = context.new_page()
    from ui import sign_in

    sign_in(ada, target.url, "ada", room)
    ada.get_by_role("button", name="Notifications off").click()
    previews = ada.get_by_role("button", name="Previews off")
    previews.click()
    expect(ada.get_by_role("button", name="Previews on")).to_be_visible()
    ada.evaluate("window.__hidden = true")
    with httpx.Client(base_url=target.url) as http:
        assert http.post("/api/login", json=login_json(target, "bob")).status_code == 200
        dm = http.post("/api/dms", json={"users": ["ada"]}).json()["name"]
    with speaker(target, "bob", dm) as bob:
        post(bob, dm, "the launch moved to friday", "d1")
    wait_until(ada, "() => window.__shown.length > 0")
    assert ada.evaluate("window.__shown") == [["New message from bob", "bob: the launch moved to friday"]]


def test_a_message_too_long_says_the_limit(browser: Browser, target: Target, room: str) -> None:
    ada = open_as(browser, target.url, "ada", room)
    ada.locator("textarea").fill("x" * 20_000)
    hint = ada.locator(".composer .hint.error")
    expect(hint).to_contain_text("20,000")
    expect(hint).to_contain_text("15,872")
    expect(ada.get_by_role("button", name="Send")).to_be_disabled()


def test_the_new_screens_pass_axe(
    playwright: Playwright, browser: Browser, target: Target, room: str
) -> None:
    with speaker(target, "bob", room) as bob:
        post(bob, room, "```js\nconst answer = 42; // the answer\n```", "c1")
        post(bob, room, ":tada: and www.example.org", "c2")
    # A room whose preview is taller than its box: the scrolling case is the one axe judges.
    busy = make_room(playwright, target, f"{room}-busy")
    with speaker(target, "bob", busy) as bob:
        for n in range(8):
            post(bob, busy, f"note {n}: " + "the quarterly plan, read it before friday " * 8, f"b{n}")
    for scheme in ("light", "dark"):
        page = browser.new_context(color_scheme=scheme, viewport={"width": 1100, "height": 750}).new_page()
        from ui import sign_in

        sign_in(page, target.url, f"axel-{scheme}", room)
        expect(page.locator(".hljs-keyword").first).to_be_visible()
        check(page, f"chat with code, {scheme}")
        page.get_by_role("button", name="Browse rooms").click()
        browse = page.get_by_role("dialog", name="Browse rooms")
        browse.get_by_role("searchbox").fill(busy)
        browse.get_by_role("button", name="Preview").click()
        expect(browse.locator(".preview-messages li")).to_have_count(8)
        check(page, f"browse rooms, {scheme}")
        page.keyboard.press("Escape")
        page.keyboard.press("Control+k")
        page.get_by_role("dialog", name="Jump to").get_by_role("combobox").press_sequentially("gen")
        check(page, f"switcher, {scheme}")
        page.keyboard.press("Escape")
        page.get_by_role("region", name="Message history").focus()
        page.keyboard.press("?")
        expect(page.get_by_role("dialog", name="Keyboard shortcuts")).to_be_visible()
        check(page, f"shortcut list, {scheme}")
        page.keyboard.press("Escape")
        page.get_by_role("button", name="Emoji").click()
        expect(page.get_by_role("group", name="Pick an emoji")).to_be_visible()
        check(page, f"emoji picker, {scheme}")
        page.keyboard.press("Escape")
        page.set_viewport_size({"width": 390, "height": 844})
        check(page, f"phone, {scheme}")
        page.get_by_role("button", name=re.compile(r"^Rooms")).click()
        check(page, f"phone drawer, {scheme}")


def test_a_message_waiting_to_be_sent_is_readable(browser: Browser, target: Target, room: str) -> None:
    for scheme in ("light", "dark"):
        page = open_as(browser, target.url, f"wendy-{scheme}", room, color_scheme=scheme)
        target.stop()
        expect(page.get_by_test_id("connection-status")).not_to_have_text("Connected")
        page.locator("textarea").fill("waiting to go")
        page.locator("textarea").press("Enter")
        expect(page.get_by_test_id("pending-message").get_by_text("sending…")).to_be_visible()
        check(page, f"a message waiting to be sent, {scheme}")
        target.start()
        page.context.close()
