"""Avatars: initials on a colour derived from the login name (the UI draws them) until a user
uploads an image. An upload is made anew as a small square WebP (files/images.py: avatar),
kept in the file storage by its digest, and named by ``hubbub_users.avatar`` (which keeps it
from the file collector); the old one, named by nobody, is collected. This is the one place
that turns it into the address clients load: the digest is in it, so a new avatar is a new
address and a cached old one is never shown."""

from __future__ import annotations

from urllib.parse import quote

from hubbub.model import Profile


def avatar_url(profile: Profile) -> str | None:
    if profile.avatar is None:
        return None
    return f"/api/users/{quote(profile.name, safe='')}/avatar?v={profile.avatar[:16]}"
