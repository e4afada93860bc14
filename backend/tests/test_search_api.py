"""GET /api/search and GET /api/rooms/{room}/messages?around= over real HTTP and sockets, in
both stores (PostgreSQL with two workers: a message stored by one is found through the other):
who finds what, the same answer for a room one may not read as for one that does not exist,
what the language does with abuse, edits and deletes, and history from a hit both ways."""

from __future__ import annotations

import uuid
from typing import Any

import httpx
import pytest

from tests.conftest import ServerFactory
from tests.isolation import unique
from tests.people import As, same_as_missing, servers
from tests.services import HubbubServer
from tests.test_message_lifecycle import change

__all__ = ["servers"]  # a fixture
STORES = pytest.mark.parametrize("servers", ["sqlite-1", "postgres-2"], indirect=True)


def search(user: As, q: str, **params: Any) -> httpx.Response:
    return httpx.get(f"{user.server.url}/api/search", params={"q": q, **params}, headers=user.headers)


def found(user: As, q: str, **params: Any) -> list[tuple[str, str]]:
    """(room, body) of every hit, newest first, over as many pages as there are."""
    hits: list[tuple[str, str]] = []
    before: int | None = None
    while True:
        response = search(user, q, limit=2, **params, **({"before": before} if before else {}))
        assert response.status_code == 200, response.text
        page = response.json()
        hits += [(hit["message"]["room"], hit["message"]["body"]) for hit in page["hits"]]
        if page["next_before"] is None:
            return hits
        before = page["next_before"]


@STORES
async def test_who_finds_what(servers: tuple[HubbubServer, HubbubServer]) -> None:
    a, b = servers
    olga, mike = As(a, "olga"), As(b, "mike")
    nina, rita, adam = As(b, "nina"), As(a, "rita"), As(b, "adam")
    word = f"qz{uuid.uuid4().hex[:8]}"  # in this test's messages only
    town, vault, den = unique("town"), unique("vault"), unique("den")
    assert olga.post("/api/rooms", {"name": town}).status_code == 201
    for room in (vault, den):
        assert olga.post("/api/rooms", {"name": room, "visibility": "private"}).status_code == 201
        assert olga.post(f"/api/rooms/{room}/members", {"user": "mike"}).status_code == 201
    for user in ("nina", "rita"):
        assert olga.post(f"/api/rooms/{vault}/members", {"user": user}).status_code == 201
    dm = olga.post("/api/dms", {"users": ["mike"]}).json()["name"]

    ws = await olga.socket()
    said = {}
    for room in (town, vault, den, dm):
        await ws.join(room)
        said[room] = await ws.say(f"{word} in {room}", room=room)
    assert olga.delete(f"/api/rooms/{vault}/members/rita").status_code == 204

    every = [(room, f"{word} in {room}") for room in (dm, den, vault, town)]
    readers = {
        "olga (owner)": (olga, every),
        "mike (member of all)": (mike, every),
        # A member of the vault who is outside the DM and the den.
        "nina (DM outsider, not in the den)": (nina, [every[2], every[3]]),
        "rita (removed from the vault)": (rita, [every[3]]),
        "adam (admin, a member of nothing)": (adam, [every[3]]),
    }
    for who, (reader, expected) in readers.items():
        assert found(reader, word) == expected, who
        for room in (vault, den, dm):
            mine = [hit for hit in expected if hit[0] == room]
            assert found(reader, f"in:{room} {word}") == mine, (who, room)
            assert found(reader, word, room=room) == mine, (who, room)
            if mine:
                continue
            # Not theirs to read: every answer is the one for a room that does not exist.
            pairs = [
                (search(reader, f"in:{room} {word}"), search(reader, f"in:nosuchroom {word}")),
                (search(reader, word, room=room), search(reader, word, room="nosuchroom")),
            ]
            for asked, missing in pairs:
                assert (asked.status_code, asked.text) == (missing.status_code, missing.text), (who, room)
            around = reader.get(f"/api/rooms/{room}/messages?around={said[room]['seq']}")
            nowhere = reader.get("/api/rooms/nosuchroom/messages?around=1")
            assert same_as_missing(around, room, nowhere, "nosuchroom"), (who, room)
    # Marks: where the hit matches, in UTF-16 units of its body.
    hit = search(mike, f'"{word} in"', room=town).json()["hits"][0]
    body = hit["message"]["body"]
    assert [body[s : s + n] for s, n in hit["marks"]] == [f"{word} in"]


@STORES
async def test_found_as_it_is_now(servers: tuple[HubbubServer, HubbubServer]) -> None:
    a, b = servers
    olga, mike = As(a, "olga"), As(b, "mike")
    room = unique("edits")
    assert olga.post("/api/rooms", {"name": room}).status_code == 201
    ws = await olga.socket()
    await ws.join(room)
    first = await ws.say("the reciept is attached", room=room)
    second = await ws.say("a second thought", room=room)
    # Found at once, through the other worker too.
    assert found(mike, "reciept", room=room) == [(room, "the reciept is attached")]
    assert (await change(ws, type="edit", room=room, id=first["id"], body="the receipt is attached"))[
        "type"
    ] == "applied"
    assert found(mike, "reciept", room=room) == []
    assert found(mike, "receipt", room=room) == [(room, "the receipt is attached")]
    assert (await change(ws, type="delete", room=room, id=second["id"]))["type"] == "applied"
    assert found(mike, "thought", room=room) == []
    assert found(mike, "a", room=room) == [(room, "the receipt is attached")]


@pytest.mark.parametrize("servers", ["sqlite-1"], indirect=True)
async def test_abuse_gets_a_clear_answer(servers: tuple[HubbubServer, HubbubServer]) -> None:
    a, _ = servers
    olga = As(a, "olga")
    room = unique("abuse")
    assert olga.post("/api/rooms", {"name": room}).status_code == 201
    ws = await olga.socket()
    await ws.join(room)
    await ws.say('NEAR(x y) AND "z" OR NOT * col:w 🎉 party', room=room)
    hit = [(room, 'NEAR(x y) AND "z" OR NOT * col:w 🎉 party')]
    # Raw FTS syntax, unbalanced quotes, emoji: text to find, like any other.
    for q in ("NEAR(x", '"z" OR', "col:w", '"🎉 party', "*", "🎉", "col:w -nothing"):
        assert found(olga, q, room=room) == hit, q
    for q in ('"unbalanced', "zzz", "\u0301zzz"):
        assert found(olga, q, room=room) == [], q
    # Too much, or nothing: 400 or 422 with a reason, never a server error.
    for q, status, says in [
        (" ".join(["w"] * 10_000), 422, "at most 500 characters"),
        (" ".join(["w"] * 40), 400, "at most 32 words and operators"),
        ("\u0301 \u0301", 400, "nothing to search for"),
        ("x\x00y party", 400, "NUL characters are not allowed"),  # as on every input
        ('""', 400, "nothing to search for"),
        ("x" * 101, 400, "at most 100 characters"),
        ("has:pdf", 400, "has: takes link, file"),
        ("before:someday", 400, "before: takes a date like 2026-11-30"),
        ("", 422, "at least 1 character"),
    ]:
        answer = search(olga, q)
        assert answer.status_code == status and says in answer.text, (q[:20], answer.text)
    for params in ({"limit": 101}, {"limit": 0}, {"utc_offset": 841}, {"before": 0}, {"room": "Not A Room"}):
        assert search(olga, "x", **params).status_code == 422, params
    # The log says what was refused, and not what was typed (the access log neither).
    search(olga, "secretword " * 40)
    assert "search refused for olga: a search has at most 32 words" in a.log()
    assert "secretword" not in a.log()


@pytest.mark.parametrize("servers", ["sqlite-1", "postgres-1"], indirect=True)
async def test_history_around_a_message_both_ways(servers: tuple[HubbubServer, HubbubServer]) -> None:
    a, _ = servers
    olga = As(a, "olga")
    room = unique("around")
    assert olga.post("/api/rooms", {"name": room}).status_code == 201
    ws = await olga.socket()
    await ws.join(room)
    for i in range(1, 31):
        await ws.say(f"message {i}", room=room)

    def page(**params: Any) -> tuple[list[int], bool, bool]:
        answer = olga.get(f"/api/rooms/{room}/messages?" + "&".join(f"{k}={v}" for k, v in params.items()))
        assert answer.status_code == 200, answer.text
        body = answer.json()
        return [m["seq"] for m in body["messages"]], body["has_more"], body["has_newer"]

    assert page(around=15, limit=10) == (list(range(10, 20)), True, True)
    assert page(before=10, limit=10) == (list(range(1, 10)), False, True)
    assert page(after=19, limit=20) == (list(range(20, 31)), True, False)
    assert page(after=19, limit=5) == (list(range(20, 25)), True, True)
    assert page(around=30, limit=10) == (list(range(21, 31)), True, False)  # the older side fills
    assert page(around=1, limit=10) == (list(range(1, 11)), False, True)
    assert page(around=99, limit=3) == ([28, 29, 30], True, False)  # past the newest
    assert page(limit=5) == ([26, 27, 28, 29, 30], True, False)
    assert page(after=0, limit=3) == ([1, 2, 3], False, True)
    assert page(around=7, limit=1) == ([7], True, True)
    both = olga.get(f"/api/rooms/{room}/messages?around=5&before=9")
    assert (both.status_code, both.json()["detail"]) == (400, "use one of before, after and around")


async def test_searches_are_limited_per_user(hubbub_server: ServerFactory) -> None:
    # Two searches a minute: three within one (no machine takes a minute for three) and the
    # third is refused.
    server = hubbub_server({"HUBBUB_SEARCHES_PER_MINUTE": "2"})
    with httpx.Client(base_url=server.url) as http:
        assert http.post("/api/login", json={"name": unique("seeker")}).status_code == 200
        assert [http.get("/api/search", params={"q": "x"}).status_code for _ in range(2)] == [200, 200]
        refused = http.get("/api/search", params={"q": "x"})
        assert refused.status_code == 429 and int(refused.headers["Retry-After"]) >= 1
        assert "too many searches" in refused.json()["detail"]
