"""Regression tests for what an attacker's third pass found (issue 22; docs/reliability.md,
"Tried as an attacker"), each against a running server over real sockets or HTTP. The removal
race has its own module, test_removal_race.py."""

from __future__ import annotations

import json
import re
import socket
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import jwt as pyjwt
import pytest
from websockets.asyncio.client import connect
from websockets.exceptions import InvalidStatus

from hubbub.auth.base import Identity
from hubbub.broker.memory import MemoryBroker
from hubbub.chat.service import ChatService
from hubbub.files.local import LocalStorage
from hubbub.settings import AuthMode, Settings
from hubbub.store import UnknownRoomError, create_store
from hubbub.store.work.sql import driver_of
from tests import rawws
from tests.client import ChatClient, closed
from tests.conftest import ServerFactory, fresh_database
from tests.isolation import fresh_room, unique
from tests.services import HubbubServer, hubbub_cli
from tests.test_hardening import login_from
from tests.test_reliability import close_code

TEAM = ["olga", "mike", *(f"u{i}" for i in range(8))]
TEAM_TOKENS = {f"token-of-{user}-0123": user for user in TEAM}


def bearer(user: str) -> dict[str, str]:
    return {"Authorization": f"Bearer token-of-{user}-0123"}


def team_env(**settings: str) -> dict[str, str]:
    return {"HUBBUB_AUTH": "token", "HUBBUB_TOKENS": json.dumps(TEAM_TOKENS), **settings}


# --- direct messages and room creation: limited per user and per address


async def test_new_direct_messages_count_against_the_room_creation_limits(
    hubbub_server: ServerFactory,
) -> None:
    server = hubbub_server(team_env(HUBBUB_ROOM_CREATIONS_PER_MINUTE="3"))
    answers = [
        httpx.post(f"{server.url}/api/dms", json={"users": [f"u{i}"]}, headers=bearer("olga"))
        for i in range(6)
    ]
    assert [a.status_code for a in answers] == [200, 200, 200, 429, 429, 429]
    refused = answers[-1]
    assert int(refused.headers["retry-after"]) >= 1 and "too many" in refused.json()["detail"]
    # Opening one that exists is not making one: never limited.
    again = httpx.post(f"{server.url}/api/dms", json={"users": ["u0"]}, headers=bearer("olga"))
    assert again.status_code == 200 and again.json()["name"] == answers[0].json()["name"]
    assert httpx.get(f"{server.url}/api/rooms", headers=bearer("u5")).json()[0]["name"] == "general"


async def test_room_creation_is_limited_per_address_whatever_the_name(hubbub_server: ServerFactory) -> None:
    server = hubbub_server(
        {"HUBBUB_ROOM_CREATIONS_PER_MINUTE": "2", "HUBBUB_ROOM_CREATIONS_PER_MINUTE_PER_ADDRESS": "5"}
    )

    def as_name(name: str) -> dict[str, str]:
        login = httpx.post(f"{server.url}/api/login", json={"name": name})
        return {"session": login.cookies["session"]}

    # One user's refused attempts do not use up what the address allows others.
    eve = as_name("eve")
    eves = [httpx.post(f"{server.url}/api/rooms", json={"name": f"eve-{i}"}, cookies=eve) for i in range(6)]
    assert [a.status_code for a in eves] == [201, 201, 429, 429, 429, 429]
    # A new name per room (auth mode none: a name costs nothing) stops at the address's limit.
    hops = [
        httpx.post(
            f"{server.url}/api/rooms", json={"name": f"hop-{i}"}, cookies=as_name(f"hop{i}")
        ).status_code
        for i in range(5)
    ]
    assert hops == [201, 201, 201, 429, 429]


# --- the bot endpoint answers a bot that is not a member as for a room that does not exist


async def test_a_bot_outside_a_room_learns_nothing_of_it(hubbub_server: ServerFactory) -> None:
    server = hubbub_server(team_env())
    made = hubbub_cli(server.data_dir, "add-bot", "deploybot", **server.env)
    assert made.returncode == 0, made.stderr
    bot = {"Authorization": f"Bearer {made.stdout.strip()}"}

    def post(room: str, client_msg_id: str) -> httpx.Response:
        body = {"body": "shipped", "client_msg_id": client_msg_id}
        return httpx.post(f"{server.url}/api/rooms/{room}/messages", json=body, headers=bot)

    olga = bearer("olga")
    for room in ("ops", "attic"):
        assert httpx.post(
            f"{server.url}/api/rooms", json={"name": room, "visibility": "private"}, headers=olga
        )
    assert httpx.post(f"{server.url}/api/rooms/ops/members", json={"user": "deploybot"}, headers=olga)
    first = post("ops", "b1")
    assert first.status_code == 201, first.text
    # A reaction after the bot's removal must not reach it through a retry of its old message.
    async with httpx.AsyncClient() as http:
        ws = await ChatClient.open(f"{server.ws_url}/api/ws", additional_headers=olga)
        await ws.send(type="react", room="ops", id=first.json()["id"], emoji="👀", on=True, ref="r")
        assert (await ws.expect("applied"))["ref"] == "r"
        await ws.close()
        removed = await http.delete(f"{server.url}/api/rooms/ops/members/deploybot", headers=olga)
        assert removed.status_code == 204
    missing = post("nosuch", "b1")
    retry = post("ops", "b1")
    assert retry.status_code == missing.status_code == 404, retry.text
    assert retry.json()["detail"].replace("ops", "X") == missing.json()["detail"].replace("nosuch", "X")
    # Never invited to an archived private room: as if it did not exist, not "archived".
    assert (
        httpx.patch(f"{server.url}/api/rooms/attic", json={"archived": True}, headers=olga).status_code == 200
    )
    archived = post("attic", "b2")
    assert archived.status_code == 404, archived.text
    assert archived.json()["detail"].replace("attic", "X") == missing.json()["detail"].replace("nosuch", "X")


# --- an admin manages a private room or DM by name, without reading it


async def test_an_admin_outside_a_room_neither_reads_it_nor_lets_others_in(
    hubbub_server: ServerFactory,
) -> None:
    tokens = {**TEAM_TOKENS, "token-of-adam-0123": {"user": "adam", "admin": True}}
    server = hubbub_server({"HUBBUB_AUTH": "token", "HUBBUB_TOKENS": json.dumps(tokens)})
    olga, adam = bearer("olga"), bearer("adam")
    made = httpx.post(
        f"{server.url}/api/rooms",
        json={"name": "vault", "visibility": "private", "topic": "plans"},
        headers=olga,
    )
    assert made.status_code == 201
    ws = await ChatClient.open(f"{server.ws_url}/api/ws", additional_headers=olga)
    await ws.join("vault")
    await ws.say("a secret", room="vault")
    dm = httpx.post(f"{server.url}/api/dms", json={"users": ["mike"]}, headers=olga).json()["name"]
    await ws.join(dm)
    await ws.say("between us", room=dm)
    await ws.close()
    for room in ("vault", dm):
        for change in ({}, {"archived": True}):
            answer = httpx.patch(f"{server.url}/api/rooms/{room}", json=change, headers=adam)
            assert answer.status_code == 200, answer.text
            seen = answer.json()
            assert (seen["topic"], seen["head"], seen["members"]) == ("", 0, []), seen
            assert seen["archived"] is bool(change)
    # Whoever an admin adds reads the room: not for an admin who may not read it.
    httpx.patch(f"{server.url}/api/rooms/vault", json={"archived": False}, headers=olga)
    added = httpx.post(f"{server.url}/api/rooms/vault/members", json={"user": "u1"}, headers=adam)
    assert added.status_code == 403 and "member" in added.json()["detail"], added.text
    members = httpx.get(f"{server.url}/api/rooms/vault/members", headers=olga).json()
    assert [m["user"] for m in members] == ["olga"]
    # The owner sees it all as before.
    assert httpx.get(f"{server.url}/api/rooms/vault", headers=olga).json()["topic"] == "plans"


# --- HUBBUB_MAX_MEMBERS_PER_ROOM holds on join too; the member list comes a page at a time


async def test_joining_stops_at_the_member_limit_and_members_come_in_pages(
    hubbub_server: ServerFactory,
) -> None:
    server = hubbub_server({"HUBBUB_MAX_MEMBERS_PER_ROOM": "5"})
    sockets = [await ChatClient.open(f"{server.ws_url}/api/ws?name=m{i}") for i in range(6)]
    for ws in sockets[:5]:
        assert (await ws.join("general"))["room"] == "general"
    await sockets[5].send(type="join", room="general")
    full = await sockets[5].expect("error")
    assert (full["code"], full["room"]) == ("forbidden", "general") and "HUBBUB_MAX_MEMBERS_PER_ROOM" in full[
        "message"
    ]
    assert (await sockets[0].join("general"))["room"] == "general"  # a member comes back as ever
    async with connect(f"{server.ws_url}/ws/9") as plain:  # a plain-text client would be a 6th member
        code, reason = await closed(plain)
    assert code == 1008 and "HUBBUB_MAX_MEMBERS_PER_ROOM" in reason

    cookies = {"session": httpx.post(f"{server.url}/api/login", json={"name": "reader"}).cookies["session"]}

    def page(**params: str) -> list[str]:
        answer = httpx.get(f"{server.url}/api/rooms/general/members", params=params, cookies=cookies)
        assert answer.status_code == 200, answer.text
        return [m["user"] for m in answer.json()]

    assert page(limit="2") == ["m0", "m1"]
    assert page(limit="2", after="m1") == ["m2", "m3"]
    assert page(limit="2", after="m3") == ["m4"]
    assert page() == ["m0", "m1", "m2", "m3", "m4"]
    too_many = httpx.get(f"{server.url}/api/rooms/general/members?limit=501", cookies=cookies)
    assert too_many.status_code == 422
    for ws in sockets:
        await ws.close()


async def test_new_members_from_one_address_are_limited_where_names_are_free(
    hubbub_server: ServerFactory,
) -> None:
    server = hubbub_server({"HUBBUB_NEW_MEMBERS_PER_MINUTE_PER_ADDRESS": "3"})
    answers = []
    for i in range(5):
        ws = await ChatClient.open(f"{server.ws_url}/api/ws?name=n{i}")
        await ws.send(type="join", room="general")
        answers.append(await ws.expect("joined|error"))
        await ws.close()
    assert [a["type"] for a in answers] == ["joined"] * 3 + ["error"] * 2
    assert answers[-1]["code"] == "rate_limited" and answers[-1]["retry_after"] > 0
    again = await ChatClient.open(f"{server.ws_url}/api/ws?name=n0")  # a member already: not new
    assert (await again.join("general"))["room"] == "general"
    await again.close()


# --- NUL is refused where input is parsed: both stores answer alike, none with a 500


@pytest.fixture(params=["sqlite", "postgres"])
async def store_env(request: pytest.FixtureRequest) -> AsyncIterator[dict[str, str]]:
    if request.param == "sqlite":
        yield {}
        return
    async with fresh_database(request.getfixturevalue("postgres_url")) as url:
        yield {"HUBBUB_DATABASE_URL": url}


async def test_nul_is_refused_on_every_input(hubbub_server: ServerFactory, store_env: dict[str, str]) -> None:
    server = hubbub_server(team_env(**store_env))
    made = hubbub_cli(server.data_dir, "add-bot", "deploybot", **server.env)
    assert made.returncode == 0, made.stderr
    olga = bearer("olga")
    assert httpx.post(f"{server.url}/api/rooms", json={"name": "ops"}, headers=olga).status_code == 201
    nul = "a\u0000b"
    in_url = [
        ("GET", "/api/rooms/a%00b"),
        ("GET", "/api/rooms/a%00b/messages"),
        ("GET", "/api/rooms/a%00b/members"),
        ("PATCH", "/api/rooms/a%00b"),
        ("DELETE", "/api/rooms/ops/members/a%00b"),
        ("GET", "/api/users?q=a%00b"),
        ("GET", "/api/rooms/ops/members?after=a%00b"),
        ("POST", "/api/rooms/a%00b/members"),
    ]
    for method, path in in_url:
        answer = httpx.request(method, f"{server.url}{path}", json={"user": "mike"}, headers=olga)
        assert answer.status_code == 400 and answer.json()["detail"] == "NUL characters are not allowed", (
            path,
            answer.text,
        )
    in_body = [
        ("/api/rooms", {"name": "den", "topic": nul}),
        ("/api/dms", {"users": [nul]}),
        ("/api/rooms/ops/members", {"user": nul}),
        ("/api/login", {"token": nul}),
    ]
    for path, body in in_body:
        answer = httpx.post(f"{server.url}{path}", json=body, headers=olga)
        assert answer.status_code == 422 and "NUL" in answer.text and nul not in answer.text, (
            path,
            answer.text,
        )
    patched = httpx.patch(f"{server.url}/api/rooms/ops", json={"topic": nul}, headers=olga)
    assert patched.status_code == 422, patched.text
    bot = {"Authorization": f"Bearer {made.stdout.strip()}"}
    posted = httpx.post(
        f"{server.url}/api/rooms/ops/messages", json={"body": nul, "client_msg_id": "n"}, headers=bot
    )
    assert posted.status_code == 422, posted.text

    ws = await ChatClient.open(f"{server.ws_url}/api/ws", additional_headers=olga)
    await ws.join("ops")
    ack = await ws.say("fine", room="ops")
    for frame in (
        {"type": "send", "room": "ops", "body": nul, "client_msg_id": "x"},
        {"type": "edit", "room": "ops", "id": ack["id"], "body": nul, "ref": "e"},
    ):
        await ws.send(**frame)
        error = await ws.expect("error")
        assert error["code"] == "invalid_message" and "NUL" in error["message"], error
    assert (await ws.say("still here", room="ops"))["seq"] == 2
    await ws.close()
    async with connect(f"{server.ws_url}/ws/7", additional_headers=olga) as plain:
        await plain.send(nul)
        assert await closed(plain) == (1008, "NUL characters are not allowed")
    with pytest.raises(InvalidStatus) as refused:
        await connect(f"{server.ws_url}/api/ws?token=a%00b")
    assert refused.value.response.status_code == 400
    log = server.log()
    assert "Traceback" not in log and " 500" not in log


# --- JWT mode takes a user claim as it is, or not at all


async def test_a_jwt_user_claim_that_is_not_in_normal_form_is_refused(hubbub_server: ServerFactory) -> None:
    secret = "jwt-secret-for-tests-0123456789abcdef"
    server = hubbub_server({"HUBBUB_AUTH": "jwt", "HUBBUB_JWT_SECRET": secret})

    def token(sub: str) -> str:
        return pyjwt.encode({"sub": sub, "exp": 4102444800}, secret, "HS256")

    def login(sub: str) -> httpx.Response:
        return httpx.post(f"{server.url}/api/login", json={"token": token(sub)})

    assert login("alice").json()["user"] == "alice"
    # Full-width letters, spaces around, a Cyrillic a.
    for folded in ("\uff41\uff4c\uff49\uff43\uff45", " alice", "alice ", "\u0430lice"):
        refused = login(folded)
        assert refused.status_code == 401, (folded, refused.text)
        assert "claim" in refused.json()["detail"]
        bearer_header = {"Authorization": f"Bearer {token(folded)}"}
        async with connect(f"{server.ws_url}/api/ws", additional_headers=bearer_header) as ws:
            code, reason = await closed(ws)
        assert code == 4401 and "claim" in reason, (folded, code, reason)
    assert login("José Müller").status_code == 200  # one script, in normal form: as it is


# --- a user's sockets share one allowance, for messages and for joins (per worker)


async def test_a_users_sockets_share_one_allowance_for_messages_and_joins(
    hubbub_server: ServerFactory,
) -> None:
    # A token every 11 days: what is allowed is the burst, whatever the machine's speed.
    server = hubbub_server(
        team_env(
            HUBBUB_RATE_LIMIT_PER_SECOND="0.000001",
            HUBBUB_RATE_LIMIT_BURST="10",
            HUBBUB_JOIN_RATE_PER_SECOND="0.000001",
            HUBBUB_JOIN_BURST="6",
        )
    )
    sockets = [
        await ChatClient.open(f"{server.ws_url}/api/ws", additional_headers=bearer("olga")) for _ in range(5)
    ]
    joins = []
    for ws in sockets:
        await ws.send(type="join", room="general")
        joins.append(await ws.expect("joined|error"))
    await sockets[0].send(type="join", room="general")
    joins.append(await sockets[0].expect("joined|error"))
    await sockets[0].send(type="join", room="general")
    refused = await sockets[0].expect("joined|error")
    assert [j["type"] for j in joins] == ["joined"] * 6 and refused["code"] == "rate_limited"
    assert refused["room"] == "general" and refused["retry_after"] > 0
    answers = []
    for ws in sockets:
        for i in range(4):
            await ws.send(type="send", room="general", body="hi", client_msg_id=f"m{id(ws)}-{i}")
            answers.append(await ws.expect("ack|error", lambda f: f.get("ref") or f.get("client_msg_id")))
    assert [a["type"] for a in answers].count("ack") == 10
    assert {a["code"] for a in answers if a["type"] == "error"} == {"rate_limited"}
    other = await ChatClient.open(f"{server.ws_url}/api/ws", additional_headers=bearer("mike"))
    assert (await other.join("general"))["room"] == "general"  # another user: an allowance of their own
    assert (await other.say("mine"))["type"] == "ack"
    for ws in (*sockets, other):
        await ws.close()


# --- a text frame that is not UTF-8: 1007 and a line within a budget, not a traceback each


async def test_invalid_utf8_closes_1007_without_a_traceback_per_connection(server: HubbubServer) -> None:
    """Each such connection is closed 1007, and few of them are logged (the budget's rate, and
    what it says of the lines it held back: test_units.py, with a clock of the test's own)."""
    codes, fuzz = [], unique("fuzz")
    for i in range(150):
        sock = rawws.handshake(server.port, (f"/api/ws?name={fuzz}", "/ws/9", "/ws")[i % 3])
        sock.sendall(rawws.frame(b"caf\xc3\x28"))  # one whole frame, not UTF-8
        codes.append(close_code(sock))
        sock.close()
    assert set(codes) == {1007}
    log = server.log()
    assert "Traceback" not in log and "UnicodeDecodeError" not in log
    lines = [line for line in log.splitlines() if "not UTF-8" in line]
    assert 1 <= len(lines) < 75, lines  # one budget for the process: not a line per connection
    room = fresh_room(server)
    bystander = await ChatClient.open(f"{server.ws_url}/api/ws?name={unique('bystander')}")
    await bystander.join(room)
    assert (await bystander.say("still fine", room=room))["type"] == "ack"
    await bystander.close()


# --- sign-in throttling: locked by name and address, throttled (not locked) by address


async def test_one_persons_failures_behind_a_shared_address_lock_nobody_else_out(
    hubbub_server: ServerFactory, tmp_path: Path
) -> None:
    data = tmp_path / "pw"
    newcomers = ["carol", "dave", "erin", "frank"]  # names that never signed in from the office
    for user in ("bob", *newcomers):
        made = hubbub_cli(data, "add-user", user, "--password-stdin", stdin=f"{user}'s password\n")
        assert made.returncode == 0, made.stderr
    server = hubbub_server({"HUBBUB_AUTH": "password"}, data_dir=data)  # the default 900 s lockout
    office = "127.0.0.1"  # one NAT: everyone's address
    assert login_from(server, office, username="bob", password="bob's password").status_code == 200
    guesses = (f"u{i}" for i in range(10_000))

    def throttled() -> bool:
        """Someone at the office guesses one more name: True when the address is throttled
        (429, for at most a minute), False when the guess was counted (401)."""
        answer = login_from(server, office, username=next(guesses), password="guess")
        assert answer.status_code in (401, 429), answer.text
        if answer.status_code == 429:
            assert 1 <= int(answer.headers["Retry-After"]) <= 60, answer.headers
        return answer.status_code == 429

    # The address's throttle starts at 1 s and doubles with each guess counted after it ran
    # out: no clock decides this test. A round counts when the address is throttled both
    # before and after bob and a newcomer sign in (a throttle lasts until a time it set, and
    # only guesses, outside the round, set it), so it was throttled while they did.
    for _ in range(500):
        if not throttled():
            continue
        bob = login_from(server, office, username="bob", password="bob's password")
        newcomer = newcomers[0]
        held = login_from(server, office, username=newcomer, password=f"{newcomer}'s password")
        if throttled():
            # bob, who has signed in from here before, is not held off by the address...
            assert bob.status_code == 200, bob.text
            # ...and a name new to the address waits at most a minute, never the 900 s of a lockout.
            assert held.status_code == 429 and 1 <= int(held.headers["Retry-After"]) <= 60, held.headers
            break
        if held.status_code == 200:  # the throttle ran out meanwhile: this name is known here now
            newcomers.pop(0)
            assert newcomers, "the address's throttle ran out in every round"
    else:
        raise AssertionError("the address was never throttled")
    far = login_from(server, "127.0.0.2", username=newcomers[0], password=f"{newcomers[0]}'s password")
    assert far.status_code == 200, far.text


# --- a room the caller may not see costs what a missing one does


async def test_a_hidden_room_takes_the_same_work_as_a_missing_one(tmp_path: Path) -> None:
    """Timing told existing DMs and private rooms from missing names (10-20 us on loopback):
    the non-member's way now runs the same statements as a missing room's, nothing more."""
    store = create_store(f"sqlite:///{tmp_path}/h.db")
    settings = Settings(data_dir=tmp_path, auth=AuthMode.TOKEN, tokens={"t": "olga"})
    chat = ChatService(settings, store, MemoryBroker(), LocalStorage(tmp_path / "files"))
    await chat.start()
    await chat.remember_users(["olga", "mike"])
    await chat.rooms.create(Identity("olga"), "vault", "private", "plans")
    dm = (await chat.rooms.direct(Identity("olga"), ["mike"])).name
    statements: list[str] = []
    driver_of(store._db.conn).set_trace_callback(statements.append)  # type: ignore[attr-defined]

    async def work(name: str) -> list[str]:
        statements.clear()
        with pytest.raises(UnknownRoomError):
            await chat.rooms.visible(Identity("eve"), name)
        # The statements, their values left out (the names differ, by design).
        return [re.sub(r"'[^']*'", "?", statement) for statement in statements]

    missing = await work("nosuch")
    assert missing and await work(dm) == missing and await work("vault") == missing
    await chat.stop()


# --- Info: the HTTP answers that refuse a WebSocket carry the security headers; the policy
# names the page's host only when it is an allowed one, never as the Host header came


def handshake_answer(port: int, path: str, host: str | None = None) -> tuple[int, dict[str, str], str]:
    """The server's HTTP answer to a WebSocket handshake: status, headers, body."""
    with socket.create_connection(("127.0.0.1", port), timeout=10) as sock:
        sock.sendall(
            (
                f"GET {path} HTTP/1.1\r\nHost: {host or f'127.0.0.1:{port}'}\r\nUpgrade: websocket\r\n"
                "Connection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
                "Sec-WebSocket-Version: 13\r\n\r\n"
            ).encode()
        )
        data = b""
        while chunk := sock.recv(65536):
            data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    status_line, *lines = head.decode("latin-1").split("\r\n")
    headers = {name.lower(): value.strip() for name, _, value in (line.partition(":") for line in lines)}
    return int(status_line.split()[1]), headers, body.decode()


def test_websocket_refusals_carry_the_security_headers(server: HubbubServer) -> None:
    refusals = {
        "unknown host": (handshake_answer(server.port, "/api/ws", host="rebind.evil"), 400),
        "tutorial item without a credential": (handshake_answer(server.port, "/items/1/ws"), 403),
        "no such WebSocket": (handshake_answer(server.port, "/nowhere/ws"), 403),
        "NUL in the query": (handshake_answer(server.port, "/api/ws?name=a%00b"), 400),
    }
    for kind, ((status, headers, _body), expected) in refusals.items():
        assert status == expected, (kind, status)
        for name, value in {
            "x-content-type-options": "nosniff",
            "referrer-policy": "no-referrer",
            "x-frame-options": "DENY",
            "cross-origin-opener-policy": "same-origin",
        }.items():
            assert headers.get(name) == value, (kind, name, headers)
        assert "frame-ancestors 'none'" in headers["content-security-policy"], kind
        assert "server" not in headers, kind
    # The tutorial's refusal is still its 403, now saying why.
    assert "token" in refusals["tutorial item without a credential"][0][2]
    # An unknown host is not named in the refusal's policy.
    assert "rebind" not in refusals["unknown host"][0][1]["content-security-policy"]


def test_the_policy_names_an_allowed_host_never_the_header_as_it_came(hubbub_server: ServerFactory) -> None:
    server = hubbub_server({"HUBBUB_ALLOWED_HOSTS": '["*"]'})  # any host: the header decides alone

    def connect_src(host: str) -> list[str]:
        csp = httpx.get(f"{server.url}/api/config", headers={"Host": host}).headers["content-security-policy"]
        assert "evil" not in csp and csp.count(";") == csp.count("; "), csp
        return next(part.split()[1:] for part in csp.split("; ") if part.startswith("connect-src"))

    assert connect_src("chat.example.com:8443") == ["'self'", "ws://chat.example.com:8443"]
    assert connect_src("[::1]:8000") == ["'self'", "ws://[::1]:8000"]
    for forged in ("x.example;script-src https://evil.example", "x.example https://evil.example", "x\\evil"):
        assert connect_src(forged) == ["'self'"], forged


# --- Info: a 404 does not repeat what was asked for


def test_not_found_answers_do_not_repeat_the_input(hubbub_server: ServerFactory) -> None:
    server = hubbub_server(team_env())
    made = hubbub_cli(server.data_dir, "add-bot", "deploybot", **server.env)
    assert made.returncode == 0, made.stderr
    olga, bot = bearer("olga"), {"Authorization": f"Bearer {made.stdout.strip()}"}
    assert httpx.post(f"{server.url}/api/rooms", json={"name": "ops"}, headers=olga).status_code == 201
    probe = "zz-probe-name"
    answers = [
        httpx.get(f"{server.url}/api/rooms/{probe}", headers=olga),
        httpx.get(f"{server.url}/api/rooms/{probe}/messages", headers=olga),
        httpx.post(f"{server.url}/api/dms", json={"users": [probe]}, headers=olga),
        httpx.post(f"{server.url}/api/rooms/ops/members", json={"user": probe}, headers=olga),
        httpx.delete(f"{server.url}/api/rooms/ops/members/{probe}", headers=olga),
        httpx.post(
            f"{server.url}/api/rooms/{probe}/messages", json={"body": "x", "client_msg_id": "c"}, headers=bot
        ),
    ]
    assert [a.status_code for a in answers] == [404] * 6
    for answer in answers:
        assert probe not in answer.text, answer.text
    assert [a.json()["detail"] for a in answers] == [
        "no such room",
        "no such room",
        "no such user",
        "no such user",
        "not a member of the room",
        "no such room",
    ]


# --- Info: a data directory first made by `hubbub add-user` is private, as the server makes it


def test_a_data_directory_made_by_add_user_is_private(tmp_path: Path) -> None:
    data = tmp_path / "fresh" / "data"
    made = hubbub_cli(data, "add-user", "ada", "--password-stdin", stdin="long enough pw\n")
    assert made.returncode == 0, made.stderr
    assert data.stat().st_mode & 0o777 == 0o700
    # Password users live in the database (issue 24), made private too.
    assert (data / "hubbub.db").stat().st_mode & 0o777 == 0o600
