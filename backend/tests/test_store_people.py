"""The store's people verbs, on both databases: what the database itself enforces when two
requests race (a single-use invitation, lookalike names, the first admin, the last admin), and
how workers follow account changes (the accounts counter)."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator

import pytest

from hubbub.model import (
    InviteUnusableError,
    LastAdminError,
    NameUnavailableError,
    ProfileChange,
    SessionRecord,
    SetupDoneError,
    UnknownUserError,
)
from hubbub.people.accounts import clash
from hubbub.store import Store
from tests.stores import create_store, store, store_url

__all__ = ["store", "store_url"]  # fixtures

HASH = "$argon2id$v=19$m=65536,t=3,p=4$c2FsdHNhbHQ$aGFzaGhhc2hoYXNoaGFzaA"
LATER = int((time.time() + 3600) * 1000)


@pytest.fixture
async def other(store_url: str) -> AsyncIterator[Store]:
    """A second store on the same database: another worker, its own connections."""
    instance = create_store(store_url)
    await instance.start()
    yield instance
    await instance.close()


async def make(store: Store, name: str, invite: str | None = None, first: bool = False) -> str:
    await store.create_account(name, HASH, admin=first, clash=clash(name), invite_hash=invite, first=first)
    return name


async def test_a_single_use_invitation_makes_one_account_however_many_race(
    store: Store, other: Store
) -> None:
    await store.create_invite("i1", "hash-1", "ann", LATER, 1)
    tries = [make(s, f"racer{n}", invite="hash-1") for n, s in enumerate([store, other] * 4)]
    results = await asyncio.gather(*tries, return_exceptions=True)
    made = [r for r in results if isinstance(r, str)]
    assert len(made) == 1, results
    assert all(isinstance(r, InviteUnusableError) for r in results if not isinstance(r, str))
    assert await store.open_invites() == []


async def test_lookalike_names_picked_at_once_one_wins(store: Store, other: Store) -> None:
    await store.create_invite("i2", "hash-2", "ann", LATER, 10)
    results = await asyncio.gather(
        make(store, "anna", invite="hash-2"),
        make(other, "\u0430nna", invite="hash-2"),  # a Cyrillic a
        make(other, "Anna", invite="hash-2"),
        return_exceptions=True,
    )
    assert sum(isinstance(r, str) for r in results) == 1, results
    assert all(isinstance(r, NameUnavailableError) for r in results if not isinstance(r, str))
    # A refused name spends no use of the invitation.
    (invite,) = await store.open_invites()
    assert invite.used == 1


async def test_expired_revoked_and_made_up_invitations_are_one_refusal(store: Store) -> None:
    await store.create_invite("old", "hash-old", "ann", int(time.time() * 1000) - 1, 5)
    await store.create_invite("gone", "hash-gone", "ann", LATER, 5)
    assert await store.revoke_invite("gone", None)
    assert not await store.revoke_invite("gone", None)  # revoked already: not open
    for token in ("hash-old", "hash-gone", "hash-never-made"):
        with pytest.raises(InviteUnusableError):
            await make(store, f"x{token[-3:]}", invite=token)
    assert await store.open_invites() == []
    assert not await store.has_passwords()


async def test_the_first_admin_is_made_once(store: Store, other: Store) -> None:
    results = await asyncio.gather(
        *(make(s, f"first{n}", first=True) for n, s in enumerate([store, other] * 3)), return_exceptions=True
    )
    made = [r for r in results if isinstance(r, str)]
    assert len(made) == 1 and all(isinstance(r, SetupDoneError) for r in results if r not in made)
    state = await store.account(made[0])
    assert state is not None and state.admin and await store.has_passwords()


async def test_the_last_active_admin_stays(store: Store, other: Store) -> None:
    await make(store, "root", first=True)
    await store.create_invite("i3", "hash-3", "root", LATER, 5)
    await make(store, "deputy", invite="hash-3")
    await store.set_admin("deputy", True)
    # Two admins demoting each other at once: one of them stays an admin.
    results = await asyncio.gather(
        store.set_admin("root", False), other.set_admin("deputy", False), return_exceptions=True
    )
    assert sum(isinstance(r, LastAdminError) for r in results) == 1, results
    admins = [n for n in ("root", "deputy") if (s := await store.account(n)) and s.admin]
    assert len(admins) == 1
    with pytest.raises(LastAdminError):
        await store.set_deactivated(admins[0], True)
    with pytest.raises(UnknownUserError):
        await store.set_admin("nobody-here", True)


async def test_deactivation_ends_sessions_and_hides_the_user(store: Store) -> None:
    await make(store, "root", first=True)
    await store.create_invite("i4", "hash-4", "root", LATER, 5)
    await make(store, "quinn", invite="hash-4")
    await store.create_session(SessionRecord("s-quinn", "quinn", time.time() + 600))
    changed = await store.set_deactivated("quinn", True)
    assert changed is not None and changed.deactivated
    assert await store.get_session("s-quinn") is None
    assert await store.set_deactivated("quinn", True) is None  # so already
    assert await store.find_users("qu", 10) == [] and await store.known_users(["quinn"]) == set()
    (profile,) = await store.profiles(["quinn"])
    assert profile.deactivated
    await store.set_deactivated("quinn", False)
    assert await store.find_users("qu", 10) == ["quinn"]


async def test_workers_read_what_changed_since_they_looked(store: Store, other: Store) -> None:
    seen = await other.accounts_version()
    await make(store, "root", first=True)
    await store.set_password("cli-user", HASH, create=True, admin=None)
    changed = await other.account_states(seen)
    assert [s.name for s in changed] == ["root", "cli-user"]
    assert await other.accounts_version() == changed[-1].version
    assert await other.account_states(changed[-1].version) == []


async def test_the_users_file_is_adopted_line_by_line(store: Store) -> None:
    entries = {"erin": (HASH, False, "fp-erin-1"), "fred": (HASH, True, "fp-fred-1")}
    assert await store.adopt_users(entries) == ["erin", "fred"]
    assert await store.adopt_users(entries) == []  # nothing new: the database's changes stand
    await store.set_admin("erin", True)
    entries["fred"] = (HASH + "x", True, "fp-fred-2")
    assert await store.adopt_users(entries) == ["fred"]
    erin = await store.account("erin")
    assert erin is not None and erin.admin  # a line that did not change does not undo the admin page
    del entries["erin"]
    assert await store.adopt_users(entries) == ["erin"]
    erin = await store.account("erin")
    assert erin is not None and erin.deactivated and erin.password_hash is None


async def test_a_display_name_may_not_pass_for_anyone_elses(store: Store) -> None:
    await store.touch_users(["olga", "mike"])
    change = ProfileChange(display_name="\u043elga")  # a Cyrillic o
    with pytest.raises(NameUnavailableError):
        await store.update_profile("mike", change, clash("\u043elga"))
    with pytest.raises(NameUnavailableError):
        await store.update_profile("mike", ProfileChange(display_name="olga"), clash("olga"))
    mine = await store.update_profile(
        "olga", ProfileChange(display_name="Olga", status_emoji="🎉"), clash("Olga")
    )
    assert (mine.display_name, mine.status_emoji, mine.status_text) == ("Olga", "🎉", "")
    assert await store.find_users("Olg", 10) == ["olga"]  # found by display name too
