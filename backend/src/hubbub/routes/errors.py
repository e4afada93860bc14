"""How the chat's refusals read over HTTP: one mapping, so no route answers them differently.

A room the caller may not see is answered exactly as one that does not exist (404, the same
text), whatever the route. No answer repeats what was asked for (a room's or a user's name).
"""

from __future__ import annotations

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse

from hubbub.chat.rooms import (
    Forbidden,
    NameTakenError,
    NotAMemberError,
    RoomFullError,
    RoomLimitError,
    RoomRuleError,
    UnknownUserError,
)
from hubbub.store import UnknownRoomError

NO_SUCH_ROOM = "no such room"
ANSWERS: dict[type[Exception], int] = {
    Forbidden: 403,
    RoomRuleError: 400,
    RoomFullError: 400,
    UnknownUserError: 404,
    NotAMemberError: 404,
    NameTakenError: 409,
    RoomLimitError: 429,
}


def install(app: FastAPI) -> None:
    async def unknown_room(_request: Request, exc: Exception) -> JSONResponse:
        return JSONResponse({"detail": NO_SUCH_ROOM}, status_code=404)

    async def refused(_request: Request, exc: Exception) -> JSONResponse:
        if isinstance(exc, NameTakenError):
            return JSONResponse({"detail": "that room name is not available"}, status_code=409)
        return JSONResponse({"detail": str(exc)}, status_code=ANSWERS[type(exc)])

    app.add_exception_handler(UnknownRoomError, unknown_room)
    for error in ANSWERS:
        app.add_exception_handler(error, refused)
