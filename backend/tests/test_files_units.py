"""The parts of an upload, each alone: what a file is (sniffing), its name, the ranges of a
download, images made anew, and the multipart body as it streams in."""

from __future__ import annotations

import hashlib
import io
import struct
import zlib
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from PIL import Image, ImageSequence

from hubbub.files import images
from hubbub.files.names import content_disposition, safe_name
from hubbub.files.ranges import UnsatisfiableRangeError, byte_range
from hubbub.files.sniff import sniff
from hubbub.files.upload import spool_upload
from hubbub.model import UploadFormError, UploadRefusedError

# --- sniffing: the content says what a file is, never its name


@pytest.mark.parametrize(
    ("head", "kind"),
    [
        (b"%PDF-1.7\n", "application/pdf"),
        (b"PK\x03\x04\x14\x00", "application/zip"),
        (b"\x89PNG\r\n\x1a\n\x00\x00", "image/png"),
        (b"\xff\xd8\xff\xe0", "image/jpeg"),
        (b"GIF89a", "image/gif"),
        (b"RIFF\x00\x00\x00\x00WEBPVP8 ", "image/webp"),
        (b"MZ\x90\x00\x03", "application/vnd.microsoft.portable-executable"),
        (b"\x7fELF\x02\x01", "application/x-elf"),
        (b"  \n<!DOCTYPE html><p>hi", "text/html"),
        (b"<script>alert(1)</script>", "text/html"),
        (b"<?xml version='1.0'?><svg xmlns='http://www.w3.org/2000/svg'>", "image/svg+xml"),
        (b"<svg onload=alert(1)>", "image/svg+xml"),
        (b"<?xml version='1.0'?><feed/>", "application/xml"),
        ("plain text, ünïcödé too\n".encode(), "text/plain"),
        (b"\xef\xbb\xbfwith a BOM", "text/plain"),
        (b"\x00\x01\x02binary", "application/octet-stream"),
        (b"", "application/octet-stream"),
        (b"\xff\xfe\xfd not utf-8 \xc3", "text/plain"),  # a BOM (UTF-16)
        (b"caf\xe9 latin-1", "application/octet-stream"),
    ],
)
def test_sniff(head: bytes, kind: str) -> None:
    assert sniff(head) == kind


# --- names


@pytest.mark.parametrize(
    ("raw", "shown"),
    [
        ("../../etc/passwd", "passwd"),
        ("..\\..\\windows\\system32\\cmd.exe", "cmd.exe"),
        ("C:\\Users\\me\\report.pdf", "report.pdf"),
        ("con.txt", "_con.txt"),
        ("LPT1", "_LPT1"),
        ("nul.tar.gz", "_nul.tar.gz"),
        ("evil\u202egnp.exe", "evilgnp.exe"),  # would show as evilexe.png
        ("\u2067hidden\u2069.txt", "hidden.txt"),
        ("zero\u200bwidth.txt", "zerowidth.txt"),
        ("bell\x07and\x00nul.txt", "bellandnul.txt"),
        ("...hidden", "hidden"),
        ("trailing. . .", "trailing"),
        ('a<b>c:d"e|f?g*h.txt', "abcdefgh.txt"),
        ("  many   spaces\u3000.txt ", "many spaces .txt"),
        ("", "file"),
        (None, "file"),
        ("../..", "file"),
        ("e\u0301t\u00e9.txt", "\u00e9t\u00e9.txt"),  # NFC
        ("日本語のファイル.pdf", "日本語のファイル.pdf"),
    ],
)
def test_safe_name(raw: str | None, shown: str) -> None:
    assert safe_name(raw) == shown


def test_long_names_keep_their_extension() -> None:
    name = safe_name("ä" * 300 + ".tar")
    assert name.endswith(".tar") and len(name.encode()) <= 200
    assert safe_name("x" * 500) == "x" * 200


def test_content_disposition_rfc_6266() -> None:
    assert content_disposition("attachment", 'résumé; "final".pdf') == (
        "attachment; filename=\"r_sum__ _final_.pdf\"; filename*=UTF-8''r%C3%A9sum%C3%A9%3B%20%22final%22.pdf"
    )
    assert content_disposition("inline", "a.png") == "inline; filename=\"a.png\"; filename*=UTF-8''a.png"


# --- ranges


@pytest.mark.parametrize(
    ("header", "size", "span"),
    [
        (None, 100, None),
        ("bytes=0-9", 100, (0, 10)),
        ("bytes=90-", 100, (90, 100)),
        ("bytes=-10", 100, (90, 100)),
        ("bytes=-1000", 100, (0, 100)),
        ("bytes=50-5000", 100, (50, 100)),
        ("bytes=9-0", 100, None),  # invalid: the whole file
        ("bytes=0-1,5-6", 100, None),  # several: the whole file
        ("items=0-1", 100, None),
        ("bytes=-", 100, None),
    ],
)
def test_byte_range(header: str | None, size: int, span: tuple[int, int] | None) -> None:
    assert byte_range(header, size) == span


@pytest.mark.parametrize(("header", "size"), [("bytes=100-", 100), ("bytes=0-", 0), ("bytes=-0", 100)])
def test_unsatisfiable_ranges(header: str, size: int) -> None:
    with pytest.raises(UnsatisfiableRangeError):
        byte_range(header, size)


# --- images


def save(image: Image.Image, path: Path, kind: str, **options: object) -> Path:
    image.save(path, kind, **options)
    return path


def photo_with_gps(path: Path) -> Path:
    """A 300x200 photo, left half red, right half green, that its camera says to turn 90°
    clockwise (EXIF orientation 6), with a GPS position, a camera serial and a comment."""
    image = Image.new("RGB", (300, 200), "red")
    image.paste((0, 255, 0), (150, 0, 300, 200))
    exif = Image.Exif()
    exif[0x0112] = 6
    exif[0xA431] = "SERIAL-12345"
    exif[0x8825] = {1: "N", 2: (48.0, 51.0, 30.0), 3: "E", 4: (2.0, 17.0, 40.0)}
    return save(image, path, "JPEG", exif=exif.tobytes(), comment=b"<script>alert(1)</script>")


def test_a_photo_is_turned_upright_and_keeps_nothing_about_itself(tmp_path: Path) -> None:
    source = photo_with_gps(tmp_path / "photo")
    made = images.process(source, tmp_path, max_pixels=1_000_000)
    assert made is not None
    assert (made.type, made.width, made.height) == ("image/jpeg", 200, 300)
    served = made.image.read_bytes()
    for secret in (b"Exif", b"SERIAL-12345", b"<script", b"GPS"):
        assert secret not in served
    upright = Image.open(made.image)
    assert upright.size == (200, 300) and not upright.getexif()
    # Turned clockwise, the red left half is now on top.
    assert upright.getpixel((100, 50))[0] > 200 and upright.getpixel((100, 250))[1] > 200
    thumbnail = Image.open(made.thumbnail)
    assert thumbnail.format == "WEBP" and thumbnail.size == (200, 300)


def test_a_large_image_gets_a_small_thumbnail(tmp_path: Path) -> None:
    source = save(Image.new("RGBA", (2000, 1000), (0, 0, 255, 128)), tmp_path / "wide", "PNG")
    made = images.process(source, tmp_path, max_pixels=10_000_000)
    assert made is not None and (made.type, made.width, made.height) == ("image/png", 2000, 1000)
    thumbnail = Image.open(made.thumbnail)
    assert thumbnail.size == (images.THUMBNAIL_SIDE, images.THUMBNAIL_SIDE // 2)
    assert thumbnail.mode == "RGBA"  # transparency kept


def test_an_animation_keeps_its_frames_and_its_first_frame_is_the_thumbnail(tmp_path: Path) -> None:
    frames = [Image.new("RGB", (64, 48), color) for color in ("red", "lime", "blue")]
    source = tmp_path / "anim"
    frames[0].save(
        source,
        "GIF",
        save_all=True,
        append_images=frames[1:],
        duration=[100, 200, 300],
        loop=0,
        comment=b"secret",
    )
    made = images.process(source, tmp_path, max_pixels=1_000_000)
    assert made is not None and (made.type, made.width, made.height) == ("image/gif", 64, 48)
    served = Image.open(made.image)
    shown = [frame.convert("RGB").getpixel((5, 5)) for frame in ImageSequence.Iterator(served)]
    assert shown == [(255, 0, 0), (0, 255, 0), (0, 0, 255)]
    assert b"secret" not in made.image.read_bytes()
    first = Image.open(made.thumbnail).convert("RGB").getpixel((5, 5))
    assert first[0] > 200 and first[1] < 50 and first[2] < 50


def test_an_animated_webp(tmp_path: Path) -> None:
    frames = [Image.new("RGB", (40, 30), color) for color in ("red", "blue")]
    source = tmp_path / "anim.webp"
    frames[0].save(source, "WEBP", save_all=True, append_images=frames[1:], duration=100, loop=0)
    made = images.process(source, tmp_path, max_pixels=1_000_000)
    assert made is not None and (made.type, made.width, made.height) == ("image/webp", 40, 30)
    assert getattr(Image.open(made.image), "n_frames", 1) == 2


def png(width: int, height: int, rows: int | None = None, extra: bytes = b"", after: bytes = b"") -> bytes:
    """A greyscale PNG of that size whose pixels are all zero, made chunk by chunk (zero rows
    compress to almost nothing: a decompression bomb is a small file); with ``rows``, only that
    many rows of data follow its header."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    squeeze = zlib.compressobj(9)
    row = b"\x00" * (width + 1)
    data = b"".join(squeeze.compress(row) for _ in range(height if rows is None else rows)) + squeeze.flush()
    header = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + extra
        + chunk(b"IDAT", data)
        + chunk(b"IEND", b"")
        + after
    )


def test_a_decompression_bomb_is_refused_before_it_is_decoded(tmp_path: Path) -> None:
    source = tmp_path / "bomb"
    source.write_bytes(png(6000, 6000))  # 36 million pixels in about 36 KB
    assert source.stat().st_size < 100_000
    with pytest.raises(UploadRefusedError) as refused:
        images.process(source, tmp_path, max_pixels=32_000_000)
    assert refused.value.status == 422 and "32,000,000 pixels" in str(refused.value)
    # Far beyond: Pillow's own guard says so first; the answer is the same.
    source.write_bytes(png(100_000, 100_000, rows=1))
    with pytest.raises(UploadRefusedError):
        images.process(source, tmp_path, max_pixels=32_000_000)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["bomb"]  # nothing left behind


def test_an_animation_counts_every_frame(tmp_path: Path) -> None:
    frames = [Image.new("L", (100, 100), shade) for shade in range(0, 250, 10)]  # 25 frames
    source = tmp_path / "long"
    frames[0].save(source, "GIF", save_all=True, append_images=frames[1:])
    with pytest.raises(UploadRefusedError):
        images.process(source, tmp_path, max_pixels=200_000)  # 250,000 in all
    assert images.process(source, tmp_path, max_pixels=250_000) is not None


def test_a_polyglot_is_served_as_its_pixels_alone(tmp_path: Path) -> None:
    """A PNG that is also an HTML page (a text chunk and a tail after IEND): what is served is
    only the image."""
    script = b"<html><script>alert(document.cookie)</script></html>"
    text = struct.pack(">I", len(b"c\x00" + script)) + b"tEXt" + b"c\x00" + script
    text += struct.pack(">I", zlib.crc32(b"tEXt" + b"c\x00" + script))
    source = tmp_path / "polyglot"
    source.write_bytes(png(8, 8, extra=text, after=script))
    assert script in source.read_bytes()
    made = images.process(source, tmp_path, max_pixels=1_000_000)
    assert made is not None and made.type == "image/png"
    assert b"<script" not in made.image.read_bytes() and b"<html" not in made.image.read_bytes()


@pytest.mark.parametrize(
    "content",
    [
        b"<html><script>alert(1)</script></html>",
        b"\x89PNG\r\n\x1a\n" + b"\x00" * 40,  # a PNG's signature, then nothing of one
        b"GIF89a<svg onload=alert(1)>",
        b"",
    ],
)
def test_what_does_not_decode_is_no_image(tmp_path: Path, content: bytes) -> None:
    source = tmp_path / "forged.png"
    source.write_bytes(content)
    assert images.process(source, tmp_path, max_pixels=1_000_000) is None
    assert sorted(p.name for p in tmp_path.iterdir()) == ["forged.png"]


def test_a_truncated_jpeg_is_no_image(tmp_path: Path) -> None:
    whole = photo_with_gps(tmp_path / "whole").read_bytes()
    source = tmp_path / "cut"
    source.write_bytes(whole[: len(whole) // 2])
    assert images.process(source, tmp_path, max_pixels=1_000_000) is None


# --- the multipart body as it streams in

BOUNDARY = "----hubbub-test-boundary"
TYPE = f"multipart/form-data; boundary={BOUNDARY}"


def form(*parts: tuple[str, str | None, bytes], close: bool = True) -> bytes:
    body = b""
    for name, filename, content in parts:
        disposition = f'form-data; name="{name}"' + (
            f'; filename="{filename}"' if filename is not None else ""
        )
        body += (
            f"--{BOUNDARY}\r\nContent-Disposition: {disposition}\r\nContent-Type: image/png\r\n\r\n".encode()
        )
        body += content + b"\r\n"
    return body + (f"--{BOUNDARY}--\r\n".encode() if close else b"")


async def chunks(body: bytes, size: int = 7, fail_after: int | None = None) -> AsyncIterator[bytes]:
    """The body in small pieces (boundaries fall across them), or a client that goes away."""
    for at in range(0, len(body), size):
        if fail_after is not None and at >= fail_after:
            raise ConnectionResetError("the client went away")
        yield body[at : at + size]


async def test_the_file_streams_into_a_spool_file(tmp_path: Path) -> None:
    content = bytes(range(256)) * 40
    body = form(("note", None, b"ignored"), ("file", "ü.bin", content))
    spooled = await spool_upload(chunks(body), TYPE, tmp_path, limit=len(content), too_large="too large")
    assert spooled.path.read_bytes() == content
    assert (spooled.name, spooled.size) == ("ü.bin", len(content))
    assert spooled.digest == hashlib.sha256(content).hexdigest()
    assert spooled.head == content[:1445]


async def test_a_zero_byte_file(tmp_path: Path) -> None:
    spooled = await spool_upload(chunks(form(("file", "empty", b""))), TYPE, tmp_path, 10, "too large")
    assert spooled.size == 0 and spooled.path.read_bytes() == b""
    assert spooled.digest == hashlib.sha256(b"").hexdigest()


@pytest.mark.parametrize(
    ("body", "content_type", "refusal"),
    [
        (form(("file", "a", b"x" * 11)), TYPE, UploadRefusedError),
        (form(("file", "a", b"x"), ("file", "b", b"y")), TYPE, UploadFormError),
        (form(("other", "a", b"x")), TYPE, UploadFormError),
        (form(("file", None, b"x")), TYPE, UploadFormError),
        (form(("file", "a", b"x"), close=False), TYPE, UploadFormError),
        (form(*[("note", None, b"x")] * 5, ("file", "a", b"x")), TYPE, UploadFormError),
        (b"not a form at all", TYPE, UploadFormError),
        (form(("file", "a", b"x")), "application/json", UploadFormError),
        (form(("file", "a", b"x")), "multipart/form-data", UploadFormError),
        (b"--" + BOUNDARY.encode() + b"\r\nX-Long: " + b"h" * 10_000 + b"\r\n\r\n", TYPE, UploadFormError),
    ],
)
async def test_refused_forms_leave_nothing(
    tmp_path: Path, body: bytes, content_type: str, refusal: type[Exception]
) -> None:
    with pytest.raises(refusal):
        await spool_upload(chunks(body, size=1024), content_type, tmp_path, limit=10, too_large="too large")
    assert list(tmp_path.iterdir()) == []


async def test_an_interrupted_upload_leaves_nothing(tmp_path: Path) -> None:
    body = form(("file", "big", b"z" * 100_000))
    with pytest.raises(ConnectionResetError):
        await spool_upload(chunks(body, 1000, fail_after=50_000), TYPE, tmp_path, 1_000_000, "too large")
    assert list(tmp_path.iterdir()) == []


def test_pillow_is_the_one_deciding(tmp_path: Path) -> None:
    """The formats served inline are the four Pillow decodes here; WebP among them."""
    assert set(images.FORMATS.values()) == {"image/png", "image/jpeg", "image/gif", "image/webp"}
    buffer = io.BytesIO()
    Image.new("RGB", (2, 2)).save(buffer, "WEBP")
    assert Image.open(io.BytesIO(buffer.getvalue())).format == "WEBP"
