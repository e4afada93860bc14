"""The Range header of a download (RFC 9110, 14): one range of bytes, or the whole file."""

from __future__ import annotations

import re

RANGE_RE = re.compile(r"bytes=(\d*)-(\d*)")


class UnsatisfiableRangeError(ValueError):
    """A range that starts past the end of the file: 416."""


def byte_range(header: str | None, size: int) -> tuple[int, int] | None:
    """(start, end), end exclusive, of the one range asked for; None for the whole file (no
    header, a header this does not serve such as several ranges, or a malformed one: RFC 9110
    lets a server ignore those). UnsatisfiableRangeError for one that starts past the end."""
    if header is None:
        return None
    match = RANGE_RE.fullmatch(header.strip())
    if match is None:
        return None
    first, last = match.groups()
    if not first:
        if not last:
            return None
        suffix = int(last)  # the last n bytes
        if suffix == 0:
            raise UnsatisfiableRangeError(header)
        return max(0, size - suffix), size
    start = int(first)
    end = size if not last else min(int(last) + 1, size)
    if last and int(last) < start:
        return None  # invalid: ignored
    if start >= size:
        raise UnsatisfiableRangeError(header)
    return start, end
