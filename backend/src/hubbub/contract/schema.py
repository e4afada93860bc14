"""The WebSocket half of the contract as JSON Schema, added to the app's OpenAPI document, so
one document describes REST, the JSON chat frames and the close codes (and the sign-in errors
the identity provider's callback sends the browser back with). The UI's TypeScript
types are generated from that document (`scripts/gen-contract`)."""

from __future__ import annotations

from typing import Any

from pydantic import TypeAdapter

from hubbub.contract.close import TERMINAL, Close
from hubbub.contract.commands import Command
from hubbub.contract.events import ServerEvent
from hubbub.contract.rest import SignInError
from hubbub.contract.text import NUL_REFUSED, no_nul_in_schema

REF_TEMPLATE = "#/components/schemas/{model}"


def _union(name: str, adapter: TypeAdapter[Any], mode: str) -> dict[str, dict[str, Any]]:
    schema = adapter.json_schema(mode=mode, ref_template=REF_TEMPLATE)  # type: ignore[arg-type]
    definitions: dict[str, dict[str, Any]] = schema.pop("$defs", {})
    definitions[name] = schema
    return definitions


def _close_codes(name: str, codes: list[Close], description: str) -> dict[str, Any]:
    return {
        "type": "integer",
        "enum": [int(code) for code in codes],
        "x-enum-varnames": [code.name for code in codes],
        "description": description,
    }


def websocket_schemas() -> dict[str, dict[str, Any]]:
    """Components for the JSON chat frames (ClientCommand, ServerEvent and their members) and
    the close codes (CloseCode, TerminalCloseCode)."""
    schemas = {
        **_union("ClientCommand", TypeAdapter(Command), "validation"),
        **_union("ServerEvent", TypeAdapter(ServerEvent), "serialization"),
    }
    schemas["CloseCode"] = _close_codes("CloseCode", list(Close), "How the server closes a WebSocket.")
    schemas["TerminalCloseCode"] = _close_codes(
        "TerminalCloseCode",
        sorted(TERMINAL),
        "Close codes after which reconnecting cannot help: the user or the operator must act.",
    )
    # Not a body either: the value of ?sign_in_error= when a sign-in through the identity
    # provider lands back in the app (routes/oidc.py); the UI says each in words.
    schemas["SignInError"] = {**TypeAdapter(SignInError).json_schema(), "description": SignInError.__doc__}
    return schemas


def add_websocket_schemas(openapi: dict[str, Any]) -> dict[str, Any]:
    components = openapi.setdefault("components", {}).setdefault("schemas", {})
    for name, schema in websocket_schemas().items():
        if name in components and components[name] != schema:
            raise ValueError(f"schema {name!r} differs between REST and WebSocket")
        components[name] = schema
    return openapi


NUL_IN_URL = f"a NUL character in the path or query (`{NUL_REFUSED}`)"


def refuse_nul_in_urls(openapi: dict[str, Any]) -> dict[str, Any]:
    """What web/requests.py NoNulInUrl does, in the document: every path and query parameter
    is a string without NUL, and every operation may answer 400 for one (before any route)."""
    for methods in openapi.get("paths", {}).values():
        for operation in methods.values():
            for parameter in operation.get("parameters", []):
                no_nul_in_schema(parameter.get("schema"))
            responses = operation.setdefault("responses", {})
            found = responses.get("400")
            if found is None:
                responses["400"] = {
                    "description": NUL_IN_URL,
                    "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Problem"}}},
                }
            elif NUL_IN_URL not in found.get("description", ""):
                found["description"] = f"{found.get('description', '')}; or {NUL_IN_URL}".lstrip("; ")
    return openapi
