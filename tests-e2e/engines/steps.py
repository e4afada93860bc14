"""The core scenarios' steps, written once for every engine and every client (drivers.py).

Every wait is for a condition, polled in the page; a step that times out says what it waited
for, in which engine, and what the page showed instead. No step asserts on time.
"""

from __future__ import annotations

import time
from typing import Any

from engines.drivers import Driver

WAIT_SECONDS = 20.0

# Installed after each navigation: the page keeps what its Content-Security-Policy blocked.
CSP_WATCH = """() => {
  if (window.__hubbubCsp) return;
  window.__hubbubCsp = [];
  document.addEventListener("securitypolicyviolation", (e) =>
    window.__hubbubCsp.push(`${e.violatedDirective} blocked ${e.blockedURI || "inline"}`));
}"""

# Marks the first element that matches `css` (and whose text is `text`, when given) with a
# fresh data-e2e attribute, so that a native click can find it by a plain CSS selector.
MARK = """(css, text, containing, mark) => {
  const norm = (s) => s.replace(/\\s+/g, " ").trim();
  for (const el of document.querySelectorAll(css)) {
    if (text !== null && norm(el.textContent) !== text) continue;
    if (containing !== null && !norm(el.textContent).includes(containing)) continue;
    if (el.getClientRects().length === 0) continue;
    el.setAttribute("data-e2e", mark);
    return true;
  }
  return false;
}"""

_marks = iter(range(1, 1 << 30))


def wait_for(driver: Driver, function: str, *args: Any, what: str) -> Any:
    """Poll a JavaScript predicate until it returns something truthy; return that."""
    deadline = time.monotonic() + WAIT_SECONDS
    while True:
        value = driver.evaluate(function, *args)
        if value:
            return value
        if time.monotonic() > deadline:
            shown = driver.evaluate("() => document.body ? document.body.innerText.slice(0, 600) : ''")
            raise AssertionError(
                f"{driver.engine} ({driver.client}): no {what} within {WAIT_SECONDS:.0f} s; the page shows:\n{shown}"
            )
        time.sleep(0.05)


def element(driver: Driver, css: str, text: str | None = None, *, containing: str | None = None) -> str:
    """A selector for the first visible element matching `css` whose text is `text` (or
    contains `containing`), once there is one."""
    mark = f"m{next(_marks)}"
    wait_for(driver, MARK, css, text, containing, mark, what=f"{css} {text or containing or ''}".strip())
    return f'[data-e2e="{mark}"]'


def click(driver: Driver, css: str, text: str | None = None) -> None:
    driver.click(element(driver, css, text))


def open_page(driver: Driver, url: str) -> None:
    driver.goto(url)
    driver.evaluate(CSP_WATCH)


def csp_violations(driver: Driver) -> list[str]:
    return list(driver.evaluate("() => window.__hubbubCsp || []"))


def status(driver: Driver) -> str:
    return str(
        driver.evaluate("() => document.querySelector('[data-testid=connection-status]')?.textContent ?? ''")
    )


def wait_connected(driver: Driver) -> None:
    wait_for(
        driver,
        "() => document.querySelector('[data-testid=connection-status]')?.textContent === 'Connected'",
        what="'Connected'",
    )


def sign_in(driver: Driver, base: str, name: str, room: str | None = None) -> None:
    """Open the chat (in a room) and sign in with a display name (auth mode none)."""
    open_page(driver, f"{base}/?room={room}" if room else base)
    driver.type(element(driver, "input[autocomplete=nickname]"), name, enter=True)
    wait_connected(driver)
    if room:
        wait_for(
            driver,
            "(r) => document.getElementById('room-title')?.textContent === '# ' + r",
            room,
            what=f"# {room}",
        )


def say(driver: Driver, text: str) -> None:
    """Type a message and send it with Enter; wait until the server has acknowledged it."""
    driver.type(element(driver, "textarea"), text, enter=True)
    wait_for(
        driver,
        """(t) => [...document.querySelectorAll('li.message.own:not(.pending) .body')]
                  .some((b) => b.textContent.trim() === t)""",
        text,
        what=f"own message {text!r} acknowledged",
    )


def wait_message(driver: Driver, text: str) -> None:
    wait_for(
        driver,
        "(t) => [...document.querySelectorAll('li.message .body')].some((b) => b.textContent.trim() === t)",
        text,
        what=f"message {text!r}",
    )


def stored_outbox(driver: Driver) -> list[str]:
    """The bodies of the unsent messages the page keeps in localStorage."""
    return list(
        driver.evaluate(
            """() => Object.keys(localStorage).filter((k) => k.startsWith("hubbub.outbox."))
                       .flatMap((k) => JSON.parse(localStorage.getItem(k)).map((p) => p.body))"""
        )
    )


def bodies(driver: Driver) -> list[str]:
    return list(
        driver.evaluate(
            "() => [...document.querySelectorAll('li.message .body')].map((b) => b.textContent.trim())"
        )
    )


def wait_count(driver: Driver, css: str, count: int) -> None:
    wait_for(
        driver,
        "(css, n) => document.querySelectorAll(css).length === n",
        css,
        count,
        what=f"{count} of {css}",
    )


def open_room(driver: Driver, room: str) -> None:
    """From the sidebar when it lists the room (the user's rooms); else joined from Browse rooms."""
    listed = driver.evaluate(
        """(r) => [...document.querySelectorAll('nav[aria-labelledby=rooms-heading] .rooms button')]
                  .some((b) => b.textContent.replace(/\\s+/g, " ").trim() === '# ' + r)""",
        room,
    )
    if listed:
        click(driver, "nav[aria-labelledby=rooms-heading] .rooms button", f"# {room}")
    else:
        click(driver, "nav[aria-labelledby=rooms-heading] button", "Browse rooms")
        driver.type(element(driver, "dialog[open] input[type=search]"), room)
        click(driver, "dialog[open] .browse-list button", "Join")
    wait_for(
        driver,
        "(r) => document.getElementById('room-title')?.textContent === '# ' + r",
        room,
        what=f"heading # {room}",
    )


def background_luminance(driver: Driver) -> float:
    """The relative luminance (0 black .. 1 white) of what is painted at the page's left edge."""
    rgb = driver.evaluate(
        """() => {
          for (let el = document.elementFromPoint(3, innerHeight / 2); el; el = el.parentElement) {
            const [r, g, b, a = 1] = getComputedStyle(el).backgroundColor.match(/[\\d.]+/g).map(Number);
            if (a > 0) return [r, g, b];
          }
          return [255, 255, 255]; // nothing painted: the canvas is white
        }"""
    )
    r, g, b = (float(channel) / 255 for channel in rgb)
    return 0.2126 * r + 0.7152 * g + 0.0722 * b
