"""The `hubbub` command: serve, add-user (passwd, del-user, deactivate, reactivate, set-role),
add-bot (revoke-bot, bots), audit, migrate, db-version, backup, restore, export, check-config."""

from __future__ import annotations

import argparse
import asyncio
import getpass
import json
import logging
import os
import sys
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit, urlunsplit

from pydantic import ValidationError

from hubbub import __version__
from hubbub.logs import install_redaction
from hubbub.settings import Settings
from hubbub.transport.capabilities import FALLBACK_PROTOCOL, HUBBUB_PROTOCOL, protocol_unavailable

if TYPE_CHECKING:
    from hubbub.store import Store

LOG_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"


def load_settings() -> Settings:
    """Settings from the environment, or exit 2 with one line per problem."""
    try:
        return Settings()
    except ValidationError as exc:
        lines = []
        for error in exc.errors(include_url=False):
            field = ".".join(str(p) for p in error["loc"])
            name = f"HUBBUB_{field.upper()}" if field else "HUBBUB_* settings"
            lines.append(f"  {name}: {error['msg']}")
        sys.exit("hubbub: invalid configuration:\n" + "\n".join(lines))


def workers_need_a_broker(workers: int) -> str:
    return (
        f"hubbub: {workers} workers need a shared broker: the in-process (memory) broker "
        "would split users into islands. Set HUBBUB_REDIS_URL "
        "(or HUBBUB_BROKER_URL=postgresql://…) or run one worker."
    )


def check_workers(settings: Settings, workers: int) -> None:
    if workers > 1 and settings.broker_is_in_process:
        sys.exit(workers_need_a_broker(workers))


def ws_protocol(unavailable: str | None) -> str:
    """Hubbub's WebSocket protocol class, or uvicorn's own where this uvicorn cannot carry it
    (transport/capabilities.py), said once."""
    if unavailable is None:
        return HUBBUB_PROTOCOL
    logging.getLogger("hubbub").warning(
        "%s: direct writes and the kernel's ping deadline are off (install a uvicorn that "
        "pyproject.toml allows)",
        unavailable,
    )
    return FALLBACK_PROTOCOL


def uvicorn_options(settings: Settings) -> dict[str, Any]:
    """The uvicorn options Hubbub depends on; gunicorn's worker class gets the same ones."""
    return {
        "ws": ws_protocol(protocol_unavailable()),
        "ws_max_size": settings.max_message_bytes,
        "ws_per_message_deflate": False,
        "http": "hubbub.transport.http_protocol:HttpProtocol",
        "server_header": False,
        "ws_ping_interval": settings.ping_interval_seconds,
        "ws_ping_timeout": settings.ping_timeout_seconds,
        "timeout_graceful_shutdown": int(settings.shutdown_timeout_seconds),
        "lifespan": "on",
        # Forwarded headers are the app's to read (web/proxies.py, HUBBUB_TRUSTED_PROXIES):
        # uvicorn's own reading would hide from the app whether a proxy or a client is asking.
        "proxy_headers": False,
    }


def trust_forwarded(allow_ips: str, source: str) -> None:
    """The older ways of saying whom to trust (``--proxy-headers --forwarded-allow-ips``,
    FORWARDED_ALLOW_IPS in the image) become HUBBUB_TRUSTED_PROXIES, in this process's
    environment, which the app (and every worker started from here) reads. Both at once, saying
    different things, is refused rather than guessed."""
    current = os.environ.get("HUBBUB_TRUSTED_PROXIES")
    if current is not None and current.strip() != allow_ips.strip():
        sys.exit(
            f"hubbub: {source} ({allow_ips!r}) and HUBBUB_TRUSTED_PROXIES ({current!r}) both say "
            "whose forwarded headers to believe: keep HUBBUB_TRUSTED_PROXIES alone"
        )
    os.environ["HUBBUB_TRUSTED_PROXIES"] = allow_ips


def serve(args: argparse.Namespace) -> None:
    import uvicorn

    if args.proxy_headers:
        trust_forwarded(args.forwarded_allow_ips, "--proxy-headers --forwarded-allow-ips")
    settings = load_settings()
    check_workers(settings, args.workers)
    logging.basicConfig(level=settings.log_level.upper(), format=LOG_FORMAT)
    uvicorn.run(
        "hubbub.app:app_from_env",
        factory=True,
        host=args.host,
        port=args.port,
        workers=args.workers,
        log_level=settings.log_level,
        **uvicorn_options(settings),
    )


def _read_password(args: argparse.Namespace) -> str:
    if args.password_stdin:
        return sys.stdin.readline().rstrip("\n")
    password = getpass.getpass(f"password for {args.name}: ")
    if getpass.getpass("again: ") != password:
        sys.exit("hubbub: passwords differ")
    return password


def add_user(args: argparse.Namespace) -> None:
    """Password users live in the database; with --users-file, in that file instead (for a
    file kept by configuration management: servers adopt it)."""
    from hubbub.auth.base import AuthError
    from hubbub.auth.password import add_user as write_user
    from hubbub.auth.password import checked_user

    settings = load_settings()
    admin = args.admin if args.command == "add-user" else None  # passwd keeps the role
    password = _read_password(args)
    if args.users_file is not None:
        try:
            write_user(
                args.users_file,
                args.name,
                password,
                must_exist=args.command == "passwd",
                admin=admin,
                min_length=settings.password_min_length,
            )
        except AuthError as exc:
            sys.exit(f"hubbub: {exc}")
        print(f"user {args.name} saved in {args.users_file}")
        return
    try:
        name = checked_user(args.name, password, settings.password_min_length)
    except AuthError as exc:
        sys.exit(f"hubbub: {exc}")

    async def work(store: Store) -> None:
        from hubbub.auth.passwords import hash_password
        from hubbub.people.audit import CLI_ACTOR, Audit

        made = await store.set_password(
            name, hash_password(password), create=args.command == "add-user", admin=admin
        )
        if not made:
            sys.exit(f"hubbub: no user named {name!r}")
        action = "user.password" if args.command == "passwd" else "user.add"
        await Audit(store).record(CLI_ACTOR, action, name, "local", admin=bool(admin))

    _with_store(work)
    # Running servers follow within HUBBUB_CREDENTIAL_CHECK_SECONDS: the user's sessions and
    # sockets of an old password end.
    print(f"user {name} saved")


def del_user(args: argparse.Namespace) -> None:
    """Deactivates the account: the name stays taken (rooms and direct messages are kept by
    name), its messages stay; `hubbub reactivate` undoes it."""
    from hubbub.auth.base import AuthError
    from hubbub.auth.password import delete_user

    if args.users_file is not None:
        try:
            delete_user(args.users_file, args.name)
        except AuthError as exc:
            sys.exit(f"hubbub: {exc}")
        print(f"user {args.name} removed from {args.users_file}; servers deactivate them")
        return
    _set_deactivated(args.name, True)
    print(f"user {args.name} deactivated; their sessions and sockets end")


def _set_deactivated(name: str, deactivated: bool) -> None:
    from hubbub.model import LastAdminError, UnknownUserError
    from hubbub.people.audit import CLI_ACTOR, Audit

    async def work(store: Store) -> None:
        try:
            await store.set_deactivated(name, deactivated)
        except UnknownUserError:
            sys.exit(f"hubbub: no user named {name!r}")
        except LastAdminError:
            sys.exit(f"hubbub: {name} is the last active admin: make another admin first")
        action = "user.deactivate" if deactivated else "user.reactivate"
        await Audit(store).record(CLI_ACTOR, action, name, "local")

    _with_store(work)


def deactivate(args: argparse.Namespace) -> None:
    _set_deactivated(args.name, True)
    print(f"user {args.name} deactivated; their sessions and sockets end")


def reactivate(args: argparse.Namespace) -> None:
    _set_deactivated(args.name, False)
    print(f"user {args.name} reactivated")


def set_role(args: argparse.Namespace) -> None:
    """Where Hubbub decides roles (password, proxy; jwt and oidc without an admin claim)."""
    from hubbub.model import LastAdminError, UnknownUserError
    from hubbub.people.audit import CLI_ACTOR, Audit
    from hubbub.people.roles import role_source

    settings = load_settings()
    if role_source(settings) != "hubbub":
        sys.exit(
            f"hubbub: in auth mode {settings.auth.value} roles come from the credential, not from Hubbub"
        )

    async def work(store: Store) -> None:
        try:
            await store.set_admin(args.name, args.role == "admin")
        except UnknownUserError:
            sys.exit(f"hubbub: no user named {args.name!r} (they are known once they have signed in)")
        except LastAdminError:
            sys.exit(f"hubbub: {args.name} is the last active admin: make another admin first")
        await Audit(store).record(CLI_ACTOR, f"user.{args.role}", args.name, "local")

    _with_store(work)
    print(f"user {args.name} is now {'an admin' if args.role == 'admin' else 'a member'}")


def audit(args: argparse.Namespace) -> None:
    """The audit log, newest first: one tab-separated line per action (or JSON lines)."""
    import datetime

    async def work(store: Store) -> None:
        for entry in await store.audit_log(None, args.limit):
            when = datetime.datetime.fromtimestamp(entry.at / 1000, datetime.UTC).isoformat(
                timespec="seconds"
            )
            if args.json:
                row = {
                    "id": entry.id,
                    "at": when,
                    "actor": entry.actor,
                    "action": entry.action,
                    "target": entry.target,
                    "detail": json.loads(entry.detail),
                    "address": entry.address,
                }
                print(json.dumps(row, ensure_ascii=False))
            else:
                print(
                    f"{when}\t{entry.actor}\t{entry.action}\t{entry.target}\t{entry.address}\t{entry.detail}"
                )

    _with_store(work)


def _with_store(work: Callable[[Store], Awaitable[None]]) -> None:
    """Run the work against the configured store (the server may be running: both stores take
    concurrent writers)."""
    from hubbub.store import SchemaTooNewError, create_store

    settings = load_settings()

    async def run() -> None:
        store = create_store(settings.effective_database_url, settings.sqlite_synchronous)
        await store.start()
        try:
            await work(store)
        finally:
            await store.close()

    try:
        asyncio.run(run())
    except SchemaTooNewError as exc:  # a downgrade: refused in one clear line, nothing changed
        sys.exit(f"hubbub: {exc}")


def add_bot(args: argparse.Namespace) -> None:
    from hubbub.auth.names import NameError_, normal_name
    from hubbub.chat.bots import Bots

    try:
        name = normal_name(args.name)
    except NameError_ as exc:
        sys.exit(f"hubbub: {exc}")

    async def work(store: Store) -> None:
        token = await Bots(load_settings(), store).add(name)
        # The token on stdout alone (scripts capture it); the rest on stderr.
        print(
            f"bot {name}: its token follows, shown only now. Invite it to rooms like a user.", file=sys.stderr
        )
        print(token)

    _with_store(work)


def revoke_bot(args: argparse.Namespace) -> None:
    async def work(store: Store) -> None:
        if not await store.revoke_bot(args.name):
            sys.exit(f"hubbub: no bot named {args.name!r} with a working token")
        print(f"bot {args.name}: token revoked")

    _with_store(work)


def list_bots(_args: argparse.Namespace) -> None:
    async def work(store: Store) -> None:
        for name, revoked in await store.bots():
            print(f"{name}\t{'revoked' if revoked else 'active'}")

    _with_store(work)


def db_version(_args: argparse.Namespace) -> None:
    from hubbub.store import schema_version

    settings = load_settings()
    found = asyncio.run(schema_version(settings.effective_database_url))
    print(f"{found.current or 'empty'} (this Hubbub: {found.head})")


def migrate(_args: argparse.Namespace) -> None:
    """What a server does when it starts, without serving: safe while servers run."""

    async def work(_store: Store) -> None:
        return None

    _with_store(work)
    db_version(_args)


def backup(args: argparse.Namespace) -> None:
    from hubbub.backup import BackupError, KeyPlace
    from hubbub.backup import backup as write_backup

    settings = load_settings()
    try:
        manifest = write_backup(settings, args.path)
    except BackupError as exc:
        sys.exit(f"hubbub: backup refused: {exc}")
    print(f"backup of the {manifest.database} database (schema {manifest.schema}) in {args.path}:")
    for name in manifest.files:
        print(f"  {name}")
    if manifest.session_key is KeyPlace.INCLUDED:
        print("It holds the session key (secret_key): keep the backup as private as the server.")
    elif manifest.session_key is KeyPlace.ENVIRONMENT:
        print("The session key comes from HUBBUB_SECRET_KEY and is not in it: keep that setting too.")


def restore(args: argparse.Namespace) -> None:
    from hubbub.backup import BackupError, KeyPlace
    from hubbub.backup import restore as put_back

    settings = load_settings()
    try:
        manifest = put_back(settings, args.path)
    except BackupError as exc:
        sys.exit(f"hubbub: restore refused, nothing changed: {exc}")
    print(
        f"restored the backup of {manifest.created_at} (Hubbub {manifest.hubbub}, schema {manifest.schema}) "
        f"into {settings.data_dir}; the server brings the schema up to date when it starts"
    )
    if manifest.session_key is not KeyPlace.INCLUDED and settings.secret_key is None:
        print("The backup has no session key: a new one is made, and everyone signs in again.")


def export(args: argparse.Namespace) -> None:
    from hubbub.export import UnknownRoomToExportError, export_room

    if args.output is not None and args.output.exists():
        sys.exit(f"hubbub: {args.output} exists: give a new file")

    async def work(store: Store) -> None:
        out = sys.stdout if args.output is None else args.output.open("x", encoding="utf-8")
        try:
            count = await export_room(store, args.room, args.format, out)
        except UnknownRoomToExportError as exc:
            if args.output is not None:
                out.close()
                args.output.unlink()
            sys.exit(f"hubbub: {exc}")
        if args.output is not None:
            out.close()
        print(f"exported {count} messages of {args.room}", file=sys.stderr)

    _with_store(work)


def masked_url(url: str | None) -> str | None:
    """The URL with its password, if any, replaced by ***."""
    if url is None:
        return None
    parts = urlsplit(url)
    if parts.password is None:
        return url
    netloc = parts.netloc.replace(f":{parts.password}@", ":***@", 1)
    return urlunsplit(parts._replace(netloc=netloc))


def check_config(_args: argparse.Namespace) -> None:
    settings = load_settings()
    from hubbub.runtime import Runtime

    Runtime.build(settings)
    shown = settings.model_dump(mode="json", exclude={"secret_key", "jwt_secret", "tokens", "metrics_token"})
    for name in ("database_url", "broker_url", "redis_url"):
        shown[name] = masked_url(shown[name])
    print(json.dumps(shown, indent=2))


def version_text() -> str:
    from hubbub.store.schema import head

    return f"hubbub {__version__} (database schema {head()})"


class VersionAction(argparse.Action):
    """--version: the schema's revision is read from the migrations, only when asked for."""

    def __init__(self, option_strings: list[str], dest: str = argparse.SUPPRESS, **kwargs: Any) -> None:
        super().__init__(option_strings, dest, nargs=0, default=argparse.SUPPRESS, **kwargs)

    def __call__(self, parser: argparse.ArgumentParser, *_args: object, **_kwargs: object) -> None:
        print(version_text())
        parser.exit()


def parser() -> argparse.ArgumentParser:
    root = argparse.ArgumentParser(prog="hubbub", description="Hubbub chat server")
    root.add_argument("--version", action=VersionAction, help="print Hubbub's version and schema revision")
    commands = root.add_subparsers(dest="command", required=True)

    run = commands.add_parser("serve", help="run the server (settings from HUBBUB_* variables)")
    run.add_argument("--host", default="127.0.0.1")
    run.add_argument("--port", type=int, default=8000)
    run.add_argument("--workers", type=int, default=1)
    run.add_argument(
        "--proxy-headers",
        action="store_true",
        help="believe X-Forwarded-* from --forwarded-allow-ips (the same as HUBBUB_TRUSTED_PROXIES)",
    )
    run.add_argument(
        "--forwarded-allow-ips", default="127.0.0.1", help="with --proxy-headers (default 127.0.0.1)"
    )
    run.set_defaults(func=serve)

    for name, what, func in (
        ("add-user", "add or replace a user for HUBBUB_AUTH=password", add_user),
        ("passwd", "change a user's password (their other sessions end)", add_user),
        ("del-user", "deactivate a user and take their password (their sessions and sockets end)", del_user),
    ):
        user = commands.add_parser(name, help=what)
        user.add_argument("name")
        if name != "del-user":
            user.add_argument("--password-stdin", action="store_true", help="read the password from stdin")
        if name == "add-user":
            user.add_argument(
                "--admin", action="store_true", help="may manage every room's members and archive"
            )
        user.add_argument(
            "--users-file", type=Path, default=None, help="write this users file instead of the database"
        )
        user.set_defaults(func=func)

    for name, what, func in (
        ("deactivate", "deactivate a user: their sessions and sockets end, sign-in is refused", deactivate),
        ("reactivate", "let a deactivated user sign in again", reactivate),
    ):
        command = commands.add_parser(name, help=what)
        command.add_argument("name")
        command.set_defaults(func=func)
    role = commands.add_parser(
        "set-role", help="make a user an admin or a member (where Hubbub decides roles)"
    )
    role.add_argument("name")
    role.add_argument("role", choices=["admin", "member"])
    role.set_defaults(func=set_role)
    log = commands.add_parser("audit", help="print the audit log of admin actions, newest first")
    log.add_argument("--limit", type=int, default=100)
    log.add_argument("--json", action="store_true", help="one JSON object per line")
    log.set_defaults(func=audit)

    bot = commands.add_parser("add-bot", help="make a bot (or a new token for one) and print its token")
    bot.add_argument("name")
    bot.set_defaults(func=add_bot)
    revoke = commands.add_parser("revoke-bot", help="a bot's token stops working")
    revoke.add_argument("name")
    revoke.set_defaults(func=revoke_bot)
    commands.add_parser("bots", help="list the bots").set_defaults(func=list_bots)

    commands.add_parser("migrate", help="bring the database's schema up to date").set_defaults(func=migrate)
    version = commands.add_parser("db-version", help="print the database's schema revision, changing nothing")
    version.set_defaults(func=db_version)

    saved = commands.add_parser("backup", help="a consistent copy of the data while the server runs")
    saved.add_argument("path", type=Path, help="a directory to create (an existing one is refused)")
    saved.set_defaults(func=backup)
    back = commands.add_parser("restore", help="put a backup into an empty data directory")
    back.add_argument("path", type=Path, help="the directory `hubbub backup` made")
    back.set_defaults(func=restore)
    exported = commands.add_parser("export", help="a room's history as it is now (stdout or --output)")
    exported.add_argument("--room", required=True)
    exported.add_argument("--format", choices=["json", "txt", "html"], default="json")
    exported.add_argument("--output", type=Path, default=None, help="a new file (default: stdout)")
    exported.set_defaults(func=export)

    check = commands.add_parser("check-config", help="validate the settings and print them")
    check.set_defaults(func=check_config)
    return root


def main(argv: list[str] | None = None) -> None:
    install_redaction()
    args = parser().parse_args(argv)
    args.func(args)


if __name__ == "__main__":
    main()
