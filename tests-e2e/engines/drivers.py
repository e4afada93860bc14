"""One user's browser tab, in any of the three engines, behind one small interface.

The scenarios in engines/steps.py are written once against `Driver`; which client drives an
engine depends on what this machine has:

- Playwright wherever its own browser is installed (`playwright install`, as in the GitHub
  workflow), and for Chromium also Debian's /usr/bin/chromium;
- otherwise Debian's Firefox ESR over WebDriver BiDi, through puppeteer-core in a Node helper
  (engines/firefox_bidi.mjs: BiDi needs no driver binary);
- otherwise Debian's WebKitGTK through its WebKitWebDriver and Selenium, on a private Xvfb
  display (WebKitGTK has no headless mode).

The interface is deliberately small: CSS selectors, native clicks and keystrokes, and script
evaluation for everything a test reads. Waiting is the steps' job (conditions, polled).
"""

from __future__ import annotations

import contextlib
import itertools
import json
import os
import shutil
import subprocess
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal, Protocol

from playwright.sync_api import Browser, Playwright

Engine = Literal["chromium", "firefox", "webkit"]
ENGINES: tuple[Engine, ...] = ("chromium", "firefox", "webkit")
ColorScheme = Literal["light", "dark"]

DEBIAN_CHROMIUM = "/usr/bin/chromium"
DEBIAN_FIREFOX = "/usr/bin/firefox-esr"
WEBKIT_DRIVER = "/usr/bin/WebKitWebDriver"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
HERE = Path(__file__).resolve().parent


class Driver(Protocol):
    """A page of its own (its own cookies and storage) in one engine: one user."""

    engine: Engine
    client: str  # what drives it: "playwright", "puppeteer (BiDi)", "selenium"
    closed: bool

    def goto(self, url: str) -> None:
        """Navigate and wait for the load event."""

    def evaluate(self, function: str, *args: Any) -> Any:
        """Call a JavaScript function expression, e.g. "(a) => a + 1", in the page."""

    def type(self, selector: str, text: str, *, enter: bool = False) -> None:
        """Click into the element and type, key by key, as a user would."""

    def click(self, selector: str) -> None:
        """A real click on the first element the selector matches."""

    def screenshot(self, path: Path) -> None: ...

    def close(self) -> None: ...


@dataclass(frozen=True)
class Window:
    width: int = 1100
    height: int = 700
    color_scheme: ColorScheme = "light"


# --- Playwright


class PlaywrightDriver:
    client = "playwright"
    closed = False

    def __init__(self, engine: Engine, browser: Browser, window: Window) -> None:
        self.engine = engine
        self._context = browser.new_context(
            viewport={"width": window.width, "height": window.height}, color_scheme=window.color_scheme
        )
        self._page = self._context.new_page()

    def goto(self, url: str) -> None:
        self._page.goto(url)

    def evaluate(self, function: str, *args: Any) -> Any:
        return self._page.evaluate(f"(args) => ({function})(...args)", list(args))

    def type(self, selector: str, text: str, *, enter: bool = False) -> None:
        target = self._page.locator(selector).first
        target.click()
        target.press_sequentially(text)
        if enter:
            target.press("Enter")

    def click(self, selector: str) -> None:
        self._page.locator(selector).first.click()

    def screenshot(self, path: Path) -> None:
        self._page.screenshot(path=path)

    def close(self) -> None:
        self.closed = True
        with contextlib.suppress(Exception):
            self._context.close()


def playwright_browser(playwright: Playwright, engine: Engine) -> Browser | None:
    """Playwright's own build of the engine, or Debian's Chromium; None if neither is here."""
    browser_type = getattr(playwright, engine)
    chosen = os.environ.get("HUBBUB_E2E_CHROMIUM") if engine == "chromium" else None
    if chosen is None and Path(browser_type.executable_path).exists():
        return browser_type.launch(args=CHROMIUM_ARGS if engine == "chromium" else [])  # type: ignore[no-any-return]
    if engine == "chromium" and (chosen or Path(DEBIAN_CHROMIUM).exists()):
        return browser_type.launch(executable_path=chosen or DEBIAN_CHROMIUM, args=CHROMIUM_ARGS)  # type: ignore[no-any-return]
    return None


# --- Firefox over WebDriver BiDi (puppeteer-core in Node)


class FirefoxBidi:
    """The Node helper: one process, a browser per color scheme, a context per page."""

    def __init__(self) -> None:
        node = shutil.which("node")
        if node is None or not (HERE.parent / "node_modules" / "puppeteer-core").is_dir():
            raise FileNotFoundError("node and tests-e2e/node_modules/puppeteer-core (npm ci in tests-e2e)")
        self._process = subprocess.Popen(
            [node, str(HERE / "firefox_bidi.mjs")],
            cwd=HERE.parent,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
            bufsize=1,
        )
        self._ids = itertools.count(1)
        self._lock = threading.Lock()

    def call(self, op: str, **args: Any) -> Any:
        assert self._process.stdin is not None and self._process.stdout is not None
        with self._lock:
            command_id = next(self._ids)
            self._process.stdin.write(json.dumps({"id": command_id, "op": op, "args": args}) + "\n")
            self._process.stdin.flush()
            line = self._process.stdout.readline()
        if not line:
            raise RuntimeError(f"the Firefox helper exited ({self._process.poll()}) during {op}")
        answer = json.loads(line)
        assert answer["id"] == command_id, answer
        if not answer["ok"]:
            raise RuntimeError(f"Firefox {op}: {answer['error']}")
        return answer["value"]

    def close(self) -> None:
        if self._process.stdin is not None:
            self._process.stdin.close()
        try:
            self._process.wait(30)
        except subprocess.TimeoutExpired:
            self._process.kill()
            self._process.wait()
        if self._process.stdout is not None:
            self._process.stdout.close()


class PuppeteerDriver:
    engine: Engine = "firefox"
    client = "puppeteer (BiDi)"
    closed = False

    def __init__(self, helper: FirefoxBidi, window: Window) -> None:
        self._helper = helper
        self._page = helper.call(
            "newPage", colorScheme=window.color_scheme, width=window.width, height=window.height
        )

    def goto(self, url: str) -> None:
        self._helper.call("goto", page=self._page, url=url)

    def evaluate(self, function: str, *args: Any) -> Any:
        return self._helper.call("evaluate", page=self._page, source=function, args=list(args))

    def type(self, selector: str, text: str, *, enter: bool = False) -> None:
        self._helper.call("type", page=self._page, selector=selector, text=text, enter=enter)

    def click(self, selector: str) -> None:
        self._helper.call("click", page=self._page, selector=selector)

    def screenshot(self, path: Path) -> None:
        self._helper.call("screenshot", page=self._page, path=str(path))

    def close(self) -> None:
        self.closed = True
        with contextlib.suppress(Exception):
            self._helper.call("closePage", page=self._page)


# --- WebKitGTK through WebKitWebDriver (Selenium) on Xvfb


class Xvfb:
    """A virtual display of its own: -displayfd picks a free display number."""

    def __init__(self) -> None:
        read, write = os.pipe()
        self._process = subprocess.Popen(
            ["Xvfb", "-displayfd", str(write), "-screen", "0", "1280x1024x24", "-nolisten", "tcp"],
            pass_fds=(write,),
            stderr=subprocess.DEVNULL,
        )
        os.close(write)
        with os.fdopen(read) as pipe:
            number = pipe.readline().strip()
        if not number:
            raise RuntimeError(f"Xvfb did not start ({self._process.poll()})")
        self.display = f":{number}"

    def close(self) -> None:
        self._process.terminate()
        self._process.wait(10)


def minibrowser() -> str | None:
    for candidate in sorted(Path("/usr/lib").glob("*/webkit2gtk-4.*/MiniBrowser"), reverse=True):
        return str(candidate)
    return None


class SeleniumWebKitDriver:
    engine: Engine = "webkit"
    client = "selenium"
    closed = False

    def __init__(self, display: str, window: Window) -> None:
        from selenium import webdriver
        from selenium.webdriver.webkitgtk.options import Options
        from selenium.webdriver.webkitgtk.service import Service

        binary = minibrowser()
        if binary is None or not Path(WEBKIT_DRIVER).exists():
            raise FileNotFoundError("WebKitWebDriver and MiniBrowser (Debian: webkit2gtk-driver)")
        options = Options()
        options.binary_location = binary
        options.add_argument("--automation")
        # WebKitGTK takes prefers-color-scheme from the GTK theme of the process.
        env = {**os.environ, "DISPLAY": display}
        if window.color_scheme == "dark":
            env["GTK_THEME"] = "Adwaita:dark"
        service = Service(executable_path=WEBKIT_DRIVER, env=env)
        self._driver = webdriver.WebKitGTK(options=options, service=service)
        self._driver.set_window_size(window.width, window.height)

    def goto(self, url: str) -> None:
        self._driver.get(url)

    def evaluate(self, function: str, *args: Any) -> Any:
        return self._driver.execute_script(f"return ({function}).apply(null, arguments);", *args)

    def _element(self, selector: str) -> Any:
        from selenium.webdriver.common.by import By

        return self._driver.find_element(By.CSS_SELECTOR, selector)

    def type(self, selector: str, text: str, *, enter: bool = False) -> None:
        from selenium.webdriver.common.keys import Keys

        element = self._element(selector)
        element.click()
        element.send_keys(text + (Keys.ENTER if enter else ""))

    def click(self, selector: str) -> None:
        self._element(selector).click()

    def screenshot(self, path: Path) -> None:
        self._driver.save_screenshot(str(path))

    def close(self) -> None:
        self.closed = True
        with contextlib.suppress(Exception):
            self._driver.quit()


# --- which client drives which engine here


class Drivers:
    """Opens drivers for a test and closes them after it; browsers and helpers are shared."""

    def __init__(self, playwright: Playwright) -> None:
        self._playwright = playwright
        self._browsers: dict[Engine, Browser | None] = {}
        self._firefox: FirefoxBidi | None = None
        self._xvfb: Xvfb | None = None
        self._open: list[Driver] = []

    def available(self, engine: Engine) -> str | None:
        """Why the engine cannot run here, or None when it can."""
        if self._browser(engine) is not None:
            return None
        if engine == "firefox":
            if not Path(os.environ.get("HUBBUB_E2E_FIREFOX", DEBIAN_FIREFOX)).exists():
                return "no Firefox: `playwright install firefox`, or Debian's firefox-esr"
            if not (HERE.parent / "node_modules" / "puppeteer-core").is_dir():
                return "puppeteer-core is not installed: `npm ci` in tests-e2e"
            return None
        if engine == "webkit":
            if minibrowser() is None or not Path(WEBKIT_DRIVER).exists() or shutil.which("Xvfb") is None:
                return "no WebKit: `playwright install webkit`, or Debian's webkit2gtk-driver and xvfb"
            return None
        return "no Chromium: `playwright install chromium`, or Debian's chromium"

    def open(self, engine: Engine, window: Window | None = None) -> Driver:
        window = window or Window()
        browser = self._browser(engine)
        driver: Driver
        if browser is not None:
            driver = PlaywrightDriver(engine, browser, window)
        elif engine == "firefox":
            if self._firefox is None:
                self._firefox = FirefoxBidi()
            driver = PuppeteerDriver(self._firefox, window)
        elif engine == "webkit":
            if self._xvfb is None:
                self._xvfb = Xvfb()
            driver = SeleniumWebKitDriver(self._xvfb.display, window)
        else:
            raise RuntimeError(self.available(engine))
        self._open.append(driver)
        return driver

    def close_pages(self) -> None:
        for driver in self._open:
            driver.close()
        self._open.clear()

    def close(self) -> None:
        self.close_pages()
        for browser in self._browsers.values():
            if browser is not None:
                with contextlib.suppress(Exception):
                    browser.close()
        if self._firefox is not None:
            self._firefox.close()
        if self._xvfb is not None:
            self._xvfb.close()

    def _browser(self, engine: Engine) -> Browser | None:
        if engine not in self._browsers:
            self._browsers[engine] = playwright_browser(self._playwright, engine)
        return self._browsers[engine]


@contextlib.contextmanager
def drivers(playwright: Playwright) -> Iterator[Drivers]:
    opened = Drivers(playwright)
    try:
        yield opened
    finally:
        opened.close()
