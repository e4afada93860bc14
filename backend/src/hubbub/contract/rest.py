"""Request and response bodies of the REST endpoints (docs/protocol.md, "Endpoints")."""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field

from hubbub.contract.commands import RoomName
from hubbub.contract.events import MessageEvent
from hubbub.contract.text import Input
from hubbub.model import RoomInfo
from hubbub.settings import AuthMode


class _Reply(BaseModel):
    model_config = ConfigDict(json_schema_serialization_defaults_required=True)


class _Request(Input):
    """A request body: a field the server does not know is refused (422), not ignored, and the
    schema says so (additionalProperties: false); a value of the wrong JSON type is refused, not
    converted ("0" is not false); no string in it holds a NUL (contract/text.py)."""

    model_config = ConfigDict(extra="forbid", strict=True)


class LoginBody(_Request):
    """One mode's fields: ``name`` (none), ``token`` (token, jwt), ``username`` + ``password``."""

    name: str | None = Field(default=None, max_length=64)
    token: str | None = Field(default=None, max_length=8192)
    username: str | None = Field(default=None, max_length=64)
    password: str | None = Field(default=None, max_length=1024)


Visibility = Literal["public", "private", "dm"]
DM_MAX_PEOPLE = 8  # in one direct message, the one who starts it included
UserName = Annotated[str, Field(min_length=1, max_length=64)]


class NewRoom(_Request):
    name: RoomName
    visibility: Literal["public", "private"] = "public"
    topic: Annotated[str, Field(max_length=1000)] = ""


class NewDirectMessage(_Request):
    """The other people in it (you are in it too): the same set always answers the same room."""

    users: Annotated[list[UserName], Field(min_length=1, max_length=DM_MAX_PEOPLE - 1)]


class RoomChange(_Request):
    topic: Annotated[str, Field(max_length=1000)] | None = None
    archived: bool | None = None


class NewMember(_Request):
    user: UserName


class ServerConfig(_Reply):
    auth_mode: AuthMode
    oidc_provider_name: str | None  # auth mode oidc: the button says "Sign in with <this>"
    default_room: str
    max_message_bytes: int
    max_upload_bytes: int  # the largest file one upload may be
    history_page_size: int
    room_name_pattern: str
    version: str  # Hubbub's version
    schema_version: str  # the database schema's revision (Alembic's) this server runs on
    logout_url: str | None  # where signing out sends the browser; null: back to the sign-in form
    setup_needed: bool  # a password-mode server with no account yet: the first visitor makes the admin
    role_source: Literal["hubbub", "tokens", "provider", "nobody"]  # who decides who is an admin
    password_min_length: int


class SessionInfo(_Reply):
    user: str
    expires_at: float | None  # seconds since the epoch; null when it never expires
    admin: bool  # may manage every room's members and archive any room


class RoomSummary(_Reply):
    name: str
    head: int  # seq of the newest message, 0 when empty
    visibility: Visibility
    topic: str
    owner: str | None
    archived: bool
    member: bool  # the caller is a member
    member_count: int  # how many members the room has
    members: list[str]  # a direct message's members; empty for other rooms
    last_read: int  # the caller's read position (0 when not a member)
    unread: int  # messages after it, not the caller's own (counted up to 1000)
    mentions: int  # of those, the ones that mention the caller

    @classmethod
    def of(cls, room: RoomInfo) -> RoomSummary:
        return cls(
            name=room.name,
            head=room.head,
            visibility=room.visibility,  # type: ignore[arg-type]
            topic=room.topic,
            owner=room.owner,
            archived=room.archived,
            member=room.member,
            member_count=room.member_count,
            members=list(room.members),
            last_read=room.last_read,
            unread=room.unread,
            mentions=room.mentions,
        )


class RoomListing:
    """A room list as JSON (list[RoomSummary]). A public room the caller is not a member of
    reads the same for everyone: its JSON is made once and shared by every list until the room
    changes, so a wave of room lists costs a dictionary lookup per public room, not a model and
    its serialization."""

    def __init__(self) -> None:
        self._shared: dict[str, tuple[RoomInfo, bytes]] = {}

    def encode(self, rooms: list[RoomInfo]) -> bytes:
        parts = []
        for room in rooms:
            if room.role is not None:  # the caller's own: their read position and counts
                parts.append(RoomSummary.of(room).model_dump_json().encode())
                continue
            found = self._shared.get(room.name)
            if found is None or found[0] != room:
                found = self._shared[room.name] = (room, RoomSummary.of(room).model_dump_json().encode())
            parts.append(found[1])
        return b"[" + b",".join(parts) + b"]"


class RoomCreatedReply(RoomSummary):
    created: bool  # false: it existed already


class MemberReply(_Reply):
    user: str
    role: Literal["owner", "member"]
    online: bool


class HistoryPage(_Reply):
    room: str
    messages: list[MessageEvent]  # oldest first
    has_more: bool  # there are older messages than the first
    has_newer: bool  # there are newer messages than the last


Mark = tuple[int, int]  # [start, length] in UTF-16 code units of the body (JavaScript's string indices)


class SearchHit(_Reply):
    message: MessageEvent  # as history has it now; message.room is its room
    marks: list[Mark]  # where the body matches, in order, not overlapping


class SearchPage(_Reply):
    hits: list[SearchHit]  # newest first
    next_before: int | None  # pass as ?before= for the next page; null: there is none


class NewBotMessage(_Request):
    """What a bot posts: the same client_msg_id again answers the stored message, not a copy."""

    model_config = ConfigDict(extra="forbid", strict=True)

    body: Annotated[str, Field(min_length=1)]
    client_msg_id: Annotated[str, Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_.:-]+$")]


class Health(_Reply):
    status: Literal["ok"] = "ok"


class Readiness(_Reply):
    status: Literal["ready", "unavailable"]


class SignOutReply(_Reply):
    """Hubbub's session has ended; where the browser goes next to sign out of the identity
    provider too (null: nowhere, it is done)."""

    end_session_url: str | None


class SignInError(StrEnum):
    """Why a sign-in through the identity provider did not end signed in: the callback sends
    the browser to ``/?sign_in_error=<this>``, and the UI says it in words."""

    EXPIRED = "expired"  # not started in this browser, took too long, or already used
    DENIED = "denied"  # the user declined (or the provider refused them) at the provider
    PROVIDER_ERROR = "provider_error"  # the provider answered with an error
    UNREACHABLE = "unreachable"  # the provider could not be reached
    INVALID_TOKEN = "invalid_token"  # noqa: S105 - what the provider sent did not pass the checks
    NAME_TAKEN = "name_taken"  # another account of the provider already has this user name
    NAME_INVALID = "name_invalid"  # the account's user name is not one Hubbub can use
    EMAIL_DOMAIN = "email_domain"  # no verified email address in an allowed domain
    DEACTIVATED = "deactivated"  # an admin deactivated the account bound to this one
    NOT_CONFIGURED = "not_configured"  # this server does not sign in through a provider
    SERVER_ERROR = "server_error"  # Hubbub itself failed (its database): try again


class Problem(_Reply):
    """Every error answer: FastAPI's shape, ``detail`` a sentence safe to show."""

    detail: str


# Every endpoint that takes a JSON body: FastAPI answers 400 for one it cannot decode (bytes that
# are not UTF-8 inside a string) and 422 for one that is not what the model says.
BODY_ERRORS: dict[int | str, dict[str, object]] = {
    400: {"model": Problem, "description": "the body could not be decoded"},
}


# --- people: sign-up, profiles (docs/protocol.md, "People and administration")
class NewAccount(_Request):
    """A name and a password: for the first admin (POST /api/setup) and an invitee."""

    name: Annotated[str, Field(min_length=1, max_length=64)]
    password: Annotated[str, Field(min_length=1, max_length=1024)]


class NewInvite(_Request):
    uses: Annotated[int, Field(ge=1, le=1000)] = 1
    expires_in_seconds: Annotated[int, Field(ge=60, le=90 * 24 * 3600)] = 7 * 24 * 3600


class InviteReply(_Reply):
    id: str  # revokes it (DELETE /api/invites/{id}); the token itself is shown only once
    created_by: str
    created_at: int  # ms since the epoch
    expires_at: int
    uses: int
    used: int


class InviteCreated(InviteReply):
    token: str
    url: str  # the link to hand the invitee


class ProfileReply(_Reply):
    user: str  # the login name
    display_name: str  # "" when not set: show the login name
    status_emoji: str
    status_text: str
    time_zone: str  # IANA, "" when not set
    avatar_url: str | None  # an uploaded image; null: initials on a colour from the login name
    deactivated: bool
    bot: bool


class ProfileChangeBody(_Request):
    """What to change; a field left out stays as it is, "" clears it."""

    display_name: Annotated[str, Field(max_length=64)] | None = None
    status_emoji: Annotated[str, Field(max_length=32)] | None = None
    status_text: Annotated[str, Field(max_length=400)] | None = None
    time_zone: Annotated[str, Field(max_length=64)] | None = None


# --- administration
class AdminUser(_Reply):
    name: str
    display_name: str
    admin: bool
    deactivated: bool
    last_seen: int  # ms since the epoch: last sign-in, connection or request (to within minutes)
    online: bool
    password: bool  # signs in with a password


class RoleBody(_Request):
    admin: bool


class NewBot(_Request):
    name: UserName


class BotToken(_Reply):
    name: str
    token: str  # shown only now


class AdminBot(_Reply):
    name: str
    revoked: bool
    created_at: int
    rooms: list[str]


class AdminRoom(_Reply):
    name: str
    visibility: Literal["public", "private"]
    owner: str | None
    member_count: int
    archived: bool


class OwnerBody(_Request):
    user: UserName


class AuditReply(_Reply):
    id: int
    at: int  # ms since the epoch
    actor: str
    action: str  # user.admin, user.member, user.deactivate, user.reactivate, invite.create, ...
    target: str
    detail: dict[str, object]
    address: str
