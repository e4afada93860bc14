"""Accounts: who may sign in, as whom, with which role, and who is deactivated.

Every worker keeps the accounts that have something to keep (a password, a role, a
deactivation) in memory, because every request asks (``vouch``); the store numbers each change
to an account (the accounts counter), and a worker reads what changed since the number it last
saw: at once when another worker announces a change through the broker (AccountsChanged), and
every HUBBUB_CREDENTIAL_CHECK_SECONDS otherwise (a change the `hubbub` command made). Whatever
the trigger, ``refresh`` hands each change once to ``on_change`` (the chat service closes a
deactivated user's sockets, gives open sockets a new role).

Password users live in the database. The users file (HUBBUB_USERS_FILE) is still read: each line
that is new or changed since it was last adopted is written into the database, at startup and
whenever the file changes; an account adopted from a line since removed is deactivated.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Coroutine
from dataclasses import replace
from typing import Any

from hubbub.auth import passwords
from hubbub.auth.base import AuthError, Identity
from hubbub.auth.files import WatchedFile
from hubbub.auth.names import NameError_, chosen_name, passes_for
from hubbub.model import AccountState, Clash, ProfileRuleError, SetupDoneError
from hubbub.people.roles import role_source
from hubbub.settings import AuthMode, Settings
from hubbub.store import Store

log = logging.getLogger("hubbub.people")

Changed = Callable[[list[AccountState]], None]
Spawn = Callable[[Coroutine[Any, Any, None], str], None]


def clash(name: str) -> Clash:
    """The rule for a name someone picks: not one that looks like a name or display name there
    is (the same letters after Unicode's confusables, case folded)."""

    def check(names: object) -> str | None:
        others = set(names)  # type: ignore[call-overload]
        if passes_for(name, others) is not None:
            return "that name looks like someone else's; pick another"
        return None

    return check


def new_name(name: str) -> str:
    """A login name someone picks (invitation, first run): normal, one script, no ':' (the
    users file's separator). Raises ProfileRuleError."""
    try:
        found = chosen_name(name)
    except NameError_ as exc:
        raise ProfileRuleError(str(exc).replace("display name", "name")) from exc
    if ":" in found:
        raise ProfileRuleError("names cannot contain ':'")
    return found


class Accounts:
    def __init__(self, settings: Settings, store: Store, announce: Callable[[], Awaitable[None]]) -> None:
        self._settings = settings
        self._store = store
        self._announce = announce  # tells every worker that accounts changed
        self.source = role_source(settings)
        self._states: dict[str, AccountState] = {}
        self._version = 0
        self._lock = asyncio.Lock()
        self._set_up = False
        self._observing: set[str] = set()
        self.on_change: Changed = lambda _states: None
        password_mode = settings.auth is AuthMode.PASSWORD
        self._users_file = WatchedFile(settings.effective_users_file) if password_mode else None

    async def start(self) -> None:
        await self.adopt_users_file(first=True)
        await self.refresh()

    # --- what every request asks, from memory
    def deactivated(self, name: str) -> bool:
        state = self._states.get(name)
        return state is not None and state.deactivated

    def is_admin(self, name: str) -> bool:
        """The role the database holds (where Hubbub decides roles, the role)."""
        state = self._states.get(name)
        return state is not None and state.admin and not state.deactivated

    def vouch(self, identity: Identity) -> Identity:
        """The identity as it stands now: AuthError for a deactivated user; the role from the
        database where Hubbub decides roles, none in mode none."""
        if self.deactivated(identity.user):
            raise AuthError("this account is deactivated")
        if self.source == "hubbub":
            return replace(identity, admin=self.is_admin(identity.user))
        if self.source == "nobody" and identity.admin:
            return replace(identity, admin=False)
        return identity

    def current(self, identity: Identity) -> bool:
        """In password mode: whether the password the identity was made from is still the
        account's (a new password ends the sessions and sockets of the old one)."""
        if self._settings.auth is not AuthMode.PASSWORD:
            return True
        state = self._states.get(identity.user)
        if state is None or state.password_hash is None or identity.credential is None:
            return False
        entry = state.password_hash
        # Sessions made before accounts moved into the database kept the users file's line.
        return identity.credential in {passwords.fingerprint(f) for f in (entry, f"{entry}:admin")}

    def observe(self, identity: Identity, spawn: Spawn) -> None:
        """Where the credential carries the role (tokens, a provider's claim), keep it in the
        database when it differs from what the database holds: the admin page lists it."""
        if self.source not in ("tokens", "provider") or identity.user in self._observing:
            return
        if identity.admin == self.is_admin(identity.user):
            return
        self._observing.add(identity.user)
        spawn(self._record_role(identity.user, identity.admin), "hubbub-role")

    async def _record_role(self, name: str, admin: bool) -> None:
        try:
            if await self._store.record_role(name, admin):
                await self.changed()
        except Exception as exc:
            log.warning("could not record the role of %s: %r", name, exc)
        finally:
            self._observing.discard(name)

    # --- following changes
    async def refresh(self) -> list[AccountState]:
        """Read the accounts changed since this worker last looked; each goes to on_change once."""
        async with self._lock:
            version = await self._store.accounts_version()
            if version == self._version:
                return []
            changed = await self._store.account_states(self._version)
            for state in changed:
                self._states[state.name] = state
            self._version = max([version, *(s.version for s in changed)])
        if changed:
            self.on_change(changed)
        return changed

    async def changed(self) -> None:
        """This worker changed an account: it follows at once, and tells the others."""
        await self.refresh()
        await self._announce()

    async def adopt_users_file(self, first: bool = False) -> bool:
        """Adopt the users file if it changed (or, ``first``, whatever it holds now)."""
        if self._users_file is None or not (self._users_file.changed() or first):
            return False
        from hubbub.auth.password import parse_users

        try:
            lines = parse_users(self._users_file.read(), self._users_file.path)
        except ValueError as exc:
            # A file that is wrong changes nothing, until it is fixed.
            log.error("users file not adopted: %s", exc)
            return False
        entries = {
            name: (entry.partition(":")[0], entry.endswith(":admin"), passwords.fingerprint(entry))
            for name, entry in lines.items()
        }
        names = await self._store.adopt_users(entries)
        if names:
            log.info("users file adopted: %d accounts changed", len(names))
            await self.changed()
        return bool(names)

    # --- signing in and up
    async def check_password(self, name: str, password: str) -> Identity:
        """The account, if the password is its own; AuthError otherwise (the same words, and
        the same work, for a user who does not exist)."""
        state = await self._store.account(name) if len(name) <= 64 else None
        hashed = state.password_hash if state is not None else None
        if not await passwords.verify(hashed, password) or state is None or hashed is None:
            raise AuthError("wrong user name or password")
        return Identity(user=state.name, credential=passwords.fingerprint(hashed), admin=state.admin)

    async def display_names(self, besides: str) -> set[str]:
        """Everyone's display names but the named user's own: a name a provider hands a new
        account may not pass for one of them (mode oidc), as a name picked here may not."""
        return {
            u.display_name for u in await self._store.users_listing() if u.display_name and u.name != besides
        }

    async def setup_needed(self) -> bool:
        """A password-mode server that no account can sign in to yet: its first visitor makes
        the first admin."""
        if self._settings.auth is not AuthMode.PASSWORD or self._set_up:
            return False
        self._set_up = await self._store.has_passwords()
        return not self._set_up

    async def create(
        self, name: str, password: str, *, invite_hash: str | None = None, first: bool = False
    ) -> Identity:
        """A password account, made through an invitation or as the first admin. Raises
        ProfileRuleError (name or password), NameUnavailableError, InviteUnusableError,
        SetupDoneError."""
        if self._settings.auth is not AuthMode.PASSWORD:
            raise SetupDoneError
        name = new_name(name)
        passwords.check_password(password, name, self._settings.password_min_length)
        hashed = await asyncio.to_thread(passwords.hash_password, password)
        state = await self._store.create_account(
            name, hashed, admin=first, clash=clash(name), invite_hash=invite_hash, first=first
        )
        await self.changed()
        return Identity(user=state.name, credential=passwords.fingerprint(hashed), admin=state.admin)
