"""Small pieces on their own: presence bookkeeping, the token bucket, log redaction, settings."""

from __future__ import annotations

import asyncio
import gc
import logging
from pathlib import Path

import pytest
from pydantic import ValidationError

from hubbub.app import GC_GEN0_THRESHOLD, tune_gc_for_fanout
from hubbub.auth import names
from hubbub.auth.names import NameIndex
from hubbub.chat import envelope
from hubbub.chat.pacing import Pacer
from hubbub.chat.presence import LIST_MOST, Online, Presence
from hubbub.cli import ws_protocol
from hubbub.contract.close import Close
from hubbub.contract.events import PresenceEvent
from hubbub.contract.tutorial import chat_line
from hubbub.logs import LineBudget, RedactedLogRecord, redact
from hubbub.ratelimit import TokenBucket
from hubbub.settings import Settings
from hubbub.transport.capabilities import protocol_unavailable
from hubbub.transport.send_queue import SendQueue
from hubbub.web.hosts import AllowedHosts
from tests.services import hubbub_cli


class FakeClock:
    """A clock the test moves: what expires, locks and refills does so when the test says."""

    def __init__(self, now: float = 1000.0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


class PresenceHarness:
    """A Presence whose timers run when the test settles them, with a clock the test moves."""

    def __init__(self) -> None:
        self.changes: list[tuple[str, str, bool]] = []
        self.frames: list[PresenceEvent] = []
        self.published: list[envelope.Envelope] = []
        self.tasks: list[asyncio.Task[None]] = []
        self.clock = FakeClock()
        self.presence = Presence(
            "w1",
            heartbeat=10.0,
            publish=self._publish,
            notify=self._notify,
            spawn=lambda coro, name: self.tasks.append(asyncio.create_task(coro, name=name)),
            publish_delay=0.0,
            pacer=Pacer(window=0.0, per_second=float("inf"), clock=self.clock),
            clock=self.clock,
        )

    def _notify(self, room: str, event: PresenceEvent) -> int:
        self.frames.append(event)
        self.changes.extend((room, user, True) for user in event.joined)
        self.changes.extend((room, user, False) for user in event.left)
        return 1

    async def _publish(self, item: envelope.Envelope) -> None:
        self.published.append(item)

    async def settle(self) -> None:
        while self.tasks:
            await self.tasks.pop(0)


async def test_presence_counts_connections_and_merges_workers() -> None:
    harness = PresenceHarness()
    presence, settle, changes, published = (
        harness.presence,
        harness.settle,
        harness.changes,
        harness.published,
    )
    presence.join("general", "alice")
    await settle()
    assert published == [envelope.PresenceSnapshot("w1", {"general": ["alice"]})]
    presence.join("general", "alice")  # second tab: no news
    await settle()
    assert len(published) == 1
    presence.on_snapshot(envelope.PresenceSnapshot("w2", {"general": ["bob", "alice"]}))
    await settle()
    assert presence.users("general").users == ["alice", "bob"]
    presence.leave("general", "alice")
    presence.leave("general", "alice")
    await settle()
    assert presence.users("general").users == ["alice", "bob"]  # still online on w2
    presence.on_snapshot(envelope.PresenceSnapshot("w1", {"general": ["ghost"]}))  # our own echo
    presence.expire()
    assert presence.users("general").users == ["alice", "bob"]  # w2's view is fresh
    harness.clock.advance(30.001)  # three heartbeats without a word from w2
    presence.expire()
    await settle()
    assert presence.users("general") == Online([], 0)
    assert changes == [
        ("general", "alice", True),
        ("general", "bob", True),
        ("general", "alice", False),
        ("general", "bob", False),
    ]
    # Online through another worker first: this worker's first and last tab change nothing.
    presence.on_snapshot(envelope.PresenceSnapshot("w3", {"general": ["carol"]}))
    presence.join("general", "carol")
    presence.leave("general", "carol")
    await settle()
    presence.join("general", "dave")  # nowhere else: news, both ways
    await settle()
    presence.leave("general", "dave")
    await settle()
    assert changes[4:] == [("general", "carol", True), ("general", "dave", True), ("general", "dave", False)]


async def test_a_reconnect_within_one_notification_is_no_news() -> None:
    """A reload is a leave and a join. Told within one notification window, on one worker or
    through two, it must not come out as a "joined" about someone who never left."""
    harness = PresenceHarness()
    presence = harness.presence
    presence.join("general", "bob")
    await harness.settle()
    assert harness.changes == [("general", "bob", True)]
    # Same worker: the old socket leaves, the new one joins, before the window closes.
    presence.leave("general", "bob")
    presence.join("general", "bob")
    await harness.settle()
    # Two workers: the old socket leaves here while w2 reports the new one, in one window.
    presence.leave("general", "bob")
    presence.on_snapshot(envelope.PresenceSnapshot("w2", {"general": ["bob"]}))
    await harness.settle()
    assert harness.changes == [("general", "bob", True)]
    assert [f.joined + f.left for f in harness.frames] == [["bob"]]
    # Three flips in one window are one.
    presence.on_snapshot(envelope.PresenceSnapshot("w2", {}))
    presence.on_snapshot(envelope.PresenceSnapshot("w2", {"general": ["bob"]}))
    presence.on_snapshot(envelope.PresenceSnapshot("w2", {}))
    await harness.settle()
    assert harness.changes == [("general", "bob", True), ("general", "bob", False)]


async def test_a_join_storm_costs_one_presence_frame_per_window() -> None:
    harness = PresenceHarness()
    for i in range(150):
        harness.presence.join("general", f"u{i}")
    harness.presence.leave("general", "u7")
    await harness.settle()
    (frame,) = harness.frames
    assert frame.joined == sorted(f"u{i}" for i in range(150) if i != 7) and frame.left == []
    assert (frame.online, frame.users) == (149, None)


async def test_a_room_past_the_list_limit_is_a_count_and_its_frames_name_nobody() -> None:
    """A join, its answer and the frames it causes cost the same in a room of 20,000 as in one
    of 300: past LIST_MOST online, the list is not made, and no frame carries names."""
    harness = PresenceHarness()
    presence = harness.presence
    for i in range(LIST_MOST):
        presence.join("hall", f"u{i}")
    await harness.settle()
    assert len(presence.users("hall").users) == LIST_MOST
    for i in range(LIST_MOST, 20_000):
        presence.join("hall", f"u{i}")
    assert presence.users("hall") == Online([], 20_000)
    await harness.settle()
    crossing = harness.frames[-1]  # over the line: the list to start from is none
    assert (crossing.joined, crossing.left, crossing.online, crossing.users) == ([], [], 20_000, [])
    presence.join("hall", "late")
    presence.leave("hall", "u3")
    await harness.settle()
    one_more = harness.frames[-1]
    assert (one_more.joined, one_more.left, one_more.online, one_more.users) == ([], [], 20_000, None)
    for i in range(LIST_MOST, 20_000):  # back under the line: the whole list, once
        presence.leave("hall", f"u{i}")
    await harness.settle()
    back = harness.frames[-1]
    assert (
        back.users
        == presence.users("hall").users
        == sorted({f"u{i}" for i in range(LIST_MOST)} - {"u3"} | {"late"})
    )
    assert back.online == LIST_MOST


def test_pacing_holds_the_next_batch_back_by_what_the_last_one_wrote() -> None:
    clock = FakeClock()
    pacer = Pacer(window=0.1, per_second=20_000, most=5.0, clock=clock)
    assert pacer.delay() == 0.1  # nothing written yet: the window
    pacer.spent(20_000)  # a batch to a room of 20,000: the next waits a second
    assert pacer.delay() == 1.0
    clock.advance(0.6)
    assert pacer.delay() == pytest.approx(0.4)
    clock.advance(0.4)
    assert pacer.delay() == 0.1
    pacer.spent(10_000_000)  # never longer than `most`
    assert pacer.delay() == 5.0
    pacer.spent(50)  # a small batch: the window again
    assert pacer.delay() == 0.1


def test_a_name_check_costs_one_lookup_however_many_are_online(monkeypatch: pytest.MonkeyPatch) -> None:
    looked_up: list[str] = []
    real = names.skeleton

    def counted(name: str) -> str:
        looked_up.append(name)
        return real(name)

    for online_count in (200, 20_000):
        index = NameIndex()
        for i in range(online_count):
            index.add(f"user{i}")
        index.add("bob")
        monkeypatch.setattr(names, "skeleton", counted)
        looked_up.clear()
        assert index.passes_for("b\u043eb") == "bob"  # a Cyrillic o
        assert index.passes_for("carol") is None
        assert "bob" in index and "carol" not in index
        assert len(looked_up) == 2  # one skeleton per check, none of anyone online's
        monkeypatch.setattr(names, "skeleton", real)
    index.add("bob")  # two tabs: counted twice, online until both go
    index.discard("bob")
    assert "bob" in index and index.passes_for("b\u043eb") == "bob"
    index.discard("bob")
    assert "bob" not in index and index.passes_for("b\u043eb") is None


def test_token_bucket_allows_burst_then_rate() -> None:
    clock = FakeClock()
    bucket = TokenBucket(rate=4.0, burst=3, clock=clock)
    assert [bucket.try_take() for _ in range(3)] == [0.0, 0.0, 0.0]
    assert bucket.try_take() == 0.25  # a token every quarter second
    clock.advance(0.125)
    assert bucket.try_take() == 0.125  # half a token so far
    clock.advance(0.125)
    assert bucket.try_take() == 0.0
    clock.advance(3600)  # a long pause refills the burst, no more
    assert [bucket.try_take() for _ in range(4)] == [0.0, 0.0, 0.0, 0.25]


def test_a_line_budget_lets_a_burst_through_then_one_a_second_and_says_what_it_held() -> None:
    clock = FakeClock()
    budget = LineBudget(per_second=1.0, burst=5, clock=clock)
    assert [budget.take() for _ in range(100)] == [""] * 5 + [None] * 95
    clock.advance(1.0)
    assert budget.take() == " (95 similar lines held back)"
    assert budget.take() is None
    clock.advance(1.0)
    assert budget.take() == " (1 similar lines held back)"


@pytest.mark.parametrize(
    ("line", "expected"),
    [
        ("GET /items/1/ws?token=abc&q=1", "GET /items/1/ws?token=[redacted]&q=1"),
        ("/api/ws?q=1&TOKEN=abc", "/api/ws?q=1&TOKEN=[redacted]"),
        ("/ws?access_token=a.b.c", "/ws?access_token=[redacted]"),
        ("/ws?name=token", "/ws?name=token"),
        ("body was 'hbb_3q2-x_Yk9ZtB0aQ' by mistake", "body was '[redacted]' by mistake"),
        ("hbb_ alone is not a token", "hbb_ alone is not a token"),
        (
            '"GET /api/search?q=layoffs%20plan&limit=20 HTTP/1.1" 200',
            '"GET /api/search?[redacted] HTTP/1.1" 200',
        ),
    ],
)
def test_redact(line: str, expected: str) -> None:
    assert redact(line) == expected


def test_redact_filter_rewrites_uvicorn_style_records() -> None:
    record = RedactedLogRecord(
        "uvicorn.error",
        logging.INFO,
        __file__,
        1,
        '%s - "WebSocket %s" [accepted]',
        ("127.0.0.1:1", "/api/ws?token=secret"),
        None,
    )
    assert "secret" not in record.getMessage()


def test_plain_text_mapping() -> None:
    assert chat_line("alice", None, "hi") == "Client #alice says: hi"
    assert chat_line("Client #3", 3, "x") == "Client #3 says: x"
    assert (
        chat_line("alice", None, "look", ["a.png", "b\nc.txt"])
        == "Client #alice says: look [file: a.png] [file: b\u2424c.txt]"
    )
    assert chat_line("alice", None, "", ["a.png"]) == "Client #alice says: [file: a.png]"


def test_settings_defaults_and_derived_urls(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HUBBUB_DATA_DIR", "/srv/hub")
    settings = Settings()
    assert settings.effective_database_url == "sqlite:////srv/hub/hubbub.db"
    assert settings.effective_broker_url == "memory://"
    monkeypatch.setenv("HUBBUB_REDIS_URL", "redis://127.0.0.1:6379/0")
    assert Settings().effective_broker_url == "redis://127.0.0.1:6379/0"
    monkeypatch.setenv("HUBBUB_ALLOWED_ORIGINS", '["https://a.example", "http://b.example:8080"]')
    assert Settings().allowed_origins == ["https://a.example", "http://b.example:8080"]


def test_jwt_settings_reject_algorithm_key_mismatch(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HUBBUB_AUTH", "jwt")
    monkeypatch.setenv("HUBBUB_JWT_PUBLIC_KEY", "-----BEGIN PUBLIC KEY-----")
    with pytest.raises(ValidationError, match="public key"):
        Settings()  # default algorithm HS256 with a public key: the confusion attack's door


def test_stored_messages_share_payloads_within_the_brokers_limit() -> None:
    frames = [
        ("r", seq, f'{{"seq":{seq},"body":"{"x" * size}"}}')
        for seq, size in enumerate([10, 20, 300, 30, 5], 1)
    ]
    # No limit: one payload, the frames in order.
    (only,) = envelope.pack_messages(frames, None)
    unpacked = envelope.decode(envelope.encode(only))
    assert isinstance(unpacked, envelope.StoredMessages)
    assert list(unpacked.messages) == frames
    assert envelope.pack_messages([], None) == []

    # A 100-byte limit: frames share payloads up to it, the 300-byte one goes as a reference,
    # and nothing changes order.
    payloads = [envelope.encode(e) for e in envelope.pack_messages(frames, 100)]
    assert all(len(p.encode()) <= 100 for p in payloads)
    decoded = [envelope.decode(p) for p in payloads]
    kinds = [type(e) for e in decoded]
    assert kinds == [envelope.StoredMessages, envelope.MessageRef, envelope.StoredMessages]
    assert decoded[1] == envelope.MessageRef("r", 3)
    assert len(decoded[0].messages) == 2  # type: ignore[union-attr]
    assert len(decoded[2].messages) == 2  # type: ignore[union-attr]


def test_send_queue_is_bounded_in_items_and_in_size() -> None:
    by_count: SendQueue[str] = SendQueue(max_items=3, max_size=1000, size_of=len)
    assert all(by_count.put("x") for _ in range(3))
    assert not by_count.put("x") and len(by_count) == 3
    assert by_count.half_full()

    by_size: SendQueue[str] = SendQueue(max_items=100, max_size=10, size_of=len)
    assert by_size.put("a" * 6) and not by_size.put("b" * 5) and by_size.put("c" * 4)
    assert (len(by_size), by_size.size) == (2, 10)
    assert by_size.get_nowait() == "a" * 6 and by_size.size == 4
    assert by_size.get_nowait() == "c" * 4 and by_size.get_nowait() is None and by_size.size == 0
    # A frame larger than the whole budget goes alone into an empty queue, never beside another.
    assert by_size.put("d" * 50) and not by_size.put("e")


def test_server_processes_collect_young_garbage_less_often() -> None:
    before = gc.get_threshold()
    try:
        gc.set_threshold(700, 10, 10)
        tune_gc_for_fanout()
        assert gc.get_threshold() == (GC_GEN0_THRESHOLD, 10, 10)
    finally:
        gc.set_threshold(*before)


def test_an_unfit_uvicorn_gets_its_own_protocol_and_one_warning(caplog: pytest.LogCaptureFixture) -> None:
    assert protocol_unavailable() is None  # the uvicorn pyproject.toml pins
    assert ws_protocol(None) == "hubbub.transport.ws_protocol:WebSocketProtocol"
    assert caplog.records == []
    for old in ("0.34.0", "0.52.0"):
        reason = protocol_unavailable(old)
        assert reason is not None and old in reason
        assert ws_protocol(reason) == "auto"
    warnings = [r for r in caplog.records if r.levelno == logging.WARNING]
    assert len(warnings) == 2 and "direct writes" in warnings[0].getMessage()


def test_add_bot_with_a_bad_name_says_so_in_one_line(tmp_path: Path) -> None:
    result = hubbub_cli(tmp_path, "add-bot", "bad name!")
    assert result.returncode != 0 and result.stdout == ""
    assert result.stderr.startswith("hubbub: display name must be") and result.stderr.count("\n") == 1


async def test_hosts_refuse_a_websocket_with_the_close_enum_where_no_http_answer_can_go() -> None:
    sent: list[dict[str, object]] = []

    async def send(message: dict[str, object]) -> None:
        sent.append(message)

    async def never(scope: object, receive: object, send: object) -> None:
        raise AssertionError("refused requests never reach the app")

    hosts = AllowedHosts(never, Settings())  # type: ignore[arg-type]
    scope = {"type": "websocket", "headers": [(b"host", b"rebind.evil")], "extensions": {}}
    await hosts(scope, None, send)  # type: ignore[arg-type]
    assert sent == [{"type": "websocket.close", "code": Close.POLICY_VIOLATION, "reason": "unknown host"}]
    assert type(sent[0]["code"]) is Close
