"""A company's worth of history for the reconnect storm (bench/run.py --only reconnect-storm).

    .venv/bin/python bench/storm_seed.py DATA_DIR OUT.json [--users 10000] [--rooms 200]
        [--per-user 10] [--dms 1] [--messages 30] [--seed 1]

Writes a SQLite database in DATA_DIR through Hubbub's own store (the schema its migrations
make) and DATA_DIR/tokens, a token per user for auth mode token (HUBBUB_TOKENS_FILE), then
OUT.json: for every user, the cookie of a session signed in with their token (signed with the
secret in OUT.json, which the server must be given as HUBBUB_SECRET_KEY), the rooms they are a
member of, and the 1-3 rooms they had open with the resume cursors the UI would hold (a few
messages behind the head, so a resume has something to catch up), and each room's head.

Rooms are public and private (a fifth private), each user a member of ``per_user`` of them
and of about twice ``dms`` direct messages (each user starts ``dms`` of them); read positions are a few messages behind
the heads, so every room list has unread counts to work out.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import secrets
import sqlite3
import time
from pathlib import Path

from hubbub.auth.token import _digest, fingerprint
from hubbub.chat.rooms import dm_name
from hubbub.model import DM, PRIVATE, PUBLIC, Draft, NewRoom, SessionRecord
from hubbub.store import create_store
from itsdangerous import URLSafeSerializer


async def seed(args: argparse.Namespace) -> dict[str, object]:
    rng = random.Random(args.seed)
    data = Path(args.data_dir)
    secret = secrets.token_urlsafe(32)
    store = create_store(f"sqlite:///{data / 'hubbub.db'}", "normal")
    await store.start()
    users = [f"user{i:05d}" for i in range(args.users)]
    rooms = [f"room{i:03d}" for i in range(args.rooms)]
    await store.touch_users(users)
    for i, room in enumerate(rooms):
        visibility = PRIVATE if i % 5 == 4 else PUBLIC
        await store.create_room(NewRoom(room, visibility, None, ()))
    member_of: dict[str, list[str]] = {}
    by_room: dict[str, list[str]] = {room: [] for room in rooms}
    for user in users:
        chosen = rng.sample(rooms, min(args.per_user, len(rooms)))
        member_of[user] = chosen
        for room in chosen:
            by_room[room].append(user)
    for room, members in by_room.items():
        await store.add_members(room, members)
    dms: list[tuple[str, list[str]]] = []
    for i, user in enumerate(users):
        for k in range(args.dms):
            other = users[(i + 1 + k * 7919) % len(users)]
            if other == user:
                continue
            pair = sorted({user, other})
            key = "\n".join(pair)
            name = dm_name(key)
            if name in member_of.get(pair[0], []) or name in member_of.get(pair[1], []):
                continue
            await store.create_room(NewRoom(name, DM, None, tuple(pair), dm_key=key))
            dms.append((name, pair))
            for member in pair:
                member_of[member].append(name)
            by_room[name] = pair
    # History: messages in every room by its members, a few in every DM.
    drafts: list[Draft] = []
    for room in rooms:
        members = by_room[room] or users[:1]
        drafts += [
            Draft(room, rng.choice(members), f"history {n} of {room}", f"seed-{room}-{n}")
            for n in range(args.messages)
        ]
    for name, pair in dms:
        drafts += [Draft(name, pair[n % 2], f"dm {n}", f"seed-{name}-{n}") for n in range(3)]
    for start in range(0, len(drafts), 500):
        await store.append_many(drafts[start : start + 500])
    expires = time.time() + 30 * 24 * 3600
    serializer = URLSafeSerializer(secret, salt="hubbub-session")
    cookies: dict[str, str] = {}
    tokens: list[str] = []
    for user in users:
        token = secrets.token_urlsafe(24)
        tokens.append(f"{token} {user}")
        session_id = secrets.token_urlsafe(24)
        credential = fingerprint(_digest(token), False)  # as a sign-in with the token makes it
        await store.create_session(SessionRecord(session_id, user, expires, credential, False))
        cookies[user] = serializer.dumps(session_id)
    (data / "tokens").write_text("\n".join(tokens) + "\n")
    await store.close()

    db = sqlite3.connect(data / "hubbub.db")
    heads = dict(db.execute("SELECT name, head FROM hubbub_rooms"))
    changes = dict(db.execute("SELECT name, change_head FROM hubbub_rooms"))
    # Read positions a few messages behind: every list has counts to work out.
    db.execute(
        "UPDATE hubbub_members SET last_read = max(0, (SELECT head FROM hubbub_rooms "
        "WHERE name = hubbub_members.room) - abs(random() % 8))"
    )
    db.commit()
    db.close()
    people = []
    for user in users:
        mine = member_of[user]
        opened = rng.sample(mine, rng.randint(1, min(3, len(mine))))
        people.append(
            {
                "name": user,
                "cookie": cookies[user],
                "rooms": mine,
                "open": [
                    {
                        "room": room,
                        "after": max(0, heads[room] - rng.randint(0, 5)),
                        "changes_after": changes[room],
                    }
                    for room in opened
                ],
            }
        )
    return {"secret": secret, "users": people, "heads": heads}


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("data_dir")
    parser.add_argument("out")
    parser.add_argument("--users", type=int, default=10_000)
    parser.add_argument("--rooms", type=int, default=200)
    parser.add_argument("--per-user", type=int, default=10)
    parser.add_argument("--dms", type=int, default=1)
    parser.add_argument("--messages", type=int, default=30, help="messages in each room's history")
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    os.environ.setdefault("HUBBUB_LOG_LEVEL", "warning")
    Path(args.data_dir).mkdir(parents=True, exist_ok=True)
    result = asyncio.run(seed(args))
    Path(args.out).write_text(json.dumps(result))


if __name__ == "__main__":
    main()
