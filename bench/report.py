"""Turns a bench/run.py result file into docs/benchmarks.md.

.venv/bin/python bench/report.py bench/results/<file>.json [<later>.json ...]

With several files, a later file's scenarios replace the earlier ones' (re-running some
scenarios after a change to them); the report names every file and when it ran.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

BASELINE = "websockets"
TUTORIAL = "tutorial (uvicorn)"
REDIS = "hubbub json, gunicorn 2 workers + redis"


def _index(results: dict[str, Any]) -> dict[tuple[str, str], dict[str, Any]]:
    return {(r["scenario"], r["server"]): r["result"] for r in results["runs"]}


def _fmt(value: float | None, digits: int = 1) -> str:
    return "—" if value is None else f"{value:,.{digits}f}"


def _ratio(value: float | None, base: float | None) -> str:
    if value is None or not base:
        return "—"
    return f"{value / base:.2f}×"


def _servers(results: dict[str, Any], scenario: str) -> list[str]:
    return [r["server"] for r in results["runs"] if r["scenario"] == scenario]


def _integrity(result: dict[str, Any]) -> str:
    if "error" in result:
        return "error: " + result["error"][:60].replace("\n", " ")
    return f"{result['lost']} / {result['duplicates']} / {result['out_of_order']}"


def _percent(share: float | None) -> str:
    return "—" if share is None else f"{share:.0%}"


def _spread(values: list[float | None], digits: int = 2) -> str:
    present = [v for v in values if v is not None]
    if len(present) < 2:
        return "—"
    return f"{min(present):.{digits}f}–{max(present):.{digits}f} ({len(present)} runs)"


def _integrity_of_all(result: dict[str, Any], tries: list[dict[str, Any]]) -> str:
    """Lost / duplicated / out of order, added up over every run (a loss in any run shows)."""
    runs = tries or [result]
    failed = [t for t in runs if "error" in t]
    if failed:
        return _integrity(failed[0])
    return " / ".join(str(sum(t[key] for t in runs)) for key in ("lost", "duplicates", "out_of_order"))


# Sections written by other benchmark scripts (bench/durability.py) or by hand (the reconnect
# storm's runs, bench/README.md) into the same file: a new report of bench/run.py keeps them.
KEPT_SECTIONS = ("## Where the time and the memory go", "## Durability", "## Whole company")


def kept_sections(path: Path) -> str:
    if not path.exists():
        return ""
    text = path.read_text()
    starts = [text.find(f"\n{heading}\n") for heading in KEPT_SECTIONS]
    found = [start for start in starts if start >= 0]
    return text[min(found) :] if found else ""


def write_report(results: dict[str, Any], path: Path, command: str) -> None:
    runs = _index(results)
    tries = {(r["scenario"], r["server"]): r.get("tries", []) for r in results["runs"]}
    lines = [
        "# Benchmarks",
        "",
        f"Run {results['started']} on this project's 2-core machine with `{command}`.",
        "Every server pinned to CPU 0, the Node load generator (`bench/loadgen`) to CPU 1, compression off",
        "everywhere. Server CPU is read from `/proc` for the whole server process tree (gunicorn",
        "master, workers and Redis included in Redis mode). Lost / duplicated / out-of-order are",
        "counted per receiving connection from sequence numbers in every payload.",
        "",
        "Peers: the FastAPI tutorial's `ConnectionManager` app on uvicorn, a raw `websockets`",
        "server with `broadcast()` (the Python ceiling), a Node `ws` server (the non-Python",
        "ceiling), python-socketio on uvicorn; Hubbub speaking the tutorial's plain text",
        "(`/ws/{id}`, *hubbub text*) and its JSON protocol (*hubbub json*, messages stored in",
        "SQLite before fan-out), on uvicorn and on gunicorn with 2 workers through Redis.",
        "",
    ]
    for scenario, title in (("fanout-100", "1 → 100"), ("fanout-1000", "1 → 1000")):
        base = runs.get((scenario, BASELINE), {}).get("cpu_us_per_delivery")
        tutorial = runs.get((scenario, TUTORIAL), {}).get("cpu_us_per_delivery")
        lines += [
            f"## Fan-out {title}: server CPU per delivered message",
            "",
            "One sender, as fast as the server takes it; every connection receives every message.",
            "Each server ran this several times, servers taking turns; the table shows the run with the",
            "median CPU per delivery, and the lowest and highest of all its runs; lost / dup / disorder",
            "is added up over all runs. *Load gen CPU* is the load generator's share of its core: near",
            "100% it, not the server, may be the limit.",
            "",
            "| server | deliveries/s | CPU µs / delivery | range | vs websockets | vs tutorial | load gen CPU "
            "| lost / dup / disorder |",
            "| --- | ---: | ---: | ---: | ---: | ---: | ---: | --- |",
        ]
        for server in _servers(results, scenario):
            r = runs[(scenario, server)]
            cpu = r.get("cpu_us_per_delivery")
            all_tries = tries.get((scenario, server), [])
            lines.append(
                f"| {server} | {_fmt(r.get('deliveries_per_second'), 0)} | {_fmt(cpu, 2)} | "
                f"{_spread([t.get('cpu_us_per_delivery') for t in all_tries])} | "
                f"{_ratio(cpu, base)} | {_ratio(cpu, tutorial)} | {_percent(r.get('loadgen_cpu_share'))} | "
                f"{_integrity_of_all(r, all_tries)} |"
            )
        lines.append("")

    saturation = results.get("tutorial_saturation_messages_per_second")
    if saturation:
        lines += [
            "## Latency at 50% and 80% of the tutorial app's saturation",
            "",
            f"The tutorial app saturated at {saturation:,.0f} messages/s into 100 connections; each",
            "server then gets that share of it as a steady rate (send time to receive time, all",
            "deliveries). Each ran several times, servers taking turns: the run with the median p99,",
            "and the range of p99 over all runs.",
            "",
            "| server | p50 @50% ms | p99 @50% ms | p99 range @50% | p50 @80% ms | p99 @80% ms | p99 range @80% "
            "| lost / dup / disorder @80% |",
            "| --- | ---: | ---: | ---: | ---: | ---: | ---: | --- |",
        ]

        def p99s(scenario: str, server: str) -> str:
            return _spread([t.get("latency_ms", {}).get("p99") for t in tries.get((scenario, server), [])])

        for server in _servers(results, "latency-50"):
            half = runs.get(("latency-50", server), {})
            most = runs.get(("latency-80", server), {})
            lines.append(
                f"| {server} | {_fmt(half.get('latency_ms', {}).get('p50'), 2)} | "
                f"{_fmt(half.get('latency_ms', {}).get('p99'), 2)} | {p99s('latency-50', server)} | "
                f"{_fmt(most.get('latency_ms', {}).get('p50'), 2)} | "
                f"{_fmt(most.get('latency_ms', {}).get('p99'), 2)} | {p99s('latency-80', server)} | "
                f"{_integrity_of_all(most, tries.get(('latency-80', server), [])) if most else '—'} |"
            )
        lines.append("")

    lines += [
        "## Memory per idle connection",
        "",
        "Server RSS after opening the connections (and, for Hubbub JSON, joining the default room),",
        "minus before, divided by the number of connections.",
        "",
        "| server | KiB / conn (1k) | vs websockets | KiB / conn (5k) | vs websockets |",
        "| --- | ---: | ---: | ---: | ---: |",
    ]
    for server in _servers(results, "idle-1000"):
        one = runs.get(("idle-1000", server), {}).get("kib_per_connection")
        five = runs.get(("idle-5000", server), {}).get("kib_per_connection")
        base1 = runs.get(("idle-1000", BASELINE), {}).get("kib_per_connection")
        base5 = runs.get(("idle-5000", BASELINE), {}).get("kib_per_connection")
        lines.append(
            f"| {server} | {_fmt(one)} | {_ratio(one, base1)} | {_fmt(five)} | {_ratio(five, base5)} |"
        )
    lines.append("")

    if _servers(results, "scale-20000"):
        lines += [
            "## 20,000 connections on one process",
            "",
            "20,000 connections (or as many as the machine's hard limit on open files leaves room for),",
            "every one receiving, then one sender sends 100 messages as fast as the server takes them.",
            "RSS is the server's peak during the run; it includes what the connections hold while idle.",
            "",
            "| server | connections | peak RSS MiB | peak RSS KiB / conn | CPU µs / delivery | vs websockets | p99 ms "
            "| lost / dup / disorder |",
            "| --- | ---: | ---: | ---: | ---: | ---: | ---: | --- |",
        ]
        base = runs.get(("scale-20000", BASELINE), {}).get("cpu_us_per_delivery")
        for server in _servers(results, "scale-20000"):
            r = runs[("scale-20000", server)]
            peak = r.get("rss_peak_kib")
            per_conn = None if peak is None else peak / max(1, r.get("connections", 1))
            cpu = r.get("cpu_us_per_delivery")
            lines.append(
                f"| {server} | {r.get('connections', 0):,} | {_fmt(None if peak is None else peak / 1024)} | "
                f"{_fmt(per_conn)} | "
                f"{_fmt(cpu, 2)} | {_ratio(cpu, base)} | {_fmt(r.get('latency_ms', {}).get('p99'), 0)} | "
                f"{_integrity(r)} |"
            )
        lines.append("")

    lines += [
        "## Stalled clients among 1000 healthy ones",
        "",
        "Stalled clients (`bench/stallers.py`: sockets whose receive buffer is fixed at 4 KiB, so the",
        "kernel cannot absorb the stall) join, then never read again; 12 KB messages at 20/s for",
        "30 s. Healthy clients' p99 latency is compared with the run without stalled clients; RSS",
        "growth is the server's peak RSS during the run minus its RSS before; eviction is when",
        "Hubbub's slow-consumer counter reached the number of stalled clients (polled every 200 ms",
        "by bench/run.py, in the runs without stalled clients too). Each server ran each case several",
        "times, servers taking turns: the row is the run with the median p99, *range* the lowest and",
        "highest p99 of all runs, and lost / dup / disorder is added up over all runs.",
        "",
        "| server | stalled | healthy p99 ms | range | vs no stall | healthy lost / dup / disorder "
        "| RSS growth MiB | evicted after s |",
        "| --- | ---: | ---: | ---: | ---: | --- | ---: | ---: |",
    ]
    for server in _servers(results, "stalled-0"):
        calm = runs.get(("stalled-0", server), {})
        calm_p99 = calm.get("latency_ms", {}).get("p99")
        for stalled in (0, 1, 10):
            r = runs.get((f"stalled-{stalled}", server), {})
            if not r:
                continue
            p99 = r.get("latency_ms", {}).get("p99")
            growth = (
                (r.get("rss_peak_kib", 0) - r.get("rss_before_kib", 0)) / 1024
                if "rss_peak_kib" in r
                else None
            )
            evicted = r.get("evicted_after_ms")
            all_tries = tries.get((f"stalled-{stalled}", server), [])
            p99s = [t.get("latency_ms", {}).get("p99") for t in all_tries]
            lines.append(
                f"| {server} | {stalled} | {_fmt(p99, 1)} | {_spread(p99s, 1)} | {_ratio(p99, calm_p99)} | "
                f"{_integrity_of_all(r, all_tries)} | "
                f"{_fmt(growth)} | {_fmt(evicted / 1000 if evicted is not None else None, 2)} |"
            )
    lines.append("")

    redis_rows = []
    for scenario in ("fanout-100", "fanout-1000"):
        single = runs.get((scenario, "hubbub json"), {})
        redis = runs.get((scenario, REDIS), {})
        if not single or not redis or "error" in single or "error" in redis:
            continue
        per_cpu_single = single["delivered"] / max(single["server_cpu_seconds"], 1e-9)
        per_cpu_redis = redis["delivered"] / max(redis["server_cpu_seconds"], 1e-9)
        redis_rows += [
            f"| {scenario} | 1 worker | {per_cpu_single:,.0f} | 1.00× | {_integrity(single)} |",
            f"| {scenario} | 2 workers + Redis | {per_cpu_redis:,.0f} | {per_cpu_redis / per_cpu_single:.2f}× | "
            f"{_integrity(redis)} |",
        ]
    if redis_rows:
        lines += [
            "## Two workers through Redis",
            "",
            "Hubbub JSON, one sender; Redis mode counts both workers, the gunicorn master and Redis.",
            "",
            "| scenario | hubbub json | deliveries per CPU-second | ratio | lost / dup / disorder |",
            "| --- | --- | ---: | ---: | --- |",
            *redis_rows,
            "",
        ]
    path.write_text("\n".join(lines) + "\n" + kept_sections(path))


def _command(data: dict[str, Any]) -> str:
    scenarios = sorted({r["scenario"] for r in data["runs"]})
    return str(data.get("command") or "bench/run.py --only " + " ".join(scenarios)).strip()


def merge(files: list[Path]) -> tuple[dict[str, Any], str]:
    """The runs of all files, later ones replacing earlier ones' scenarios; and the commands."""
    merged: dict[str, Any] = json.loads(files[0].read_text())
    commands = [str(merged.get("command") or "bench/run.py").strip()]
    for later in files[1:]:
        data = json.loads(later.read_text())
        redone = {r["scenario"] for r in data["runs"]}
        merged["runs"] = [r for r in merged["runs"] if r["scenario"] not in redone] + data["runs"]
        saturation = "tutorial_saturation_messages_per_second"
        if data.get(saturation):  # a file without latency runs has none (or None)
            # The latency runs' rates came from this file's saturation run, not the earlier one's.
            merged[saturation] = data[saturation]
        merged["started"] += f" (and {data['started']} for {', '.join(sorted(redone))})"
        commands.append(_command(data))
    return merged, "`, then `".join(commands)


if __name__ == "__main__":
    results, command = merge([Path(arg) for arg in sys.argv[1:]])
    write_report(results, Path(__file__).resolve().parent.parent / "docs" / "benchmarks.md", command)
