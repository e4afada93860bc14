"""Rooms people can trust: private rooms, direct messages, members and roles, enforced on every
way in, over real HTTP and WebSockets, in both stores, with one worker and with two."""

from __future__ import annotations

import asyncio
import json
import sqlite3
from pathlib import Path
from typing import Any

import asyncpg
import httpx
import pytest

from tests.client import ChatClient
from tests.conftest import ServerFactory, fresh_database
from tests.people import TOKENS, USERS, As, same_as_missing, servers
from tests.services import HubbubServer

__all__ = ["servers"]  # a fixture


async def test_access_matrix(servers: tuple[HubbubServer, HubbubServer]) -> None:
    a, b = servers
    olga, mike = As(a, "olga"), As(b, "mike")
    outsiders = {
        "nina (non-member)": As(b, "nina"),
        "rita (removed)": As(a, "rita"),
        "adam (admin)": As(b, "adam"),
    }

    # olga's private room with mike and rita, a direct message with mike, an archived room.
    made = olga.post("/api/rooms", {"name": "vault", "visibility": "private", "topic": "plans"})
    assert (
        made.status_code == 201 and made.json()["visibility"] == "private" and made.json()["owner"] == "olga"
    )
    for user in ("mike", "rita"):
        assert olga.post("/api/rooms/vault/members", {"user": user}).status_code == 201
    dm = olga.post("/api/dms", {"users": ["mike"]}).json()
    assert dm["visibility"] == "dm" and dm["members"] == ["mike", "olga"]
    assert (
        mike.post("/api/dms", {"users": ["olga"]}).json()["name"] == dm["name"]
    )  # the same set, the same room
    olga.post("/api/rooms", {"name": "attic", "visibility": "private"})
    olga.post("/api/rooms/attic/members", {"user": "mike"})
    archive = olga.patch("/api/rooms/attic", {"archived": True})
    assert archive.status_code == 200 and archive.json()["archived"] is True

    # Live sockets: olga and mike in the rooms (on both workers), rita in the vault before her removal.
    olga_ws, mike_ws, rita_ws = await olga.socket(), await mike.socket(), await As(b, "rita").socket()
    for ws, rooms in (
        (olga_ws, ["vault", dm["name"]]),
        (mike_ws, ["vault", dm["name"], "attic"]),
        (rita_ws, ["vault"]),
    ):
        for room in rooms:
            await ws.join(room)
    await olga_ws.say("before", room="vault")
    assert [m["body"] for m in await rita_ws.messages(1, room="vault")] == ["before"]
    assert olga.delete("/api/rooms/vault/members/rita").status_code == 204
    removed = await rita_ws.skip_to("removed")
    assert (removed["room"], removed["reason"]) == ("vault", "removed")
    await olga_ws.say("after", room="vault")
    await olga_ws.send(type="typing", room="vault")
    assert [m["body"] for m in await mike_ws.messages(2, room="vault")] == ["before", "after"]
    await mike_ws.expect("typing")
    # Offered to rita, were she still in the room, along with mike (on his worker): so before
    # the answer to anything she asks now. Nothing more of the room reached her.
    await rita_ws.send(type="leave", room="vault")
    assert (await rita_ws.expect("error"))["code"] == "not_joined"
    assert [f for f in rita_ws.pending if f.get("room") == "vault"] == []

    missing_history = olga.get("/api/rooms/nosuch/messages")
    for who, actor in outsiders.items():
        assert "vault" not in actor.room_names() and dm["name"] not in actor.room_names(), who
        for room in ("vault", dm["name"]):
            assert same_as_missing(
                actor.get(f"/api/rooms/{room}/messages"), room, missing_history, "nosuch"
            ), who
            assert same_as_missing(
                actor.get(f"/api/rooms/{room}"), room, olga.get("/api/rooms/nosuch"), "nosuch"
            ), who
        ws = await actor.socket()
        answers = []
        for frame in (
            {"type": "join", "room": "vault"},
            {"type": "join", "room": "vault", "after": 1},
            {"type": "join", "room": "nosuch"},
            {"type": "send", "room": "vault", "body": "let me in", "client_msg_id": "x1"},
            {"type": "typing", "room": "vault"},
        ):
            await ws.send(**frame)
            error = await ws.expect("error")
            answers.append(
                (error["code"], error["message"].replace("'vault'", "'X'").replace("'nosuch'", "'X'"))
            )
        assert answers[0] == answers[1] == answers[2] == ("unknown_room", "no such room"), (who, answers)
        assert answers[3][0] == answers[4][0] == "not_joined", (who, answers)
        await ws.close()
        members = actor.get("/api/rooms/vault/members")
        if who.startswith("adam"):  # an admin manages rooms by name, without reading them
            assert members.status_code == 200 and {m["user"] for m in members.json()} == {"olga", "mike"}
            assert actor.post("/api/rooms/vault/members", {"user": "adam"}).status_code == 403
        else:
            assert same_as_missing(members, "vault", olga.get("/api/rooms/nosuch/members"), "nosuch"), who
            assert actor.post("/api/rooms/vault/members", {"user": who.split()[0]}).status_code == 404
        # A DM with olga is their own, never hers with mike.
        own = actor.post("/api/dms", {"users": ["olga"]}).json()
        assert own["name"] != dm["name"] and set(own["members"]) == {"olga", who.split()[0]}

    # The archived room: read-only for its members, hidden from the list unless asked for.
    assert "attic" not in mike.room_names() and "attic" in mike.room_names(archived=True)
    assert mike.get("/api/rooms/attic/messages").status_code == 200
    await mike_ws.send(type="send", room="attic", body="hello?", client_msg_id="a1")
    assert (await mike_ws.expect("error"))["code"] == "archived"
    # An admin who is not a member removes members and archives, without reading.
    adam = outsiders["adam (admin)"]
    assert adam.delete("/api/rooms/vault/members/mike").status_code == 204
    assert (await mike_ws.expect("removed"))["room"] == "vault"
    assert adam.patch("/api/rooms/vault", {"archived": True}).status_code == 200
    assert "vault" not in olga.room_names() and "vault" in olga.room_names(archived=True)
    assert same_as_missing(adam.get("/api/rooms/vault/messages"), "vault", missing_history, "nosuch")


async def test_members_topics_and_their_rules(hubbub_server: ServerFactory) -> None:
    server = hubbub_server(
        {"HUBBUB_AUTH": "token", "HUBBUB_TOKENS": json.dumps(TOKENS), "HUBBUB_MAX_MEMBERS_PER_ROOM": "3"}
    )
    olga, mike, nina = As(server, "olga"), As(server, "mike"), As(server, "nina")
    assert olga.post("/api/rooms", {"name": "den", "visibility": "private"}).status_code == 201
    # Only the owner (or an admin) adds and removes others; anyone may leave.
    assert olga.post("/api/rooms/den/members", {"user": "mike"}).status_code == 201
    assert olga.post("/api/rooms/den/members", {"user": "mike"}).status_code == 200  # already
    assert mike.post("/api/rooms/den/members", {"user": "nina"}).status_code == 403
    assert olga.post("/api/rooms/den/members", {"user": "ghost"}).status_code == 404  # unknown user
    assert olga.post("/api/rooms/den/members", {"user": "nina"}).status_code == 201
    assert olga.post("/api/rooms/den/members", {"user": "rita"}).status_code == 400  # full: 3 members
    members = olga.get("/api/rooms/den/members").json()
    assert [(m["user"], m["role"]) for m in members] == [
        ("mike", "member"),
        ("nina", "member"),
        ("olga", "owner"),
    ]
    assert mike.delete("/api/rooms/den/members/nina").status_code == 403
    assert mike.delete("/api/rooms/den/members/mike").status_code == 204  # leaving
    assert "den" not in mike.room_names()
    # The topic: one line, the owner's to set.
    assert mike.patch("/api/rooms/general", {"topic": "mine"}).status_code == 403
    olga.post("/api/rooms", {"name": "lobby", "topic": "first\nsecond   line"})
    assert olga.get("/api/rooms/lobby").json()["topic"] == "first second line"
    assert olga.patch("/api/rooms/lobby", {"topic": "new"}).json()["topic"] == "new"
    assert olga.patch("/api/rooms/general", {"archived": True}).status_code in (400, 403)
    # Names: dm- is kept for direct messages; a private room's name is not available to others.
    assert olga.post("/api/rooms", {"name": "dm-mine"}).status_code == 400
    taken = As(server, "rita").post("/api/rooms", {"name": "den", "visibility": "private"})
    assert taken.status_code == 409 and "den" not in taken.text
    assert nina.post("/api/rooms", {"name": "lobby"}).status_code == 200  # public: it exists, join it
    # Direct messages: 2 to 8 people, known users only, members fixed.
    assert olga.post("/api/dms", {"users": []}).status_code == 422
    assert olga.post("/api/dms", {"users": ["olga"]}).status_code == 400
    assert olga.post("/api/dms", {"users": [f"u{i}" for i in range(8)]}).status_code == 422  # as documented
    assert olga.post("/api/dms", {"users": ["ghost"]}).status_code == 404
    dm = olga.post("/api/dms", {"users": ["mike", "nina"]}).json()
    assert olga.post(f"/api/rooms/{dm['name']}/members", {"user": "rita"}).status_code == 400
    assert olga.delete(f"/api/rooms/{dm['name']}/members/mike").status_code == 400  # nobody else's
    # Names for autocomplete: known users only, names only.
    assert olga.get("/api/users?q=ni").json() == ["nina"]
    assert set(olga.get("/api/users?q=").json()) >= set(USERS)
    assert httpx.get(f"{server.url}/api/users").status_code == 401


async def test_a_new_room_reaches_only_those_who_may_see_it(hubbub_server: ServerFactory) -> None:
    server = hubbub_server({"HUBBUB_AUTH": "token", "HUBBUB_TOKENS": json.dumps(TOKENS)})
    olga, mike, nina = As(server, "olga"), As(server, "mike"), As(server, "nina")
    mike_ws, nina_ws = await mike.socket(), await nina.socket()
    olga.post("/api/rooms", {"name": "secret", "visibility": "private"})
    olga.post("/api/rooms", {"name": "town", "visibility": "public"})
    assert (await nina_ws.expect("room_created"))["room"] == "town"
    olga.post("/api/rooms/secret/members", {"user": "mike"})
    added = await mike_ws.expect("room_added")
    assert (added["room"], added["visibility"]) == ("secret", "private")
    await mike_ws.join("secret")
    olga.patch("/api/rooms/secret", {"topic": "psst"})
    assert (await mike_ws.expect("room_updated"))["topic"] == "psst"
    # Anything of the room offered to nina (one server) came before the answer to what she asks now.
    await nina_ws.send(type="leave", room="secret")
    assert (await nina_ws.expect("error"))["code"] == "not_joined"
    leaked = [f for f in nina_ws.pending if "secret" in json.dumps(f)]
    assert leaked == []


async def test_a_member_leaves_a_direct_message_and_hears_nothing_more_of_it(
    hubbub_server: ServerFactory,
) -> None:
    """Issue 22: a DM could not be left, so whoever was sent one heard every word of it."""
    server = hubbub_server({"HUBBUB_AUTH": "token", "HUBBUB_TOKENS": json.dumps(TOKENS)})
    olga, mike = As(server, "olga"), As(server, "mike")
    dm = olga.post("/api/dms", {"users": ["mike"]}).json()["name"]
    olga_ws, mike_ws = await olga.socket(), await mike.socket()
    await olga_ws.join(dm)
    await mike_ws.join(dm)
    await olga_ws.say("hello", room=dm)
    assert [m["body"] for m in await mike_ws.messages(1, room=dm)] == ["hello"]

    # mike leaves it: his socket is told, it leaves his list, olga sees him go.
    assert mike.delete(f"/api/rooms/{dm}/members/mike").status_code == 204
    assert (await mike_ws.expect("removed", lambda f: f["room"] == dm))["reason"] == "left"
    assert (await olga_ws.expect("members", lambda f: f["room"] == dm))["removed"] == ["mike"]
    assert dm not in mike.room_names()
    # Whatever olga writes, or opens, reaches him no more: her DM with him is that room, without him.
    await olga_ws.say("are you there?", room=dm)
    again = olga.post("/api/dms", {"users": ["mike"]})
    assert again.json()["name"] == dm and again.json()["members"] == ["olga"]
    assert mike.get(f"/api/rooms/{dm}/messages").status_code == 404
    await mike_ws.send(type="join", room=dm)
    assert (await mike_ws.expect("error"))["code"] == "unknown_room"
    # A round trip after all of it: anything of the DM sent to him would have come before its answer.
    await mike_ws.send(type="leave", room=dm)
    assert (await mike_ws.expect("error"))["code"] == "not_joined"
    assert [
        f for f in mike_ws.pending if "are you there?" in json.dumps(f) or f["type"] == "room_added"
    ] == []
    assert mike.delete(f"/api/rooms/{dm}/members/mike").status_code == 404  # left already

    # mike opens it again himself: back in, told so, its history his, nothing unread.
    back = mike.post("/api/dms", {"users": ["olga"]})
    assert (
        back.status_code == 200 and back.json()["name"] == dm and back.json()["members"] == ["mike", "olga"]
    )
    assert (await mike_ws.expect("room_added"))["room"] == dm
    listed = {r["name"]: r for r in mike.get("/api/rooms").json()}
    assert listed[dm]["unread"] == 0
    history = mike.get(f"/api/rooms/{dm}/messages").json()
    assert [m["body"] for m in history["messages"]] == ["hello", "are you there?"]
    await mike_ws.join(dm, after=2)  # what he has read: from here on
    await olga_ws.say("welcome back", room=dm)
    assert [m["body"] for m in await mike_ws.messages(1, room=dm)] == ["welcome back"]
    await olga_ws.close()
    await mike_ws.close()


async def test_open_mode_has_no_private_rooms_or_direct_messages(
    hubbub_server: ServerFactory, tmp_path: Path
) -> None:
    """In auth mode none a name is all it takes to be someone: nothing can be private. Private
    rooms and DMs are refused with the reason, and those made in another mode before are not
    served, not even to their members' names."""
    data = tmp_path / "shared"
    signed_in = hubbub_server({"HUBBUB_AUTH": "token", "HUBBUB_TOKENS": json.dumps(TOKENS)}, data_dir=data)
    olga, mike = As(signed_in, "olga"), As(signed_in, "mike")
    assert olga.post("/api/rooms", {"name": "vault", "visibility": "private"}).status_code == 201
    assert olga.post("/api/rooms/vault/members", {"user": "mike"}).status_code == 201
    dm = olga.post("/api/dms", {"users": ["mike"]}).json()["name"]
    mike_ws = await mike.socket()
    await mike_ws.join("vault")
    await mike_ws.say("a secret", room="vault")
    await mike_ws.close()
    signed_in.stop()

    server = hubbub_server({}, data_dir=data)  # the same database, auth mode none
    assert "auth mode none: anyone can use any name" in server.log()

    def login(name: str) -> dict[str, str]:
        answer = httpx.post(f"{server.url}/api/login", json={"name": name})
        assert answer.status_code == 200, answer.text
        return {"Cookie": f"session={answer.cookies['session']}"}

    as_olga = login("olga")
    for path, body in (
        ("/api/rooms", {"name": "den", "visibility": "private"}),
        ("/api/dms", {"users": ["mike"]}),
    ):
        refused = httpx.post(f"{server.url}{path}", json=body, headers=as_olga)
        assert refused.status_code == 403, refused.text
        assert "auth mode none" in refused.json()["detail"] and "HUBBUB_AUTH" in refused.json()["detail"]
    listed = {r["name"] for r in httpx.get(f"{server.url}/api/rooms", headers=as_olga).json()}
    assert listed == {"general"}
    missing = httpx.get(f"{server.url}/api/rooms/nosuch/messages", headers=as_olga)
    for room in ("vault", dm):
        answer = httpx.get(f"{server.url}/api/rooms/{room}/messages", headers=as_olga)
        assert same_as_missing(answer, room, missing, "nosuch"), answer.text
    ws = await ChatClient.open(f"{server.ws_url}/api/ws?name=mike")
    for room in ("vault", dm):
        await ws.send(type="join", room=room)
        assert (await ws.expect("error"))["code"] == "unknown_room"
    assert (await ws.join("general"))["room"] == "general"  # public rooms as ever
    await ws.close()


def test_admins_in_every_mode(hubbub_server: ServerFactory, tmp_path: Path) -> None:
    import jwt

    from tests.services import hubbub_cli

    def is_admin(server: HubbubServer, headers: dict[str, str]) -> bool:
        httpx.post(f"{server.url}/api/rooms", json={"name": "box", "visibility": "private"}, headers=owner)
        return httpx.get(f"{server.url}/api/rooms/box/members", headers=headers).status_code == 200

    tokens = tmp_path / "tokens"
    tokens.write_text("tok-owner-0000 owner\ntok-boss-00000 boss admin\ntok-plain-0000 plain\n")
    server = hubbub_server({"HUBBUB_AUTH": "token", "HUBBUB_TOKENS_FILE": str(tokens)})
    owner = {"Authorization": "Bearer tok-owner-0000"}
    assert is_admin(server, {"Authorization": "Bearer tok-boss-00000"})
    assert not is_admin(server, {"Authorization": "Bearer tok-plain-0000"})

    data = tmp_path / "pw"
    for args in (["owner"], ["boss", "--admin"], ["plain"]):
        assert (
            hubbub_cli(data, "add-user", *args, "--password-stdin", stdin="long enough pw\n").returncode == 0
        )
    server = hubbub_server({"HUBBUB_AUTH": "password"}, data_dir=data)

    def cookie(name: str) -> dict[str, str]:
        response = httpx.post(
            f"{server.url}/api/login", json={"username": name, "password": "long enough pw"}
        )
        return {"Cookie": f"session={response.cookies['session']}"}

    owner = cookie("owner")
    assert is_admin(server, cookie("boss")) and not is_admin(server, cookie("plain"))

    secret = "jwt-secret-for-tests-0123456789abcdef"
    server = hubbub_server(
        {"HUBBUB_AUTH": "jwt", "HUBBUB_JWT_SECRET": secret, "HUBBUB_JWT_ADMIN_CLAIM": "roles"}
    )

    def bearer(sub: str, **claims: Any) -> dict[str, str]:
        token = jwt.encode({"sub": sub, "exp": 4102444800, **claims}, secret, "HS256")
        return {"Authorization": f"Bearer {token}"}

    owner = bearer("owner")
    assert is_admin(server, bearer("boss", roles=["staff", "admin"]))
    assert not is_admin(server, bearer("plain", roles=["staff"]))


FIRST_RELEASE_SQLITE = """
CREATE TABLE rooms (name TEXT PRIMARY KEY, head INTEGER NOT NULL DEFAULT 0, created_at INTEGER NOT NULL);
CREATE TABLE messages (room TEXT NOT NULL REFERENCES rooms(name), seq INTEGER NOT NULL, id TEXT NOT NULL UNIQUE,
    author TEXT NOT NULL, body TEXT NOT NULL, ts INTEGER NOT NULL, client_msg_id TEXT, client_id INTEGER,
    PRIMARY KEY (room, seq));
CREATE UNIQUE INDEX messages_idempotency ON messages (room, author, client_msg_id) WHERE client_msg_id IS NOT NULL;
CREATE TABLE sessions (id TEXT PRIMARY KEY, user TEXT NOT NULL, expires_at REAL NOT NULL);
INSERT INTO rooms VALUES ('general', 2, 1), ('random', 1, 1), ('quiet', 0, 1);
INSERT INTO messages VALUES ('general', 1, 'm1', 'ada', 'hi', 1, NULL, NULL),
    ('general', 2, 'm2', 'Client #5', 'yo', 2, NULL, 5), ('random', 1, 'm3', 'bob', 'x', 3, 'c1', NULL);
"""


@pytest.mark.parametrize("store", ["sqlite", "postgres"])
async def test_a_database_of_the_first_release_upgrades_in_place(
    hubbub_server: ServerFactory, tmp_path: Path, request: pytest.FixtureRequest, store: str
) -> None:
    """Made by the first release's schema: its rooms become public, whoever posted a member."""
    env: dict[str, str] = {}
    data = tmp_path / "old"
    data.mkdir()
    if store == "sqlite":
        db = sqlite3.connect(data / "hubbub.db")
        db.executescript(FIRST_RELEASE_SQLITE)
        db.close()
        await check_upgrade(hubbub_server, env, data)
        return
    async with fresh_database(request.getfixturevalue("postgres_url")) as url:
        conn = await asyncpg.connect(url)
        statements = FIRST_RELEASE_SQLITE.replace("rooms", "hubbub_rooms").replace(
            "messages", "hubbub_messages"
        )
        statements = statements.replace("sessions", "hubbub_sessions").replace(" user ", ' "user" ')
        statements = statements.replace("INTEGER", "BIGINT").replace("REAL", "DOUBLE PRECISION")
        await conn.execute(statements.replace("hubbub_messages_idempotency", "hubbub_messages_idempotency"))
        await conn.close()
        env["HUBBUB_DATABASE_URL"] = url
        await check_upgrade(hubbub_server, env, data)


async def check_upgrade(hubbub_server: ServerFactory, env: dict[str, str], data: Path) -> None:
    server = hubbub_server(env, data_dir=data)
    rooms = {r["name"]: r for r in httpx.get(f"{server.url}/api/rooms").json()}
    assert set(rooms) == {"general", "random", "quiet"}
    assert {r["visibility"] for r in rooms.values()} == {"public"} and rooms["general"]["head"] == 2
    ada = await ChatClient.open(f"{server.ws_url}/api/ws?name=ada")
    await ada.join("general")
    history = httpx.get(f"{server.url}/api/rooms/general/messages").json()["messages"]
    assert [m["body"] for m in history] == ["hi", "yo"]
    cookie = httpx.post(f"{server.url}/api/login", json={"name": "eve"}).cookies["session"]
    members = httpx.get(f"{server.url}/api/rooms/general/members", cookies={"session": cookie}).json()
    assert {m["user"] for m in members} == {"ada", "Client #5"}
    random = httpx.get(f"{server.url}/api/rooms/random/members", cookies={"session": cookie}).json()
    assert [m["user"] for m in random] == ["bob"]
    # Upgraded once: a restart finds it current and changes nothing.
    server.stop()
    again = hubbub_server(env, data_dir=data)
    assert {r["name"] for r in httpx.get(f"{again.url}/api/rooms").json()} == {"general", "random", "quiet"}
    await asyncio.sleep(0)
