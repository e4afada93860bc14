"""Files: one row per upload (hubbub_files), attached to a message when it is sent, gone when
the message is deleted or, never attached, when the collector comes by. The bytes themselves
are in the file storage (hubbub/files/), by digest; these rows are what says which digests are
still wanted. Units of work over one connection, like the rest of store/work/."""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from sqlalchemy import Connection, bindparam, delete, func, insert, select, union, update

from hubbub.model import FileInfo, FileRecord, UnknownFileError, UploadRefusedError
from hubbub.store.dialect import Dialect
from hubbub.store.tables import files, users
from hubbub.store.work.sql import Statement, run

f = files.c
COLUMNS = (
    f.id,
    f.name,
    f.size,
    f.type,
    f.width,
    f.height,
    f.room,
    f.uploader,
    f.digest,
    f.thumbnail,
    f.created_at,
    f.message_seq,
)


def record_from_row(row: Sequence[Any]) -> FileRecord:
    file_id, name, size, kind, width, height, room, uploader, digest, thumbnail, created, seq = row
    return FileRecord(
        info=FileInfo(
            file_id,
            name,
            int(size),
            kind,
            None if width is None else int(width),
            None if height is None else int(height),
        ),
        room=room,
        uploader=uploader,
        digest=digest,
        thumbnail=thumbnail,
        created_at=int(created),
        message_seq=None if seq is None else int(seq),
    )


# --- what a message keeps of its files (hubbub_messages.files), as it shows them
def infos_to_json(found: Sequence[FileInfo]) -> str:
    return json.dumps(
        [[i.id, i.name, i.size, i.type, i.width, i.height] for i in found],
        separators=(",", ":"),
        ensure_ascii=False,
    )


def infos_from_json(text: str) -> tuple[FileInfo, ...]:
    if text == "[]":  # most messages: no parsing
        return ()
    return tuple(
        FileInfo(str(i), str(n), int(s), str(t), None if w is None else int(w), None if h is None else int(h))
        for i, n, s, t, w, h in json.loads(text)
    )


# For search (`has:file`): a message with files, as a condition on hubbub_messages.
def has_files(messages_files_column: Any) -> Any:
    return messages_files_column != "[]"


# --- uploads
USED = Statement(select(func.coalesce(func.sum(f.size), 0)).where(f.uploader == bindparam("user")))
INSERT = Statement(insert(files).values({c.name: bindparam(c.name) for c in COLUMNS}))
BY_ID = Statement(select(*COLUMNS).where(f.id == bindparam("id")))


def used(conn: Connection, user: str) -> int:
    return int(run(conn, USED, user=user).scalar() or 0)


def add_file(conn: Connection, dialect: Dialect, record: FileRecord, quota: int) -> None:
    """Store.add_file: the quota is checked in the transaction that adds the file, under the
    uploader's lock, so two uploads at once cannot both slip under it."""
    dialect.lock_user(conn, record.uploader)
    total = used(conn, record.uploader) + record.info.size
    if total > quota:
        raise UploadRefusedError(413, f"this would take your uploads past your quota of {quota} bytes")
    info = record.info
    run(
        conn,
        INSERT,
        id=info.id,
        name=info.name,
        size=info.size,
        type=info.type,
        width=info.width,
        height=info.height,
        room=record.room,
        uploader=record.uploader,
        digest=record.digest,
        thumbnail=record.thumbnail,
        created_at=record.created_at,
        message_seq=record.message_seq,
    )


def file(conn: Connection, file_id: str) -> FileRecord | None:
    row = run(conn, BY_ID, id=file_id).first()
    return None if row is None else record_from_row(row)


# --- attaching (in the transaction that appends the message; see work/messages.py)
# Its IN list makes it compiled per call, with the parameters: none of them may be named after
# a column of the table, or SQLAlchemy takes it for a value to SET.
ATTACH = Statement(
    update(files)
    .where(
        f.id.in_(bindparam("ids", expanding=True)),
        f.room == bindparam("in_room"),
        f.uploader == bindparam("by"),
        f.message_seq.is_(None),
    )
    .values(message_seq=bindparam("seq"))
    .returning(*COLUMNS)
)


def attach(conn: Connection, room: str, uploader: str, seq: int, ids: Sequence[str]) -> tuple[FileInfo, ...]:
    """Attach the uploads to message `seq`, in the order given; UnknownFileError (and the
    caller's savepoint undoes the message) unless every one is the uploader's, in that room,
    and not attached yet."""
    rows = run(conn, ATTACH, ids=list(ids), in_room=room, by=uploader, seq=seq).rows
    if len(rows) != len(ids):
        found = {row[0] for row in rows}
        raise UnknownFileError(next(i for i in ids if i not in found))
    by_id = {row[0]: record_from_row(row).info for row in rows}
    return tuple(by_id[i] for i in ids)


DETACH = Statement(
    delete(files)
    .where(f.room == bindparam("room"), f.message_seq == bindparam("seq"))
    .returning(f.digest, f.thumbnail)
)


def drop_message_files(conn: Connection, room: str, seq: int) -> list[str]:
    """The message is deleted: its files go with it. Returns the digests they named."""
    return [digest for row in run(conn, DETACH, room=room, seq=seq).rows for digest in row if digest]


# --- the collector
DROP_UNATTACHED = Statement(
    delete(files)
    .where(f.message_seq.is_(None), f.created_at < bindparam("before"))
    .returning(f.id, f.digest, f.thumbnail)
)
REFERENCED = Statement(
    union(
        select(f.digest.label("d")).where(f.digest.in_(bindparam("digests", expanding=True))),
        select(f.thumbnail.label("d")).where(f.thumbnail.in_(bindparam("digests", expanding=True))),
        select(users.c.avatar.label("d")).where(users.c.avatar.in_(bindparam("digests", expanding=True))),
    )
)


def drop_unattached(conn: Connection, before_ms: int) -> list[str]:
    """Uploads made before `before_ms` and never attached: gone. Returns their ids."""
    return [row[0] for row in run(conn, DROP_UNATTACHED, before=before_ms).rows]


def referenced(conn: Connection, digests: Sequence[str]) -> set[str]:
    """Those of the digests some file (or its thumbnail), or someone's avatar, still names."""
    return {str(d) for d in run(conn, REFERENCED, digests=list(digests)).scalars()}
