"""An upload as it streams in: the multipart/form-data body is parsed chunk by chunk
(python-multipart's streaming parser) and its one file part written to a spool file in the
storage's staging directory, hashed (SHA-256) and counted on the way. Nothing of it is held in
memory but the first bytes (for sniffing); past the limit it stops at once. Whatever goes wrong,
the spool file is gone (the caller removes it on success, once the storage has it)."""

from __future__ import annotations

import contextlib
import hashlib
import os
import secrets
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO

from python_multipart.multipart import MultipartParser, parse_options_header

from hubbub.files.sniff import SAMPLE
from hubbub.model import UploadFormError, UploadRefusedError

FIELD = "file"  # the form field the file comes in
MAX_PARTS = 4  # a form with more parts than this is not one of ours
MAX_HEADER_BYTES = 4096


@dataclass
class Spooled:
    path: Path
    name: str  # as the client gave it (names.safe_name makes it safe to show)
    size: int
    digest: str  # SHA-256, hex
    head: bytes  # the first sniff.SAMPLE bytes


@dataclass
class _Part:
    headers: dict[str, bytes] = field(default_factory=dict)
    field_name: bytes = b""
    value: bytes = b""


class _Receiver:
    """python-multipart's callbacks: headers per part, the file part's data into the spool."""

    def __init__(self, spool: IO[bytes], limit: int, too_large: str) -> None:
        self.spool = spool
        self.limit = limit
        self.too_large = too_large
        self.hash = hashlib.sha256()
        self.size = 0
        self.head = b""
        self.name: str | None = None
        self.parts = 0
        self.done = False
        self.error: Exception | None = None
        self._part = _Part()
        self._in_file = False

    def fail(self, error: Exception) -> None:
        if self.error is None:
            self.error = error

    # header of a part
    def on_part_begin(self) -> None:
        self.parts += 1
        if self.parts > MAX_PARTS:
            self.fail(UploadFormError(f"a form of at most {MAX_PARTS} parts, one of them {FIELD!r}"))
        self._part = _Part()

    def on_header_field(self, data: bytes, start: int, end: int) -> None:
        self._part.field_name += data[start:end]

    def on_header_value(self, data: bytes, start: int, end: int) -> None:
        self._part.value += data[start:end]

    def on_header_end(self) -> None:
        name = self._part.field_name.decode("latin-1").strip().lower()
        self._part.headers[name] = self._part.value
        self._part.field_name = self._part.value = b""

    def on_headers_finished(self) -> None:
        disposition, options = parse_options_header(self._part.headers.get("content-disposition", b""))
        self._in_file = False
        if disposition != b"form-data" or options.get(b"name") != FIELD.encode():
            return  # another field: its value is ignored
        if self.name is not None:
            self.fail(UploadFormError(f"one file per upload (field {FIELD!r} came twice)"))
            return
        filename = options.get(b"filename")
        if filename is None:
            self.fail(UploadFormError(f"field {FIELD!r} must be a file (with a filename)"))
            return
        # Browsers send a file's name in UTF-8 as it is; anything else is read as Latin-1.
        try:
            self.name = filename.decode()
        except UnicodeDecodeError:
            self.name = filename.decode("latin-1")
        self._in_file = True

    def on_part_data(self, data: bytes, start: int, end: int) -> None:
        if not self._in_file or self.error is not None:
            return
        chunk = data[start:end]
        self.size += len(chunk)
        if self.size > self.limit:
            self.fail(UploadRefusedError(413, self.too_large))
            return
        if len(self.head) < SAMPLE:
            self.head += chunk[: SAMPLE - len(self.head)]
        self.hash.update(chunk)
        self.spool.write(chunk)

    def on_part_end(self) -> None:
        self._in_file = False

    def on_end(self) -> None:
        self.done = True


def boundary_of(content_type: str | None) -> bytes:
    kind, options = parse_options_header(content_type or "")
    boundary = options.get(b"boundary")
    if kind != b"multipart/form-data" or not boundary:
        raise UploadFormError(f"send the file as multipart/form-data, in a field named {FIELD!r}")
    return boundary


async def spool_upload(
    body: AsyncIterator[bytes], content_type: str | None, staging: Path, limit: int, too_large: str
) -> Spooled:
    """Read the form's file into a new spool file in ``staging``. Raises UploadFormError
    (malformed, or not one file), UploadRefusedError (413: past ``limit`` bytes, with the text
    ``too_large``), or whatever reading the body raised (the client went away): with the spool
    file removed."""
    boundary = boundary_of(content_type)
    path = staging / f"upload-{secrets.token_hex(12)}"
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        with os.fdopen(fd, "wb") as spool:
            receiver = _Receiver(spool, limit, too_large)
            callbacks = {
                name: getattr(receiver, name)
                for name in (
                    "on_part_begin",
                    "on_header_field",
                    "on_header_value",
                    "on_header_end",
                    "on_headers_finished",
                    "on_part_data",
                    "on_part_end",
                    "on_end",
                )
            }
            parser = MultipartParser(
                boundary,
                callbacks,  # type: ignore[arg-type]  # its TypedDict, built by name
                max_header_count=8,
                max_header_size=MAX_HEADER_BYTES,
            )
            async for chunk in body:
                try:
                    parser.write(chunk)
                except UploadRefusedError:
                    raise
                except Exception as exc:  # the parser's own complaint about the bytes
                    raise UploadFormError(f"not a well-formed multipart/form-data body: {exc}") from None
                if receiver.error is not None:
                    raise receiver.error
            parser.finalize()
            if not receiver.done:
                raise UploadFormError("the form ended early (its closing boundary is missing)")
            if receiver.name is None:
                raise UploadFormError(f"no file in the form: send it in a field named {FIELD!r}")
        return Spooled(path, receiver.name, receiver.size, receiver.hash.hexdigest(), receiver.head)
    except BaseException:
        with contextlib.suppress(OSError):
            path.unlink()
        raise
