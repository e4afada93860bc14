"""How each refusal of the domain (hubbub.model) reads on the wire: its HTTP status, its
WebSocket error code, and its text, in one table, for every route and every command.

A room the asker may not see answers exactly as one that does not exist, and so does a room
the author is no longer a member of (NotMemberError); a message in such a room answers as a
message nobody wrote. No text repeats a name that was asked for: the asker knows it, and a
log or a proxy that records answers need not.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from hubbub.contract.events import ErrorCode
from hubbub.model import (
    MAX_REACTION_KINDS,
    Forbidden,
    InviteUnusableError,
    LastAdminError,
    MessageRejectedError,
    ModeRuleError,
    NameTakenError,
    NameUnavailableError,
    NotAMemberError,
    NotMemberError,
    ProfileRuleError,
    ReadBeyondHeadError,
    RoomArchivedError,
    RoomFullError,
    RoomLimitError,
    RoomRuleError,
    SearchQueryError,
    SetupDoneError,
    StorageUnavailableError,
    StoreUnavailableError,
    TooManyReactionsError,
    UnknownBotError,
    UnknownFileError,
    UnknownInviteError,
    UnknownMessageError,
    UnknownRoomError,
    UnknownUserError,
    UploadFormError,
    UploadRefusedError,
)


@dataclass(frozen=True, slots=True)
class About:
    """What the refused request was about, for the text."""

    room: str | None = None
    message_id: str | None = None
    unavailable: str = "history store unavailable"  # what did not happen, when the store is down


@dataclass(frozen=True, slots=True)
class Answer:
    status: int  # over HTTP
    code: ErrorCode  # in a WebSocket error event
    text: Callable[[Exception, About], str]


def _said(exc: Exception, _about: About) -> str:
    return str(exc)  # these refusals' own words are safe to show


NO_SUCH_ROOM = "no such room"


def _no_room(_exc: Exception, _about: About) -> str:
    return NO_SUCH_ROOM


_ROOM_UNSEEN = Answer(404, "unknown_room", _no_room)

ANSWERS: dict[type[Exception], Answer] = {
    UnknownRoomError: _ROOM_UNSEEN,
    NotMemberError: _ROOM_UNSEEN,
    RoomArchivedError: Answer(409, "archived", lambda _e, _a: "the room is archived: read-only"),
    MessageRejectedError: Answer(
        422, "message_rejected", lambda _e, _a: "the server could not store this message"
    ),
    StoreUnavailableError: Answer(503, "store_unavailable", lambda _e, about: about.unavailable),
    UnknownMessageError: Answer(
        404, "unknown_message", lambda exc, about: f"no message {about.message_id!r} in {about.room!r}"
    ),
    TooManyReactionsError: Answer(
        403, "forbidden", lambda _e, _a: f"a message takes at most {MAX_REACTION_KINDS} different reactions"
    ),
    Forbidden: Answer(403, "forbidden", _said),
    RoomRuleError: Answer(400, "invalid_message", _said),
    # A full room: nothing wrong with the request, the room takes nobody more.
    RoomFullError: Answer(400, "forbidden", _said),
    UnknownUserError: Answer(404, "invalid_message", _said),
    NotAMemberError: Answer(404, "invalid_message", _said),
    NameTakenError: Answer(409, "invalid_message", lambda _e, _a: "that room name is not available"),
    RoomLimitError: Answer(429, "rate_limited", _said),
    ReadBeyondHeadError: Answer(400, "invalid_message", lambda exc, _a: f"seq: {exc}"),
    SearchQueryError: Answer(400, "invalid_message", _said),
    # people (hubbub/people/): a used-up, expired, revoked or made-up invitation read alike
    InviteUnusableError: Answer(
        404,
        "invalid_message",
        lambda _e, _a: "this invitation is not valid: it may have expired, been used up or been revoked",
    ),
    UnknownInviteError: Answer(404, "invalid_message", lambda _e, _a: "no such open invitation"),
    NameUnavailableError: Answer(409, "invalid_message", _said),
    ProfileRuleError: Answer(400, "invalid_message", _said),
    SetupDoneError: Answer(
        409, "forbidden", lambda _e, _a: "this server has its first admin already: sign in"
    ),
    LastAdminError: Answer(409, "forbidden", lambda _e, _a: "that would leave no active admin"),
    ModeRuleError: Answer(409, "forbidden", _said),
    UnknownBotError: Answer(404, "invalid_message", lambda _e, _a: "no such bot"),
    # A file the asker may not read, or not attach, is a file nobody uploaded.
    UnknownFileError: Answer(
        404, "unknown_file", lambda exc, _a: f"no file {str(exc.args[0] if exc.args else '')[:64]!r}"
    ),
    UploadRefusedError: Answer(413, "too_large", _said),  # status: the error's own (see answer())
    UploadFormError: Answer(422, "invalid_message", _said),
    StorageUnavailableError: Answer(503, "store_unavailable", lambda _e, _a: "file storage unavailable"),
}


def answer(exc: Exception, about: About = About()) -> tuple[Answer, str]:
    """The table's answer to the refusal, and its text; KeyError for an error not in it."""
    for kind in type(exc).__mro__:
        found = ANSWERS.get(kind)
        if found is not None:
            if isinstance(exc, UploadRefusedError):  # 413 too large, 422 an image too large to decode
                found = Answer(exc.status, found.code, found.text)
            return found, found.text(exc, about)
    raise KeyError(type(exc).__name__)
