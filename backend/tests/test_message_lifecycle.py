"""Messages that live: edits, deletes, reactions and bots, over real sockets and HTTP, in both
stores, with one worker and with two sharing Redis (the `servers` fixture)."""

from __future__ import annotations

import asyncio
import uuid
from pathlib import Path
from typing import Any

import httpx
import pytest
from websockets.asyncio.client import connect

from tests.client import ChatClient
from tests.conftest import ServerFactory
from tests.isolation import unique
from tests.people import As, servers
from tests.services import HubbubServer, hubbub_cli

__all__ = ["servers"]  # a fixture


async def change(ws: ChatClient, **frame: Any) -> dict[str, Any]:
    """Send an edit/delete/react with a ref; returns its answer (applied or error)."""
    ref = uuid.uuid4().hex
    await ws.send(ref=ref, **frame)
    return await ws.expect("applied|error", lambda f: f.get("ref") == ref)


def history(user: As, room: str) -> dict[int, dict[str, Any]]:
    response = user.get(f"/api/rooms/{room}/messages?limit=100")
    assert response.status_code == 200, response.text
    return {m["seq"]: m for m in response.json()["messages"]}


def without(frame: dict[str, Any], *keys: str) -> dict[str, Any]:
    return {k: v for k, v in frame.items() if k not in keys}


@pytest.mark.parametrize("servers", ["sqlite-1", "postgres-2"], indirect=True)
async def test_who_may_change_what(servers: tuple[HubbubServer, HubbubServer]) -> None:
    a, b = servers
    olga, mike, rita = As(a, "olga"), As(b, "mike"), As(a, "rita")
    nina, adam = As(b, "nina"), As(a, "adam")  # not members; adam is an admin
    ops, lobby = unique("ops"), unique("lobby")
    assert olga.post("/api/rooms", {"name": ops, "visibility": "private"}).status_code == 201
    assert olga.post("/api/rooms", {"name": lobby}).status_code == 201
    for user in ("mike", "rita"):
        assert olga.post(f"/api/rooms/{ops}/members", {"user": user}).status_code == 201
    ws = {name: await person.socket() for name, person in [("olga", olga), ("mike", mike), ("rita", rita)]}
    ws |= {"nina": await nina.socket(), "adam": await adam.socket()}
    await ws["mike"].join(ops)
    await ws["olga"].join(ops)
    first = await ws["mike"].say("by mike", room=ops)
    second = await ws["mike"].say("mike again", room=ops)
    by_olga = await ws["olga"].say("by the owner", room=ops)

    async def code(who: str, **frame: Any) -> str:
        answer = await change(ws[who], room=ops, **frame)
        return "ok" if answer["type"] == "applied" else str(answer["code"])

    # Edit: the author only. Owner and members: forbidden. Outsiders, admin too: no such message.
    assert await code("olga", type="edit", id=first["id"], body="x") == "forbidden"
    assert await code("rita", type="edit", id=first["id"], body="x") == "forbidden"
    assert await code("nina", type="edit", id=first["id"], body="x") == "unknown_message"
    assert await code("adam", type="edit", id=first["id"], body="x") == "unknown_message"
    assert await code("mike", type="edit", id=first["id"], body="by mike, fixed") == "ok"
    # React: members.
    assert await code("rita", type="react", id=first["id"], emoji="👍", on=True) == "ok"
    assert await code("nina", type="react", id=first["id"], emoji="👍", on=True) == "unknown_message"
    # Delete: the author, the owner; not another member, not an outsider.
    assert await code("rita", type="delete", id=second["id"]) == "forbidden"
    assert await code("nina", type="delete", id=second["id"]) == "unknown_message"
    assert await code("mike", type="delete", id=by_olga["id"]) == "forbidden"
    assert await code("olga", type="delete", id=second["id"]) == "ok"  # the owner
    assert await code("olga", type="delete", id=by_olga["id"]) == "ok"  # the author
    # A deleted message is gone for every change, as one that never was.
    assert await code("mike", type="edit", id=second["id"], body="back?") == "unknown_message"

    # An outsider learns nothing: a real id in a room they cannot read is answered exactly as
    # a made-up id there, and as any id in a room that does not exist.
    real = await change(ws["nina"], type="edit", room=ops, id=first["id"], body="x")
    made_up = await change(ws["nina"], type="edit", room=ops, id="f" * 32, body="x")
    nowhere = await change(ws["nina"], type="edit", room="nosuchroom", id="f" * 32, body="x")
    assert without(real, "ref", "message") == without(made_up, "ref", "message")
    assert real["message"].replace(first["id"], "X") == made_up["message"].replace("f" * 32, "X")
    assert without(nowhere, "ref", "message", "room") == without(made_up, "ref", "message", "room")

    # An admin deletes in a public room they are not a member of; a member there may not.
    nina_lobby = ws["nina"]
    await nina_lobby.join(lobby)
    posted = await nina_lobby.say("spam", room=lobby)
    await ws["rita"].join(lobby)
    assert (await change(ws["rita"], type="delete", room=lobby, id=posted["id"]))["code"] == "forbidden"
    assert (await change(ws["adam"], type="delete", room=lobby, id=posted["id"]))["type"] == "applied"

    # Bad input: a clear error, and the connection stays.
    for frame, where in [
        ({"type": "react", "room": ops, "id": first["id"], "emoji": "not one", "on": True}, "emoji"),
        ({"type": "react", "room": ops, "id": first["id"], "emoji": "👍👍", "on": True}, "emoji"),
        ({"type": "react", "room": ops, "id": first["id"], "emoji": "<b>", "on": True}, "emoji"),
        ({"type": "react", "room": ops, "id": first["id"], "emoji": "👍", "on": "yes"}, "on"),
        ({"type": "edit", "room": ops, "id": first["id"], "body": ""}, "body"),
        ({"type": "edit", "room": ops, "id": "../x", "body": "y"}, "id"),
        ({"type": "delete", "room": ops, "id": ["x"]}, "id"),
    ]:
        await ws["mike"].send(**frame)
        error = await ws["mike"].expect("error")
        assert error["code"] == "invalid_message" and f".{where}" in error["message"], error
    assert (await ws["mike"].say("still here", room=ops))["type"] == "ack"

    shown = history(mike, ops)
    assert shown[first["seq"]]["body"] == "by mike, fixed" and shown[first["seq"]]["edited_at"]
    for client in ws.values():
        await client.close()


async def test_changes_reach_everyone_and_history_keeps_tombstones(
    servers: tuple[HubbubServer, HubbubServer],
) -> None:
    a, b = servers
    olga, mike = As(a, "olga"), As(b, "mike")
    writer, reader, plain = await olga.socket(), await mike.socket(), await mike.socket()
    room = "lifecycle-" + uuid.uuid4().hex[:6]
    assert olga.post("/api/rooms", {"name": room}).status_code == 201
    for ws in (writer, reader, plain):
        await ws.join(room)
    posted = [await writer.say(f"message {i}", room=room) for i in range(3)]
    for ws in (reader, plain):
        await ws.messages(3, room=room)
    head = posted[-1]["seq"]

    assert (await change(writer, type="edit", room=room, id=posted[0]["id"], body="**bold** now"))[
        "change"
    ] == 1
    updated = await reader.expect("message_updated")
    assert without(updated, "edited_at") == {
        "type": "message_updated",
        "room": room,
        "id": posted[0]["id"],
        "seq": posted[0]["seq"],
        "body": "**bold** now",
        "change": 1,
    }
    assert updated["edited_at"] >= posted[0]["ts"]
    # Editing to the same body changes nothing: no change number, no event.
    same = await change(writer, type="edit", room=room, id=posted[0]["id"], body="**bold** now")
    assert same["type"] == "applied" and same["change"] is None

    # Reactions: one per user per emoji, idempotent both ways.
    assert (await change(reader, type="react", room=room, id=posted[1]["id"], emoji="🎉", on=True))[
        "change"
    ] == 2
    assert (await change(reader, type="react", room=room, id=posted[1]["id"], emoji="🎉", on=True))[
        "change"
    ] is None
    assert (await change(writer, type="react", room=room, id=posted[1]["id"], emoji="🎉", on=True))[
        "change"
    ] == 3
    assert (await change(writer, type="react", room=room, id=posted[1]["id"], emoji="👍🏽", on=True))[
        "change"
    ] == 4
    assert (await change(writer, type="react", room=room, id=posted[1]["id"], emoji="👍🏽", on=False))[
        "change"
    ] == 5
    assert (await change(writer, type="react", room=room, id=posted[1]["id"], emoji="👍🏽", on=False))[
        "change"
    ] is None
    events = [await plain.expect("reactions") for _ in range(4)]
    assert [e["change"] for e in events] == [2, 3, 4, 5]
    assert events[-1]["reactions"] == [{"emoji": "🎉", "count": 2, "users": ["mike", "olga"]}]

    assert (await change(writer, type="delete", room=room, id=posted[2]["id"]))["change"] == 6
    deleted = await reader.expect("message_deleted")
    assert deleted == {
        "type": "message_deleted",
        "room": room,
        "id": posted[2]["id"],
        "seq": head,
        "change": 6,
    }

    shown = history(mike, room)
    assert sorted(shown) == [p["seq"] for p in posted]  # the seq stays: gapless
    assert shown[posted[0]["seq"]]["body"] == "**bold** now" and shown[posted[0]["seq"]]["edited_at"]
    assert shown[posted[1]["seq"]]["reactions"] == [{"emoji": "🎉", "count": 2, "users": ["mike", "olga"]}]
    tomb = shown[head]
    assert tomb["deleted"] is True and tomb["body"] == "" and tomb["reactions"] == [] and tomb["change"] == 6
    # The room's head is its last message's seq still; the next message follows it.
    assert (await writer.say("after the delete", room=room))["seq"] == head + 1
    rooms = {r["name"]: r for r in mike.get("/api/rooms").json()}
    assert rooms[room]["head"] == head + 1
    for ws in (writer, reader, plain):
        await ws.close()


async def test_a_client_away_sees_the_same_room_after_resuming(
    servers: tuple[HubbubServer, HubbubServer],
) -> None:
    a, b = servers
    olga, mike = As(a, "olga"), As(b, "mike")
    room = "resume-" + uuid.uuid4().hex[:6]
    assert olga.post("/api/rooms", {"name": room}).status_code == 201
    writer, away = await olga.socket(), await mike.socket()
    await writer.join(room)
    posted = [await writer.say(f"m{i}", room=room) for i in range(5)]
    joined = await away.join(room)
    await away.messages(5, room=room)
    # Changes it saw live before going away.
    await change(writer, type="react", room=room, id=posted[0]["id"], emoji="👀", on=True)
    seen = await away.expect("reactions")
    cursor, changes = posted[-1]["seq"], max(joined["changes"], seen["change"])
    await away.close()

    # While it is away: edits (twice on one message), a delete, reactions, a new message.
    away_changes = [
        dict(type="edit", id=posted[1]["id"], body="m1 edited"),
        dict(type="edit", id=posted[1]["id"], body="m1 edited twice"),
        dict(type="delete", id=posted[2]["id"]),
        dict(type="react", id=posted[3]["id"], emoji="✅", on=True),
        dict(type="react", id=posted[0]["id"], emoji="👀", on=False),
    ]
    for frame in away_changes:
        assert (await change(writer, room=room, **frame))["type"] == "applied"
    later = await writer.say("m5", room=room)
    assert (await change(writer, type="edit", room=room, id=later["id"], body="m5 edited"))[
        "type"
    ] == "applied"

    server = {
        seq: {k: m[k] for k in ("body", "deleted", "reactions")} for seq, m in history(mike, room).items()
    }
    assert (
        server[posted[1]["seq"]]["body"] == "m1 edited twice" and server[later["seq"]]["body"] == "m5 edited"
    )
    back = await mike.socket()
    await back.send(type="join", room=room, after=cursor, changes_after=changes)
    rejoined = await back.expect("joined")
    # Everything the resume sends comes before a message sent after it: replay what arrives
    # until that message onto the copy the client had, and compare with the server's.
    await writer.say("marker", room=room)
    copy = {m["seq"]: {"body": f"m{i}", "deleted": False, "reactions": []} for i, m in enumerate(posted)}
    copy[posted[0]["seq"]]["reactions"] = seen["reactions"]
    newest = changes
    frames: list[dict[str, Any]] = []
    while (frame := await back.recv()).get("body") != "marker":
        if frame.get("room") != room:
            continue
        frames.append(frame)
        kind = frame["type"]
        if kind == "message":
            copy[frame["seq"]] = {k: frame[k] for k in ("body", "deleted", "reactions")}
        elif kind == "message_updated":
            copy[frame["seq"]]["body"] = frame["body"]
        elif kind == "message_deleted":
            copy[frame["seq"]] |= {"body": "", "deleted": True, "reactions": []}
        elif kind == "reactions":
            copy[frame["seq"]]["reactions"] = frame["reactions"]
        if "change" in frame:
            newest = max(newest, frame["change"])
    assert copy == server
    assert newest == rejoined["changes"]
    # Several changes to one message while away: only its state now, not each step.
    updates = [f for f in frames if f["type"] == "message_updated" and f["id"] == posted[1]["id"]]
    assert len(updates) == 1
    for ws in (writer, back):
        await ws.close()


@pytest.mark.parametrize("servers", ["sqlite-2"], indirect=True)
async def test_plain_text_clients_are_not_sent_changes(servers: tuple[HubbubServer, HubbubServer]) -> None:
    a, _ = servers
    ws = await As(a, "olga").socket()
    await ws.join("general")
    async with connect(f"{a.ws_url}/ws/4242?token=token-of-rita-0123") as plain:
        await plain.send("ready")  # in the room from its first line on
        while await asyncio.wait_for(plain.recv(), 10) != "You wrote: ready":
            pass
        posted = await ws.say("hello plain", room="general")
        while "hello plain" not in str(await asyncio.wait_for(plain.recv(), 10)):
            pass
        await change(ws, type="edit", room="general", id=posted["id"], body="edited")
        await change(ws, type="react", room="general", id=posted["id"], emoji="👍", on=True)
        await change(ws, type="delete", room="general", id=posted["id"])
        await ws.say("marker", room="general")
        # The next line a tutorial client gets is the next message: no edit, reaction or delete.
        assert "marker" in str(await asyncio.wait_for(plain.recv(), 10))
    await ws.close()


@pytest.mark.parametrize("servers", ["sqlite-1", "postgres-2"], indirect=True)
async def test_bots_post_where_they_are_members(servers: tuple[HubbubServer, HubbubServer]) -> None:
    a, b = servers
    olga = As(a, "olga")
    made = hubbub_cli(a.data_dir, "add-bot", "deploybot", **a.env)
    assert made.returncode == 0, made.stderr
    token = made.stdout.strip()
    assert token.startswith("hbb_") and token not in made.stderr
    listed = hubbub_cli(a.data_dir, "bots", **a.env)
    assert listed.stdout.split() == ["deploybot", "active"]

    def post(room: str, body: object, key: str | None = token, server: HubbubServer = b) -> httpx.Response:
        headers = {} if key is None else {"Authorization": f"Bearer {key}"}
        return httpx.post(f"{server.url}/api/rooms/{room}/messages", json=body, headers=headers)

    assert olga.post("/api/rooms", {"name": "deploys", "visibility": "private"}).status_code == 201
    watcher = await olga.socket()
    await watcher.join("deploys")
    message = {"body": "build 42 is **green**", "client_msg_id": "build-42"}
    # Not a member yet: the room does not exist for it, as one that does not.
    refused, missing = post("deploys", message), post("nosuchroom", message)
    assert refused.status_code == missing.status_code == 404
    assert refused.json()["detail"].replace("deploys", "X") == missing.json()["detail"].replace(
        "nosuchroom", "X"
    )
    assert post("general", message).status_code == 404  # public rooms too: only where invited

    assert olga.post("/api/rooms/deploys/members", {"user": "deploybot"}).status_code == 201
    first = post("deploys", message)
    assert first.status_code == 201, first.text
    stored = first.json()
    assert stored["author"] == "deploybot" and stored["bot"] is True and stored["body"] == message["body"]
    live = await watcher.expect("message", lambda f: f["room"] == "deploys")
    assert live["id"] == stored["id"] and live["bot"] is True
    again = post("deploys", message, server=a)
    assert again.status_code == 200 and again.json() == stored  # idempotent by client_msg_id
    assert [m["id"] for m in history(olga, "deploys").values()] == [stored["id"]]

    # Bad input: precise answers.
    assert post("deploys", {"body": "x"}).status_code == 422  # client_msg_id is required
    assert post("deploys", {"body": "", "client_msg_id": "e"}).status_code == 422
    assert post("deploys", {"body": "x" * 70_000, "client_msg_id": "big"}).status_code == 413
    for key in (None, "hbb_wrong", "token-of-olga-0123", token + "x"):
        answer = post("deploys", {"body": "x", "client_msg_id": "k"}, key=key)
        assert answer.status_code == 401 and answer.headers["www-authenticate"] == "Bearer", key
    # A user's socket cannot edit a bot's message, even under the bot's name.
    answer = await change(watcher, type="edit", room="deploys", id=stored["id"], body="mine now")
    assert answer["code"] == "forbidden"

    revoked = hubbub_cli(a.data_dir, "revoke-bot", "deploybot", **a.env)
    assert revoked.returncode == 0, revoked.stderr
    assert post("deploys", {"body": "after", "client_msg_id": "after"}).status_code == 401
    assert hubbub_cli(a.data_dir, "revoke-bot", "deploybot", **a.env).returncode != 0
    await watcher.close()


async def test_bots_are_rate_limited_like_people(hubbub_server: ServerFactory) -> None:
    # A token every 11 days: what the bucket decides does not depend on how fast this runs
    # (refilling over time is tested with a clock of the test's own, in test_units.py).
    env = {"HUBBUB_RATE_LIMIT_PER_SECOND": "0.000001", "HUBBUB_RATE_LIMIT_BURST": "5"}
    server = hubbub_server(env)
    token = hubbub_cli(server.data_dir, "add-bot", "deploybot", **env).stdout.strip()
    with httpx.Client(base_url=server.url) as http:
        assert http.post("/api/login", json={"name": "olga"}).status_code == 200
        assert http.post("/api/rooms", json={"name": "deploys"}).status_code == 201
        assert http.post("/api/rooms/deploys/members", json={"user": "deploybot"}).status_code == 201
    async with httpx.AsyncClient(headers={"Authorization": f"Bearer {token}"}) as http:
        answers = await asyncio.gather(
            *(
                http.post(
                    f"{server.url}/api/rooms/deploys/messages",
                    json={"body": f"n{i}", "client_msg_id": f"n{i}"},
                )
                for i in range(60)
            )
        )
    codes = [answer.status_code for answer in answers]
    assert codes.count(201) == 5 and codes.count(429) == 55, codes  # the burst, then no more
    limited = next(answer for answer in answers if answer.status_code == 429)
    assert int(limited.headers["retry-after"]) >= 86_400 and "too many" in limited.json()["detail"]
    page = httpx.get(f"{server.url}/api/rooms/deploys/messages?limit=100").json()["messages"]
    assert len(page) == 5 and {m["author"] for m in page} == {"deploybot"}


@pytest.mark.parametrize("mode", ["none", "password", "jwt"])
def test_bots_post_the_same_in_every_auth_mode(
    hubbub_server: ServerFactory, tmp_path: Path, mode: str
) -> None:
    import jwt

    data = tmp_path / mode
    env = {"HUBBUB_AUTH": mode, "HUBBUB_LOG_LEVEL": "debug"}
    secret = "jwt-secret-for-tests-0123456789abcdef"
    if mode == "password":
        assert (
            hubbub_cli(data, "add-user", "olga", "--password-stdin", stdin="long enough pw\n").returncode == 0
        )
    if mode == "jwt":
        env["HUBBUB_JWT_SECRET"] = secret
    server = hubbub_server(env, data_dir=data)
    made = hubbub_cli(data, "add-bot", "deploybot", **env)
    assert made.returncode == 0, made.stderr
    bot = {"Authorization": f"Bearer {made.stdout.strip()}"}

    olga: dict[str, str]
    if mode == "jwt":
        olga = {"Authorization": f"Bearer {jwt.encode({'sub': 'olga', 'exp': 4102444800}, secret, 'HS256')}"}
    else:
        login = {"name": "olga"} if mode == "none" else {"username": "olga", "password": "long enough pw"}
        answer = httpx.post(f"{server.url}/api/login", json=login)
        assert answer.status_code == 200, answer.text
        olga = {"Cookie": f"session={answer.cookies['session']}"}
    assert httpx.post(f"{server.url}/api/rooms", json={"name": "deploys"}, headers=olga).status_code == 201
    invite = httpx.post(f"{server.url}/api/rooms/deploys/members", json={"user": "deploybot"}, headers=olga)
    assert invite.status_code == 201, invite.text

    url = f"{server.url}/api/rooms/deploys/messages"
    message = {"body": "shipped", "client_msg_id": "ship-1"}
    posted = httpx.post(url, json=message, headers=bot)
    assert posted.status_code == 201 and posted.json()["bot"] is True, posted.text
    # A user's own credential is not a bot token, whatever the mode accepts elsewhere.
    assert httpx.post(url, json=message, headers=olga).status_code == 401
    history = httpx.get(f"{url}?limit=10", headers=olga).json()["messages"]
    assert [(m["author"], m["bot"], m["body"]) for m in history] == [("deploybot", True, "shipped")]
    # Nothing of the token reaches the server's log, even at debug, even sent where it does not belong.
    httpx.get(f"{server.url}/api/rooms?token={made.stdout.strip()}", headers=bot)
    assert made.stdout.strip()[4:] not in server.log()
    if mode == "none":
        # Where a name is all it takes, nobody signs in as a bot, or as a name that passes for one.
        for name in ("deploybot", "DeployBot"):
            refused = httpx.post(f"{server.url}/api/login", json={"name": name})
            assert refused.status_code == 409 and "bot" in refused.json()["detail"], (name, refused.text)
