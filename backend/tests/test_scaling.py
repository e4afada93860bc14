"""Several server processes sharing one history through a real broker: Redis or PostgreSQL."""

from __future__ import annotations

import asyncio
import subprocess
import sys
from pathlib import Path

import httpx
import pytest

from tests.client import ChatClient
from tests.conftest import ServerFactory, fresh_database
from tests.services import HubbubServer


def pair(
    hubbub_server: ServerFactory, tmp_path: Path, env: dict[str, str]
) -> tuple[HubbubServer, HubbubServer]:
    shared = tmp_path / "shared"  # one SQLite history, as two workers of one machine share it
    return hubbub_server(env, data_dir=shared), hubbub_server(env, data_dir=shared)


async def exchange(a: HubbubServer, b: HubbubServer) -> None:
    alice = await ChatClient.open(f"{a.ws_url}/api/ws?name=alice")
    bob = await ChatClient.open(f"{b.ws_url}/api/ws?name=bob")
    await alice.join()
    joined = await bob.join()
    # Presence crosses workers.
    if "alice" not in joined["users"]:
        await bob.expect("presence", lambda f: "alice" in f["joined"])
    assert (await alice.expect("presence", lambda f: "bob" in f["joined"]))["left"] == []

    async def burst(client: ChatClient, prefix: str) -> None:
        for i in range(30):
            await client.say(f"{prefix}{i}")

    # Both workers publish at once, so each sees the other's messages interleaved with its own.
    await asyncio.gather(burst(alice, "a"), burst(bob, "b"))
    seen_by_alice = await alice.messages(60)
    seen_by_bob = await bob.messages(60)
    for seen in (seen_by_alice, seen_by_bob):
        assert [m["seq"] for m in seen] == list(range(1, 61))  # exactly once, in order
        assert sorted(m["body"] for m in seen) == sorted(
            [f"a{i}" for i in range(30)] + [f"b{i}" for i in range(30)]
        )
    assert [m["id"] for m in seen_by_alice] == [m["id"] for m in seen_by_bob]

    await bob.send(type="typing", room="general")
    assert (await alice.expect("typing"))["user"] == "bob"
    await bob.close()
    assert (await alice.expect("presence", lambda f: "bob" in f["left"]))["joined"] == []
    await alice.close()


async def test_two_workers_through_redis(
    hubbub_server: ServerFactory, tmp_path: Path, redis_url: str
) -> None:
    a, b = pair(hubbub_server, tmp_path, {"HUBBUB_REDIS_URL": redis_url})
    await exchange(a, b)


async def test_two_replicas_through_postgres(hubbub_server: ServerFactory, postgres_url: str) -> None:
    async with fresh_database(postgres_url) as url:
        env = {"HUBBUB_DATABASE_URL": url, "HUBBUB_BROKER_URL": url}
        a, b = hubbub_server(env), hubbub_server(env)
        await exchange(a, b)
        # A message over NOTIFY's 8000-byte limit travels as a reference and still arrives.
        alice = await ChatClient.open(f"{a.ws_url}/api/ws?name=alice")
        bob = await ChatClient.open(f"{b.ws_url}/api/ws?name=bob")
        await alice.join(after=60)
        await bob.join(after=60)
        await alice.say("é" * 5000)
        assert (await bob.messages(1))[0]["body"] == "é" * 5000
        for server in (a, b):
            server.stop()


async def test_plain_text_clients_on_different_workers(
    hubbub_server: ServerFactory, tmp_path: Path, redis_url: str
) -> None:
    from websockets.asyncio.client import connect

    a, b = pair(hubbub_server, tmp_path, {"HUBBUB_REDIS_URL": redis_url})
    async with connect(f"{a.ws_url}/ws/1") as one, connect(f"{b.ws_url}/ws/2") as two:
        # Both are in the room once their own first line comes back through the broker.
        for client, number in ((one, 1), (two, 2)):
            await client.send("ready")
            while await client.recv() != f"Client #{number} says: ready":
                pass
        await one.send("across")
        readiness = {"You wrote: ready", "Client #1 says: ready", "Client #2 says: ready"}
        while (line := await two.recv()) in readiness:  # one's "ready" may reach two, or not
            pass
        assert line == "Client #1 says: across"
        await one.close()
        assert await two.recv() == "Client #1 left the chat"


async def test_message_published_while_redis_down_is_recovered(
    hubbub_server: ServerFactory, tmp_path: Path, redis_proc: object, redis_url: str
) -> None:
    a, b = pair(hubbub_server, tmp_path, {"HUBBUB_REDIS_URL": redis_url})
    alice = await ChatClient.open(f"{a.ws_url}/api/ws?name=alice")
    bob = await ChatClient.open(f"{b.ws_url}/api/ws?name=bob")
    await alice.join()
    await bob.join()
    await alice.say("before")
    assert [m["body"] for m in await bob.messages(1)] == ["before"]

    redis_proc.stop()  # type: ignore[attr-defined]
    ack = await alice.say("while redis is down")  # stored: the ack says so
    assert ack["seq"] == 2
    assert httpx.get(f"{a.url}/readyz").status_code == 503
    redis_proc.start()  # type: ignore[attr-defined]
    # Each worker re-subscribes and resyncs its clients from the store: nothing lost, no dupes.
    got = await bob.messages(1, timeout=20)
    assert [m["body"] for m in got] == ["while redis is down"]
    assert [m["body"] for m in await alice.messages(2, timeout=20)] == ["before", "while redis is down"]
    await alice.say("after")
    await alice.say("marker")  # anything sent twice would come before it
    assert [m["seq"] for m in await bob.messages(2)] == [3, 4]


def test_memory_broker_refuses_several_workers(tmp_path: Path) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "hubbub.cli", "serve", "--workers", "2", "--port", "1"],
        env={"HUBBUB_DATA_DIR": str(tmp_path), "PATH": "/usr/bin:/bin"},
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )
    assert result.returncode != 0
    assert "HUBBUB_REDIS_URL" in result.stderr and "2 workers" in result.stderr


@pytest.mark.parametrize(
    ("env", "needle"),
    [
        ({"HUBBUB_AUTH": "token"}, "HUBBUB_TOKENS"),
        ({"HUBBUB_AUTH": "jwt"}, "HUBBUB_JWT_SECRET"),
        ({"HUBBUB_AUTH": "kerberos"}, "HUBBUB_AUTH"),
        ({"HUBBUB_ALLOWED_ORIGINS": "https://x.example"}, "JSON list"),
        ({"HUBBUB_MAX_MESSAGE_BYTES": "ten"}, "HUBBUB_MAX_MESSAGE_BYTES"),
        ({"HUBBUB_DEFAULT_ROOM": "Not A Room"}, "HUBBUB_DEFAULT_ROOM"),
    ],
)
def test_invalid_settings_fail_fast_and_clearly(tmp_path: Path, env: dict[str, str], needle: str) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "hubbub.cli", "serve", "--port", "1"],
        env={"HUBBUB_DATA_DIR": str(tmp_path), "PATH": "/usr/bin:/bin", **env},
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )
    assert result.returncode != 0
    assert "invalid configuration" in result.stderr and needle in result.stderr, result.stderr
