"""Everything a running server holds, built from Settings and nothing else: no module globals."""

from __future__ import annotations

import os
import secrets
from dataclasses import dataclass
from pathlib import Path

from hubbub.auth import Authenticator, create_authenticator
from hubbub.auth.sessions import SessionManager
from hubbub.broker import create_broker
from hubbub.chat.service import ChatService
from hubbub.contract.close import REASONS, Close
from hubbub.settings import Settings
from hubbub.store import create_store


def load_or_create_secret(settings: Settings) -> str:
    """The configured secret, else one generated on first start and kept in data_dir, so
    sessions survive restarts and every worker of the machine signs with the same key."""
    if settings.secret_key is not None:
        return settings.secret_key.get_secret_value()
    path = Path(settings.data_dir) / "secret_key"
    path.parent.mkdir(parents=True, exist_ok=True)
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


@dataclass
class Runtime:
    settings: Settings
    chat: ChatService
    authenticator: Authenticator
    sessions: SessionManager
    shutting_down: bool = False

    @classmethod
    def build(cls, settings: Settings) -> Runtime:
        store = create_store(settings.effective_database_url)
        broker = create_broker(settings.effective_broker_url, settings.broker_channel)
        chat = ChatService(settings, store, broker)
        sessions = SessionManager(store, load_or_create_secret(settings), settings.session_ttl_seconds)
        return cls(settings, chat, create_authenticator(settings), sessions)

    async def start(self) -> None:
        await self.chat.start()

    async def stop(self) -> None:
        self.shutting_down = True
        self.chat.kick_all(Close.GOING_AWAY, REASONS[Close.GOING_AWAY])
        await self.chat.stop()
