"""Avatars (issue 24): an uploaded image is everyone's view of a person at once, made anew as a
small square with nothing of the file but its pixels, and served as files are; anything else is
refused with a reason, and nobody else is affected."""

from __future__ import annotations

import io
import json

import httpx
import pytest
from PIL import Image

from tests.conftest import ServerFactory
from tests.people import TOKENS, As, servers
from tests.services import HubbubServer
from tests.test_files import SANDBOX, bomb, photo

__all__ = ["servers"]  # a fixture


def put_avatar(
    actor: As, content: bytes, name: str = "me.jpg", headers: dict[str, str] | None = None
) -> httpx.Response:
    return httpx.put(
        f"{actor.server.url}/api/me/avatar",
        files={"file": (name, content, "application/octet-stream")},
        headers=actor.headers if headers is None else headers,
        timeout=30,
    )


def png(color: str, size: tuple[int, int] = (64, 64)) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", size, color).save(buffer, "PNG")
    return buffer.getvalue()


@pytest.mark.parametrize("servers", ["sqlite-1", "postgres-2"], indirect=True)
async def test_an_avatar_reaches_everyone_at_once_made_anew(
    servers: tuple[HubbubServer, HubbubServer],
) -> None:
    a, b = servers
    olga, mike = As(a, "olga"), As(b, "mike")
    watcher = await mike.socket()
    await watcher.join("general")  # its session is under way: it hears every profile from now on

    answer = put_avatar(olga, photo(320, 240, "orange"))  # with a GPS position in its EXIF
    assert answer.status_code == 200, answer.text
    url = answer.json()["avatar_url"]
    assert url.startswith("/api/users/olga/avatar?v=")
    heard = await watcher.expect("profile", lambda f: f["user"] == "olga" and f["avatar_url"] is not None)
    assert heard["avatar_url"] == url
    assert mike.get("/api/users/olga").json()["avatar_url"] == url

    image = mike.get(url)
    assert image.status_code == 200
    assert image.headers["content-type"] == "image/webp"
    assert image.headers["x-content-type-options"] == "nosniff"
    assert image.headers["content-security-policy"] == SANDBOX
    made = Image.open(io.BytesIO(image.content))
    assert (made.format, made.size) == ("WEBP", (256, 256))
    assert not made.getexif() and "exif" not in made.info and "xmp" not in made.info
    red, green, blue = made.convert("RGB").getpixel((128, 128))  # type: ignore[misc]
    assert red > 200 and 100 < green < 200 and blue < 80  # orange, the middle of the photo
    assert (
        mike.get(
            url,
        ).headers["etag"]
        == image.headers["etag"]
    )

    # A new one is a new address: a browser's cached old one is never shown for it.
    again = put_avatar(olga, png("navy"), "me.png")
    assert again.status_code == 200 and again.json()["avatar_url"] not in (url, None)
    assert (await watcher.expect("profile", lambda f: f["user"] == "olga"))["avatar_url"] == again.json()[
        "avatar_url"
    ]

    # Who may see it: anyone signed in; an address for nobody, or for someone without one, is 404.
    assert httpx.get(f"{a.url}{url}").status_code == 401
    assert mike.get("/api/users/mike/avatar").status_code == 404
    assert mike.get("/api/users/nobody-at-all/avatar").status_code == 404

    cleared = olga.delete("/api/me/avatar")
    assert cleared.status_code == 200 and cleared.json()["avatar_url"] is None
    assert (await watcher.expect("profile", lambda f: f["user"] == "olga"))["avatar_url"] is None
    assert mike.get(url).status_code == 404
    await watcher.close()


def test_what_is_not_an_avatar_is_refused_with_a_reason(hubbub_server: ServerFactory) -> None:
    server = hubbub_server(
        {
            "HUBBUB_AUTH": "token",
            "HUBBUB_TOKENS": json.dumps(TOKENS),
            "HUBBUB_MAX_UPLOAD_BYTES": str(64 * 1024),
            "HUBBUB_AVATAR_CHANGES_PER_MINUTE": "3",
        }
    )
    rita, nina = As(server, "rita"), As(server, "nina")
    answers = [
        put_avatar(rita, b"%PDF-1.7 not a picture", "me.pdf"),
        put_avatar(rita, bomb(), "bomb.png"),
        put_avatar(rita, b"\x89PNG\r\n\x1a\n" + b"\x00" * 100, "broken.png"),
    ]
    assert [a.status_code for a in answers] == [422, 422, 422]
    assert "PNG, JPEG, GIF or WebP" in answers[0].json()["detail"]
    assert "pixels" in answers[1].json()["detail"]
    assert rita.get("/api/users/rita").json()["avatar_url"] is None  # nothing changed

    too_large = put_avatar(nina, png("red", (1200, 1200)) + b"\x00" * 70_000)
    assert too_large.status_code == 413 and "65536 bytes" in too_large.json()["detail"]
    not_a_form = httpx.put(f"{server.url}/api/me/avatar", json={"file": "x"}, headers=nina.headers)
    assert not_a_form.status_code == 422
    assert put_avatar(nina, png("red"), headers={}).status_code == 401

    # Each try decodes an image: three a minute (this server's setting), then 429 with a time.
    limited = put_avatar(rita, png("teal"))
    assert limited.status_code == 429 and int(limited.headers["Retry-After"]) >= 1
    assert nina.get("/api/users/rita").status_code == 200  # the others are not affected
    assert put_avatar(As(server, "mike"), png("teal")).status_code == 200
