"""Slow consumers, shutdown, and a store that goes away, against real servers."""

from __future__ import annotations

import asyncio
import signal
import socket

import httpx
import pytest
from websockets.asyncio.client import connect

from tests import rawws
from tests.client import ChatClient
from tests.conftest import ServerFactory
from tests.services import HubbubServer, metric, postgres_server, until

# Big messages as fast as the sender likes, so a stalled client's buffers fill in a second.
FLOOD = {
    "HUBBUB_MAX_MESSAGE_BYTES": "65536",
    "HUBBUB_RATE_LIMIT_PER_SECOND": "100000",
    "HUBBUB_RATE_LIMIT_BURST": "100000",
}
CHAT_CONNECTIONS = 'hubbub_connections{endpoint="chat"}'


def join_and_stall(server: HubbubServer) -> socket.socket:
    """A member of the default room that never reads a byte: a 4 KiB receive buffer that
    nothing drains, so the server meets a full socket after a few frames."""
    stalled = rawws.handshake(server.port, "/api/ws?name=stalled", rcvbuf=4096)
    stalled.sendall(rawws.frame(b'{"type":"join","room":"general"}'))
    return stalled


@pytest.mark.parametrize(
    "limit",
    [
        pytest.param({"HUBBUB_SEND_QUEUE_SIZE": "16"}, id="frames"),
        # Room for 10,000 frames, but only 64 KiB of them: the byte budget is what cuts it off.
        pytest.param({"HUBBUB_SEND_QUEUE_SIZE": "10000", "HUBBUB_SEND_QUEUE_BYTES": "65536"}, id="bytes"),
    ],
)
async def test_stalled_client_is_evicted_and_delays_nobody(
    hubbub_server: ServerFactory, limit: dict[str, str]
) -> None:
    server = hubbub_server({**limit, **FLOOD})
    stalled = join_and_stall(server)
    sender = await ChatClient.open(f"{server.ws_url}/api/ws?name=sender")
    healthy = await ChatClient.open(f"{server.ws_url}/api/ws?name=healthy")
    await sender.join()
    await healthy.join()

    body = "x" * 32_000
    count = 400  # ~13 MB: more than any socket buffer holds, less than 10,000 queued frames
    received: list[int] = []

    async def read_all() -> None:
        while len(received) < count:
            received.append((await healthy.expect("message", timeout=20))["seq"])

    reader = asyncio.create_task(read_all())
    for i in range(count):
        await sender.say(body, client_msg_id=f"m{i}")
    await reader
    assert received == list(range(1, count + 1))
    assert metric(server, "hubbub_slow_consumer_disconnects_total") == 1
    assert "closing connection of stalled: 4408" in server.log()
    stalled.close()


async def test_evicted_client_that_never_reads_is_let_go(hubbub_server: ServerFactory) -> None:
    """Closing a connection flushes its buffer first, which a peer that reads nothing never
    allows: without a deadline in the kernel its socket, buffers and task would stay for as
    long as its TCP stack answers. With pings every 1 s and 5 s to answer, the kernel drops it
    once its window has been shut for 6 s. (5 s, not 1: the sender must answer its pings too,
    on a machine whose cores may be busy with other things.)"""
    server = hubbub_server(
        {
            **FLOOD,
            "HUBBUB_SEND_QUEUE_BYTES": "65536",
            "HUBBUB_PING_INTERVAL_SECONDS": "1",
            "HUBBUB_PING_TIMEOUT_SECONDS": "5",
        }
    )
    stalled = join_and_stall(server)
    sender = await ChatClient.open(f"{server.ws_url}/api/ws?name=sender")
    await sender.join()
    for i in range(300):  # 9.6 MB: more than the socket buffers between us and the stalled peer
        await sender.say("x" * 32_000, client_msg_id=f"m{i}")
    assert metric(server, "hubbub_slow_consumer_disconnects_total") == 1

    # The stalled socket stays open on this side all along: only the server can end it.
    await until(lambda: metric(server, CHAT_CONNECTIONS) == 1, "the evicted connection to be let go")
    assert (await sender.say("still here", client_msg_id="last"))["type"] == "ack"
    stalled.close()


async def test_sigterm_closes_sockets_with_restart_code(fresh_server: HubbubServer) -> None:
    server = fresh_server
    clients = [await ChatClient.open(f"{server.ws_url}/api/ws?name=u{i}") for i in range(20)]
    for client in clients:
        await client.join()
    plain = await connect(f"{server.ws_url}/ws/1")
    assert server.proc is not None
    server.proc.send_signal(signal.SIGTERM)
    codes = [(await client.closed())[0] for client in clients]
    # uvicorn re-raises the signal once it has shut down cleanly.
    exit_code = await asyncio.to_thread(server.proc.wait, 30)
    assert set(codes) <= {1001, 1012}, codes
    assert exit_code in (0, -signal.SIGTERM)
    assert "Finished server process" in server.log()
    await plain.close()


async def test_store_down_sender_gets_error_nothing_broadcast(hubbub_server: ServerFactory) -> None:
    with postgres_server() as database:
        server = hubbub_server({"HUBBUB_DATABASE_URL": database.url})
        alice = await ChatClient.open(f"{server.ws_url}/api/ws?name=alice")
        bob = await ChatClient.open(f"{server.ws_url}/api/ws?name=bob")
        await alice.join()
        await bob.join()
        await alice.say("stored")
        assert [m["body"] for m in await bob.messages(1)] == ["stored"]

        database.stop()
        await alice.send(type="send", room="general", body="lost?", client_msg_id="x1")
        error = await alice.expect("error", timeout=20)
        assert error["code"] == "store_unavailable" and error["ref"] == "x1"
        assert httpx.get(f"{server.url}/readyz").status_code == 503
        assert httpx.get(f"{server.url}/healthz").status_code == 200

        # When the database is back, the same retry is stored once and delivered; it is the
        # next message bob gets: nothing was broadcast while it was not stored.
        database.start()
        ack = await alice.say("lost?", client_msg_id="x1")
        assert ack["seq"] == 2 and ack["duplicate"] is False
        (next_message,) = await bob.messages(1)
        assert (next_message["seq"], next_message["body"]) == (2, "lost?")
