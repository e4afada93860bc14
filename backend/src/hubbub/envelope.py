"""What travels through the broker between workers: one kind letter, then its payload."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

MESSAGE = "M"  # a stored chat message: the JSON frame UI clients receive
MESSAGE_REF = "m"  # "room seq": a stored message too large for the broker; read it from the store
ROOM_EVENT = "E"  # "room\n" + JSON frame: ephemeral (typing, user joined/left, seed leave line)
GLOBAL_EVENT = "G"  # JSON frame for every JSON connection (a room was created)
PRESENCE = "P"  # JSON {"worker": id, "rooms": {room: [users]}}: one worker's whole presence
PRESENCE_QUERY = "Q"  # worker id: a new worker asks the others to publish their presence
LOGOUT = "L"  # session id: close that session's sockets


@dataclass(frozen=True, slots=True)
class Envelope:
    kind: str
    body: str


def pack(kind: str, body: str) -> str:
    return kind + body


def unpack(payload: str) -> Envelope:
    return Envelope(payload[:1], payload[1:])


def room_event(room: str, frame: str) -> str:
    return pack(ROOM_EVENT, f"{room}\n{frame}")


def split_room_event(body: str) -> tuple[str, str]:
    room, _, frame = body.partition("\n")
    return room, frame


def presence(worker: str, rooms: dict[str, list[str]]) -> str:
    return pack(PRESENCE, json.dumps({"worker": worker, "rooms": rooms}, separators=(",", ":")))


def parse_presence(body: str) -> tuple[str, dict[str, list[str]]]:
    data: dict[str, Any] = json.loads(body)
    return str(data["worker"]), {str(k): [str(u) for u in v] for k, v in data["rooms"].items()}
