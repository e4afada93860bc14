"""Where a message matches a search, as offsets into its body for the client to mark: no HTML
comes from the server, and the client escapes nothing twice.

Offsets count UTF-16 code units, as JavaScript strings do (``body.slice(start, start +
length)`` is the marked text). A match covers whole characters of the original: where folding
made several characters of one ("ß" -> "ss") or one of several ("e" and a combining accent),
the mark takes all of the original's.
"""

from __future__ import annotations

from hubbub.search.fold import fold_mapped, utf16_offsets
from hubbub.search.query import SearchQuery

MAX_MARKS = 50  # per message: enough to see where, without a body's worth of numbers


def marks(body: str, query: SearchQuery) -> list[tuple[int, int]]:
    """[(start, length), ...] of the body's matches of the query's words and phrases (not its
    exclusions), in order, merged where they touch or overlap."""
    if not query.include or not body:
        return []
    folded, spans = fold_mapped(body)
    found: list[tuple[int, int]] = []  # code point [start, end) in the body
    for term in query.include:
        for at in term.occurrences(folded):
            found.append((spans[at][0], spans[at + len(term.text) - 1][1]))
    found.sort()
    merged: list[tuple[int, int]] = []
    for start, end in found:
        if merged and start <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(merged[-1][1], end))
        else:
            merged.append((start, end))
    units = utf16_offsets(body)
    return [(units[start], units[end] - units[start]) for start, end in merged[:MAX_MARKS]]
