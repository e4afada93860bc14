"""The JSON chat protocol of docs/protocol.md, against a real server."""

from __future__ import annotations

import asyncio
import json

import httpx
import pytest
from websockets.asyncio.client import connect

from hubbub.chat.presence import LIST_MOST
from tests.client import ChatClient
from tests.conftest import ServerFactory
from tests.isolation import fresh_room, unique
from tests.services import HubbubServer, hubbub_cli


def chat_url(server: HubbubServer, name: str) -> str:
    return f"{server.ws_url}/api/ws?name={name}"


async def test_send_ack_and_fanout(server: HubbubServer) -> None:
    room, a, b = fresh_room(server), unique("alice"), unique("bob")
    alice = await ChatClient.open(chat_url(server, a))
    bob = await ChatClient.open(chat_url(server, b))
    joined = await alice.join(room)
    assert joined["room"] == room and a in joined["users"]
    await bob.join(room)
    await alice.expect("presence", lambda f: b in f["joined"])

    ack = await alice.say("hello bob", room, client_msg_id="m-1")
    assert ack["seq"] == 1 and ack["duplicate"] is False and ack["id"]
    for client in (alice, bob):
        (message,) = await client.messages(1, room)
        assert message["seq"] == 1 and message["author"] == a and message["body"] == "hello bob"
        assert message["client_msg_id"] == "m-1" and message["id"] == ack["id"]
        assert isinstance(message["ts"], int)

    await bob.close()
    assert b not in (await alice.expect("presence", lambda f: b in f["left"]))["joined"]
    await alice.close()


async def test_burst_without_waiting_for_acks_keeps_order(hubbub_server: ServerFactory) -> None:
    # The sender does not wait: its messages are in flight together and share transactions.
    server = hubbub_server({"HUBBUB_RATE_LIMIT_BURST": "1000", "HUBBUB_RATE_LIMIT_PER_SECOND": "1000"})
    sender, reader = (
        await ChatClient.open(chat_url(server, "ann")),
        await ChatClient.open(chat_url(server, "ben")),
    )
    await sender.join()
    await reader.join()
    for i in range(300):
        await sender.send(type="send", room="general", body=f"m{i}", client_msg_id=f"c{i}")
    await sender.send(type="send", room="general", body="retry of m5", client_msg_id="c5")
    acks = [await sender.expect("ack") for _ in range(301)]
    assert [a["client_msg_id"] for a in acks] == [f"c{i}" for i in range(300)] + ["c5"]
    assert [a["seq"] for a in acks[:300]] == list(range(1, 301))
    assert acks[300]["duplicate"] and acks[300]["seq"] == 6
    got = await reader.messages(300)
    assert [(m["seq"], m["body"]) for m in got] == [(i + 1, f"m{i}") for i in range(300)]
    await sender.say("marker")  # the next message is the marker: the retry made no copy
    assert [m["body"] for m in await reader.messages(1)] == ["marker"]


async def test_retry_with_same_client_msg_id_is_stored_once(server: HubbubServer) -> None:
    room = fresh_room(server)
    alice = await ChatClient.open(chat_url(server, unique("alice")))
    watcher = await ChatClient.open(chat_url(server, unique("watcher")))
    await alice.join(room)
    await watcher.join(room)
    first = await alice.say("only once", room, client_msg_id="retry-1")
    second = await alice.say("only once", room, client_msg_id="retry-1")
    assert second["duplicate"] is True and second["seq"] == first["seq"] and second["id"] == first["id"]
    await alice.say("next", room)
    bodies = [m["body"] for m in await watcher.messages(2, room)]
    assert bodies == ["only once", "next"]
    page = httpx.get(f"{server.url}/api/rooms/{room}/messages").json()
    assert [m["body"] for m in page["messages"]] == ["only once", "next"]


async def test_resume_gets_exactly_the_missed_messages_in_order(server: HubbubServer) -> None:
    room, reader_name = fresh_room(server), unique("reader")
    sender = await ChatClient.open(chat_url(server, unique("sender")))
    await sender.join(room)
    reader = await ChatClient.open(chat_url(server, reader_name))
    await reader.join(room)
    for i in range(5):
        await sender.say(f"before {i}", room)
    seen = await reader.messages(5, room)
    cursor = seen[-1]["seq"]
    await reader.close()

    for i in range(30):
        await sender.say(f"missed {i}", room)
    reader = await ChatClient.open(chat_url(server, reader_name))
    await reader.join(room, after=cursor)
    live = asyncio.create_task(sender.say("live after resume", room))
    got = await reader.messages(31, room)
    await live
    assert [m["body"] for m in got] == [f"missed {i}" for i in range(30)] + ["live after resume"]
    assert [m["seq"] for m in got] == list(range(cursor + 1, cursor + 32))
    # Nothing more: a marker sent after everything arrives next (a room's messages keep order).
    await sender.say("marker", room)
    assert [m["body"] for m in await reader.messages(1, room)] == ["marker"]


async def test_join_without_cursor_gets_recent_history(hubbub_server: ServerFactory) -> None:
    server = hubbub_server({"HUBBUB_HISTORY_PAGE_SIZE": "10"})
    sender = await ChatClient.open(chat_url(server, "s"))
    await sender.join()
    for i in range(25):
        await sender.say(f"m{i}")
    late = await ChatClient.open(chat_url(server, "late"))
    joined = await late.join()
    assert joined["head"] == 25 and joined["from"] == 15
    assert [m["body"] for m in await late.messages(10)] == [f"m{i}" for i in range(15, 25)]


async def test_history_paging(server: HubbubServer) -> None:
    room = fresh_room(server)
    sender = await ChatClient.open(chat_url(server, unique("s")))
    await sender.join(room)
    for i in range(12):
        await sender.say(f"m{i}", room)
    first = httpx.get(f"{server.url}/api/rooms/{room}/messages?limit=5").json()
    assert [m["seq"] for m in first["messages"]] == [8, 9, 10, 11, 12] and first["has_more"]
    second = httpx.get(f"{server.url}/api/rooms/{room}/messages?limit=5&before=8").json()
    assert [m["seq"] for m in second["messages"]] == [3, 4, 5, 6, 7]
    last = httpx.get(f"{server.url}/api/rooms/{room}/messages?limit=5&before=3").json()
    assert [m["seq"] for m in last["messages"]] == [1, 2] and not last["has_more"]
    assert httpx.get(f"{server.url}/api/rooms/{unique('nope')}/messages").status_code == 404
    assert httpx.get(f"{server.url}/api/rooms/{room}/messages?before=x").status_code == 422


async def test_rooms_create_list_and_isolation(server: HubbubServer) -> None:
    alice = await ChatClient.open(chat_url(server, unique("alice")))
    random, other = unique("random"), fresh_room(server)
    response = httpx.post(f"{server.url}/api/rooms", json={"name": random})
    assert response.status_code == 201
    await alice.expect("room_created", lambda f: f["room"] == random)
    assert httpx.post(f"{server.url}/api/rooms", json={"name": random}).status_code == 200
    for bad in ["Bad Name", "", "x" * 40, "../etc", "-lead"]:
        assert httpx.post(f"{server.url}/api/rooms", json={"name": bad}).status_code == 422
    names = [r["name"] for r in httpx.get(f"{server.url}/api/rooms").json()]
    assert names == sorted(names) and {"general", random, other} <= set(names)

    await alice.join(random)
    await alice.join(other)
    await alice.say("in random", room=random)
    (message,) = await alice.messages(1, room=random)
    assert message["seq"] == 1
    await alice.say("in the other", room=other)  # after the first: nothing of it came here first
    assert (await alice.expect("message"))["room"] == other


async def test_typing_and_presence(server: HubbubServer) -> None:
    room, a, b = fresh_room(server), unique("alice"), unique("bob")
    alice = await ChatClient.open(chat_url(server, a))
    bob = await ChatClient.open(chat_url(server, b))
    await alice.join(room)
    joined = await bob.join(room)
    assert joined["users"] == [a, b]
    await alice.expect("presence", lambda f: b in f["joined"])
    await bob.send(type="typing", room=room)
    typing = await alice.expect("typing")
    assert typing["user"] == b and typing["room"] == room
    # A second connection of bob's does not announce him again; closing one keeps him online.
    bob2 = await ChatClient.open(chat_url(server, b))
    await bob2.join(room)
    await bob2.close()
    await bob.close()
    assert b not in (await alice.expect("presence", lambda f: b in f["left"]))["joined"]
    # The second connection came and went before bob left: any news of it would be here.
    assert [f for f in alice.pending if f["type"] == "presence"] == []


@pytest.mark.parametrize(
    ("frame", "code"),
    [
        ("not json", "invalid_json"),
        ("[1, 2]", "invalid_message"),
        ('{"type": "fly"}', "invalid_message"),
        ('{"type": "send", "room": "ROOM", "body": 5}', "invalid_message"),
        ('{"type": "send", "room": "ROOM"}', "invalid_message"),
        ('{"type": "send", "room": "ROOM", "body": ""}', "invalid_message"),
        ('{"type": "join", "room": "Not Valid"}', "invalid_message"),
        ('{"type": "join", "room": "ROOM", "after": -1}', "invalid_message"),
        ('{"type": "join", "room": "ROOM", "after": "3"}', "invalid_message"),
        ('{"type": "join", "room": "nosuchroom"}', "unknown_room"),
        ('{"type": "send", "room": "random", "body": "x"}', "not_joined"),
        ('{"type": "leave", "room": "ROOM"}', "not_joined"),
        ('{"type": "send", "room": "ROOM", "body": "x", "client_msg_id": "has space"}', "invalid_message"),
    ],
)
async def test_bad_input_gets_typed_error_and_connection_survives(
    server: HubbubServer, frame: str, code: str
) -> None:
    room = fresh_room(server)
    client = await ChatClient.open(chat_url(server, unique("fuzzer")))
    other = await ChatClient.open(chat_url(server, unique("bystander")))
    await other.join(room)
    await client.ws.send(frame.replace("ROOM", room))
    error = await client.expect("error")
    assert error["code"] == code and error["message"]
    # Still connected and usable; the bystander unaffected.
    await client.join(room)
    await other.say("still fine", room)
    assert (await client.messages(1, room))[0]["body"] == "still fine"


async def test_binary_frame_is_an_error_not_a_disconnect(server: HubbubServer) -> None:
    client = await ChatClient.open(chat_url(server, unique("bin")))
    await client.ws.send(b"\x00\x01")
    assert (await client.expect("error"))["code"] == "invalid_message"
    await client.join(fresh_room(server))


async def test_oversized_frame_closes_1009_others_unaffected(hubbub_server: ServerFactory) -> None:
    server = hubbub_server({"HUBBUB_MAX_MESSAGE_BYTES": "2048"})
    big = await ChatClient.open(chat_url(server, "big"))
    other = await ChatClient.open(chat_url(server, "other"))
    await other.join()
    await big.send(type="send", room="general", body="x" * 4096, client_msg_id="big")
    code, _ = await big.closed()
    assert code == 1009
    await other.say("after the big one")
    assert (await other.messages(1))[0]["body"] == "after the big one"


async def test_rate_limit_answers_with_retry_after(hubbub_server: ServerFactory) -> None:
    # A token every 11 days: what the bucket decides does not depend on how fast this runs
    # (refilling over time is tested with a clock of the test's own, in test_units.py).
    server = hubbub_server({"HUBBUB_RATE_LIMIT_PER_SECOND": "0.000001", "HUBBUB_RATE_LIMIT_BURST": "3"})
    client = await ChatClient.open(chat_url(server, "fast"))
    await client.join()
    for i in range(5):
        await client.send(type="send", room="general", body=f"m{i}", client_msg_id=f"r{i}")
    acks = [await client.expect("ack") for _ in range(3)]
    errors = [await client.expect("error") for _ in range(2)]
    assert [a["client_msg_id"] for a in acks] == ["r0", "r1", "r2"]
    assert {e["code"] for e in errors} == {"rate_limited"}
    assert [e["ref"] for e in errors] == ["r3", "r4"] and all(e["retry_after"] > 86_400 for e in errors)
    # Refused, not stored: the room holds the three that were accepted.
    page = httpx.get(f"{server.url}/api/rooms/general/messages").json()
    assert [m["body"] for m in page["messages"]] == ["m0", "m1", "m2"]


async def test_rest_endpoints(server: HubbubServer) -> None:
    config = httpx.get(f"{server.url}/api/config").json()
    assert config["auth_mode"] == "none" and config["default_room"] == "general"
    # The version and the schema's revision, the same as `hubbub --version` says.
    from hubbub import __version__
    from hubbub.store.schema import head

    assert (config["version"], config["schema_version"], config["logout_url"]) == (__version__, head(), None)
    said = hubbub_cli(server.data_dir, "--version").stdout
    assert said == f"hubbub {__version__} (database schema {head()})\n"
    assert httpx.get(f"{server.url}/healthz").json() == {"status": "ok"}
    assert httpx.get(f"{server.url}/readyz").json() == {"status": "ready"}
    metrics = httpx.get(f"{server.url}/metrics").text
    assert "hubbub_messages_stored_total" in metrics and "hubbub_connections" in metrics
    with httpx.Client(base_url=server.url) as http:
        assert http.post("/api/login", json={"name": "bad#name"}).status_code == 401
        carol = unique("carol")
        response = http.post("/api/login", json={"name": carol})
        assert response.status_code == 200 and response.json()["user"] == carol
        cookie = response.headers["set-cookie"].lower()
        assert "httponly" in cookie and "samesite=lax" in cookie
        assert http.get("/api/me").json()["user"] == carol
        headers = {"Cookie": f"session={http.cookies['session']}"}
        async with connect(f"{server.ws_url}/api/ws", additional_headers=headers) as ws:
            assert json.loads(await ws.recv())["user"] == carol


async def test_spa_fallback_and_unknown_api(server: HubbubServer) -> None:
    assert httpx.get(f"{server.url}/").status_code == 200
    assert httpx.get(f"{server.url}/rooms/general").status_code == 200
    assert httpx.get(f"{server.url}/api/nothing").status_code == 404


async def test_join_storm_evicts_nobody_and_presence_adds_up(hubbub_server: ServerFactory) -> None:
    """300 users joining at once (a restart's reconnect wave): nobody's send queue overflows,
    and the presence frames, applied to the join's list, add up: to everyone by name while
    the room has at most 200 online (LIST_MOST), then to a count that names nobody. That a
    burst costs a frame per notification window, not one per user, is tested with the windows
    under the test's control (test_units.py)."""
    server = hubbub_server(
        {
            "HUBBUB_SEND_QUEUE_SIZE": "64",
            "HUBBUB_MAX_CONNECTIONS_PER_USER": "1000",
            "HUBBUB_NEW_MEMBERS_PER_MINUTE_PER_ADDRESS": "100000",  # 300 new names from one address
        }
    )
    first = await ChatClient.open(chat_url(server, "u0"))
    joined = await first.join()
    names, count = set(joined["users"]), joined["online"]
    assert (names, count) == ({"u0"}, 1)
    clients = await asyncio.gather(*[ChatClient.open(chat_url(server, f"u{i}")) for i in range(1, 300)])
    joins = await asyncio.gather(*[c.join() for c in clients])
    assert all(len(j["users"]) in (0, j["online"]) and len(j["users"]) <= LIST_MOST for j in joins)
    while count != 300:
        frame = await first.expect("presence")
        assert frame.keys() == {"type", "room", "joined", "left", "online", "users"}
        names = (
            set(frame["users"])
            if frame["users"] is not None
            else names | set(frame["joined"]) - set(frame["left"])
        )
        count = frame["online"]
        assert len(names) == (count if count <= LIST_MOST else 0)
        assert names <= {f"u{i}" for i in range(300)}
    clients = [first, *clients]
    await clients[-1].say("everyone still here?")
    for client in clients[::50]:
        assert (await client.messages(1))[0]["body"] == "everyone still here?"
    assert "4408 too slow" not in server.log()  # the eviction line (a bare 4408 may be a port)


def test_head_is_answered_as_get_without_a_body(server: HubbubServer) -> None:
    for path in ("/", "/rooms/general", "/healthz", "/readyz", "/api/config", "/api/openapi.json"):
        got, head = httpx.get(f"{server.url}{path}"), httpx.head(f"{server.url}{path}")
        assert (head.status_code, head.content) == (got.status_code, b""), path
        assert head.headers["content-type"] == got.headers["content-type"], path
        assert head.headers["content-security-policy"] == got.headers["content-security-policy"], path


def test_a_method_a_path_does_not_take_is_405_with_every_method_it_does(server: HubbubServer) -> None:
    allowed = {
        ("GET", "/api/login"): "POST",
        ("GET", "/api/logout"): "POST",
        ("GET", "/api/dms"): "POST",
        ("PUT", "/api/rooms"): "GET, HEAD, POST",
        ("DELETE", "/api/rooms/general"): "GET, HEAD, PATCH",
        ("PUT", "/api/rooms/general/members"): "GET, HEAD, POST",
        ("POST", "/api/rooms/general/members/someone"): "DELETE",
        ("DELETE", "/healthz"): "GET, HEAD",
    }
    for (method, path), allow in allowed.items():
        answer = httpx.request(method, f"{server.url}{path}")
        assert (answer.status_code, answer.headers.get("allow")) == (405, allow), (method, path)
    # The UI's own routes are GETs of any other path; the server's own prefixes are not the UI's.
    assert httpx.get(f"{server.url}/rooms/anything").headers["content-type"].startswith("text/html")
    assert httpx.get(f"{server.url}/api/nothing").status_code == 404
    assert httpx.post(f"{server.url}/nothing").status_code == 404
