"""Prometheus metrics. Under gunicorn, PROMETHEUS_MULTIPROC_DIR makes them add up across workers."""

from __future__ import annotations

import asyncio
import os

from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Gauge,
    generate_latest,
    multiprocess,
)

CONNECTIONS = Gauge(
    "hubbub_connections",
    "Open WebSocket connections",
    ["endpoint"],
    multiprocess_mode="livesum",
)
MESSAGES_STORED = Counter("hubbub_messages_stored_total", "Chat messages stored")
FRAMES_SENT = Counter(
    "hubbub_frames_sent_total",
    "WebSocket frames sent to clients; path: direct (written at once) or queued (by the writer)",
    ["path"],
)
REFUSED = Counter("hubbub_connections_refused_total", "WebSocket connections refused", ["reason"])
SLOW_CONSUMERS = Counter(
    "hubbub_slow_consumer_disconnects_total", "Connections closed because their queue was full"
)
CLIENT_ERRORS = Counter("hubbub_client_errors_total", "Error events sent to clients", ["code"])
BROKER_ERRORS = Counter("hubbub_broker_errors_total", "Failed broker publishes")
BROKER_RECONNECTS = Counter("hubbub_broker_reconnects_total", "Broker re-subscriptions")
STORE_ERRORS = Counter("hubbub_store_errors_total", "Failed store operations")
TASKS = Gauge(
    "hubbub_asyncio_tasks",
    "asyncio tasks alive in the worker (a leak shows here first)",
    multiprocess_mode="livesum",
)


class PerTurnCount:
    """Counts on the hot path: adds up in a plain int and hands the sum to the counter once per
    event-loop turn (and whenever metrics are rendered), instead of taking the counter's lock
    (and, under gunicorn, writing its file) once per frame of a fan-out."""

    __slots__ = ("_child", "_pending")

    def __init__(self, child: Counter) -> None:
        self._child = child
        self._pending = 0

    def add(self) -> None:
        self._pending += 1
        if self._pending == 1:
            asyncio.get_running_loop().call_soon(self.flush)

    def flush(self) -> None:
        # Also from render(): a flush that was due on a loop that has since closed (tests run
        # many) would otherwise leave the count pending, and no new one would be scheduled.
        n, self._pending = self._pending, 0
        if n:
            self._child.inc(n)


FRAMES_DIRECT = PerTurnCount(FRAMES_SENT.labels("direct"))
FRAMES_QUEUED = PerTurnCount(FRAMES_SENT.labels("queued"))


def render() -> tuple[bytes, str]:
    FRAMES_DIRECT.flush()
    FRAMES_QUEUED.flush()
    if "PROMETHEUS_MULTIPROC_DIR" in os.environ:
        registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(registry)  # type: ignore[no-untyped-call]
        return generate_latest(registry), CONTENT_TYPE_LATEST
    return generate_latest(), CONTENT_TYPE_LATEST
