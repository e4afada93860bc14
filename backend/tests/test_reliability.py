"""Reliability suite: faults and soak against real servers, loopback only, bounded in count and time.

Run apart:  pytest -m reliability -s      (figures are printed and written to reliability-figures.json)
"""

from __future__ import annotations

import asyncio
import json
import re
import signal
import socket
import struct
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from websockets.asyncio.client import connect

from tests import rawws
from tests.client import ChatClient
from tests.conftest import ServerFactory
from tests.isolation import fresh_room, unique
from tests.services import HubbubServer, postgres_server, until

pytestmark = pytest.mark.reliability

FIGURES: dict[str, Any] = {}


@pytest.fixture(scope="module", autouse=True)
def report_figures() -> Iterator[None]:
    yield
    path = Path(__file__).resolve().parent.parent / "reliability-figures.json"
    path.write_text(json.dumps(FIGURES, indent=2))
    print("\nreliability figures:", json.dumps(FIGURES, indent=2))


def scrape(server: HubbubServer) -> dict[str, float]:
    text = httpx.get(f"{server.url}/metrics", timeout=5).text
    return {
        m.group(1): float(m.group(2)) for m in re.finditer(r"^([a-z_]+) ([0-9.e+-]+)$", text, re.MULTILINE)
    }


# --- malformed frames over raw sockets ------------------------------------------------------


def close_code(sock: socket.socket, timeout: float = 10) -> int | None:
    """Read server frames until a close frame; its status code (None if the socket just ended)."""
    sock.settimeout(timeout)
    buffer = b""
    while True:
        try:
            chunk = sock.recv(65536)
        except (ConnectionResetError, TimeoutError):
            return None
        if not chunk:
            return None
        buffer += chunk
        while len(buffer) >= 2:
            opcode, length = buffer[0] & 0x0F, buffer[1] & 0x7F
            offset = 2
            if length == 126:
                length, offset = struct.unpack("!H", buffer[2:4])[0], 4
            elif length == 127:
                length, offset = struct.unpack("!Q", buffer[2:10])[0], 10
            if len(buffer) < offset + length:
                break
            payload, buffer = buffer[offset : offset + length], buffer[offset + length :]
            if opcode == 0x8:
                return int(struct.unpack("!H", payload[:2])[0]) if len(payload) >= 2 else 1005


MALFORMED = {
    "unmasked client frame": (rawws.frame(b"hello", masked=False), 1002),
    "invalid UTF-8 split across fragments": (
        rawws.frame(b"caf\xc3", fin=False) + rawws.frame(b"\x28", opcode=0x0),
        1007,
    ),
    "oversized control frame": (rawws.frame(b"p" * 126, opcode=0x9), 1002),
    "continuation without start": (rawws.frame(b"orphan", opcode=0x0), 1002),
    "reserved opcode": (rawws.frame(b"x", opcode=0x3), 1002),
    "RSV bit without extension": (bytes([0xC1]) + rawws.frame(b"x")[1:], 1002),
}


@pytest.mark.parametrize("path", ["/api/ws?name=fuzz", "/ws/9", "/ws"])
async def test_malformed_frames_get_protocol_close_codes(server: HubbubServer, path: str) -> None:
    room = fresh_room(server)
    bystander = await ChatClient.open(f"{server.ws_url}/api/ws?name={unique('bystander')}")
    await bystander.join(room)
    seen = {}
    for name, (data, expected) in MALFORMED.items():
        sock = rawws.handshake(server.port, path)
        sock.sendall(data)
        seen[name] = close_code(sock)
        sock.close()
        assert seen[name] == expected, f"{name}: got {seen[name]}, want {expected}"
    FIGURES[f"malformed frames on {path.split('?')[0]}"] = seen
    await bystander.say("unaffected", room)
    assert (await bystander.messages(1, room))[0]["body"] == "unaffected"


# --- Redis restarted during traffic -----------------------------------------------------------


async def test_redis_restart_during_traffic_loses_nothing(
    hubbub_server: ServerFactory, tmp_path: Path, redis_proc: Any, redis_url: str
) -> None:
    env = {
        "HUBBUB_REDIS_URL": redis_url,
        "HUBBUB_RATE_LIMIT_PER_SECOND": "1000",
        "HUBBUB_RATE_LIMIT_BURST": "1000",
    }
    a = hubbub_server(env, data_dir=tmp_path / "shared")
    b = hubbub_server(env, data_dir=tmp_path / "shared")
    sender = await ChatClient.open(f"{a.ws_url}/api/ws?name=sender")
    local = await ChatClient.open(f"{a.ws_url}/api/ws?name=local")
    remote = await ChatClient.open(f"{b.ws_url}/api/ws?name=remote")
    for client in (sender, local, remote):
        await client.join()
    total = 400
    restart_at = total // 2
    downtime = 0.0

    async def send_all() -> None:
        nonlocal downtime
        for i in range(total):
            if i == restart_at:
                started = time.monotonic()
                redis_proc.stop()
                await asyncio.sleep(1.0)
                redis_proc.start()
                downtime = time.monotonic() - started
            await sender.say(f"m{i}")
            await asyncio.sleep(0.005)

    async def collect(client: ChatClient) -> list[dict[str, Any]]:
        return await client.messages(total, timeout=30)

    started = time.monotonic()
    _, got_local, got_remote = await asyncio.gather(send_all(), collect(local), collect(remote))
    elapsed = time.monotonic() - started
    for got in (got_local, got_remote):
        assert [m["body"] for m in got] == [f"m{i}" for i in range(total)]
        assert [m["seq"] for m in got] == list(range(1, total + 1))
    await sender.say("marker")  # anything sent twice would come before it
    assert [m["body"] for m in await remote.messages(1)] == ["marker"]
    FIGURES["redis restart during traffic"] = {
        "messages": total,
        "redis down seconds": round(downtime, 2),
        "lost": 0,
        "duplicates": 0,
        "elapsed seconds": round(elapsed, 2),
        "broker reconnects (worker a)": scrape(a).get("hubbub_broker_reconnects_total"),
    }


# --- SIGTERM with 500 open sockets ------------------------------------------------------------


async def test_sigterm_with_500_sockets_then_resume(hubbub_server: ServerFactory, tmp_path: Path) -> None:
    env = {
        "HUBBUB_MAX_CONNECTIONS_PER_USER": "1000",
        "HUBBUB_RATE_LIMIT_PER_SECOND": "1000",
        "HUBBUB_RATE_LIMIT_BURST": "1000",
        "HUBBUB_NEW_MEMBERS_PER_MINUTE_PER_ADDRESS": "100000",  # 500 new names from one address
    }
    data_dir = tmp_path / "data"
    server = hubbub_server(env, data_dir=data_dir)
    clients = []
    for batch in range(0, 500, 50):
        clients += await asyncio.gather(
            *[ChatClient.open(f"{server.ws_url}/api/ws?name=c{i}") for i in range(batch, batch + 50)]
        )
    await asyncio.gather(*[c.join() for c in clients])
    sender = clients[0]
    for i in range(20):
        await sender.say(f"before {i}")
    cursors = []
    for client in clients:
        got = await client.messages(20)
        cursors.append(got[-1]["seq"])

    assert server.proc is not None
    started = time.monotonic()
    server.proc.send_signal(signal.SIGTERM)
    codes = await asyncio.gather(*[c.closed(timeout=30) for c in clients])
    await asyncio.to_thread(server.proc.wait, 60)
    exit_seconds = time.monotonic() - started
    by_code: dict[str, int] = {}
    for code, _ in codes:
        by_code[str(code)] = by_code.get(str(code), 0) + 1
    assert set(by_code) <= {"1001", "1012"}, by_code

    # Same port, same data: the messages sent while clients were away arrive on resume, once.
    restarted = HubbubServer(env=env, data_dir=data_dir, port=server.port).start()
    try:
        writer = await ChatClient.open(f"{restarted.ws_url}/api/ws?name=writer")
        await writer.join()
        for i in range(10):
            await writer.say(f"after {i}")
        resumed = []
        for batch in range(0, 500, 50):
            resumed += await asyncio.gather(
                *[ChatClient.open(f"{restarted.ws_url}/api/ws?name=c{i}") for i in range(batch, batch + 50)]
            )
        await asyncio.gather(*[c.join(after=cursors[i]) for i, c in enumerate(resumed)])
        lost = duplicates = 0
        for client in resumed:
            got = [m["body"] for m in await client.messages(10)]
            lost += len({f"after {i}" for i in range(10)} - set(got))
            duplicates += len(got) - len(set(got))
        await writer.say("marker")  # anything sent twice would come before it
        for client in resumed:
            duplicates += [m["body"] for m in await client.messages(1)] != ["marker"]
        assert lost == duplicates == 0
    finally:
        restarted.stop()
    FIGURES["SIGTERM with 500 sockets"] = {
        "close codes": by_code,
        "seconds from SIGTERM to exit": round(exit_seconds, 2),
        "clients resumed": len(resumed),
        "lost after resume": lost,
        "duplicates after resume": duplicates,
    }


# --- store unavailable ------------------------------------------------------------------------


async def test_store_unavailable_nothing_broadcast_that_was_not_stored(hubbub_server: ServerFactory) -> None:
    with postgres_server() as database:
        server = hubbub_server(
            {
                "HUBBUB_DATABASE_URL": database.url,
                "HUBBUB_RATE_LIMIT_PER_SECOND": "1000",
                "HUBBUB_RATE_LIMIT_BURST": "1000",
            }
        )
        sender = await ChatClient.open(f"{server.ws_url}/api/ws?name=sender")
        watcher = await ChatClient.open(f"{server.ws_url}/api/ws?name=watcher")
        await sender.join()
        await watcher.join()
        database.stop()
        errors = 0
        for i in range(50):
            await sender.send(type="send", room="general", body=f"x{i}", client_msg_id=f"x{i}")
            reply = await sender.expect("ack|error", timeout=20)
            errors += reply["type"] == "error" and reply["code"] == "store_unavailable"
        ready = httpx.get(f"{server.url}/readyz").status_code
        database.start()
        for i in range(50):
            await sender.say(f"x{i}", client_msg_id=f"x{i}")
        # Anything broadcast while the store was down would have reached the watcher first.
        delivered = await watcher.messages(50)
        broadcast = [m for m in delivered if m["body"] != f"x{m['seq'] - 1}"]
        assert errors == 50
        assert broadcast == []
        assert ready == 503
        assert [(m["seq"], m["body"]) for m in delivered] == [(i + 1, f"x{i}") for i in range(50)]
    FIGURES["store unavailable"] = {
        "sends while down": 50,
        "store_unavailable errors": errors,
        "broadcast while down": len(broadcast),
        "readyz while down": ready,
        "delivered after retry, once each": len(delivered),
    }


# --- soak and churn ---------------------------------------------------------------------------


async def test_churn_10k_connections_returns_to_baseline(hubbub_server: ServerFactory) -> None:
    # 10,000 connections to the default room, from one address, half of them plain-text clients.
    server = hubbub_server(
        {"HUBBUB_MAX_CONNECTIONS_PER_USER": "100000", "HUBBUB_NEW_MEMBERS_PER_MINUTE_PER_ADDRESS": "100000"}
    )
    cycles, concurrency, warm_up = 10_000, 50, 2_000
    done = 0

    async def cycle(i: int) -> None:
        nonlocal done
        if i % 2:
            client = await ChatClient.open(f"{server.ws_url}/api/ws?name=churn{i % 97}")
            await client.join()
            await client.close()
        else:
            # This client reads one line of a busy room and leaves. max_queue=None: with flow
            # control, websockets stops reading once 16 frames are unread, so it would not see
            # the server's close frame and would wait out its own close_timeout.
            # Client ids from a pool, as the names above: every new name is remembered (a member
            # of the default room, its look-alike skeleton, its profile), which is growth per
            # user by design; what is measured here is growth per connection.
            async with connect(f"{server.ws_url}/ws/{i % 97}", compression=None, max_queue=None) as ws:
                await ws.send("hi")
                await ws.recv()
        done += 1

    async def churn(first: int, last: int) -> None:
        for batch in range(first, last, concurrency):
            await asyncio.gather(*[cycle(i) for i in range(batch, batch + concurrency)])

    idle = scrape(server)

    def settled() -> bool:  # the last closes are finished
        now = scrape(server)
        return (
            now["hubbub_asyncio_tasks"] <= idle["hubbub_asyncio_tasks"]
            and now["process_open_fds"] <= idle["process_open_fds"] + 2
        )

    # The baseline is taken once a first wave has warmed the process up (its arenas, caches and
    # the pool's names): what follows must not grow with the number of connections.
    await churn(0, warm_up)
    await until(settled, "every task and socket of the warm-up to be gone")
    before = scrape(server)
    started = time.monotonic()
    await churn(warm_up, warm_up + cycles)
    elapsed = time.monotonic() - started
    await until(settled, "every task and socket of the churn to be gone")
    after = scrape(server)
    figures = {
        "cycles": done,
        "seconds": round(elapsed, 1),
        "asyncio tasks before/after": [before["hubbub_asyncio_tasks"], after["hubbub_asyncio_tasks"]],
        "open fds before/after": [before["process_open_fds"], after["process_open_fds"]],
        "RSS MiB before/after": [
            round(before["process_resident_memory_bytes"] / 2**20, 1),
            round(after["process_resident_memory_bytes"] / 2**20, 1),
        ],
    }
    FIGURES["churn"] = figures
    assert done == warm_up + cycles
    assert after["hubbub_asyncio_tasks"] <= idle["hubbub_asyncio_tasks"]
    assert after["process_open_fds"] <= idle["process_open_fds"] + 2
    # Python keeps freed memory in its arenas; what must not happen is growth per connection
    # (1 KiB a connection would be 10 MiB here).
    assert after["process_resident_memory_bytes"] - before["process_resident_memory_bytes"] < 8 * 2**20
