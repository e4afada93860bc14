"""What no text of the contract may hold: the NUL character.

PostgreSQL cannot store NUL in text, and nobody types it: it is refused where input is parsed
(every REST body, every JSON command, every plain-text chat line, and, in web/requests.py, any
request path or query), so that both stores answer alike and no query ever sees one.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, field_validator

NUL = "\x00"
NUL_REFUSED = "NUL characters are not allowed"
# What the schema says of every string the server takes (JSON Schema, as Python and ECMA read it).
NO_NUL_PATTERN = "^[^\\x00]*$"


def no_nul_in_schema(schema: Any) -> None:
    """Say in a JSON Schema, in place, that its strings hold no NUL: a string with no pattern,
    format or fixed values gets NO_NUL_PATTERN (one with a pattern already cannot match NUL).
    References are left alone: the schemas they name say it themselves."""
    if isinstance(schema, list):
        for item in schema:
            no_nul_in_schema(item)
        return
    if not isinstance(schema, dict) or "$ref" in schema:
        return
    if schema.get("type") == "string" and not {"pattern", "format", "enum", "const"} & schema.keys():
        schema["pattern"] = NO_NUL_PATTERN
    for key in ("properties", "patternProperties", "$defs"):
        for child in schema.get(key, {}).values():
            no_nul_in_schema(child)
    for key in ("items", "additionalProperties", "anyOf", "oneOf", "allOf", "prefixItems"):
        if key in schema:
            no_nul_in_schema(schema[key])


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
    """A model of what clients send: none of its strings holds a NUL (and its schema says so)."""

    model_config = ConfigDict(json_schema_extra=lambda schema, _model: no_nul_in_schema(schema))

    @field_validator("*", mode="after")
    @classmethod
    def _no_nul(cls, value: Any) -> Any:
        return refuse_nul(value)
