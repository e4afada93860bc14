"""A JSON session driven in-process: a fake transport instead of a socket, a broker the test
holds back, reorders and loses, and a real SQLite store. What reaches the client is checked
frame by frame. Every test runs with both kinds of transport (transport/base.py): one the
session reads its frames from (Starlette's), and one that pushes them after the hand-over
(Hubbub's uvicorn protocol)."""

from __future__ import annotations

import asyncio
import json
import random
import sys
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import pytest

from hubbub.auth.base import Identity
from hubbub.broker.base import PayloadHandler, ReconnectHandler
from hubbub.chat.service import ChatService
from hubbub.files.local import LocalStorage
from hubbub.settings import Settings
from hubbub.store import Delete, Edit, React, create_store
from hubbub.transport.base import Receiver
from hubbub.transport.frames import text_frame
from hubbub.transport.json_session import JsonSession
from tests.services import until


def payload_of(frame: bytes) -> bytes:
    """The payload of one unmasked server frame (transport/frames.py)."""
    n = frame[1]
    return frame[2:] if n < 126 else frame[4:] if n == 126 else frame[10:]


class FakeTransport:
    """What a session sees of a WebSocket: frames pushed in by the test, frames sent kept, as
    parsed JSON and as the bytes on the wire. ``has_room`` says whether the socket takes a
    direct write now (a real one: while its buffer is below the high-water mark).

    ``push``: after the hand-over, a pump gives each frame to the receiver and waits for
    ``resume_reading`` before the next, as uvicorn's protocol pauses reading after each; a
    close by the server is heard at once (ws_protocol.py close_now)."""

    def __init__(self, has_room: Callable[[], bool] = lambda: True, push: bool = False) -> None:
        self.inbox: asyncio.Queue[str | bytes | None] = asyncio.Queue()
        self.push = push
        self.receiver: Receiver | None = None
        self._pump: asyncio.Task[None] | None = None
        self._resumed = asyncio.Event()
        self.sent: list[dict[str, Any]] = []
        self.wire: list[bytes] = []
        self.direct = self.queued = 0  # frames written each way
        self.has_room = has_room
        self.closed_with: tuple[int, str] | None = None
        self._changed = asyncio.Event()

    @property
    def connected(self) -> bool:
        return self.closed_with is None

    def hand_over(self, receiver: Receiver) -> bool:
        if not self.push:
            return False
        self.receiver = receiver
        self._pump = asyncio.create_task(self._push_frames(receiver))
        return True

    def resume_reading(self) -> None:
        self._resumed.set()

    async def _push_frames(self, receiver: Receiver) -> None:
        while (data := await self.inbox.get()) is not None:
            self._resumed.clear()
            if isinstance(data, bytes):
                receiver.received_binary()
            else:
                receiver.received(data)
            await self._resumed.wait()
        receiver.gone()

    async def receive_text(self, on_binary: Callable[[], None]) -> str | None:
        assert not self.push, "a transport that pushes is not read from"
        while isinstance(data := await self.inbox.get(), bytes):
            on_binary()
        return data

    async def send(self, text: str) -> None:
        if not self.connected:
            raise ConnectionError("closed")
        await asyncio.sleep(0)  # a real send may wait for room: others run meanwhile
        self.queued += 1
        self._record(text_frame(text))

    def write_now(self, frame: bytes) -> bool:
        if not self.connected or not self.has_room():
            return False
        self.direct += 1
        self._record(frame)
        return True

    def _record(self, frame: bytes) -> None:
        self.wire.append(frame)
        self.sent.append(json.loads(payload_of(frame)))
        self._changed.set()

    async def close(self, code: int, reason: str) -> None:
        self.closed_with = (code, reason)
        if self.receiver is not None:
            self.receiver.gone()
        else:
            self.inbox.put_nowait(None)

    def command(self, **frame: Any) -> None:
        self.inbox.put_nowait(json.dumps(frame))

    async def wait_for(self, count: int, type_: str = "message") -> list[dict[str, Any]]:
        """The frames of this type sent so far, once there are at least ``count``."""
        await self.wait_until(lambda: len([f for f in self.sent if f["type"] == type_]) >= count)
        return [f for f in self.sent if f["type"] == type_]

    async def wait_until(self, condition: Callable[[], bool]) -> None:
        """Until what was sent meets the condition (checked at each frame sent)."""
        async with asyncio.timeout(10):
            while not condition():
                self._changed.clear()
                await self._changed.wait()

    def latest_changes(self) -> dict[str, int]:
        """Per message id, the newest change number sent for it."""
        latest: dict[str, int] = {}
        for frame in self.sent:
            if frame["type"] in ("message_updated", "message_deleted", "reactions"):
                latest[frame["id"]] = max(latest.get(frame["id"], 0), frame["change"])
        return latest


class HeldBroker:
    """A broker whose deliveries the test makes by hand: in any order, twice, or never."""

    max_payload: int | None = None

    def __init__(self) -> None:
        self.published: list[str] = []
        self._deliver: PayloadHandler | None = None
        self._reconnect: ReconnectHandler | None = None

    async def start(self, on_payload: PayloadHandler, on_reconnect: ReconnectHandler) -> None:
        self._deliver, self._reconnect = on_payload, on_reconnect

    async def publish(self, payload: str) -> None:
        self.published.append(payload)

    async def ping(self) -> None:
        return None

    async def close(self) -> None:
        return None

    def messages(self) -> list[str]:
        return [p for p in self.published if p.startswith("M")]

    def deliver(self, payload: str) -> None:
        assert self._deliver is not None
        self._deliver(payload)

    def reconnected(self) -> None:
        assert self._reconnect is not None
        self._reconnect()


PUSH = False  # the kind of transport this test's sessions get (the chat fixture sets it)


@pytest.fixture(params=["pulled", "pushed"])
async def chat(
    tmp_path: Path, request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch
) -> AsyncIterator[tuple[ChatService, HeldBroker]]:
    monkeypatch.setattr(sys.modules[__name__], "PUSH", request.param == "pushed")
    broker = HeldBroker()
    storage = LocalStorage(tmp_path / "files")
    service = ChatService(
        Settings(data_dir=tmp_path), create_store(f"sqlite:///{tmp_path}/h.db"), broker, storage
    )
    await service.start()
    await service.rooms.enter(Identity("bob"), "general")  # bob posts in these tests
    yield service, broker
    await service.stop()


async def connect(
    chat: ChatService, user: str, has_room: Callable[[], bool] = lambda: True
) -> tuple[FakeTransport, asyncio.Task[None]]:
    transport = FakeTransport(has_room, PUSH)
    # Pulled, the task lasts as long as the connection; pushed, it ends once the session has
    # started (the transport's pump and the connection's reader take over).
    task = asyncio.create_task(JsonSession(transport, chat, Identity(user), "127.0.0.1").run())
    await transport.wait_for(1, "hello")
    return transport, task


async def joined(
    chat: ChatService, user: str = "ann", has_room: Callable[[], bool] = lambda: True
) -> tuple[FakeTransport, asyncio.Task[None]]:
    """A connected client that has joined the default room."""
    client, task = await connect(chat, user, has_room)
    client.command(type="join", room="general")
    await client.wait_for(1, "joined")
    return client, task


async def post(chat: ChatService, broker: HeldBroker, *bodies: str) -> list[str]:
    """Store each message (nothing is delivered yet); returns their broker payloads."""
    before = len(broker.messages())
    for body in bodies:
        await chat.post("general", Identity("bob"), body)
    return broker.messages()[before:]


def bodies(frames: list[dict[str, Any]]) -> list[str]:
    return [f["body"] for f in frames]


async def test_reordered_and_repeated_deliveries_reach_the_client_in_order_once(
    chat: tuple[ChatService, HeldBroker],
) -> None:
    service, broker = chat
    client, task = await joined(service)
    first, second, third = await post(service, broker, "one", "two", "three")
    for payload in (third, first, third, second, first):
        broker.deliver(payload)
    # Anything sent twice would come before a message delivered after all of them.
    (marker,) = await post(service, broker, "marker")
    broker.deliver(marker)
    messages = await client.wait_for(4)
    assert bodies(messages) == ["one", "two", "three", "marker"]
    assert [m["seq"] for m in messages] == [1, 2, 3, 4]
    task.cancel()


async def test_lost_deliveries_are_filled_from_the_store(chat: tuple[ChatService, HeldBroker]) -> None:
    service, broker = chat
    client, task = await joined(service)
    payloads = await post(service, broker, "a", "b", "c", "d", "e")
    broker.deliver(payloads[0])
    broker.deliver(payloads[3])  # b and c were lost: filled before d
    assert bodies(await client.wait_for(4)) == ["a", "b", "c", "d"]
    # e is lost too, and nothing newer comes to reveal the gap: the broker's reconnect does.
    broker.reconnected()
    assert bodies(await client.wait_for(5)) == ["a", "b", "c", "d", "e"]
    task.cancel()


async def test_resume_sends_exactly_what_was_missed(chat: tuple[ChatService, HeldBroker]) -> None:
    service, broker = chat
    await post(service, broker, *(f"m{i}" for i in range(1, 9)))
    client, task = await connect(service, "ann")
    client.command(type="join", room="general", after=5)
    joined = (await client.wait_for(1, "joined"))[0]
    assert (joined["head"], joined["from"], joined["truncated"]) == (8, 5, False)
    assert bodies(await client.wait_for(3)) == ["m6", "m7", "m8"]
    (late,) = await post(service, broker, "m9")
    broker.deliver(late)
    broker.deliver(late)
    assert bodies(await client.wait_for(4)) == ["m6", "m7", "m8", "m9"]
    task.cancel()


async def test_a_resume_sends_the_missed_changes_before_anything_newer(
    chat: tuple[ChatService, HeldBroker], monkeypatch: pytest.MonkeyPatch
) -> None:
    service, broker = chat
    await post(service, broker, "m1", "m2")
    first = (await service.messages_after("general", 0, 1))[0]
    await service.change(Identity("bob"), "general", first.id, Edit("m1 edited"))  # change 1
    read = service.messages_after

    async def read_after_a_new_post(*args: Any, **kwargs: Any) -> Any:
        # A message stored after 'joined' went out and before the catch-up read the store.
        monkeypatch.setattr(service, "messages_after", read)
        await post(service, broker, "late")
        return await read(*args, **kwargs)

    monkeypatch.setattr(service, "messages_after", read_after_a_new_post)
    client, task = await connect(service, "ann")
    client.command(type="join", room="general", after=2, changes_after=0)
    await client.wait_for(1)
    sent = [(f["type"], f.get("body")) for f in client.sent if f["type"] in {"message", "message_updated"}]
    assert sent == [("message_updated", "m1 edited"), ("message", "late")]
    task.cancel()


async def test_leaving_stops_delivery_and_bad_input_keeps_the_session(
    chat: tuple[ChatService, HeldBroker],
) -> None:
    service, broker = chat
    client, task = await joined(service)
    client.inbox.put_nowait(b"\x00")
    client.command(type="leave", room="general")
    await client.wait_for(1, "left")
    (payload,) = await post(service, broker, "after leaving")
    broker.deliver(payload)
    client.command(type="fly")
    errors = await client.wait_for(2, "error")
    assert [e["code"] for e in errors] == ["invalid_message", "invalid_message"]
    assert not [f for f in client.sent if f["type"] == "message"]
    client.inbox.put_nowait(None)  # the peer goes
    await asyncio.wait_for(task, 5)
    await until(lambda: service.connections_of("ann") == 0, "the session to end")


def changes(broker: HeldBroker) -> list[str]:
    return [p for p in broker.published if p.startswith("C")]


def change_frames(client: FakeTransport) -> list[tuple[str, int, int]]:
    kinds = {"message_updated", "message_deleted", "reactions"}
    return [(f["type"], f["seq"], f["change"]) for f in client.sent if f["type"] in kinds]


async def test_changes_arrive_in_change_order_once_and_gaps_are_filled(
    chat: tuple[ChatService, HeldBroker],
) -> None:
    service, broker = chat
    client, task = await joined(service)
    for payload in await post(service, broker, "one", "two"):
        broker.deliver(payload)
    first, second = (m["id"] for m in await client.wait_for(2))
    bob = Identity("bob")
    await service.change(bob, "general", first, Edit("one, edited"))  # change 1
    await service.change(bob, "general", second, React("bob", "👍", True))  # 2
    await service.change(bob, "general", first, Edit("one, edited twice"))  # 3
    await service.change(bob, "general", second, Delete())  # 4
    c1, c2, c3, c4 = changes(broker)
    # 2 arrives ahead of 1 (workers publish concurrently): the store fills the gap, with each
    # changed message as it is now; then nothing of 1-4 is sent again, however it arrives.
    for payload in (c2, c1, c4, c3, c2):
        broker.deliver(payload)
    await client.wait_for(1, "message_deleted")
    updated = next(f for f in client.sent if f["type"] == "message_updated")
    assert updated["body"] == "one, edited twice"
    # A lost change with nothing after it to reveal it: the broker's reconnect does. Anything
    # of 1-4 sent twice would come before it.
    await service.change(bob, "general", first, React("ann", "🎉", True))  # 5, never delivered
    broker.reconnected()
    await client.wait_for(2, "reactions")
    found = change_frames(client)
    assert found[:3] == [("message_updated", 1, 3), ("reactions", 1, 3), ("message_deleted", 2, 4)]
    # The catch-up sends message 1 as it is now (its text and its reactions), at change 5.
    assert ("reactions", 1, 5) in found[3:] and {change for _kind, _seq, change in found[3:]} == {5}
    task.cancel()


async def test_a_change_to_a_message_not_sent_yet_sends_the_message_first(
    chat: tuple[ChatService, HeldBroker],
) -> None:
    service, broker = chat
    client, task = await joined(service)
    (stale,) = await post(service, broker, "draft")  # stored, its delivery still on the way
    message = (await service.messages_after("general", 0, 1))[0]
    await service.change(Identity("bob"), "general", message.id, Edit("final"))
    (edit,) = changes(broker)
    broker.deliver(edit)
    broker.deliver(stale)  # the original text, late: already sent as it is now
    await client.wait_for(1, "message_updated")
    # The stale copy, had it gone out, would come before a message delivered after it.
    (marker,) = await post(service, broker, "marker")
    broker.deliver(marker)
    messages = await client.wait_for(2)
    assert [(m["body"], m["change"]) for m in messages] == [("final", 1), ("marker", 0)]
    assert change_frames(client) == [("message_updated", 1, 1)]
    task.cancel()


async def test_direct_queued_and_switching_writes_put_the_same_bytes_on_the_wire(
    chat: tuple[ChatService, HeldBroker],
) -> None:
    """Three connections of one user in one room: one whose socket always has room (every
    frame written directly), one whose socket never has (every frame through the queue and
    ASGI send), one that has room at random (switching at every frame). Through reordered,
    repeated and lost deliveries, gap fills, changes and a broker reconnect, all three must
    put the very same bytes on the wire."""
    service, broker = chat
    coin = random.Random(14)
    clients = [
        await joined(service, "ann", lambda: True),
        await joined(service, "ann", lambda: False),
        await joined(service, "ann", lambda: coin.random() < 0.5),
    ]
    # The one presence notice of these joins (ann came) reaches all three at once, before or
    # after this: it is in all three wires, or in none.
    for client, _task in clients:
        client.wire.clear()
    payloads = await post(service, broker, *(f"m{i}" for i in range(1, 41)))
    order = list(range(40))
    coin.shuffle(order)
    for i in order[:30]:  # ten are lost: filled from the store, the last ones at the reconnect
        broker.deliver(payloads[i])
        if i % 3 == 0:
            broker.deliver(payloads[i])  # and some arrive twice
    messages = await service.messages_after("general", 0, 40)
    bob = Identity("bob")
    for message in messages[::7]:
        await service.change(bob, "general", message.id, Edit(message.body + " (edited)"))
        await service.change(bob, "general", message.id, React("bob", "👍", True))
    await service.change(bob, "general", messages[3].id, Delete())
    change_payloads = changes(broker)
    coin.shuffle(change_payloads)
    for payload in change_payloads[:-2]:
        broker.deliver(payload)
    broker.reconnected()
    # Each client catches up until it has every changed message as the store has it now.
    current = {m.id: m.change for m in await service.messages_after("general", 0, 40) if m.change}
    for client, _task in clients:
        await client.wait_for(40)
        await client.wait_until(lambda client=client: client.latest_changes() == current)
    # Anything sent twice would come before a last message and a last change delivered after.
    (last,) = await post(service, broker, "last")
    broker.deliver(last)
    await service.change(bob, "general", messages[0].id, React("ann", "🎉", True))
    broker.deliver(changes(broker)[-1])
    for client, _task in clients:
        await client.wait_for(41)
        await client.wait_for(1, "message_deleted")
        await client.wait_for(len(messages[::7]) + 1, "reactions")
    always, never, switching = (client for client, _task in clients)
    assert len(always.wire) > 50
    assert always.wire == never.wire == switching.wire
    # Gap fills and catch-ups are read from the store by the writer: those are queued anyway.
    assert always.direct > 0 and never.direct == 0
    assert switching.direct > 0 and switching.queued > always.queued
    assert bodies([f for f in always.sent if f["type"] == "message"]) == [f"m{i}" for i in range(1, 41)] + [
        "last"
    ]
    for _client, task in clients:
        task.cancel()


async def test_the_runtime_can_wait_for_every_connection_to_end(
    chat: tuple[ChatService, HeldBroker],
) -> None:
    """A connection handed over to the protocol ends outside any ASGI call the server would
    wait for at shutdown: ChatService.connections_ended is what the runtime's stop waits for,
    and it lasts until the connection's own end (its posts stored) is done."""
    service, _broker = chat
    client, task = await joined(service)
    ended = asyncio.create_task(service.connections_ended())
    client.command(type="send", room="general", body="last words", client_msg_id="w1")
    await client.wait_for(1, "ack")
    assert not ended.done()
    client.inbox.put_nowait(None)  # the peer goes
    await asyncio.wait_for(ended, 10)
    await asyncio.wait_for(task, 5)
    assert service.connections_of("ann") == 0
    assert [m.body for m in await service.messages_after("general", 0, 10)] == ["last words"]
