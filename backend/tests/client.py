"""A small JSON-protocol client over a real WebSocket, for tests."""

from __future__ import annotations

import asyncio
import json
import uuid
from typing import Any

from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed

TIMEOUT = 10.0


async def closed(ws: ClientConnection, timeout: float = TIMEOUT) -> tuple[int | None, str]:
    """Read (and drop) what comes until the server closes; returns its (code, reason)."""
    try:
        async with asyncio.timeout(timeout):
            while True:
                await ws.recv()
    except ConnectionClosed as exc:
        rcvd = exc.rcvd
        return (rcvd.code, rcvd.reason) if rcvd else (None, "")
    raise AssertionError("unreachable")


class ChatClient:
    def __init__(self, ws: ClientConnection) -> None:
        self.ws = ws
        self.pending: list[dict[str, Any]] = []

    @classmethod
    async def open(cls, url: str, **kwargs: Any) -> ChatClient:
        # A deep receive queue: tests often read a connection only after acting on others,
        # and the server would rightly drop a client that stops reading for that long.
        kwargs.setdefault("max_queue", 4096)
        client = cls(await connect(url, compression=None, open_timeout=TIMEOUT, **kwargs))
        hello = await client.expect("hello")
        assert hello["user"]
        return client

    async def send(self, **frame: Any) -> None:
        await self.ws.send(json.dumps(frame, ensure_ascii=False))

    async def join(self, room: str = "general", after: int | None = None) -> dict[str, Any]:
        frame: dict[str, Any] = {"type": "join", "room": room}
        if after is not None:
            frame["after"] = after
        await self.send(**frame)
        return await self.expect("joined")

    async def say(self, body: str, room: str = "general", client_msg_id: str | None = None) -> dict[str, Any]:
        """Send and wait for the ack; like a well-behaved client, retry when rate limited."""
        ref = client_msg_id or uuid.uuid4().hex
        while True:
            await self.send(type="send", room=room, body=body, client_msg_id=ref)
            reply = await self.expect("ack|error", lambda f: f.get("client_msg_id", f.get("ref")) == ref)
            if reply["type"] == "ack":
                return reply
            if reply["code"] != "rate_limited":
                raise AssertionError(f"send refused: {reply}")
            await asyncio.sleep(reply["retry_after"])

    async def recv(self, timeout: float = TIMEOUT) -> dict[str, Any]:
        if self.pending:
            return self.pending.pop(0)
        raw = await asyncio.wait_for(self.ws.recv(), timeout)
        data: dict[str, Any] = json.loads(raw)
        return data

    async def expect(self, type_: str, where: Any = None, timeout: float = TIMEOUT) -> dict[str, Any]:
        """The next frame of this type (and matching `where`); others are kept for later."""
        for i, frame in enumerate(self.pending):
            if frame["type"] in type_.split("|") and (where is None or where(frame)):
                return self.pending.pop(i)
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while True:
            raw = await asyncio.wait_for(self.ws.recv(), max(0.01, deadline - loop.time()))
            frame = json.loads(raw)
            if frame["type"] in type_.split("|") and (where is None or where(frame)):
                return frame  # type: ignore[no-any-return]
            self.pending.append(frame)

    async def skip_to(self, type_: str, timeout: float = TIMEOUT) -> dict[str, Any]:
        """The next frame of this type; every frame that came before it is dropped, so what
        arrives afterwards can be told from what arrived before."""
        while True:
            frame = await self.recv(timeout)
            if frame["type"] == type_:
                return frame

    async def messages(
        self, count: int, room: str = "general", timeout: float = TIMEOUT
    ) -> list[dict[str, Any]]:
        return [await self.expect("message", lambda f: f["room"] == room, timeout) for _ in range(count)]

    async def quiet(self, seconds: float = 0.3) -> list[dict[str, Any]]:
        """Everything that arrives within `seconds` (pending frames included)."""
        frames, self.pending = self.pending, []
        try:
            while True:
                frames.append(json.loads(await asyncio.wait_for(self.ws.recv(), seconds)))
        except (TimeoutError, ConnectionClosed):
            return frames

    async def closed(self, timeout: float = TIMEOUT) -> tuple[int | None, str]:
        """Wait for the server to close; returns (code, reason)."""
        return await closed(self.ws, timeout)

    async def close(self) -> None:
        await self.ws.close()
