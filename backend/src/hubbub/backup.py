"""`hubbub backup PATH` and `hubbub restore PATH`: a consistent copy of a running server's data,
and that copy put back into an empty data directory.

A backup is a directory:

    manifest.json   what it holds: Hubbub's version, the schema revision, the database's kind,
                    the files, whether the secret key is in it (written last: a directory without
                    it is an unfinished backup, and restore refuses it)
    hubbub.db       SQLite: made with SQLite's online backup API, in one read transaction, so it
                    is the database as of one moment while the server goes on writing
    hubbub.pgdump   PostgreSQL: `pg_dump --format=custom` of the hubbub_* tables (one snapshot,
                    likewise), checked with `pg_restore --list`
    users           the password users file, when there is one
    secret_key      the generated session key from the data directory, when there is one (a key
                    from HUBBUB_SECRET_KEY is not copied: keep it where you keep that setting)
    files/NAME/     trees of files the database refers to (FILE_TREES): copied after the
                    database, so every file the copy names is there

Users, rooms, messages, bots (their token digests) and sessions are in the database. Without the
secret key a restored server still works, but every session cookie is refused: people sign in
again. Bot tokens are stored as digests and keep working either way.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime
import json
import os
import shutil
import sqlite3
import subprocess
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass, field
from enum import StrEnum
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

from hubbub import __version__
from hubbub.settings import Settings

MANIFEST = "manifest.json"
SQLITE_FILE = "hubbub.db"
POSTGRES_FILE = "hubbub.pgdump"
USERS_FILE = "users"
KEY_FILE = "secret_key"  # the generated session key, as runtime.py keeps it
FORMAT = 1


class KeyPlace(StrEnum):
    """Where the session key of a backed-up server is."""

    INCLUDED = "included"  # in the backup (the data directory's generated key)
    ENVIRONMENT = "environment"  # HUBBUB_SECRET_KEY: kept wherever that setting is kept
    NOWHERE = "none"  # none made yet


class BackupError(Exception):
    """The backup or restore cannot be done; the message says why and what to do."""


# Trees of files that live beside the database and that it refers to, by name: Settings -> the
# directory (None when the feature is off). Files must be written before the row that names them
# commits, and never changed afterwards: then copying the trees after the database snapshot gives
# every file the snapshot names. Hidden entries (an upload's spool files) are not copied.
FILE_TREES: dict[str, Callable[[Settings], Path | None]] = {}


def _uploaded_files(settings: Settings) -> Path | None:
    """Uploads kept in a directory (hubbub/files/local.py: bytes before rows, never changed);
    None when they are in an S3 bucket, which is backed up with the bucket's own tools."""
    url = settings.file_storage_url
    if url is None:
        return settings.data_dir / "files"
    return Path(urlsplit(url).path) if url.startswith("file://") else None


FILE_TREES["files"] = _uploaded_files


@dataclass
class Manifest:
    hubbub: str
    schema: str | None
    database: str  # "sqlite" or "postgresql"
    created_at: str
    files: list[str] = field(default_factory=list)
    session_key: KeyPlace = KeyPlace.NOWHERE
    format: int = FORMAT

    def write(self, directory: Path) -> None:
        (directory / MANIFEST).write_text(json.dumps(asdict(self), indent=2) + "\n")

    @classmethod
    def read(cls, directory: Path) -> Manifest:
        try:
            data = json.loads((directory / MANIFEST).read_text())
            manifest = cls(**data)
            manifest.session_key = KeyPlace(manifest.session_key)
        except FileNotFoundError:
            raise BackupError(f"{directory} is not a finished Hubbub backup: it has no {MANIFEST}") from None
        except (ValueError, TypeError) as exc:
            raise BackupError(f"{directory / MANIFEST} is not a Hubbub backup manifest: {exc}") from None
        if manifest.format != FORMAT:
            raise BackupError(f"backup format {manifest.format} is not one this Hubbub reads ({FORMAT})")
        return manifest


def database_kind(url: str) -> str:
    return "sqlite" if url.startswith("sqlite:") else "postgresql"


def sqlite_path(url: str) -> Path:
    if ":///" not in url or url.endswith(":memory:"):
        raise BackupError("an in-memory SQLite database has nothing to back up")
    return Path(url.split(":///", 1)[1])


# --- backup


def backup(settings: Settings, path: Path) -> Manifest:
    """Write a backup of the configured server's data to PATH, which must not exist."""
    try:
        path.mkdir(mode=0o700)  # the claim: an existing PATH (or one made meanwhile) is refused
    except FileExistsError:
        raise BackupError(f"{path} exists: give a new path, nothing is overwritten") from None
    except FileNotFoundError:
        raise BackupError(f"{path.parent} does not exist") from None
    try:
        manifest = _write_backup(settings, path)
    except BaseException:
        shutil.rmtree(path, ignore_errors=True)
        raise
    return manifest


def _write_backup(settings: Settings, path: Path) -> Manifest:
    url = settings.effective_database_url
    kind = database_kind(url)
    files: list[str] = []
    if kind == "sqlite":
        schema = _backup_sqlite(sqlite_path(url), path / SQLITE_FILE)
        files.append(SQLITE_FILE)
    else:
        schema = _backup_postgres(url, path / POSTGRES_FILE)
        files.append(POSTGRES_FILE)
    users = settings.effective_users_file
    if users.is_file():
        _copy_private(users, path / USERS_FILE)
        files.append(USERS_FILE)
    key = KeyPlace.ENVIRONMENT if settings.secret_key is not None else KeyPlace.NOWHERE
    generated = settings.data_dir / KEY_FILE
    if settings.secret_key is None and generated.is_file():
        _copy_private(generated, path / KEY_FILE)
        files.append(KEY_FILE)
        key = KeyPlace.INCLUDED
    for name, tree in sorted(FILE_TREES.items()):
        source = tree(settings)
        if source is not None and source.is_dir():
            shutil.copytree(source, path / "files" / name, ignore=shutil.ignore_patterns(".*"))
            files.append(f"files/{name}/")
    manifest = Manifest(
        hubbub=__version__,
        schema=schema,
        database=kind,
        created_at=datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds"),
        files=files,
        session_key=key,
    )
    manifest.write(path)
    return manifest


def _copy_private(source: Path, target: Path) -> None:
    fd = os.open(target, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as out:
        out.write(source.read_bytes())


def _backup_sqlite(source: Path, target: Path) -> str | None:
    if not source.is_file():
        raise BackupError(f"no database at {source}: is HUBBUB_DATA_DIR (or HUBBUB_DATABASE_URL) right?")
    # pages=-1: the whole database in one step, within one read transaction. In WAL mode the
    # server's writers go on meanwhile; the copy is the database as it was when the step began.
    with (
        contextlib.closing(sqlite3.connect(source, timeout=30)) as live,
        contextlib.closing(sqlite3.connect(target)) as copy,
    ):
        live.backup(copy, pages=-1)
        _check_sqlite(copy, target)
    os.chmod(target, 0o600)
    return _sqlite_revision(target)


def _check_sqlite(db: sqlite3.Connection, path: Path) -> None:
    result = db.execute("PRAGMA integrity_check").fetchone()
    if result is None or result[0] != "ok":
        raise BackupError(f"{path} failed SQLite's integrity check: {result}")


def _sqlite_revision(path: Path) -> str | None:
    from hubbub.store import schema_version

    return asyncio.run(schema_version(f"sqlite:///{path}")).current


def postgres_tool(name: str) -> str:
    """pg_dump or pg_restore: on PATH (Debian's wrapper picks the newest installed), else the
    newest of Debian's versioned directories."""
    found = shutil.which(name)
    if found:
        return found
    versions = sorted(Path("/usr/lib/postgresql").glob(f"*/bin/{name}"), key=lambda p: int(p.parts[-3]))
    if versions:
        return str(versions[-1])
    raise BackupError(
        f"{name} is not installed here. Install PostgreSQL's client (Debian: postgresql-client, of "
        "the server's major version or newer), or run it where it is, e.g. in the database's "
        "container: see docs/deploy.md, 'Backups'"
    )


def libpq_target(url: str) -> tuple[str, dict[str, str]]:
    """The URL for pg_dump/pg_restore without its password (which goes in PGPASSWORD, not on a
    command line that `ps` shows), and the environment to run them in."""
    parts = urlsplit(url.replace("postgresql+asyncpg://", "postgresql://", 1))
    env = dict(os.environ)
    if parts.password is not None:
        env["PGPASSWORD"] = parts.password
        netloc = parts.netloc.replace(f":{parts.password}@", "@", 1)
        parts = parts._replace(netloc=netloc)
    return urlunsplit(parts), env


def _run(command: list[str], env: dict[str, str], what: str) -> str:
    done = subprocess.run(command, env=env, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise BackupError(f"{what} failed ({done.returncode}): {done.stderr.strip()[-2000:]}")
    return done.stdout


# pg_dump, as docs/deploy.md documents it: the hubbub_* tables only (a shared database keeps
# its other tables to itself), no owners or grants (the restoring role owns what it restores).
PG_DUMP_OPTIONS = ["--format=custom", "--no-owner", "--no-privileges", "--table=hubbub_*"]
PG_RESTORE_OPTIONS = ["--no-owner", "--no-privileges", "--single-transaction", "--exit-on-error"]


def _backup_postgres(url: str, target: Path) -> str | None:
    from hubbub.store import schema_version

    target_url, env = libpq_target(url)
    # The revision as the dump will have it: read first, and refused below if it moved.
    before = asyncio.run(schema_version(url)).current
    _run(
        [postgres_tool("pg_dump"), *PG_DUMP_OPTIONS, f"--file={target}", f"--dbname={target_url}"],
        env,
        "pg_dump",
    )
    os.chmod(target, 0o600)
    listing = _run([postgres_tool("pg_restore"), "--list", str(target)], env, "pg_restore --list")
    if "TABLE DATA" not in listing or "hubbub_messages" not in listing:
        raise BackupError(f"{target} holds no Hubbub tables: is HUBBUB_DATABASE_URL the right database?")
    if asyncio.run(schema_version(url)).current != before:
        raise BackupError("the schema was migrated while the backup ran: run it again")
    return before


# --- restore


def restore(settings: Settings, path: Path) -> Manifest:
    """Put the backup at PATH into the configured, empty, data directory (and database)."""
    manifest = Manifest.read(path)
    _check_restorable(manifest)
    url = settings.effective_database_url
    kind = database_kind(url)
    if manifest.database != kind:
        raise BackupError(
            f"the backup holds a {manifest.database} database and this configuration uses {kind}: "
            "restore into the same kind of database"
        )
    data = settings.data_dir
    if data.exists() and (not data.is_dir() or any(data.iterdir())):
        raise BackupError(f"{data} is not empty: restore only into an empty (or new) data directory")
    targets = _file_targets(settings, manifest)
    for target in targets.values():
        if target.exists():
            raise BackupError(f"{target} exists: restore writes only where nothing is")
    if kind == "sqlite":
        database = sqlite_path(url)
        if database.exists():
            raise BackupError(f"{database} exists: restore writes only where nothing is")
    else:
        _check_postgres_empty(url)

    created: list[Path] = []
    try:
        with _undo_on_failure(created):
            if not data.exists():
                data.mkdir(mode=0o700, parents=True)
                created.append(data)
            for name, target in targets.items():
                target.parent.mkdir(parents=True, exist_ok=True)
                source = path / name
                if source.is_dir():
                    shutil.copytree(source, target)
                else:
                    _copy_private(source, target)
                created.append(target)
            if kind == "sqlite":
                created.append(database)
                _restore_sqlite(path / SQLITE_FILE, database)
            else:
                _restore_postgres(path / POSTGRES_FILE, url)
    except sqlite3.Error as exc:
        raise BackupError(f"the backup's database could not be restored: {exc}") from exc
    return manifest


def _check_restorable(manifest: Manifest) -> None:
    from hubbub.store.schema import head, scripts

    if manifest.schema is None:
        return
    try:
        scripts().get_revision(manifest.schema)
    except Exception:
        raise BackupError(
            f"the backup's schema revision {manifest.schema!r} is newer than this Hubbub knows "
            f"(its newest is {head()!r}): restore it with Hubbub {manifest.hubbub} or newer"
        ) from None


def _file_targets(settings: Settings, manifest: Manifest) -> dict[str, Path]:
    """Where each of the backup's files goes (the database aside)."""
    targets: dict[str, Path] = {}
    for name in manifest.files:
        if name == USERS_FILE:
            targets[name] = settings.effective_users_file
        elif name == KEY_FILE and settings.secret_key is None:
            targets[name] = settings.data_dir / KEY_FILE
        elif name.startswith("files/"):
            tree = FILE_TREES.get(name.removeprefix("files/").rstrip("/"))
            directory = tree(settings) if tree is not None else None
            if directory is None:
                raise BackupError(f"the backup has {name}, which this Hubbub does not know where to put")
            targets[name.rstrip("/")] = directory
    return targets


@contextlib.contextmanager
def _undo_on_failure(created: list[Path]) -> Iterator[None]:
    """What the restore made is removed again if it fails: the data directory is as it was."""
    try:
        yield
    except BaseException:
        for made in reversed(created):
            if made.is_dir():
                shutil.rmtree(made, ignore_errors=True)
            else:
                made.unlink(missing_ok=True)
        raise


def _restore_sqlite(source: Path, target: Path) -> None:
    target.parent.mkdir(parents=True, exist_ok=True)
    with contextlib.closing(sqlite3.connect(source)) as backup_db:
        _check_sqlite(backup_db, source)
        with contextlib.closing(sqlite3.connect(target)) as restored:
            backup_db.backup(restored, pages=-1)
    os.chmod(target, 0o600)


def _check_postgres_empty(url: str) -> None:
    async def tables() -> list[str]:
        import asyncpg

        conn = await asyncpg.connect(url.replace("postgresql+asyncpg://", "postgresql://", 1))
        try:
            rows = await conn.fetch(
                "SELECT tablename FROM pg_tables WHERE tablename LIKE 'hubbub%' "
                "AND schemaname = ANY (current_schemas(false))"
            )
        finally:
            await conn.close()
        return [row["tablename"] for row in rows]

    found = asyncio.run(tables())
    if found:
        raise BackupError(
            f"the database already has Hubbub's tables ({', '.join(sorted(found)[:3])}, ...): "
            "restore only into a database without them"
        )


def _restore_postgres(source: Path, url: str) -> None:
    target_url, env = libpq_target(url)
    # One transaction: a restore that fails leaves the database as it was.
    _run(
        [postgres_tool("pg_restore"), *PG_RESTORE_OPTIONS, f"--dbname={target_url}", str(source)],
        env,
        "pg_restore",
    )
