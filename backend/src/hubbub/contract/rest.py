"""Request and response bodies of the REST endpoints (docs/protocol.md, "Endpoints")."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from hubbub.contract.commands import RoomName
from hubbub.contract.events import MessageEvent
from hubbub.settings import AuthMode


class _Reply(BaseModel):
    model_config = ConfigDict(json_schema_serialization_defaults_required=True)


class LoginBody(BaseModel):
    """One mode's fields: ``name`` (none), ``token`` (token, jwt), ``username`` + ``password``."""

    name: str | None = Field(default=None, max_length=64)
    token: str | None = Field(default=None, max_length=8192)
    username: str | None = Field(default=None, max_length=64)
    password: str | None = Field(default=None, max_length=1024)


class NewRoom(BaseModel):
    name: RoomName


class ServerConfig(_Reply):
    auth_mode: AuthMode
    default_room: str
    max_message_bytes: int
    history_page_size: int
    room_name_pattern: str
    version: str


class SessionInfo(_Reply):
    user: str
    expires_at: float | None  # seconds since the epoch; null when it never expires


class RoomSummary(_Reply):
    name: str
    head: int  # seq of the newest message, 0 when empty


class RoomCreatedReply(_Reply):
    name: str
    created: bool  # false: it existed already


class HistoryPage(_Reply):
    room: str
    messages: list[MessageEvent]  # oldest first
    has_more: bool


class Health(_Reply):
    status: Literal["ok"] = "ok"


class Readiness(_Reply):
    status: Literal["ready", "unavailable"]


class Problem(_Reply):
    """Every error answer: FastAPI's shape, ``detail`` a sentence safe to show."""

    detail: str
