"""The admin endpoints over a real server: who may call each one (admin, member, deactivated,
anonymous, bot token), what each does, and that each is in the audit log with who, when, and
from which address; in password mode and in token mode (where roles come from the tokens)."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass

import httpx
import pytest

from tests.conftest import ServerFactory
from tests.isolation import unique
from tests.services import HubbubServer, hubbub_cli

PASSWORD = "a long enough secret"

Call = tuple[str, str, object | None]  # method, path, body


@dataclass
class World:
    """A server with an admin, a member, a deactivated user, a bot, and things to act on."""

    server: HubbubServer
    headers: dict[str, dict[str, str]]  # caller -> how they present themselves
    cookies: dict[str, httpx.Cookies]

    def client(self, who: str) -> httpx.Client:
        return httpx.Client(
            base_url=self.server.url, headers=self.headers.get(who, {}), cookies=self.cookies.get(who)
        )


def endpoints(world: World, admin: httpx.Client) -> list[Callable[[], Call]]:
    """Every admin endpoint, each made to succeed for an admin (fresh targets each time)."""

    def user_target() -> str:
        return "tia"  # a user of no other part of the test: deactivated, reactivated, demoted

    def room() -> str:
        name = unique("adm")
        assert admin.post("/api/rooms", json={"name": name}).status_code == 201
        return name

    def bot() -> str:
        name = unique("bot")
        assert admin.post("/api/admin/bots", json={"name": name}).status_code == 201
        return name

    def open_invite() -> str:
        made = admin.post("/api/invites", json={})
        return str(made.json()["id"]) if made.status_code == 201 else "no-invites-here"

    password = world.server.env.get("HUBBUB_AUTH") == "password"
    calls: list[Callable[[], Call]] = [
        lambda: ("GET", "/api/admin/users", None),
        lambda: ("POST", f"/api/admin/users/{user_target()}/deactivate", None),
        lambda: ("POST", f"/api/admin/users/{user_target()}/reactivate", None),
        lambda: ("GET", "/api/admin/bots", None),
        lambda: ("POST", "/api/admin/bots", {"name": unique("newbot")}),
        lambda: ("POST", f"/api/admin/bots/{bot()}/rotate", None),
        lambda: ("POST", f"/api/admin/bots/{bot()}/revoke", None),
        lambda: ("GET", "/api/admin/rooms", None),
        lambda: ("POST", f"/api/admin/rooms/{room()}/archive", None),
        lambda: ("POST", f"/api/admin/rooms/{room()}/unarchive", None),
        lambda: ("POST", f"/api/admin/rooms/{room()}/owner", {"user": world_admin(world)}),
        lambda: ("GET", "/api/admin/audit", None),
    ]
    if password:
        calls += [
            lambda: ("POST", f"/api/admin/users/{user_target()}/role", {"admin": False}),
            lambda: ("POST", "/api/invites", {}),
            lambda: ("GET", "/api/invites", None),
            lambda: ("DELETE", f"/api/invites/{open_invite()}", None),
        ]
    return calls


def world_admin(world: World) -> str:
    return "ada"


def password_world(hubbub_server: ServerFactory) -> World:
    server = hubbub_server({"HUBBUB_AUTH": "password"})
    ada = httpx.Client(base_url=server.url)
    assert ada.post("/api/setup", json={"name": "ada", "password": PASSWORD}).status_code == 201
    cookies = {"admin": ada.cookies}
    for name, who in (("mia", "member"), ("dee", "deactivated"), ("tia", "target")):
        token = ada.post("/api/invites", json={}).json()["token"]
        person = httpx.Client(base_url=server.url)
        made = person.post(f"/api/invites/{token}/accept", json={"name": name, "password": PASSWORD})
        assert made.status_code == 201, made.text
        cookies[who] = person.cookies
    bot = ada.post("/api/admin/bots", json={"name": "robo"}).json()["token"]
    assert ada.post("/api/admin/users/dee/deactivate").status_code == 204
    headers = {"bot": {"Authorization": f"Bearer {bot}"}, "member": {}}
    return World(server, headers, cookies)


def token_world(hubbub_server: ServerFactory) -> World:
    tokens = {
        "ada-token-0123": {"user": "ada", "admin": True},
        "mia-token-0123": "mia",
        "dee-token-0123": "dee",
        "tia-token-0123": "tia",
    }
    server = hubbub_server({"HUBBUB_AUTH": "token", "HUBBUB_TOKENS": json.dumps(tokens)})
    headers = {who: {"Authorization": f"Bearer {who[:3]}-token-0123"} for who in ("ada", "mia", "dee", "tia")}
    world = World(
        server,
        {
            "admin": headers["ada"],
            "member": headers["mia"],
            "deactivated": headers["dee"],
            "target": headers["tia"],
        },
        {},
    )
    admin = world.client("admin")
    for who in ("member", "deactivated", "target"):
        assert world.client(who).get("/api/me").status_code == 200  # known from here on
    bot = admin.post("/api/admin/bots", json={"name": "robo"}).json()["token"]
    world.headers["bot"] = {"Authorization": f"Bearer {bot}"}
    assert admin.post("/api/admin/users/dee/deactivate").status_code == 204
    return world


@pytest.mark.parametrize("mode", ["password", "token"])
def test_every_admin_endpoint_answers_admins_only(hubbub_server: ServerFactory, mode: str) -> None:
    world = password_world(hubbub_server) if mode == "password" else token_world(hubbub_server)
    admin = world.client("admin")
    expected = {"anonymous": 401, "bot": 401, "deactivated": 401, "member": 403}
    wrong: dict[str, tuple[str, int]] = {}
    for make in endpoints(world, admin):
        method, path, body = make()
        for who, status in expected.items():
            answer = world.client(who).request(method, path, json=body)
            if answer.status_code != status:
                wrong[f"{who} {method} {path}"] = (answer.text, answer.status_code)
        answer = admin.request(method, path, json=body)
        if not 200 <= answer.status_code < 300:
            wrong[f"admin {method} {path}"] = (answer.text, answer.status_code)
    assert not wrong, wrong
    # Only the admin's actions are in the log, with where they came from.
    log = admin.get("/api/admin/audit?limit=500").json()
    acted = {entry["actor"] for entry in log if entry["action"] != "invite.accept"}  # an invitee's own
    assert acted == {"ada"}, log
    assert all(entry["address"] == "127.0.0.1" for entry in log)
    actions = {entry["action"] for entry in log}
    assert {"user.deactivate", "user.reactivate", "bot.create", "bot.rotate", "bot.revoke"} <= actions
    assert {"room.archive", "room.unarchive", "room.owner"} <= actions


def test_admins_manage_bots_rooms_and_users_without_reading_private_rooms(
    hubbub_server: ServerFactory,
) -> None:
    world = password_world(hubbub_server)
    ada, mia = world.client("admin"), world.client("member")
    # Bots: the token is shown once; rotation retires it; the rooms a bot is in are listed.
    made = ada.post("/api/admin/bots", json={"name": "deploys"}).json()
    assert made["token"].startswith("hbb_")
    assert ada.post("/api/admin/bots", json={"name": "deploys"}).status_code == 409
    assert ada.post("/api/admin/bots", json={"name": "MIA"}).status_code == 409  # passes for a user
    assert ada.post("/api/rooms", json={"name": "ops"}).status_code == 201
    assert ada.post("/api/rooms/ops/members", json={"user": "deploys"}).status_code == 201
    post = {"body": "green", "client_msg_id": "b1"}
    old = {"Authorization": f"Bearer {made['token']}"}
    assert httpx.post(f"{world.server.url}/api/rooms/ops/messages", json=post, headers=old).status_code == 201
    new = ada.post("/api/admin/bots/deploys/rotate").json()["token"]
    assert httpx.post(f"{world.server.url}/api/rooms/ops/messages", json=post, headers=old).status_code == 401
    fresh = {"Authorization": f"Bearer {new}"}
    assert (
        httpx.post(f"{world.server.url}/api/rooms/ops/messages", json=post, headers=fresh).status_code == 200
    )
    (listed,) = [b for b in ada.get("/api/admin/bots").json() if b["name"] == "deploys"]
    assert listed["rooms"] == ["ops"] and listed["revoked"] is False
    assert ada.post("/api/admin/bots/nobody/rotate").status_code == 404
    # Rooms: a private room is listed (name, owner, count), not readable; ownership moves to a member.
    assert mia.post("/api/rooms", json={"name": "secret", "visibility": "private"}).status_code == 201
    rooms = {r["name"]: r for r in ada.get("/api/admin/rooms").json()}
    assert rooms["secret"] == {
        "name": "secret",
        "visibility": "private",
        "owner": "mia",
        "member_count": 1,
        "archived": False,
    }
    assert ada.get("/api/rooms/secret/messages").status_code == 404
    assert ada.post("/api/admin/rooms/secret/owner", json={"user": "ada"}).status_code == 404  # not a member
    assert ada.post("/api/admin/rooms/general/archive").status_code == 400
    assert ada.post("/api/admin/rooms/nowhere/archive").status_code == 404
    assert mia.post("/api/rooms/ops/members", json={"user": "mia"}).status_code == 201
    moved = ada.post("/api/admin/rooms/ops/owner", json={"user": "mia"}).json()
    assert moved["owner"] == "mia"
    assert mia.patch("/api/rooms/ops", json={"topic": "mine now"}).status_code == 200
    # Users: never the last admin; a deactivated user is listed as such.
    assert ada.post("/api/admin/users/ada/role", json={"admin": False}).status_code == 409
    assert ada.post("/api/admin/users/ada/deactivate").status_code == 409
    assert ada.post("/api/admin/users/nobody/deactivate").status_code == 404
    users = {u["name"]: u for u in ada.get("/api/admin/users").json()}
    assert users["dee"]["deactivated"] and users["ada"]["admin"] and not users["mia"]["admin"]
    assert "deploys" not in users  # bots have their own list


def test_hubbub_audit_prints_the_log(hubbub_server: ServerFactory) -> None:
    world = password_world(hubbub_server)
    printed = hubbub_cli(world.server.data_dir, "audit", "--limit", "3", HUBBUB_AUTH="password")
    assert printed.returncode == 0, printed.stderr
    lines = printed.stdout.splitlines()
    assert len(lines) == 3 and lines[0].split("\t")[1:4] == ["ada", "user.deactivate", "dee"]
    assert lines[0].split("\t")[4] == "127.0.0.1"
