"""What admins do, each action written to the audit log: users (role, deactivation),
invitations, bots, rooms. Who may call these is decided once, by the admin routes' dependency
(routes/deps.py, ``AdminDep``); rooms keep their own rule on top (an admin manages a private
room by name, never reads it)."""

from __future__ import annotations

import hashlib
import secrets
import time

from hubbub.auth.base import Identity
from hubbub.chat.bots import Bots, new_token, token_hash
from hubbub.chat.rooms import Rooms
from hubbub.model import (
    BotRecord,
    Invite,
    ModeRuleError,
    RoomInfo,
    UnknownBotError,
    UnknownInviteError,
    UserRecord,
)
from hubbub.people.accounts import Accounts, clash, new_name
from hubbub.people.audit import Audit
from hubbub.people.profiles import Profiles
from hubbub.settings import AuthMode, Settings
from hubbub.store import Store

INVITE_PREFIX = "hbi_"
MAX_INVITE_TOKEN = 128
SOURCES = {"tokens": "the tokens configuration", "provider": "the identity provider", "nobody": "nobody"}


def new_invite_token() -> str:
    return INVITE_PREFIX + secrets.token_urlsafe(32)


def invite_hash(token: str) -> str | None:
    """The hash an invitation's token is kept as; None for what cannot be one."""
    if not token.startswith(INVITE_PREFIX) or len(token) > MAX_INVITE_TOKEN:
        return None
    return hashlib.sha256(token.encode()).hexdigest()


class Administration:
    def __init__(
        self,
        settings: Settings,
        store: Store,
        accounts: Accounts,
        profiles: Profiles,
        audit: Audit,
        rooms: Rooms,
        bots: Bots,
    ) -> None:
        self._settings = settings
        self._store = store
        self._accounts = accounts
        self._profiles = profiles
        self.audit = audit
        self._rooms = rooms
        self._bots = bots

    # --- users
    async def users(self) -> list[UserRecord]:
        return await self._store.users_listing()

    async def set_admin(self, actor: Identity, address: str, name: str, admin: bool) -> None:
        """Raises ModeRuleError where roles come from the credential, UnknownUserError,
        LastAdminError."""
        if self._accounts.source != "hubbub":
            source = SOURCES[self._accounts.source]
            raise ModeRuleError(f"in this auth mode roles come from {source}, not from Hubbub")
        if await self._store.set_admin(name, admin) is not None:
            await self._accounts.changed()
        await self.audit.record(actor.user, "user.admin" if admin else "user.member", name, address)

    async def set_deactivated(self, actor: Identity, address: str, name: str, deactivated: bool) -> None:
        """Deactivating ends every session of the user (in the same transaction) and, through
        every worker, every socket (4401). Raises UnknownUserError, LastAdminError."""
        if await self._store.set_deactivated(name, deactivated) is not None:
            await self._accounts.changed()
            profile = await self._profiles.one(name)
            if profile is not None:
                await self._profiles.announce(profile)
        await self.audit.record(
            actor.user, "user.deactivate" if deactivated else "user.reactivate", name, address
        )

    # --- invitations (password mode)
    def _invitations(self) -> None:
        if self._settings.auth is not AuthMode.PASSWORD:
            raise ModeRuleError("invitations are for auth mode password: here the sign-in makes accounts")

    async def create_invite(
        self, actor: Identity, address: str, uses: int, expires_in: int
    ) -> tuple[Invite, str]:
        """The invitation and its token (shown only now: the store keeps its hash)."""
        self._invitations()
        token = new_invite_token()
        hashed = invite_hash(token)
        assert hashed is not None
        expires_at = int((time.time() + expires_in) * 1000)
        invite = await self._store.create_invite(secrets.token_hex(6), hashed, actor.user, expires_at, uses)
        await self.audit.record(
            actor.user, "invite.create", invite.id, address, uses=uses, expires_at=expires_at
        )
        return invite, token

    async def invites(self) -> list[Invite]:
        self._invitations()
        return await self._store.open_invites()

    async def revoke_invite(self, actor: Identity, address: str, key: str) -> None:
        """By the id the list shows, or by the token. Raises UnknownInviteError."""
        self._invitations()
        hashed = invite_hash(key)
        if not await self._store.revoke_invite(None if hashed else key, hashed):
            raise UnknownInviteError(key)
        await self.audit.record(
            actor.user, "invite.revoke", key if hashed is None else "(by its token)", address
        )

    # --- bots
    async def bots(self) -> list[tuple[BotRecord, list[str]]]:
        """Every bot and the rooms it is a member of."""
        return [
            (bot, sorted(await self._store.member_rooms(bot.name))) for bot in await self._store.bot_list()
        ]

    async def create_bot(self, actor: Identity, address: str, name: str) -> tuple[str, str]:
        """(its name, its token: shown only now). Raises ProfileRuleError, NameUnavailableError."""
        name = new_name(name)
        token = new_token()
        await self._store.create_bot(name, token_hash(token), clash(name))
        await self.audit.record(actor.user, "bot.create", name, address)
        return name, token

    async def rotate_bot(self, actor: Identity, address: str, name: str) -> str:
        token = new_token()
        if not await self._store.rotate_bot(name, token_hash(token)):
            raise UnknownBotError(name)
        await self.audit.record(actor.user, "bot.rotate", name, address)
        return token

    async def revoke_bot(self, actor: Identity, address: str, name: str) -> None:
        if not await self._store.revoke_bot(name):
            if name not in await self._bots.names():
                raise UnknownBotError(name)
            return  # revoked already
        await self.audit.record(actor.user, "bot.revoke", name, address)

    # --- rooms
    async def rooms(self) -> list[RoomInfo]:
        return await self._rooms.all_rooms()

    async def archive(self, actor: Identity, address: str, room: str, archived: bool) -> RoomInfo:
        found = await self._rooms.update(actor, room, None, archived)
        await self.audit.record(actor.user, "room.archive" if archived else "room.unarchive", room, address)
        return found

    async def transfer(self, actor: Identity, address: str, room: str, user: str) -> RoomInfo:
        found = await self._rooms.transfer(actor, room, user)
        await self.audit.record(actor.user, "room.owner", room, address, owner=user)
        return found
