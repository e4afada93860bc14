"""Hubbub side by side with its peers, in one run, on this machine.

    .venv/bin/python bench/run.py [--quick] [--only SCENARIO ...] [--repeat N]

Each server runs pinned to CPU 0 and the Node load generator (bench/loadgen) to CPU 1, with
compression off everywhere. Results go to bench/results/<time>.json and, as tables with ratios
to the peers, to docs/benchmarks.md.
"""

from __future__ import annotations

import argparse
import contextlib
import hashlib
import json
import os
import re
import resource
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
from stallers import stalled_clients  # type: ignore[import-not-found]

BENCH = Path(__file__).resolve().parent
ROOT = BENCH.parent
PYTHON = sys.executable
SERVER_CPU, LOAD_CPU = "0", "1"
NO_LIMITS = {
    "HUBBUB_RATE_LIMIT_PER_SECOND": "1000000000",
    "HUBBUB_RATE_LIMIT_BURST": "1000000000",
    "HUBBUB_MAX_CONNECTIONS_PER_USER": "100000",
    "HUBBUB_MAX_CONNECTIONS_PER_ADDRESS": "100000",
    "HUBBUB_MAX_MEMBERS_PER_ROOM": "1000000",
    "HUBBUB_NEW_MEMBERS_PER_MINUTE_PER_ADDRESS": "1000000000",
    "HUBBUB_JOIN_RATE_PER_SECOND": "1000000000",
    "HUBBUB_JOIN_BURST": "1000000000",
    "HUBBUB_LOG_LEVEL": "warning",
}


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def raise_fd_limit() -> None:
    try:  # as root, past the hard limit too (the 20,000-connection run needs more than 20,000)
        resource.setrlimit(resource.RLIMIT_NOFILE, (65536, 65536))
    except (ValueError, OSError):
        _soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
        resource.setrlimit(resource.RLIMIT_NOFILE, (min(hard, 65536), hard))


@dataclass
class Server:
    name: str
    proto: str  # what the load generator speaks to it
    command: list[str]
    env: dict[str, str] = field(default_factory=dict)
    ready_path: str | None = None  # HTTP path answering 200 when up; else the port accepting
    metrics: bool = False
    redis: bool = False


def servers(port: int, data_dir: Path, redis_url: str | None, baseline: Path | None = None) -> list[Server]:
    uvicorn = [
        PYTHON,
        "-m",
        "uvicorn",
        "--port",
        str(port),
        "--log-level",
        "warning",
        "--ws",
        "websockets-sansio",
        "--ws-per-message-deflate",
        "false",
    ]
    hubbub_env = {**NO_LIMITS, "HUBBUB_DATA_DIR": str(data_dir)}
    found = [
        Server(
            "tutorial (uvicorn)", "text", [*uvicorn, "--app-dir", str(BENCH / "peers"), "tutorial_app:app"]
        ),
        Server("websockets", "text", [PYTHON, str(BENCH / "peers" / "websockets_server.py"), str(port)]),
        Server("node ws", "text", ["node", str(BENCH / "peers" / "ws_server.mjs"), str(port)]),
        Server(
            "python-socketio", "socketio", [*uvicorn, "--app-dir", str(BENCH / "peers"), "socketio_app:app"]
        ),
        Server(
            "hubbub text",
            "text",
            [PYTHON, "-m", "hubbub.cli", "serve", "--port", str(port)],
            hubbub_env,
            "/readyz",
            metrics=True,
        ),
        Server(
            "hubbub json",
            "json",
            [PYTHON, "-m", "hubbub.cli", "serve", "--port", str(port)],
            hubbub_env,
            "/readyz",
            metrics=True,
        ),
    ]
    if baseline is not None:
        # Another checkout's Hubbub (e.g. the commit before a change) beside this one, in the
        # same run: its source goes first on the path, ahead of this checkout's editable install.
        older = {**hubbub_env, "PYTHONPATH": str(baseline.resolve() / "backend" / "src")}
        for name, proto in (("hubbub text", "text"), ("hubbub json", "json")):
            found.append(
                Server(
                    f"{name} (baseline)",
                    proto,
                    [PYTHON, "-m", "hubbub.cli", "serve", "--port", str(port)],
                    older,
                    "/readyz",
                    metrics=True,
                )
            )
    if redis_url:
        found.append(
            Server(
                "hubbub json, gunicorn 2 workers + redis",
                "json",
                [PYTHON, "-m", "gunicorn", "-c", str(ROOT / "docker" / "gunicorn.conf.py")],
                {
                    **hubbub_env,
                    "HUBBUB_REDIS_URL": redis_url,
                    "WEB_CONCURRENCY": "2",
                    "PORT": str(port),
                    "PROMETHEUS_MULTIPROC_DIR": str(data_dir / "metrics"),
                },
                "/readyz",
                metrics=True,
                redis=True,
            )
        )
    return found


def process_tree(pid: int) -> list[int]:
    out = subprocess.run(["ps", "-o", "pid=", "--ppid", str(pid)], capture_output=True, text=True).stdout
    children = [int(p) for p in out.split()]
    return [pid] + [p for child in children for p in process_tree(child)]


@contextlib.contextmanager
def running(
    server: Server,
    port: int,
    extra_pids: list[int],
    settle: float = 0.5,
    poll: float = 0.1,
    start_timeout: float = 30,
) -> Iterator[list[int]]:
    env = {**os.environ, **server.env}
    # A file, not a pipe: the tutorial app prints a traceback per disconnect, and a full pipe
    # would stall the server under test.
    log = tempfile.NamedTemporaryFile(prefix="bench-server-", suffix=".log", delete=False)  # noqa: SIM115
    proc = subprocess.Popen(
        ["taskset", "-c", SERVER_CPU, *server.command],
        env=env,
        cwd=ROOT,
        stdout=log,
        stderr=subprocess.STDOUT,
        preexec_fn=raise_fd_limit,
    )
    try:
        deadline = time.monotonic() + start_timeout
        while True:
            if proc.poll() is not None:
                raise RuntimeError(
                    f"{server.name} exited: {proc.stderr.read().decode() if proc.stderr else ''}"
                )
            try:
                if server.ready_path:
                    if httpx.get(f"http://127.0.0.1:{port}{server.ready_path}", timeout=1).status_code == 200:
                        break
                else:
                    with socket.create_connection(("127.0.0.1", port), timeout=1):
                        break
            except (OSError, httpx.HTTPError):
                pass
            if time.monotonic() > deadline:
                raise TimeoutError(f"{server.name} did not start")
            time.sleep(poll)
        time.sleep(settle)
        yield process_tree(proc.pid) + extra_pids
    finally:
        proc.terminate()
        try:
            proc.wait(15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        log.close()
        os.unlink(log.name)


def loadgen(scenario: dict[str, Any], metrics_url: str | None = None) -> dict[str, Any]:
    """Runs the load generator on the load CPU. With `metrics_url` (Hubbub's /metrics) the
    slow-consumer counter is polled from a thread here, not from the load generator, whose
    latencies an HTTP client of its own would disturb; `evicted_after_ms` is when it had counted
    every stalled client, from the first message sent."""
    proc = subprocess.Popen(
        ["taskset", "-c", LOAD_CPU, "node", str(BENCH / "loadgen" / "loadgen.mjs"), json.dumps(scenario)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        preexec_fn=raise_fd_limit,
    )
    assert proc.stdout is not None
    assert proc.stderr is not None
    stderr = proc.stderr
    started = threading.Event()
    started_at: list[float] = []
    errors: list[str] = []
    evicted_after: list[float] = []
    finished = threading.Event()

    def read_stderr() -> None:
        for line in stderr:
            if line.strip() == "measuring" and not started.is_set():
                started_at.append(time.monotonic())
                started.set()
            else:
                errors.append(line)

    def poll_evictions(url: str, stalled: int) -> None:
        os.sched_setaffinity(0, {int(LOAD_CPU)})  # pid 0 is this thread: off the server's CPU
        if not started.wait(120):
            return
        while not finished.wait(0.2):
            try:
                text = httpx.get(url, timeout=2).text
            except httpx.HTTPError:
                continue  # server busy: next poll
            count = re.search(r"^hubbub_slow_consumer_disconnects_total (\S+)$", text, re.M)
            # Polling goes on after the eviction, so every run serves /metrics just as often.
            if stalled > 0 and count and float(count.group(1)) >= stalled and not evicted_after:
                evicted_after.append(time.monotonic() - started_at[0])

    threads = [threading.Thread(target=read_stderr, daemon=True)]
    if metrics_url:
        stalled = int(scenario.get("stalled", 0))
        threads.append(threading.Thread(target=poll_evictions, args=(metrics_url, stalled), daemon=True))
    for thread in threads:
        thread.start()
    killer = threading.Timer(600, proc.kill)
    killer.start()
    try:
        stdout = proc.stdout.read()
        returncode = proc.wait()
    finally:
        killer.cancel()
        finished.set()
        for thread in threads:
            thread.join(5)
    if returncode != 0 or not stdout.strip():
        return {"error": ("".join(errors) or stdout)[-500:]}
    data: dict[str, Any] = json.loads(stdout.strip().splitlines()[-1])
    if metrics_url:
        data["evicted_after_ms"] = evicted_after[0] * 1000 if evicted_after else None
    return data


def storm_seed(server: Server, params: dict[str, Any], cache: Path) -> tuple[Path, Path]:
    """The seeded database and its users (bench/storm_seed.py), made once per size and per
    source of Hubbub and its migrations (a baseline checkout seeds with its own schema)."""
    source = server.env.get("PYTHONPATH", str(ROOT / "backend" / "src"))
    sizes = [str(params[k]) for k in ("users", "rooms", "perUser", "dms", "history")]
    # The source's schema too: a seed made before a migration was added or renamed is stale.
    revisions = sorted(p.name for p in (Path(source) / "hubbub" / "migrations" / "versions").glob("*.py"))
    key = "-".join([*sizes, hashlib.sha256("\n".join([source, *revisions]).encode()).hexdigest()[:8]])
    data, users = cache / f"storm-{key}", cache / f"storm-{key}.json"
    if not users.exists():
        shutil.rmtree(data, ignore_errors=True)
        subprocess.run(
            [
                PYTHON,
                str(BENCH / "storm_seed.py"),
                str(data),
                str(users),
                "--users",
                sizes[0],
                "--rooms",
                sizes[1],
                "--per-user",
                sizes[2],
                "--dms",
                sizes[3],
                "--messages",
                sizes[4],
            ],
            check=True,
            env={**os.environ, "PYTHONPATH": source},
        )
    return data, users


def reconnect_storm(server: Server, params: dict[str, Any], baseline: Path | None) -> dict[str, Any]:
    """Seed (or reuse) a company, start the load generator with every user disconnected, then
    the server on a copy of the company's database: the wave is what a restart brings."""
    cache = BENCH / "results" / "seeds"
    cache.mkdir(parents=True, exist_ok=True)
    seeded, users_file = storm_seed(server, params, cache)
    secret = json.loads(users_file.read_text())["secret"]
    port = free_port()
    with tempfile.TemporaryDirectory() as data:
        for name in ("hubbub.db", "tokens"):
            shutil.copy(seeded / name, Path(data) / name)
        srv = next(s for s in servers(port, Path(data), None, baseline) if s.name == server.name)
        srv.env = {
            **srv.env,
            # Signed in with tokens, as a team whose server is not open to any name would be.
            "HUBBUB_AUTH": "token",
            "HUBBUB_TOKENS_FILE": str(Path(data) / "tokens"),
            "HUBBUB_SECRET_KEY": secret,
            **params.get("env", {}),
        }
        scenario = {
            "url": f"ws://127.0.0.1:{port}",
            "mode": "storm",
            "seedFile": str(users_file),
            **{k: v for k, v in params.items() if k != "env"},
        }
        proc = subprocess.Popen(
            ["taskset", "-c", LOAD_CPU, "node", str(BENCH / "loadgen" / "loadgen.mjs"), json.dumps(scenario)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            preexec_fn=raise_fd_limit,
        )
        assert proc.stdin is not None
        try:
            # A server that reads a whole company's tokens may take a while to start: part of
            # the restart the storm measures (seconds_to_all_caught_up_from_restart).
            with running(srv, port, [], settle=0, poll=0.02, start_timeout=300) as pids:
                proc.stdin.write("up " + " ".join(map(str, pids)) + "\n")
                proc.stdin.flush()
                stdout, stderr = proc.communicate(timeout=900)
        except (TimeoutError, RuntimeError, subprocess.TimeoutExpired) as exc:
            return {"error": f"{type(exc).__name__}: {exc}"}
        finally:
            if proc.poll() is None:
                proc.kill()
                proc.wait()
    if proc.returncode != 0 or not stdout.strip():
        return {"error": (stderr or stdout)[-500:]}
    result: dict[str, Any] = json.loads(stdout.strip().splitlines()[-1])
    return result


@contextlib.contextmanager
def redis_server() -> Iterator[tuple[str, int]]:
    port = free_port()
    proc = subprocess.Popen(
        [
            "taskset",
            "-c",
            SERVER_CPU,
            "redis-server",
            "--port",
            str(port),
            "--bind",
            "127.0.0.1",
            "--save",
            "",
            "--appendonly",
            "no",
        ],
        stdout=subprocess.DEVNULL,
    )
    time.sleep(0.5)
    try:
        yield f"redis://127.0.0.1:{port}/0", proc.pid
    finally:
        proc.terminate()
        proc.wait()


def cpu_per_delivery(result: dict[str, Any]) -> float | None:
    value = result.get("cpu_us_per_delivery")
    return None if value is None else float(value)


def storm_seconds(result: dict[str, Any]) -> float | None:
    value = result.get("seconds_to_all_caught_up_from_restart")
    return None if value is None else float(value)


def healthy_p99(result: dict[str, Any]) -> float | None:
    value = result.get("latency_ms", {}).get("p99")
    return None if value is None else float(value)


def median_entry(
    entries: list[dict[str, Any]], metric: Callable[[dict[str, Any]], float | None] = cpu_per_delivery
) -> dict[str, Any]:
    """The run with the median `metric`, carrying every run's figures for the spread."""
    measured = [e for e in entries if metric(e["result"]) is not None]
    if not measured:
        return entries[-1]
    measured.sort(key=lambda e: metric(e["result"]) or 0.0)
    chosen = measured[len(measured) // 2]
    return {**chosen, "tries": [e["result"] for e in entries]}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--quick", action="store_true", help="fewer messages and connections: a smoke run")
    parser.add_argument("--only", nargs="*", default=None, help="scenario names to run")
    parser.add_argument(
        "--servers", nargs="*", default=None, help="run only these servers (their names as in the report)"
    )
    parser.add_argument(
        "--baseline",
        type=Path,
        default=None,
        help="a checkout of another Hubbub version, run beside this one as 'hubbub … (baseline)'",
    )
    parser.add_argument(
        "--storm-users", type=int, default=10_000, help="users in the reconnect-storm scenario"
    )
    parser.add_argument(
        "--storm-wave-rate",
        type=float,
        default=None,
        help="messages per second while the reconnect wave lasts (default: the steady rate; 0 profiles the wave alone)",
    )
    parser.add_argument(
        "--storm-steady-seconds", type=float, default=20, help="the steady rate's length after the wave"
    )
    parser.add_argument(
        "--repeat",
        type=int,
        default=3,
        help="fan-out and stalled-client runs per server, servers taking turns; the median counts",
    )
    args = parser.parse_args()
    scale = 0.2 if args.quick else 1.0
    results: dict[str, Any] = {
        "started": time.strftime("%Y-%m-%d %H:%M:%S"),
        "command": "bench/run.py " + " ".join(sys.argv[1:]),
        "quick": args.quick,
        "runs": [],
    }
    wanted = set(args.only) if args.only else None
    repeat = 1 if args.quick else max(1, args.repeat)

    def run(
        scenario_name: str,
        server: Server,
        scenario: dict[str, Any],
        redis_pid: int | None,
        needed: bool = False,
    ) -> dict[str, Any] | None:
        """Runs the scenario if it was asked for (or another one needs it); None if not."""
        if wanted and scenario_name not in wanted and not needed:
            return None
        port = free_port()
        with tempfile.TemporaryDirectory() as data:
            srv = next(
                s for s in servers(port, Path(data), redis_url, args.baseline) if s.name == server.name
            )
            extra = [redis_pid] if srv.redis and redis_pid else []
            with running(srv, port, extra) as pids:
                full = {"url": f"ws://127.0.0.1:{port}", "proto": srv.proto, "pids": pids, **scenario}
                # Polled in the run without stalled clients too, so that serving /metrics costs
                # the same on both sides of the comparison.
                metrics_url = (
                    f"http://127.0.0.1:{port}/metrics"
                    if srv.metrics and scenario.get("pollMetrics")
                    else None
                )
                with stalled_clients(full["url"], srv.proto, int(scenario.get("stalled", 0))):
                    outcome = loadgen(full, metrics_url)
        entry = {"scenario": scenario_name, "server": server.name, "params": scenario, "result": outcome}
        print(json.dumps(entry), flush=True)
        return entry

    def record(entry: dict[str, Any] | None) -> None:
        if entry is not None:
            results["runs"].append(entry)

    def take_turns(
        cases: list[tuple[str, Server, dict[str, Any]]],
        metric: Callable[[dict[str, Any]], float | None],
    ) -> None:
        """Runs every case `repeat` times, the cases taking turns so that a slow spell of the
        machine does not land on one of them; records each case's run with the median metric."""
        tries: dict[tuple[str, str], list[dict[str, Any]]] = {}
        for _ in range(repeat):
            for scenario_name, server, params in cases:
                if (entry := run(scenario_name, server, params, redis_pid)) is not None:
                    tries.setdefault((scenario_name, server.name), []).append(entry)
        for entries in tries.values():
            record(median_entry(entries, metric))

    with redis_server() as (redis_url, redis_pid):
        every = servers(0, Path("/tmp"), redis_url, args.baseline)
        by_name = {s.name: s for s in every}
        if args.servers:
            every = [s for s in every if s.name in args.servers]
        single = [s for s in every if not s.redis]
        fanout_servers = every

        for n, messages in ((100, int(2000 * scale)), (1000, int(300 * scale))):
            params = {"mode": "fanout", "clients": int(n * max(scale, 0.5)), "messages": messages, "size": 64}
            take_turns([(f"fanout-{n}", server, params) for server in fanout_servers], cpu_per_delivery)

        saturation = next(
            (
                r["result"].get("messages_per_second")
                for r in results["runs"]
                if r["scenario"] == "fanout-100" and r["server"] == "tutorial (uvicorn)"
            ),
            None,
        )
        if saturation is None and (not wanted or {"latency-50", "latency-80"} & wanted):
            # The latency scenarios' rates come from it, even when fanout-100 was not asked for.
            entry = run(
                "fanout-100",
                by_name["tutorial (uvicorn)"],
                {"mode": "fanout", "clients": 100, "messages": int(2000 * scale)},
                redis_pid,
                needed=True,
            )
            record(entry)
            saturation = entry["result"].get("messages_per_second") if entry else None
        results["tutorial_saturation_messages_per_second"] = saturation
        if saturation:
            # A p99 moves from run to run like a CPU figure: these repeat too, servers in turn.
            for share in (50, 80):
                rate = saturation * share / 100
                take_turns(
                    [
                        (
                            f"latency-{share}",
                            server,
                            {
                                "mode": "fanout",
                                "clients": 100,
                                "rate": rate,
                                "messages": max(100, int(rate * 5 * scale)),
                            },
                        )
                        for server in fanout_servers
                    ],
                    healthy_p99,
                )

        for k in (1000, 5000):
            for server in single:
                record(run(f"idle-{k}", server, {"mode": "idle", "clients": int(k * scale)}, redis_pid))

        # 20,000 connections on one process (the fd limit raised for server and load generator
        # alike; where the hard limit is 20,000 itself, as many as it leaves room for), then 100
        # messages to all of them: memory, CPU and p99 at that size. Only when asked for by
        # name: it takes minutes per server.
        if wanted and "scale-20000" in wanted:
            room = resource.getrlimit(resource.RLIMIT_NOFILE)[1] - 100
            for server in single:
                clients = min(20_000, room, int(20_000 * scale))
                params = {"mode": "fanout", "clients": clients, "messages": 100, "size": 64}
                record(run("scale-20000", server, {**params, "timeoutMs": 300_000}, redis_pid))

        # A whole company reconnecting after a restart (bench/loadgen/storm.mjs): only when
        # asked for by name, like scale-20000.
        if wanted and "reconnect-storm" in wanted:
            storm = {
                "users": int(args.storm_users * scale),
                "rooms": 200,
                "perUser": 10,
                "dms": 1,
                "history": 30,
                "rate": 50,
                "steadySeconds": args.storm_steady_seconds,
                "waveTimeoutMs": 180_000,
                "drainMs": 20_000,
            }
            if args.storm_wave_rate is not None:
                storm["waveRate"] = args.storm_wave_rate
            storm_tries: dict[str, list[dict[str, Any]]] = {}
            for _ in range(repeat):
                for server in (s for s in single if s.proto == "json"):
                    outcome = reconnect_storm(server, storm, args.baseline)
                    entry = {
                        "scenario": "reconnect-storm",
                        "server": server.name,
                        "params": storm,
                        "result": outcome,
                    }
                    print(json.dumps(entry), flush=True)
                    storm_tries.setdefault(server.name, []).append(entry)
            for entries in storm_tries.values():
                record(median_entry(entries, storm_seconds))

        # 12 KB messages at 20/s for 30 s: 7.2 MB per client, more than the socket buffers
        # between the server and a stalled client (bench/stallers.py) can hold. A p99 over one
        # 30 s run moves by 20% from run to run, so these repeat like the fan-out runs.
        take_turns(
            [
                (
                    f"stalled-{stalled}",
                    by_name[name],
                    {
                        "mode": "fanout",
                        "clients": int(1000 * max(scale, 0.5)),
                        "stalled": stalled,
                        "messages": int(600 * scale),
                        "size": 12000,
                        "rate": 20,
                        "timeoutMs": 60_000,
                        "pollMetrics": True,
                    },
                )
                for stalled in (0, 1, 10)
                for name in ("tutorial (uvicorn)", "websockets", "node ws", "hubbub text", "hubbub json")
                if by_name[name] in every
            ],
            healthy_p99,
        )

    out = BENCH / "results"
    out.mkdir(exist_ok=True)
    path = out / f"{time.strftime('%Y%m%d-%H%M%S')}.json"
    path.write_text(json.dumps(results, indent=2))
    print(f"results: {path}")
    if not args.quick and not wanted and not args.servers:
        from report import write_report  # type: ignore[import-not-found]

        write_report(results, ROOT / "docs" / "benchmarks.md", results["command"].strip())


if __name__ == "__main__":
    if not shutil.which("taskset"):
        sys.exit("bench needs taskset (util-linux)")
    sys.path.insert(0, str(BENCH))
    main()
