"""REST endpoints for rooms: the list, creating rooms and direct messages, topic and archive,
members, history, and user names for autocomplete. Who may do what is decided by the chat's
Rooms (chat/rooms.py); its errors become HTTP answers in routes/errors.py."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, HTTPException, Query, Request, Response

from hubbub.auth import Identity
from hubbub.contract.commands import RoomName
from hubbub.contract.events import MessageEvent
from hubbub.contract.rest import (
    BODY_ERRORS,
    HistoryPage,
    MemberReply,
    NewDirectMessage,
    NewMember,
    NewRoom,
    Problem,
    RoomChange,
    RoomCreatedReply,
    RoomSummary,
    UserName,
)
from hubbub.model import RoomInfo
from hubbub.routes.deps import CallerDep, ChatDep, RuntimeDep, client_address, too_many
from hubbub.runtime import Runtime

MEMBERS_PAGE = 500
router = APIRouter(
    prefix="/api",
    responses={401: {"model": Problem}, 403: {"model": Problem}, 404: {"model": Problem}},
)


def summary(room: RoomInfo) -> RoomSummary:
    return RoomSummary.of(room)


def signed_in(caller: Identity | None) -> Identity:
    if caller is None:
        raise HTTPException(401, "sign in first")
    return caller


@router.get("/rooms", response_model=list[RoomSummary])
async def rooms(runtime: RuntimeDep, caller: CallerDep, archived: bool = False) -> Response:
    """Public rooms and the caller's rooms and direct messages; archived ones with ?archived=true."""
    listed = await runtime.chat.rooms.listing(caller, archived)
    return Response(runtime.room_listing.encode(listed), media_type="application/json")


@router.post(
    "/rooms",
    status_code=201,
    responses={
        **BODY_ERRORS,
        200: {"model": RoomCreatedReply, "description": "the room existed already"},
        409: {"model": Problem, "description": "the name is not available"},
        429: {"model": Problem},
    },
)
async def create_room(
    body: NewRoom, runtime: RuntimeDep, request: Request, response: Response, caller: CallerDep
) -> RoomCreatedReply:
    await creation_allowed(runtime, request, caller)
    room, created = await runtime.chat.rooms.create(caller, body.name, body.visibility, body.topic)
    if not created:
        response.status_code = 200
    return RoomCreatedReply(**summary(room).model_dump(), created=created)


@router.post(
    "/dms",
    responses={
        **BODY_ERRORS,
        400: {"model": Problem, "description": "too many or too few people"},
        429: {"model": Problem, "description": "too many new rooms and direct messages lately"},
    },
)
async def direct_message(
    body: NewDirectMessage, runtime: RuntimeDep, request: Request, caller: CallerDep
) -> RoomSummary:
    """The caller's DM with these users; making a new one counts against the room-creation
    limits, opening one that exists does not."""

    async def new_one() -> None:
        await creation_allowed(runtime, request, caller)

    return summary(await runtime.chat.rooms.direct(signed_in(caller), body.users, new_one))


async def creation_allowed(runtime: Runtime, request: Request, caller: Identity | None) -> None:
    """429 over HUBBUB_ROOM_CREATIONS_PER_MINUTE for the user (an anonymous caller: its address),
    or over HUBBUB_ROOM_CREATIONS_PER_MINUTE_PER_ADDRESS from the address, whatever the names
    used there. The user's count is taken first: one user's refused attempts do not use up
    what others at the same address may create."""
    settings, address = runtime.settings, client_address(request)
    who = caller.user if caller is not None else f"@{address}"
    for key, per_minute in (
        (f"rooms:{who}", settings.room_creations_per_minute),
        (f"rooms-from:{address}", settings.room_creations_per_minute_per_address),
    ):
        if wait := await runtime.limiter.take(key, per_minute):
            raise too_many(wait, "too many new rooms")


@router.get("/rooms/{room}")
async def room_summary(room: RoomName, chat: ChatDep, caller: CallerDep) -> RoomSummary:
    return summary(await chat.rooms.visible(caller, room))


@router.patch("/rooms/{room}", responses={**BODY_ERRORS, 400: {"model": Problem}})
async def change_room(room: RoomName, body: RoomChange, chat: ChatDep, caller: CallerDep) -> RoomSummary:
    return summary(await chat.rooms.update(signed_in(caller), room, body.topic, body.archived))


@router.get("/rooms/{room}/members")
async def members(
    room: RoomName,
    chat: ChatDep,
    caller: CallerDep,
    after: Annotated[str | None, Query(max_length=64)] = None,
    limit: Annotated[int, Query(ge=1, le=MEMBERS_PAGE)] = MEMBERS_PAGE,
) -> list[MemberReply]:
    """By name, a page at a time: the members after ``after``; fewer than ``limit``: the last page."""
    found = await chat.rooms.members(signed_in(caller), room, after, limit)
    return [MemberReply(user=m.user, role=m.role, online=m.online) for m in found]  # type: ignore[arg-type]


@router.post(
    "/rooms/{room}/members",
    status_code=201,
    responses={**BODY_ERRORS, 200: {"description": "a member already"}},
)
async def add_member(
    room: RoomName, body: NewMember, chat: ChatDep, caller: CallerDep, response: Response
) -> None:
    if not await chat.rooms.add(signed_in(caller), room, body.user):
        response.status_code = 200


@router.delete("/rooms/{room}/members/{user}", status_code=204)
async def remove_member(room: RoomName, user: UserName, chat: ChatDep, caller: CallerDep) -> None:
    """Removing yourself is leaving."""
    await chat.rooms.remove(signed_in(caller), room, user)


Seq = Annotated[int | None, Query(ge=1, le=2**63 - 1)]


@router.get(
    "/rooms/{room}/messages",
    responses={400: {"model": Problem, "description": "more than one of before, after and around"}},
)
async def history(
    room: RoomName,
    chat: ChatDep,
    caller: CallerDep,
    before: Seq = None,
    after: Annotated[int | None, Query(ge=0, le=2**63 - 1)] = None,
    around: Seq = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
) -> HistoryPage:
    """A page of history, oldest first: the newest messages (or those before ``before``), the
    oldest after ``after``, or those around ``around`` (a search hit's seq, among them)."""
    if sum(cursor is not None for cursor in (before, after, around)) > 1:
        raise HTTPException(400, "use one of before, after and around")
    if around is not None:
        window = await chat.history_around(caller, room, around, limit)
    elif after is not None:
        window = await chat.history_after(caller, room, after, limit)
    else:
        window = await chat.history(caller, room, before, limit)
    return HistoryPage(
        room=room,
        messages=[MessageEvent.of(m) for m in window.messages],
        has_more=window.has_older,
        has_newer=window.has_newer,
    )


@router.get("/users")
async def users(chat: ChatDep, caller: CallerDep, q: Annotated[str, Query(max_length=64)] = "") -> list[str]:
    """Names of known users starting with q (names only), for autocomplete."""
    signed_in(caller)
    return await chat.rooms.find_users(q)
