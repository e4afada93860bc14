"""One contract, every store: SQLite and a real PostgreSQL."""

from __future__ import annotations

import asyncio
import time

import pytest

from hubbub.store import (
    DM,
    MAX_REACTION_KINDS,
    AppendError,
    Delete,
    Draft,
    Edit,
    MessageRejectedError,
    NewRoom,
    NotMemberError,
    React,
    Reaction,
    RoomArchivedError,
    SessionRecord,
    Store,
    StoredMessage,
    TooManyReactionsError,
    UnknownMessageError,
    UnknownRoomError,
)
from tests.services import poison_messages
from tests.stores import store, store_url

__all__ = ["store", "store_url"]  # fixtures


async def append(
    store: Store,
    room: str,
    author: str,
    body: str,
    client_msg_id: str | None = None,
    client_id: int | None = None,
) -> tuple[StoredMessage, bool]:
    """append_many of one draft, raising its AppendError if that is what it came to."""
    (result,) = await store.append_many([Draft(room, author, body, client_msg_id, client_id)])
    if isinstance(result, AppendError):
        raise result
    return result


AUTHORS = ["a", "alice", "bob", "carol", "mallory", "u", *(f"u{i}" for i in range(5))]


async def open_room(store: Store, name: str) -> None:
    """A public room whose members are the authors these tests post as."""
    await store.ensure_room(name)
    await store.add_members(name, AUTHORS)


async def test_rooms(store: Store) -> None:
    assert await store.ensure_room("general") is True
    assert await store.ensure_room("general") is False
    await store.ensure_room("alpha")
    assert [(r.name, r.head) for r in await store.rooms_for(None)] == [("alpha", 0), ("general", 0)]
    assert await store.room_head("general") == 0
    assert await store.room_head("missing") is None


async def test_append_assigns_gapless_sequence(store: Store) -> None:
    await open_room(store, "r")
    await open_room(store, "s")
    first, created = await append(store, "r", "alice", "one")
    assert created and first.seq == 1 and first.room == "r" and first.author == "alice"
    assert abs(first.ts / 1000 - time.time()) < 5
    second, _ = await append(store, "r", "bob", "two", client_id=7)
    other, _ = await append(store, "s", "bob", "elsewhere")
    assert (second.seq, second.client_id, other.seq) == (2, 7, 1)
    assert await store.room_head("r") == 2
    with pytest.raises(UnknownRoomError):
        await append(store, "nope", "alice", "x")


async def test_idempotent_client_msg_id(store: Store) -> None:
    await open_room(store, "r")
    first, created = await append(store, "r", "alice", "hello", client_msg_id="c1")
    again, created_again = await append(store, "r", "alice", "hello", client_msg_id="c1")
    assert created and not created_again and again == first
    # The same id from another author, or in another room, is another message.
    other, created_other = await append(store, "r", "bob", "hello", client_msg_id="c1")
    assert created_other and other.seq == 2
    assert await store.room_head("r") == 2


async def test_an_author_outside_the_room_learns_nothing_of_it(store: Store) -> None:
    """A retry by an author who is no longer a member gets no message back (not even their
    own, as it now is), and a non-member is told they are one before the room's state."""
    await open_room(store, "r")
    await append(store, "r", "mallory", "mine", client_msg_id="c1")
    await store.remove_member("r", "mallory")
    with pytest.raises(NotMemberError):
        await append(store, "r", "mallory", "mine", client_msg_id="c1")
    await store.update_room("r", archived=True)
    with pytest.raises(NotMemberError):
        await append(store, "r", "mallory", "anything", client_msg_id="c2")
    with pytest.raises(RoomArchivedError):  # a member is told
        await append(store, "r", "alice", "anything", client_msg_id="c3")
    with pytest.raises(UnknownRoomError):
        await append(store, "nosuch", "mallory", "anything", client_msg_id="c1")


async def test_members_come_by_name_a_page_at_a_time(store: Store) -> None:
    await store.ensure_room("r")
    names = ["m10", "m9", "ann", "m0", "zed", "bo"]
    await store.add_members("r", names)
    assert [m.user for m in await store.members("r")] == sorted(names)
    pages, after = [], None
    while page := await store.members("r", after, 4):
        pages.append([m.user for m in page])
        after = page[-1].user
    assert pages == [["ann", "bo", "m0", "m10"], ["m9", "zed"]]
    assert [m.user for m in await store.members("r", "m0", 2)] == ["m10", "m9"]
    assert await store.members("nosuch", None, 10) == []


async def test_a_room_looked_up_by_a_non_member_shows_no_dm_members(store: Store) -> None:
    """A DM's members are read for its members only: a non-member's lookup does the work of a
    missing name's (one statement, one row), and learns nothing of who is in it."""
    dm = NewRoom("dm-x", DM, None, ("alice", "bob"), dm_key="alice\nbob")
    assert await store.create_room(dm) is not None
    mine = await store.room("dm-x", "alice")
    assert mine is not None and mine.members == ("alice", "bob") and mine.member
    theirs = await store.room("dm-x", "mallory")
    assert theirs is not None and theirs.members == () and not theirs.member
    assert await store.room("nosuch", "mallory") is None
    assert await store.room("nosuch") is None


async def test_concurrent_appends_are_gapless_and_unique(store: Store) -> None:
    await open_room(store, "r")
    results = await asyncio.gather(
        *[append(store, "r", f"u{i % 5}", f"m{i}", client_msg_id=f"c{i % 40}") for i in range(80)]
    )
    created = [m for m, c in results if c]
    assert sorted(m.seq for m in created) == list(range(1, len(created) + 1))
    assert len({(m.author, m.client_msg_id) for m in created}) == len(created)


async def test_append_many_is_one_ordered_batch(store: Store) -> None:
    await open_room(store, "r")
    await open_room(store, "s")
    results = await store.append_many(
        [
            Draft("r", "alice", "one", client_msg_id="c1"),
            Draft("nope", "alice", "lost"),
            Draft("s", "bob", "elsewhere", client_id=3),
            Draft("r", "alice", "one again", client_msg_id="c1"),  # a retry inside the batch
            Draft("r", "bob", "two"),
        ]
    )
    # A missing room fails its own draft only; the retry is the first message, not a new one.
    assert isinstance(results[1], UnknownRoomError)
    stored = [r for r in results if not isinstance(r, UnknownRoomError)]
    assert [(m.room, m.seq, m.body, created) for m, created in stored] == [
        ("r", 1, "one", True),
        ("s", 1, "elsewhere", True),
        ("r", 1, "one", False),
        ("r", 2, "two", True),
    ]
    assert [m.body for m in await store.after("r", 0, 10)] == ["one", "two"]
    assert await store.append_many([]) == []


async def test_a_draft_the_database_refuses_fails_alone(store: Store, store_url: str) -> None:
    """Validation cannot foresee everything the database may refuse (here a trigger, and a
    number out of its integer range): such a draft fails by itself, the rest of its batch is
    stored, and sequence numbers stay gapless."""
    await open_room(store, "r")
    await poison_messages(store_url, "poison")
    results = await store.append_many(
        [
            Draft("r", "alice", "before"),
            Draft("r", "mallory", "poison"),
            Draft("r", "bob", "between", client_msg_id="b1"),
            Draft("r", "mallory", "too big", client_id=10**20),
            Draft("r", "carol", "after"),
        ]
    )
    assert isinstance(results[1], MessageRejectedError)
    assert isinstance(results[3], MessageRejectedError)
    stored = [r for r in results if not isinstance(r, MessageRejectedError)]
    assert [(m.seq, m.body, created) for m, created in stored] == [
        (1, "before", True),
        (2, "between", True),
        (3, "after", True),
    ]
    assert [m.body for m in await store.after("r", 0, 10)] == ["before", "between", "after"]
    assert await store.room_head("r") == 3
    # Alone in its batch, it fails the same way and leaves nothing behind.
    (alone,) = await store.append_many([Draft("r", "mallory", "poison")])
    assert isinstance(alone, MessageRejectedError)
    assert await store.room_head("r") == 3


async def test_concurrent_batches_stay_gapless(store: Store) -> None:
    await open_room(store, "a")
    await open_room(store, "b")
    # Batches that touch the same rooms in opposite orders, at once: no deadlock, no gap.
    batches = [
        [Draft(room, "u", f"{i}-{j}") for j, room in enumerate(["a", "b"] if i % 2 else ["b", "a"])]
        for i in range(20)
    ]
    results = await asyncio.gather(*[store.append_many(batch) for batch in batches])
    messages = [r[0] for batch in results for r in batch if not isinstance(r, UnknownRoomError)]
    for room in ("a", "b"):
        seqs = sorted(m.seq for m in messages if isinstance(m, StoredMessage) and m.room == room)
        assert seqs == list(range(1, 21))


async def test_after_and_before_pages(store: Store) -> None:
    await open_room(store, "r")
    for i in range(10):
        await append(store, "r", "a", f"m{i}")
    assert [m.seq for m in await store.after("r", 0, 3)] == [1, 2, 3]
    assert [m.seq for m in await store.after("r", 8, 10)] == [9, 10]
    assert await store.after("r", 10, 10) == []
    assert [m.seq for m in await store.before("r", None, 3)] == [8, 9, 10]
    assert [m.seq for m in await store.before("r", 3, 5)] == [1, 2]
    assert [m.body for m in await store.before("r", 6, 2)] == ["m3", "m4"]


async def test_sessions(store: Store) -> None:
    await store.create_session(SessionRecord("s1", "alice", time.time() + 60))
    await store.create_session(SessionRecord("s2", "bob", time.time() - 1))
    found = await store.get_session("s1")
    assert found is not None and found.user == "alice"
    assert await store.get_session("s2") is None
    assert await store.get_session("missing") is None
    await store.delete_session("s1")
    assert await store.get_session("s1") is None


async def test_ping(store: Store) -> None:
    await store.ping()


async def test_edits_tombstones_reactions_and_the_change_feed(store: Store) -> None:
    await open_room(store, "life")
    first, _ = await append(store, "life", "alice", "one @bob")
    second, _ = await append(store, "life", "bob", "two")
    assert await store.room_changes("life") == 0

    edited = await store.change_message("life", first.id, Edit("one, edited"))
    assert edited is not None and (edited.body, edited.change) == ("one, edited", 1) and edited.edited_at
    assert await store.change_message("life", first.id, Edit("one, edited")) is None  # nothing to change
    assert (await store.change_message("life", second.id, React("carol", "👍", True)) or second).change == 2
    assert await store.change_message("life", second.id, React("carol", "👍", True)) is None  # idempotent
    reacted = await store.change_message("life", second.id, React("alice", "👍", True))
    assert reacted is not None and reacted.reactions == (Reaction("👍", 2, ("carol", "alice")),)
    taken_back = await store.change_message("life", second.id, React("carol", "👍", False))
    assert taken_back is not None and taken_back.reactions == (Reaction("👍", 1, ("alice",)),)
    assert await store.change_message("life", second.id, React("carol", "👍", False)) is None

    gone = await store.change_message("life", second.id, Delete())
    assert gone is not None and gone.deleted and gone.body == "" and gone.reactions == () and gone.change == 5
    for change in (Edit("back"), Delete(), React("bob", "🎉", True)):
        with pytest.raises(UnknownMessageError):
            await store.change_message("life", second.id, change)
    with pytest.raises(UnknownMessageError):
        await store.change_message("life", "no-such-id", Edit("x"))
    assert await store.room_changes("life") == 5  # refusals and no-ops use no number

    # History keeps the tombstone in place: seq stays gapless, the next message follows.
    third, _ = await append(store, "life", "carol", "three")
    assert [(m.seq, m.deleted, m.body) for m in await store.after("life", 0, 10)] == [
        (1, False, "one, edited"),
        (2, True, ""),
        (3, False, "three"),
    ]
    assert third.seq == 3 and third.change == 0
    # The feed: messages changed after a change number, as they are now, by seq.
    assert [(m.seq, m.change) for m in await store.changed_since("life", 0, 0, 10)] == [(1, 1), (2, 5)]
    assert [m.seq for m in await store.changed_since("life", 1, 0, 10)] == [2]
    assert [m.seq for m in await store.changed_since("life", 0, 1, 10)] == [2]  # after seq 1
    assert await store.changed_since("life", 5, 0, 10) == []
    assert (await store.message("life", first.id) or first).body == "one, edited"

    # In an archived room, nothing changes.
    await store.update_room("life", archived=True)
    with pytest.raises(RoomArchivedError):
        await store.change_message("life", first.id, Edit("late"))


async def test_concurrent_changes_are_numbered_gapless(store: Store) -> None:
    await open_room(store, "busy")
    message, _ = await append(store, "busy", "alice", "react to me")
    results = await asyncio.gather(
        *(
            store.change_message("busy", message.id, React(f"u{i % 5}", e, True))
            for i in range(5)
            for e in "👍🎉"
        )
    )
    numbers = sorted(r.change for r in results if r is not None)
    assert numbers == list(range(1, 11))
    final = await store.message("busy", message.id)
    assert final is not None and {r.emoji: r.count for r in final.reactions} == {"👍": 5, "🎉": 5}


async def test_a_message_takes_a_bounded_number_of_different_reactions(store: Store) -> None:
    await open_room(store, "party")
    message, _ = await append(store, "party", "alice", "react away")
    kinds = [
        "😀",
        "😁",
        "😂",
        "🤣",
        "😃",
        "😄",
        "😅",
        "😆",
        "😉",
        "😊",
        "😋",
        "😎",
        "😍",
        "😘",
        "🥰",
        "😗",
        "😙",
        "🥲",
        "😚",
        "🙂",
    ]
    assert len(kinds) == MAX_REACTION_KINDS
    for emoji in kinds:
        assert await store.change_message("party", message.id, React("alice", emoji, True)) is not None
    with pytest.raises(TooManyReactionsError):
        await store.change_message("party", message.id, React("bob", "🤔", True))
    # One already there can still be joined; taking one back makes room for another.
    assert await store.change_message("party", message.id, React("bob", "😀", True)) is not None
    assert await store.change_message("party", message.id, React("alice", "🙂", False)) is not None
    assert await store.change_message("party", message.id, React("bob", "🤔", True)) is not None


async def test_bot_tokens(store: Store) -> None:
    await store.add_bot("deploybot", "hash-1")
    assert await store.bot_for_token("hash-1") == "deploybot"
    await store.add_bot("deploybot", "hash-2")  # a new token: the old one stops working
    assert await store.bot_for_token("hash-1") is None
    assert await store.bot_for_token("hash-2") == "deploybot"
    assert await store.revoke_bot("deploybot") is True
    assert await store.revoke_bot("deploybot") is False
    assert await store.bot_for_token("hash-2") is None
    assert await store.bots() == [("deploybot", True)]


async def test_identities_bind_one_account_to_one_name(store: Store) -> None:
    """Auth mode oidc: an account (issuer, subject) keeps its name; a second account asking for
    a taken name, or one with the same skeleton, gets None; racing accounts never share one."""
    assert await store.bound_user("https://idp", "s1") is None
    assert await store.bind_identity("https://idp", "s1", "Ann", "ann") == "Ann"
    assert await store.bind_identity("https://idp", "s1", "Annie", "annie") == "Ann"  # bound: kept
    assert await store.bound_user("https://idp", "s1") == "Ann"
    assert await store.bind_identity("https://idp", "s2", "Ann", "ann") is None
    assert await store.bind_identity("https://idp", "s2", "ANN", "ann") is None  # looks the same
    assert await store.bind_identity("https://other-idp", "s1", "Ann", "ann") is None
    assert await store.bound_user("https://idp", "s2") is None
    won = await asyncio.gather(*(store.bind_identity("https://idp", f"r{i}", "Rae", "rae") for i in range(6)))
    assert won.count("Rae") == 1 and won.count(None) == 5
    # The same account signing in twice at once: both get its one name.
    same = await asyncio.gather(*(store.bind_identity("https://idp", "t1", "Ty", "ty") for _ in range(4)))
    assert same == ["Ty"] * 4


async def test_a_sign_in_state_is_used_once(store: Store) -> None:
    later = time.time() + 600
    assert await store.use_sign_in_state("d1", later) is True
    assert await store.use_sign_in_state("d1", later) is False
    assert await store.use_sign_in_state("d2", later) is True
    # Expired ones are forgotten (by the next sign-in's housekeeping).
    assert await store.use_sign_in_state("old", time.time() - 1) is True
    await store.use_sign_in_state("d3", later)
    assert await store.use_sign_in_state("old", time.time() + 600) is True
