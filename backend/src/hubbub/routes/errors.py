"""How the chat's refusals read over HTTP: every one of them through the one table in
contract/refusals.py, so no route answers them differently (and WebSocket commands answer
them the same way, in words and in meaning).

A room the caller may not see is answered exactly as one that does not exist (404, the same
text), whatever the route.
"""

from __future__ import annotations

import logging

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse

from hubbub.contract.refusals import ANSWERS, answer
from hubbub.model import StoreUnavailableError

log = logging.getLogger("hubbub")


def install(app: FastAPI) -> None:
    async def refused(_request: Request, exc: Exception) -> JSONResponse:
        if isinstance(exc, StoreUnavailableError):
            log.warning("store unavailable: %s", exc)
        found, text = answer(exc)
        return JSONResponse({"detail": text}, status_code=found.status)

    for error in ANSWERS:
        app.add_exception_handler(error, refused)
