"""The browser side of security, in a real browser: the UI runs under its strict policy (the
`contexts` fixture fails any test that trips it), and the policy stops what escaping might miss."""

from __future__ import annotations

import httpx
import pytest
from conftest import Target
from playwright.sync_api import Browser, expect
from ui import open_as

FIXED = {
    "x-content-type-options": "nosniff",
    "referrer-policy": "no-referrer",
    "cross-origin-opener-policy": "same-origin",
    "x-frame-options": "DENY",
}


@pytest.mark.smoke
def test_the_ui_and_the_api_carry_the_security_headers(target: Target) -> None:
    for path in ("/", "/api/config", "/api/rooms/nosuchroom/messages", "/no/such/page"):
        response = httpx.get(f"{target.url}{path}")
        for name, value in FIXED.items():
            assert response.headers.get(name) == value, (path, name)
        assert "server" not in response.headers, (path, response.headers.get("server"))
        policy = response.headers["content-security-policy"]
        assert "script-src 'self';" in policy and "frame-ancestors 'none'" in policy, path


@pytest.mark.smoke
@pytest.mark.csp_violations_expected
def test_a_planted_inline_script_would_not_run(browser: Browser, target: Target, contexts: list[str]) -> None:
    """Suppose rendering let markup through: under the UI's own policy, nothing in it runs."""
    policy = httpx.get(f"{target.url}/").headers["content-security-policy"]
    page = open_as(browser, target.url, "probe")
    planted = """<!doctype html><html><body>
      <p id="text">planted</p>
      <script>window.pwned = "inline script";</script>
      <img src="/missing.png" onerror="window.pwned = 'event handler'">
      <script src="data:text/javascript,window.pwned='data script'"></script>
      <iframe src="data:text/html,<script>parent.pwned='frame'</script>"></iframe>
    </body></html>"""
    page.route(
        f"{target.url}/csp-probe",
        lambda route: route.fulfill(
            status=200, body=planted, headers={"content-type": "text/html", "content-security-policy": policy}
        ),
    )
    page.goto(f"{target.url}/csp-probe")
    expect(page.locator("#text")).to_have_text("planted")
    page.wait_for_load_state("load")
    assert page.evaluate("window.pwned") is None
    assert any("script-src" in v for v in contexts), contexts


@pytest.mark.csp_violations_expected
def test_the_app_cannot_be_framed(browser: Browser, target: Target) -> None:
    page = browser.new_page()
    page.set_content(f'<iframe id="app" src="{target.url}/"></iframe>')
    frame = page.frame_locator("#app")
    expect(frame.get_by_label("Display name")).to_have_count(0)
