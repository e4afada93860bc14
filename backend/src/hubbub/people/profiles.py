"""Profiles: a display name (apart from the login name, under the same rules), a status line
with an emoji, a time zone, an avatar. A change reaches every open client at once (a
``profile`` frame to every JSON connection, on every worker)."""

from __future__ import annotations

import functools
import unicodedata
import zoneinfo
from collections.abc import Callable, Coroutine, Sequence
from typing import Any

import emoji

from hubbub.auth.names import NameError_, chosen_name
from hubbub.chat import envelope
from hubbub.contract.events import ProfileEvent, encode
from hubbub.model import Profile, ProfileChange, ProfileRuleError
from hubbub.people.accounts import clash
from hubbub.people.avatars import avatar_url
from hubbub.store import Store

MAX_STATUS = 100
MAX_PROFILES = 100  # asked for at once
# Characters that reorder or hide the text around them: a status line could pose as another.
_BIDI_CONTROLS = frozenset("\u061c\u200e\u200f\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")

Publish = Callable[[envelope.Envelope], Coroutine[Any, Any, None]]


@functools.cache
def time_zones() -> frozenset[str]:
    return frozenset(zoneinfo.available_timezones())


def checked(change: ProfileChange) -> ProfileChange:
    """The change with each field in its one normal form; ProfileRuleError (safe to show) for a
    field that breaks a rule."""
    display_name = change.display_name
    if display_name:
        try:
            display_name = chosen_name(display_name)
        except NameError_ as exc:
            raise ProfileRuleError(str(exc)) from exc
    status_emoji = change.status_emoji
    if status_emoji and not emoji.is_emoji(status_emoji):
        raise ProfileRuleError("the status emoji must be one emoji")
    status_text = change.status_text
    if status_text is not None:
        status_text = " ".join(unicodedata.normalize("NFC", status_text).split())
        if len(status_text) > MAX_STATUS:
            raise ProfileRuleError(f"a status is at most {MAX_STATUS} characters long")
        if any(c in _BIDI_CONTROLS or unicodedata.category(c) == "Cc" for c in status_text):
            raise ProfileRuleError("a status may not hold control characters")
    time_zone = change.time_zone
    if time_zone and time_zone not in time_zones():
        raise ProfileRuleError("the time zone must be an IANA name, such as Europe/Paris")
    return ProfileChange(display_name, status_emoji, status_text, time_zone)


def frame(profile: Profile) -> str:
    return encode(ProfileEvent.of(profile, avatar_url(profile)))


class Profiles:
    def __init__(self, store: Store, publish: Publish) -> None:
        self._store = store
        self._publish = publish

    async def many(self, names: Sequence[str]) -> list[Profile]:
        """Those of the names that are known, in the order asked for."""
        found = {p.name: p for p in await self._store.profiles(list(dict.fromkeys(names))[:MAX_PROFILES])}
        return [found[name] for name in names if name in found]

    async def one(self, name: str) -> Profile | None:
        found = await self._store.profiles([name])
        return found[0] if found else None

    async def change(self, user: str, change: ProfileChange) -> Profile:
        """Raises ProfileRuleError, NameUnavailableError (a display name that is, or looks like,
        someone else's name or display name), UnknownUserError."""
        change = checked(change)
        profile = await self._store.update_profile(user, change, clash(change.display_name or user))
        await self.announce(profile)
        return profile

    async def set_avatar(self, user: str, digest: str | None) -> Profile:
        """The user's avatar is the stored image of that digest (None: initials again); every
        open client hears of it. Raises UnknownUserError."""
        profile = await self._store.set_avatar(user, digest)
        await self.announce(profile)
        return profile

    async def announce(self, profile: Profile) -> None:
        """Every open client hears of it (a change, a deactivation, a reactivation)."""
        await self._publish(envelope.Broadcast(frame(profile)))
