"""A person's view of Hubbub, in a real browser, against a real server."""

from __future__ import annotations

import json
import re
import time
import uuid

import httpx
import pytest
from axe_playwright_python.sync_playwright import Axe
from conftest import Target
from playwright.sync_api import Browser, expect
from ui import message_bodies, open_as, say, sign_in
from websockets.sync.client import ClientConnection, connect


def unique(text: str) -> str:
    return f"{text} {uuid.uuid4().hex[:6]}"


@pytest.mark.smoke
def test_two_users_chat_live(browser: Browser, target: Target, room: str) -> None:
    ada = open_as(browser, target.url, "ada", room)
    bob = open_as(browser, target.url, "bob", room)
    hello = unique("hello bob")
    say(ada, hello)
    expect(bob.get_by_text(hello)).to_be_visible()
    mine = ada.locator("li.message.own", has_text=hello)
    expect(mine).to_be_visible()
    expect(mine.locator(".author")).to_have_text("ada")
    expect(mine.locator("time")).to_have_attribute("datetime", re.compile(r"^\d{4}-\d\d-\d\dT"))
    theirs = bob.locator("li.message", has_text=hello)
    expect(theirs).not_to_have_class(re.compile(r"\bown\b"))
    reply = unique("hi ada")
    say(bob, reply)
    expect(ada.get_by_text(reply)).to_be_visible()
    assert message_bodies(ada) == [hello, reply]


def test_keyboard_only(browser: Browser, target: Target, room: str) -> None:
    context = browser.new_context()
    page = context.new_page()
    page.goto(f"{target.url}/?room={room}")
    expect(page.get_by_label("Display name")).to_be_focused()  # where the user starts
    page.keyboard.type("kay")
    page.keyboard.press("Enter")
    expect(page.get_by_test_id("connection-status")).to_have_text("Connected")
    expect(page.locator("textarea")).to_be_focused()  # and then, the message box
    text = unique("typed with keys")
    page.keyboard.type(text)
    page.keyboard.press("Enter")
    expect(page.locator("li.message.own", has_text=text)).to_be_visible()


@pytest.mark.smoke
def test_history_after_reload_in_order_without_duplicates(
    browser: Browser, target: Target, room: str
) -> None:
    page = open_as(browser, target.url, "ada", room)
    sent = [unique(f"message {i}") for i in range(8)]
    for text in sent:
        say(page, text)
    expect(page.locator("li.message:not(.pending)")).to_have_count(8)
    page.reload()
    expect(page.get_by_test_id("connection-status")).to_have_text("Connected")
    expect(page.locator("li.message")).to_have_count(8)
    assert message_bodies(page) == sent


def post(ws: ClientConnection, room: str, body: str, ref: str) -> None:
    """Send one message and wait for its ack, waiting out the rate limit like a good client."""
    while True:
        ws.send(json.dumps({"type": "send", "room": room, "body": body, "client_msg_id": ref}))
        while True:
            frame = json.loads(ws.recv(timeout=10))
            if frame["type"] in ("ack", "error") and ref in (frame.get("client_msg_id"), frame.get("ref")):
                break
        if frame["type"] == "ack":
            return
        assert frame["code"] == "rate_limited", frame
        time.sleep(frame["retry_after"])


def post_history(target: Target, room: str, count: int) -> None:
    """A bot posts "old 0", "old 1", … to the room before anyone opens it."""
    with connect(f"{target.ws_url}/api/ws?name=bot") as ws:
        ws.recv()
        ws.send(json.dumps({"type": "join", "room": room}))
        for i in range(count):
            post(ws, room, f"old {i}", f"h{i}")


def test_paging_back_through_history(browser: Browser, target: Target, room: str) -> None:
    post_history(target, room, 70)
    page = open_as(browser, target.url, "reader", room)
    expect(page.locator("li.message")).to_have_count(50)
    # Dispatched where it is: a real click first scrolls the button into view, and scrolling up
    # to the top loads older messages by itself, racing the click (the button can be gone by
    # the time the click lands). The scroll-up path is the restore test's (test_ui_fixes.py).
    page.get_by_role("button", name="Load older messages").dispatch_event("click")
    expect(page.locator("li.message")).to_have_count(70)
    assert message_bodies(page) == [f"old {i}" for i in range(70)]
    expect(page.get_by_role("button", name="Load older messages")).to_have_count(0)


# Hands each frame the server sends to the page 30 ms after the one before, so history
# renders message by message, the way it does on a slow link or a busy machine.
SLOW_SOCKET = """
const Real = window.WebSocket;
window.WebSocket = class extends Real {
  constructor(...args) {
    super(...args);
    let queue = Promise.resolve();
    const add = this.addEventListener.bind(this);
    this.addEventListener = (type, listener, options) =>
      type !== "message"
        ? add(type, listener, options)
        : add(type, (event) => {
            queue = queue.then(() => new Promise((done) => setTimeout(() => { listener(event); done(); }, 30)));
          }, options);
    Object.defineProperty(this, "onmessage", { set: (listener) => this.addEventListener("message", listener) });
  }
};
"""


@pytest.mark.parametrize("height", [500, 517, 534])
def test_history_streaming_in_does_not_page_back_on_its_own(
    browser: Browser, target: Target, room: str, height: int
) -> None:
    """Sticking to the bottom while history arrives passes near the top of a list that has just
    begun to overflow; only the reader scrolling up may fetch older pages. The heights are 17 px
    apart so that, whatever a message's height, one of them overflows by less than the 60 px
    that counts as near the top."""
    post_history(target, room, 60)
    context = browser.new_context(viewport={"width": 1000, "height": height})
    context.add_init_script(SLOW_SOCKET)
    page = context.new_page()
    fetched: list[str] = []
    page.on("request", lambda request: fetched.append(request.url) if "before=" in request.url else None)
    sign_in(page, target.url, "reader", room)
    expect(page.locator("li.message")).to_have_count(50)
    page.evaluate("new Promise((done) => requestAnimationFrame(() => requestAnimationFrame(done)))")
    assert fetched == []
    expect(page.get_by_role("button", name="Load older messages")).to_be_visible()
    context.close()


def test_scrolling_up_to_the_top_loads_older_and_keeps_the_place(
    browser: Browser, target: Target, room: str
) -> None:
    post_history(target, room, 70)
    page = open_as(browser, target.url, "reader", room)
    expect(page.locator("li.message")).to_have_count(50)
    page.get_by_test_id("messages").hover()
    page.mouse.wheel(0, -100_000)
    expect(page.locator("li.message")).to_have_count(70)
    assert message_bodies(page) == [f"old {i}" for i in range(70)]
    # The reader stays where they were: the message that was at the top is still in view.
    expect(page.get_by_text("old 20", exact=True)).to_be_in_viewport()


def test_presence_typing_and_join_leave_notices(browser: Browser, target: Target, room: str) -> None:
    ada = open_as(browser, target.url, "ada", room)
    bob = open_as(browser, target.url, "bob", room)
    presence = ada.get_by_test_id("presence")
    expect(presence).to_contain_text("bob")
    expect(ada.get_by_text("bob joined")).to_be_visible()
    bob.locator("textarea").fill("thinking")
    expect(ada.get_by_text("bob is typing…")).to_be_visible()
    bob.context.close()
    expect(presence).not_to_contain_text("bob")
    expect(ada.get_by_text("bob left")).to_be_visible()


def test_plain_text_client_shares_the_default_room(browser: Browser, target: Target) -> None:
    page = open_as(browser, target.url, "ada")
    line = unique("from the tutorial client")
    with connect(f"{target.ws_url}/ws/4242") as plain:
        plain.send(line)
        assert plain.recv(timeout=10) == f"You wrote: {line}"
        assert plain.recv(timeout=10) == f"Client #4242 says: {line}"
        shown = page.locator("li.message", has_text=line)
        expect(shown.locator(".author")).to_have_text("Client #4242")
        answer = unique("hello plain text")
        say(page, answer)
        received = [str(plain.recv(timeout=10))]
        while f"Client #ada says: {answer}" not in received:
            received.append(str(plain.recv(timeout=10)))


def test_accessibility_no_serious_violations(browser: Browser, target: Target, room: str) -> None:
    axe = Axe()
    for scheme in ("light", "dark"):
        context = browser.new_context(color_scheme=scheme)
        page = context.new_page()
        page.goto(f"{target.url}/?room={room}")
        page.get_by_label("Display name").wait_for()
        login = axe.run(page)
        sign_in(page, target.url, "axel", room)
        text = unique("checking contrast")
        say(page, text)
        expect(page.locator("li.message.own:not(.pending)", has_text=text)).to_have_count(1)
        chat = axe.run(page)
        for result in (login, chat):
            serious = [v for v in result.response["violations"] if v["impact"] in ("serious", "critical")]
            assert not serious, result.generate_report()
        context.close()


def test_phone_width_has_no_horizontal_scroll(browser: Browser, target: Target, room: str) -> None:
    page = open_as(browser, target.url, "mo", room, viewport={"width": 360, "height": 740}, is_mobile=True)
    say(page, "a-very-long-word-" * 20)
    expect(page.locator("li.message.own:not(.pending)")).to_have_count(1)
    overflow = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
    assert overflow <= 0
    expect(page.locator("textarea")).to_be_in_viewport()


@pytest.mark.smoke
def test_server_restart_messages_typed_during_outage_arrive_once(
    browser: Browser, restartable_target: Target, room: str
) -> None:
    target = restartable_target
    ada = open_as(browser, target.url, "ada", room)
    bob = open_as(browser, target.url, "bob", room)
    before = unique("before restart")
    say(ada, before)
    expect(bob.get_by_text(before)).to_be_visible()

    target.stop()
    status = ada.get_by_test_id("connection-status")
    expect(status).not_to_have_text("Connected")
    during = [unique(f"typed during outage {i}") for i in range(3)]
    for text in during:
        say(ada, text)
    expect(ada.get_by_test_id("pending-message")).to_have_count(3)
    expect(status).to_contain_text("3 messages waiting to send")
    target.start()

    expect(status).to_have_text("Connected", timeout=45_000)
    expect(bob.get_by_test_id("connection-status")).to_have_text("Connected", timeout=45_000)
    for page in (ada, bob):
        expect(page.locator("li.message:not(.pending)")).to_have_count(4, timeout=20_000)
        assert message_bodies(page) == [before, *during]
    expect(ada.get_by_test_id("pending-message")).to_have_count(0)
    history = httpx.get(f"{target.url}/api/rooms/{room}/messages").json()["messages"]
    assert [m["body"] for m in history] == [before, *during]


def test_sign_out_returns_to_sign_in(browser: Browser, target: Target, room: str) -> None:
    page = open_as(browser, target.url, "sam", room)
    page.get_by_role("button", name="Sign out").click()
    expect(page.get_by_label("Display name")).to_be_visible()
    page.reload()
    expect(page.get_by_label("Display name")).to_be_visible()
