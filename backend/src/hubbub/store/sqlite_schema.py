"""The SQLite store's tables, and how a database made by an earlier Hubbub is brought up to date.

BASELINE is the schema as the first release made it; each migration after it runs once, in
order, in one transaction with the others, and `PRAGMA user_version` counts them. A new
database is made the same way as an old one is upgraded, so the two cannot drift apart.
"""

from __future__ import annotations

import sqlite3

BASELINE = """
CREATE TABLE IF NOT EXISTS rooms (
    name TEXT PRIMARY KEY,
    head INTEGER NOT NULL DEFAULT 0,
    created_at INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS messages (
    room TEXT NOT NULL REFERENCES rooms(name),
    seq INTEGER NOT NULL,
    id TEXT NOT NULL UNIQUE,
    author TEXT NOT NULL,
    body TEXT NOT NULL,
    ts INTEGER NOT NULL,
    client_msg_id TEXT,
    client_id INTEGER,
    PRIMARY KEY (room, seq)
);
CREATE UNIQUE INDEX IF NOT EXISTS messages_idempotency
    ON messages (room, author, client_msg_id) WHERE client_msg_id IS NOT NULL;
CREATE TABLE IF NOT EXISTS sessions (
    id TEXT PRIMARY KEY,
    user TEXT NOT NULL,
    expires_at REAL NOT NULL
);
"""

MIGRATIONS: list[list[str]] = [
    [  # 1: a session knows the credential it was made from; a room, who created it
        "ALTER TABLE sessions ADD COLUMN credential TEXT",
        "ALTER TABLE rooms ADD COLUMN created_by TEXT",
        "CREATE INDEX rooms_created_by ON rooms (created_by)",
    ],
    [  # 2: rooms people can trust: visibility, topic, archive, members, known users, admins
        "ALTER TABLE rooms ADD COLUMN visibility TEXT NOT NULL DEFAULT 'public'",
        "ALTER TABLE rooms ADD COLUMN topic TEXT NOT NULL DEFAULT ''",
        "ALTER TABLE rooms ADD COLUMN archived INTEGER NOT NULL DEFAULT 0",
        "ALTER TABLE rooms ADD COLUMN dm_key TEXT",
        "CREATE UNIQUE INDEX rooms_dm_key ON rooms (dm_key) WHERE dm_key IS NOT NULL",
        """CREATE TABLE members (
            room TEXT NOT NULL REFERENCES rooms(name),
            user TEXT NOT NULL,
            role TEXT NOT NULL DEFAULT 'member',
            joined_at INTEGER NOT NULL,
            PRIMARY KEY (room, user)
        )""",
        "CREATE INDEX members_user ON members (user)",
        "CREATE TABLE users (name TEXT PRIMARY KEY, seen_at INTEGER NOT NULL)",
        # Existing rooms stay public (the default above); whoever has posted in one is a member.
        "INSERT INTO members (room, user, role, joined_at) "
        "SELECT room, author, 'member', min(ts) FROM messages GROUP BY room, author",
        "UPDATE members SET role = 'owner' WHERE EXISTS "
        "(SELECT 1 FROM rooms WHERE rooms.name = members.room AND rooms.created_by = members.user)",
        "INSERT INTO users (name, seen_at) SELECT author, max(ts) FROM messages GROUP BY author",
        "ALTER TABLE sessions ADD COLUMN admin INTEGER NOT NULL DEFAULT 0",
    ],
    [  # 3: unread and mentions: each member's read position, each message's mentions
        "ALTER TABLE members ADD COLUMN last_read INTEGER NOT NULL DEFAULT 0",
        # What was there before counts as read: an upgrade does not light every badge.
        "UPDATE members SET last_read = (SELECT head FROM rooms WHERE rooms.name = members.room)",
        "ALTER TABLE messages ADD COLUMN mentions TEXT NOT NULL DEFAULT '[]'",
        """CREATE TABLE mentions (
            user TEXT NOT NULL,
            room TEXT NOT NULL,
            seq INTEGER NOT NULL,
            PRIMARY KEY (user, room, seq)
        )""",
    ],
    [  # 4: messages that live: edits, tombstones, reactions, a change feed per room; bots
        "ALTER TABLE messages ADD COLUMN bot INTEGER NOT NULL DEFAULT 0",
        "ALTER TABLE messages ADD COLUMN edited_at INTEGER",
        "ALTER TABLE messages ADD COLUMN deleted INTEGER NOT NULL DEFAULT 0",
        "ALTER TABLE messages ADD COLUMN reactions TEXT NOT NULL DEFAULT '[]'",
        "ALTER TABLE messages ADD COLUMN change_seq INTEGER NOT NULL DEFAULT 0",
        "CREATE INDEX messages_changes ON messages (room, change_seq) WHERE change_seq > 0",
        "ALTER TABLE rooms ADD COLUMN change_head INTEGER NOT NULL DEFAULT 0",
        """CREATE TABLE reactions (
            room TEXT NOT NULL,
            seq INTEGER NOT NULL,
            emoji TEXT NOT NULL,
            user TEXT NOT NULL,
            at INTEGER NOT NULL,
            PRIMARY KEY (room, seq, emoji, user)
        )""",
        """CREATE TABLE bots (
            name TEXT PRIMARY KEY,
            token_hash TEXT NOT NULL UNIQUE,
            created_at INTEGER NOT NULL,
            revoked_at INTEGER
        )""",
    ],
]


def migrate(db: sqlite3.Connection) -> int:
    """Bring the database up to date; returns its version. Safe with several processes
    starting at once: the write lock is taken before the version is read."""
    db.executescript(BASELINE)
    db.execute("BEGIN IMMEDIATE")
    try:
        version = int(db.execute("PRAGMA user_version").fetchone()[0])
        for statements in MIGRATIONS[version:]:
            for statement in statements:
                db.execute(statement)
        if version < len(MIGRATIONS):
            db.execute(f"PRAGMA user_version = {len(MIGRATIONS)}")
        db.execute("COMMIT")
    except BaseException:
        db.execute("ROLLBACK")
        raise
    return len(MIGRATIONS)
