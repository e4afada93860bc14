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
FRAMES_SENT = Counter("hubbub_frames_sent_total", "WebSocket frames sent to clients")
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
