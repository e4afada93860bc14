"""A member removed from a room hears nothing more of it, however the removal and their joins
interleave (issue 22).

In-process, every interleaving is forced: each step of a join (every store call of the session,
its catch-up included, before and after) is a point where the removal may commit, and another
where the broker may deliver it. Over real sockets, the race itself: mallory, a member of a
private room, loops join/leave on several sockets as fast as the server answers while alice
removes her; after the 204, alice posts, edits, reacts and types. A leak is anything of that
(by sequence and change number, not by time) reaching any socket of mallory's, or a socket of
hers still in the room afterwards (a `leave` that answers `left`). Witnesses (a member with a
socket on every worker) say when every worker has handled the removal: the broker delivers in
publish order, so a worker that handed a witness alice's last change had handled the removal.
"""

from __future__ import annotations

import asyncio
import json
import os
import random
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest
from websockets.asyncio.client import ClientConnection, connect

from hubbub.auth.base import Identity
from hubbub.chat.rooms import NotAMemberError
from hubbub.chat.service import ChatService
from hubbub.files.local import LocalStorage
from hubbub.settings import AuthMode, Settings
from hubbub.store import Edit, React, create_store
from hubbub.transport.json_session import JsonSession
from tests.conftest import ServerFactory, fresh_database
from tests.services import HubbubServer, hubbub_cli
from tests.test_json_session import FakeTransport, HeldBroker

Action = Callable[[], Awaitable[None]]


class SteppedStore:
    """A real store whose calls are points in time: point 2k is just before the k-th call,
    2k+1 just after it. An action set for a point runs there while the caller waits, so it
    lands exactly between two steps of the code under test. Calls made by an action itself
    are not counted."""

    def __init__(self, inner: Any) -> None:
        self._inner = inner
        self.actions: dict[int, Action] = {}
        self.armed = False
        self.points = 0
        self.calls: list[str] = []
        self._acting = False

    def __getattr__(self, name: str) -> Any:
        method = getattr(self._inner, name)
        if not asyncio.iscoroutinefunction(method):
            return method

        async def stepped(*args: Any, **kwargs: Any) -> Any:
            if not self.armed or self._acting:
                return await method(*args, **kwargs)
            self.calls.append(name)
            await self._point()
            result = await method(*args, **kwargs)
            await self._point()
            return result

        return stepped

    async def _point(self) -> None:
        action = self.actions.pop(self.points, None)
        self.points += 1
        if action is not None:
            await self.act(action)

    async def act(self, action: Action) -> None:
        self._acting = True
        try:
            await action()
        finally:
            self._acting = False


ALICE, MALLORY = Identity("alice"), Identity("mallory")


def signed_in(data_dir: Path) -> Settings:
    """A mode where people sign in as themselves: private rooms exist only there."""
    return Settings(data_dir=data_dir, auth=AuthMode.TOKEN, tokens={"token-of-alice": "alice"})


async def one_interleaving(tmp_path: Path, commit_at: int | None, deliver_at: int | None) -> list[str]:
    """Mallory joins the private room "vault" (with resume cursors, so that her catch-up reads
    messages and changes); alice's removal of her commits at one point of that join and reaches
    the worker (the broker delivers) at the same or a later one (None: after the join is done).
    Right after the removal, alice edits an old message and posts a new one. Returns the store
    calls of the join (to count the points); fails on any leak."""
    store = SteppedStore(create_store(f"sqlite:///{tmp_path}/h.db"))
    broker = HeldBroker()
    chat = ChatService(signed_in(tmp_path), store, broker, LocalStorage(tmp_path / "files"))
    await chat.start()
    await chat.remember_users(["alice", "mallory"])
    await chat.rooms.create(ALICE, "vault", "private")
    await chat.rooms.add(ALICE, "vault", "mallory")
    first, _ = await chat.post("vault", ALICE, "before 1")
    await chat.post("vault", ALICE, "before 2")
    await chat.change(ALICE, "vault", first.id, React("alice", "👍", True))  # change 1
    delivered = len(broker.published)

    async def commit() -> None:
        await chat.rooms.remove(ALICE, "vault", "mallory")
        await chat.change(ALICE, "vault", first.id, Edit("edited after the removal"))
        await chat.post("vault", ALICE, "posted after the removal")

    async def deliver() -> None:
        nonlocal delivered
        for payload in broker.published[delivered:]:
            broker.deliver(payload)
        delivered = len(broker.published)

    pending = {"commit": commit, "deliver": deliver}
    for name, point in (("commit", commit_at), ("deliver", deliver_at)):
        if point is not None:
            action = pending.pop(name)
            earlier = store.actions.get(point)
            store.actions[point] = action if earlier is None else _both(earlier, action)

    client = FakeTransport()
    session = JsonSession(client, chat, MALLORY, "127.0.0.1")
    task = asyncio.create_task(session.run())
    await client.wait_for(1, "hello")
    for payload in broker.published[delivered:]:  # what came before mallory connected: nothing new
        broker.deliver(payload)
    delivered = len(broker.published)
    store.armed = True
    client.command(type="join", room="vault", after=0, changes_after=0)
    answer = await until(client, lambda f: f["type"] in {"joined", "error"})
    await settled(session)
    store.armed = False
    calls = list(store.calls)
    for action in pending.values():  # not reached during the join: after it, in order
        await store.act(action)
        await settled(session)
    await deliver()
    await settled(session)

    client.command(type="leave", room="vault")
    probe = await until(client, lambda f: f["type"] in {"left", "error"} and f is not answer)
    await chat.post("vault", ALICE, "posted later")
    await deliver()
    await settled(session)

    where = f"removal committed at point {commit_at}, delivered at {deliver_at}, calls {calls}"
    assert answer["type"] == "joined" or answer["code"] == "unknown_room", (where, answer)
    assert probe["type"] == "error" and probe["code"] == "not_joined", (where, probe)
    if answer["type"] == "joined":
        assert any(f["type"] == "removed" and f["room"] == "vault" for f in client.sent), where
    leaks = [
        f
        for f in client.sent
        if f.get("room") == "vault"
        and (
            (f["type"] == "message" and (f["seq"] > 2 or "removal" in f["body"]))
            or (f["type"] in CHANGE_FRAMES and f["change"] > 1)
            or (f["type"] == "typing")
        )
    ]
    assert leaks == [], (where, leaks)
    assert "mallory" not in chat._presence.users("vault").users, where
    assert session not in chat._hub._rooms.get("vault", ()), where
    task.cancel()
    await chat.stop()
    return calls


def _both(first: Action, second: Action) -> Action:
    async def both() -> None:
        await first()
        await second()

    return both


async def until(client: FakeTransport, predicate: Callable[[dict[str, Any]], bool]) -> dict[str, Any]:
    async with asyncio.timeout(60):  # a deadline, not a verdict
        while (found := next((f for f in client.sent if predicate(f)), None)) is None:
            await _next_frame(client)
    return found


async def _next_frame(client: FakeTransport) -> None:
    client._changed.clear()
    await client._changed.wait()


async def settled(session: JsonSession) -> None:
    """Until the session's writer has nothing left to do (a catch-up reads the store)."""
    async with asyncio.timeout(60):  # a deadline, not a verdict
        while session.conn.queue is not None:
            await asyncio.sleep(0)


async def test_every_interleaving_of_a_join_and_a_removal(tmp_path: Path) -> None:
    calls = await one_interleaving(tmp_path / "plain", None, None)
    points = 2 * len(calls)
    assert points >= 8, calls  # the join's reads and its catch-up's
    tried = 0
    for commit_at in range(points):
        for deliver_at in [*range(commit_at, points), None]:
            await one_interleaving(tmp_path / f"{commit_at}-{deliver_at}", commit_at, deliver_at)
            tried += 1
    print(f"\n{tried} interleavings of a join ({len(calls)} store calls: {calls}) and a removal")


async def test_a_removal_the_broker_lost_is_found_at_its_reconnect_or_by_asking_again(tmp_path: Path) -> None:
    """The broker may lose a removal (it was down when the removal was published): a broker
    reconnect makes every connection check its members-only rooms again, and the owner's
    second DELETE (404, not a member) still takes any socket of that user out of the room."""
    broker = HeldBroker()
    chat = ChatService(
        signed_in(tmp_path),
        create_store(f"sqlite:///{tmp_path}/h.db"),
        broker,
        LocalStorage(tmp_path / "files"),
    )
    await chat.start()
    await chat.remember_users(["alice", "mallory"])
    for room in ("vault", "attic"):
        await chat.rooms.create(ALICE, room, "private")
        await chat.rooms.add(ALICE, room, "mallory")
    client = FakeTransport()
    task = asyncio.create_task(JsonSession(client, chat, MALLORY, "127.0.0.1").run())
    await client.wait_for(1, "hello")
    for room in ("vault", "attic"):
        client.command(type="join", room=room)
    await client.wait_for(2, "joined")
    lost = len(broker.published)
    await chat.rooms.remove(ALICE, "vault", "mallory")
    await chat.rooms.remove(ALICE, "attic", "mallory")
    del broker.published[lost:]  # never delivered
    # The owner asks again: not a member (404), and her sockets leave the room all the same.
    with pytest.raises(NotAMemberError):
        await chat.rooms.remove(ALICE, "attic", "mallory")
    for payload in broker.published[lost:]:
        broker.deliver(payload)
    assert [f["room"] for f in await client.wait_for(1, "removed")] == ["attic"]
    # The broker was down and reconnects: vault is checked again before anything newer of it
    # is sent, and she is out of it too.
    later = len(broker.published)
    await chat.post("vault", ALICE, "posted after the removal")
    broker.reconnected()
    for payload in broker.published[later:]:
        broker.deliver(payload)
    assert [f["room"] for f in await client.wait_for(2, "removed")] == ["attic", "vault"]
    assert not [f for f in client.sent if f["type"] == "message"]
    task.cancel()
    await chat.stop()


ROUNDS = int(os.environ.get("HUBBUB_RACE_ROUNDS", "200"))
SOCKETS = 8  # mallory's, looping
PASSWORD = "long enough password"
TOKENS = {f"token-of-{u}-0123": u for u in ("alice", "mallory", "nina")}
# The race needs every join answered, not rate limited; and rooms enough for every round.
GENEROUS = {
    "HUBBUB_RATE_LIMIT_PER_SECOND": "100000",
    "HUBBUB_RATE_LIMIT_BURST": "100000",
    "HUBBUB_JOIN_RATE_PER_SECOND": "100000",
    "HUBBUB_JOIN_BURST": "100000",
    "HUBBUB_ROOM_CREATIONS_PER_MINUTE": "100000",
    "HUBBUB_ROOM_CREATIONS_PER_MINUTE_PER_ADDRESS": "100000",
    "HUBBUB_MAX_ROOMS_PER_USER": "100000",
    "HUBBUB_LOG_LEVEL": "warning",
}


@dataclass
class Site:
    """The servers of one configuration (one, or two workers sharing the store through Redis)
    and how each user authenticates there."""

    workers: list[HubbubServer]
    headers: dict[str, dict[str, str]]

    def rest(self, user: str) -> httpx.AsyncClient:
        return httpx.AsyncClient(base_url=self.workers[0].url, headers=self.headers[user], timeout=30)

    async def socket(self, user: str, worker: int = 0) -> Socket:
        url = f"{self.workers[worker % len(self.workers)].ws_url}/api/ws"
        ws = await connect(url, additional_headers=self.headers[user], compression=None, max_queue=None)
        socket = Socket(ws)
        socket.start()
        await socket.next_answer()  # hello
        return socket


@dataclass
class Socket:
    """Every frame received, kept; answers to commands (and hello) handed out in order."""

    ws: ClientConnection
    frames: list[dict[str, Any]] = field(default_factory=list)
    answers: asyncio.Queue[dict[str, Any]] = field(default_factory=asyncio.Queue)
    reader: asyncio.Task[None] | None = None
    arrived: asyncio.Event = field(default_factory=asyncio.Event)

    def start(self) -> None:
        self.reader = asyncio.create_task(self._read())

    async def _read(self) -> None:
        async for raw in self.ws:
            frame = json.loads(raw)
            self.frames.append(frame)
            self.arrived.set()
            if frame["type"] in {"hello", "joined", "left", "error", "ack", "applied"}:
                self.answers.put_nowait(frame)

    async def next_answer(self) -> dict[str, Any]:
        return await asyncio.wait_for(self.answers.get(), 30)

    async def ask(self, **command: Any) -> dict[str, Any]:
        await self.ws.send(json.dumps(command))
        return await self.next_answer()

    async def wait_for(self, predicate: Any) -> dict[str, Any]:
        """The first frame received that matches, once it is there."""
        async with asyncio.timeout(30):
            while True:
                found = next((f for f in self.frames if predicate(f)), None)
                if found is not None:
                    return found
                self.arrived.clear()
                await self.arrived.wait()

    async def close(self) -> None:
        await self.ws.close()
        if self.reader is not None:
            await self.reader


@pytest.fixture(params=["sqlite", "password", "postgres", "redis-2-workers"])
async def site(
    request: pytest.FixtureRequest, hubbub_server: ServerFactory, tmp_path: Path
) -> AsyncIterator[Site]:
    config = request.param
    data = tmp_path / "shared"
    env = dict(GENEROUS)
    if config == "password":
        env["HUBBUB_AUTH"] = "password"
        for user in ("alice", "mallory", "nina"):
            made = hubbub_cli(data, "add-user", user, "--password-stdin", stdin=PASSWORD + "\n")
            assert made.returncode == 0, made.stderr
        server = hubbub_server(env, data_dir=data)
        headers = {}
        for user in ("alice", "mallory", "nina"):
            answer = httpx.post(f"{server.url}/api/login", json={"username": user, "password": PASSWORD})
            assert answer.status_code == 200, answer.text
            headers[user] = {"Cookie": f"session={answer.cookies['session']}"}
        yield Site([server], headers)
        return
    env |= {"HUBBUB_AUTH": "token", "HUBBUB_TOKENS": json.dumps(TOKENS)}
    headers = {user: {"Authorization": f"Bearer {token}"} for token, user in TOKENS.items()}
    if config == "postgres":
        async with fresh_database(request.getfixturevalue("postgres_url")) as url:
            yield Site([hubbub_server({**env, "HUBBUB_DATABASE_URL": url}, data_dir=data)], headers)
        return
    if config == "redis-2-workers":
        env["HUBBUB_REDIS_URL"] = request.getfixturevalue("redis_url")
        yield Site([hubbub_server(env, data_dir=data), hubbub_server(env, data_dir=data)], headers)
        return
    yield Site([hubbub_server(env, data_dir=data)], headers)


CHANGE_FRAMES = {"message_updated", "message_deleted", "reactions"}


def leaks_in(
    frames: list[dict[str, Any]], room: str, after_seq: int, after_change: int
) -> list[dict[str, Any]]:
    """What of the room, posted or changed after the removal was acknowledged, reached a socket."""
    found = []
    for frame in frames:
        if frame.get("room") != room:
            continue
        kind = frame["type"]
        if (
            (kind == "message" and frame["seq"] >= after_seq)
            or (kind in CHANGE_FRAMES and frame["change"] >= after_change)
            or (kind == "typing" and frame["user"] == "alice")  # alice types only after it
        ):
            found.append(frame)
    return found


@dataclass
class Round:
    """One round: a new private room, mallory's sockets looping join/leave until the removal."""

    room: str
    removal_at: int  # alice removes mallory once the round has seen this many joins answered
    joined: int = 0
    refused: int = 0
    ready: asyncio.Event = field(default_factory=asyncio.Event)
    stop: asyncio.Event = field(default_factory=asyncio.Event)

    async def loop(self, ws: Socket) -> None:
        while True:
            answer = await ws.ask(type="join", room=self.room, after=1_000_000_000)
            if answer["type"] == "joined":
                self.joined += 1
                if self.joined >= self.removal_at:
                    self.ready.set()
            else:
                assert answer["code"] == "unknown_room", answer
                self.refused += 1
            if self.stop.is_set():
                return  # the round ends on a join: a socket wrongly left in the room stays there
            answer = await ws.ask(type="leave", room=self.room)
            assert answer["type"] == "left" or answer.get("code") == "not_joined", answer


@pytest.mark.timeout(600)
async def test_a_removed_member_hears_nothing_more_of_the_room(site: Site) -> None:
    coin = random.Random(22)
    alice = site.rest("alice")
    alice_ws = await site.socket("alice", 0)
    witnesses = [await site.socket("nina", worker) for worker in range(len(site.workers))]
    sockets = [await site.socket("mallory", i) for i in range(SOCKETS)]
    totals = {"rounds with a leak": 0, "frames leaked": 0, "sockets still in the room": 0}
    joins = {"joined": 0, "refused": 0}
    for n in range(ROUNDS):
        game = Round(f"r{n}-{uuid.uuid4().hex[:6]}", removal_at=coin.randint(1, 3 * SOCKETS))
        room = game.room
        made = await alice.post("/api/rooms", json={"name": room, "visibility": "private"})
        assert made.status_code == 201, made.text
        for user in ("mallory", "nina"):
            added = await alice.post(f"/api/rooms/{room}/members", json={"user": user})
            assert added.status_code == 201, added.text
        for ws in (alice_ws, *witnesses):
            assert (await ws.ask(type="join", room=room))["type"] == "joined"
        before = await alice_ws.ask(type="send", room=room, body="before", client_msg_id=f"b{n}")
        assert before["type"] == "ack"

        loops = [asyncio.create_task(game.loop(ws)) for ws in sockets]
        await game.ready.wait()
        removed = await alice.delete(f"/api/rooms/{room}/members/mallory")
        assert removed.status_code == 204, removed.text
        game.stop.set()

        # After the acknowledgement: a message, an edit, a reaction, typing.
        ack = await alice_ws.ask(type="send", room=room, body="after", client_msg_id=f"a{n}")
        assert ack["type"] == "ack"
        edit = await alice_ws.ask(type="edit", room=room, id=ack["id"], body="after, edited", ref=f"e{n}")
        react = await alice_ws.ask(type="react", room=room, id=ack["id"], emoji="👍", on=True, ref=f"r{n}")
        assert edit["type"] == react["type"] == "applied", (edit, react)
        await alice_ws.ws.send(json.dumps({"type": "typing", "room": room}))
        await asyncio.gather(*loops)
        # Every worker has handled the removal, and offered all of the above to mallory's
        # sockets there, once its witness has alice's typing (published last, and the hub
        # offers an event to every local subscriber at once); each socket's `leave` below is
        # then a round trip behind anything it was offered.
        for witness in witnesses:
            await witness.wait_for(
                lambda f, room=room: f["type"] == "typing" and f.get("room") == room and f["user"] == "alice"
            )

        leaks, still_in = [], 0
        for ws in sockets:
            if (await ws.ask(type="leave", room=room))["type"] == "left":
                still_in += 1
            leaks += leaks_in(ws.frames, room, ack["seq"], edit["change"])
        totals["rounds with a leak"] += bool(leaks or still_in)
        totals["frames leaked"] += len(leaks)
        totals["sockets still in the room"] += still_in
        joins["joined"] += game.joined
        joins["refused"] += game.refused
        for ws in (*sockets, *witnesses):
            ws.frames.clear()  # each round's room is new: nothing carries over
        for ws in (alice_ws, *witnesses):
            await ws.ask(type="leave", room=room)

    print(f"\nremoval race, {ROUNDS} rounds: {totals}; mallory's joins: {joins}")
    for ws in (*sockets, *witnesses, alice_ws):
        await ws.close()
    await alice.aclose()
    assert joins["joined"] >= ROUNDS  # the race was run: every round had joins under way
    assert totals == {"rounds with a leak": 0, "frames leaked": 0, "sockets still in the room": 0}
