"""The admin page's endpoints: users (role, deactivation), bots, rooms, the audit log. Every
one takes ``AdminDep``: admins only, decided there once. Every action is written to the audit
log (people/admin.py)."""

from __future__ import annotations

import json
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request

from hubbub.contract.commands import RoomName
from hubbub.contract.rest import (
    BODY_ERRORS,
    AdminBot,
    AdminRoom,
    AdminUser,
    AuditReply,
    BotToken,
    NewBot,
    OwnerBody,
    Problem,
    RoleBody,
    UserName,
)
from hubbub.model import RoomInfo
from hubbub.routes.deps import AdminDep, ChatDep, client_address

router = APIRouter(
    prefix="/api/admin",
    tags=["admin"],
    responses={401: {"model": Problem}, 403: {"model": Problem, "description": "admins only"}},
)
Responses = dict[int | str, dict[str, Any]]
NOT_FOUND: Responses = {404: {"model": Problem}}


def admin_room(room: RoomInfo) -> AdminRoom:
    return AdminRoom(
        name=room.name,
        visibility="private" if room.visibility == "private" else "public",
        owner=room.owner,
        member_count=room.member_count,
        archived=room.archived,
    )


# --- users
@router.get("/users")
async def users(chat: ChatDep, _admin: AdminDep) -> list[AdminUser]:
    """Every user but bots, by name."""
    online = chat.online_users()
    return [
        AdminUser(
            name=user.name,
            display_name=user.display_name,
            admin=user.admin,
            deactivated=user.deactivated,
            last_seen=user.seen_at,
            online=user.name in online,
            password=user.password,
        )
        for user in await chat.people.admin.users()
    ]


@router.post(
    "/users/{name}/role",
    status_code=204,
    responses={
        **BODY_ERRORS,
        **NOT_FOUND,
        409: {"model": Problem, "description": "the last admin, or roles come from the credential here"},
    },
)
async def set_role(name: UserName, body: RoleBody, chat: ChatDep, request: Request, admin: AdminDep) -> None:
    """Make the user an admin, or no longer (never the last active admin)."""
    await chat.people.admin.set_admin(admin, client_address(request), name, body.admin)


@router.post(
    "/users/{name}/deactivate",
    status_code=204,
    responses={**NOT_FOUND, 409: {"model": Problem, "description": "the last active admin"}},
)
async def deactivate(name: UserName, chat: ChatDep, request: Request, admin: AdminDep) -> None:
    """Every session and socket of the user ends (4401), on every worker; their sign-in is
    refused in every mode; their messages stay."""
    await chat.people.admin.set_deactivated(admin, client_address(request), name, True)


@router.post("/users/{name}/reactivate", status_code=204, responses=NOT_FOUND)
async def reactivate(name: UserName, chat: ChatDep, request: Request, admin: AdminDep) -> None:
    await chat.people.admin.set_deactivated(admin, client_address(request), name, False)


# --- bots
@router.get("/bots")
async def bots(chat: ChatDep, _admin: AdminDep) -> list[AdminBot]:
    """Every bot, whether its token is revoked, and the rooms it is in."""
    return [
        AdminBot(name=bot.name, revoked=bot.revoked, created_at=bot.created_at, rooms=rooms)
        for bot, rooms in await chat.people.admin.bots()
    ]


@router.post(
    "/bots",
    status_code=201,
    responses={
        **BODY_ERRORS,
        400: {"model": Problem, "description": "the name breaks a rule"},
        409: {"model": Problem, "description": "a user or bot has that name, or one like it"},
    },
)
async def create_bot(body: NewBot, chat: ChatDep, request: Request, admin: AdminDep) -> BotToken:
    """A new bot; its token is shown only now."""
    name, token = await chat.people.admin.create_bot(admin, client_address(request), body.name)
    return BotToken(name=name, token=token)


@router.post("/bots/{name}/rotate", responses=NOT_FOUND)
async def rotate_bot(name: UserName, chat: ChatDep, request: Request, admin: AdminDep) -> BotToken:
    """A new token (shown only now); the old one stops working, a revoked bot works again."""
    return BotToken(name=name, token=await chat.people.admin.rotate_bot(admin, client_address(request), name))


@router.post("/bots/{name}/revoke", status_code=204, responses=NOT_FOUND)
async def revoke_bot(name: UserName, chat: ChatDep, request: Request, admin: AdminDep) -> None:
    await chat.people.admin.revoke_bot(admin, client_address(request), name)


# --- rooms
@router.get("/rooms")
async def rooms(chat: ChatDep, _admin: AdminDep) -> list[AdminRoom]:
    """Every room but direct messages, archived ones too: names, owners and counts (what is
    said in a private room stays for its members)."""
    return [admin_room(room) for room in await chat.people.admin.rooms()]


ROOM_ERRORS: Responses = {
    **NOT_FOUND,
    400: {"model": Problem, "description": "the default room, or a direct message"},
}


@router.post("/rooms/{room}/archive", responses=ROOM_ERRORS)
async def archive(room: RoomName, chat: ChatDep, request: Request, admin: AdminDep) -> AdminRoom:
    return admin_room(await chat.people.admin.archive(admin, client_address(request), room, True))


@router.post("/rooms/{room}/unarchive", responses=ROOM_ERRORS)
async def unarchive(room: RoomName, chat: ChatDep, request: Request, admin: AdminDep) -> AdminRoom:
    return admin_room(await chat.people.admin.archive(admin, client_address(request), room, False))


@router.post("/rooms/{room}/owner", responses={**BODY_ERRORS, **ROOM_ERRORS})
async def transfer(
    room: RoomName, body: OwnerBody, chat: ChatDep, request: Request, admin: AdminDep
) -> AdminRoom:
    """Give the room to one of its members (404 for anyone else)."""
    return admin_room(await chat.people.admin.transfer(admin, client_address(request), room, body.user))


# --- the audit log
@router.get("/audit")
async def audit(
    chat: ChatDep,
    _admin: AdminDep,
    before: Annotated[int | None, Query(ge=1, le=2**62)] = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
) -> list[AuditReply]:
    """Newest first; page back with ``before`` (the last id seen)."""
    return [
        AuditReply(
            id=e.id,
            at=e.at,
            actor=e.actor,
            action=e.action,
            target=e.target,
            detail=json.loads(e.detail),
            address=e.address,
        )
        for e in await chat.people.audit.entries(before, limit)
    ]
