"""Bots: scripts that post into rooms over HTTP with a token an operator made
(`hubbub add-bot NAME`). A bot is a user whose messages say so; it posts only where it is a
member (invited like anyone), within the same allowance as a person (HUBBUB_RATE_LIMIT_*).

Tokens are stored as SHA-256 hashes: 32 random bytes need no slow hash, and a copy of the
database does not let anyone post.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets

from hubbub.auth.base import Identity
from hubbub.ratelimit import TokenBucket
from hubbub.settings import Settings
from hubbub.store import Store

TOKEN_PREFIX = "hbb_"  # noqa: S105 - a prefix, not a secret
MAX_TOKEN_LENGTH = 128
BUCKETS_KEPT = 10_000


class BotAuthError(Exception):
    """No valid bot token: missing, malformed, unknown or revoked (one answer for all)."""


def new_token() -> str:
    return TOKEN_PREFIX + secrets.token_urlsafe(32)


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


class Bots:
    def __init__(self, settings: Settings, store: Store) -> None:
        self._settings = settings
        self._store = store
        self._buckets: dict[str, TokenBucket] = {}

    async def identify(self, authorization: str | None) -> Identity:
        """The bot an ``Authorization: Bearer <token>`` header names."""
        scheme, _, token = (authorization or "").partition(" ")
        token = token.strip()
        if not hmac.compare_digest(scheme.lower(), "bearer") or not token.startswith(TOKEN_PREFIX):
            raise BotAuthError
        if len(token) > MAX_TOKEN_LENGTH:
            raise BotAuthError
        name = await self._store.bot_for_token(token_hash(token))
        if name is None:
            raise BotAuthError
        return Identity(user=name, credential="bot:" + token_hash(token)[:16])

    def wait(self, bot: str) -> float:
        """0 when the bot may post now, else the seconds until it may (per worker)."""
        bucket = self._buckets.get(bot)
        if bucket is None:
            if len(self._buckets) >= BUCKETS_KEPT:
                self._buckets.clear()
            settings = self._settings
            bucket = self._buckets[bot] = TokenBucket(
                settings.rate_limit_per_second, settings.rate_limit_burst
            )
        return bucket.try_take()

    async def names(self) -> set[str]:
        """Every bot's name, revoked ones too: in auth mode none nobody may sign in as one."""
        return {name for name, _revoked in await self._store.bots()}

    async def add(self, name: str) -> str:
        """Make the bot (or give it a new token); returns the token, which is shown only now."""
        token = new_token()
        await self._store.add_bot(name, token_hash(token))
        await self._store.touch_users([name])  # it can be found and invited
        return token
