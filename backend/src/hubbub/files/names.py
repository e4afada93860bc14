"""A file's name as people see it and as a download is saved: the name the client gave, made
safe to show and to save on any system. The name never reaches the file system here (files are
stored by digest); this is for the people who see it and the computers that save it.

- a path (``../../etc/passwd``, ``C:\\x\\y.txt``) keeps its last part only;
- control characters, and the characters that reorder text (RTL overrides: ``evil\\u202egnp.exe``
  would show as ``evilexe.png``), zero-width and other invisible ones are dropped;
- leading dots (hidden files) and trailing dots and spaces (Windows drops them) go;
- Windows' reserved names (``con.txt``, ``LPT1``) get an underscore in front;
- at most MAX_NAME_BYTES of UTF-8, the extension kept.
"""

from __future__ import annotations

import re
import unicodedata
from urllib.parse import quote

MAX_NAME_BYTES = 200
FALLBACK = "file"
RESERVED = re.compile(r"(con|prn|aux|nul|com[0-9¹²³]|lpt[0-9¹²³])(\..*)?", re.IGNORECASE)
# Text direction marks, embeddings, overrides and isolates; Unicode's other invisible formatting.
BIDI = frozenset("\u061c\u200e\u200f\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")
FORBIDDEN = frozenset('<>:"/\\|?*')  # what Windows refuses in a name


def safe_name(raw: str | None) -> str:
    if not raw:
        return FALLBACK
    name = unicodedata.normalize("NFC", raw)
    name = re.split(r"[/\\]", name)[-1]
    name = "".join(c for c in name if _shown(c))
    name = " ".join(name.split())  # runs of spaces of any kind: one space
    name = name.lstrip(". ").rstrip(". ")
    if RESERVED.fullmatch(name):
        name = "_" + name
    name = _shorten(name)
    return name or FALLBACK


def _shown(char: str) -> bool:
    if char in BIDI or char in FORBIDDEN:
        return False
    category = unicodedata.category(char)
    # Cc control, Cf format (zero-width and the like), Cs surrogates, Co private use, Cn unassigned
    return not category.startswith("C")


def _shorten(name: str) -> str:
    if len(name.encode()) <= MAX_NAME_BYTES:
        return name
    stem, dot, extension = name.rpartition(".")
    if not dot or len(extension.encode()) > 16:
        stem, extension = name, ""
    keep = MAX_NAME_BYTES - len(extension.encode()) - (1 if extension else 0)
    stem = stem.encode()[:keep].decode(errors="ignore").rstrip(". ")
    return f"{stem}.{extension}" if extension else stem


def content_disposition(disposition: str, name: str) -> str:
    """RFC 6266: an ASCII fallback for old clients, and the real name as filename* (RFC 8187)."""
    fallback = "".join(c if 0x20 <= ord(c) < 0x7F and c not in '"\\%;' else "_" for c in name) or FALLBACK
    return f"{disposition}; filename=\"{fallback}\"; filename*=UTF-8''{quote(name, safe='')}"
