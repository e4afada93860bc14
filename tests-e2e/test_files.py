"""Files in real browsers: a pasted screenshot reaches the other browser as a preview and opens
in the viewer; files picked or dropped go too, several at once; uploads made while the server
is away wait in the outbox; a non-member's direct link gets 404; and the UI's strict policy
holds throughout (the `contexts` fixture fails any test that trips it: previews come from this
server, img-src 'self')."""

from __future__ import annotations

import base64
import io
import re

import httpx
import pytest
from conftest import Target
from PIL import Image
from playwright.sync_api import Browser, Error, Page, expect
from ui import open_as, wait_until_true

SANDBOX = "sandbox; default-src 'none'"


def png(width: int, height: int, color: str) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (width, height), color).save(buffer, "PNG")
    return buffer.getvalue()


PASTE = """async ([data, name]) => {
  const bytes = Uint8Array.from(atob(data), (c) => c.charCodeAt(0));
  const files = new DataTransfer();
  files.items.add(new File([bytes], name, { type: "image/png" }));
  const box = document.querySelector("#composer-box");
  box.focus();
  box.dispatchEvent(new ClipboardEvent("paste", { clipboardData: files, bubbles: true, cancelable: true }));
}"""

DROP = """async (files) => {
  const dropped = new DataTransfer();
  for (const [data, name, type] of files) {
    dropped.items.add(new File([Uint8Array.from(atob(data), (c) => c.charCodeAt(0))], name, { type }));
  }
  const main = document.querySelector("main.conversation");
  for (const kind of ["dragenter", "dragover", "drop"]) {
    main.dispatchEvent(new DragEvent(kind, { dataTransfer: dropped, bubbles: true, cancelable: true }));
  }
}"""


def paste_image(page: Page, content: bytes, name: str) -> None:
    page.evaluate(PASTE, [base64.b64encode(content).decode(), name])


def loaded(page: Page, image: object) -> int:
    """The natural width of an <img> once it has loaded from the server (0 until then)."""
    return int(image.evaluate("img => img.complete ? img.naturalWidth : 0"))  # type: ignore[attr-defined]


def preview(page: Page, name: str) -> object:
    return page.get_by_test_id("messages").get_by_role("button", name=f"View {name}").locator("img")


def test_a_pasted_image_shows_for_the_other_browser(browser: Browser, target: Target, room: str) -> None:
    alice = open_as(browser, target.url, "alice-files", room)
    bob = open_as(browser, target.url, "bob-files", room)
    paste_image(alice, png(400, 300, "red"), "image.png")
    staged = alice.get_by_role("list", name="Files to send")
    expect(staged).to_contain_text("image.png")
    alice.locator("#composer-box").fill("my screen")
    alice.locator("#composer-box").press("Enter")
    expect(staged).to_have_count(0)

    shot = preview(bob, "image.png")
    expect(shot).to_be_visible()
    wait_until_true(lambda: loaded(bob, shot) == 400, bob, "the thumbnail to load")
    assert shot.get_attribute("width") == "320" and shot.get_attribute("height") == "240"
    # A second image, dropped: the viewer steps from one to the other.
    alice.evaluate(DROP, [[base64.b64encode(png(200, 100, "blue")).decode(), "blue.png", "image/png"]])
    expect(staged).to_contain_text("blue.png")
    alice.locator("#composer-box").press("Enter")
    expect(preview(bob, "blue.png")).to_be_visible()

    shot.click()
    viewer = bob.get_by_test_id("image-viewer")
    expect(viewer).to_be_visible()
    expect(viewer.get_by_role("heading", name="image.png")).to_be_visible()
    full = viewer.get_by_role("img", name="image.png")
    wait_until_true(lambda: loaded(bob, full) == 400, bob, "the full image to load")
    bob.keyboard.press("ArrowRight")
    expect(viewer.get_by_role("heading", name="blue.png")).to_be_visible()
    expect(viewer).to_contain_text("2 of 2")
    bob.keyboard.press("ArrowLeft")
    expect(viewer.get_by_role("heading", name="image.png")).to_be_visible()
    bob.keyboard.press("Escape")
    expect(viewer).to_be_hidden()


def test_several_files_at_once_and_each_is_served_safely(browser: Browser, target: Target, room: str) -> None:
    alice = open_as(browser, target.url, "alice-cards", room)
    bob = open_as(browser, target.url, "bob-cards", room)
    alice.get_by_test_id("file-picker").set_input_files(
        [
            {"name": "photo.png", "mimeType": "image/png", "buffer": png(64, 48, "green")},
            {"name": "notes.txt", "mimeType": "text/plain", "buffer": b"meeting notes\n"},
            {
                "name": "page.png",
                "mimeType": "image/png",
                "buffer": b"<html><script>alert(1)</script></html>",
            },
        ]
    )
    alice.locator("#composer-box").press("Enter")
    cards = bob.get_by_test_id("messages").get_by_role("list", name="Files")
    expect(cards.get_by_role("listitem")).to_have_count(2)
    expect(cards).to_contain_text("notes.txt")
    expect(cards).to_contain_text("14 bytes")
    expect(preview(bob, "photo.png")).to_be_visible()
    # The forged image is a card, never a picture; following its link downloads it.
    forged = cards.get_by_role("link", name="Download page.png")
    href = forged.get_attribute("href") or ""
    assert re.fullmatch(r"/api/files/[0-9a-f]{32}", href), href
    with bob.expect_download() as download:
        forged.click()
    assert download.value.suggested_filename == "page.png"
    answer = bob.request.get(f"{target.url}{href}")
    assert answer.headers["content-type"] == "application/octet-stream"
    assert answer.headers["content-disposition"].startswith("attachment;")
    assert answer.headers["content-security-policy"] == SANDBOX


@pytest.mark.csp_violations_expected
def test_an_image_opened_alone_is_under_the_sandbox(
    browser: Browser, target: Target, room: str, contexts: list[str]
) -> None:
    """Opened by its link, an image is a document of its own under the download's policy
    (sandbox; default-src 'none'): the browser's own image page may not even style itself.
    Nothing of the app's policy is tripped."""
    alice = open_as(browser, target.url, "alice-alone", room)
    alice.get_by_test_id("file-picker").set_input_files(
        [{"name": "alone.png", "mimeType": "image/png", "buffer": png(64, 48, "green")}]
    )
    alice.locator("#composer-box").press("Enter")
    picture = preview(alice, "alone.png").get_attribute("src") or ""
    assert contexts == []
    opened = alice.goto(f"{target.url}{picture.removesuffix('/thumbnail')}")
    assert opened is not None and opened.status == 200
    assert (
        opened.headers["content-type"] == "image/png" and opened.headers["content-security-policy"] == SANDBOX
    )
    assert alice.evaluate("document.contentType") == "image/png"
    assert all("default-src 'none'" in violation for violation in contexts), contexts


def test_a_non_members_direct_link_gets_404(browser: Browser, team_target: Target) -> None:
    target = team_target  # a private room: people sign in as themselves
    alice = open_as(browser, target.url, "alice-private")
    secret = f"vault-{re.sub('[^a-z0-9]', '', alice.url)[-6:]}"
    made = alice.request.post(f"{target.url}/api/rooms", data={"name": secret, "visibility": "private"})
    assert made.ok, made.text()
    alice.goto(f"{target.url}/?room={secret}")
    expect(alice.get_by_role("heading", level=2, name=re.compile(secret))).to_be_visible()
    alice.get_by_test_id("file-picker").set_input_files(
        [{"name": "plan.png", "mimeType": "image/png", "buffer": png(50, 50, "purple")}]
    )
    alice.locator("#composer-box").press("Enter")
    src = preview(alice, "plan.png").get_attribute("src") or ""
    file_url = f"{target.url}{src.removesuffix('/thumbnail')}"

    carol = open_as(browser, target.url, "carol-outside")
    missing = carol.goto(f"{target.url}/api/files/{'0' * 32}")
    assert missing is not None and missing.status == 404
    missing_text = missing.text()
    for url in (file_url, f"{file_url}/thumbnail"):
        answer = carol.goto(url)
        assert answer is not None and answer.status == 404
        assert answer.text().replace(url.split("/")[5], "X") == missing_text.replace("0" * 32, "X")
    assert alice.request.get(file_url).status == 200


def test_uploads_wait_in_the_outbox_while_the_server_is_away(
    browser: Browser, restartable_target: Target
) -> None:
    target = restartable_target
    name = "outbox-files"
    maker = httpx.Client(base_url=target.url)
    assert maker.post("/api/login", json={"name": "outbox-maker"}).status_code == 200
    assert maker.post("/api/rooms", json={"name": name}).status_code == 201
    alice = open_as(browser, target.url, "alice-outbox", name)
    target.stop()
    expect(alice.get_by_test_id("connection-status")).not_to_have_text("Connected")
    alice.get_by_test_id("file-picker").set_input_files(
        [
            {"name": "later.png", "mimeType": "image/png", "buffer": png(30, 20, "yellow")},
            {"name": "later.txt", "mimeType": "text/plain", "buffer": b"written offline"},
        ]
    )
    alice.locator("#composer-box").fill("sent while the server was away")
    alice.locator("#composer-box").press("Enter")
    waiting = alice.get_by_test_id("pending-file")
    expect(waiting).to_have_count(2)
    expect(waiting.first).to_contain_text("waiting to upload")
    target.start()
    bob = open_as(browser, target.url, "bob-outbox", name)
    expect(preview(bob, "later.png")).to_be_visible(timeout=30_000)
    expect(bob.get_by_test_id("messages").get_by_role("list", name="Files")).to_contain_text("later.txt")
    expect(alice.get_by_test_id("pending-message")).to_have_count(0)


def test_no_download_runs_as_a_page(browser: Browser, target: Target, room: str) -> None:
    alice = open_as(browser, target.url, "alice-page", room)
    expect(alice.get_by_role("heading", level=2, name=re.compile(room))).to_be_visible()
    answer = alice.request.post(
        f"{target.url}/api/rooms/{room}/files",
        multipart={
            "file": {
                "name": "x.html",
                "mimeType": "text/html",
                "buffer": b"<script>window.top.pwned=1</script>",
            }
        },
    )
    assert answer.status == 201, answer.text()
    url = f"{target.url}/api/files/{answer.json()['id']}"
    with alice.expect_download() as download, pytest.raises(Error, match="Download is starting"):
        alice.goto(url)  # the navigation turns into a download
    assert download.value.suggested_filename == "x.html"
    assert alice.evaluate("window.pwned") is None
