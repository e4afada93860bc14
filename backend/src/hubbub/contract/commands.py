"""What JSON clients send (docs/protocol.md, "Client → server"): one model per command."""

from __future__ import annotations

import json
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, TypeAdapter, ValidationError

from hubbub.contract.events import ErrorCode
from hubbub.settings import ROOM_NAME_PATTERN

RoomName = Annotated[str, Field(pattern=ROOM_NAME_PATTERN)]
ClientMsgId = Annotated[str, Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_.:-]+$")]


class _Command(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, strict=True)


class Join(_Command):
    """Subscribe to a room; ``after`` is the resume cursor (the last seq the client has)."""

    type: Literal["join"]
    room: RoomName
    after: Annotated[int, Field(ge=0)] | None = None


class Leave(_Command):
    type: Literal["leave"]
    room: RoomName


class Send(_Command):
    """Post a message; the same client_msg_id from the same user in the same room is stored once."""

    type: Literal["send"]
    room: RoomName
    body: Annotated[str, Field(min_length=1)]
    client_msg_id: ClientMsgId | None = None


class Typing(_Command):
    type: Literal["typing"]
    room: RoomName


class Read(_Command):
    """The user has read the room up to seq (monotonic: a lower seq changes nothing)."""

    type: Literal["read"]
    room: RoomName
    seq: Annotated[int, Field(ge=0)]


Command = Annotated[Join | Leave | Send | Typing | Read, Field(discriminator="type")]
_command_adapter: TypeAdapter[Join | Leave | Send | Typing | Read] = TypeAdapter(Command)


class ProtocolError(ValueError):
    """A client frame the server cannot act on; ``code`` is the error event's code."""

    def __init__(self, code: ErrorCode, message: str, room: str | None = None) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.room = room


def parse_command(text: str) -> Join | Leave | Send | Typing | Read:
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
