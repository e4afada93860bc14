"""The schema's migrations on both databases: databases made by the releases before Alembic
(tests/fixtures/, made by make_legacy.py) are adopted and upgraded with nothing lost; a new
database and an upgraded one end up the same; a failed migration changes nothing; workers
starting at once migrate once; a server given a database newer than it knows refuses to start."""

from __future__ import annotations

import asyncio
import fcntl
import os
import sqlite3
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import asyncpg
import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import Connection, create_engine, inspect
from sqlalchemy.ext.asyncio import create_async_engine

from hubbub.model import Draft, NewRoom, React, Reaction
from hubbub.search.query import parse
from hubbub.search.terms import KIND, PUBLIC_KIND, grams, meta_terms
from hubbub.store import Store, create_store
from hubbub.store import schema as store_schema
from hubbub.store.postgres import async_url
from hubbub.store.search.fts5 import token
from hubbub.store.tables import TERMS_TABLE, described, metadata
from tests.conftest import ServerFactory, fresh_database
from tests.fixtures import make_legacy
from tests.services import hubbub_cli, wait_for

FIXTURES = Path(__file__).resolve().parent / "fixtures"


@pytest.fixture(params=["sqlite", "postgres"])
async def database(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[str]:
    """An empty database: its URL."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'hubbub.db'}"
        return
    async with fresh_database(request.getfixturevalue("postgres_url")) as url:
        yield url


async def execute(url: str, sql: str) -> None:
    """Run SQL as an operator (or an old Hubbub) would, outside the store."""
    if url.startswith("sqlite:"):
        db = sqlite3.connect(url.split(":///", 1)[1])
        db.executescript(sql)
        db.close()
        return
    conn = await asyncpg.connect(url)
    try:
        await conn.execute(sql)
    finally:
        await conn.close()


async def load_legacy(url: str, version: int) -> None:
    dialect = "sqlite" if url.startswith("sqlite:") else "postgres"
    await execute(url, (FIXTURES / f"legacy-v{version}.{dialect}.sql").read_text())


async def inspected(url: str, look: Callable[[Connection], Any]) -> Any:
    """What ``look`` finds on a plain SQLAlchemy connection to the database."""
    if url.startswith("sqlite:"):
        engine = create_engine(url)
        try:
            with engine.connect() as conn:
                return look(conn)
        finally:
            engine.dispose()
    async_engine = create_async_engine(async_url(url))
    try:
        async with async_engine.connect() as async_conn:
            return await async_conn.run_sync(look)
    finally:
        await async_engine.dispose()


def describe(conn: Connection) -> dict[str, Any]:
    """Every table's columns (name, type, null, default), keys, indexes and references."""
    found = inspect(conn)
    tables: dict[str, Any] = {}
    for table in sorted(found.get_table_names()):
        key = found.get_pk_constraint(table)["constrained_columns"]
        # SQLite lets a TEXT PRIMARY KEY hold NULL unless it says NOT NULL: the first
        # release's tables did not say it, Alembic's do. Nothing ever writes a NULL key.
        columns = [
            (
                c["name"],
                str(c["type"]),
                c["nullable"] and c["name"] not in key,
                str(c.get("default")).strip("()"),
            )
            for c in found.get_columns(table)
        ]
        indexes = sorted(
            (
                i["name"],
                tuple(i["column_names"]),
                bool(i["unique"]),
                str(sorted((k, str(v)) for k, v in i.get("dialect_options", {}).items())),
            )
            for i in found.get_indexes(table)
        )
        tables[table] = {
            "columns": columns,
            "key": key,
            "indexes": indexes,
            "unique": sorted(tuple(u["column_names"]) for u in found.get_unique_constraints(table)),
            "references": sorted(
                (tuple(f["constrained_columns"]), f["referred_table"], tuple(f["referred_columns"]))
                for f in found.get_foreign_keys(table)
            ),
        }
    return tables


async def dump(url: str) -> dict[str, Any]:
    """The database's schema and every row of it, to tell whether anything changed."""

    def look(conn: Connection) -> dict[str, Any]:
        # SQLite's FTS5 table cannot be scanned; its shadow tables (..._data, ...) hold its rows.
        fts5 = {TERMS_TABLE} if conn.dialect.name == "sqlite" else set()
        rows = {
            table: sorted(map(repr, conn.exec_driver_sql(f'SELECT * FROM "{table}"').all()))  # noqa: S608
            for table in inspect(conn).get_table_names()
            if table not in fts5
        }
        version = (
            conn.exec_driver_sql("PRAGMA user_version").scalar() if conn.dialect.name == "sqlite" else None
        )
        return {"schema": describe(conn), "rows": rows, "user_version": version}

    result: dict[str, Any] = await inspected(url, look)
    return result


async def started(url: str) -> Store:
    store = create_store(url)
    await store.start()
    return store


def test_the_fixtures_are_what_their_script_writes() -> None:
    for name, (dialect, version) in make_legacy.FIXTURES.items():
        assert (FIXTURES / name).read_text() == make_legacy.script(dialect, version), name


async def test_the_first_release_upgrades_with_nothing_lost(database: str) -> None:
    await load_legacy(database, 0)
    store = await started(database)
    try:
        rooms = await store.rooms_for(None)
        assert [(r.name, r.head, r.visibility) for r in rooms] == [
            ("general", 3, "public"),
            ("quiet", 0, "public"),
            ("random", 1, "public"),
        ]
        history = await store.after("general", 0, 10)
        assert [(m.seq, m.id, m.author, m.body, m.client_id) for m in history] == [
            (1, "m1", "ada", "hello", None),
            (2, "m2", "Client #5", "from the tutorial", 5),
            (3, "m3", "bob", "it's me", None),
        ]
        assert all(m.mentions == () and m.reactions == () and not m.deleted for m in history)
        # Whoever posted is a member, and has read what was there: no badge lights up.
        assert [m.user for m in await store.members("general")] == ["Client #5", "ada", "bob"]
        assert [m.user for m in await store.members("random")] == ["bob"]
        ada = {r.name: r for r in await store.rooms_for("ada")}
        assert (ada["general"].role, ada["general"].last_read, ada["general"].unread) == ("member", 3, 0)
        assert await store.known_users(["ada", "bob", "carol"]) == {"ada", "bob"}
        # A retry of a message sent before the upgrade is still that message.
        (again,) = await store.append_many([Draft("general", "ada", "hello", client_msg_id="c1")])
        assert not isinstance(again, Exception) and again == (history[0], False)
        (new,) = await store.append_many([Draft("general", "bob", "after the upgrade")])
        assert not isinstance(new, Exception) and new[0].seq == 4
        session = await store.get_session("s-live")
        assert session is not None and (session.user, session.credential, session.admin) == (
            "ada",
            None,
            False,
        )
        assert await store.get_session("s-gone") is None
    finally:
        await store.close()


@pytest.mark.parametrize("version", [1, 2, 3])
async def test_every_schema_in_between_upgrades_with_nothing_lost(database: str, version: int) -> None:
    await load_legacy(database, version)
    store = await started(database)
    try:
        history = await store.after("general", 0, 10)
        assert [(m.seq, m.id, m.author, m.body, m.client_id) for m in history] == [
            (1, "m1", "ada", "hello", None),
            (2, "m2", "Client #5", "from the tutorial", 5),
            (3, "m3", "bob", "@ada it's me", None),
        ]
        assert history[2].mentions == (("ada",) if version >= 3 else ())
        random = await store.room("random", "bob")
        assert random is not None
        assert (random.visibility, random.owner, random.role) == (
            "private" if version >= 2 else "public",
            "bob",
            "owner",
        )
        session = await store.get_session("s-live")
        assert session is not None and (session.credential, session.admin) == ("token:abc", version >= 2)
        assert await store.get_session("s-gone") is None
        (new,) = await store.append_many([Draft("general", "bob", "after the upgrade")])
        assert not isinstance(new, Exception) and new[0].seq == 4
    finally:
        await store.close()


async def test_the_last_schema_before_alembic_upgrades_with_nothing_lost(database: str) -> None:
    await load_legacy(database, 4)
    store = await started(database)
    try:
        listed = {r.name: r for r in await store.rooms_for("carol")}
        assert set(listed) == {"general", "secret", "dm-0123456789abcdef01234567"}  # "old" is archived
        assert (listed["secret"].visibility, listed["secret"].owner, listed["secret"].role) == (
            "private",
            "ada",
            "member",
        )
        assert (listed["secret"].unread, listed["secret"].mentions) == (1, 1)  # ada's @room
        bob = {r.name: r for r in await store.rooms_for("bob", archived=True)}
        assert (bob["general"].last_read, bob["general"].unread) == (1, 1)
        assert (bob["old"].archived, bob["old"].topic) == (True, "gone quiet")
        dm = await store.find_dm("ada\ncarol", "ada")
        assert dm is not None and dm.members == ("ada", "carol")
        assert [(m.user, m.role) for m in await store.members("secret")] == [
            ("ada", "owner"),
            ("carol", "member"),
        ]

        first, tombstone, mention = await store.after("general", 0, 10)
        assert (first.body, first.edited_at, first.change) == ("hello, edited", 2500, 3)
        assert first.reactions == (Reaction("👍", 2, ("bob", "carol")),)
        assert (tombstone.deleted, tombstone.bot, tombstone.body) == (True, True, "")
        assert mention.mentions == ("ada",)
        assert await store.room_changes("general") == 3
        # The change feed goes on from there; a new reaction comes after the old ones.
        changed = await store.change_message("general", "m1", React("ada", "👍", True))
        assert changed is not None and changed.change == 4
        assert changed.reactions == (Reaction("👍", 3, ("bob", "carol", "ada")),)
        assert [m.seq for m in await store.changed_since("general", 2, 0, 10)] == [1]

        assert await store.bot_for_token("hash-live") == "deploybot"
        assert await store.bot_for_token("hash-revoked") is None
        assert await store.bots() == [("deploybot", False), ("oldbot", True)]
        session = await store.get_session("s-live")
        assert session is not None and (session.credential, session.admin) == ("token:abc", True)
        assert await store.known_users(["dave", "erin"]) == {"dave"}
    finally:
        await store.close()


async def indexed_as_under_0013(url: str) -> None:
    """Put back the index as 0013's code made it (each document's terms unscoped: its grams,
    its author and room, its kinds, "public" among them), and the version with it."""
    rows = [
        (int(i), author, room, kinds.split(), folded)
        for i, author, room, kinds, folded in await inspected(
            url,
            lambda conn: conn.exec_driver_sql(
                "SELECT id, author, room, kinds, folded FROM hubbub_search_docs"
            ).all(),
        )
    ]
    assert rows
    old = {
        i: sorted(grams(folded) | {*meta_terms(author, room, tuple(kinds))} | {KIND + k for k in kinds})
        for i, author, room, kinds, folded in rows
    }
    assert any(KIND + PUBLIC_KIND in terms for terms in old.values())
    if url.startswith("sqlite:"):
        db = sqlite3.connect(url.split(":///", 1)[1])
        with db:
            db.execute(f"INSERT INTO {TERMS_TABLE} ({TERMS_TABLE}) VALUES ('delete-all')")  # noqa: S608
            db.executemany(
                f"INSERT INTO {TERMS_TABLE} (rowid, terms) VALUES (?, ?)",  # noqa: S608
                [(i, " ".join(map(token, terms))) for i, terms in old.items()],
            )
            db.execute("UPDATE hubbub_alembic_version SET version_num = '0013'")
        db.close()
        return
    conn = await asyncpg.connect(url)
    try:
        async with conn.transaction():
            await conn.execute(f"TRUNCATE {TERMS_TABLE}")
            await conn.executemany(
                f"INSERT INTO {TERMS_TABLE} (id, terms) VALUES ($1, $2)",  # noqa: S608
                list(old.items()),
            )
            await conn.execute("UPDATE hubbub_alembic_version SET version_num = '0013'")
    finally:
        await conn.close()


async def test_a_database_indexed_under_0013_is_searched_after_the_upgrade(database: str) -> None:
    """0014 scoped every term of the index: it empties the index, and the server builds it
    again the new way (a search catches up on the rooms it reads meanwhile). Left as 0013 made
    it (every room indexed, no scoped term), the index would find nothing."""
    store = await started(database)
    try:
        await store.ensure_room("hall")
        await store.add_members("hall", ["ada", "bob"])
        await store.create_room(NewRoom("den", "private", "ada", ("ada",)))
        for room, body in [("hall", "lanterns in the hall"), ("den", "lanterns in the den")]:
            (stored,) = await store.append_many([Draft(room, "ada", body)])
            assert not isinstance(stored, Exception)
        await store.follow_index(None, 100)
    finally:
        await store.close()
    await indexed_as_under_0013(database)
    upgraded = await started(database)
    try:
        version = await inspected(database, store_schema.version)
        assert version.up_to_date and version.current == store_schema.head()
        found = await upgraded.search("ada", parse("lanterns"), None, 10)
        assert sorted(m.body for m in found.messages) == ["lanterns in the den", "lanterns in the hall"]
        found = await upgraded.search("bob", parse("lanterns"), None, 10)
        assert [m.body for m in found.messages] == ["lanterns in the hall"]
        assert await upgraded.follow_index(None, 100) == 0
    finally:
        await upgraded.close()


@pytest.mark.parametrize("version", range(5))
async def test_a_new_database_and_an_upgraded_one_are_the_same(
    database: str, request: pytest.FixtureRequest, tmp_path: Path, version: int
) -> None:
    store = await started(database)
    await store.close()
    fresh = await inspected(database, describe)
    if database.startswith("sqlite:"):
        upgraded_url = f"sqlite:///{tmp_path / 'upgraded.db'}"
        await load_legacy(upgraded_url, version)
        await (await started(upgraded_url)).close()
        assert await inspected(upgraded_url, describe) == fresh
        return
    async with fresh_database(request.getfixturevalue("postgres_url")) as upgraded_url:
        await load_legacy(upgraded_url, version)
        await (await started(upgraded_url)).close()
        assert await inspected(upgraded_url, describe) == fresh


async def test_the_tables_describe_what_the_migrations_make(database: str) -> None:
    """store/tables.py is what the queries are written against: it must say what is there."""
    await (await started(database)).close()

    def differences(conn: Connection) -> list[Any]:
        opts = {"version_table": store_schema.VERSION_TABLE, "include_name": described}
        context = MigrationContext.configure(conn, opts=opts)
        return list(compare_metadata(context, metadata))

    assert await inspected(database, differences) == []


async def test_a_failed_migration_leaves_the_database_as_it_was(database: str) -> None:
    await load_legacy(database, 0)
    # Something in the way of migration 0002: a table of the name it makes.
    await execute(
        database, "CREATE TABLE hubbub_users (name TEXT PRIMARY KEY); INSERT INTO hubbub_users VALUES ('x')"
    )
    before = await dump(database)
    store = create_store(database)
    with pytest.raises(Exception, match="hubbub_users"):
        await store.start()
    await store.close()
    assert await dump(database) == before
    # Out of the way, the same database upgrades.
    await execute(database, "DROP TABLE hubbub_users")
    store = await started(database)
    try:
        assert [m.body for m in await store.after("general", 0, 10)] == [
            "hello",
            "from the tutorial",
            "it's me",
        ]
    finally:
        await store.close()


async def test_workers_starting_at_once_migrate_once(database: str) -> None:
    await load_legacy(database, 0)
    stores = [create_store(database) for _ in range(4)]
    await asyncio.gather(*(store.start() for store in stores))
    try:
        heads = await asyncio.gather(*(store.room("general") for store in stores))
        assert {room.head for room in heads if room is not None} == {3}
        version = await inspected(database, store_schema.version)
        assert version.up_to_date and version.current == store_schema.head()
    finally:
        for store in stores:
            await store.close()


async def test_a_server_refuses_a_database_newer_than_it_knows(
    hubbub_server: ServerFactory, database: str, tmp_path: Path
) -> None:
    data = tmp_path / "data"
    url = database if database.startswith("postgres") else f"sqlite:///{data / 'hubbub.db'}"
    env = {"HUBBUB_DATABASE_URL": url}
    await (await started(url)).close()
    await execute(url, "UPDATE hubbub_alembic_version SET version_num = '9999_from_the_future'")
    before = await dump(url)
    server = hubbub_server(env, data_dir=data, wait=False)
    assert server.proc is not None
    wait_for(lambda: server.proc is not None and server.proc.poll() is not None, 60, "the server to give up")
    assert server.proc.returncode != 0
    assert "'9999_from_the_future', which this Hubbub does not know" in server.log()
    assert "upgraded by a newer Hubbub" in server.log()
    assert await dump(url) == before  # an older Hubbub changed nothing
    migrated = hubbub_cli(tmp_path, "migrate", **env)
    assert migrated.returncode != 0 and "which this Hubbub does not know" in migrated.stderr
    assert await dump(url) == before


async def test_the_version_and_migrate_commands(database: str, tmp_path: Path) -> None:
    env = {"HUBBUB_DATABASE_URL": database}
    await load_legacy(database, 4)
    before = hubbub_cli(tmp_path, "db-version", **env)
    assert before.returncode == 0, before.stderr
    assert before.stdout.split() == ["0004", "(this", "Hubbub:", store_schema.head() + ")"]
    migrated = hubbub_cli(tmp_path, "migrate", **env)
    assert migrated.returncode == 0, migrated.stderr
    after = hubbub_cli(tmp_path, "db-version", **env)
    assert after.stdout.split()[0] == store_schema.head()


async def test_a_worker_opens_the_database_only_when_no_other_is_opening_it(tmp_path: Path) -> None:
    """The kernel lock beside the file is what lets workers start at once: while another
    process holds it, a store waits rather than meeting a half-converted database."""
    database = f"sqlite:///{tmp_path / 'hubbub.db'}"
    await load_legacy(database, 0)
    fd = os.open(tmp_path / "hubbub.db-open.lock", os.O_RDWR | os.O_CREAT, 0o600)
    fcntl.flock(fd, fcntl.LOCK_EX)
    store = create_store(database)
    starting = asyncio.ensure_future(store.start())
    try:
        # Only a broken lock can end this early; a slow machine only waits longer.
        done, _ = await asyncio.wait([starting], timeout=1)
        assert not done
        version = await inspected(database, store_schema.version)
        assert not version.up_to_date  # nothing migrated while another holds the lock
    finally:
        os.close(fd)
        await starting
        await store.close()
    version = await inspected(database, store_schema.version)
    assert version.up_to_date
