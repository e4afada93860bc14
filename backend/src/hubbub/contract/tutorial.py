"""The exact texts of FastAPI's WebSockets tutorial, which its clients read and parse.

Nothing else in Hubbub may phrase these lines: clients written against the tutorial match them.
"""

from __future__ import annotations

import re
from collections.abc import Sequence


def echo(data: str) -> str:
    return f"Message text was: {data}"


def item_credential(credential: str) -> str:
    return f"Session cookie or query token value is: {credential}"


def item_query(q: int) -> str:
    return f"Query parameter q is: {q}"


def item_echo(data: str, item_id: str) -> str:
    return f"Message text was: {data}, for item ID: {item_id}"


def you_wrote(data: str) -> str:
    return f"You wrote: {data}"


def client_name(who: str | int) -> str:
    """How the chat names a client: ``Client #5``; in auth mode none, a plain-text user's name."""
    return f"Client #{who}"


def says(who: str | int, body: str) -> str:
    return f"{client_name(who)} says: {body}"


def left_the_chat(client_id: int) -> str:
    return f"{client_name(client_id)} left the chat"


def chat_line(author: str, client_id: int | None, body: str, files: Sequence[str] = ()) -> str:
    """How a stored message reads on the plain-text /ws/{client_id} chat: a plain-text
    sender by its number, anyone else by name where the number would be; the names of its
    files, if it has any, after its body (``[file: plan.png]``).

    Nobody can pass for somebody else there: a user named like a number reads as
    ``Client #@5``, never as plain-text client 5, and a body cannot start a line of its own
    (line breaks show as ␤, other control characters as �)."""
    if files:
        body = " ".join([body, *(f"[file: {name}]" for name in files)]).lstrip(" ")
    if client_id is not None:
        return says(client_id, one_line(body))
    return says(f"@{author}" if _looks_like_number(author) else author, one_line(body))


_LINE_BREAKS = str.maketrans({c: "\u2424" for c in "\n\r\v\f\x1c\x1d\x1e\x85\u2028\u2029"})
_CONTROLS = re.compile(r"[\x00-\x08\x0e-\x1f\x7f-\x9f]")


def one_line(text: str) -> str:
    return _CONTROLS.sub("\ufffd", text.translate(_LINE_BREAKS))


def _looks_like_number(name: str) -> bool:
    try:
        int(name)
    except ValueError:
        return False
    return True
