"""Unread, mentions and read positions, over real sockets, in both stores, with one worker and
with two (the `servers` fixture)."""

from __future__ import annotations

import json
import sqlite3
from typing import Any

import pytest

from tests.client import ChatClient
from tests.conftest import ServerFactory
from tests.isolation import fresh_room, unique
from tests.people import TOKENS, As, servers
from tests.services import HubbubServer

__all__ = ["servers"]  # a fixture


def room_of(actor: As, name: str) -> dict[str, Any]:
    rooms = {room["name"]: room for room in actor.get("/api/rooms").json()}
    return rooms[name]


async def unread_events(client: ChatClient, room: str, messages: int) -> list[dict[str, Any]]:
    """The unread events for the room until they add up to `messages`."""
    found: list[dict[str, Any]] = []
    while sum(event["count"] for event in found) < messages:
        found.append(await client.expect("unread", lambda f: f["room"] == room))
    return found


async def test_counts_mentions_and_read_positions(servers: tuple[HubbubServer, HubbubServer]) -> None:
    a, b = servers
    olga, mike, nina = As(a, "olga"), As(b, "mike"), As(a, "nina")
    olga.post("/api/rooms", {"name": "ops", "visibility": "private"})
    for user in ("mike", "nina"):
        olga.post("/api/rooms/ops/members", {"user": user})
    olga.post("/api/rooms", {"name": "town"})  # public; mike never joins it

    sender = await olga.socket()
    await sender.join("ops")
    await sender.join("town")
    watcher = await mike.socket()  # connected, but looking at another room
    await watcher.join("general")
    tab_a, tab_b = await nina.socket(), await As(b, "nina").socket()
    await tab_a.join("ops")

    town_reader = await As(b, "adam").socket()  # on the watcher's worker, in town
    await town_reader.join("town")
    for body in ("hello", "@mike look at this", "@room all hands, @zed too"):
        await sender.say(body, room="ops")
    await sender.say("town news @mike", room="town")
    events = await unread_events(watcher, "ops", 3)
    assert sum(e["mentions"] for e in events) == 2 and events[-1]["seq"] == 3 and len(events) <= 3
    # Once the watcher's worker has handed out the town message, anything of it or of ops for
    # the watcher came before the answer to what the watcher asks next. Counts, not messages;
    # and nothing of town, where mike is no member.
    await town_reader.messages(1, room="town")
    await watcher.send(type="leave", room="ops")
    assert (await watcher.expect("error"))["code"] == "not_joined"
    assert [f for f in watcher.pending if f.get("room") in ("ops", "town") and f["type"] == "message"] == []
    assert [f for f in watcher.pending if f.get("room") == "town"] == []

    history = olga.get("/api/rooms/ops/messages").json()["messages"]
    assert [m["mentions"] for m in history] == [[], ["mike"], ["@room"]]  # @zed is no member
    assert (room_of(mike, "ops")["unread"], room_of(mike, "ops")["mentions"]) == (3, 2)
    assert room_of(mike, "town")["unread"] == 0 and room_of(mike, "town")["member"] is False
    assert (room_of(olga, "ops")["unread"], room_of(olga, "ops")["mentions"]) == (0, 0)  # her own

    # Reading in one tab clears the other, on every worker; a lower seq changes nothing.
    await tab_a.send(type="read", room="ops", seq=2)
    assert (await tab_b.expect("read"))["seq"] == 2
    await tab_a.send(type="read", room="ops", seq=1)
    assert (await tab_b.expect("read"))["seq"] == 2
    ops = room_of(nina, "ops")
    assert (ops["last_read"], ops["unread"], ops["mentions"]) == (2, 1, 1)
    # Reading past the newest message, or where one is no member, is refused.
    await tab_a.send(type="read", room="ops", seq=99)
    assert (await tab_a.expect("error"))["code"] == "invalid_message"
    outsider = await As(b, "rita").socket()
    await outsider.send(type="read", room="ops", seq=1)
    assert (await outsider.expect("error"))["code"] == "unknown_room"
    await outsider.send(type="read", room="town", seq=1)  # public, but she never joined it
    assert (await outsider.expect("error"))["code"] == "unknown_room"

    # Kept across a restart.
    for client in (sender, watcher, tab_a, tab_b, outsider, town_reader):
        await client.close()
    a.stop()
    a.start()
    assert room_of(As(a, "nina"), "ops")["last_read"] == 2


async def test_room_mentions_in_large_rooms_are_for_owners_and_admins(hubbub_server: ServerFactory) -> None:
    server = hubbub_server(
        {"HUBBUB_AUTH": "token", "HUBBUB_TOKENS": json.dumps(TOKENS), "HUBBUB_ROOM_MENTION_MAX_MEMBERS": "2"}
    )
    olga, mike = As(server, "olga"), As(server, "mike")
    olga.post("/api/rooms", {"name": "hall", "visibility": "private"})
    for user in ("mike", "nina"):
        olga.post("/api/rooms/hall/members", {"user": user})
    member, owner = await mike.socket(), await olga.socket()
    await member.join("hall")
    await owner.join("hall")
    await member.say("@room from a member", room="hall")
    await owner.say("@room from the owner", room="hall")
    history = olga.get("/api/rooms/hall/messages").json()["messages"]
    assert [m["mentions"] for m in history] == [[], ["@room"]]
    assert room_of(As(server, "nina"), "hall")["mentions"] == 1


async def test_a_message_costs_no_write_per_member(hubbub_server: ServerFactory) -> None:
    server = hubbub_server({"HUBBUB_MAX_CONNECTIONS_PER_USER": "1000"})
    members = [await ChatClient.open(f"{server.ws_url}/api/ws?name=m{i}") for i in range(300)]
    for client in members:
        await client.join()
    db = sqlite3.connect(server.data_dir / "hubbub.db")

    def rows() -> tuple[int, int, int]:
        return tuple(  # type: ignore[return-value]
            db.execute(sql).fetchone()[0]
            for sql in (
                "SELECT count(*) FROM hubbub_mentions",
                "SELECT total(last_read) FROM hubbub_members",
                "SELECT count(*) FROM hubbub_members",
            )
        )

    before = rows()
    await members[0].say("a message for 300 members")
    await members[1].messages(1)
    assert rows() == before  # read positions are written when people read, not when others post
    db.close()


@pytest.mark.parametrize("body", ["@M1 hi", "@room hi"])
async def test_mentions_reach_only_members(server: HubbubServer, body: str) -> None:
    room, m1 = fresh_room(server), unique("m1")
    body = body.replace("M1", m1)
    poster = await ChatClient.open(f"{server.ws_url}/api/ws?name={unique('poster')}")
    await poster.join(room)
    outsider = await ChatClient.open(f"{server.ws_url}/api/ws?name={m1}")  # not a member of the room
    await poster.say(body, room)
    message = (await poster.messages(1, room))[0]
    assert message["mentions"] == ([] if body.startswith("@m1") else ["@room"])
    # An unread count for the outsider would have been sent with the message, before the answer
    # to anything the outsider asks afterwards.
    await outsider.join(room)
    assert [f for f in outsider.pending if f["type"] == "unread"] == []
