"""The JSON chat protocol (docs/protocol.md): client commands in, server events out."""

from __future__ import annotations

import json
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, TypeAdapter, ValidationError

from hubbub.settings import ROOM_NAME_PATTERN
from hubbub.store import StoredMessage

RoomName = Annotated[str, Field(pattern=ROOM_NAME_PATTERN)]
ClientMsgId = Annotated[str, Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_.:-]+$")]


class _Command(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, strict=True)


class Join(_Command):
    type: Literal["join"]
    room: RoomName
    after: Annotated[int, Field(ge=0)] | None = None


class Leave(_Command):
    type: Literal["leave"]
    room: RoomName


class Send(_Command):
    type: Literal["send"]
    room: RoomName
    body: Annotated[str, Field(min_length=1)]
    client_msg_id: ClientMsgId | None = None


class Typing(_Command):
    type: Literal["typing"]
    room: RoomName


Command = Annotated[Join | Leave | Send | Typing, Field(discriminator="type")]
_command_adapter: TypeAdapter[Join | Leave | Send | Typing] = TypeAdapter(Command)


class ProtocolError(ValueError):
    """A client frame the server cannot act on; ``code`` is the error event's code."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


def parse_command(text: str) -> Join | Leave | Send | Typing:
    try:
        raw = json.loads(text)
    except json.JSONDecodeError as exc:
        raise ProtocolError("invalid_json", f"frame is not JSON: {exc.msg}") from exc
    if not isinstance(raw, dict):
        raise ProtocolError("invalid_message", "frame must be a JSON object")
    try:
        return _command_adapter.validate_python(raw)
    except ValidationError as exc:
        first = exc.errors(include_url=False)[0]
        where = ".".join(str(p) for p in first["loc"]) or "frame"
        raise ProtocolError("invalid_message", f"{where}: {first['msg']}") from exc


def encode(event: dict[str, Any]) -> str:
    return json.dumps(event, separators=(",", ":"), ensure_ascii=False)


def message_event(message: StoredMessage) -> dict[str, Any]:
    return {
        "type": "message",
        "room": message.room,
        "seq": message.seq,
        "id": message.id,
        "author": message.author,
        "body": message.body,
        "ts": message.ts,
        "client_msg_id": message.client_msg_id,
        "client_id": message.client_id,
    }


def error_event(code: str, message: str, **extra: Any) -> str:
    return encode({"type": "error", "code": code, "message": message, **extra})


def plain_text_line(event: dict[str, Any]) -> str:
    """How a chat message reads on the tutorial's plain-text /ws/{client_id} endpoint."""
    who = event["client_id"] if event.get("client_id") is not None else event["author"]
    return f"Client #{who} says: {event['body']}"
