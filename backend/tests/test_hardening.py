"""Regression tests for what an attacker's try of the server found (docs/reliability.md,
"Tried as an attacker"), each over real sockets or HTTP against a running server."""

from __future__ import annotations

import asyncio
import contextlib
import sqlite3
from collections.abc import AsyncIterator

import asyncpg
import pytest
from websockets.asyncio.client import connect

from tests.client import ChatClient, closed
from tests.conftest import ServerFactory, fresh_database
from tests.services import HubbubServer, poison_messages


@contextlib.asynccontextmanager
async def write_lock(database_url: str) -> AsyncIterator[None]:
    """Hold the store's write lock for the default room, so that what is sent meanwhile piles
    up into one group-commit batch, which runs when the lock goes."""
    if database_url.startswith("sqlite:"):
        db = sqlite3.connect(database_url.split(":///", 1)[1], isolation_level=None)
        db.execute("BEGIN IMMEDIATE")
        try:
            yield
        finally:
            db.execute("ROLLBACK")
            db.close()
        return
    conn = await asyncpg.connect(database_url)
    try:
        async with conn.transaction():
            await conn.execute("SELECT 1 FROM hubbub_rooms WHERE name = 'general' FOR UPDATE")
            yield
    finally:
        await conn.close()


@pytest.fixture(params=["sqlite", "postgres"])
async def database_env(request: pytest.FixtureRequest) -> AsyncIterator[dict[str, str]]:
    """The server's store: SQLite in its data dir, or a fresh PostgreSQL database."""
    if request.param == "sqlite":
        yield {}
        return
    async with fresh_database(request.getfixturevalue("postgres_url")) as url:
        yield {"HUBBUB_DATABASE_URL": url}


async def test_a_message_the_store_refuses_fails_only_its_sender(
    hubbub_server: ServerFactory, database_env: dict[str, str]
) -> None:
    server = hubbub_server(database_env)
    database_url = database_env.get("HUBBUB_DATABASE_URL", f"sqlite:///{server.data_dir / 'hubbub.db'}")
    await poison_messages(database_url, "poison")

    watcher = await ChatClient.open(f"{server.ws_url}/api/ws?name=watcher")
    await watcher.join()
    senders = {name: await ChatClient.open(f"{server.ws_url}/api/ws?name={name}") for name in "abc"}
    for sender in senders.values():
        await sender.join()
    async with connect(f"{server.ws_url}/ws/7") as poisoner, connect(f"{server.ws_url}/ws/8") as plain:
        async with write_lock(database_url):
            await senders["a"].send(type="send", room="general", body="first", client_msg_id="a1")
            await asyncio.sleep(0.3)  # the first batch is now waiting for the lock
            await senders["b"].send(type="send", room="general", body="poison", client_msg_id="b1")
            await poisoner.send("poison")
            await senders["c"].send(type="send", room="general", body="good", client_msg_id="c1")
            await plain.send("fine")
            await asyncio.sleep(0.5)  # all four wait in the next batch
        assert (await senders["a"].expect("ack"))["seq"] == 1
        refused = await senders["b"].expect("error")
        assert (refused["code"], refused["ref"]) == ("message_rejected", "b1")
        assert (await senders["c"].expect("ack"))["client_msg_id"] == "c1"
        # The plain-text sender cannot read an error: its own socket closes, no one else's.
        assert (await closed(poisoner))[0] == 1011
        lines = [await asyncio.wait_for(plain.recv(), 10) for _ in range(4)]
        assert "Client #8 says: fine" in lines and "Client #c says: good" in lines

    bodies = [m["body"] for m in await watcher.messages(3)]
    assert bodies == ["first", "good", "fine"]
    # The refused sender's connection lives on, and sequence numbers have no gap.
    ack = await senders["b"].say("something else")
    assert ack["seq"] == 4


async def test_client_id_beyond_64_bits_is_refused_at_the_handshake(server: HubbubServer) -> None:
    for client_id in ("99999999999999999999", str(2**63), str(-(2**63) - 1)):
        async with connect(f"{server.ws_url}/ws/{client_id}") as ws:
            assert (await closed(ws))[0] == 1008
    async with connect(f"{server.ws_url}/ws/{2**63 - 1}") as ws:
        await ws.send("largest")
        assert await ws.recv() == "You wrote: largest"
