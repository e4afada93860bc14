"""What a file is, from its first bytes: never from its name or from what the client says.

The patterns are those of the WHATWG MIME Sniffing standard (sections 6 and 7: archives,
audio and video, images, HTML, XML, PDF, text), plus executables; anything else is
application/octet-stream. The type is what a message shows of a file; it decides nothing
about how the file is served: only images the server decoded itself (images.py) are served
inline, everything else as an attachment of type application/octet-stream.
"""

from __future__ import annotations

SAMPLE = 1445  # bytes the standard reads to decide ("resource header")
OCTETS = "application/octet-stream"

# (pattern, offset, type): the pattern at that offset.
SIGNATURES: tuple[tuple[bytes, int, str], ...] = (
    (b"%PDF-", 0, "application/pdf"),
    (b"%!PS-Adobe-", 0, "application/postscript"),
    (b"PK\x03\x04", 0, "application/zip"),
    (b"\x1f\x8b\x08", 0, "application/gzip"),
    (b"Rar!\x1a\x07", 0, "application/vnd.rar"),
    (b"7z\xbc\xaf\x27\x1c", 0, "application/x-7z-compressed"),
    (b"ustar", 257, "application/x-tar"),
    (b"\x89PNG\r\n\x1a\n", 0, "image/png"),
    (b"\xff\xd8\xff", 0, "image/jpeg"),
    (b"GIF87a", 0, "image/gif"),
    (b"GIF89a", 0, "image/gif"),
    (b"BM", 0, "image/bmp"),
    (b"\x00\x00\x01\x00", 0, "image/x-icon"),
    (b"II*\x00", 0, "image/tiff"),
    (b"MM\x00*", 0, "image/tiff"),
    (b"ID3", 0, "audio/mpeg"),
    (b"OggS\x00", 0, "application/ogg"),
    (b"fLaC", 0, "audio/flac"),
    (b"\x1a\x45\xdf\xa3", 0, "video/webm"),
    (b"MZ", 0, "application/vnd.microsoft.portable-executable"),
    (b"\x7fELF", 0, "application/x-elf"),
    (b"\xcf\xfa\xed\xfe", 0, "application/x-mach-binary"),
    (b"\xce\xfa\xed\xfe", 0, "application/x-mach-binary"),
    (b"\xca\xfe\xba\xbe", 0, "application/java-vm"),
    (b"\x00asm", 0, "application/wasm"),
)
RIFF = {b"WEBP": "image/webp", b"WAVE": "audio/wav", b"AVI ": "video/x-msvideo"}
# The standard's HTML patterns: after leading whitespace, case-insensitive, then a space or ">".
HTML_TAGS = (
    b"<!doctype html",
    b"<html",
    b"<head",
    b"<script",
    b"<iframe",
    b"<h1",
    b"<div",
    b"<font",
    b"<table",
    b"<a",
    b"<style",
    b"<title",
    b"<b",
    b"<body",
    b"<br",
    b"<p",
    b"<!--",
)
BOMS = (b"\xef\xbb\xbf", b"\xfe\xff", b"\xff\xfe")
# Bytes that no text file has (the standard's "binary data bytes").
BINARY = frozenset([*range(0x00, 0x09), 0x0B, *range(0x0E, 0x1B), *range(0x1C, 0x20)])


def sniff(head: bytes) -> str:
    """The type of a file that starts with ``head`` (its first SAMPLE bytes, or all of it)."""
    if not head:
        return OCTETS
    for pattern, offset, kind in SIGNATURES:
        if head[offset : offset + len(pattern)] == pattern:
            return kind
    if head[:4] == b"RIFF" and head[8:12] in RIFF:
        return RIFF[head[8:12]]
    if head[4:8] == b"ftyp":
        return "video/mp4"
    if any(head.startswith(bom) for bom in BOMS):
        return "text/plain"
    if any(byte in BINARY for byte in head):
        return OCTETS
    text = head.lstrip(b" \t\n\r\x0c").lower()
    if text.startswith(b"<?xml") or text.startswith(b"<svg"):
        return "image/svg+xml" if b"<svg" in text else "application/xml"
    for tag in HTML_TAGS:
        if text.startswith(tag) and (tag == b"<!--" or text[len(tag) : len(tag) + 1] in (b" ", b">")):
            return "text/html"
    return "text/plain" if _utf8_or_ascii(head) else OCTETS


def _utf8_or_ascii(head: bytes) -> bool:
    """Text in UTF-8 (the sample may cut its last character in two)."""
    for cut in range(4):
        try:
            head[: len(head) - cut].decode()
            return True
        except UnicodeDecodeError:
            continue
    return False
