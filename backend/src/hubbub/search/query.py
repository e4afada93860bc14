"""The search language, parsed here and nowhere else: what people type becomes a SearchQuery,
which no database ever sees as text to interpret (docs/protocol.md, "Search").

    deploy staging              both words, anywhere in the message, in any case and accents
    "exact phrase"              the words in that order (an unclosed quote runs to the end)
    -draft  -"work in progress" without that word or phrase
    hot*                        a word starting with "hot" (hotel, hotfix; not "shot")
    from:alice  in:town         by alice; in the room town (either of several: from:a from:b)
    has:link  is:mentioned      with an http(s) link; mentioning you (or @room)
    before:2026-11-30  after:2026-11-01     dates, in the caller's time zone (excluded)

A word is matched as a substring of the message's folded text (fold.py): "dampfschiff" finds
"Donaudampfschifffahrt", "hotel" finds "Hôtel". Anything else (AND, OR, NEAR, parentheses, a
colon after an unknown word, a lone "*") is text to find, like any other word.
"""

from __future__ import annotations

import dataclasses
import datetime
from collections.abc import Iterator
from dataclasses import dataclass, field

from hubbub.model import SearchQueryError
from hubbub.search.fold import fold
from hubbub.search.terms import KINDS

MAX_QUERY_CHARS = 500
MAX_TERMS = 32  # words, phrases, exclusions and operators together
MAX_TERM_CHARS = 100  # folded
DAY_MS = 86_400_000


@dataclass(frozen=True, slots=True)
class Term:
    text: str  # folded
    prefix: bool = False  # term*: only where a word starts

    def found_in(self, folded: str) -> bool:
        return next(self.occurrences(folded), None) is not None

    def occurrences(self, folded: str) -> Iterator[int]:
        """Where the term starts in the folded text, left to right, not overlapping."""
        at = folded.find(self.text)
        while at >= 0:
            if not self.prefix or at == 0 or not folded[at - 1].isalnum():
                yield at
                at = folded.find(self.text, at + len(self.text))
            else:
                at = folded.find(self.text, at + 1)


@dataclass(frozen=True, slots=True)
class SearchQuery:
    include: tuple[Term, ...] = ()  # all of them
    exclude: tuple[Term, ...] = ()  # none of them
    authors: frozenset[str] = field(default_factory=frozenset)  # any of them; empty: anyone
    rooms: frozenset[str] = field(default_factory=frozenset)  # any of them; empty: every room
    has: frozenset[str] = field(default_factory=frozenset)  # all of these kinds (terms.KINDS)
    mentioned: bool = False  # mentions the caller, or @room
    after: int | None = None  # ts >= after (ms since the epoch)
    before: int | None = None  # ts < before

    def matches(self, folded: str) -> bool:
        """Whether a message's folded text is what the words ask for (the operators are the
        database's to check)."""
        return all(t.found_in(folded) for t in self.include) and not any(
            t.found_in(folded) for t in self.exclude
        )

    def in_rooms(self, rooms: frozenset[str]) -> SearchQuery:
        return dataclasses.replace(self, rooms=rooms)

    @property
    def empty(self) -> bool:
        """Nothing asked for at all."""
        return not (
            self.include or self.exclude or self.authors or self.rooms or self.has or self.mentioned
        ) and (self.after is None and self.before is None)


def _words(text: str) -> list[tuple[bool, bool, str]]:
    """(negated, quoted, text) for each piece of the query, in order."""
    pieces: list[tuple[bool, bool, str]] = []
    i, n = 0, len(text)
    while i < n:
        if text[i].isspace():
            i += 1
            continue
        negated = text[i] == "-" and i + 1 < n and not text[i + 1].isspace()
        if negated:
            i += 1
        if text[i] == '"':
            end = text.find('"', i + 1)
            end = n if end < 0 else end
            pieces.append((negated, True, text[i + 1 : end]))
            i = end + 1
            continue
        start = i
        while i < n and not text[i].isspace():
            i += 1
        pieces.append((negated, False, text[start:i]))
    return pieces


def _date(key: str, value: str, offset_minutes: int) -> int:
    """The start of that day in the caller's time zone, in ms since the epoch."""
    try:
        day = datetime.date.fromisoformat(value)
    except ValueError:
        raise SearchQueryError(f"{key}: takes a date like 2026-11-30") from None
    if len(value) != 10:
        raise SearchQueryError(f"{key}: takes a date like 2026-11-30")
    midnight = datetime.datetime(day.year, day.month, day.day, tzinfo=datetime.UTC)
    return int(midnight.timestamp() * 1000) - offset_minutes * 60_000


def parse(text: str, offset_minutes: int = 0) -> SearchQuery:
    """The query in ``text``; ``offset_minutes`` is the caller's time zone (east of UTC) for
    dates. Raises SearchQueryError, saying what is wrong, for a query that is too long, has too
    many terms, an operator with a value it does not take, or nothing to search for."""
    if len(text) > MAX_QUERY_CHARS:
        raise SearchQueryError(f"a search is at most {MAX_QUERY_CHARS} characters")
    # Control characters (NUL included) separate words, as they fold to spaces in messages.
    text = "".join(" " if ch < " " or ch == "\x7f" else ch for ch in text)
    pieces = _words(text)
    if len(pieces) > MAX_TERMS:
        raise SearchQueryError(f"a search has at most {MAX_TERMS} words and operators")
    include: list[Term] = []
    exclude: list[Term] = []
    authors: set[str] = set()
    rooms: set[str] = set()
    has: set[str] = set()
    mentioned = False
    after: int | None = None
    before: int | None = None
    for negated, quoted, piece in pieces:
        key, colon, value = piece.partition(":")
        key = key.lower()
        if not quoted and colon and value and key in OPERATORS:
            if negated:
                raise SearchQueryError(f"-{key}: is not supported: leave {key}: out instead")
            if key == "from":
                authors.add(value.removeprefix("@"))
            elif key == "in":
                rooms.add(value.removeprefix("#").lower())
            elif key == "has":
                if value.lower() not in KINDS:
                    raise SearchQueryError(f"has: takes {', '.join(KINDS)}")
                has.add(value.lower())
            elif key == "is":
                if value.lower() != "mentioned":
                    raise SearchQueryError("is: takes mentioned")
                mentioned = True
            elif key == "before":
                day = _date(key, value, offset_minutes)
                before = day if before is None else min(before, day)
            else:  # after: from the start of the next day
                day = _date(key, value, offset_minutes) + DAY_MS
                after = day if after is None else max(after, day)
            continue
        prefix = not quoted and len(piece) > 1 and piece.endswith("*")
        folded = fold(piece.rstrip("*") if prefix else piece).strip()
        if not folded:
            continue
        if len(folded) > MAX_TERM_CHARS:
            raise SearchQueryError(f"a word or phrase is at most {MAX_TERM_CHARS} characters")
        (exclude if negated else include).append(Term(folded, prefix))
    query = SearchQuery(
        tuple(dict.fromkeys(include)),
        tuple(dict.fromkeys(exclude)),
        frozenset(authors),
        frozenset(rooms),
        frozenset(has),
        mentioned,
        after,
        before,
    )
    if query.empty:
        raise SearchQueryError("nothing to search for")
    return query


OPERATORS = frozenset({"from", "in", "has", "is", "before", "after"})
