"""Every table of the store, once, for both databases: the names and columns the queries in
store/work/ are written against. Each is `hubbub_`-prefixed everywhere, so a PostgreSQL
database can be shared with other applications.

This describes the schema as the newest migration leaves it; the migrations themselves
(hubbub/migrations/versions/) never import it. Adding a table or a column: a new migration
first, then its description here (DEVELOPERS.md, "Changing the schema").
"""

from __future__ import annotations

from sqlalchemy import (
    Column,
    ForeignKey,
    Index,
    MetaData,
    PrimaryKeyConstraint,
    Table,
    Text,
    false,
    text,
)

from hubbub.migrations.types import Flag, Int, Real

metadata = MetaData()

rooms = Table(
    "hubbub_rooms",
    metadata,
    Column("name", Text, primary_key=True),
    Column("head", Int, nullable=False, server_default=text("0")),  # newest seq
    Column("created_at", Int, nullable=False),
    Column("created_by", Text),
    Column("visibility", Text, nullable=False, server_default=text("'public'")),
    Column("topic", Text, nullable=False, server_default=text("''")),
    Column("archived", Flag, nullable=False, server_default=false()),
    Column("dm_key", Text),  # one DM per set of members
    Column("change_head", Int, nullable=False, server_default=text("0")),  # newest change number
    Column("member_count", Int, nullable=False, server_default=text("0")),  # kept with its members
    Index("hubbub_rooms_created_by", "created_by"),
    Index("hubbub_rooms_visibility", "visibility"),
    Index(
        "hubbub_rooms_dm_key",
        "dm_key",
        unique=True,
        sqlite_where=text("dm_key IS NOT NULL"),
        postgresql_where=text("dm_key IS NOT NULL"),
    ),
)

messages = Table(
    "hubbub_messages",
    metadata,
    Column("room", Text, ForeignKey("hubbub_rooms.name"), nullable=False),
    Column("seq", Int, nullable=False),
    Column("id", Text, nullable=False, unique=True),
    Column("author", Text, nullable=False),
    Column("body", Text, nullable=False),
    Column("ts", Int, nullable=False),
    Column("client_msg_id", Text),
    Column("client_id", Int),
    Column("mentions", Text, nullable=False, server_default=text("'[]'")),  # JSON list
    Column("bot", Flag, nullable=False, server_default=false()),
    Column("edited_at", Int),
    Column("deleted", Flag, nullable=False, server_default=false()),
    Column("reactions", Text, nullable=False, server_default=text("'[]'")),  # JSON, as shown
    Column("change_seq", Int, nullable=False, server_default=text("0")),
    Column("files", Text, nullable=False, server_default=text("'[]'")),  # JSON, as shown
    PrimaryKeyConstraint("room", "seq"),
    Index(
        "hubbub_messages_idempotency",
        "room",
        "author",
        "client_msg_id",
        unique=True,
        sqlite_where=text("client_msg_id IS NOT NULL"),
        postgresql_where=text("client_msg_id IS NOT NULL"),
    ),
    Index(
        "hubbub_messages_changes",
        "room",
        "change_seq",
        sqlite_where=text("change_seq > 0"),
        postgresql_where=text("change_seq > 0"),
    ),
)

members = Table(
    "hubbub_members",
    metadata,
    Column("room", Text, ForeignKey("hubbub_rooms.name"), nullable=False),
    Column("user", Text, nullable=False),
    Column("role", Text, nullable=False, server_default=text("'member'")),
    Column("joined_at", Int, nullable=False),
    Column("last_read", Int, nullable=False, server_default=text("0")),
    PrimaryKeyConstraint("room", "user"),
    Index("hubbub_members_user", "user"),
)

# Everyone the chat knows of: signed in, connected, configured, or made here. Password users'
# hashes live here (the users file is adopted into it); ``admin`` is every user's role, written
# by Hubbub or copied from the credential, depending on the mode (hubbub/people/roles.py).
users = Table(
    "hubbub_users",
    metadata,
    Column("name", Text, primary_key=True),
    Column("seen_at", Int, nullable=False),
    Column("password_hash", Text),
    Column("admin", Flag, nullable=False, server_default=false()),
    Column("deactivated_at", Int),
    Column("created_at", Int),
    Column("file_entry", Text),  # fingerprint of the users-file line last adopted
    Column("version", Int, nullable=False, server_default=text("0")),  # counters.accounts then
    Column("display_name", Text, nullable=False, server_default=text("''")),
    Column("status_emoji", Text, nullable=False, server_default=text("''")),
    Column("status_text", Text, nullable=False, server_default=text("''")),
    Column("time_zone", Text, nullable=False, server_default=text("''")),
    Column("avatar", Text),  # an uploaded image's file id; None: initials on a colour
    Index("hubbub_users_version", "version"),
)

# Numbers that only go up: "accounts" is bumped by every change to an account (role, password,
# deactivation), in the transaction that makes it, so workers read what changed since.
counters = Table(
    "hubbub_counters",
    metadata,
    Column("name", Text, primary_key=True),
    Column("value", Int, nullable=False, server_default=text("0")),
)

invites = Table(
    "hubbub_invites",
    metadata,
    Column("id", Text, primary_key=True),  # shown in the list; the token itself is not kept
    Column("token_hash", Text, nullable=False, unique=True),  # SHA-256 of the token
    Column("created_by", Text, nullable=False),
    Column("created_at", Int, nullable=False),
    Column("expires_at", Int, nullable=False),
    Column("uses", Int, nullable=False),
    Column("used", Int, nullable=False, server_default=text("0")),
    Column("revoked_at", Int),
)

audit = Table(
    "hubbub_audit",
    metadata,
    Column("id", Int, primary_key=True, autoincrement=True),
    Column("at", Int, nullable=False),
    Column("actor", Text, nullable=False),
    Column("action", Text, nullable=False),
    Column("target", Text, nullable=False, server_default=text("''")),
    Column("detail", Text, nullable=False, server_default=text("'{}'")),  # JSON object
    Column("address", Text, nullable=False, server_default=text("''")),
)

# One row per mention of a user (or @room) by a message: what the mention counts read.
mentions = Table(
    "hubbub_mentions",
    metadata,
    Column("user", Text, nullable=False),
    Column("room", Text, nullable=False),
    Column("seq", Int, nullable=False),
    PrimaryKeyConstraint("user", "room", "seq"),
)

# One row per user and emoji on a message; messages.reactions holds what is shown of them.
reactions = Table(
    "hubbub_reactions",
    metadata,
    Column("room", Text, nullable=False),
    Column("seq", Int, nullable=False),
    Column("emoji", Text, nullable=False),
    Column("user", Text, nullable=False),
    Column("at", Int, nullable=False),
    # The room's change number that added it: the order people reacted in, in both databases.
    Column("change_seq", Int, nullable=False, server_default=text("0")),
    PrimaryKeyConstraint("room", "seq", "emoji", "user"),
)

bots = Table(
    "hubbub_bots",
    metadata,
    Column("name", Text, primary_key=True),
    Column("token_hash", Text, nullable=False, unique=True),  # SHA-256 of the token
    Column("created_at", Int, nullable=False),
    Column("revoked_at", Int),
)

sessions = Table(
    "hubbub_sessions",
    metadata,
    Column("id", Text, primary_key=True),
    Column("user", Text, nullable=False),
    Column("expires_at", Real, nullable=False),
    Column("credential", Text),
    Column("admin", Flag, nullable=False, server_default=false()),
)

# One row per upload; the bytes are in the file storage, by digest (hubbub/files/). A row whose
# message_seq is NULL is an upload not attached yet (collected after a while); a row goes when
# its message is deleted. The storage's bytes go when no row names their digest.
files = Table(
    "hubbub_files",
    metadata,
    Column("id", Text, primary_key=True),
    Column("room", Text, ForeignKey("hubbub_rooms.name"), nullable=False),
    Column("uploader", Text, nullable=False),
    Column("name", Text, nullable=False),
    Column("size", Int, nullable=False),
    Column("type", Text, nullable=False),  # sniffed from the content
    Column("width", Int),  # set for images only
    Column("height", Int),
    Column("digest", Text, nullable=False),  # SHA-256 of the bytes served
    Column("thumbnail", Text),  # SHA-256 of the thumbnail, for images
    Column("created_at", Int, nullable=False),
    Column("message_seq", Int),  # the message (room, seq) it is attached to
    Index("hubbub_files_uploader", "uploader"),
    Index("hubbub_files_digest", "digest"),
    Index("hubbub_files_thumbnail", "thumbnail"),
    Index("hubbub_files_message", "room", "message_seq"),
    Index(
        "hubbub_files_unattached",
        "created_at",
        sqlite_where=text("message_seq IS NULL"),
        postgresql_where=text("message_seq IS NULL"),
    ),
)

# Auth mode oidc: who each account of an identity provider is here. An account is its issuer's
# subject (`sub`), never its name; a name belongs to one account, and so does whatever a name
# looks like (its skeleton, auth/names.py): a second account with a name that is, or passes
# for, a bound one is refused, never merged.
identities = Table(
    "hubbub_identities",
    metadata,
    Column("issuer", Text, nullable=False),
    Column("subject", Text, nullable=False),
    Column("user", Text, nullable=False, unique=True),
    Column("skeleton", Text, nullable=False, unique=True),
    Column("created_at", Int, nullable=False),
    PrimaryKeyConstraint("issuer", "subject"),
)

# Sign-ins through the identity provider that came back (the digest of their state): each
# comes back once. Kept until the sign-in would have expired anyway.
oidc_states = Table(
    "hubbub_oidc_states",
    metadata,
    Column("digest", Text, primary_key=True),
    Column("expires_at", Real, nullable=False),
)

# --- search (store/search/): derived from the messages, rebuilt from them if lost.
# One document per message that is stored and not deleted: its folded text (search/fold.py)
# and what the operators look at. The id orders documents by the message's time (ts * 1024,
# plus a number that keeps it unique), so "newest first" is the index's own order, however
# the documents came to be written. Each database indexes their terms its own way, in
# hubbub_search_terms (store/search/).
search_docs = Table(
    "hubbub_search_docs",
    metadata,
    Column("id", Int, primary_key=True, autoincrement=False),
    Column("room", Text, nullable=False),
    Column("seq", Int, nullable=False),
    Column("author", Text, nullable=False),
    Column("kinds", Text, nullable=False, server_default=text("''")),  # has: what, space-separated
    Column("folded", Text, nullable=False),
    Index("hubbub_search_docs_message", "room", "seq", unique=True),
)

# Each database's index of the documents' terms (store/search/): SQLite's FTS5 table (and the
# tables FTS5 keeps it in), PostgreSQL's table of arrays and its GIN index. Alembic's
# comparisons leave them out (migrations/env.py, tests/test_migrations.py).
TERMS_TABLE = "hubbub_search_terms"


def described(name: str | None, kind: str, _parents: object) -> bool:
    """Alembic's include_name: whether this MetaData describes the table (or index, ...)."""
    return name is None or not name.startswith(TERMS_TABLE)


# How far each room's messages are indexed: every seq up to `seq`, every change up to `change`.
search_progress = Table(
    "hubbub_search_progress",
    metadata,
    Column("room", Text, primary_key=True),
    Column("seq", Int, nullable=False, server_default=text("0")),
    Column("change", Int, nullable=False, server_default=text("0")),
)
