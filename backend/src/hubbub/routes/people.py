"""REST endpoints for people: profiles (a card, several at once, your own), invitations (an
admin makes, lists and revokes them; an invitee accepts one). Password accounts' sign-up."""

from __future__ import annotations

import logging
from typing import Annotated

from fastapi import APIRouter, HTTPException, Path, Query, Request, Response

from hubbub.contract.rest import (
    BODY_ERRORS,
    InviteCreated,
    InviteReply,
    NewAccount,
    NewInvite,
    Problem,
    ProfileChangeBody,
    ProfileReply,
    SessionInfo,
    UserName,
)
from hubbub.model import Invite, InviteUnusableError, Profile, ProfileChange
from hubbub.people.admin import invite_hash
from hubbub.people.avatars import avatar_url
from hubbub.routes.api import start_session
from hubbub.routes.deps import (
    AdminDep,
    CallerDep,
    ChatDep,
    RuntimeDep,
    base_url,
    client_address,
    too_many,
)
from hubbub.routes.files import DOWNLOAD_RESPONSES, THUMBNAIL_TYPE, UPLOAD_BODY, serve

log = logging.getLogger("hubbub.people")
router = APIRouter(prefix="/api", responses={401: {"model": Problem}})
InviteKey = Annotated[str, Path(min_length=1, max_length=128)]


def profile_reply(profile: Profile) -> ProfileReply:
    return ProfileReply(
        user=profile.name,
        display_name=profile.display_name,
        status_emoji=profile.status_emoji,
        status_text=profile.status_text,
        time_zone=profile.time_zone,
        avatar_url=avatar_url(profile),
        deactivated=profile.deactivated,
        bot=profile.bot,
    )


def invite_reply(invite: Invite) -> InviteReply:
    return InviteReply(
        id=invite.id,
        created_by=invite.created_by,
        created_at=invite.created_at,
        expires_at=invite.expires_at,
        uses=invite.uses,
        used=invite.used,
    )


# --- profiles
@router.get("/users/{name}", responses={404: {"model": Problem}})
async def profile_card(name: UserName, chat: ChatDep, caller: CallerDep) -> ProfileReply:
    """Someone's profile card (anyone signed in)."""
    if caller is None:
        raise HTTPException(401, "sign in first")
    found = await chat.people.profiles.one(name)
    if found is None:
        raise HTTPException(404, "no such user")
    return profile_reply(found)


@router.get("/profiles")
async def profiles(
    chat: ChatDep,
    caller: CallerDep,
    name: Annotated[list[Annotated[str, Query(max_length=64)]], Query(max_length=100)],
) -> list[ProfileReply]:
    """The profiles of the names asked for (up to 100) that are known, in that order."""
    if caller is None:
        raise HTTPException(401, "sign in first")
    return [profile_reply(p) for p in await chat.people.profiles.many(name)]


@router.patch(
    "/me/profile",
    responses={
        **BODY_ERRORS,
        400: {"model": Problem, "description": "a field breaks a rule"},
        409: {"model": Problem, "description": "the display name is, or looks like, someone else's"},
    },
)
async def change_profile(body: ProfileChangeBody, chat: ChatDep, caller: CallerDep) -> ProfileReply:
    """Change your own profile; every open client sees it at once (a `profile` frame)."""
    if caller is None:
        raise HTTPException(401, "sign in first")
    change = ProfileChange(body.display_name, body.status_emoji, body.status_text, body.time_zone)
    await chat.seen(caller, now=True)  # a user of a mode without accounts is known from here on
    return profile_reply(await chat.people.profiles.change(caller.user, change))


# --- avatars
@router.put(
    "/me/avatar",
    openapi_extra={"requestBody": UPLOAD_BODY},
    responses={
        400: {"model": Problem, "description": "an unreadable Content-Length"},
        413: {"model": Problem, "description": "larger than HUBBUB_MAX_UPLOAD_BYTES"},
        422: {"model": Problem, "description": "not a form with one image, or an image too large to decode"},
        429: {"model": Problem, "description": "more than HUBBUB_AVATAR_CHANGES_PER_MINUTE"},
        503: {"model": Problem, "description": "the store or the file storage is unavailable"},
    },
)
async def set_avatar(request: Request, runtime: RuntimeDep, caller: CallerDep) -> ProfileReply:
    """Your avatar (multipart/form-data, field `file`: a PNG, JPEG, GIF or WebP image). What
    everyone sees, at once, is its middle square, 256 pixels wide, made anew: nothing of the
    file but its pixels is kept."""
    if caller is None:
        raise HTTPException(401, "sign in first")
    per_minute = runtime.settings.avatar_changes_per_minute
    if wait := await runtime.limiter.take(f"avatar:{caller.user}", per_minute):
        raise too_many(wait, "too many avatar changes")
    chat = runtime.chat
    digest = await chat.files.avatar(request.stream(), request.headers.get("content-type"))
    await chat.seen(caller, now=True)  # a user of a mode without accounts is known from here on
    profile = await chat.people.profiles.set_avatar(caller.user, digest)
    log.info("%s changed their avatar", caller.user)
    return profile_reply(profile)


@router.delete("/me/avatar")
async def remove_avatar(chat: ChatDep, caller: CallerDep) -> ProfileReply:
    """Back to initials on a colour."""
    if caller is None:
        raise HTTPException(401, "sign in first")
    await chat.seen(caller, now=True)
    return profile_reply(await chat.people.profiles.set_avatar(caller.user, None))


@router.get(
    "/users/{name}/avatar",
    responses={**DOWNLOAD_RESPONSES, 404: {"model": Problem, "description": "no such user, or no avatar"}},
    response_class=Response,
)
async def avatar(name: UserName, request: Request, chat: ChatDep, caller: CallerDep) -> Response:
    """Someone's avatar (anyone signed in), served as files are (docs/protocol.md, "Files")."""
    if caller is None:
        raise HTTPException(401, "sign in first")
    found = await chat.people.profiles.one(name)
    if found is None or found.avatar is None:
        raise HTTPException(404, "no avatar")
    return await serve(
        request, chat.files.storage, found.avatar, f"avatar:{name}", THUMBNAIL_TYPE, "inline", f"{name}.webp"
    )


# --- invitations
@router.post(
    "/invites",
    status_code=201,
    responses={
        **BODY_ERRORS,
        403: {"model": Problem},
        409: {"model": Problem, "description": "not password mode"},
    },
)
async def create_invite(
    body: NewInvite, runtime: RuntimeDep, request: Request, admin: AdminDep
) -> InviteCreated:
    """An invitation link (admins): its token is shown only now."""
    invite, token = await runtime.chat.people.admin.create_invite(
        admin, client_address(request), body.uses, body.expires_in_seconds
    )
    # In the fragment: never sent to a server, a proxy's log, or a Referer.
    url = f"{base_url(request, runtime.settings)}/#invite={token}"
    return InviteCreated(**invite_reply(invite).model_dump(), token=token, url=url)


@router.get("/invites", responses={403: {"model": Problem}, 409: {"model": Problem}})
async def invites(chat: ChatDep, admin: AdminDep) -> list[InviteReply]:
    """Open invitations (admins): not used up, expired or revoked."""
    return [invite_reply(invite) for invite in await chat.people.admin.invites()]


@router.delete(
    "/invites/{invite}",
    status_code=204,
    responses={403: {"model": Problem}, 404: {"model": Problem}, 409: {"model": Problem}},
)
async def revoke_invite(invite: InviteKey, chat: ChatDep, request: Request, admin: AdminDep) -> None:
    """Revoke an open invitation (admins), by the id the list shows or by its token."""
    await chat.people.admin.revoke_invite(admin, client_address(request), invite)


@router.post(
    "/invites/{token}/accept",
    status_code=201,
    responses={
        **BODY_ERRORS,
        400: {"model": Problem, "description": "the name or the password breaks a rule"},
        404: {"model": Problem, "description": "used up, expired, revoked or never made: one answer"},
        409: {"model": Problem, "description": "the name is taken, or looks like one that is"},
        429: {"model": Problem},
    },
)
async def accept_invite(
    token: InviteKey, body: NewAccount, runtime: RuntimeDep, request: Request, response: Response
) -> SessionInfo:
    """Pick a name and a password: the account is made and signed in (password mode)."""
    address = client_address(request)
    throttle = runtime.login_throttle
    if wait := await throttle.invite_wait(address):
        raise too_many(wait, "too many invalid invitations")
    hashed = invite_hash(token)
    try:
        if hashed is None:
            raise InviteUnusableError
        identity = await runtime.chat.people.accounts.create(body.name, body.password, invite_hash=hashed)
    except InviteUnusableError:
        # A guessed token counts against the address, like a guessed password.
        await throttle.invite_failed(address)
        log.info("invitation refused from %s", address)
        raise
    await runtime.chat.people.audit.record(identity.user, "invite.accept", identity.user, address)
    log.info("account made through an invitation: %s", identity.user)
    identity = await start_session(runtime, identity, request, response)
    return SessionInfo(user=identity.user, expires_at=identity.expires_at, admin=identity.admin)
