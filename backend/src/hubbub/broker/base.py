"""What every fan-out broker does; one module per implementation."""

from __future__ import annotations

from collections.abc import Callable
from typing import Protocol

PayloadHandler = Callable[[str], None]
ReconnectHandler = Callable[[], None]


class BrokerUnavailableError(RuntimeError):
    """The broker could not take the payload; subscribers did not get it from the broker."""


class Broker(Protocol):
    """Delivers every published payload to every started subscriber, this process included.

    Delivery is at-most-once: a payload published while a subscriber is disconnected is lost
    to it, and ``on_reconnect`` tells it to recover from the store.
    """

    #: Largest payload in bytes the broker carries; None for no limit.
    max_payload: int | None

    async def start(self, on_payload: PayloadHandler, on_reconnect: ReconnectHandler) -> None: ...
    async def publish(self, payload: str) -> None: ...
    async def ping(self) -> None: ...
    async def close(self) -> None: ...
