"""The tutorial's three endpoints keep their exact wire text, over a real server."""

from __future__ import annotations

import asyncio
import socket
import struct

import pytest
from websockets.asyncio.client import connect
from websockets.exceptions import ConnectionClosed, InvalidStatus

from tests.client import ChatClient
from tests.conftest import ServerFactory
from tests.rawws import frame, handshake
from tests.services import HubbubServer


async def test_echo(server: HubbubServer) -> None:
    async with connect(f"{server.ws_url}/ws") as ws:
        for text in ["hello", "", "ünïcødé ✓", "a" * 1000]:
            await ws.send(text)
            assert await ws.recv() == f"Message text was: {text}"


async def test_items_with_token_and_q(server: HubbubServer) -> None:
    async with connect(f"{server.ws_url}/items/foo/ws?token=some-key-token&q=42") as ws:
        await ws.send("hi")
        assert [await ws.recv() for _ in range(3)] == [
            "Session cookie or query token value is: some-key-token",
            "Query parameter q is: 42",
            "Message text was: hi, for item ID: foo",
        ]


async def test_items_with_cookie_and_no_q(server: HubbubServer) -> None:
    headers = {"Cookie": "session=cookie-value"}
    async with connect(f"{server.ws_url}/items/bar/ws", additional_headers=headers) as ws:
        await ws.send("x")
        assert await ws.recv() == "Session cookie or query token value is: cookie-value"
        assert await ws.recv() == "Message text was: x, for item ID: bar"


@pytest.mark.parametrize("query", ["", "?q=1", "?token=t&q=notanint", "?token=t&q=1.5"])
async def test_items_refused_before_accept(server: HubbubServer, query: str) -> None:
    with pytest.raises(InvalidStatus) as refused:
        async with connect(f"{server.ws_url}/items/foo/ws{query}"):
            pass
    assert refused.value.response.status_code == 403


async def test_broadcast_chat_exact_lines(fresh_server: HubbubServer) -> None:
    server = fresh_server
    async with connect(f"{server.ws_url}/ws/1") as one, connect(f"{server.ws_url}/ws/2") as two:
        await one.send("hello")
        assert await one.recv() == "You wrote: hello"
        assert await one.recv() == "Client #1 says: hello"
        assert await two.recv() == "Client #1 says: hello"
        await one.close()
        assert await two.recv() == "Client #1 left the chat"


async def test_broadcast_burst_arrives_whole_and_in_order(hubbub_server: ServerFactory) -> None:
    server = hubbub_server({"HUBBUB_RATE_LIMIT_BURST": "1000", "HUBBUB_RATE_LIMIT_PER_SECOND": "1000"})
    # max_queue=None: the clients buffer what they do not read yet, so neither is a slow consumer.
    async with (
        connect(f"{server.ws_url}/ws/1", max_queue=None) as one,
        connect(f"{server.ws_url}/ws/2", max_queue=None) as two,
    ):
        for i in range(300):
            await one.send(f"m{i}")
        await one.close()  # straight after: what it sent is still delivered, then its leaving
        lines = [await asyncio.wait_for(two.recv(), 10) for _ in range(301)]
        assert lines == [f"Client #1 says: m{i}" for i in range(300)] + ["Client #1 left the chat"]


async def test_broadcast_client_id_must_be_int(server: HubbubServer) -> None:
    async with connect(f"{server.ws_url}/ws/abc") as ws:
        with pytest.raises(ConnectionClosed) as closed:
            await ws.recv()
    assert closed.value.rcvd is not None and closed.value.rcvd.code == 1008


async def test_vanished_client_does_not_break_broadcast(fresh_server: HubbubServer) -> None:
    """A client that disappears without a close frame (RST) must not stop the others' chat."""
    server = fresh_server
    ghost = handshake(server.port, "/ws/99")
    # SO_LINGER 0: close() sends RST, no close frame, no FIN handshake.
    ghost.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    # max_queue=None: a client that leaves frames unread must still see the server's close frame
    # (with flow control it stops reading at 16 and waits out its close timeout).
    one_url, two_url = f"{server.ws_url}/ws/1", f"{server.ws_url}/ws/2"
    async with connect(one_url, max_queue=None) as one, connect(two_url, max_queue=None) as two:
        # Each is in the room once its first line is echoed (a session joins, then reads).
        ghost.sendall(frame(b"here"))
        echoed = b""
        while b"You wrote: here" not in echoed:
            echoed += await asyncio.to_thread(ghost.recv, 4096)
        for client, name in ((one, "one"), (two, "two")):
            await client.send(name)
            while await client.recv() != f"You wrote: {name}":
                pass
        ghost.close()
        for i in range(20):
            await one.send(f"m{i}")
        received = []
        while len(received) < 20:
            line = await asyncio.wait_for(two.recv(), 10)
            if str(line).startswith("Client #1 says: m"):
                received.append(line)
        assert received == [f"Client #1 says: m{i}" for i in range(20)]


async def test_plain_text_and_json_share_the_default_room(fresh_server: HubbubServer) -> None:
    server = fresh_server
    ui = await ChatClient.open(f"{server.ws_url}/api/ws?name=alice")
    await ui.join("general")
    async with connect(f"{server.ws_url}/ws/7") as plain:
        await plain.send("from plain text")
        message = (await ui.messages(1))[0]
        assert (message["author"], message["body"], message["client_id"]) == (
            "Client #7",
            "from plain text",
            7,
        )
        await ui.say("from the ui")
        lines = [await plain.recv() for _ in range(3)]
        assert lines == [
            "You wrote: from plain text",
            "Client #7 says: from plain text",
            "Client #alice says: from the ui",
        ]
    await ui.close()
