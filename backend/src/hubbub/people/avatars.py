"""Avatars: initials on a colour derived from the login name (the UI draws them) until a user
uploads an image. Uploads come with files (issue 26): a profile keeps the image's file id in
``hubbub_users.avatar``, and this is the one place that turns it into the address clients load
(files' serving rules apply there)."""

from __future__ import annotations

from urllib.parse import quote


def avatar_url(file_id: str | None) -> str | None:
    return None if file_id is None else f"/api/files/{quote(file_id, safe='')}"
