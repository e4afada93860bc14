"""The pictures in docs/screenshots/, taken from a real run of the UI.

Every run saves them under test-results/screenshots/; with HUBBUB_UPDATE_SCREENSHOTS=1 they
replace the ones in docs/screenshots/ (the README shows those).
"""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import httpx
from conftest import Target
from playwright.sync_api import Browser, Page, expect
from test_chat import post
from ui import say, sign_in
from websockets.sync.client import connect

RESULTS = Path(__file__).resolve().parent / "test-results" / "screenshots"
DOCS = Path(__file__).resolve().parent.parent / "docs" / "screenshots"


def shoot(page: Page, name: str) -> None:
    RESULTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=RESULTS / name)
    if os.environ.get("HUBBUB_UPDATE_SCREENSHOTS") == "1":
        shutil.copy(RESULTS / name, DOCS / name)


def test_screenshots(browser: Browser, target: Target) -> None:
    login = browser.new_context(viewport={"width": 1100, "height": 700}).new_page()
    login.goto(target.url)
    login.get_by_label("Display name").wait_for()
    shoot(login, "login.png")

    ada = browser.new_context(viewport={"width": 1100, "height": 700}, color_scheme="light").new_page()
    sign_in(ada, target.url, "ada")
    room = "launch"
    ada.get_by_label("New room").fill(room)
    ada.get_by_role("button", name="Create").click()
    expect(ada.get_by_role("heading", level=2, name=f"# {room}")).to_be_visible()
    grace = browser.new_context(viewport={"width": 1100, "height": 700}, color_scheme="dark").new_page()
    sign_in(grace, target.url, "grace", room)
    say(ada, "Morning! Did the deploy go out?")
    expect(grace.get_by_text("Did the deploy go out?")).to_be_visible()
    say(grace, "Yes, one docker run and it was up. @ada the Redis fan-out is next.")
    expect(ada.get_by_text("Redis fan-out is next.")).to_be_visible()
    grace.locator("textarea").fill("With **one** setting:\n```\nHUBBUB_REDIS_URL=redis://cache:6379/0\n```")
    grace.locator("textarea").press("Enter")
    expect(ada.locator(".code-block")).to_be_visible()
    fan_out = ada.locator("li.message").filter(has_text="Redis fan-out is next.")
    fan_out.hover()
    fan_out.get_by_role("button", name="React", exact=True).click()
    ada.get_by_role("button", name="React with 🎉").click()
    expect(grace.get_by_role("button", name="🎉 1: ada")).to_be_visible()
    ada.mouse.move(0, 0)
    grace.wait_for_timeout(1100)  # the server relays one typing notice a second per user
    grace.locator("textarea").fill("typing")
    expect(ada.get_by_text("grace is typing…")).to_be_visible()
    shoot(ada, "chat-light.png")
    grace.locator("textarea").fill("")
    grace.get_by_role("button", name="Members").click()
    expect(grace.get_by_test_id("members")).to_contain_text("ada")
    shoot(grace, "chat-dark.png")

    # Browse rooms, with a preview, and the quick switcher.
    topics = {"design": "Mockups and reviews", "ops": "On call and incidents", "random": "Anything else"}
    with httpx.Client(base_url=target.url) as http:
        assert http.post("/api/login", json={"name": "olga"}).status_code == 200
        for name, topic in topics.items():
            assert http.post("/api/rooms", json={"name": name, "topic": topic}).status_code in (200, 201)
    with connect(f"{target.ws_url}/api/ws?name=olga") as olga:
        olga.recv()
        olga.send(json.dumps({"type": "join", "room": "design"}))
        post(olga, "design", "New **login screen** mockups are up :tada:", "d1")
    ada.get_by_role("button", name="Browse rooms").click()
    browse = ada.get_by_role("dialog", name="Browse rooms")
    expect(browse.get_by_text("On call and incidents")).to_be_visible()
    browse.get_by_role("listitem").filter(has_text="# design").get_by_role("button", name="Preview").click()
    expect(browse.get_by_text("mockups are up")).to_be_visible()
    shoot(ada, "browse-rooms.png")
    ada.keyboard.press("Escape")
    ada.keyboard.press("Control+k")
    switcher = ada.get_by_role("dialog", name="Jump to")
    switcher.get_by_role("combobox").press_sequentially("gr")
    expect(switcher.get_by_role("option").first).to_be_visible()
    shoot(ada, "switcher.png")
    ada.keyboard.press("Escape")

    phone = browser.new_context(viewport={"width": 390, "height": 780}, is_mobile=True).new_page()
    sign_in(phone, target.url, "linus", room)
    expect(phone.get_by_text("Did the deploy go out?")).to_be_visible()
    shoot(phone, "chat-phone.png")
