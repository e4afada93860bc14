"""What a person does in the UI, as Playwright steps."""

from __future__ import annotations

from playwright.sync_api import Browser, BrowserContext, Page, expect


def open_as(browser: Browser, base: str, name: str, room: str | None = None, **context: object) -> Page:
    ctx: BrowserContext = browser.new_context(**context)  # type: ignore[arg-type]
    page = ctx.new_page()
    sign_in(page, base, name, room)
    return page


def sign_in(page: Page, base: str, name: str, room: str | None = None) -> None:
    page.goto(f"{base}/?room={room}" if room else base)
    page.get_by_label("Display name").fill(name)
    page.get_by_role("button", name="Join the chat").click()
    expect(page.get_by_test_id("connection-status")).to_have_text("Connected")


def composer(page: Page) -> object:
    return page.get_by_role("textbox", name="Message #")


def say(page: Page, text: str) -> None:
    box = page.locator("textarea")
    box.fill(text)
    box.press("Enter")


def message_bodies(page: Page) -> list[str]:
    return page.locator("[data-testid=messages] li.message:not(.pending) .body").all_inner_texts()
