"""The small version of the reconnect storm (issue 30; the full one is bench/run.py --only
reconnect-storm): 200 users whose server restarts come back at once, each resuming the rooms
it had open from the last seq it had, while messages are posted. Every one of them must end
up with every message of its rooms exactly once, in order."""

from __future__ import annotations

import asyncio
import signal
from typing import Any

import pytest

from tests.client import ChatClient
from tests.conftest import ServerFactory
from tests.isolation import fresh_room
from tests.services import HubbubServer

USERS = 200
PER_ROOM = 20  # messages posted into each room while everyone comes back


def open_rooms(index: int, rooms: list[str]) -> list[str]:
    """The one or two rooms user ``index`` had open."""
    first = rooms[index % len(rooms)]
    return [first] if index % 2 else [first, rooms[(index + 1) % len(rooms)]]


async def come_back(server: HubbubServer, name: str, last: dict[str, int]) -> ChatClient:
    """Connect and join each room from the last seq the user had."""
    client = await ChatClient.open(f"{server.ws_url}/api/ws?name={name}")
    for room, seq in last.items():
        await client.join(room, after=seq)
    return client


async def read_until(client: ChatClient, last: dict[str, int], heads: dict[str, int]) -> dict[str, list[int]]:
    """The seqs of the messages the client gets, per room, until each room reaches its head."""
    got: dict[str, list[int]] = {room: [] for room in last}
    while any((got[room] or [last[room]])[-1] < heads[room] for room in last):
        frame: dict[str, Any] = await client.expect("message", lambda f: f["room"] in last)
        got[frame["room"]].append(frame["seq"])
    return got


# Sockets handed over to the protocol after the handshake, and every frame through ASGI.
@pytest.mark.parametrize("direct", ["true", "false"], ids=["handed-over", "asgi"])
async def test_two_hundred_users_reconnecting_at_once_all_catch_up_and_lose_nothing(
    hubbub_server: ServerFactory, direct: str
) -> None:
    server = hubbub_server({"HUBBUB_DIRECT_WRITES": direct})
    rooms = [fresh_room(server, "storm") for _ in range(3)]
    names = [f"storm-user-{i:03d}" for i in range(USERS)]
    writers = [await ChatClient.open(f"{server.ws_url}/api/ws?name=storm-writer-{i}") for i in range(3)]
    for writer, room in zip(writers, rooms, strict=True):
        await writer.join(room)
        await writer.say("before the restart", room)
    # Everyone was there, and had seen seq 1 of the rooms they had open.
    last = {name: dict.fromkeys(open_rooms(i, rooms), 1) for i, name in enumerate(names)}
    before = {name: dict.fromkeys(last[name], 0) for name in names}
    clients = await asyncio.gather(*(come_back(server, name, before[name]) for name in names))
    for client, name in zip(clients, names, strict=True):
        got = await read_until(client, before[name], dict.fromkeys(last[name], 1))
        assert got == {room: [1] for room in last[name]}

    # The restart: every socket is closed by the server (the sessions end, then the process).
    assert server.proc is not None
    server.proc.send_signal(signal.SIGTERM)
    codes = await asyncio.gather(*(client_closed(c) for c in [*clients, *writers]))
    assert set(codes) <= {1001, 1012}, codes
    assert await asyncio.to_thread(server.proc.wait, 60) in (0, -signal.SIGTERM)
    server.start()

    async def post(room: str, index: int) -> int:
        writer = await ChatClient.open(f"{server.ws_url}/api/ws?name=storm-writer-{index}")
        await writer.join(room, after=1)
        acks = [await writer.say(f"during the storm {n}", room) for n in range(PER_ROOM)]
        await writer.ws.close()
        return int(acks[-1]["seq"])

    # Everyone at once, while the writers post.
    back, *tails = await asyncio.gather(
        asyncio.gather(*(come_back(server, name, last[name]) for name in names)),
        *(post(room, i) for i, room in enumerate(rooms)),
    )
    heads = dict(zip(rooms, tails, strict=True))
    assert heads == dict.fromkeys(rooms, 1 + PER_ROOM)
    for client, name in zip(back, names, strict=True):
        got = await read_until(client, last[name], heads)
        assert got == {room: list(range(2, heads[room] + 1)) for room in last[name]}, name
    await asyncio.gather(*(client.ws.close() for client in back))


async def client_closed(client: ChatClient) -> int | None:
    await client.ws.wait_closed()
    return client.ws.close_code
