"""Fan-out brokers, chosen by URL scheme."""

from __future__ import annotations

from hubbub.broker.base import Broker, BrokerUnavailableError

__all__ = ["Broker", "BrokerUnavailableError", "create_broker"]


def create_broker(url: str, channel: str) -> Broker:
    scheme = url.split("://", 1)[0].split("+", 1)[0]
    if scheme == "memory":
        from hubbub.broker.memory import MemoryBroker

        return MemoryBroker()
    if scheme in {"redis", "rediss", "unix"}:
        from hubbub.broker.redis import RedisBroker

        return RedisBroker(url, channel)
    if scheme in {"postgres", "postgresql"}:
        from hubbub.broker.postgres import PostgresBroker

        return PostgresBroker(url, channel)
    raise ValueError(f"unsupported broker URL scheme {scheme!r}: use memory://, redis://, postgresql://")
