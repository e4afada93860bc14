"""Uploads and downloads (docs/protocol.md, "Files"). Who may do either is decided by Rooms
(chat/rooms.py), through the chat's Files; here is only how a file is served.

Every download answers with the same headers, whoever asks and whatever the file is:
nosniff, a sandboxing Content-Security-Policy (a file opened on its own runs nothing, even if
it is HTML), Cross-Origin-Resource-Policy: same-origin, a private cache keyed on the caller's
credentials, a strong ETag (the content's digest), and Content-Disposition. Only images the
server made itself (files/images.py) are served inline with their image type; everything
else, whatever its name or type, is an attachment of type application/octet-stream.
"""

from __future__ import annotations

import logging
from typing import Annotated, Any

from fastapi import APIRouter, HTTPException, Path, Request, Response
from fastapi.responses import StreamingResponse

from hubbub.contract.commands import FileId, RoomName
from hubbub.contract.events import FileRef
from hubbub.contract.rest import Problem
from hubbub.files import FileStorage
from hubbub.files.names import content_disposition
from hubbub.files.ranges import UnsatisfiableRangeError, byte_range
from hubbub.files.upload import FIELD
from hubbub.model import UnknownFileError
from hubbub.routes.deps import CallerDep, ChatDep
from hubbub.routes.rooms import signed_in

log = logging.getLogger("hubbub.files")

router = APIRouter(prefix="/api", responses={401: {"model": Problem}, 404: {"model": Problem}})

SANDBOX = "sandbox; default-src 'none'"
OCTETS = "application/octet-stream"
THUMBNAIL_TYPE = "image/webp"
INLINE_TYPES = ("image/png", "image/jpeg", "image/gif", "image/webp")
CACHE = "private, max-age=86400"

UPLOAD_BODY: dict[str, Any] = {
    "required": True,
    "content": {
        "multipart/form-data": {
            "schema": {
                "type": "object",
                "properties": {FIELD: {"type": "string", "format": "binary"}},
                "required": [FIELD],
                "additionalProperties": False,
            }
        }
    },
}
_binary = {"schema": {"type": "string", "format": "binary"}}
DOWNLOAD_HEADERS = {
    name: {"schema": {"type": "string"}}
    for name in ("ETag", "Content-Disposition", "Content-Security-Policy", "Cache-Control", "Accept-Ranges")
}
DOWNLOAD_RESPONSES: dict[int | str, dict[str, Any]] = {
    200: {
        "description": "the file: an image the server made, inline; anything else, an attachment",
        "content": {kind: _binary for kind in (*INLINE_TYPES, OCTETS)},
        "headers": DOWNLOAD_HEADERS,
    },
    206: {
        "description": "the range asked for (Range: bytes=start-end)",
        "content": {kind: _binary for kind in (*INLINE_TYPES, OCTETS)},
        "headers": {**DOWNLOAD_HEADERS, "Content-Range": {"schema": {"type": "string"}}},
    },
    304: {"description": "not modified (If-None-Match)"},
    404: {"model": Problem, "description": "no such file, or not one the caller may read (the same answer)"},
    416: {"model": Problem, "description": "the range starts past the end of the file"},
}


@router.post(
    "/rooms/{room}/files",
    status_code=201,
    openapi_extra={"requestBody": UPLOAD_BODY},
    responses={
        400: {"model": Problem, "description": "an unreadable Content-Length"},
        403: {"model": Problem, "description": "not a member of the room"},
        409: {"model": Problem, "description": "the room is archived"},
        413: {"model": Problem, "description": "larger than HUBBUB_MAX_UPLOAD_BYTES, or over the quota"},
        422: {
            "description": "not a form with one file, an image too large to decode, or an invalid room name",
            "content": {
                "application/json": {
                    "schema": {
                        "anyOf": [
                            {"$ref": "#/components/schemas/Problem"},
                            {"$ref": "#/components/schemas/HTTPValidationError"},
                        ]
                    }
                }
            },
        },
        503: {"model": Problem, "description": "the store or the file storage is unavailable"},
    },
)
async def upload(room: RoomName, request: Request, chat: ChatDep, caller: CallerDep) -> FileRef:
    """Upload a file (multipart/form-data, field `file`) into a room you are a member of. It
    is yours alone until you send a message with it (`files` in `send`); never attached, it
    is deleted after HUBBUB_UNATTACHED_UPLOAD_SECONDS."""
    actor = signed_in(caller)
    info = await chat.files.upload(actor, room, request.stream(), request.headers.get("content-type"))
    return FileRef.of(info)


@router.get("/files/{file_id}", responses=DOWNLOAD_RESPONSES, response_class=Response)
async def download(
    file_id: Annotated[FileId, Path()], request: Request, chat: ChatDep, caller: CallerDep
) -> Response:
    """The file, for whoever may read the room it was sent in (its uploader, before that)."""
    record = await chat.files.readable(caller, file_id)
    info = record.info
    kind, disposition = (
        (info.type, "inline") if info.image and info.type in INLINE_TYPES else (OCTETS, "attachment")
    )
    return await serve(request, chat.files.storage, record.digest, info.id, kind, disposition, info.name)


@router.get("/files/{file_id}/thumbnail", responses=DOWNLOAD_RESPONSES, response_class=Response)
async def thumbnail(
    file_id: Annotated[FileId, Path()], request: Request, chat: ChatDep, caller: CallerDep
) -> Response:
    """An image's thumbnail (WebP, at most 640 pixels on its longer side); 404 for other files."""
    record = await chat.files.readable(caller, file_id)
    if record.thumbnail is None:
        raise UnknownFileError(file_id)
    name = record.info.name.rsplit(".", 1)[0] + ".webp"
    return await serve(
        request, chat.files.storage, record.thumbnail, record.info.id, THUMBNAIL_TYPE, "inline", name
    )


async def serve(
    request: Request,
    storage: FileStorage,
    digest: str,
    file_id: str,
    kind: str,
    disposition: str,
    name: str,
) -> Response:
    """The stored bytes of ``digest`` as ``kind``; ``file_id`` names them in a 404 and the log
    line when the storage has lost them."""
    size = await storage.size(digest)
    if size is None:
        log.error("the bytes of file %s (%s) are missing from the file storage", file_id, digest)
        raise UnknownFileError(file_id)
    etag = f'"{digest}"'
    headers = {
        "ETag": etag,
        "Cache-Control": CACHE,
        # The browser's cache may keep it, but for the same credentials only: the next person
        # to sign in at this computer asks the server again.
        "Vary": "Cookie, Authorization",
        "X-Content-Type-Options": "nosniff",
        "Content-Security-Policy": SANDBOX,
        "Cross-Origin-Resource-Policy": "same-origin",
        "Content-Disposition": content_disposition(disposition, name),
        "Accept-Ranges": "bytes",
    }
    if _matches(request.headers.get("if-none-match"), etag):
        return Response(status_code=304, headers=headers)
    wanted = request.headers.get("range")
    if_range = request.headers.get("if-range")
    if if_range is not None and if_range.strip() != etag:
        wanted = None  # the copy the client has is not this one: all of it
    try:
        span = byte_range(wanted, size)
    except UnsatisfiableRangeError:
        raise HTTPException(
            416,
            "the range starts past the end of the file",
            headers={**headers, "Content-Range": f"bytes */{size}"},
        ) from None
    start, end = span if span is not None else (0, size)
    headers["Content-Length"] = str(end - start)
    status = 200
    if span is not None:
        status = 206
        headers["Content-Range"] = f"bytes {start}-{end - 1}/{size}"
    return StreamingResponse(
        storage.read(digest, start, end), status_code=status, headers=headers, media_type=kind
    )


def _matches(header: str | None, etag: str) -> bool:
    if header is None:
        return False
    tags = [tag.strip().removeprefix("W/") for tag in header.split(",")]
    return "*" in tags or etag in tags
