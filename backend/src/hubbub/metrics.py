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
    event-loop turn, instead of taking the counter's lock (and, under gunicorn, writing its
    file) once per frame of a fan-out."""

    __slots__ = ("_child", "_loop", "_pending")

    def __init__(self, child: Counter) -> None:
        self._child = child
        self._pending = 0
        self._loop: asyncio.AbstractEventLoop | None = None  # the loop a flush is due on

    def add(self, n: int = 1) -> None:
        loop = asyncio.get_running_loop()
        if self._loop is not loop:  # none due (or due on a loop that has gone: tests make many)
            self._loop = loop
            loop.call_soon(self._flush)
        self._pending += n

    def _flush(self) -> None:
        n, self._pending, self._loop = self._pending, 0, None
        self._child.inc(n)


FRAMES_DIRECT = PerTurnCount(FRAMES_SENT.labels("direct"))
FRAMES_QUEUED = PerTurnCount(FRAMES_SENT.labels("queued"))


def render() -> tuple[bytes, str]:
    if "PROMETHEUS_MULTIPROC_DIR" in os.environ:
        registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(registry)  # type: ignore[no-untyped-call]
        return generate_latest(registry), CONTENT_TYPE_LATEST
    return generate_latest(), CONTENT_TYPE_LATEST
