"""Who a message mentions: `@name` of a member of its room, and `@room` for all of them.

Names may hold spaces ("Ivan Petrov"), so each `@` offers the next one to four words as
candidates, and the longest that names a member wins. Only members count: a mention of
anyone else is plain text and notifies nobody. Nor does a mention inside a quote (a line
starting with `>`, as a reply quotes the message it answers): quoting a message does not
ping everyone it pinged.
"""

from __future__ import annotations

import re

from hubbub.model import ROOM_MENTION

MAX_MENTIONS = 20  # `@`s read per message: a message cannot make the server look up thousands
_AT = re.compile(r"(?<![\w@])@([\w][\w.-]*(?: [\w][\w.-]*){0,3})")
_QUOTED = re.compile(r"^[ \t]*>.*$", re.MULTILINE)


def unquoted(body: str) -> str:
    """The body without its quoted lines (Markdown blockquotes, nested ones too)."""
    return _QUOTED.sub("", body)


def candidates(body: str) -> list[list[str]]:
    """For each `@` (up to MAX_MENTIONS): the names it may stand for, longest first."""
    found = []
    for match in _AT.finditer(unquoted(body)):
        words = match.group(1).split(" ")
        names: list[str] = []
        for count in range(len(words), 0, -1):
            name = " ".join(words[:count])
            names += [name, name.rstrip(".-")] if name.rstrip(".-") != name else [name]
        found.append([n for n in names if n])
        if len(found) == MAX_MENTIONS:
            break
    return found


def mentions_room(body: str) -> bool:
    return any(names[-1] == ROOM_MENTION[1:] for names in candidates(body))


def resolve(body: str, members: set[str]) -> list[str]:
    """The members the body mentions, in order, each once (`members`: those of the
    candidates who are members)."""
    chosen: list[str] = []
    for names in candidates(body):
        for name in names:
            if name in members:
                if name not in chosen:
                    chosen.append(name)
                break
    return chosen
