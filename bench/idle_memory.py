"""What one idle connection costs a server, by allocation site (tracemalloc).

    .venv/bin/python bench/idle_memory.py [--server hubbub-json] [--clients 1000] [--top 20]

Servers: hubbub-json (/api/ws, joined to the default room), hubbub-text (the tutorial's chat
at /ws/{id} in Hubbub), tutorial (the seed app on the same uvicorn). The server runs in this
process with tracemalloc on, the clients in a child process; the report is what the Python
heap grew by between a snapshot before the clients connect and one after they sit idle,
divided by the number of connections, by file and line, grouped into who allocated it
(uvicorn, websockets, starlette, hubbub, asyncio...). RSS grows by more than the traced heap:
allocator slack, sockets' kernel buffers are not in RSS, the interpreter's free lists.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import os
import resource
import subprocess
import sys
import tempfile
import tracemalloc
from collections import defaultdict
from pathlib import Path

import uvicorn

BENCH = Path(__file__).resolve().parent

CLIENTS = r"""
import asyncio, sys
from websockets.asyncio.client import connect
async def main(url, proto, n):
    conns = []
    for i in range(n):
        if proto == "json":
            ws = await connect(f"{url}/api/ws?name=idle{i}", compression=None, max_queue=None)
            await ws.send('{"type":"join","room":"general"}')
        else:
            ws = await connect(f"{url}/ws/{i}", compression=None, max_queue=None)
        conns.append(ws)
    print("ready", flush=True)
    await asyncio.get_running_loop().run_in_executor(None, sys.stdin.read)
asyncio.run(main(sys.argv[1], sys.argv[2], int(sys.argv[3])))
"""


def rss_kib() -> int:
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0


def owner(filename: str) -> str:
    for name in ("uvicorn", "websockets", "starlette", "fastapi", "hubbub", "asyncio", "uvloop"):
        if f"/{name}/" in filename:
            return name
    return "other" if "site-packages" in filename else Path(filename).name


async def open_clients(url: str, proto: str, n: int) -> asyncio.subprocess.Process:
    child = await asyncio.create_subprocess_exec(
        sys.executable, "-c", CLIENTS, url, proto, str(n), stdin=subprocess.PIPE, stdout=subprocess.PIPE
    )
    assert child.stdout is not None
    line = await child.stdout.readline()
    assert line.strip() == b"ready", line
    return child


async def close_clients(child: asyncio.subprocess.Process) -> None:
    assert child.stdin is not None
    child.stdin.close()
    await child.wait()


async def measure(server_name: str, clients: int, top: int) -> None:
    port = 18000 + os.getpid() % 1000
    url = f"ws://127.0.0.1:{port}"
    if server_name == "tutorial":
        sys.path.insert(0, str(BENCH / "peers"))
        config = uvicorn.Config(
            "tutorial_app:app",
            port=port,
            ws="websockets-sansio",
            ws_per_message_deflate=False,
            log_level="warning",
        )
    else:
        os.environ.setdefault("HUBBUB_DATA_DIR", tempfile.mkdtemp(prefix="hubbub-idle-"))
        os.environ.update(
            {
                "HUBBUB_MAX_CONNECTIONS_PER_ADDRESS": "100000",
                "HUBBUB_MAX_MEMBERS_PER_ROOM": "1000000",
                "HUBBUB_NEW_MEMBERS_PER_MINUTE_PER_ADDRESS": "1000000000",
                "HUBBUB_LOG_LEVEL": "warning",
            }
        )
        from hubbub.cli import load_settings, uvicorn_options

        options = uvicorn_options(load_settings())
        options.pop("timeout_graceful_shutdown")
        config = uvicorn.Config(
            "hubbub.app:app_from_env", factory=True, port=port, log_level="warning", **options
        )
    server = uvicorn.Server(config)
    serving = asyncio.create_task(server.serve())
    while not server.started:  # noqa: ASYNC110 - uvicorn has no event for it
        await asyncio.sleep(0.05)
    proto = "json" if server_name == "hubbub-json" else "text"
    # One round first: imports, caches and pools that any first connection fills.
    warm = await open_clients(url, proto, 20)
    await close_clients(warm)
    await asyncio.sleep(1)
    gc.collect()
    tracemalloc.start(1)
    before, rss_before = tracemalloc.take_snapshot(), rss_kib()
    child = await open_clients(url, proto, clients)
    await asyncio.sleep(3)
    gc.collect()
    after, rss_after = tracemalloc.take_snapshot(), rss_kib()
    tracemalloc.stop()
    filters = [tracemalloc.Filter(False, tracemalloc.__file__)]
    stats = after.filter_traces(filters).compare_to(before.filter_traces(filters), "lineno")
    traced = sum(s.size_diff for s in stats) / clients
    print(f"# {server_name}, {clients} idle connections (python {sys.version.split()[0]})")
    print(f"RSS per connection: {(rss_after - rss_before) / clients:.1f} KiB (traced with tracemalloc on)")
    print(f"Python heap per connection: {traced / 1024:.2f} KiB ({traced:.0f} B)\n")
    by_owner: dict[str, float] = defaultdict(float)
    for stat in stats:
        by_owner[owner(stat.traceback[0].filename)] += stat.size_diff / clients
    print("| allocated by | bytes per connection |\n|---|---:|")
    for name, size in sorted(by_owner.items(), key=lambda item: -item[1]):
        if abs(size) >= 8:
            print(f"| {name} | {size:.0f} |")
    print(f"\n| top {top} sites | bytes | blocks |\n|---|---:|---:|")
    shown = stats[:top] + [s for s in stats[top:] if owner(s.traceback[0].filename) == "hubbub"]
    for stat in shown:
        if abs(stat.size_diff) < 8 * clients:
            continue
        frame = stat.traceback[0]
        where = f"{owner(frame.filename)}: {Path(frame.filename).name}:{frame.lineno}"
        print(f"| {where} | {stat.size_diff / clients:.0f} | {stat.count_diff / clients:.1f} |")
    await close_clients(child)
    server.should_exit = True
    await serving


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--server", choices=["hubbub-json", "hubbub-text", "tutorial"], default="hubbub-json")
    parser.add_argument("--clients", type=int, default=1000)
    parser.add_argument("--top", type=int, default=20)
    args = parser.parse_args()
    _soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (min(hard, 65536), hard))
    asyncio.run(measure(args.server, args.clients, args.top))


if __name__ == "__main__":
    main()
