"""One contract, every broker: in-process memory, a real Redis, a real PostgreSQL."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable

import pytest

from hubbub.broker import Broker, create_broker

BrokerFactory = Callable[[], Broker]


@pytest.fixture(params=["memory", "redis", "postgres"])
async def make_broker(request: pytest.FixtureRequest) -> AsyncIterator[BrokerFactory]:
    if request.param == "memory":
        url = "memory://"
    elif request.param == "redis":
        url = request.getfixturevalue("redis_url")
    else:
        url = request.getfixturevalue("postgres_url")
    made: list[Broker] = []

    def make() -> Broker:
        broker = create_broker(url, "hubbub-test")
        made.append(broker)
        return broker

    make.kind = request.param  # type: ignore[attr-defined]
    yield make
    for broker in made:
        await broker.close()


class Inbox:
    def __init__(self) -> None:
        self.payloads: list[str] = []
        self.reconnects = 0
        self._arrived = asyncio.Event()

    def on_payload(self, payload: str) -> None:
        self.payloads.append(payload)
        self._arrived.set()

    def on_reconnect(self) -> None:
        self.reconnects += 1

    async def wait_for(self, count: int, timeout: float = 5) -> list[str]:
        async with asyncio.timeout(timeout):
            while len(self.payloads) < count:
                self._arrived.clear()
                await self._arrived.wait()
        return self.payloads


async def test_publish_reaches_own_subscriber_in_order(make_broker: BrokerFactory) -> None:
    broker, inbox = make_broker(), Inbox()
    await broker.start(inbox.on_payload, inbox.on_reconnect)
    await broker.ping()
    sent = [f'M{{"n":{i},"text":"ünïcødé"}}' for i in range(200)]
    for payload in sent:
        await broker.publish(payload)
    assert await inbox.wait_for(200) == sent


async def test_payload_up_to_the_advertised_limit(make_broker: BrokerFactory) -> None:
    broker, inbox = make_broker(), Inbox()
    await broker.start(inbox.on_payload, inbox.on_reconnect)
    size = broker.max_payload or 64 * 1024
    payload = "x" * size
    await broker.publish(payload)
    assert await inbox.wait_for(1) == [payload]


async def test_two_subscribers_see_each_others_payloads(make_broker: BrokerFactory) -> None:
    if make_broker.kind == "memory":  # type: ignore[attr-defined]
        pytest.skip("the memory broker is one process by definition")
    a, b = make_broker(), make_broker()
    inbox_a, inbox_b = Inbox(), Inbox()
    await a.start(inbox_a.on_payload, inbox_a.on_reconnect)
    await b.start(inbox_b.on_payload, inbox_b.on_reconnect)
    await a.publish("from a")
    await b.publish("from b")
    assert sorted(await inbox_a.wait_for(2)) == ["from a", "from b"]
    assert sorted(await inbox_b.wait_for(2)) == ["from a", "from b"]


async def test_redis_restart_resubscribes_and_reports_reconnect(redis_proc: object, redis_url: str) -> None:
    broker, inbox = create_broker(redis_url, "hubbub-test"), Inbox()
    await broker.start(inbox.on_payload, inbox.on_reconnect)
    try:
        await broker.publish("before")
        await inbox.wait_for(1)
        redis_proc.stop()  # type: ignore[attr-defined]
        with pytest.raises(Exception, match="redis"):
            await broker.publish("while down")
        redis_proc.start()  # type: ignore[attr-defined]
        async with asyncio.timeout(15):
            while inbox.reconnects == 0:
                await asyncio.sleep(0.05)
        await broker.publish("after")
        assert (await inbox.wait_for(2))[-1] == "after"
        await broker.ping()
    finally:
        await broker.close()
