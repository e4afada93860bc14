"""The audit log: every admin action, who did it, when, and from which address; on the admin
page and by `hubbub audit`. Written right after the action it records, by the worker that did
it."""

from __future__ import annotations

import json
import logging

from hubbub.model import AuditEntry
from hubbub.store import Store

log = logging.getLogger("hubbub.audit")
CLI_ACTOR = "(hubbub command)"


class Audit:
    def __init__(self, store: Store) -> None:
        self._store = store

    async def record(
        self, actor: str, action: str, target: str = "", address: str = "", **detail: object
    ) -> None:
        text = json.dumps(detail, ensure_ascii=False, sort_keys=True, separators=(",", ":"))
        log.info("audit: %s %s %s from %s %s", actor, action, target, address or "-", text)
        await self._store.record(actor, action, target, text, address)

    async def entries(self, before: int | None, limit: int) -> list[AuditEntry]:
        """Newest first."""
        return await self._store.audit_log(before, limit)
