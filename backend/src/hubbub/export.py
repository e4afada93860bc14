"""`hubbub export --room R --format json|txt|html`: a room's history as it is now, for a team that
leaves or archives. Each message as the room shows it today: its last edit (and when), a
deleted one as a tombstone, its reactions. (Attachments, once messages have them (issue 26),
belong here too: add them to `_json_message`, `_text_lines` and `_html_message`.)

An operator's tool: it reads the database directly, so it exports any room, private ones and
direct messages included. HTML is escaped throughout and carries a policy that runs nothing.
"""

from __future__ import annotations

import base64
import datetime
import hashlib
import html
import json
from collections.abc import AsyncIterator, Iterable
from typing import Any, Literal, TextIO

from hubbub import __version__
from hubbub.contract.events import MessageEvent
from hubbub.model import RoomInfo, StoredMessage
from hubbub.store import Store

Format = Literal["json", "txt", "html"]
PAGE = 500


class UnknownRoomToExportError(LookupError):
    pass


async def messages_of(store: Store, room: str) -> AsyncIterator[StoredMessage]:
    after = 0
    while True:
        page = await store.after(room, after, PAGE)
        for message in page:
            yield message
        if len(page) < PAGE:
            return
        after = page[-1].seq


async def export_room(store: Store, room: str, fmt: Format, out: TextIO) -> int:
    """Write the room's history to `out`; returns how many messages."""
    info = await store.room(room)
    if info is None:
        raise UnknownRoomToExportError(f"no room named {room!r}")
    messages = [message async for message in messages_of(store, room)]
    if fmt == "json":
        json.dump(_json_document(info, messages), out, ensure_ascii=False, indent=1)
        out.write("\n")
    elif fmt == "txt":
        out.writelines(f"{line}\n" for line in _text_document(info, messages))
    else:
        out.write(_html_document(info, messages))
    return len(messages)


def _when(ms: int) -> str:
    return datetime.datetime.fromtimestamp(ms / 1000, datetime.UTC).strftime("%Y-%m-%d %H:%M:%S UTC")


def _exported_at() -> str:
    return datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds")


def _room_fields(info: RoomInfo) -> dict[str, Any]:
    return {
        "name": info.name,
        "visibility": info.visibility,
        "topic": info.topic,
        "owner": info.owner,
        "archived": info.archived,
        "messages": info.head,
    }


# --- json: the wire's own message shape (docs/protocol.md, "message")


def _json_message(message: StoredMessage) -> dict[str, Any]:
    return MessageEvent.of(message).model_dump(exclude={"type"})


def _json_document(info: RoomInfo, messages: list[StoredMessage]) -> dict[str, Any]:
    return {
        "room": _room_fields(info),
        "exported_at": _exported_at(),
        "hubbub": __version__,
        "messages": [_json_message(m) for m in messages],
    }


# --- txt


def _reactions(message: StoredMessage) -> str:
    return ", ".join(f"{r.emoji} {r.count} ({', '.join(r.users)})" for r in message.reactions)


def _text_lines(message: StoredMessage) -> Iterable[str]:
    head = f"[{_when(message.ts)}] #{message.seq} {message.author}{' (bot)' if message.bot else ''}"
    if message.deleted:
        yield f"{head}: [deleted]"
        return
    first, *rest = message.body.split("\n")
    edited = f" (edited {_when(message.edited_at)})" if message.edited_at is not None else ""
    yield f"{head}{edited}: {first}"
    yield from (f"    {line}" for line in rest)
    if message.reactions:
        yield f"    reactions: {_reactions(message)}"


def _text_document(info: RoomInfo, messages: list[StoredMessage]) -> Iterable[str]:
    yield f"# {info.name} ({info.visibility}){f': {info.topic}' if info.topic else ''}"
    yield f"# exported {_exported_at()} by Hubbub {__version__}, {len(messages)} messages"
    for message in messages:
        yield from _text_lines(message)


# --- html: everything escaped; the page's policy allows its one style block and nothing else

STYLE = """
body { font: 15px/1.45 system-ui, sans-serif; max-width: 52rem; margin: 2rem auto; padding: 0 1rem; }
li { list-style: none; margin: 0 0 .8rem; }
.meta { color: #555; font-size: .85em; }
.body { white-space: pre-wrap; overflow-wrap: anywhere; margin: .15rem 0; }
.deleted .body { color: #777; font-style: italic; }
.reactions { font-size: .85em; color: #333; }
""".strip()
STYLE_HASH = base64.b64encode(hashlib.sha256(STYLE.encode()).digest()).decode()
POLICY = f"default-src 'none'; style-src 'sha256-{STYLE_HASH}'; base-uri 'none'; form-action 'none'"


def _html_message(message: StoredMessage) -> str:
    e = html.escape
    classes = "message deleted" if message.deleted else "message"
    meta = f"#{message.seq} <b>{e(message.author)}</b>{' (bot)' if message.bot else ''} "
    meta += f'<time datetime="{e(_iso(message.ts))}">{e(_when(message.ts))}</time>'
    if message.edited_at is not None and not message.deleted:
        meta += f" (edited {e(_when(message.edited_at))})"
    body = "[deleted]" if message.deleted else e(message.body)
    reactions = f'<div class="reactions">{e(_reactions(message))}</div>' if message.reactions else ""
    return (
        f'<li class="{classes}" id="m{message.seq}"><div class="meta">{meta}</div>'
        f'<div class="body">{body}</div>{reactions}</li>'
    )


def _iso(ms: int) -> str:
    return datetime.datetime.fromtimestamp(ms / 1000, datetime.UTC).isoformat()


def _html_document(info: RoomInfo, messages: list[StoredMessage]) -> str:
    e = html.escape
    topic = f"<p>{e(info.topic)}</p>" if info.topic else ""
    items = "\n".join(_html_message(m) for m in messages)
    return f"""<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="{e(POLICY, quote=False)}">
<meta name="referrer" content="no-referrer">
<title>#{e(info.name)}: Hubbub export</title>
<style>{STYLE}</style>
</head>
<body>
<h1>#{e(info.name)}</h1>
{topic}<p class="meta">{e(info.visibility)} room, {len(messages)} messages, exported {e(_exported_at())}
by Hubbub {e(__version__)}</p>
<ol>
{items}
</ol>
</body>
</html>
"""
