"""The Store, once for both databases: each verb is one unit of work (store/work/) handed to a
runner, which owns the connections and the transactions. SQLite's runner (sqlite.py) runs them
on one thread of its own, PostgreSQL's (postgres.py) on SQLAlchemy's asyncpg engine."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Concatenate, ParamSpec, Protocol, TypeVar

from sqlalchemy import Connection

from hubbub.model import (
    MEMBER,
    AccountState,
    Appended,
    AuditEntry,
    BotRecord,
    Clash,
    Draft,
    FileRecord,
    Found,
    Invite,
    Member,
    MessageChange,
    NewRoom,
    Profile,
    ProfileChange,
    RoomInfo,
    SessionRecord,
    StoredMessage,
    UserRecord,
)
from hubbub.search.query import SearchQuery
from hubbub.store.dialect import Dialect
from hubbub.store.search.base import SearchIndex
from hubbub.store.work import accounts, files, identities, messages, people, profiles, rooms, search

P = ParamSpec("P")
T = TypeVar("T")
Work = Callable[Concatenate[Connection, P], T]
CATCH_UP = 2000  # messages a search indexes itself before it reads (see Store.search)


class Runner(Protocol):
    """Runs units of work: each call is one transaction, committed when the work returns and
    rolled back when it raises. Errors of the database itself come out as
    StoreUnavailableError; the domain's own (UnknownMessageError, ...) as they are."""

    dialect: Dialect

    async def start(self) -> None:
        """Connect, and bring the schema up to date (store/schema.py)."""
        ...

    async def close(self) -> None: ...
    async def ping(self) -> None: ...

    async def read(self, work: Work[P, T], *args: P.args, **kwargs: P.kwargs) -> T: ...

    async def write(self, work: Work[P, T], *args: P.args, **kwargs: P.kwargs) -> T:
        """In a transaction that may write: the numbers it assigns commit in order."""
        ...


class DatabaseStore:
    """hubbub.store.Store over SQLite or PostgreSQL (see the protocol for what each verb means)."""

    def __init__(self, runner: Runner, index: SearchIndex) -> None:
        self._db = runner
        self._dialect = runner.dialect
        self._index = index

    async def start(self) -> None:
        await self._db.start()

    async def close(self) -> None:
        await self._db.close()

    async def ping(self) -> None:
        await self._db.ping()

    # --- rooms, members, read positions
    async def ensure_room(self, name: str) -> bool:
        return await self._db.write(rooms.ensure_room, name)

    async def create_room(self, room: NewRoom) -> RoomInfo | None:
        return await self._db.write(rooms.create_room, room)

    async def rooms_created_by(self, user: str) -> int:
        return await self._db.read(rooms.rooms_created_by, user)

    async def room(self, name: str, user: str | None = None) -> RoomInfo | None:
        return await self._db.read(rooms.room_info, name, user)

    async def find_dm(self, dm_key: str, user: str) -> RoomInfo | None:
        return await self._db.read(rooms.find_dm, dm_key, user)

    async def rooms_for(self, user: str | None, archived: bool = False) -> list[RoomInfo]:
        return await self._db.read(rooms.rooms_for, user, archived)

    async def rooms_of(self, user: str, archived: bool = False) -> list[RoomInfo]:
        return await self._db.read(rooms.rooms_of, user, archived)

    async def public_rooms(self, archived: bool = False) -> list[RoomInfo]:
        return await self._db.read(rooms.public_rooms, archived)

    async def update_room(self, name: str, topic: str | None = None, archived: bool | None = None) -> None:
        await self._db.write(rooms.update_room, name, topic, archived)

    async def members(self, room: str, after: str | None = None, limit: int | None = None) -> list[Member]:
        return await self._db.read(rooms.members_of, room, after, limit)

    async def add_members(self, room: str, users: Sequence[str], role: str = MEMBER) -> list[str]:
        return await self._db.write(rooms.add_members, room, users, role) if users else []

    async def remove_member(self, room: str, user: str) -> bool:
        return await self._db.write(rooms.remove_member, room, user)

    async def count_members(self, room: str) -> int:
        return await self._db.read(rooms.count_members, room)

    async def members_among(self, room: str, names: Sequence[str]) -> list[str]:
        return await self._db.read(rooms.members_among, room, names) if names else []

    async def member_rooms(self, user: str) -> list[str]:
        return await self._db.read(rooms.member_rooms, user)

    async def mark_read(self, room: str, user: str, seq: int) -> int | None:
        return await self._db.write(rooms.mark_read, room, user, seq)

    # --- users
    async def touch_users(self, names: Sequence[str]) -> None:
        if names:
            await self._db.write(people.touch_users, names)

    async def known_users(self, names: Sequence[str]) -> set[str]:
        return await self._db.read(people.known_users, names) if names else set()

    async def find_users(self, prefix: str, limit: int) -> list[str]:
        return await self._db.read(people.find_users, prefix, limit)

    # --- messages and their lifecycle
    async def append_many(self, drafts: Sequence[Draft]) -> list[Appended]:
        return await self._db.write(messages.append_many, self._dialect, drafts) if drafts else []

    async def after(self, room: str, after_seq: int, limit: int) -> list[StoredMessage]:
        return await self._db.read(messages.after, room, after_seq, limit)

    async def before(self, room: str, before_seq: int | None, limit: int) -> list[StoredMessage]:
        return await self._db.read(messages.before, room, before_seq, limit)

    async def message(self, room: str, message_id: str) -> StoredMessage | None:
        return await self._db.read(messages.message, room, message_id)

    async def change_message(self, room: str, message_id: str, change: MessageChange) -> StoredMessage | None:
        return await self._db.write(messages.change_message, self._dialect, room, message_id, change)

    async def room_changes(self, room: str) -> int:
        return await self._db.read(messages.room_changes, room)

    async def changed_since(
        self, room: str, after_change: int, after_seq: int, limit: int
    ) -> list[StoredMessage]:
        return await self._db.read(messages.changed_since, room, after_change, after_seq, limit)

    # --- search
    async def search(self, user: str | None, query: SearchQuery, before: int | None, limit: int) -> Found:
        if query.rooms:
            # Rooms named by in: that the user may not read are dropped before the index is
            # asked anything about them: nothing of them shows, not even in how long it took.
            names = await self._db.read(search.readable, user, sorted(query.rooms))
            if not names:
                return Found((), None)
            query = query.in_rooms(frozenset(names))
        behind = await self._db.read(search.lagging, user)
        if behind:
            await self._db.write(search.follow, self._index, behind, CATCH_UP)
        return await self._db.read(search.search, self._dialect, self._index, user, query, before, limit)

    async def follow_index(self, rooms: Sequence[str] | None, limit: int) -> int:
        return await self._db.write(search.follow, self._index, rooms, limit)

    # --- files
    async def add_file(self, record: FileRecord, quota: int) -> None:
        await self._db.write(files.add_file, self._dialect, record, quota)

    async def file(self, file_id: str) -> FileRecord | None:
        return await self._db.read(files.file, file_id)

    async def uploads_size(self, user: str) -> int:
        return await self._db.read(files.used, user)

    async def drop_unattached(self, before_ms: int) -> list[str]:
        return await self._db.write(files.drop_unattached, before_ms)

    async def referenced(self, digests: Sequence[str]) -> set[str]:
        return await self._db.read(files.referenced, digests) if digests else set()

    # --- bots and sessions
    async def add_bot(self, name: str, token_hash: str) -> None:
        await self._db.write(people.add_bot, name, token_hash)

    async def revoke_bot(self, name: str) -> bool:
        return await self._db.write(people.revoke_bot, name)

    async def bot_for_token(self, token_hash: str) -> str | None:
        return await self._db.read(people.bot_for_token, token_hash)

    async def bots(self) -> list[tuple[str, bool]]:
        return await self._db.read(people.all_bots)

    async def create_session(self, record: SessionRecord) -> None:
        await self._db.write(people.create_session, record)

    async def get_session(self, session_id: str) -> SessionRecord | None:
        return await self._db.read(people.get_session, session_id)

    async def delete_session(self, session_id: str) -> None:
        await self._db.write(people.delete_session, session_id)

    # --- accounts
    async def accounts_version(self) -> int:
        return await self._db.read(accounts.accounts_version)

    async def account_states(self, since: int) -> list[AccountState]:
        return await self._db.read(accounts.account_states, since)

    async def account(self, name: str) -> AccountState | None:
        return await self._db.read(accounts.account, name)

    async def has_passwords(self) -> bool:
        return await self._db.read(accounts.has_passwords)

    async def create_account(
        self,
        name: str,
        password_hash: str,
        *,
        admin: bool,
        clash: Clash,
        invite_hash: str | None = None,
        first: bool = False,
    ) -> AccountState:
        return await self._db.write(
            accounts.create_account,
            name,
            password_hash,
            admin=admin,
            clash=clash,
            invite_hash=invite_hash,
            first=first,
        )

    async def set_password(self, name: str, password_hash: str, *, create: bool, admin: bool | None) -> bool:
        return await self._db.write(accounts.set_password, name, password_hash, create=create, admin=admin)

    async def adopt_users(self, entries: dict[str, tuple[str, bool, str]]) -> list[str]:
        return await self._db.write(accounts.adopt, entries)

    async def set_admin(self, name: str, admin: bool) -> AccountState | None:
        return await self._db.write(accounts.set_admin, name, admin)

    async def record_role(self, name: str, admin: bool) -> bool:
        return await self._db.write(accounts.record_role, name, admin)

    async def set_deactivated(self, name: str, deactivated: bool) -> AccountState | None:
        return await self._db.write(accounts.set_deactivated, name, deactivated)

    async def users_listing(self) -> list[UserRecord]:
        return await self._db.read(accounts.listing)

    # --- profiles
    async def profiles(self, names: Sequence[str]) -> list[Profile]:
        return await self._db.read(profiles.profiles, names) if names else []

    async def update_profile(self, name: str, change: ProfileChange, clash: Clash) -> Profile:
        return await self._db.write(profiles.update_profile, name, change, clash)

    async def set_avatar(self, name: str, digest: str | None) -> Profile:
        return await self._db.write(profiles.set_avatar, name, digest)

    # --- invitations
    async def create_invite(
        self, invite_id: str, token_hash: str, created_by: str, expires_at: int, uses: int
    ) -> Invite:
        return await self._db.write(
            accounts.create_invite, invite_id, token_hash, created_by, expires_at, uses
        )

    async def open_invites(self) -> list[Invite]:
        return await self._db.read(accounts.open_invites)

    async def revoke_invite(self, invite_id: str | None, token_hash: str | None) -> bool:
        return await self._db.write(accounts.revoke_invite, invite_id, token_hash)

    # --- the audit log
    async def record(self, actor: str, action: str, target: str, detail: str, address: str) -> None:
        await self._db.write(accounts.record, actor, action, target, detail, address)

    async def audit_log(self, before: int | None, limit: int) -> list[AuditEntry]:
        return await self._db.read(accounts.audit_log, before, limit)

    # --- for admins
    async def bot_list(self) -> list[BotRecord]:
        return await self._db.read(accounts.bot_list)

    async def create_bot(self, name: str, token_hash: str, clash: Clash) -> None:
        await self._db.write(accounts.create_bot, name, token_hash, clash)

    async def rotate_bot(self, name: str, token_hash: str) -> bool:
        return await self._db.write(accounts.rotate_bot, name, token_hash)

    async def all_rooms(self) -> list[RoomInfo]:
        return await self._db.read(rooms.all_rooms)

    async def transfer_owner(self, room: str, user: str) -> bool:
        return await self._db.write(rooms.transfer_owner, room, user)

    # --- accounts of identity providers (auth mode oidc)
    async def bound_user(self, issuer: str, subject: str) -> str | None:
        return await self._db.read(identities.bound_user, issuer, subject)

    async def bind_identity(self, issuer: str, subject: str, user: str, skeleton: str) -> str | None:
        return await self._db.write(identities.bind_identity, issuer, subject, user, skeleton)

    async def use_sign_in_state(self, digest: str, expires_at: float) -> bool:
        return await self._db.write(identities.use_state, digest, expires_at)
