"""Prometheus metrics. Under gunicorn, PROMETHEUS_MULTIPROC_DIR makes them add up across workers."""

from __future__ import annotations

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
# Frames written at once are not counted one by one: that would be most of the work per
# delivery after the write itself. What is counted is what did not go that way.
FRAMES_QUEUED = Counter(
    "hubbub_frames_queued_total",
    "Frames that waited for their connection's socket and were sent by its writer task",
)
DIRECT_WRITE_CONNECTIONS = Counter(
    "hubbub_direct_write_connections_total",
    "Connections whose frames are written straight to the socket while it has room",
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


def render() -> tuple[bytes, str]:
    if "PROMETHEUS_MULTIPROC_DIR" in os.environ:
        registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(registry)  # type: ignore[no-untyped-call]
        return generate_latest(registry), CONTENT_TYPE_LATEST
    return generate_latest(), CONTENT_TYPE_LATEST
