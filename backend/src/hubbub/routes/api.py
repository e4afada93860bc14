"""REST endpoints: configuration, login, rooms and paged history."""

from __future__ import annotations

import logging
import math
import time
from typing import Annotated

from fastapi import APIRouter, Cookie, HTTPException, Query, Request, Response

from hubbub import __version__
from hubbub.auth import AuthError, LoginRequest
from hubbub.auth.names import passes_for
from hubbub.auth.sessions import COOKIE_NAME
from hubbub.chat.service import RoomLimitError
from hubbub.contract.events import MessageEvent
from hubbub.contract.rest import (
    HistoryPage,
    LoginBody,
    NewRoom,
    Problem,
    RoomCreatedReply,
    RoomSummary,
    ServerConfig,
    SessionInfo,
)
from hubbub.routes.deps import CallerDep, ChatDep, RuntimeDep, client_address
from hubbub.settings import ROOM_NAME_PATTERN, AuthMode
from hubbub.store import UnknownRoomError

log = logging.getLogger("hubbub.api")
router = APIRouter(prefix="/api", responses={401: {"model": Problem}})


@router.get("/config")
async def config(runtime: RuntimeDep) -> ServerConfig:
    settings = runtime.settings
    return ServerConfig(
        auth_mode=settings.auth,
        default_room=settings.default_room,
        max_message_bytes=settings.max_message_bytes,
        history_page_size=settings.history_page_size,
        room_name_pattern=ROOM_NAME_PATTERN,
        version=__version__,
    )


def too_many(retry_after: float, what: str) -> HTTPException:
    seconds = max(1, math.ceil(retry_after))
    return HTTPException(429, f"{what}; try again in {seconds} s", headers={"Retry-After": str(seconds)})


@router.post("/login", responses={409: {"model": Problem}, 429: {"model": Problem}})
async def login(body: LoginBody, runtime: RuntimeDep, request: Request, response: Response) -> SessionInfo:
    address = client_address(request)
    name = body.username or body.name
    if wait := await runtime.login_throttle.wait(name, address):
        log.info("login throttled (%s mode) from %s", runtime.settings.auth.value, address)
        raise too_many(wait, "too many failed sign-ins")
    try:
        identity = await runtime.authenticator.login(LoginRequest(**body.model_dump()))
    except AuthError as exc:
        log.info("login refused (%s mode) from %s: %s", runtime.settings.auth.value, address, exc)
        await runtime.login_throttle.failed(name, address)
        raise HTTPException(401, str(exc)) from exc
    if runtime.settings.auth is AuthMode.NONE and (
        other := passes_for(identity.user, runtime.chat.online_users())
    ):
        # Names are all there is to tell people apart in this mode.
        log.info("login refused (none mode): %r looks like %r, who is online", identity.user, other)
        raise HTTPException(409, "that name looks like the name of someone online; pick another")
    await runtime.login_throttle.succeeded(name, address)
    cookie, identity = await runtime.sessions.open(identity)
    max_age = max(1, int((identity.expires_at or time.time()) - time.time()))
    response.set_cookie(
        COOKIE_NAME,
        cookie,
        max_age=max_age,
        httponly=True,
        samesite="lax",
        secure=runtime.settings.cookie_secure,
        path="/",
    )
    log.info("login: %s", identity.user)
    return SessionInfo(user=identity.user, expires_at=identity.expires_at)


@router.post("/logout", status_code=204)
async def logout(
    runtime: RuntimeDep, response: Response, session: Annotated[str | None, Cookie()] = None
) -> None:
    if session:
        session_id = await runtime.sessions.close(session)
        if session_id is not None:
            await runtime.chat.end_session(session_id)
    response.delete_cookie(COOKIE_NAME, path="/")


@router.get("/me")
async def me(caller: CallerDep) -> SessionInfo:
    if caller is None:
        raise HTTPException(401, "not logged in")
    return SessionInfo(user=caller.user, expires_at=caller.expires_at)


@router.get("/rooms")
async def rooms(chat: ChatDep, caller: CallerDep) -> list[RoomSummary]:
    return [RoomSummary(name=r.name, head=r.head) for r in await chat.rooms()]


@router.post(
    "/rooms",
    status_code=201,
    responses={
        200: {"model": RoomCreatedReply, "description": "the room existed already"},
        429: {"model": Problem},
    },
)
async def create_room(
    body: NewRoom, runtime: RuntimeDep, request: Request, response: Response, caller: CallerDep
) -> RoomCreatedReply:
    who = caller.user if caller is not None else f"@{client_address(request)}"
    if wait := await runtime.limiter.take(f"rooms:{who}", runtime.settings.room_creations_per_minute):
        raise too_many(wait, "too many new rooms")
    try:
        created = await runtime.chat.create_room(body.name, caller.user if caller is not None else None)
    except RoomLimitError as exc:
        raise HTTPException(429, str(exc)) from exc
    if not created:
        response.status_code = 200
    return RoomCreatedReply(name=body.name, created=created)


@router.get("/rooms/{room}/messages", responses={404: {"model": Problem}})
async def history(
    room: str,
    chat: ChatDep,
    caller: CallerDep,
    before: Annotated[int | None, Query(ge=1, le=2**63 - 1)] = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
) -> HistoryPage:
    try:
        page, has_more = await chat.history(room, before, limit)
    except UnknownRoomError:
        raise HTTPException(404, f"no room named {room!r}") from None
    return HistoryPage(room=room, messages=[MessageEvent.of(m) for m in page], has_more=has_more)
