"""A rolling restart of two replicas behind Caddy (docker/Caddyfile): SQLite + Redis, and
PostgreSQL as store and broker. A writer streams messages and two readers follow, all over wss
through the proxy, while the replicas stop (SIGTERM: sockets closed with 1012) and start again
one after the other. Clients do what docs/protocol.md asks: reconnect, rejoin with the last seq
they have, resend what was not acked with its client_msg_id. Counted by seq, nothing else:
every reader has every message once, in order, without a gap; each of the writer's messages is
stored once; every client was cut off at least once (whichever replica it was on restarted).

Bounded: the writer stops after the second restart plus a few more acks, and never sends more
than MAX_MESSAGES; every wait has a generous deadline.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import ssl
import uuid
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed, InvalidHandshake, InvalidStatus

from tests.conftest import ServerFactory, fresh_database
from tests.proxies import Caddy, Proxy
from tests.services import HubbubServer, until

pytestmark = pytest.mark.reliability
ROOM = "rolling"
MAX_MESSAGES = 2000
TIMEOUT = 60.0
RETRY = {"store_unavailable", "rate_limited"}
PACE = 0.02


@dataclass
class Resuming:
    """A JSON-protocol client that reconnects and resumes on its own (as the web UI does)."""

    url: str
    tls: ssl.SSLContext
    name: str
    seqs: list[int] = field(default_factory=list)  # every message received, in arrival order
    acks: dict[str, dict[str, Any]] = field(default_factory=dict)  # client_msg_id -> ack
    outbox: dict[str, str] = field(default_factory=dict)  # client_msg_id -> body, not yet acked
    cut_off: int = 0  # how many times the server closed the socket
    closes: list[int | None] = field(default_factory=list)
    errors: list[dict[str, Any]] = field(default_factory=list)  # error frames but the retryable
    retried: int = 0  # sends answered store_unavailable or rate_limited, and sent again
    connected: asyncio.Event = field(default_factory=asyncio.Event)
    stopping: bool = False
    ws: ClientConnection | None = None

    async def run(self) -> None:
        while not self.stopping:
            try:
                await self._session()
            except (OSError, InvalidHandshake, InvalidStatus, TimeoutError):
                await asyncio.sleep(0.05)  # the proxy had no replica for us yet: try again

    async def _session(self) -> None:
        async with connect(
            f"{self.url}/api/ws?name={self.name}",
            ssl=self.tls,
            compression=None,
            open_timeout=10,
            max_queue=None,
        ) as ws:
            await ws.send(
                json.dumps({"type": "join", "room": ROOM, "after": self.seqs[-1] if self.seqs else 0})
            )
            try:
                async for raw in ws:
                    frame = json.loads(raw)
                    if frame["type"] == "joined":
                        self.ws = ws
                        for ref, body in list(self.outbox.items()):  # resend, in order
                            await self._send(ref, body)
                        self.connected.set()
                    elif frame["type"] == "message" and frame["room"] == ROOM:
                        self.seqs.append(frame["seq"])
                    elif frame["type"] == "ack":
                        self.acks[frame["client_msg_id"]] = frame
                        self.outbox.pop(frame["client_msg_id"], None)
                    elif frame["type"] == "error" and frame["code"] in RETRY and frame["ref"] in self.outbox:
                        # Not stored: the same client_msg_id again, a moment later (the UI's way).
                        self.retried += 1
                        ref = frame["ref"]
                        asyncio.get_running_loop().call_later(
                            frame["retry_after"] or 0.1,
                            lambda ref=ref: asyncio.ensure_future(self._resend(ref)),
                        )
                    elif frame["type"] == "error":
                        self.errors.append(frame)
            except ConnectionClosed:
                pass
            self.ws = None
            self.connected.clear()
            if not self.stopping:
                self.cut_off += 1
                self.closes.append(ws.close_code)

    async def _send(self, ref: str, body: str) -> None:
        assert self.ws is not None
        with contextlib.suppress(ConnectionClosed):  # resent after the reconnect
            await self.ws.send(json.dumps({"type": "send", "room": ROOM, "body": body, "client_msg_id": ref}))

    async def _resend(self, ref: str) -> None:
        if ref in self.outbox and self.ws is not None:
            await self._send(ref, self.outbox[ref])

    async def post(self, body: str) -> str:
        ref = uuid.uuid4().hex
        self.outbox[ref] = body
        if self.ws is not None:
            await self._send(ref, body)
        return ref

    async def stop(self) -> None:
        self.stopping = True
        if self.ws is not None:
            await self.ws.close()


@pytest.fixture(params=["sqlite-redis", "postgres"])
async def replica_env(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[dict[str, str]]:
    env = {
        "HUBBUB_SECRET_KEY": "rolling-restart-secret-key-0123456789",
        "HUBBUB_TRUSTED_PROXIES": "127.0.0.1",
        "HUBBUB_RATE_LIMIT_PER_SECOND": "10000",
        "HUBBUB_RATE_LIMIT_BURST": "10000",
        "HUBBUB_SHUTDOWN_TIMEOUT_SECONDS": "5",
    }
    if request.param == "sqlite-redis":
        env["HUBBUB_DATABASE_URL"] = f"sqlite:///{tmp_path / 'shared.db'}"
        env["HUBBUB_REDIS_URL"] = request.getfixturevalue("redis_url")
        yield env
        return
    async with fresh_database(request.getfixturevalue("postgres_url")) as url:
        yield {**env, "HUBBUB_DATABASE_URL": url, "HUBBUB_BROKER_URL": url}


@pytest.fixture
def caddy(tmp_path: Path) -> Iterator[list[Proxy]]:
    started: list[Proxy] = []
    yield started
    for proxy in started:
        proxy.stop()


async def restart(server: HubbubServer) -> None:
    await asyncio.to_thread(server.stop)
    await asyncio.to_thread(server.start)


async def test_a_rolling_restart_loses_and_repeats_nothing(
    hubbub_server: ServerFactory, replica_env: dict[str, str], caddy: list[Proxy], tmp_path: Path
) -> None:
    replicas = [hubbub_server(replica_env), hubbub_server(replica_env)]
    proxy = Caddy([f"127.0.0.1:{r.port}" for r in replicas], tmp_path / "caddy").start()
    caddy.append(proxy)
    tls = proxy.ssl_context()
    with httpx.Client(base_url=proxy.url, verify=tls, headers={"Origin": proxy.url}) as http:
        assert http.post("/api/login", json={"name": "maker"}).status_code == 200
        assert http.post("/api/rooms", json={"name": ROOM}).status_code == 201

    writer = Resuming(proxy.ws_url, tls, "writer")
    readers = [Resuming(proxy.ws_url, tls, f"reader{i}") for i in range(2)]
    clients = [writer, *readers]
    tasks = [asyncio.create_task(client.run()) for client in clients]
    for client in clients:
        await asyncio.wait_for(client.connected.wait(), TIMEOUT)

    sent: list[str] = []
    stop_writing = asyncio.Event()

    async def stream() -> None:
        while not stop_writing.is_set() and len(sent) < MAX_MESSAGES:
            sent.append(await writer.post(f"m{len(sent)}"))
            # One message in flight beyond the acked ones, about 50 a second: a steady stream,
            # not a flood (pacing the load, not a verdict).
            await until(lambda: len(writer.outbox) <= 1 or stop_writing.is_set(), "acks", TIMEOUT)
            await asyncio.sleep(PACE)

    try:
        streaming = asyncio.create_task(stream())
        try:
            for replica in replicas:
                await until(lambda: len(writer.acks) >= len(sent) - 1 >= 10, "a stream under way", TIMEOUT)
                await restart(replica)
                await until(lambda: all(c.connected.is_set() for c in clients), "everyone back", TIMEOUT)
                acked = len(writer.acks)
                await until(lambda n=acked: len(writer.acks) >= n + 10, "the stream to go on", TIMEOUT)
        finally:
            stop_writing.set()
            await streaming
        await until(lambda: not writer.outbox, "every message acked", TIMEOUT)
        marker = await writer.post("marker")
        await until(lambda: marker in writer.acks, "the marker acked", TIMEOUT)
        last = writer.acks[marker]["seq"]
        for reader in readers:
            await until(
                lambda r=reader: bool(r.seqs) and r.seqs[-1] >= last, f"{reader.name} to catch up", TIMEOUT
            )
    except TimeoutError as exc:
        states = [
            (c.name, c.connected.is_set(), c.cut_off, c.closes, c.errors, len(c.outbox)) for c in clients
        ]
        logs = "\n".join(r.log()[-3000:] for r in replicas)
        raise AssertionError(f"{exc}; clients: {states}\n{logs}") from exc
    for client in clients:
        await client.stop()
    for task in tasks:
        await asyncio.wait_for(task, TIMEOUT)

    print(f"\n{len(sent)} messages, cut off: {[(c.name, c.closes, c.retried) for c in clients]}")
    assert [c.errors for c in clients] == [[], [], []]
    assert len(sent) < MAX_MESSAGES
    # Each of the writer's messages stored once: distinct seqs for distinct client_msg_ids.
    seqs = sorted(writer.acks[ref]["seq"] for ref in [*sent, marker])
    assert len(set(seqs)) == len(seqs) == len(sent) + 1
    for reader in readers:
        # Everything, once, in order, without a gap, across every reconnect.
        assert reader.seqs == list(range(1, last + 1)), reader.name
    # Whichever replica a client was on restarted at some point: each was cut off, with 1012.
    for client in clients:
        assert client.cut_off >= 1 and 1012 in client.closes, (client.name, client.closes)
