"""What no text of the contract may hold: the NUL character.

PostgreSQL cannot store NUL in text, and nobody types it: it is refused where input is parsed
(every REST body, every JSON command, every plain-text chat line, and, in web/requests.py, any
request path or query), so that both stores answer alike and no query ever sees one.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, field_validator

NUL = "\x00"
NUL_REFUSED = "NUL characters are not allowed"


def refuse_nul(value: Any) -> Any:
    """The value as it is; ValueError if it (or a string in it) holds a NUL."""
    if isinstance(value, str):
        if NUL in value:
            raise ValueError(NUL_REFUSED)
    elif isinstance(value, list | tuple):
        for item in value:
            refuse_nul(item)
    return value


class Input(BaseModel):
    """A model of what clients send: none of its strings holds a NUL."""

    @field_validator("*", mode="after")
    @classmethod
    def _no_nul(cls, value: Any) -> Any:
        return refuse_nul(value)
