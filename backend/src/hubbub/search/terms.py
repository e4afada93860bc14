"""What the search index holds for a message, the same in both databases: the grams of its
folded text, and a few terms for the operators.

- Every run of three characters (trigrams, spaces and punctuation included): a term of three
  characters or more is found through them, wherever it is in a word ("dampfschiff" in
  "donaudampfschifffahrt").
- In scripts written without spaces between words (Chinese, Japanese, Korean, Thai, Lao, Khmer,
  Myanmar: ``unspaced``), every character and every pair of adjacent ones too: their words of
  one or two characters (上海, 会議, 猫) are found through the index like longer ones. A term
  of one or two characters in other scripts ("ok", "c#") has no gram: the index cannot narrow
  the search by it, and the search reads the folded text instead (work/search.py).
- The author, the room, and what the message has (``KINDS``: a link) as terms of their own,
  so that `from:`, `in:` and `has:` are found through the index as well.

Every one of these terms is kept under the document's **scope** (``scoped``): ``PUBLIC_SCOPE``
for a message of a public room, else its room's name (a private room, a DM). A search asks the
index only for the terms of the scopes its reader may read, so it never reads a posting list of
a room they may not read: a word only there answers exactly as fast as a word nowhere (issue
25). The meta terms are scoped too: an unscoped ``from:`` term would read that author's
postings in every room, and its length is what a non-member could time. The price is size:
each room has its own key for each of its grams (bench/search.py, 100,000 messages in 1,000
rooms: SQLite's FTS5 table 35.5 MB before scopes, 49.8 MB with them; PostgreSQL's table and
GIN index 93 MB, 243 MB).
"""

from __future__ import annotations

import bisect

from hubbub.model import StoredMessage

# Code point ranges of the scripts written without spaces between words.
UNSPACED_RANGES = (
    (0x0E00, 0x0EFF),  # Thai, Lao
    (0x1000, 0x109F),  # Myanmar
    (0x1100, 0x11FF),  # Hangul jamo
    (0x1780, 0x17FF),  # Khmer
    (0x2E80, 0x2FDF),  # CJK radicals, Kangxi radicals
    (0x3005, 0x3007),  # iteration mark, closing mark, ideographic zero
    (0x3021, 0x3029),  # Hangzhou numerals
    (0x3031, 0x3035),  # kana repeat marks
    (0x303B, 0x303C),
    (0x3040, 0x30FF),  # Hiragana, Katakana
    (0x3100, 0x31FF),  # Bopomofo, Hangul compatibility jamo, Kanbun, strokes, Katakana ext.
    (0x3400, 0x4DBF),  # CJK extension A
    (0x4E00, 0x9FFF),  # CJK unified ideographs
    (0xA960, 0xA97F),  # Hangul jamo extended A
    (0xAC00, 0xD7FF),  # Hangul syllables, jamo extended B
    (0xF900, 0xFAFF),  # CJK compatibility ideographs
    (0x1B000, 0x1B16F),  # Kana supplement and extended
    (0x20000, 0x3134F),  # CJK extensions B-G
)
_STARTS = [low for low, _high in UNSPACED_RANGES]
KINDS = ("link", "file")  # has:link, has:file
# Not an operator (has: takes KINDS only): the documents of public rooms carry it in their
# kinds (hubbub_search_docs.kinds), which is how a document's scope is known (``scope_of``).
PUBLIC_KIND = "public"
# Terms that are not grams start with a character folded text never has (control characters
# fold to spaces), so they cannot be mistaken for one.
META = "\x01"
AUTHOR, ROOM, KIND, SCOPE = META + "a", META + "r", META + "k", META + "s"
# The scope of the public rooms' documents: "*" is not a character of a room name
# (settings.ROOM_NAME_PATTERN), so no room, not even one named "public", shares it.
PUBLIC_SCOPE = "*"


def unspaced(ch: str) -> bool:
    code = ord(ch)
    at = bisect.bisect_right(_STARTS, code) - 1
    return at >= 0 and code <= UNSPACED_RANGES[at][1]


def grams(folded: str) -> set[str]:
    """The grams of a folded text: its trigrams, and in unspaced scripts its characters and
    pairs of characters."""
    found = {folded[i : i + 3] for i in range(len(folded) - 2)}
    if not folded.isascii():
        previous = False
        for i, ch in enumerate(folded):
            if unspaced(ch):
                found.add(ch)
                if previous:
                    found.add(folded[i - 1 : i + 1])
                previous = True
            else:
                previous = False
    return found


def term_grams(term: str) -> set[str]:
    """Grams every text containing the (folded) term has; empty when the term is too short to
    have any (one or two characters, not all of an unspaced script)."""
    if len(term) >= 3:
        return {term[i : i + 3] for i in range(len(term) - 2)}
    if term and all(unspaced(ch) for ch in term):
        return {term}
    return set()


def kinds(message: StoredMessage, folded: str) -> tuple[str, ...]:
    """What the message has, for has:. A link: an http(s) URL in its text (what the UI makes a
    link of); a file: one attached (an edit keeps them, a delete takes them away)."""
    found: list[str] = []
    if "http://" in folded or "https://" in folded:
        found.append("link")
    if message.files:
        found.append("file")
    return tuple(found)


def meta_terms(author: str, room: str, has: tuple[str, ...]) -> list[str]:
    return [AUTHOR + author, ROOM + room, *(KIND + kind for kind in has if kind != PUBLIC_KIND)]


def scope_of(room: str, has: tuple[str, ...]) -> str:
    """A document's scope: PUBLIC_SCOPE for a public room's (a room's visibility never
    changes), else its room."""
    return PUBLIC_SCOPE if PUBLIC_KIND in has else room


def scoped(scope: str, term: str) -> str:
    """A term (a gram or a meta term) of one scope; ``scoped(scope, "")`` is every document of
    the scope. SCOPE, the scope, META, the term: a scope has no META in it (room names are
    a-z, 0-9, "_" and "-"), so where the scope ends is never in doubt, and as a scoped term
    starts with SCOPE it is never a gram (no control character) nor another meta term."""
    return SCOPE + scope + META + term


def document_terms(folded: str, author: str, room: str, has: tuple[str, ...]) -> list[str]:
    """Every term of a document, sorted: its grams and meta terms, and the scope's own term,
    each under its scope."""
    scope = scope_of(room, has)
    found = grams(folded)
    found.update(meta_terms(author, room, has))
    found.add("")
    return sorted(scoped(scope, term) for term in found)
