"""In-process broker: the default for a single worker. Delivery is a function call."""

from __future__ import annotations

from hubbub.broker.base import PayloadHandler, ReconnectHandler


class MemoryBroker:
    max_payload: int | None = None

    def __init__(self) -> None:
        self._handler: PayloadHandler | None = None

    async def start(self, on_payload: PayloadHandler, on_reconnect: ReconnectHandler) -> None:
        self._handler = on_payload

    async def publish(self, payload: str) -> None:
        if self._handler is not None:
            self._handler(payload)

    async def ping(self) -> None:
        return None

    async def close(self) -> None:
        self._handler = None
