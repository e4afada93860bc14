"""People over real servers (issue 24): the first-run admin, invitations and how they are
abused, password rules, profiles that reach open clients live, roles that apply to open
sockets at once, deactivation across two workers through Redis, sign-in refused to a
deactivated user in every auth mode, the users file adopted while running."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import jwt
import pytest

from tests.client import ChatClient
from tests.conftest import ServerFactory
from tests.isolation import unique
from tests.services import HubbubServer, hubbub_cli, until

PASSWORD = "a long enough secret"
JWT_SECRET = "people-jwt-secret-0123456789abcdef"


class Person:
    """One browser: a cookie jar on a server."""

    def __init__(self, server: HubbubServer, name: str = "") -> None:
        self.server = server
        self.name = name
        self.http = httpx.Client(base_url=server.url)

    def post(self, path: str, body: object | None = None) -> httpx.Response:
        return self.http.post(path, json=body)

    def get(self, path: str) -> httpx.Response:
        return self.http.get(path)

    async def socket(self, server: HubbubServer | None = None) -> ChatClient:
        cookie = self.http.cookies["session"]
        where = server or self.server
        return await ChatClient.open(
            f"{where.ws_url}/api/ws", additional_headers={"Cookie": f"session={cookie}"}
        )


def first_admin(server: HubbubServer, name: str = "root") -> Person:
    root = Person(server, name)
    made = root.post("/api/setup", {"name": name, "password": PASSWORD})
    assert made.status_code == 201, made.text
    return root


def invite(admin: Person, uses: int = 1) -> str:
    made = admin.post("/api/invites", {"uses": uses})
    assert made.status_code == 201, made.text
    token: str = made.json()["token"]
    assert made.json()["url"].endswith(f"/#invite={token}")
    return token


def join(
    server: HubbubServer, token: str, name: str, password: str = PASSWORD
) -> tuple[Person, httpx.Response]:
    person = Person(server, name)
    return person, person.post(f"/api/invites/{token}/accept", {"name": name, "password": password})


def member(admin: Person, name: str) -> Person:
    person, answer = join(admin.server, invite(admin), name)
    assert answer.status_code == 201, answer.text
    return person


@pytest.fixture(scope="module")
def two_workers(
    module_server: ServerFactory, redis_url: str, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[HubbubServer, HubbubServer]]:
    """Two password-mode workers sharing a SQLite database, fanning out through Redis; its
    first admin is made by the first test that asks (``root`` below)."""
    env = {
        "HUBBUB_AUTH": "password",
        "HUBBUB_REDIS_URL": redis_url,
        "HUBBUB_BROKER_CHANNEL": unique("people"),
    }
    shared = tmp_path_factory.mktemp("people")
    return module_server(env, data_dir=shared), module_server(env, data_dir=shared)


@pytest.fixture(scope="module")
def root(two_workers: tuple[HubbubServer, HubbubServer]) -> Person:
    return first_admin(two_workers[0])


# --- the first run
async def test_the_first_visitor_makes_the_admin_once(hubbub_server: ServerFactory) -> None:
    server = hubbub_server({"HUBBUB_AUTH": "password"})
    assert httpx.get(f"{server.url}/api/config").json()["setup_needed"] is True

    async def setup(name: str) -> int:
        async with httpx.AsyncClient(base_url=server.url) as http:
            return (await http.post("/api/setup", json={"name": name, "password": PASSWORD})).status_code

    # Two first runs at once: one wins, the other is told to sign in.
    codes = sorted(await asyncio.gather(setup("ada"), setup("bea")))
    assert codes == [201, 409]
    assert httpx.get(f"{server.url}/api/config").json()["setup_needed"] is False
    later = httpx.post(f"{server.url}/api/setup", json={"name": "cyd", "password": PASSWORD})
    assert later.status_code == 409 and "sign in" in later.json()["detail"]
    admins = [n for n in ("ada", "bea") if login(server, n).status_code == 200]
    assert len(admins) == 1
    me = httpx.post(f"{server.url}/api/login", json={"username": admins[0], "password": PASSWORD}).json()
    assert me["admin"] is True


def login(server: HubbubServer, name: str, password: str = PASSWORD) -> httpx.Response:
    return httpx.post(f"{server.url}/api/login", json={"username": name, "password": password})


async def test_other_modes_have_no_first_run_and_no_invitations(hubbub_server: ServerFactory) -> None:
    server = hubbub_server(
        {
            "HUBBUB_AUTH": "token",
            "HUBBUB_TOKENS": json.dumps({"boss-token-123": {"user": "boss", "admin": True}}),
        }
    )
    assert httpx.get(f"{server.url}/api/config").json()["setup_needed"] is False
    assert httpx.post(f"{server.url}/api/setup", json={"name": "x", "password": PASSWORD}).status_code == 409
    boss = {"Authorization": "Bearer boss-token-123"}
    refused = httpx.post(f"{server.url}/api/invites", json={}, headers=boss)
    assert refused.status_code == 409 and "password" in refused.json()["detail"]
    # Roles come from the tokens here: the admin page cannot change them.
    assert (
        httpx.post(f"{server.url}/api/admin/users/boss/role", json={"admin": False}, headers=boss).status_code
        == 409
    )


# --- invitations and how they are abused
async def test_an_invitee_signs_up_once_and_chats(
    two_workers: tuple[HubbubServer, HubbubServer], root: Person
) -> None:
    a, _b = two_workers
    token = invite(root)
    name = unique("ivy")
    ivy, made = join(a, token, name)
    assert made.status_code == 201 and made.json() == {**made.json(), "user": name, "admin": False}
    assert ivy.get("/api/me").json()["user"] == name
    socket = await ivy.socket()
    await socket.join()
    await socket.say("hello from the invitee")
    # Used up: the same link again answers as one never made.
    _again, reused = join(a, token, unique("ivo"))
    _guess, guessed = join(a, "hbi_" + "A" * 43, unique("gus"))
    _junk, junk = join(a, "not-even-a-token", unique("jun"))
    assert reused.status_code == guessed.status_code == junk.status_code == 404
    assert reused.json() == guessed.json() == junk.json()
    assert "not valid" in reused.json()["detail"]
    await socket.close()


async def test_expired_and_revoked_invitations_answer_as_made_up_ones(
    two_workers: tuple[HubbubServer, HubbubServer], root: Person
) -> None:
    a, _b = two_workers
    revoked = invite(root)
    listed = root.get("/api/invites").json()
    (entry,) = [i for i in listed if i["created_by"] == "root" and i["used"] == 0 and i["id"]][-1:]
    assert "token" not in entry  # kept as a hash: the list cannot show it
    assert root.http.delete(f"/api/invites/{revoked}").status_code == 204  # by its token
    assert root.http.delete(f"/api/invites/{revoked}").status_code == 404
    expired = invite(root)
    # An invitation whose time has passed: its expiry set in the past, as an operator could.
    await expire(a, expired)
    _made_up = join(a, "hbi_" + "B" * 43, unique("zed"))[1]
    answers = [join(a, t, unique("late"))[1] for t in (revoked, expired)] + [_made_up]
    assert {r.status_code for r in answers} == {404} and len({r.text for r in answers}) == 1


async def expire(server: HubbubServer, token: str) -> None:
    import hashlib
    import sqlite3

    db = sqlite3.connect(server.data_dir / "hubbub.db")
    with db:
        db.execute(
            "UPDATE hubbub_invites SET expires_at = 1 WHERE token_hash = ?",
            (hashlib.sha256(token.encode()).hexdigest(),),
        )
    db.close()


async def test_two_accepts_of_a_single_use_invitation_make_one_account(
    two_workers: tuple[HubbubServer, HubbubServer], root: Person
) -> None:
    token = invite(root)

    async def accept(server: HubbubServer, name: str) -> int:
        async with httpx.AsyncClient(base_url=server.url) as http:
            body = {"name": name, "password": PASSWORD}
            return (await http.post(f"/api/invites/{token}/accept", json=body)).status_code

    # One on each worker, at once.
    codes = await asyncio.gather(*(accept(server, unique("twin")) for server in two_workers))
    assert sorted(codes) == [201, 404]


async def test_names_and_passwords_follow_the_rules(
    two_workers: tuple[HubbubServer, HubbubServer], root: Person
) -> None:
    a, _b = two_workers
    token = invite(root, uses=5)
    taken = member(root, unique("olga"))
    cases = {
        taken.name: 409,  # taken
        taken.name.upper(): 409,  # looks like it
        "r\u043eot": 400,  # a Cyrillic o among Latin letters
        "\uff52\uff4f\uff4f\uff54": 409,  # full-width "root": NFKC makes it root's own name
        "bad:name": 400,
        "": 422,
    }
    for name, status in cases.items():
        answer = join(a, token, name)[1]
        assert answer.status_code == status, (name, answer.text)
    for password, why in (
        ("short", "at least 10"),
        ("password123", "most common"),
        ("qwertyuiop", "most common"),
    ):
        answer = join(a, token, unique("pat"), password)[1]
        assert answer.status_code == 400 and why in answer.json()["detail"], answer.text
    name = unique("dora")
    assert join(a, token, name, name + name)[1].status_code == 201  # not common: fine
    # No refusal spent a use: four are left.
    (left,) = [i for i in root.get("/api/invites").json() if i["uses"] == 5]
    assert left["used"] == 1


async def test_guessing_invitations_is_throttled(hubbub_server: ServerFactory) -> None:
    server = hubbub_server({"HUBBUB_AUTH": "password", "HUBBUB_LOGIN_MAX_FAILURES": "1"})
    codes = [join(server, f"hbi_{n:043d}", f"g{n}")[1].status_code for n in range(20)]
    # 6 free per address, then locked: for 1 s, then 2, 4, ... after each further failure, so
    # however slow the machine, some of the rest find the lock on.
    assert codes[:6] == [404] * 6 and 429 in codes[6:], codes


# --- profiles
async def test_a_profile_change_reaches_open_clients_on_every_worker(
    two_workers: tuple[HubbubServer, HubbubServer], root: Person
) -> None:
    a, b = two_workers
    pia, watcher = member(root, unique("pia")), member(root, unique("wes"))
    here, there = await watcher.socket(a), await watcher.socket(b)
    change = {
        "display_name": "Pia P",
        "status_emoji": "🌴",
        "status_text": "  on  leave\nuntil May ",
        "time_zone": "Europe/Paris",
    }
    answer = pia.http.patch("/api/me/profile", json=change)
    assert answer.status_code == 200, answer.text
    expected = {
        "type": "profile",
        "user": pia.name,
        "display_name": "Pia P",
        "status_emoji": "🌴",
        "status_text": "on leave until May",
        "time_zone": "Europe/Paris",
        "avatar_url": None,
        "deactivated": False,
        "bot": False,
    }
    for socket in (here, there):
        assert await socket.expect("profile", lambda f: f["user"] == pia.name) == expected
    card = watcher.get(f"/api/users/{pia.name}").json()
    assert card == {k: v for k, v in expected.items() if k != "type"}
    both = watcher.get(f"/api/profiles?name={pia.name}&name=nobody&name={watcher.name}").json()
    assert [p["user"] for p in both] == [pia.name, watcher.name]
    assert watcher.get("/api/users/nobody-at-all").status_code == 404
    # Found by display name in autocomplete.
    assert pia.name in watcher.get("/api/users?q=Pia%20P").json()
    for socket in (here, there):
        await socket.close()


async def test_profile_fields_follow_the_rules(
    two_workers: tuple[HubbubServer, HubbubServer], root: Person
) -> None:
    quin = member(root, unique("quin"))
    refused = {
        "display_name": ["root", "R\u043eot", "x" * 40, "\u200bquin"],
        "status_emoji": ["not an emoji", "🎉🎉"],
        "status_text": ["x" * 101, "evil \u202e txt"],
        "time_zone": ["Mars/Olympus", "../etc/passwd"],
    }
    for field, values in refused.items():
        for value in values:
            answer = quin.http.patch("/api/me/profile", json={field: value})
            assert answer.status_code in (400, 409, 422), (field, value, answer.text)
    assert quin.http.patch("/api/me/profile", json={"nickname": "x"}).status_code == 422
    assert httpx.patch(f"{quin.server.url}/api/me/profile", json={}).status_code == 401
    cleared = quin.http.patch("/api/me/profile", json={"display_name": "Quin", "status_emoji": ""}).json()
    assert cleared["display_name"] == "Quin"


# --- roles and deactivation
async def test_a_new_role_applies_to_open_sockets_at_once(
    two_workers: tuple[HubbubServer, HubbubServer], root: Person
) -> None:
    a, b = two_workers
    mod, poster = member(root, unique("mod")), member(root, unique("pos"))
    room = unique("roles")
    assert poster.post("/api/rooms", {"name": room}).status_code == 201
    speaker = await poster.socket(a)
    await speaker.join(room)
    said = await speaker.say("delete me", room)
    socket = await mod.socket(b)
    await socket.join(room)
    await socket.send(type="delete", room=room, id=said["id"], ref="d1")
    assert (await socket.expect("error"))["code"] == "forbidden"
    assert root.post(f"/api/admin/users/{mod.name}/role", {"admin": True}).status_code == 204
    # Worker b follows when the broker tells it (its REST answers and its sockets at once).
    on_b = httpx.Client(base_url=b.url, cookies=mod.http.cookies)
    await until(lambda: on_b.get("/api/me").json()["admin"], "worker b to follow the new role")
    # The same socket, on the other worker, now deletes as an admin (no new sign-in).
    await socket.send(type="delete", room=room, id=said["id"], ref="d2")
    assert (await socket.expect("applied|error"))["type"] == "applied"
    assert mod.get("/api/me").json()["admin"] is True
    for s in (speaker, socket):
        await s.close()


async def test_deactivation_closes_every_socket_on_every_worker_at_once(
    two_workers: tuple[HubbubServer, HubbubServer], root: Person
) -> None:
    a, b = two_workers
    sam, friend = member(root, unique("sam")), member(root, unique("fen"))
    room = unique("gone")
    assert sam.post("/api/rooms", {"name": room}).status_code == 201
    on_a, on_b = await sam.socket(a), await sam.socket(b)
    await on_a.join(room)
    said = await on_a.say("my last words", room)
    watcher = await friend.socket(b)
    assert root.post(f"/api/admin/users/{sam.name}/deactivate").status_code == 204
    assert await on_a.closed() == (4401, "account deactivated")
    assert await on_b.closed() == (4401, "account deactivated")
    frame = await watcher.expect("profile", lambda f: f["user"] == sam.name)
    assert frame["deactivated"] is True
    assert sam.get("/api/me").status_code == 401  # the session ended with it
    refused = login(a, sam.name)
    assert refused.status_code == 401 and "deactivated" in refused.json()["detail"]
    assert login(b, sam.name).status_code == 401
    # Their messages stay; they are out of autocomplete, and cannot be invited or messaged.
    history = friend.get(f"/api/rooms/{room}/messages").json()["messages"]
    assert [m["id"] for m in history] == [said["id"]]
    assert sam.name not in friend.get(f"/api/users?q={sam.name[:3]}").json()
    assert friend.post("/api/dms", {"users": [sam.name]}).status_code == 404
    # Reactivated: signs in again.
    assert root.post(f"/api/admin/users/{sam.name}/reactivate").status_code == 204
    await until(lambda: login(b, sam.name).status_code == 200, "worker b to follow the reactivation")
    await watcher.close()


@pytest.mark.parametrize("mode", ["none", "token", "jwt", "password"])
async def test_a_deactivated_user_cannot_sign_in_in_any_mode(
    hubbub_server: ServerFactory, tmp_path: Path, mode: str
) -> None:
    env = {"HUBBUB_AUTH": mode, "HUBBUB_CREDENTIAL_CHECK_SECONDS": "0.2"}
    data = tmp_path / "data"
    if mode == "token":
        env["HUBBUB_TOKENS"] = json.dumps({"tim-token-0123": "tim"})
    if mode == "jwt":
        env["HUBBUB_JWT_SECRET"] = JWT_SECRET
    if mode == "password":
        assert hubbub_cli(data, "add-user", "tim", "--password-stdin", stdin=PASSWORD + "\n").returncode == 0
    server = hubbub_server(env, data_dir=data)
    credential = {
        "none": {"name": "tim"},
        "token": {"token": "tim-token-0123"},
        "jwt": {"token": jwt.encode({"sub": "tim", "exp": int(time.time()) + 600}, JWT_SECRET, "HS256")},
        "password": {"username": "tim", "password": PASSWORD},
    }[mode]
    first = httpx.post(f"{server.url}/api/login", json=credential)
    assert first.status_code == 200, first.text
    socket = await ChatClient.open(
        f"{server.ws_url}/api/ws", additional_headers={"Cookie": f"session={first.cookies['session']}"}
    )
    # The operator's way in every mode (the admin page's needs an admin, which mode none has not).
    assert hubbub_cli(data, "deactivate", "tim", **{k: v for k, v in env.items()}).returncode == 0
    assert await socket.closed(timeout=30) == (4401, "account deactivated")
    again = httpx.post(f"{server.url}/api/login", json=credential)
    assert again.status_code == 401 and "deactivated" in again.json()["detail"], again.text
    if mode in ("token", "jwt"):
        bearer = {"Authorization": f"Bearer {credential['token']}"}
        assert httpx.get(f"{server.url}/api/rooms", headers=bearer).status_code == 401
    audit = hubbub_cli(data, "audit", "--json", **env)
    assert json.loads(audit.stdout.splitlines()[0])["action"] == "user.deactivate"


async def test_the_users_file_is_adopted_while_running(hubbub_server: ServerFactory, tmp_path: Path) -> None:
    data = tmp_path / "data"
    users = data / "users"
    assert (
        hubbub_cli(
            data,
            "add-user",
            "una",
            "--admin",
            "--users-file",
            str(users),
            "--password-stdin",
            stdin=PASSWORD + "\n",
        ).returncode
        == 0
    )
    server = hubbub_server(
        {"HUBBUB_AUTH": "password", "HUBBUB_CREDENTIAL_CHECK_SECONDS": "0.2"}, data_dir=data
    )
    assert login(server, "una").json()["admin"] is True
    assert (
        hubbub_cli(
            data, "add-user", "vic", "--users-file", str(users), "--password-stdin", stdin=PASSWORD + "\n"
        ).returncode
        == 0
    )
    await until(lambda: login(server, "vic").status_code == 200, "the server to adopt vic")
    vic = login(server, "vic").cookies["session"]
    socket = await ChatClient.open(f"{server.ws_url}/api/ws", additional_headers={"Cookie": f"session={vic}"})
    assert hubbub_cli(data, "del-user", "vic", "--users-file", str(users)).returncode == 0
    assert await socket.closed(timeout=30) == (4401, "account deactivated")
    assert login(server, "vic").status_code == 401
