"""The PostgreSQL store's tables, and how a database made by an earlier Hubbub is brought up to
date: as for SQLite (sqlite_schema.py), with the version in hubbub_schema."""

from __future__ import annotations

from typing import Any

BASELINE = """
CREATE TABLE IF NOT EXISTS hubbub_rooms (
    name TEXT PRIMARY KEY,
    head BIGINT NOT NULL DEFAULT 0,
    created_at BIGINT NOT NULL
);
CREATE TABLE IF NOT EXISTS hubbub_messages (
    room TEXT NOT NULL REFERENCES hubbub_rooms(name),
    seq BIGINT NOT NULL,
    id TEXT NOT NULL UNIQUE,
    author TEXT NOT NULL,
    body TEXT NOT NULL,
    ts BIGINT NOT NULL,
    client_msg_id TEXT,
    client_id BIGINT,
    PRIMARY KEY (room, seq)
);
CREATE UNIQUE INDEX IF NOT EXISTS hubbub_messages_idempotency
    ON hubbub_messages (room, author, client_msg_id) WHERE client_msg_id IS NOT NULL;
CREATE TABLE IF NOT EXISTS hubbub_sessions (
    id TEXT PRIMARY KEY,
    "user" TEXT NOT NULL,
    expires_at DOUBLE PRECISION NOT NULL
);
CREATE TABLE IF NOT EXISTS hubbub_schema (version INTEGER NOT NULL);
"""

MIGRATIONS: list[list[str]] = [
    [  # 1: a session knows the credential it was made from; a room, who created it
        "ALTER TABLE hubbub_sessions ADD COLUMN credential TEXT",
        "ALTER TABLE hubbub_rooms ADD COLUMN created_by TEXT",
        "CREATE INDEX hubbub_rooms_created_by ON hubbub_rooms (created_by)",
    ],
    [  # 2: rooms people can trust: visibility, topic, archive, members, known users, admins
        "ALTER TABLE hubbub_rooms ADD COLUMN visibility TEXT NOT NULL DEFAULT 'public'",
        "ALTER TABLE hubbub_rooms ADD COLUMN topic TEXT NOT NULL DEFAULT ''",
        "ALTER TABLE hubbub_rooms ADD COLUMN archived BOOLEAN NOT NULL DEFAULT false",
        "ALTER TABLE hubbub_rooms ADD COLUMN dm_key TEXT",
        "CREATE UNIQUE INDEX hubbub_rooms_dm_key ON hubbub_rooms (dm_key) WHERE dm_key IS NOT NULL",
        """CREATE TABLE hubbub_members (
            room TEXT NOT NULL REFERENCES hubbub_rooms(name),
            "user" TEXT NOT NULL,
            role TEXT NOT NULL DEFAULT 'member',
            joined_at BIGINT NOT NULL,
            PRIMARY KEY (room, "user")
        )""",
        'CREATE INDEX hubbub_members_user ON hubbub_members ("user")',
        "CREATE TABLE hubbub_users (name TEXT PRIMARY KEY, seen_at BIGINT NOT NULL)",
        # Existing rooms stay public (the default above); whoever has posted in one is a member.
        'INSERT INTO hubbub_members (room, "user", role, joined_at) '
        "SELECT room, author, 'member', min(ts) FROM hubbub_messages GROUP BY room, author",
        "UPDATE hubbub_members m SET role = 'owner' FROM hubbub_rooms r "
        'WHERE r.name = m.room AND r.created_by = m."user"',
        "INSERT INTO hubbub_users (name, seen_at) "
        "SELECT author, max(ts) FROM hubbub_messages GROUP BY author",
        "ALTER TABLE hubbub_sessions ADD COLUMN admin BOOLEAN NOT NULL DEFAULT false",
    ],
    [  # 3: unread and mentions: each member's read position, each message's mentions
        "ALTER TABLE hubbub_members ADD COLUMN last_read BIGINT NOT NULL DEFAULT 0",
        # What was there before counts as read: an upgrade does not light every badge.
        "UPDATE hubbub_members m SET last_read = r.head FROM hubbub_rooms r WHERE r.name = m.room",
        "ALTER TABLE hubbub_messages ADD COLUMN mentions TEXT NOT NULL DEFAULT '[]'",
        """CREATE TABLE hubbub_mentions (
            "user" TEXT NOT NULL,
            room TEXT NOT NULL,
            seq BIGINT NOT NULL,
            PRIMARY KEY ("user", room, seq)
        )""",
    ],
    [  # 4: messages that live: edits, tombstones, reactions, a change feed per room; bots
        "ALTER TABLE hubbub_messages ADD COLUMN bot BOOLEAN NOT NULL DEFAULT false",
        "ALTER TABLE hubbub_messages ADD COLUMN edited_at BIGINT",
        "ALTER TABLE hubbub_messages ADD COLUMN deleted BOOLEAN NOT NULL DEFAULT false",
        "ALTER TABLE hubbub_messages ADD COLUMN reactions TEXT NOT NULL DEFAULT '[]'",
        "ALTER TABLE hubbub_messages ADD COLUMN change_seq BIGINT NOT NULL DEFAULT 0",
        "CREATE INDEX hubbub_messages_changes ON hubbub_messages (room, change_seq) WHERE change_seq > 0",
        "ALTER TABLE hubbub_rooms ADD COLUMN change_head BIGINT NOT NULL DEFAULT 0",
        """CREATE TABLE hubbub_reactions (
            room TEXT NOT NULL,
            seq BIGINT NOT NULL,
            emoji TEXT NOT NULL,
            "user" TEXT NOT NULL,
            at BIGINT NOT NULL,
            PRIMARY KEY (room, seq, emoji, "user")
        )""",
        """CREATE TABLE hubbub_bots (
            name TEXT PRIMARY KEY,
            token_hash TEXT NOT NULL UNIQUE,
            created_at BIGINT NOT NULL,
            revoked_at BIGINT
        )""",
    ],
]

# Several workers may start at once; this advisory lock lets one of them migrate at a time.
LOCK = 4242001


async def migrate(conn: Any) -> int:
    """Bring the database up to date inside the caller's transaction; returns its version."""
    await conn.execute("SELECT pg_advisory_xact_lock($1)", LOCK)
    await conn.execute(BASELINE)
    version = await conn.fetchval("SELECT version FROM hubbub_schema")
    if version is None:
        version = 0
        await conn.execute("INSERT INTO hubbub_schema (version) VALUES (0)")
    for statements in MIGRATIONS[version:]:
        for statement in statements:
            await conn.execute(statement)
    if version < len(MIGRATIONS):
        await conn.execute("UPDATE hubbub_schema SET version = $1", len(MIGRATIONS))
    return len(MIGRATIONS)
