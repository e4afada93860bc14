"""Search latency with a million stored messages, in SQLite and in PostgreSQL.

    .venv/bin/python bench/search.py                       # 1,000,000 messages, both stores
    .venv/bin/python bench/search.py --messages 100000 --stores sqlite --runs 50   # quicker

For each store: writes the messages straight into a new database (rooms, members, messages:
a year of them, deterministic), lets the store's own indexer index them (Store.follow_index,
as a server does after an upgrade; its rate is reported), then starts `hubbub serve` on it and
asks GET /api/search, one request at a time, as a reader who may read about a third of it:
a common word, a rare one, Chinese words of two and of five characters, an operator mix, and
two that show what the index cannot help with (a rare word of two Latin letters) and what a
reader may learn from time (a word only in rooms the reader cannot read, against a word
nowhere). Prints a table and writes bench/results/search-<time>.json.
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import json
import os
import random
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx

BENCH = Path(__file__).resolve().parent
ROOT = BENCH.parent
sys.path.insert(0, str(ROOT / "backend"))  # tests.services: a throwaway PostgreSQL

from hubbub.store import create_store  # noqa: E402
from tests.services import PostgresServer, free_port  # noqa: E402

SEED = 25
READER = "reader"
YEAR_MS = 365 * 86_400_000
# Words planted at known rates (per message), beside a Zipf vocabulary of made-up words.
COMMON, RARE, SHORT_RARE = "deploy", "zanzibar", "qx"
CJK_TWO, CJK_LONG = "上海", "数据库迁移"
HIDDEN, NOWHERE = "vaultword", "nowhereword"
QUERIES = {
    "common word": COMMON,
    "rare word": RARE,
    "CJK, 2 characters": CJK_TWO,
    "CJK, 5 characters": CJK_LONG,
    "operator mix": f"from:user7 has:link {COMMON}* -staging after:2000-01-01",
    "rare 2-letter word (no gram: read)": SHORT_RARE,
    "only in rooms the reader cannot read": HIDDEN,
    "nowhere": NOWHERE,
}


def vocabulary(rng: random.Random, size: int) -> list[str]:
    consonants, vowels = "bcdfghjklmnprstvwz", "aeiou"
    syllables = [c + v for c in consonants for v in vowels]
    words = {"".join(rng.choices(syllables, k=rng.randint(1, 4))) for _ in range(size * 2)}
    return sorted(words)[:size]


CJK_WORDS = [
    "我们",
    "明天",
    "会议",
    "开会",
    "东京",
    "数据",
    "问题",
    "项目",
    "时间",
    "工作",
    "今天",
    "发布",
    "测试",
    "服务",
    "用户",
    "系统",
    "更新",
    "代码",
    "文档",
    "需要",
]


def messages(
    count: int, rooms: list[str], users: list[str], hidden_rooms: set[str]
) -> Iterator[tuple[Any, ...]]:
    """(room, seq, id, author, body, ts) in time order."""
    rng = random.Random(SEED)
    words = vocabulary(rng, 30_000)
    weights = list(itertools.accumulate(1 / (rank + 1) for rank in range(len(words))))
    seqs = dict.fromkeys(rooms, 0)
    start = int(time.time() * 1000) - YEAR_MS
    hidden = sorted(hidden_rooms)
    for n in range(count):
        room = rng.choice(rooms)
        roll = rng.random()
        if roll < 0.1:
            body = "".join(rng.choices(CJK_WORDS, k=rng.randint(3, 12)))
            if rng.random() < 0.05:
                body = body[:6] + CJK_TWO + body[6:]
            if rng.random() < 0.005:
                body += CJK_LONG
        else:
            chosen = rng.choices(words, cum_weights=weights, k=rng.randint(4, 20))
            if rng.random() < 0.05:
                chosen.insert(rng.randrange(len(chosen)), COMMON if rng.random() < 0.8 else f"{COMMON}ed")
            if rng.random() < 0.05:
                chosen.append(f"https://example.com/{rng.choice(words)}")
            if rng.random() < 0.01:
                chosen.append("staging")
            body = " ".join(chosen)
        if n % max(1, count // 50) == 7:
            body += f" {RARE}"
        if n % max(1, count // 20) == 11:
            body += f" {SHORT_RARE}"
        if n % max(1, count // 5000) == 3:  # 5,000 of them, each where the reader cannot look
            room = rng.choice(hidden)
            body += f" {HIDDEN}"
        seqs[room] += 1
        yield (
            room,
            seqs[room],
            uuid.UUID(int=rng.getrandbits(128)).hex,
            rng.choice(users),
            body,
            start + n * (YEAR_MS // count),
        )


def layout(rng: random.Random) -> tuple[list[tuple[str, str]], list[tuple[str, str]], list[str], set[str]]:
    """(rooms with visibility, members, users, rooms the reader cannot read)."""
    users = [f"user{i}" for i in range(1000)] + [READER]
    rooms = [(f"pub{i}", "public") for i in range(300)]
    rooms += [(f"priv{i}", "private") for i in range(300)]
    rooms += [(f"dm-bench{i}", "dm") for i in range(400)]
    members: list[tuple[str, str]] = []
    for name, _visibility in rooms:
        members += [(name, u) for u in rng.sample(users[:-1], 2)]
    mine = [r for r, _v in rooms[:20]] + [r for r, _v in rooms[300:310]] + [r for r, _v in rooms[600:620]]
    members += [(name, READER) for name in mine]
    hidden = {name for name, visibility in rooms if visibility != "public" and name not in mine}
    return rooms, members, users, hidden


async def fill(url: str, count: int) -> dict[str, float]:
    """Write the messages, then index them with the store's own indexer; seconds of each."""
    store = create_store(url)
    await store.start()  # migrations
    await store.close()
    rng = random.Random(SEED)
    rooms, members, _users, hidden = layout(rng)
    users = sorted({u for _r, u in members})
    rows = messages(count, [r for r, _v in rooms], users, hidden)
    began = time.perf_counter()
    heads: dict[str, int] = {}
    if url.startswith("sqlite"):
        import sqlite3

        db = sqlite3.connect(url.split(":///", 1)[1], isolation_level=None)
        db.execute("BEGIN")
        db.executemany("INSERT INTO hubbub_rooms (name, created_at, visibility) VALUES (?, 0, ?)", rooms)
        db.executemany(
            "INSERT OR IGNORE INTO hubbub_members (room, user, joined_at) VALUES (?, ?, 0)", members
        )
        for chunk in iter(lambda: list(itertools.islice(rows, 20_000)), []):
            db.executemany(
                "INSERT INTO hubbub_messages (room, seq, id, author, body, ts) VALUES (?, ?, ?, ?, ?, ?)",
                chunk,
            )
            heads.update({room: seq for room, seq, *_ in chunk})
        db.executemany("UPDATE hubbub_rooms SET head = ? WHERE name = ?", [(s, r) for r, s in heads.items()])
        db.execute("COMMIT")
        db.close()
    else:
        import asyncpg

        conn = await asyncpg.connect(url)
        await conn.executemany(
            "INSERT INTO hubbub_rooms (name, created_at, visibility) VALUES ($1, 0, $2)", rooms
        )
        await conn.executemany(
            'INSERT INTO hubbub_members (room, "user", joined_at) VALUES ($1, $2, 0) ON CONFLICT DO NOTHING',
            members,
        )
        for chunk in iter(lambda: list(itertools.islice(rows, 20_000)), []):
            await conn.copy_records_to_table(
                "hubbub_messages", records=chunk, columns=["room", "seq", "id", "author", "body", "ts"]
            )
            heads.update({room: seq for room, seq, *_ in chunk})
        await conn.executemany(
            "UPDATE hubbub_rooms SET head = $1 WHERE name = $2", [(s, r) for r, s in heads.items()]
        )
        await conn.close()
    written = time.perf_counter() - began
    store = create_store(url)
    await store.start()
    began = time.perf_counter()
    done = 0
    while (looked := await store.follow_index(None, 2000)) > 0:
        done += looked
        if done % 100_000 < 2000:
            print(f"  indexed {done:,} in {time.perf_counter() - began:.0f} s", flush=True)
    indexed = time.perf_counter() - began
    await store.close()
    return {"write_seconds": written, "index_seconds": indexed, "indexed": done}


def serve(env: dict[str, str], data_dir: Path) -> tuple[subprocess.Popen[bytes], str]:
    port = free_port()
    proc = subprocess.Popen(
        [sys.executable, "-m", "hubbub.cli", "serve", "--port", str(port)],
        env={**os.environ, **env, "HUBBUB_DATA_DIR": str(data_dir)},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"{url}/readyz", timeout=2).status_code == 200:
                return proc, url
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    proc.kill()
    raise TimeoutError("hubbub did not start")


def measure(url: str, runs: int) -> dict[str, dict[str, Any]]:
    results: dict[str, dict[str, Any]] = {}
    with httpx.Client(base_url=url, headers={"Authorization": "Bearer bench-token"}, timeout=60) as http:
        for name, q in QUERIES.items():
            first = http.get("/api/search", params={"q": q, "limit": 20})
            assert first.status_code == 200, first.text
            times = []
            for _ in range(runs):
                began = time.perf_counter()
                http.get("/api/search", params={"q": q, "limit": 20}).raise_for_status()
                times.append((time.perf_counter() - began) * 1000)
            times.sort()
            results[name] = {
                "q": q,
                "hits_on_first_page": len(first.json()["hits"]),
                "p50_ms": statistics.median(times),
                "p99_ms": times[min(len(times) - 1, int(len(times) * 0.99))],
                "max_ms": times[-1],
            }
            print(
                f"  {name:40} p50 {results[name]['p50_ms']:8.1f} ms   p99 {results[name]['p99_ms']:8.1f} ms",
                flush=True,
            )
    return results


def size_of(url: str, data_dir: Path) -> float:
    if url.startswith("sqlite"):
        return sum(f.stat().st_size for f in data_dir.glob("hubbub.db*")) / 1e6

    async def ask() -> float:
        import asyncpg

        conn = await asyncpg.connect(url)
        try:
            return float(await conn.fetchval("SELECT pg_database_size(current_database())")) / 1e6
        finally:
            await conn.close()

    return asyncio.run(ask())


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--messages", type=int, default=1_000_000)
    parser.add_argument("--stores", nargs="*", default=["sqlite", "postgres"])
    parser.add_argument("--runs", type=int, default=200, help="requests per query")
    args = parser.parse_args()
    report: dict[str, Any] = {
        "started": time.strftime("%Y-%m-%d %H:%M:%S"),
        "command": "bench/search.py " + " ".join(sys.argv[1:]),
        "messages": args.messages,
        "load_average_at_start": os.getloadavg(),
        "stores": {},
    }
    env = {
        "HUBBUB_AUTH": "token",
        "HUBBUB_TOKENS": json.dumps({"bench-token": READER}),
        "HUBBUB_SEARCHES_PER_MINUTE": "1000000000",
        "HUBBUB_LOG_LEVEL": "warning",
    }
    for kind in args.stores:
        base = Path(tempfile.mkdtemp(prefix=f"hubbub-search-bench-{kind}-"))
        postgres = PostgresServer().start() if kind == "postgres" else None
        try:
            url = postgres.url if postgres is not None else f"sqlite:///{base / 'hubbub.db'}"
            print(f"{kind}: writing {args.messages:,} messages and indexing them", flush=True)
            timing = asyncio.run(fill(url, args.messages))
            print(f"  {timing}", flush=True)
            proc, http_url = serve({**env, "HUBBUB_DATABASE_URL": url}, base)
            try:
                report["stores"][kind] = {
                    **timing,
                    "database_mb": size_of(url, base),
                    "queries": measure(http_url, args.runs),
                }
            finally:
                proc.terminate()
                proc.wait(30)
        finally:
            if postgres is not None:
                postgres.remove()
            shutil.rmtree(base, ignore_errors=True)
    out = BENCH / "results"
    out.mkdir(exist_ok=True)
    path = out / f"search-{time.strftime('%Y%m%d-%H%M%S')}.json"
    path.write_text(json.dumps(report, indent=2))
    print(f"results: {path}")


if __name__ == "__main__":
    main()
