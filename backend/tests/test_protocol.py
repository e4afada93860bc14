"""The JSON chat protocol of docs/protocol.md, against a real server."""

from __future__ import annotations

import asyncio
import json

import httpx
import pytest
from websockets.asyncio.client import connect

from tests.client import ChatClient
from tests.conftest import ServerFactory
from tests.services import HubbubServer


def chat_url(server: HubbubServer, name: str) -> str:
    return f"{server.ws_url}/api/ws?name={name}"


async def test_send_ack_and_fanout(server: HubbubServer) -> None:
    alice = await ChatClient.open(chat_url(server, "alice"))
    bob = await ChatClient.open(chat_url(server, "bob"))
    joined = await alice.join()
    assert joined["room"] == "general" and "alice" in joined["users"]
    await bob.join()
    await alice.expect("presence", lambda f: "bob" in f["joined"])

    ack = await alice.say("hello bob", client_msg_id="m-1")
    assert ack["seq"] == 1 and ack["duplicate"] is False and ack["id"]
    for client in (alice, bob):
        (message,) = await client.messages(1)
        assert message["seq"] == 1 and message["author"] == "alice" and message["body"] == "hello bob"
        assert message["client_msg_id"] == "m-1" and message["id"] == ack["id"]
        assert isinstance(message["ts"], int)

    await bob.close()
    assert "bob" not in (await alice.expect("presence", lambda f: "bob" in f["left"]))["joined"]
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
    assert [f for f in await reader.quiet() if f["type"] == "message"] == []


async def test_retry_with_same_client_msg_id_is_stored_once(server: HubbubServer) -> None:
    alice = await ChatClient.open(chat_url(server, "alice"))
    watcher = await ChatClient.open(chat_url(server, "watcher"))
    await alice.join()
    await watcher.join()
    first = await alice.say("only once", client_msg_id="retry-1")
    second = await alice.say("only once", client_msg_id="retry-1")
    assert second["duplicate"] is True and second["seq"] == first["seq"] and second["id"] == first["id"]
    await alice.say("next")
    bodies = [m["body"] for m in await watcher.messages(2)]
    assert bodies == ["only once", "next"]
    page = httpx.get(f"{server.url}/api/rooms/general/messages").json()
    assert [m["body"] for m in page["messages"]] == ["only once", "next"]


async def test_resume_gets_exactly_the_missed_messages_in_order(server: HubbubServer) -> None:
    sender = await ChatClient.open(chat_url(server, "sender"))
    await sender.join()
    reader = await ChatClient.open(chat_url(server, "reader"))
    await reader.join()
    for i in range(5):
        await sender.say(f"before {i}")
    seen = await reader.messages(5)
    cursor = seen[-1]["seq"]
    await reader.close()

    for i in range(30):
        await sender.say(f"missed {i}")
    reader = await ChatClient.open(chat_url(server, "reader"))
    await reader.join(after=cursor)
    live = asyncio.create_task(sender.say("live after resume"))
    got = await reader.messages(31)
    await live
    assert [m["body"] for m in got] == [f"missed {i}" for i in range(30)] + ["live after resume"]
    assert [m["seq"] for m in got] == list(range(cursor + 1, cursor + 32))
    assert not [f for f in await reader.quiet() if f["type"] == "message"]


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
    sender = await ChatClient.open(chat_url(server, "s"))
    await sender.join()
    for i in range(12):
        await sender.say(f"m{i}")
    first = httpx.get(f"{server.url}/api/rooms/general/messages?limit=5").json()
    assert [m["seq"] for m in first["messages"]] == [8, 9, 10, 11, 12] and first["has_more"]
    second = httpx.get(f"{server.url}/api/rooms/general/messages?limit=5&before=8").json()
    assert [m["seq"] for m in second["messages"]] == [3, 4, 5, 6, 7]
    last = httpx.get(f"{server.url}/api/rooms/general/messages?limit=5&before=3").json()
    assert [m["seq"] for m in last["messages"]] == [1, 2] and not last["has_more"]
    assert httpx.get(f"{server.url}/api/rooms/nope/messages").status_code == 404
    assert httpx.get(f"{server.url}/api/rooms/general/messages?before=x").status_code == 422


async def test_rooms_create_list_and_isolation(server: HubbubServer) -> None:
    alice = await ChatClient.open(chat_url(server, "alice"))
    response = httpx.post(f"{server.url}/api/rooms", json={"name": "random"})
    assert response.status_code == 201
    assert (await alice.expect("room_created"))["room"] == "random"
    assert httpx.post(f"{server.url}/api/rooms", json={"name": "random"}).status_code == 200
    for bad in ["Bad Name", "", "x" * 40, "../etc", "-lead"]:
        assert httpx.post(f"{server.url}/api/rooms", json={"name": bad}).status_code == 422
    names = [r["name"] for r in httpx.get(f"{server.url}/api/rooms").json()]
    assert names == ["general", "random"]

    await alice.join("random")
    await alice.join("general")
    await alice.say("in random", room="random")
    (message,) = await alice.messages(1, room="random")
    assert message["seq"] == 1
    assert not [f for f in await alice.quiet() if f.get("room") == "general" and f["type"] == "message"]


async def test_typing_and_presence(server: HubbubServer) -> None:
    alice = await ChatClient.open(chat_url(server, "alice"))
    bob = await ChatClient.open(chat_url(server, "bob"))
    await alice.join()
    joined = await bob.join()
    assert joined["users"] == ["alice", "bob"]
    await alice.expect("presence", lambda f: "bob" in f["joined"])
    await bob.send(type="typing", room="general")
    typing = await alice.expect("typing")
    assert typing["user"] == "bob" and typing["room"] == "general"
    # A second connection of bob's does not announce him again; closing one keeps him online.
    bob2 = await ChatClient.open(chat_url(server, "bob"))
    await bob2.join()
    await bob2.close()
    await bob.close()
    assert "bob" not in (await alice.expect("presence", lambda f: "bob" in f["left"]))["joined"]
    frames = await alice.quiet(0.5)
    assert [f for f in frames if f["type"] == "presence"] == []


@pytest.mark.parametrize(
    ("frame", "code"),
    [
        ("not json", "invalid_json"),
        ("[1, 2]", "invalid_message"),
        ('{"type": "fly"}', "invalid_message"),
        ('{"type": "send", "room": "general", "body": 5}', "invalid_message"),
        ('{"type": "send", "room": "general"}', "invalid_message"),
        ('{"type": "send", "room": "general", "body": ""}', "invalid_message"),
        ('{"type": "join", "room": "Not Valid"}', "invalid_message"),
        ('{"type": "join", "room": "general", "after": -1}', "invalid_message"),
        ('{"type": "join", "room": "general", "after": "3"}', "invalid_message"),
        ('{"type": "join", "room": "nosuchroom"}', "unknown_room"),
        ('{"type": "send", "room": "random", "body": "x"}', "not_joined"),
        ('{"type": "leave", "room": "general"}', "not_joined"),
        ('{"type": "send", "room": "general", "body": "x", "client_msg_id": "has space"}', "invalid_message"),
    ],
)
async def test_bad_input_gets_typed_error_and_connection_survives(
    server: HubbubServer, frame: str, code: str
) -> None:
    client = await ChatClient.open(chat_url(server, "fuzzer"))
    other = await ChatClient.open(chat_url(server, "bystander"))
    await other.join()
    await client.ws.send(frame)
    error = await client.expect("error")
    assert error["code"] == code and error["message"]
    # Still connected and usable; the bystander unaffected.
    await client.join()
    await other.say("still fine")
    assert (await client.messages(1))[0]["body"] == "still fine"


async def test_binary_frame_is_an_error_not_a_disconnect(server: HubbubServer) -> None:
    client = await ChatClient.open(chat_url(server, "bin"))
    await client.ws.send(b"\x00\x01")
    assert (await client.expect("error"))["code"] == "invalid_message"
    await client.join()


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
    server = hubbub_server({"HUBBUB_RATE_LIMIT_PER_SECOND": "2", "HUBBUB_RATE_LIMIT_BURST": "3"})
    client = await ChatClient.open(chat_url(server, "fast"))
    await client.join()
    for i in range(5):
        await client.send(type="send", room="general", body=f"m{i}", client_msg_id=f"r{i}")
    acks = [await client.expect("ack") for _ in range(3)]
    errors = [await client.expect("error") for _ in range(2)]
    assert [a["client_msg_id"] for a in acks] == ["r0", "r1", "r2"]
    assert {e["code"] for e in errors} == {"rate_limited"}
    assert [e["ref"] for e in errors] == ["r3", "r4"] and all(e["retry_after"] > 0 for e in errors)
    await asyncio.sleep(errors[-1]["retry_after"] + 0.1)
    assert (await client.say("later", client_msg_id="r3"))["duplicate"] is False


async def test_rest_endpoints(server: HubbubServer) -> None:
    config = httpx.get(f"{server.url}/api/config").json()
    assert config["auth_mode"] == "none" and config["default_room"] == "general"
    assert httpx.get(f"{server.url}/healthz").json() == {"status": "ok"}
    assert httpx.get(f"{server.url}/readyz").json() == {"status": "ready"}
    metrics = httpx.get(f"{server.url}/metrics").text
    assert "hubbub_messages_stored_total" in metrics and "hubbub_connections" in metrics
    with httpx.Client(base_url=server.url) as http:
        assert http.post("/api/login", json={"name": "bad#name"}).status_code == 401
        response = http.post("/api/login", json={"name": "carol"})
        assert response.status_code == 200 and response.json()["user"] == "carol"
        cookie = response.headers["set-cookie"].lower()
        assert "httponly" in cookie and "samesite=lax" in cookie
        assert http.get("/api/me").json()["user"] == "carol"
        headers = {"Cookie": f"session={http.cookies['session']}"}
        async with connect(f"{server.ws_url}/api/ws", additional_headers=headers) as ws:
            assert json.loads(await ws.recv())["user"] == "carol"


async def test_spa_fallback_and_unknown_api(server: HubbubServer) -> None:
    assert httpx.get(f"{server.url}/").status_code == 200
    assert httpx.get(f"{server.url}/rooms/general").status_code == 200
    assert httpx.get(f"{server.url}/api/nothing").status_code == 404


async def test_join_storm_is_coalesced_and_evicts_nobody(hubbub_server: ServerFactory) -> None:
    """300 users joining at once (a restart's reconnect wave) cost each client a few presence
    frames, not 300: nobody's send queue overflows."""
    server = hubbub_server(
        {
            "HUBBUB_SEND_QUEUE_SIZE": "64",
            "HUBBUB_MAX_CONNECTIONS_PER_USER": "1000",
            "HUBBUB_NEW_MEMBERS_PER_MINUTE_PER_ADDRESS": "100000",  # 300 new names from one address
        }
    )
    clients = await asyncio.gather(*[ChatClient.open(chat_url(server, f"u{i}")) for i in range(300)])
    joins = await asyncio.gather(*[c.join() for c in clients])
    await asyncio.sleep(0.5)
    first = clients[0]
    frames = await first.quiet(0.5)
    presence = [f for f in frames if f["type"] == "presence"]
    assert 1 <= len(presence) < 30
    # Each frame is who came and went: applied to the join's list, they make everyone.
    online = set(joins[0]["users"])
    for frame in presence:
        assert frame.keys() == {"type", "room", "joined", "left"}
        online = (online | set(frame["joined"])) - set(frame["left"])
    assert online == {f"u{i}" for i in range(300)}
    await clients[-1].say("everyone still here?")
    for client in clients[::50]:
        assert (await client.messages(1))[0]["body"] == "everyone still here?"
    assert "4408 too slow" not in server.log()  # the eviction line (a bare 4408 may be a port)
