"""What JSON clients send (docs/protocol.md, "Client → server"): one model per command."""

from __future__ import annotations

import json
from typing import Annotated, Literal

import emoji
from pydantic import (
    AfterValidator,
    ConfigDict,
    Field,
    TypeAdapter,
    ValidationError,
    model_validator,
)

from hubbub.contract.events import ErrorCode
from hubbub.contract.text import Input
from hubbub.settings import ROOM_NAME_PATTERN

RoomName = Annotated[str, Field(pattern=ROOM_NAME_PATTERN)]
MessageId = Annotated[str, Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9]+$")]
ClientMsgId = Annotated[str, Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_.:-]+$")]
FileId = Annotated[str, Field(pattern=r"^[0-9a-f]{32}$")]
MAX_FILES_PER_MESSAGE = 10


class _Command(Input):
    model_config = ConfigDict(extra="forbid", frozen=True, strict=True)


class Join(_Command):
    """Subscribe to a room; ``after`` is the resume cursor (the last seq the client has),
    ``changes_after`` the change cursor (the last change number it has applied)."""

    type: Literal["join"]
    room: RoomName
    after: Annotated[int, Field(ge=0)] | None = None
    changes_after: Annotated[int, Field(ge=0)] | None = None


class Leave(_Command):
    type: Literal["leave"]
    room: RoomName


class Send(_Command):
    """Post a message; the same client_msg_id from the same user in the same room is stored once.
    ``files``: ids of the sender's uploads into this room (POST /api/rooms/{room}/files), not
    attached to another message; with files, the body may be empty."""

    type: Literal["send"]
    room: RoomName
    body: str = ""
    client_msg_id: ClientMsgId | None = None
    files: Annotated[list[FileId], Field(max_length=MAX_FILES_PER_MESSAGE)] = []  # noqa: RUF012 - a pydantic field (Input is a BaseModel): each instance gets its own copy

    @model_validator(mode="after")
    def _says_something(self) -> Send:
        if not self.body and not self.files:
            raise ValueError("a message needs a body, or files")
        return self


class Typing(_Command):
    type: Literal["typing"]
    room: RoomName


class Edit(_Command):
    """Replace the body of one's own message."""

    type: Literal["edit"]
    room: RoomName
    id: MessageId
    body: Annotated[str, Field(min_length=1)]
    ref: ClientMsgId | None = None  # echoed in the answer (applied or error)


class Delete(_Command):
    """Delete a message: its author, the room's owner or an admin."""

    type: Literal["delete"]
    room: RoomName
    id: MessageId
    ref: ClientMsgId | None = None


def _one_emoji(value: str) -> str:
    if not emoji.is_emoji(value):
        raise ValueError("must be one emoji")
    return value


class React(_Command):
    """Add (on) or take back (off) this user's reaction with one emoji; both are idempotent."""

    type: Literal["react"]
    room: RoomName
    id: MessageId
    emoji: Annotated[str, Field(min_length=1, max_length=32), AfterValidator(_one_emoji)]
    on: bool
    ref: ClientMsgId | None = None


class Read(_Command):
    """The user has read the room up to seq (monotonic: a lower seq changes nothing)."""

    type: Literal["read"]
    room: RoomName
    seq: Annotated[int, Field(ge=0)]


AnyCommand = Join | Leave | Send | Typing | Read | Edit | Delete | React
Command = Annotated[AnyCommand, Field(discriminator="type")]
_command_adapter: TypeAdapter[AnyCommand] = TypeAdapter(Command)


class ProtocolError(ValueError):
    """A client frame the server cannot act on; ``code`` is the error event's code."""

    def __init__(self, code: ErrorCode, message: str, room: str | None = None) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.room = room


def parse_command(text: str) -> AnyCommand:
    try:
        raw = json.loads(text)
    except json.JSONDecodeError as exc:
        raise ProtocolError("invalid_json", f"frame is not JSON: {exc.msg}") from exc
    except RecursionError:
        raise ProtocolError("invalid_json", "frame is nested too deeply") from None
    if not isinstance(raw, dict):
        raise ProtocolError("invalid_message", "frame must be a JSON object")
    try:
        return _command_adapter.validate_python(raw)
    except ValidationError as exc:
        first = exc.errors(include_url=False)[0]
        where = ".".join(str(p) for p in first["loc"]) or "frame"
        raise ProtocolError("invalid_message", f"{where}: {first['msg']}") from exc
