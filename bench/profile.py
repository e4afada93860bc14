"""Where a server spends its CPU during a fan-out, from py-spy, summarised.

    .venv/bin/python bench/profile.py [--server "hubbub json"] [--clients 1000] [--messages 300]
        [--baseline DIR] [--top 15]

The server runs as in bench/run.py (pinned to CPU 0, the load generator to CPU 1). py-spy
samples it (250 Hz, --nonblocking, idle frames left out) from before the first client connects
to after the last message is delivered; the report is the functions most often on top of the
stack (self) and anywhere on it (total), as shares of all samples. With --baseline, the server
"hubbub json (baseline)" is another checkout's code (as in run.py). Needs py-spy
(`pip install py-spy`) and permission to trace the server (root, or ptrace_scope 0).
"""

from __future__ import annotations

import argparse
import collections
import shutil
import signal
import subprocess
import sys
import tempfile
from pathlib import Path

from run import loadgen, running, servers  # type: ignore[import-not-found]

BENCH = Path(__file__).resolve().parent


def summarise(raw: Path, top: int) -> str:
    own: collections.Counter[str] = collections.Counter()
    anywhere: collections.Counter[str] = collections.Counter()
    total = 0
    for line in raw.read_text().splitlines():
        stack, _, count_text = line.rpartition(" ")
        if not stack:
            continue
        count = int(count_text)
        frames = [frame.strip() for frame in stack.split(";")]
        total += count
        own[frames[-1]] += count
        for frame in set(frames):
            anywhere[frame] += count
    lines = [f"{total} samples", "", "| self | function |", "| ---: | --- |"]
    lines += [f"| {n / total:.1%} | `{name}` |" for name, n in own.most_common(top)]
    lines += ["", "| total | function |", "| ---: | --- |"]
    lines += [f"| {n / total:.1%} | `{name}` |" for name, n in anywhere.most_common(top)]
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--server", default="hubbub json")
    parser.add_argument("--clients", type=int, default=1000)
    parser.add_argument("--messages", type=int, default=300)
    parser.add_argument("--baseline", type=Path)
    parser.add_argument("--top", type=int, default=15)
    args = parser.parse_args()
    spy = shutil.which("py-spy") or str(Path(sys.executable).parent / "py-spy")
    port = 18500
    (server,) = [
        s for s in servers(port, Path(tempfile.mkdtemp()), None, args.baseline) if s.name == args.server
    ]
    raw = Path(tempfile.mkdtemp()) / "profile.txt"
    with running(server, port, []) as pids:
        record = ["record", "--pid", str(pids[0]), "--rate", "250", "--nonblocking", "--function"]
        recorder = subprocess.Popen(
            [spy, *record, "--format", "raw", "--output", str(raw)],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        scenario = {
            "url": f"ws://127.0.0.1:{port}",
            "proto": server.proto,
            "mode": "fanout",
            "clients": args.clients,
            "messages": args.messages,
            "size": 64,
            "pids": pids,
        }
        result = loadgen(scenario)
        recorder.send_signal(signal.SIGINT)
        recorder.wait(30)
    print(f"# {args.server}: fan-out 1 -> {args.clients}, {args.messages} messages")
    print(f"delivered {result.get('delivered')}, CPU µs per delivery {result.get('cpu_us_per_delivery')}\n")
    print(summarise(raw, args.top))


if __name__ == "__main__":
    sys.path.insert(0, str(BENCH))
    main()
