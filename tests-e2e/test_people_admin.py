"""People and administration in real browsers (issue 24): an admin's first run, an invitation a
colleague follows to sign up and chat; a profile change another browser sees live; the admin
page used by keyboard alone, axe-clean in light, dark and at phone width. Every wait is for what
a person would see; none asserts on time."""

from __future__ import annotations

import re
import uuid

import httpx
from axe_playwright_python.sync_playwright import Axe
from conftest import ServerFactory, Target
from playwright.sync_api import Browser, Page, expect
from ui import say, sign_in

PASSWORD = "a long enough secret"
# A 2x2 teal PNG: small enough to write here, any image becomes a 256-pixel square.
TEAL_PNG = bytes.fromhex(
    "89504e470d0a1a0a0000000d4948445200000002000000020802000000fdd49a73"
    "0000001649444154789c636468686060606062606060606000000baa0104e73d"
    "139e0000000049454e44ae426082"
)


def check(page: Page, screen: str) -> None:
    """No serious or critical axe violation on what the page shows."""
    result = Axe().run(page)
    serious = [v for v in result.response["violations"] if v["impact"] in ("serious", "critical")]
    assert not serious, f"{screen}: {result.generate_report()}"


def messages(page: Page) -> object:
    return page.get_by_test_id("messages")


def account(page: Page, item: str) -> None:
    """The account menu's item: behind the Menu button at phone width, in the top bar else."""
    menu = page.get_by_role("button", name="Menu")
    if menu.is_visible():
        menu.click()
    page.get_by_role("button", name=item, exact=True).click()


def test_an_admin_invites_a_colleague_who_signs_up_and_chats(
    browser: Browser, start_server: ServerFactory
) -> None:
    server = start_server({"HUBBUB_AUTH": "password"})
    ada = browser.new_context().new_page()
    ada.goto(server.url)
    expect(ada.get_by_role("heading", name="Welcome: make the first admin account")).to_be_visible()
    ada.get_by_label("Name").fill("ada")
    ada.get_by_label("Password").fill(PASSWORD)
    ada.get_by_role("button", name="Make the admin account").click()
    expect(ada.get_by_test_id("connection-status")).to_have_text("Connected")
    account(ada, "Admin")
    admin = ada.get_by_role("dialog", name="Administration")
    admin.get_by_role("tab", name="Invitations").click()
    admin.get_by_role("button", name="Make an invitation link").click()
    link = admin.get_by_label("Invitation link").input_value()
    assert re.fullmatch(rf"{re.escape(server.url)}/#invite=hbi_[A-Za-z0-9_-]+", link), link
    expect(admin.get_by_role("cell", name="0 of 1")).to_be_visible()
    ada.keyboard.press("Escape")

    ben = browser.new_context().new_page()
    ben.goto(link)
    expect(ben.get_by_role("heading", name="You are invited: pick a name and a password")).to_be_visible()
    ben.get_by_label("Name").fill("ben")
    ben.get_by_label("Password").fill("password123")
    ben.get_by_role("button", name="Join the chat").click()
    expect(ben.get_by_role("alert")).to_contain_text("most common")
    ben.get_by_label("Password").fill("bens own " + PASSWORD)
    ben.get_by_role("button", name="Join the chat").click()
    expect(ben.get_by_test_id("connection-status")).to_have_text("Connected")
    assert "invite" not in ben.url  # the token is out of the address bar once used
    say(ben, "hello ada, thanks for the invite")
    expect(messages(ada).get_by_text("hello ada, thanks for the invite")).to_be_visible()
    # The link is used up: another browser gets the same refusal as for a made-up link.
    late = browser.new_context().new_page()
    late.goto(link)
    late.get_by_label("Name").fill("cat")
    late.get_by_label("Password").fill("cats own " + PASSWORD)
    late.get_by_role("button", name="Join the chat").click()
    expect(late.get_by_role("alert")).to_contain_text("not valid")
    # A later visit to the server shows the sign-in, not the first run.
    fresh = browser.new_context().new_page()
    fresh.goto(server.url)
    expect(fresh.get_by_role("heading", name="Sign in")).to_be_visible()


def test_a_profile_change_is_seen_live_by_another_browser(
    browser: Browser, target: Target, room: str
) -> None:
    suffix = uuid.uuid4().hex[:4]
    bob_name, ann_name = f"bob-{suffix}", f"ann-{suffix}"
    ann = browser.new_context().new_page()
    sign_in(ann, target.url, ann_name, room)
    bob = browser.new_context().new_page()
    sign_in(bob, target.url, bob_name, room)
    say(bob, f"hi @{ann_name} and welcome")
    row = messages(ann).locator("li.message").filter(has_text="hi @")
    expect(row.locator(".author")).to_have_text(bob_name)
    account(bob, "Profile")
    dialog = bob.get_by_role("dialog", name="Your profile")
    dialog.get_by_label("Display name").fill(f"Bobby {suffix}")
    dialog.get_by_label("Status emoji").fill("🌴")
    dialog.get_by_label("Status", exact=True).fill("on the beach")
    dialog.get_by_role("button", name="Save").click()
    expect(dialog.get_by_role("status")).to_have_text("Saved: everyone sees it now.")
    # A picture is saved as it is picked: Ann sees it beside his message, the server's square.
    dialog.get_by_label("Picture").set_input_files(
        files=[{"name": "me.png", "mimeType": "image/png", "buffer": TEAL_PNG}]
    )
    expect(dialog.get_by_role("button", name="Remove picture")).to_be_visible()
    picture = row.locator("img.avatar")
    expect(picture).to_have_attribute("src", re.compile(rf"^/api/users/{bob_name}/avatar\?v="))
    ann.wait_for_function("img => img.complete && img.naturalWidth === 256", arg=picture.element_handle())
    # Ann's page follows without a reload: the display name, the login name on hover.
    author = row.locator(".author")
    expect(author).to_have_text(f"Bobby {suffix}")
    expect(author).to_have_attribute("title", f"@{bob_name}")
    ann.get_by_role("button", name=re.compile("^Members")).click()
    members = ann.get_by_test_id("members")
    expect(members).to_contain_text(f"Bobby {suffix}")
    expect(members).to_contain_text("🌴 on the beach")
    # Who is online says it too (the login name on hover).
    online = ann.get_by_test_id("presence").get_by_title(f"@{bob_name}")
    expect(online).to_have_text(f"Bobby {suffix}")
    # Ann finds him by his new name when she mentions him; the login name goes in the message.
    box = ann.locator("textarea")
    box.press_sequentially("thanks @bobby")
    suggestion = ann.get_by_role("listbox", name="People to mention").get_by_role("option")
    expect(suggestion).to_have_text(f"@{bob_name} Bobby {suffix}")
    box.press("Enter")
    expect(box).to_have_value(f"thanks @{bob_name} ")
    box.fill("")
    # Ann renames herself: the mention in Bob's message shows her new name, the login on hover.
    account(ann, "Profile")
    mine = ann.get_by_role("dialog", name="Your profile")
    mine.get_by_label("Display name").fill(f"Annie {suffix}")
    mine.get_by_role("button", name="Save").click()
    mention = messages(bob).locator("span.mention").first
    expect(mention).to_have_text(f"@Annie {suffix}")
    expect(mention).to_have_attribute("title", f"@{ann_name}")


def focused(page: Page) -> str:
    return str(
        page.evaluate(
            "document.activeElement?.getAttribute('aria-label') || document.activeElement?.textContent || ''"
        )
    )


def tab_to(page: Page, name: str, backwards: bool = False, most: int = 60) -> None:
    """Press Tab (or Shift+Tab) until the focused element is the one named, as a keyboard user
    would; fails if it is never reached."""
    for _ in range(most):
        if focused(page).strip() == name:
            return
        page.keyboard.press("Shift+Tab" if backwards else "Tab")
    raise AssertionError(f"Tab never reached {name!r}; at {focused(page)!r}")


def test_the_admin_page_by_keyboard_only_and_axe_clean(browser: Browser, start_server: ServerFactory) -> None:
    server = start_server({"HUBBUB_AUTH": "password"})
    with httpx.Client(base_url=server.url) as http:
        assert http.post("/api/setup", json={"name": "ada", "password": PASSWORD}).status_code == 201
        token = http.post("/api/invites", json={"uses": 3}).json()["token"]
        assert http.post("/api/admin/bots", json={"name": "deploybot"}).status_code == 201
        assert http.post("/api/rooms", json={"name": "ops", "visibility": "private"}).status_code == 201
    with httpx.Client(base_url=server.url) as other:
        body = {"name": "bob", "password": "bobs " + PASSWORD}
        assert other.post(f"/api/invites/{token}/accept", json=body).status_code == 201
    for scheme, viewport in (
        ("light", {"width": 1100, "height": 800}),
        ("dark", {"width": 1100, "height": 800}),
        ("light", {"width": 390, "height": 844}),
    ):
        page = browser.new_context(color_scheme=scheme, viewport=viewport).new_page()
        page.goto(server.url)
        page.get_by_label("User name").fill("ada")
        page.get_by_label("Password").fill(PASSWORD)
        page.keyboard.press("Enter")
        expect(page.get_by_test_id("connection-status")).to_have_text("Connected")
        where = f"{scheme}, {viewport['width']} px"
        # From here on, the keyboard alone.
        if page.get_by_role("button", name="Menu").is_visible():
            tab_to(page, "Menu")
            page.keyboard.press("Enter")
        tab_to(page, "Admin")
        page.keyboard.press("Enter")
        admin = page.get_by_role("dialog", name="Administration")
        expect(admin.get_by_role("tab", name="Users")).to_be_focused()
        expect(admin.get_by_role("cell", name="bob", exact=True)).to_be_visible()
        check(page, f"admin users, {where}")
        tab_to(page, "Deactivate bob")
        page.keyboard.press("Enter")
        # It asks first; Esc goes back to the button, the admin page stays open.
        expect(admin.get_by_role("button", name="Yes, deactivate")).to_be_focused()
        check(page, f"admin deactivation asked, {where}")
        page.keyboard.press("Escape")
        expect(admin.get_by_role("button", name="Deactivate bob")).to_be_focused()
        page.keyboard.press("Enter")
        page.keyboard.press("Enter")  # Yes, deactivate
        expect(admin.get_by_role("status")).to_have_text("bob is deactivated: signed out everywhere.")
        tab_to(page, "Reactivate bob", backwards=True)
        page.keyboard.press("Enter")
        expect(admin.get_by_role("status")).to_have_text("bob can sign in again.")
        tab_to(page, "Users", backwards=True)
        for tab in ("Invitations", "Bots", "Rooms", "Audit log"):
            page.keyboard.press("ArrowRight")
            expect(admin.get_by_role("tab", name=tab)).to_be_focused()
            expect(admin.get_by_role("tab", name=tab)).to_have_attribute("aria-selected", "true")
            if tab == "Invitations":
                tab_to(page, "Make an invitation link")
                page.keyboard.press("Enter")
                expect(admin.get_by_label("Invitation link")).to_have_value(re.compile("#invite=hbi_"))
            if tab == "Bots":
                expect(admin.get_by_role("cell", name="deploybot", exact=True)).to_be_visible()
                tab_to(page, "New token for deploybot")
            if tab == "Rooms":
                expect(admin.get_by_role("cell", name="private", exact=True)).to_be_visible()
                tab_to(page, "Archive #ops")
            if tab == "Audit log":
                expect(admin.get_by_role("cell", name="reactivated", exact=True).first).to_be_visible()
            check(page, f"admin {tab}, {where}")
            tab_to(page, tab, backwards=True)
        page.keyboard.press("Escape")
        expect(admin).to_be_hidden()
        page.context.close()
