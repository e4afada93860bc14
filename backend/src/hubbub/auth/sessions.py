"""Signed session cookies backed by the store, so logout really ends a session, and a session
ends with the credential it was made from."""

from __future__ import annotations

import secrets
import time

from itsdangerous import BadSignature, URLSafeSerializer

from hubbub.auth.base import Authenticator, AuthError, Identity
from hubbub.model import SessionRecord
from hubbub.store import Store

COOKIE_NAME = "session"  # the tutorial's cookie name: /items/{id}/ws reads it too


class SessionManager:
    def __init__(self, store: Store, secret_key: str, ttl_seconds: int, authenticator: Authenticator) -> None:
        self._store = store
        self._serializer = URLSafeSerializer(secret_key, salt="hubbub-session")
        self._ttl = ttl_seconds
        self._authenticator = authenticator

    async def open(self, identity: Identity) -> tuple[str, Identity]:
        """Start a session; returns the cookie value and the identity bound to it."""
        session_id = secrets.token_urlsafe(24)
        expires_at = time.time() + self._ttl
        if identity.expires_at is not None:
            expires_at = min(expires_at, identity.expires_at)
        record = SessionRecord(session_id, identity.user, expires_at, identity.credential, identity.admin)
        await self._store.create_session(record)
        cookie = self._serializer.dumps(session_id)
        return cookie, Identity(identity.user, session_id, expires_at, identity.credential, identity.admin)

    def session_id(self, cookie: str) -> str:
        try:
            value = self._serializer.loads(cookie)
        except BadSignature as exc:
            raise AuthError("session cookie is forged or from another server") from exc
        if not isinstance(value, str):
            raise AuthError("session cookie is malformed")
        return value

    async def resolve(self, cookie: str) -> Identity:
        record = await self._store.get_session(self.session_id(cookie))
        if record is None:
            raise AuthError("session has expired or was logged out")
        identity = Identity(record.user, record.id, record.expires_at, record.credential, record.admin)
        self._authenticator.reload()
        if not self._authenticator.is_current(identity):
            await self._store.delete_session(record.id)
            raise AuthError("session ended: its credential was removed or changed")
        return identity

    async def close(self, cookie: str) -> str | None:
        """End the session; returns its id, or None when the cookie named no session."""
        try:
            session_id = self.session_id(cookie)
        except AuthError:
            return None
        await self._store.delete_session(session_id)
        return session_id
