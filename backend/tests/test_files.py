"""Files over real HTTP and WebSockets: uploads, messages that carry them, downloads and
thumbnails, for exactly those who may read the room; in both stores, with one worker and with
two sharing a data directory (the shared volume) and fanning out through Redis; and with the
files in a real S3-compatible server."""

from __future__ import annotations

import asyncio
import io
import json
import socket
import struct
import zlib
from pathlib import Path
from typing import Any

import httpx
import pytest
from PIL import Image

from tests.conftest import ServerFactory
from tests.isolation import unique
from tests.people import TOKENS, As, same_as_missing, servers
from tests.services import HubbubServer, SeaweedS3, until

__all__ = ["servers"]  # a fixture

MISSING_ID = "0" * 32
SANDBOX = "sandbox; default-src 'none'"


def upload(
    actor: As, room: str, name: str, content: bytes, claimed: str = "application/octet-stream"
) -> httpx.Response:
    return httpx.post(
        f"{actor.server.url}/api/rooms/{room}/files",
        files={"file": (name, content, claimed)},
        headers=actor.headers,
        timeout=30,
    )


def uploaded(
    actor: As, room: str, name: str, content: bytes, claimed: str = "application/octet-stream"
) -> dict[str, Any]:
    answer = upload(actor, room, name, content, claimed)
    assert answer.status_code == 201, answer.text
    made: dict[str, Any] = answer.json()
    return made


def photo(width: int = 320, height: int = 240, color: str = "orange") -> bytes:
    """A JPEG whose camera says to turn it (EXIF orientation 6) and where it was taken."""
    exif = Image.Exif()
    exif[0x0112] = 6
    exif[0x8825] = {1: "N", 2: (48.0, 51.0, 30.0)}
    buffer = io.BytesIO()
    Image.new("RGB", (width, height), color).save(buffer, "JPEG", exif=exif.tobytes())
    return buffer.getvalue()


def room_with(owner: As, members: list[str], visibility: str = "private") -> str:
    name = unique("files")
    made = owner.post("/api/rooms", {"name": name, "visibility": visibility})
    assert made.status_code == 201, made.text
    for user in members:
        assert owner.post(f"/api/rooms/{name}/members", {"user": user}).status_code == 201
    return name


def blobs(data_dir: Path) -> list[Path]:
    root = data_dir / "files"
    return [p for p in root.glob("??/??/*") if p.is_file()] if root.exists() else []


def staged(data_dir: Path) -> list[Path]:
    staging = data_dir / "files" / ".staging"
    return list(staging.iterdir()) if staging.exists() else []


async def test_files_travel_with_messages(servers: tuple[HubbubServer, HubbubServer]) -> None:
    """Uploaded on one worker, sent from a socket on the other, in frames, history and a resume,
    downloaded from both; gone with the message."""
    a, b = servers
    olga, mike = As(a, "olga"), As(b, "mike")
    room = room_with(olga, ["mike"])
    image = uploaded(olga, room, "holiday.jpg", photo())
    notes = uploaded(olga, room, "notes.txt", b"plain words\n", claimed="image/png")
    assert (image["type"], image["width"], image["height"]) == ("image/jpeg", 240, 320)  # turned upright
    assert (notes["type"], notes["width"], notes["height"], notes["size"]) == ("text/plain", None, None, 12)

    olga_ws, mike_ws = await olga.socket(), await mike.socket()
    await olga_ws.join(room)
    joined = await mike_ws.join(room)
    await olga_ws.send(type="send", room=room, body="", client_msg_id="c1", files=[image["id"], notes["id"]])
    ack = await olga_ws.expect("ack")
    (live,) = await mike_ws.messages(1, room=room)
    assert live["files"] == [image, notes] and live["body"] == ""
    history = mike.get(f"/api/rooms/{room}/messages").json()["messages"]
    assert history[-1]["files"] == [image, notes]
    resumed = await mike.socket()
    await resumed.join(room, after=joined["head"])
    assert (await resumed.messages(1, room=room))[0]["files"] == [image, notes]

    for reader, worker in ((mike, a), (mike, b), (olga, b)):
        got = httpx.get(f"{worker.url}/api/files/{image['id']}", headers=reader.headers)
        assert got.status_code == 200 and got.headers["content-type"] == "image/jpeg"
        assert Image.open(io.BytesIO(got.content)).size == (240, 320) and b"Exif" not in got.content
        thumbnail = httpx.get(f"{worker.url}/api/files/{image['id']}/thumbnail", headers=reader.headers)
        assert thumbnail.status_code == 200 and Image.open(io.BytesIO(thumbnail.content)).format == "WEBP"
        text = httpx.get(f"{worker.url}/api/files/{notes['id']}", headers=reader.headers)
        assert text.content == b"plain words\n"
        assert text.headers["content-type"] == "application/octet-stream"

    # The same id again in another message: attached already, it is nobody's to attach.
    await olga_ws.send(type="send", room=room, body="again", client_msg_id="c2", files=[image["id"]])
    error = await olga_ws.expect("error")
    assert (error["code"], error["ref"], error["message"]) == (
        "unknown_file",
        "c2",
        f"no file {image['id']!r}",
    )

    await olga_ws.send(type="delete", room=room, id=ack["id"], ref="d1")
    await olga_ws.expect("applied")
    deleted = await mike_ws.expect("message_deleted")
    assert deleted["id"] == ack["id"]
    missing = mike.get(f"/api/files/{MISSING_ID}")
    for path in (
        f"/api/files/{image['id']}",
        f"/api/files/{image['id']}/thumbnail",
        f"/api/files/{notes['id']}",
    ):
        for reader in (mike, olga):
            assert same_as_missing(reader.get(path), path.split("/")[3], missing, MISSING_ID)
    assert mike.get(f"/api/rooms/{room}/messages").json()["messages"][-1]["files"] == []
    for ws in (olga_ws, mike_ws, resumed):
        await ws.close()


async def test_the_access_matrix(servers: tuple[HubbubServer, HubbubServer]) -> None:
    """Member, non-member, removed member, admin not a member: over upload, download and
    thumbnail. Whoever may not read the room gets the answer of an id nobody uploaded."""
    a, b = servers
    olga, mike, rita = As(a, "olga"), As(b, "mike"), As(a, "rita")
    room = room_with(olga, ["mike", "rita"])
    image = uploaded(olga, room, "plan.png", photo(64, 48))
    # Before it is sent, it is olga's alone.
    missing_file = mike.get(f"/api/files/{MISSING_ID}")
    assert same_as_missing(mike.get(f"/api/files/{image['id']}"), image["id"], missing_file, MISSING_ID)
    assert olga.get(f"/api/files/{image['id']}").status_code == 200
    async with asyncio.timeout(30):
        ws = await olga.socket()
        await ws.join(room)
        await ws.send(type="send", room=room, body="the plan", client_msg_id="p1", files=[image["id"]])
        await ws.expect("ack")
        await ws.close()
    assert olga.delete(f"/api/rooms/{room}/members/rita").status_code == 204

    readers = {"olga (uploader)": olga, "mike (member)": mike}
    outsiders = {"nina (non-member)": As(b, "nina"), "rita (removed)": rita, "adam (admin)": As(b, "adam")}
    for who, actor in readers.items():
        for path in (f"/api/files/{image['id']}", f"/api/files/{image['id']}/thumbnail"):
            assert actor.get(path).status_code == 200, (who, path)
        assert upload(actor, room, "mine.txt", b"hi").status_code == 201, who
    missing_room = upload(olga, "nosuch", "x.txt", b"x")
    assert missing_room.status_code == 404
    for who, actor in outsiders.items():
        for path in (f"/api/files/{image['id']}", f"/api/files/{image['id']}/thumbnail"):
            missing = actor.get(path.replace(image["id"], MISSING_ID))
            assert same_as_missing(actor.get(path), image["id"], missing, MISSING_ID), (who, path)
            head = httpx.head(f"{actor.server.url}{path}", headers=actor.headers)
            assert head.status_code == 404, who
        assert same_as_missing(upload(actor, room, "x.txt", b"x"), room, missing_room, "nosuch"), who

    # A public room: anyone signed in may read it (and its files); uploading takes joining.
    town = room_with(olga, [], visibility="public")
    posted = uploaded(olga, town, "map.png", photo(32, 32))
    ws = await olga.socket()
    await ws.join(town)
    await ws.send(type="send", room=town, body="map", client_msg_id="m1", files=[posted["id"]])
    await ws.expect("ack")
    await ws.close()
    nina = outsiders["nina (non-member)"]
    assert nina.get(f"/api/files/{posted['id']}").status_code == 200
    refused = upload(nina, town, "x.txt", b"x")
    assert (refused.status_code, refused.json()) == (403, {"detail": "join the room first"})
    # Someone else's upload cannot be sent in your message, even in a room you both read.
    mine = uploaded(olga, town, "olga.txt", b"olga's")
    nina_ws = await nina.socket()
    await nina_ws.join(town)
    await nina_ws.send(type="send", room=town, body="steal", client_msg_id="s1", files=[mine["id"]])
    assert (await nina_ws.expect("error"))["code"] == "unknown_file"
    await nina_ws.close()


@pytest.mark.parametrize("servers", ["sqlite-1"], indirect=True)
async def test_every_download_is_served_safely(servers: tuple[HubbubServer, HubbubServer]) -> None:
    a, _ = servers
    olga = As(a, "olga")
    room = room_with(olga, [])
    image = uploaded(olga, room, "pic.jpg", photo(100, 50))
    forged = uploaded(
        olga, room, "innocent.png", b"<html><script>alert(document.cookie)</script>", "image/png"
    )
    svg = uploaded(
        olga,
        room,
        "logo.svg",
        b"<svg xmlns='http://www.w3.org/2000/svg' onload='alert(1)'/>",
        "image/svg+xml",
    )
    assert (forged["type"], forged["width"]) == ("text/html", None)
    assert (svg["type"], svg["width"]) == ("image/svg+xml", None)

    for made, kind, disposition in (
        (image, "image/jpeg", "inline"),
        (forged, "application/octet-stream", "attachment"),
        (svg, "application/octet-stream", "attachment"),
    ):
        got = olga.get(f"/api/files/{made['id']}")
        assert got.status_code == 200
        headers = got.headers
        assert headers["content-type"] == kind
        assert headers["content-disposition"].startswith(f"{disposition}; filename=")
        assert headers["x-content-type-options"] == "nosniff"
        assert headers["content-security-policy"] == SANDBOX
        assert headers["cross-origin-resource-policy"] == "same-origin"
        assert headers["cache-control"] == "private, max-age=86400"
        assert headers["vary"] == "Cookie, Authorization"
        assert headers["etag"].startswith('"') and headers["accept-ranges"] == "bytes"
        assert int(headers["content-length"]) == made["size"] == len(got.content)
        # Ranges, and a copy the client has already.
        part = httpx.get(got.url, headers={**olga.headers, "Range": "bytes=2-5"})
        assert (part.status_code, part.content) == (206, got.content[2:6])
        assert part.headers["content-range"] == f"bytes 2-5/{made['size']}"
        assert part.headers["content-security-policy"] == SANDBOX
        stale = httpx.get(got.url, headers={**olga.headers, "Range": "bytes=2-5", "If-Range": '"other"'})
        assert stale.status_code == 200 and stale.content == got.content
        beyond = httpx.get(got.url, headers={**olga.headers, "Range": f"bytes={made['size']}-"})
        assert beyond.status_code == 416 and beyond.headers["content-range"] == f"bytes */{made['size']}"
        cached = httpx.get(got.url, headers={**olga.headers, "If-None-Match": headers["etag"]})
        assert (cached.status_code, cached.content) == (304, b"")
        head = httpx.head(got.url, headers=olga.headers)
        assert head.status_code == 200 and head.content == b"" and head.headers["etag"] == headers["etag"]
    assert olga.get(f"/api/files/{forged['id']}").content == b"<html><script>alert(document.cookie)</script>"
    assert olga.get(f"/api/files/{forged['id']}/thumbnail").status_code == 404


def polyglot_png() -> bytes:
    """An 8x8 PNG that is also an HTML page: a text chunk and a tail after IEND."""
    script = b"<html><script>alert(document.cookie)</script></html>"

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    rows = zlib.compress(b"".join(b"\x00" + b"\x80" * 8 for _ in range(8)))
    header = struct.pack(">IIBBBBB", 8, 8, 8, 0, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"tEXt", b"c\x00" + script)
        + chunk(b"IDAT", rows)
        + chunk(b"IEND", b"")
        + script
    )


def bomb() -> bytes:
    """A 6000x6000 greyscale PNG of zeros in about 36 KB: 36 million pixels once decoded."""
    squeeze = zlib.compressobj(9)
    rows = b"".join(squeeze.compress(b"\x00" * 6001) for _ in range(6000)) + squeeze.flush()
    header = struct.pack(">IIBBBBB", 6000, 6000, 8, 0, 0, 0, 0)

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", rows) + chunk(b"IEND", b"")


@pytest.mark.parametrize("servers", ["sqlite-1"], indirect=True)
async def test_forged_polyglot_and_odd_files(servers: tuple[HubbubServer, HubbubServer]) -> None:
    a, _ = servers
    olga = As(a, "olga")
    room = room_with(olga, [])
    poly = uploaded(olga, room, "cat.png", polyglot_png(), claimed="text/html")
    assert (poly["type"], poly["width"], poly["height"]) == ("image/png", 8, 8)
    served = olga.get(f"/api/files/{poly['id']}")
    assert served.headers["content-type"] == "image/png" and b"<script" not in served.content

    for raw, shown in (
        ("../../etc/passwd", "passwd"),
        ("con.txt", "_con.txt"),
        ("invoice\u202efdp.exe", "invoicefdp.exe"),
        ("..\\..\\boot.ini", "boot.ini"),
    ):
        made = uploaded(olga, room, raw, b"MZ\x90\x00 an executable")
        assert made["name"] == shown and made["type"] == "application/vnd.microsoft.portable-executable"
        got = olga.get(f"/api/files/{made['id']}")
        assert got.headers["content-disposition"] == (
            f"attachment; filename=\"{shown}\"; filename*=UTF-8''{shown}"
        )
        assert got.headers["content-type"] == "application/octet-stream"

    empty = uploaded(olga, room, "empty.txt", b"")
    assert (empty["size"], empty["type"]) == (0, "application/octet-stream")
    got = olga.get(f"/api/files/{empty['id']}")
    assert (got.status_code, got.content, got.headers["content-length"]) == (200, b"", "0")
    assert httpx.get(got.url, headers={**olga.headers, "Range": "bytes=0-"}).status_code == 416

    before = len(blobs(a.data_dir))
    refused = upload(olga, room, "bomb.png", bomb(), claimed="image/png")
    assert refused.status_code == 422
    assert refused.json()["detail"].startswith("the image would decode to more than 32,000,000 pixels")
    assert len(blobs(a.data_dir)) == before and staged(a.data_dir) == []


@pytest.mark.parametrize("servers", ["postgres-2"], indirect=True)
async def test_the_same_content_at_once_is_kept_once(servers: tuple[HubbubServer, HubbubServer]) -> None:
    a, b = servers
    room = room_with(As(a, "olga"), ["mike"])
    content = photo(200, 100, "teal")
    before = len(blobs(a.data_dir))

    async def one(actor: As) -> dict[str, Any]:
        async with httpx.AsyncClient(base_url=actor.server.url, headers=actor.headers, timeout=30) as http:
            answer = await http.post(
                f"/api/rooms/{room}/files", files={"file": ("same.jpg", content, "image/jpeg")}
            )
            assert answer.status_code == 201, answer.text
            made: dict[str, Any] = answer.json()
            return made

    made = await asyncio.gather(
        *(one(As(server, user)) for server in (a, b) for user in ("olga", "mike") * 2)
    )
    assert len({m["id"] for m in made}) == 8
    assert len({json.dumps({k: v for k, v in m.items() if k != "id"}) for m in made}) == 1
    assert len(blobs(a.data_dir)) == before + 2  # the image and its thumbnail, once
    assert staged(a.data_dir) == []


def test_sizes_and_the_quota(hubbub_server: ServerFactory) -> None:
    server = hubbub_server(
        {
            "HUBBUB_AUTH": "token",
            "HUBBUB_TOKENS": json.dumps(TOKENS),
            "HUBBUB_MAX_UPLOAD_BYTES": "100000",
            "HUBBUB_UPLOAD_QUOTA_BYTES": "250000",
        }
    )
    olga = As(server, "olga")
    room = room_with(olga, ["mike"])
    # Declared too large: refused before a byte is read (the form's allowance is 64 KiB).
    declared = httpx.post(
        f"{server.url}/api/rooms/{room}/files",
        content=b"x" * 200_000,
        headers={**olga.headers, "Content-Type": "multipart/form-data; boundary=b"},
    )
    assert declared.status_code == 413
    # Within the body's allowance, past the file's limit: refused as it streams in.
    over = upload(olga, room, "big.bin", b"y" * 100_001)
    assert (over.status_code, over.json()["detail"]) == (
        413,
        "a file may have at most 100000 bytes (HUBBUB_MAX_UPLOAD_BYTES)",
    )
    assert upload(olga, room, "fits.bin", b"z" * 100_000).status_code == 201
    kept = uploaded(olga, room, "fits2.bin", b"w" * 100_000)
    quota = upload(olga, room, "over.bin", b"v" * 50_001)
    assert quota.status_code == 413 and "quota of 250000 bytes" in quota.json()["detail"]
    assert upload(olga, room, "last.bin", b"u" * 50_000).status_code == 201
    assert upload(olga, room, "none.bin", b"").status_code == 413  # the quota is used up
    # Other users have quotas of their own; other routes keep the 64 KiB limit.
    assert upload(As(server, "mike"), room, "mike.bin", b"m").status_code == 201
    big_json = httpx.post(
        f"{server.url}/api/rooms", json={"name": "x", "topic": "t" * 70_000}, headers=olga.headers
    )
    assert big_json.status_code == 413
    big_get = httpx.post(
        f"{server.url}/api/rooms/{room}/files/extra", content=b"x" * 70_000, headers=olga.headers
    )
    assert big_get.status_code == 413
    # Nothing of any refusal was kept: four blobs, an empty staging directory.
    assert len(blobs(server.data_dir)) == 4 and staged(server.data_dir) == []
    assert kept["size"] == 100_000


async def test_an_interrupted_upload_leaves_nothing(hubbub_server: ServerFactory) -> None:
    server = hubbub_server({"HUBBUB_AUTH": "token", "HUBBUB_TOKENS": json.dumps(TOKENS)})
    olga = As(server, "olga")
    room = room_with(olga, [])
    boundary = "cut-short"
    head = (
        f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="half.bin"\r\n\r\n'
    ).encode()
    request = (
        f"POST /api/rooms/{room}/files HTTP/1.1\r\nHost: 127.0.0.1\r\n"
        f"Authorization: Bearer token-of-olga-0123\r\n"
        f"Content-Type: multipart/form-data; boundary={boundary}\r\nContent-Length: 2000000\r\n\r\n"
    ).encode()
    with socket.create_connection(("127.0.0.1", server.port)) as raw:
        raw.sendall(request + head + b"h" * 500_000)
        await until(lambda: len(staged(server.data_dir)) == 1, "the upload to be spooled")
    # The client went away mid-body: the spool file goes, nothing is stored, nothing counted.
    await until(lambda: staged(server.data_dir) == [], "the spool file to be removed")
    assert blobs(server.data_dir) == []
    assert "olga uploaded" not in server.log()  # chat/files.py's line for a stored upload
    again = uploaded(olga, room, "whole.bin", b"h" * 500_000)
    assert again["size"] == 500_000 and len(blobs(server.data_dir)) == 1


async def test_files_in_an_s3_bucket(
    hubbub_server: ServerFactory, s3_server: SeaweedS3, redis_url: str, tmp_path: Path
) -> None:
    """Two workers, files in a real S3-compatible server: uploaded through one, read through
    the other."""
    env = {
        "HUBBUB_AUTH": "token",
        "HUBBUB_TOKENS": json.dumps(TOKENS),
        "HUBBUB_REDIS_URL": redis_url,
        "HUBBUB_DATABASE_URL": f"sqlite:///{tmp_path / 'shared.db'}",
        "HUBBUB_FILE_STORAGE_URL": f"s3://{s3_server.bucket}/{unique('hubbub')}",
        **s3_server.env,
    }
    a, b = hubbub_server(env), hubbub_server(env)
    olga, mike = As(a, "olga"), As(b, "mike")
    room = room_with(olga, ["mike"])
    image = uploaded(olga, room, "photo.jpg", photo(120, 90))
    ws = await olga.socket()
    await ws.join(room)
    await ws.send(type="send", room=room, body="from s3", client_msg_id="s3", files=[image["id"]])
    await ws.expect("ack")
    await ws.close()
    got = mike.get(f"/api/files/{image['id']}")
    assert got.status_code == 200 and Image.open(io.BytesIO(got.content)).size == (90, 120)
    assert mike.get(f"/api/files/{image['id']}/thumbnail").status_code == 200
    part = httpx.get(got.url, headers={**mike.headers, "Range": "bytes=-4"})
    assert part.status_code == 206 and part.content == got.content[-4:]
    assert blobs(a.data_dir) == [] and blobs(b.data_dir) == []  # nothing local
    assert httpx.get(f"{a.url}/readyz").json() == {"status": "ready"}
