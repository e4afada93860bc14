"""What a new user tripped over, each fixed and kept fixed: scrolling per room, lost rooms,
reconnecting, the outbox across reloads, phones, the message box, focus, names, errors, long
names, notices, too many tabs, reloads, and accessibility on every screen."""

from __future__ import annotations

import uuid

import httpx
import pytest
from axe_playwright_python.sync_playwright import Axe
from conftest import ServerFactory, Target
from playwright.sync_api import Browser, Page, expect
from test_chat import post_history
from ui import open_as, open_room, say, sign_in, wait_until, wait_until_true


def top_message(page: Page) -> str:
    """The body of the top-most message on screen."""
    return str(
        page.evaluate(
            """() => {
              const region = document.querySelector('[role=region][aria-label="Message history"]');
              for (const li of region.querySelectorAll('li[data-seq]'))
                if (li.offsetTop + li.offsetHeight > region.scrollTop) return li.querySelector('.body').textContent.trim();
            }"""
        )
    )


def scroll_up(page: Page, pixels: int) -> None:
    page.evaluate(
        """(px) => { const r = document.querySelector('[role=region][aria-label="Message history"]');
                     r.scrollTop = r.scrollHeight - r.clientHeight - px; r.dispatchEvent(new Event('scroll')); }""",
        pixels,
    )


def at_bottom(page: Page) -> bool:
    return bool(
        page.evaluate(
            """() => { const r = document.querySelector('[role=region][aria-label="Message history"]');
                       return r.scrollHeight - r.scrollTop - r.clientHeight < 5; }"""
        )
    )


def room_button(page: Page, room: str) -> object:
    return page.get_by_role("navigation", name="Rooms").get_by_role("button", name=f"# {room}")


def test_each_room_keeps_its_own_place(browser: Browser, target: Target, room: str) -> None:
    other = f"e2e-{uuid.uuid4().hex[:8]}"
    httpx_post_room(target, other)
    post_history(target, room, 40)
    post_history(target, other, 40)
    page = open_as(browser, target.url, "reader", room, viewport={"width": 1000, "height": 600})
    expect(page.locator("li.message")).to_have_count(40)
    scroll_up(page, 300)
    place = top_message(page)
    open_room(page, other)  # not one of the reader's rooms yet: from Browse rooms
    expect(page.get_by_text("old 39", exact=True)).to_be_visible()
    wait_until(page, "() => document.querySelectorAll('li.message').length === 40")
    assert at_bottom(page)  # a first visit opens at the newest
    room_button(page, room).click()
    expect(page.locator("li.message")).to_have_count(40)
    wait_until(
        page, "() => { const r = document.querySelector('[role=region]'); return r && r.scrollTop > 0; }"
    )
    assert top_message(page) == place  # and a room left comes back where it was
    # A reload comes back to the room and the place, too.
    page.reload()
    expect(page.get_by_role("heading", level=2, name=f"# {room}")).to_be_visible()
    expect(page.locator("li.message")).to_have_count(40)
    wait_until_true(lambda: top_message(page) == place, page, f"the place {place!r} after a reload")


def test_a_link_to_a_room_that_does_not_exist(browser: Browser, target: Target) -> None:
    page = open_as(browser, target.url, "lost", "nosuch-room-x")
    alert = page.get_by_role("alert").filter(has_text="There is no room #nosuch-room-x")
    expect(alert).to_be_visible()
    expect(page.get_by_role("heading", level=2, name="# general")).to_be_visible()
    expect(room_button(page, "nosuch-room-x")).to_have_count(0)
    alert.get_by_role("button", name="OK").click()
    expect(alert).to_have_count(0)


def test_reconnecting_is_quick_and_says_so(browser: Browser, restartable_target: Target, room: str) -> None:
    target = restartable_target
    ada = open_as(browser, target.url, "ada", room)
    bob = open_as(browser, target.url, "bob", room)
    expect(ada.get_by_test_id("presence")).to_contain_text("bob")
    # ada's timers stand still: the client's own retries (its backoff) cannot fire, so a socket
    # opened while they stand is the button's doing, however long anything here takes.
    ada.clock.install()
    ada.clock.pause_at(ada.evaluate("Date.now()") + 1000)
    target.stop()
    status = ada.get_by_test_id("connection-status")
    expect(status).not_to_have_text("Connected")
    expect(ada.get_by_role("heading", name="Online when last connected")).to_be_visible()  # greyed
    reconnect = ada.get_by_role("button", name="Reconnect now")
    expect(reconnect).to_be_visible()
    with ada.expect_websocket():  # Reconnect now opens a socket at once
        reconnect.click()
    expect(reconnect).to_be_visible()  # still down: it keeps offering
    target.start()
    ada.clock.resume()
    # Back within the 8 s backoff cap (plus the server's start) without anyone clicking.
    expect(status).to_have_text("Connected", timeout=20_000)
    expect(ada.get_by_role("heading", name="Online (2)")).to_be_visible()
    bob.close()


def test_the_outbox_survives_a_reload_and_is_sent_once(
    browser: Browser, restartable_target: Target, room: str
) -> None:
    target = restartable_target
    page = open_as(browser, target.url, "ada", room)
    target.stop()
    expect(page.get_by_test_id("connection-status")).not_to_have_text("Connected")
    written = [f"written offline {i} {uuid.uuid4().hex[:4]}" for i in range(2)]
    for text in written:
        say(page, text)
    expect(page.get_by_test_id("pending-message")).to_have_count(2)
    # Leaving with unsent messages asks first.
    page.on("dialog", lambda dialog: dialog.dismiss())
    with page.expect_event("dialog") as dialog:
        page.close(run_before_unload=True)
    assert dialog.value.type == "beforeunload"
    # Back later, with the server up again: the page sends what was written, once.
    target.start()
    page = page.context.new_page()
    page.goto(f"{target.url}/?room={room}")
    expect(page.get_by_test_id("connection-status")).to_have_text("Connected")
    for text in written:
        expect(page.locator("li.message.own:not(.pending)", has_text=text)).to_be_visible()
    expect(page.get_by_test_id("pending-message")).to_have_count(0)
    history = httpx.get(f"{target.url}/api/rooms/{room}/messages").json()["messages"]
    assert [m["body"] for m in history] == written  # once each


def test_phone_layout_gives_the_conversation_the_screen(browser: Browser, target: Target, room: str) -> None:
    for i in range(12):
        httpx_post_room(target, f"r{i}-{uuid.uuid4().hex[:6]}")
    page = open_as(browser, target.url, "mo", room, viewport={"width": 390, "height": 844}, is_mobile=True)
    box = page.get_by_role("region", name="Message history").bounding_box()
    assert box is not None and box["height"] > 844 * 0.6, box
    menu = page.get_by_role("button", name="Rooms")
    expect(page.get_by_role("navigation", name="Rooms")).to_be_hidden()
    menu.click()
    expect(page.get_by_role("navigation", name="Rooms")).to_be_visible()
    open_room(page, "general")  # not one of theirs: from Browse rooms
    expect(page.get_by_role("navigation", name="Rooms")).to_be_hidden()
    expect(page.get_by_role("heading", level=2, name="# general")).to_be_visible()


def httpx_post_room(target: Target, name: str) -> None:
    with httpx.Client(base_url=target.url) as http:
        http.post("/api/login", json={"name": f"maker-{name}"})
        assert http.post("/api/rooms", json={"name": name}).status_code in (200, 201)


def test_the_message_box_grows_and_focus_is_where_you_type(
    browser: Browser, target: Target, room: str
) -> None:
    page = browser.new_context().new_page()
    page.goto(f"{target.url}/?room={room}")
    expect(page.get_by_label("Display name")).to_be_focused()
    sign_in(page, target.url, "fay", room)
    box = page.locator("textarea")
    expect(box).to_be_focused()
    before = box.bounding_box()
    box.fill("one\ntwo\nthree\nfour\nfive")
    after = box.bounding_box()
    assert before is not None and after is not None and after["height"] > before["height"] + 40
    open_room(page, "general")  # not one of theirs: from Browse rooms
    expect(page.locator("textarea")).to_be_focused()


def test_a_name_in_use_is_refused_and_explained(browser: Browser, target: Target) -> None:
    name = f"nora-{uuid.uuid4().hex[:4]}"
    open_as(browser, target.url, name)
    page = browser.new_context().new_page()
    page.goto(target.url)
    page.get_by_label("Display name").fill(name)
    page.get_by_role("button", name="Join the chat").click()
    expect(page.get_by_role("alert")).to_contain_text("in use right now; pick another")


def test_errors_say_what_happened_and_what_to_do(
    browser: Browser, restartable_target: Target, room: str
) -> None:
    target = restartable_target
    page = open_as(browser, target.url, "eva", room)
    target.stop()
    page.get_by_label("New room").fill("anything")
    page.get_by_role("button", name="Create").click()
    expect(page.get_by_role("alert").filter(has_text="could not be reached; try again")).to_be_visible()
    expect(page.get_by_text("TypeError")).to_have_count(0)


def test_a_long_room_name_fits_the_sidebar(browser: Browser, target: Target) -> None:
    name = "a" * 32
    httpx_post_room(target, name)
    page = open_as(browser, target.url, "lena", name)
    overflow = page.evaluate(
        "() => { const s = document.querySelector('.sidebar'); return s.scrollWidth - s.clientWidth; }"
    )
    assert overflow <= 0


@pytest.mark.smoke
def test_notices_are_sparing_and_an_empty_room_says_so(browser: Browser, target: Target, room: str) -> None:
    ada = open_as(browser, target.url, "ada", room)
    expect(ada.get_by_text("No messages yet")).to_be_visible()
    expect(ada.get_by_text("ada joined")).to_have_count(0)  # not one's own
    bob = open_as(browser, target.url, "bob", room)
    expect(ada.get_by_text("bob joined")).to_be_visible()
    bob.reload()  # a reconnect is no news, however its leave and join fall into presence frames
    expect(bob.get_by_test_id("connection-status")).to_have_text("Connected")
    # bob leaves: once ada is told, she has been told all that came before it, the reload too.
    bob.context.close()
    expect(ada.get_by_text("bob left")).to_have_count(1)
    expect(ada.get_by_text("bob joined")).to_have_count(1)
    # Back soon after: the leave was a reconnect after all; its notice goes, and no new join.
    open_as(browser, target.url, "bob", room)
    expect(ada.get_by_text("bob left")).to_have_count(0)
    expect(ada.get_by_text("bob joined")).to_have_count(1)


def test_too_many_tabs_offers_use_here_and_queues_nothing(
    browser: Browser, start_server: ServerFactory
) -> None:
    server = start_server({"HUBBUB_MAX_CONNECTIONS_PER_USER": "1"})
    first = open_as(browser, server.url, "tom")
    second = first.context.new_page()
    second.goto(server.url)
    alert = second.get_by_role("alert").filter(has_text="Too many open chat tabs")
    expect(alert).to_be_visible()
    expect(second.locator("textarea")).to_have_count(0)  # nothing to queue into
    first.close()
    alert.get_by_role("button", name="Use here").click()
    expect(second.get_by_test_id("connection-status")).to_have_text("Connected")
    say(second, "here now")
    expect(second.locator("li.message.own:not(.pending)", has_text="here now")).to_be_visible()


def test_no_serious_accessibility_violation_on_any_screen(
    browser: Browser, target: Target, room: str
) -> None:
    axe = Axe()

    def check(page: Page, screen: str) -> None:
        result = axe.run(page)
        serious = [v for v in result.response["violations"] if v["impact"] in ("serious", "critical")]
        assert not serious, f"{screen}: {result.generate_report()}"

    for scheme in ("light", "dark"):
        page = browser.new_context(color_scheme=scheme).new_page()
        page.goto(target.url)
        page.get_by_label("Display name").wait_for()
        check(page, f"login, {scheme}")
        sign_in(page, target.url, f"axel-{scheme}", room)
        say(page, "hello @axel-light and everyone")
        expect(page.locator("li.message.own:not(.pending)")).to_have_count(1)
        check(page, f"chat, {scheme}")
        page.get_by_role("button", name="Members").click()
        expect(page.get_by_test_id("members")).to_be_visible()
        check(page, f"members, {scheme}")
        page.get_by_role("button", name="New message").click()
        expect(page.get_by_role("dialog")).to_be_visible()
        check(page, f"new message dialog, {scheme}")
    phone = browser.new_context(viewport={"width": 390, "height": 844}, is_mobile=True).new_page()
    sign_in(phone, target.url, "axel-phone", room)
    check(phone, "phone")
    phone.get_by_role("button", name="Rooms").click()
    check(phone, "phone, room drawer open")
