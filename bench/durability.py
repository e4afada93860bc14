"""What an fsync per commit costs: Hubbub with HUBBUB_SQLITE_SYNCHRONOUS=full against normal,
side by side, taking turns, on this machine's disk.

    .venv/bin/python bench/durability.py [--repeat 3] [--messages 2000]

Two ways of sending, each from one JSON client over loopback:
- one at a time: the next message only after the previous one's ack (a person typing; every
  message pays a commit of its own, the worst case for fsync);
- a burst: every message at once, then all the acks (a busy room; group commit shares each
  commit among the messages that arrived while the previous one ran).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "backend"))

from tests.services import HubbubServer  # noqa: E402
from websockets.asyncio.client import connect  # noqa: E402


async def serial(url: str, count: int) -> list[float]:
    """Ack latency of each message, sent one after the other's ack (ms)."""
    latencies = []
    async with connect(url, compression=None, max_queue=None) as ws:
        await ws.recv()
        await ws.send(json.dumps({"type": "join", "room": "general"}))
        while json.loads(await ws.recv())["type"] != "joined":
            pass
        for i in range(count):
            started = time.perf_counter()
            await ws.send(
                json.dumps({"type": "send", "room": "general", "body": f"m{i}", "client_msg_id": f"s{i}"})
            )
            while json.loads(await ws.recv()).get("type") != "ack":
                pass
            latencies.append((time.perf_counter() - started) * 1000)
    return latencies


async def burst(url: str, count: int) -> float:
    """Messages per second, all sent at once, until the last ack."""
    async with connect(url, compression=None, max_queue=None) as ws:
        await ws.recv()
        await ws.send(json.dumps({"type": "join", "room": "general"}))
        while json.loads(await ws.recv())["type"] != "joined":
            pass
        started = time.perf_counter()
        for i in range(count):
            await ws.send(
                json.dumps({"type": "send", "room": "general", "body": f"b{i}", "client_msg_id": f"b{i}"})
            )
        acks = 0
        while acks < count:
            if json.loads(await ws.recv()).get("type") == "ack":
                acks += 1
        return count / (time.perf_counter() - started)


def run_once(mode: str, messages: int) -> dict[str, float]:
    with tempfile.TemporaryDirectory(dir=os.environ.get("HUBBUB_BENCH_DIR")) as data:
        env = {
            "HUBBUB_SQLITE_SYNCHRONOUS": mode,
            "HUBBUB_RATE_LIMIT_PER_SECOND": "1000000",
            "HUBBUB_RATE_LIMIT_BURST": "1000000",
            "HUBBUB_LOG_LEVEL": "warning",
        }
        server = HubbubServer(env=env, data_dir=Path(data)).start()
        try:
            url = f"{server.ws_url}/api/ws?name=bench"
            latencies = asyncio.run(serial(url, messages))
            rate = asyncio.run(burst(url, messages * 2))
        finally:
            server.stop()
    return {
        "serial_ack_p50_ms": statistics.median(latencies),
        "serial_ack_p99_ms": statistics.quantiles(latencies, n=100)[98],
        "serial_messages_per_second": 1000 / statistics.mean(latencies),
        "burst_messages_per_second": rate,
    }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--messages", type=int, default=2000)
    args = parser.parse_args()
    disk = subprocess.run(
        ["df", "-h", "--output=source,fstype", tempfile.gettempdir()], capture_output=True, text=True
    )
    print(f"# {time.strftime('%Y-%m-%d %H:%M')}, data dir on: {disk.stdout.splitlines()[-1].strip()}")
    runs: dict[str, list[dict[str, float]]] = {"normal": [], "full": []}
    for _ in range(args.repeat):
        for mode in runs:
            runs[mode].append(run_once(mode, args.messages))
    print("| synchronous | one at a time: ack p50 / p99 (ms) | one at a time (msg/s) | burst (msg/s) |")
    print("| --- | ---: | ---: | ---: |")
    for mode, results in runs.items():
        median = {key: statistics.median(r[key] for r in results) for key in results[0]}
        print(
            f"| {mode} | {median['serial_ack_p50_ms']:.2f} / {median['serial_ack_p99_ms']:.2f} "
            f"| {median['serial_messages_per_second']:,.0f} | {median['burst_messages_per_second']:,.0f} |"
        )


if __name__ == "__main__":
    main()
