"""REST endpoints: configuration, login, rooms and paged history."""

from __future__ import annotations

import logging
import time
from typing import Annotated, Any

from fastapi import APIRouter, Depends, HTTPException, Query, Request, Response
from pydantic import BaseModel, Field

from hubbub import __version__
from hubbub.auth import AuthError, Identity, LoginRequest
from hubbub.auth.sessions import COOKIE_NAME
from hubbub.protocol import RoomName, encode, message_event
from hubbub.routes.deps import get_runtime, require_identity
from hubbub.settings import ROOM_NAME_PATTERN

log = logging.getLogger("hubbub.api")
router = APIRouter(prefix="/api")

Caller = Annotated[Identity | None, Depends(require_identity)]


class LoginBody(BaseModel):
    name: str | None = Field(default=None, max_length=64)
    token: str | None = Field(default=None, max_length=8192)
    username: str | None = Field(default=None, max_length=64)
    password: str | None = Field(default=None, max_length=1024)


class NewRoom(BaseModel):
    name: RoomName


@router.get("/config")
async def config(request: Request) -> dict[str, Any]:
    settings = get_runtime(request).settings
    return {
        "auth_mode": settings.auth.value,
        "default_room": settings.default_room,
        "max_message_bytes": settings.max_message_bytes,
        "history_page_size": settings.history_page_size,
        "room_name_pattern": ROOM_NAME_PATTERN,
        "version": __version__,
    }


@router.post("/login")
async def login(body: LoginBody, request: Request, response: Response) -> dict[str, Any]:
    runtime = get_runtime(request)
    try:
        identity = await runtime.authenticator.login(LoginRequest(**body.model_dump()))
    except AuthError as exc:
        log.info("login refused (%s mode): %s", runtime.settings.auth.value, exc)
        raise HTTPException(401, str(exc)) from exc
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
    return {"user": identity.user, "expires_at": identity.expires_at}


@router.post("/logout", status_code=204)
async def logout(request: Request, response: Response) -> None:
    runtime = get_runtime(request)
    cookie = request.cookies.get(COOKIE_NAME)
    if cookie:
        session_id = await runtime.sessions.close(cookie)
        if session_id is not None:
            await runtime.chat.end_session(session_id)
    response.delete_cookie(COOKIE_NAME, path="/")


@router.get("/me")
async def me(caller: Caller) -> dict[str, Any]:
    if caller is None:
        raise HTTPException(401, "not logged in")
    return {"user": caller.user, "expires_at": caller.expires_at}


@router.get("/rooms")
async def rooms(request: Request, caller: Caller) -> list[dict[str, Any]]:
    store = get_runtime(request).chat.store
    return [{"name": r.name, "head": r.head} for r in await store.rooms()]


@router.post("/rooms", status_code=201)
async def create_room(body: NewRoom, request: Request, response: Response, caller: Caller) -> dict[str, Any]:
    runtime = get_runtime(request)
    created = await runtime.chat.store.ensure_room(body.name)
    if created:
        await runtime.chat.publish_global(encode({"type": "room_created", "room": body.name}))
    else:
        response.status_code = 200
    return {"name": body.name, "created": created}


@router.get("/rooms/{room}/messages")
async def history(
    room: str,
    request: Request,
    caller: Caller,
    before: Annotated[int | None, Query(ge=1)] = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
) -> dict[str, Any]:
    store = get_runtime(request).chat.store
    if await store.room_head(room) is None:
        raise HTTPException(404, f"no room named {room!r}")
    page = await store.before(room, before, limit + 1)
    has_more = len(page) > limit
    page = page[-limit:]
    return {"room": room, "messages": [message_event(m) for m in page], "has_more": has_more}
