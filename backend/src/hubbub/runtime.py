"""Everything a running server holds, built from Settings and nothing else: no module globals."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import secrets
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

from hubbub.auth import Authenticator, create_authenticator
from hubbub.auth.sessions import SessionManager
from hubbub.auth.throttle import LoginThrottle
from hubbub.broker import create_broker
from hubbub.chat.service import ChatService
from hubbub.contract.close import REASONS, Close
from hubbub.contract.rest import RoomListing
from hubbub.files import create_file_storage
from hubbub.limits import Limiter, create_limiter
from hubbub.logs import register_secret
from hubbub.settings import AuthMode, Settings
from hubbub.store import create_store

if TYPE_CHECKING:
    from hubbub.auth.oidc import OidcAuth

log = logging.getLogger("hubbub.runtime")


def load_or_create_secret(settings: Settings) -> str:
    """The configured secret, else one generated on first start and kept in data_dir, so
    sessions survive restarts and every worker of the machine signs with the same key."""
    if settings.secret_key is not None:
        return settings.secret_key.get_secret_value()
    path = Path(settings.data_dir) / "secret_key"
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        pass
    else:
        with os.fdopen(fd, "w") as out:
            out.write(secrets.token_urlsafe(48))
    secret = path.read_text().strip()
    if not secret:
        raise RuntimeError(f"{path} is empty: delete it or set HUBBUB_SECRET_KEY")
    return secret


def register_known_secrets(settings: Settings) -> None:
    """Secrets known from the settings are kept out of every log line (hubbub.logs); the
    static tokens are registered by the token authenticator, which reads them."""
    for secret in (
        settings.secret_key,
        settings.jwt_secret,
        settings.metrics_token,
        settings.oidc_client_secret,
    ):
        if secret is not None:
            register_secret(secret.get_secret_value())
    for url in (settings.database_url, settings.broker_url, settings.redis_url):
        if url is not None:
            register_secret(urlsplit(url).password)


@dataclass
class Runtime:
    settings: Settings
    chat: ChatService
    authenticator: Authenticator
    sessions: SessionManager
    limiter: Limiter
    login_throttle: LoginThrottle
    room_listing: RoomListing = field(default_factory=RoomListing)
    shutting_down: bool = False
    _sweeper: asyncio.Task[None] | None = field(default=None, repr=False)
    oidc: OidcAuth | None = None  # auth mode oidc: the identity provider's sign-in (the authenticator)
    _warming: asyncio.Task[None] | None = field(default=None, repr=False)

    @classmethod
    def build(cls, settings: Settings) -> Runtime:
        register_known_secrets(settings)
        store = create_store(settings.effective_database_url, settings.sqlite_synchronous)
        broker = create_broker(settings.effective_broker_url, settings.broker_channel)
        limiter = create_limiter(settings)
        storage = create_file_storage(settings.file_storage_url, settings.data_dir)
        chat = ChatService(settings, store, broker, storage, limiter)
        secret = load_or_create_secret(settings)
        authenticator = create_authenticator(settings, chat.people.accounts, store, secret)
        sessions = SessionManager(store, secret, settings.session_ttl_seconds, authenticator)
        runtime = cls(settings, chat, authenticator, sessions, limiter, LoginThrottle(limiter, settings))
        if settings.auth is AuthMode.OIDC:
            from hubbub.auth.oidc import OidcAuth

            assert isinstance(authenticator, OidcAuth)
            runtime.oidc = authenticator
        return runtime

    async def start(self) -> None:
        if self.settings.auth is AuthMode.NONE:
            log.warning(
                "auth mode none: anyone can use any name, so there are no private rooms or direct "
                "messages; for a team, set HUBBUB_AUTH to token, jwt or password"
            )
        await self.chat.start()
        await self.chat.remember_users(self.authenticator.configured_users())
        self._sweeper = asyncio.create_task(self._end_revoked(), name="hubbub-credentials")
        if self.oidc is not None:
            # Not awaited: a provider that is down or slow does not keep the server from starting.
            self._warming = asyncio.create_task(self.oidc.warm(), name="hubbub-oidc-warm")

    async def stop(self) -> None:
        self.shutting_down = True
        if self._sweeper is not None:
            self._sweeper.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._sweeper
        self.chat.kick_all(Close.GOING_AWAY, REASONS[Close.GOING_AWAY])
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(self.settings.shutdown_timeout_seconds):
                await self.chat.connections_ended()
        await self.chat.stop()
        await self.limiter.close()
        if self.oidc is not None:
            if self._warming is not None:
                self._warming.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await self._warming
            await self.oidc.close()

    async def _end_revoked(self) -> None:
        """When the tokens file changes, close the sockets whose credential went with it (their
        sessions are refused from then on too). Accounts: adopt the users file when it changes,
        and follow what changed in the database without a word through the broker (the
        `hubbub` command changed it, or the broker lost the word)."""
        accounts = self.chat.people.accounts
        while True:
            await asyncio.sleep(self.settings.credential_check_seconds)
            try:
                await accounts.adopt_users_file()
                await accounts.refresh()
            except Exception as exc:
                log.warning("cannot follow the accounts: %r", exc)
            if self.authenticator.reload():
                await self.chat.remember_users(self.authenticator.configured_users())
                ended = self.chat.kick_if(
                    lambda connection: not self.authenticator.is_current(connection.identity),
                    Close.UNAUTHORIZED,
                    "credential revoked",
                )
                log.info("credentials reloaded; %d sockets of revoked credentials closed", ended)
