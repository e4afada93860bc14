"""What travels through the broker between workers: one kind letter, then its payload."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

# Stored chat messages: the JSON frames UI clients receive, one per line (JSON text has no raw
# newline). One payload carries a slice of a batch, so a subscribing worker wakes each of its
# connections once per slice rather than once per message.
MESSAGE = "M"
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


def pack_messages(messages: Sequence[tuple[str, int, str]], limit: int | None) -> list[str]:
    """(room, seq, frame) of stored messages as few payloads of at most ``limit`` bytes as hold
    them, in order; a message too large on its own goes as a reference to the store."""
    if limit is None:
        return [pack(MESSAGE, "\n".join(frame for _room, _seq, frame in messages))] if messages else []
    payloads: list[str] = []
    group: list[str] = []
    size = len(MESSAGE)
    for room, seq, frame in messages:
        frame_size = len(frame.encode()) + 1  # and its newline
        if group and size + frame_size > limit:
            payloads.append(pack(MESSAGE, "\n".join(group)))
            group, size = [], len(MESSAGE)
        if size + frame_size > limit:
            payloads.append(pack(MESSAGE_REF, f"{room} {seq}"))
        else:
            group.append(frame)
            size += frame_size
    if group:
        payloads.append(pack(MESSAGE, "\n".join(group)))
    return payloads


def split_messages(body: str) -> list[str]:
    return body.split("\n")


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
