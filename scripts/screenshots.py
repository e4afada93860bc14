"""Takes the screenshots in docs/ of a running Hubbub (default http://127.0.0.1:8000).

    python scripts/screenshots.py [BASE_URL]

Uses Playwright's own Chromium when installed, else Debian's /usr/bin/chromium.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

from playwright.sync_api import Browser, Page, sync_playwright

OUT = Path(__file__).resolve().parent.parent / "docs" / "screenshots"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


def launch(playwright: object) -> Browser:
    chromium = playwright.chromium  # type: ignore[attr-defined]
    executable = os.environ.get("HUBBUB_E2E_CHROMIUM") or (
        "/usr/bin/chromium" if Path("/usr/bin/chromium").exists() else None
    )
    browser: Browser = chromium.launch(executable_path=executable, args=CHROMIUM_ARGS)
    return browser


def sign_in(page: Page, base: str, name: str) -> None:
    page.goto(base)
    page.get_by_label("Display name").fill(name)
    page.get_by_role("button", name="Join the chat").click()
    page.get_by_test_id("connection-status").filter(has_text="Connected").wait_for()


def say(page: Page, text: str) -> None:
    page.get_by_placeholder("Message #general").fill(text)
    page.keyboard.press("Enter")


def main() -> None:
    base = sys.argv[1] if len(sys.argv) > 1 else "http://127.0.0.1:8000"
    OUT.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as playwright:
        browser = launch(playwright)
        for scheme in ("light", "dark"):
            context = browser.new_context(viewport={"width": 1100, "height": 700}, color_scheme=scheme)
            page = context.new_page()
            page.goto(base)
            page.get_by_label("Display name").wait_for()
            if scheme == "light":
                page.screenshot(path=OUT / "login.png")
            context.close()

        ada_context = browser.new_context(viewport={"width": 1100, "height": 700}, color_scheme="light")
        ada = ada_context.new_page()
        sign_in(ada, base, "ada")
        grace_context = browser.new_context(viewport={"width": 1100, "height": 700}, color_scheme="dark")
        grace = grace_context.new_page()
        sign_in(grace, base, "grace")
        say(ada, "Morning! Did the deploy go out?")
        grace.get_by_text("Did the deploy go out?").wait_for()
        say(grace, "Yes, one docker run and it was up. Redis fan-out next.")
        ada.get_by_text("Redis fan-out next.").wait_for()
        say(ada, "Nice. Plain-text tutorial clients still see everything in #general too.")
        grace.get_by_text("tutorial clients").wait_for()
        grace.wait_for_timeout(1100)  # the server relays one typing notice a second per user
        grace.get_by_placeholder("Message #general").fill("typing")
        ada.get_by_text("grace is typing…").wait_for()
        ada.screenshot(path=OUT / "chat-light.png")
        grace.get_by_placeholder("Message #general").fill("")
        grace.screenshot(path=OUT / "chat-dark.png")

        phone = browser.new_context(
            viewport={"width": 390, "height": 780}, color_scheme="light", is_mobile=True
        )
        mobile = phone.new_page()
        sign_in(mobile, base, "linus")
        mobile.get_by_text("tutorial clients").wait_for()
        mobile.screenshot(path=OUT / "chat-phone.png")
        browser.close()
    print(f"screenshots in {OUT}")


if __name__ == "__main__":
    main()
