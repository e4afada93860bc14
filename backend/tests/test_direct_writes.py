"""The fan-out fast path (transport/ws_protocol.py, DirectWrites) against real servers: frames
written straight to the socket are the bytes uvicorn's ASGI send would have written, both ways
of serving offer it, and a connection that falls behind goes through the queue and back
without losing, repeating or reordering a byte."""

from __future__ import annotations

import asyncio
import json
import socket
from pathlib import Path
from typing import Any

import pytest
from websockets.frames import Frame, Opcode

from hubbub.transport.frames import text_frame
from tests import rawws
from tests.client import ChatClient
from tests.conftest import ServerFactory
from tests.services import GunicornServer, HubbubServer, metric
from tests.test_lifecycle import FLOOD

DIRECT = "hubbub_direct_write_connections_total"
QUEUED = "hubbub_frames_queued_total"


@pytest.mark.parametrize("size", [0, 1, 125, 126, 127, 65535, 65536, 70_000])
def test_a_frame_is_what_websockets_itself_would_send(size: int) -> None:
    text = ("é" * size)[: size // 2] + "x" * (size - size // 2)  # multi-byte characters too
    assert text_frame(text) == Frame(Opcode.TEXT, text.encode()).serialize(mask=False, extensions=[])


class FrameReader:
    """Whole server frames off a raw socket, each kept as its bytes on the wire."""

    def __init__(self, sock: socket.socket) -> None:
        self.sock = sock
        self.buffer = b""
        self.frames: list[bytes] = []

    def _need(self, n: int) -> None:
        while len(self.buffer) < n:
            chunk = self.sock.recv(1 << 16)
            assert chunk, "the server closed the connection"
            self.buffer += chunk

    def read_frame(self) -> bytes:
        self._need(2)
        length, head = self.buffer[1] & 0x7F, 2
        if length == 126:
            self._need(4)
            length, head = int.from_bytes(self.buffer[2:4], "big"), 4
        elif length == 127:
            self._need(10)
            length, head = int.from_bytes(self.buffer[2:10], "big"), 10
        self._need(head + length)
        frame, self.buffer = self.buffer[: head + length], self.buffer[head + length :]
        self.frames.append(frame)
        return frame

    def read_messages(self, count: int) -> list[bytes]:
        """Read until ``count`` message frames have come; returns every frame from the first
        message frame on (presence notices in between included)."""
        self.sock.settimeout(30)
        while sum(1 for frame in self.frames if kind(frame) == "message") < count:
            self.read_frame()
        first = next(i for i, frame in enumerate(self.frames) if kind(frame) == "message")
        return self.frames[first:]


def kind(frame: bytes) -> str:
    payload = frame[2:] if frame[1] < 126 else frame[4:] if frame[1] == 126 else frame[10:]
    data: dict[str, Any] = json.loads(payload)
    return str(data["type"])


def serve(hubbub_server: ServerFactory, tmp_path: Path, how: str, env: dict[str, str]) -> HubbubServer:
    if how == "hubbub serve":
        return hubbub_server(env)
    server = GunicornServer(
        env={"HUBBUB_LOG_LEVEL": "info", "PROMETHEUS_MULTIPROC_DIR": str(tmp_path / "prom"), **env},
        data_dir=tmp_path / "gunicorn",
    )
    return server.start()


@pytest.mark.parametrize("how", ["hubbub serve", "gunicorn"])
@pytest.mark.parametrize("direct", [True, False], ids=["direct", "asgi-only"])
async def test_both_ways_of_serving_write_fan_out_directly_unless_told_not_to(
    hubbub_server: ServerFactory, tmp_path: Path, how: str, direct: bool
) -> None:
    server = serve(hubbub_server, tmp_path, how, {"HUBBUB_DIRECT_WRITES": str(direct).lower()})
    try:
        alice = await ChatClient.open(f"{server.ws_url}/api/ws?name=alice")
        bob = await ChatClient.open(f"{server.ws_url}/api/ws?name=bob")
        await alice.join()
        await bob.join()
        for i in range(10):
            await alice.say(f"hello {i}", client_msg_id=f"m{i}")
        for client in (alice, bob):
            bodies = [(await client.expect("message"))["body"] for _ in range(10)]
            assert bodies == [f"hello {i}" for i in range(10)]
        if direct:
            # Both connections write directly, and nothing waited: every frame went that way.
            assert metric(server, DIRECT) == 2 and metric(server, QUEUED) == 0
        else:
            assert metric(server, DIRECT) == 0 and metric(server, QUEUED) >= 30  # 20 messages, 10 acks...
    finally:
        server.stop()


async def test_a_connection_that_falls_behind_goes_through_the_queue_and_back_without_a_byte_changed(
    hubbub_server: ServerFactory,
) -> None:
    """Two connections of one user in one room: one read at once, one that reads nothing for a
    while (a 4 KiB receive buffer), so the server's socket for it fills, uvicorn pauses it, and
    its frames queue. Once it reads, it must have received exactly the bytes the other did,
    and its next frames are written directly again."""
    server = hubbub_server(
        {**FLOOD, "HUBBUB_SEND_QUEUE_SIZE": "100000", "HUBBUB_SEND_QUEUE_BYTES": str(256 * 1024 * 1024)}
    )
    prompt = rawws.handshake(server.port, "/api/ws?name=ann")
    behind = rawws.handshake(server.port, "/api/ws?name=ann", rcvbuf=4096)
    for sock in (prompt, behind):
        sock.sendall(rawws.frame(b'{"type":"join","room":"general"}'))
    sender = await ChatClient.open(f"{server.ws_url}/api/ws?name=bob")
    await sender.join()
    queued_before = metric(server, QUEUED)

    count, body = 400, "y" * 16_000  # 6.4 MB: more than the kernel's buffers for one socket hold
    prompt_reader = FrameReader(prompt)
    reading = asyncio.create_task(asyncio.to_thread(prompt_reader.read_messages, count))
    for i in range(count):
        await sender.say(body, client_msg_id=f"m{i}")
    prompt_frames = await reading
    behind_reader = FrameReader(behind)
    behind_frames = await asyncio.to_thread(behind_reader.read_messages, count)
    assert len(behind_frames) == len(prompt_frames) >= count
    assert behind_frames == prompt_frames
    # Each time the socket was full, the frame that found it so waited for room (and counts
    # once written); the writer then sent what had queued behind it directly again.
    queued = metric(server, QUEUED)
    assert queued > queued_before, "the connection never fell behind: nothing waited"

    # Caught up: the next frames for it are written directly again, none through the queue.
    assert metric(server, DIRECT) == 3
    for i in range(5):
        await sender.say(f"after {i}", client_msg_id=f"after{i}")
    for reader in (prompt_reader, behind_reader):
        await asyncio.to_thread(reader.read_messages, count + 5)
    assert behind_reader.frames[-5:] == prompt_reader.frames[-5:]
    assert metric(server, QUEUED) == queued
    prompt.close()
    behind.close()
