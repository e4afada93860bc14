"""Display names people can tell apart: one normal form, nothing invisible, and (for names
people pick themselves) nothing that passes for someone else's name.

Unicode lets one name be written many ways: full-width letters (U+FF41 for a), Cyrillic
letters that look Latin (U+0430 for a), fillers that render as nothing (U+3164). NFKC folds
the compatibility forms into one; invisible and control characters are refused; a name picked
by its user may not mix scripts, nor share its *skeleton* (its letters mapped to the Latin ones
they resemble, case folded, after Unicode's confusables data) with a name already online.
"""

from __future__ import annotations

import functools
import re
import unicodedata

from confusable_homoglyphs import confusables

NAME_RE = re.compile(r"^[\w][\w .-]{0,31}$")
# Letters that render as nothing, though Unicode files them as letters (Lo).
INVISIBLE_LETTERS = frozenset("\u115f\u1160\u3164\uffa0\u2800\u17b4\u17b5\u180e")
_ASCII_LOOKALIKE: dict[str, str] = {}


class NameError_(ValueError):
    """The name cannot be used; the message says why and is safe to show."""


def normal_name(name: str | None) -> str:
    """The name's one normal form (NFKC, trimmed); raises NameError_ if it is not usable."""
    text = unicodedata.normalize("NFKC", name or "").strip()
    if not NAME_RE.fullmatch(text):
        raise NameError_(
            "display name must be 1-32 letters, digits, spaces, '.', '_' or '-', "
            "starting with a letter or digit"
        )
    for char in text:
        if char in INVISIBLE_LETTERS or unicodedata.category(char) in {"Cf", "Cc", "Co", "Cn", "Mn", "Me"}:
            raise NameError_("display name has an invisible character")
    return text


def chosen_name(name: str | None) -> str:
    """A name a person picks for themselves: normal, and in one script (a Cyrillic a, U+0430,
    among Latin letters is how a name poses as another)."""
    text = normal_name(name)
    if confusables.is_mixed_script(text, allowed_aliases=["COMMON", "INHERITED"]):
        raise NameError_("display name mixes scripts (letters of one alphabet that look like another's)")
    return text


@functools.lru_cache(maxsize=65536)
def skeleton(name: str) -> str:
    """What the name looks like: letters that resemble ASCII ones mapped to them, case folded.
    Cached: a connection in auth mode none compares its name with everyone online's."""
    return "".join(_lookalike(char) for char in unicodedata.normalize("NFKC", name).casefold())


def _lookalike(char: str) -> str:
    if char.isascii():
        return char
    found = _ASCII_LOOKALIKE.get(char)
    if found is None:
        entries = confusables.confusables_data.get(char, [])
        ascii_forms = [e["c"] for e in entries if e["c"].isascii() and e["c"].isprintable()]
        found = min(ascii_forms).casefold() if ascii_forms else char
        _ASCII_LOOKALIKE[char] = found
    return found


def passes_for(name: str, others: set[str]) -> str | None:
    """An other name this one could be taken for (same skeleton, not the same name), or None."""
    mine = skeleton(name)
    for other in others:
        if other != name and skeleton(other) == mine:
            return other
    return None


class NameIndex:
    """Names (who is online), each counted as often as it was added, and found by what it looks
    like: whether a name is among them, or passes for one that is, costs a dictionary lookup,
    with twenty thousand online as with two."""

    def __init__(self) -> None:
        self._counts: dict[str, int] = {}
        self._by_skeleton: dict[str, set[str]] = {}

    def add(self, name: str) -> None:
        count = self._counts.get(name, 0)
        self._counts[name] = count + 1
        if count == 0:
            self._by_skeleton.setdefault(skeleton(name), set()).add(name)

    def discard(self, name: str) -> None:
        count = self._counts.get(name, 0)
        if count > 1:
            self._counts[name] = count - 1
        elif count == 1:
            del self._counts[name]
            looks = skeleton(name)
            alike = self._by_skeleton[looks]
            alike.discard(name)
            if not alike:
                del self._by_skeleton[looks]

    def __contains__(self, name: object) -> bool:
        return name in self._counts

    def __len__(self) -> int:
        return len(self._counts)

    def passes_for(self, name: str) -> str | None:
        """A name among them this one could be taken for (same skeleton, not the same name)."""
        for other in self._by_skeleton.get(skeleton(name), ()):
            if other != name:
                return other
        return None
