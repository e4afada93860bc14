"""One search contract, both databases: SQLite (FTS5) and a real PostgreSQL (GIN) find exactly
the same messages for every query: words in any language and of any length, substrings,
accents, case, phrases, exclusions, prefixes, operators; only in rooms the reader may read; as
the messages are now (edited, deleted); newest first, page after page."""

from __future__ import annotations

import asyncio
import re
from pathlib import Path

import pytest

from hubbub.model import Delete, Draft, Edit, Found, NewRoom, React, SearchQueryError, StoredMessage
from hubbub.search.fold import fold
from hubbub.search.query import parse
from hubbub.search.terms import PUBLIC_SCOPE, scoped
from hubbub.store import Store
from hubbub.store import database as store_database
from hubbub.store.search.base import Narrowing, Needs
from hubbub.store.search.fts5 import token
from tests.conftest import fresh_database
from tests.stores import create_store, store, store_url
from tests.test_migrations import load_legacy

__all__ = ["store", "store_url"]  # fixtures

# Every message of the corpus by its key, posted in this order by alice in the public room.
CORPUS = {
    "german": "Die Donaudampfschifffahrt fährt morgen",
    "hotel": "Wir treffen uns im Hôtel Ritz",
    "strasse": "Hauptstraße 5",
    "zh": "我们明天在上海开会",
    "ja": "会議は東京で行います",
    "kana": "ラーメンを食べたい",
    "ko": "회의는 서울에서",
    "cat": "猫がいる",
    "short": "ok go",
    "case": "SHOUTING About Deploys",
    "phrase": "the exact phrase here, and more",
    "scattered": "phrase the exact here",
    "link": "see https://example.com/docs now",
    "protocol": "http is a protocol",
    "prefix": "hotfix shipped; shot down",
    "emoji": "party time 🎉🎉",
    "cpp": "I write c++ and C#",
    "wide": "ＦＵＬＬ width ＡＢＣ",  # noqa: RUF001
    "ligature": "ﬁnance report",
    "fts": 'NEAR(a b) AND "quoted" OR NOT * ^col:x',
    "quote": 'she said "hi" and left',
    "thai": "ภาษาไทย",
    "accents": "crème brûlée à la carte",
    "decomposed": "cre\u0300me bru\u0302le\u0301e",
}

# What each query finds, pinned down (the reference matcher below must agree too).
EXPECTED = {
    "dampfschiff": {"german"},
    "DAMPFSCHIFF": {"german"},
    "fahrt": {"german"},
    "hotel": {"hotel"},
    "hôtel": {"hotel"},
    "HOTEL": {"hotel"},
    "strasse": {"strasse"},
    "straße": {"strasse"},
    "上海": {"zh"},
    "上": {"zh"},
    "海开": {"zh"},
    "我们明天在上海开会": {"zh"},
    "会議": {"ja"},
    "東京": {"ja"},
    "ラーメン": {"kana"},
    "ﾗｰﾒﾝ": {"kana"},  # half-width katakana
    "ー": {"kana"},
    "회의": {"ko"},
    "서울": {"ko"},
    "猫": {"cat"},
    "ไทย": {"thai"},
    "ok": {"short"},
    "go": {"short"},
    '"exact phrase"': {"phrase"},
    "exact phrase": {"phrase", "scattered"},
    'phrase -"exact phrase"': {"scattered"},
    "hot*": {"hotel", "prefix"},
    "hot* -hotel": {"prefix"},
    "hot* -hot*": set(),
    "-hot* hotfix": set(),
    "has:link": {"link"},
    "http": {"link", "protocol"},
    "🎉": {"emoji"},
    "c++": {"cpp"},
    "c#": {"cpp"},
    "full abc": {"wide"},
    "ＡＢＣ": {"wide"},  # noqa: RUF001
    "finance": {"ligature"},
    "creme brulee": {"accents", "decomposed"},
    "crème": {"accents", "decomposed"},
    "CRÈME BRÛLÉE": {"accents", "decomposed"},
    "NEAR(a": {"fts"},
    "^col:x": {"fts"},
    '"hi" said': {"quote"},
    '"unclosed quote': set(),
    '"a la carte': {"accents"},
    "from:alice hotel": {"hotel"},
    "from:@alice hotel": {"hotel"},
    "from:bob hotel": set(),
    "in:lobby 上海": {"zh"},
    "in:#lobby 上海": {"zh"},
    "in:elsewhere 上海": set(),
    "after:2000-01-01 猫": {"cat"},
    "before:2000-01-01 猫": set(),
    "after:2999-01-01 猫": set(),
    "zzzz": set(),
}
# Raw FTS5 and tsquery syntax, typed: searched for as text, never interpreted.
ABUSE = ["*", "-", "-*", "AND", "NOT ok", "a OR b", "(", ")", "NEAR(", ":", "'", "\\", "%", "_", "&|!"]


async def post(
    store: Store, room: str, author: str, body: str, mentions: tuple[str, ...] = ()
) -> StoredMessage:
    (result,) = await store.append_many([Draft(room, author, body, mentions=mentions)])
    assert not isinstance(result, Exception), result
    return result[0]


async def bodies(store: Store, user: str | None, text: str, limit: int = 100) -> list[str]:
    found = await store.search(user, parse(text), None, limit)
    return [m.body for m in found.messages]


async def lobby(store: Store) -> dict[str, StoredMessage]:
    await store.ensure_room("lobby")
    await store.ensure_room("elsewhere")
    await store.add_members("lobby", ["alice", "bob"])
    return {key: await post(store, "lobby", "alice", body) for key, body in CORPUS.items()}


async def test_every_language_and_operator_finds_what_it_should(store: Store) -> None:
    await lobby(store)
    by_body = {body: key for key, body in CORPUS.items()}
    wrong: dict[str, object] = {}
    for text, expected in EXPECTED.items():
        found = {by_body[body] for body in await bodies(store, "bob", text)}
        # The reference: the language's own matcher over every message, by brute force.
        query = parse(text)
        reference = {key for key, body in CORPUS.items() if query.matches(fold(body))}
        if query.authors - {"alice"} or query.rooms - {"lobby"} or query.has or query.before or query.after:
            reference = expected  # the operators are the store's to apply
        if found != expected or reference != expected:
            wrong[text] = {
                "found": sorted(found),
                "expected": sorted(expected),
                "reference": sorted(reference),
            }
    assert not wrong, wrong


async def test_what_is_typed_raw_is_only_text(store: Store) -> None:
    await lobby(store)
    for text in ('"', '""', '-""', "   "):
        with pytest.raises(SearchQueryError, match="nothing to search for"):
            parse(text)
    for text in ABUSE:
        query = parse(text)
        expected = sorted(body for body in CORPUS.values() if query.matches(fold(body)))
        assert sorted(await bodies(store, "bob", text)) == expected, text


async def test_newest_first_page_after_page(store: Store) -> None:
    await store.ensure_room("pages")
    await store.add_members("pages", ["alice"])
    posted = [await post(store, "pages", "alice", f"page number {i}") for i in range(25)]
    seen: list[str] = []
    before = None
    pages = 0
    while True:
        found = await store.search("alice", parse("page"), before, 10)
        seen += [m.body for m in found.messages]
        pages += 1
        if found.next_before is None:
            break
        before = found.next_before
    assert seen == [m.body for m in reversed(posted)]
    assert pages == 3


async def test_a_page_fills_past_candidates_that_only_look_alike(store: Store) -> None:
    """hot* is a substring to the database and a word's start to the language: the many
    newer "shot"s are read and passed over, chunk after chunk, until the page is full."""
    await store.ensure_room("range")
    await store.add_members("range", ["alice"])
    hotels = [await post(store, "range", "alice", f"hotel {i}") for i in range(3)]
    for i in range(250):
        await store.append_many([Draft("range", "alice", f"a shot {i}")])
    found = await store.search("alice", parse("hot*"), None, 2)
    assert [m.body for m in found.messages] == ["hotel 2", "hotel 1"]
    rest = await store.search("alice", parse("hot*"), found.next_before, 2)
    assert ([m.body for m in rest.messages], rest.next_before) == (["hotel 0"], None)
    assert hotels[0].body == "hotel 0"


async def test_only_rooms_the_reader_may_read(store: Store) -> None:
    await store.ensure_room("town")
    await store.add_members("town", ["olga", "mike", "rita"])
    await store.create_room(NewRoom("vault", "private", "olga", ("olga", "mike", "rita")))
    await store.create_room(NewRoom("dm-olga-mike", "dm", None, ("mike", "olga"), dm_key="mike\nolga"))
    await post(store, "town", "olga", "plans for the town")
    await post(store, "vault", "olga", "plans for the vault")
    await post(store, "dm-olga-mike", "olga", "plans for us two")
    await store.remove_member("vault", "rita")
    readers = {
        "olga": ["plans for us two", "plans for the vault", "plans for the town"],
        "mike": ["plans for us two", "plans for the vault", "plans for the town"],
        "rita": ["plans for the town"],  # removed from the vault
        "nina": ["plans for the town"],  # a member of nothing
        None: ["plans for the town"],  # nobody signed in
    }
    for reader, expected in readers.items():
        # Which rooms a reader finds is the verdict here. Across rooms, "newest first" follows
        # the order in which each room was indexed; it can put one a moment ahead of another.
        assert sorted(await bodies(store, reader, "plans")) == sorted(expected), reader
        assert await bodies(store, reader, "in:vault plans") == (
            ["plans for the vault"] if reader in ("olga", "mike") else []
        ), reader
        assert await bodies(store, reader, "in:nosuch plans") == [], reader
        assert sorted(await bodies(store, reader, "from:olga")) == sorted(expected), reader
    await post(store, "vault", "mike", "@olga look", mentions=("olga",))
    await post(store, "town", "mike", "@room look", mentions=("@room",))
    assert sorted(await bodies(store, "olga", "is:mentioned")) == ["@olga look", "@room look"]  # two rooms
    assert await bodies(store, "rita", "is:mentioned") == ["@room look"]
    assert await bodies(store, "nina", "is:mentioned") == []  # @room is its members, not readers
    assert await bodies(store, "mike", "is:mentioned") == []  # his own
    assert await bodies(store, None, "is:mentioned") == []


def asked(store: Store, monkeypatch: pytest.MonkeyPatch) -> list[list[str]]:
    """The terms each narrowing asks the store's index for (as FTS5 tokens, whichever the
    index: token() is one-to-one), from the bound values of its condition, not from Needs."""
    index = store._index  # type: ignore[attr-defined]
    narrow, calls = index.narrow, []

    def recording(needs: Needs) -> Narrowing | None:
        narrowing: Narrowing | None = narrow(needs)
        terms: list[str] = []
        if narrowing is not None:
            for value in narrowing.where.compile().params.values():
                if isinstance(value, str):  # FTS5's MATCH expression: only quoted tokens
                    assert re.fullmatch(r'[()"A-Za-z0-9_\x80-\U0010ffff ]*', value), value
                    terms += re.findall(r'"([^"]*)"', value)
                else:
                    terms += [token(term) for term in value]
        calls.append(terms)
        return narrowing

    monkeypatch.setattr(index, "narrow", recording)
    return calls


async def test_the_index_is_asked_only_about_scopes_the_reader_may_read(
    store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    await store.ensure_room("square")
    await store.add_members("square", ["olga", "rita"])
    await store.create_room(NewRoom("safe", "private", "olga", ("olga",)))
    await store.create_room(NewRoom("safe2", "private", "rita", ("rita",)))
    await store.create_room(NewRoom("dm-olga-rita", "dm", None, ("olga", "rita"), dm_key="olga\nrita"))
    await post(store, "safe", "olga", "combination 1234 https://x.example")
    await post(store, "safe2", "rita", "combination of rita")
    await post(store, "square", "olga", "the square")
    calls = asked(store, monkeypatch)
    queries = ["combination", "1234", "ok", "from:olga", "has:link", "in:safe combination", "comb*", "上海"]
    scopes = {
        "rita": {PUBLIC_SCOPE, "safe2", "dm-olga-rita"},
        "nina": {PUBLIC_SCOPE},
        None: {PUBLIC_SCOPE},
        "olga": {PUBLIC_SCOPE, "safe", "dm-olga-rita"},
    }
    every = {PUBLIC_SCOPE, "safe", "safe2", "dm-olga-rita"}
    for reader, readable in scopes.items():
        for q in queries:
            calls.clear()
            await bodies(store, reader, q)
            terms = [term for call in calls for term in call]
            assert terms or q.startswith("in:"), (reader, q)  # in: a room not theirs: not asked
            named = {scope for term in terms for scope in every if term.startswith(token(scoped(scope, "")))}
            # Every term is of one scope, and of one the reader may read.
            assert all(any(term.startswith(token(scoped(s, ""))) for s in readable) for term in terms)
            assert named <= readable, (reader, q, named)
            if q == "combination":
                assert named == readable, (reader, q)  # every readable scope, each by its grams
    assert await bodies(store, "rita", "combination") == ["combination of rita"]
    assert await bodies(store, "olga", "combination") == ["combination 1234 https://x.example"]
    assert await bodies(store, "nina", "combination") == []


async def test_a_reader_of_many_rooms_searches_them_all(
    store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    rooms = [f"many-{i:03}" for i in range(300)]
    for room in rooms:
        await store.create_room(NewRoom(room, "private", "mona", ("mona",)))
    await post(store, rooms[-1], "mona", "needle in the last room")
    await post(store, rooms[0], "mona", "needle in the first room")
    calls = asked(store, monkeypatch)
    # As sets: two rooms' messages stored in the same millisecond come in the order their
    # rooms were indexed in (the search is newest first by document, per millisecond).
    both = {"needle in the first room", "needle in the last room"}
    found = await bodies(store, "mona", "needle")
    assert sorted(found) == sorted(both)
    # One gram per text of each of the 300 rooms (and in PostgreSQL the room's own term), all
    # the public scope's: bounded.
    assert len(calls) == 1 and len(calls[0]) <= 2 * 300 + 12
    assert sorted(await bodies(store, "mona", "needle in the")) == sorted(both)
    assert await bodies(store, "mona", "nt") == []


async def test_the_index_follows_edits_and_deletes(store: Store) -> None:
    await store.ensure_room("edits")
    await store.add_members("edits", ["alice", "bob"])
    first = await post(store, "edits", "alice", "a typo in the firts line")
    second = await post(store, "edits", "alice", "second line with http://x.example")
    assert await bodies(store, "bob", "firts") == ["a typo in the firts line"]
    await store.change_message("edits", first.id, Edit("a typo in the first line"))
    assert await bodies(store, "bob", "firts") == []
    assert await bodies(store, "bob", "first") == ["a typo in the first line"]
    await store.change_message("edits", first.id, React("bob", "👍", True))  # not a new text
    assert await bodies(store, "bob", "first") == ["a typo in the first line"]
    assert await bodies(store, "bob", "has:link") == ["second line with http://x.example"]
    await store.change_message("edits", second.id, Edit("second line, no link"))
    assert await bodies(store, "bob", "has:link") == []
    await store.change_message("edits", second.id, Delete())
    assert await bodies(store, "bob", "line") == ["a typo in the first line"]
    # And once the index has followed by itself, the same.
    assert await store.follow_index(None, 100) == 0
    assert await bodies(store, "bob", "second") == []


async def test_following_is_exact_whoever_does_it(store: Store, store_url: str) -> None:
    """Two stores on one database (two workers) follow at once: every message once."""
    await store.ensure_room("twice")
    await store.add_members("twice", ["alice"])
    for i in range(40):
        await store.append_many([Draft("twice", "alice", f"twice {i}")])
    other = create_store(store_url)
    await other.start()
    try:
        counts = await asyncio.gather(
            *(s.follow_index(None, 7) for s in (store, other) for _ in range(4)),
        )
        assert sum(counts) >= 28
        while await store.follow_index(None, 7) == 7:
            pass
        assert await store.follow_index(None, 7) == 0
        found = await store.search("alice", parse("twice"), None, 100)
        assert sorted(m.seq for m in found.messages) == list(range(1, 41))
    finally:
        await other.close()


async def test_a_search_catches_up_on_what_is_not_indexed_yet(
    store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    await store.ensure_room("late")
    await store.add_members("late", ["alice"])
    for i in range(12):
        await store.append_many([Draft("late", "alice", f"late {i}")])
    # Past what a search catches up on by itself (history from before search, just after an
    # upgrade): what is indexed is found, and the rest once the indexer has got to it.
    monkeypatch.setattr(store_database, "CATCH_UP", 5)
    found = await store.search("alice", parse("late"), None, 100)
    assert sorted(m.seq for m in found.messages) == [1, 2, 3, 4, 5]
    monkeypatch.setattr(store_database, "CATCH_UP", 2000)
    found = await store.search("alice", parse("late"), None, 100)
    assert len(found.messages) == 12


@pytest.mark.parametrize("kind", ["sqlite", "postgres"])
async def test_an_upgraded_database_is_searched_as_it_is(
    kind: str, request: pytest.FixtureRequest, tmp_path: Path
) -> None:
    async def check(url: str) -> None:
        await load_legacy(url, 4)
        upgraded = create_store(url)
        await upgraded.start()
        try:
            # An edited message as it is now, a deleted one not at all, each only to its readers.
            found: Found = await upgraded.search("carol", parse("hello"), None, 10)
            assert [(m.room, m.body) for m in found.messages] == [("general", "hello, edited")]
            assert await bodies(upgraded, "carol", "plans") == ["@room plans"]
            assert await bodies(upgraded, "carol", "psst") == ["psst"]
            assert await bodies(upgraded, "bob", "psst") == []
            assert await bodies(upgraded, "bob", "plans") == []
            assert await bodies(upgraded, "bob", "words") == ["last words"]  # archived: still there
            assert await upgraded.follow_index(None, 1000) == 0
        finally:
            await upgraded.close()

    if kind == "sqlite":
        await check(f"sqlite:///{tmp_path / 'old.db'}")
        return
    async with fresh_database(request.getfixturevalue("postgres_url")) as url:
        await check(url)
