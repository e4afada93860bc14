"""Folding: the form of a text that search compares, so that "hotel" finds "Hôtel", "strasse"
finds "Straße" and "abc" finds the same letters written full-width, in every script.

``fold(text)`` is, in order: every run of whitespace and control characters becomes one space;
compatibility decomposition (NFKD: "ﬁ" -> "fi", full-width -> ASCII, "²" -> "2"); the marks
that are accents are dropped (the combining diacritical blocks, which Latin, Greek and
Cyrillic use; Hebrew points; Arabic vowel marks), with the variation selectors and the
invisible format characters (soft hyphen, zero-width space, direction marks; not the
zero-width joiner, which emoji are made of); full case folding ("ß" -> "ss"); and canonical
composition (NFC), so that what stays composed stays one character ("が" remains "が", not
"か" and a mark). Marks that are letters of their script (Thai vowels, Devanagari signs, kana
voicing) stay: dropping them would merge different words.

The folded text is made of the folds of the original's *clusters* (a character and the marks
that follow it; a whitespace run), one after another, so each folded character comes from one
cluster of the original: ``fold_mapped`` says which, for the match offsets (marks.py). Both
give the same text (tests/test_search_text.py checks it on generated text).
"""

from __future__ import annotations

import functools
import re
import sys
import unicodedata

# Marks and invisible characters that fold away.
_ACCENT_RANGES = (
    (0x0300, 0x036F),  # combining diacritical marks
    (0x0591, 0x05C7),  # Hebrew points and accents (the marks among them)
    (0x0610, 0x061A),  # Arabic signs
    (0x064B, 0x065F),  # Arabic vowel marks (harakat)
    (0x0670, 0x0670),
    (0x1AB0, 0x1AFF),  # combining diacritical marks extended
    (0x1DC0, 0x1DFF),  # ... supplement
    (0x20D0, 0x20FF),  # ... for symbols
    (0xFE20, 0xFE2F),  # combining half marks
)
_INVISIBLE = (
    0x00AD,
    0x200B,
    0x200C,
    0x200E,
    0x200F,
    0xFEFF,
    *range(0x202A, 0x202F),
    *range(0x2060, 0x2065),
    *range(0x2066, 0x206A),
    *range(0xFE00, 0xFE10),  # variation selectors
    *range(0xE0100, 0xE01F0),
)
_DROP: dict[int, None] = {cp: None for cp in _INVISIBLE}
for _low, _high in _ACCENT_RANGES:
    for _cp in range(_low, _high + 1):
        if unicodedata.category(chr(_cp)) == "Mn":
            _DROP[_cp] = None


def _is_space(ch: str) -> bool:
    return ch.isspace() or unicodedata.category(ch) == "Cc"


_SPACES = "".join(chr(cp) for cp in range(sys.maxunicode + 1) if _is_space(chr(cp)))
_SPACE_RUN = re.compile(f"[{re.escape(_SPACES)}]+")
# What continues a cluster: marks, what decomposes into one (half-width kana voicing), and the
# vowel and final jamo that compose with the Hangul before them. Everything else starts a new
# cluster, so composing never crosses one.
_JAMO_VT = (0x1160, 0x11FF)


@functools.lru_cache(maxsize=4096)
def _continues(ch: str) -> bool:
    if ch.isascii():
        return False
    first = unicodedata.normalize("NFKD", ch)[:1] or ch
    return (
        unicodedata.category(ch)[0] == "M"
        or unicodedata.category(first)[0] == "M"
        or _JAMO_VT[0] <= ord(first) <= _JAMO_VT[1]
    )


def _fold_piece(text: str) -> str:
    """The fold of text whose whitespace is folded already (one cluster, or many)."""
    if text.isascii():
        return text.lower()
    decomposed = unicodedata.normalize("NFKD", text).translate(_DROP).casefold()
    # Case folding can make characters that decompose further ("İ" is folded before it).
    return unicodedata.normalize("NFC", unicodedata.normalize("NFKD", decomposed).translate(_DROP))


def fold(text: str) -> str:
    """The folded form of the text (see the module's docstring)."""
    return _fold_piece(_SPACE_RUN.sub(" ", text))


def fold_mapped(text: str) -> tuple[str, list[tuple[int, int]]]:
    """The folded text, and for each of its characters the span [start, end) of code points of
    the original it comes from (a cluster, or a run of whitespace)."""
    out: list[str] = []
    spans: list[tuple[int, int]] = []
    i, n = 0, len(text)
    while i < n:
        j = i + 1
        if _is_space(text[i]):
            while j < n and _is_space(text[j]):
                j += 1
            piece = " "
        else:
            while j < n and _continues(text[j]) and not _is_space(text[j]):
                j += 1
            piece = _fold_piece(text[i:j])
        out.append(piece)
        spans.extend([(i, j)] * len(piece))
        i = j
    return "".join(out), spans


def utf16_offsets(text: str) -> list[int]:
    """For each code point index 0..len(text), its offset in UTF-16 code units (what a
    JavaScript string's indices count)."""
    offsets = [0] * (len(text) + 1)
    at = 0
    for index, ch in enumerate(text):
        offsets[index] = at
        at += 2 if ord(ch) > 0xFFFF else 1
    offsets[len(text)] = at
    return offsets
