"""Images people can see in the timeline: PNG, JPEG, GIF and WebP, decoded by the server itself
(Pillow), measured, and served as a new image made from their pixels alone:

- the orientation a camera wrote (EXIF) is applied to the pixels, so every viewer shows it
  upright;
- nothing else of the file is kept: no EXIF (a photo's GPS position and camera serial are not
  for the whole room), XMP, comments or text chunks, and no bytes that are not the image (a
  polyglot's HTML or archive rides along nowhere); the colour profile stays;
- an animation keeps its frames and timing; its thumbnail is its first frame;
- a thumbnail, at most THUMBNAIL_SIDE pixels on its longer side, as WebP;
- an avatar: the middle square of the first frame, AVATAR_SIDE pixels wide, as WebP.

A decompression bomb (a small file that decodes to gigapixels) is refused before any pixel is
decoded: HUBBUB_MAX_IMAGE_PIXELS counts every frame. Anything that is not one of the four
formats, or does not decode, is not an image here: it is served as an attachment.
"""

from __future__ import annotations

import contextlib
import warnings
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TypeVar

from PIL import Image, ImageOps, ImageSequence, UnidentifiedImageError

from hubbub.model import UploadRefusedError

T = TypeVar("T")
FORMATS = {"PNG": "image/png", "JPEG": "image/jpeg", "GIF": "image/gif", "WEBP": "image/webp"}
THUMBNAIL_SIDE = 640
AVATAR_SIDE = 256
JPEG_QUALITY = 90
WEBP_QUALITY = 90
THUMBNAIL_QUALITY = 80
# What of a decoded image's info may go into what is served: how to show it, nothing about it.
KEPT_INFO = ("icc_profile", "transparency", "duration", "loop", "background", "disposal")


@dataclass(frozen=True, slots=True)
class Processed:
    """An image made anew: ``image`` and ``thumbnail`` are files in the staging directory."""

    type: str
    width: int
    height: int
    image: Path
    thumbnail: Path


def process(source: Path, staging: Path, max_pixels: int) -> Processed | None:
    """The image in ``source`` made anew (see the module), or None when it is not an image of
    the four formats that decodes. Raises UploadRefusedError (422) for one that would decode
    to more than ``max_pixels`` pixels, all frames together. Blocks: run it in a thread."""
    image_path = staging / f"{source.name}.image"
    thumbnail_path = staging / f"{source.name}.thumb"

    def make(opened: Image.Image, frames: int) -> Processed:
        kind = FORMATS[str(opened.format)]
        width, height = _made_anew(opened, frames, image_path)
        _thumbnail(opened, thumbnail_path)
        return Processed(kind, width, height, image_path, thumbnail_path)

    return _from_image(source, max_pixels, make, image_path, thumbnail_path)


def avatar(source: Path, staging: Path, max_pixels: int) -> Path | None:
    """A square avatar (AVATAR_SIDE pixels, WebP, the middle of the image, upright, its first
    frame, no metadata) made from the image in ``source``; None when it is not an image of the
    four formats that decodes. Raises UploadRefusedError (422) as ``process`` does. Blocks."""
    target = staging / f"{source.name}.avatar"

    def make(opened: Image.Image, _frames: int) -> Path:
        opened.seek(0)
        first = ImageOps.exif_transpose(opened.copy())
        has_alpha = first.mode in ("RGBA", "LA", "PA") or "transparency" in first.info
        first = first.convert("RGBA" if has_alpha else "RGB")
        square = ImageOps.fit(first, (AVATAR_SIDE, AVATAR_SIDE), Image.Resampling.LANCZOS)
        square.info = {}
        square.save(target, "WEBP", quality=THUMBNAIL_QUALITY)
        return target

    return _from_image(source, max_pixels, make, target)


def _from_image(
    source: Path, max_pixels: int, make: Callable[[Image.Image, int], T], *outputs: Path
) -> T | None:
    """What ``make`` makes (into ``outputs``) of the image in ``source`` and its frame count,
    once the frames are known to fit in ``max_pixels``. None when the file is not an image of
    the four formats or does not decode, and then, as when it is refused, nothing of
    ``outputs`` is left behind."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(source, formats=list(FORMATS)) as opened:
                return make(opened, _frames_within(opened, max_pixels))
    except UploadRefusedError:
        _remove(*outputs)
        raise
    except (Image.DecompressionBombError, Image.DecompressionBombWarning):
        _remove(*outputs)
        raise UploadRefusedError(422, _bomb(max_pixels)) from None
    except (UnidentifiedImageError, OSError, ValueError, SyntaxError, EOFError):
        _remove(*outputs)  # not an image of ours, or broken: an attachment
        return None


def _bomb(max_pixels: int) -> str:
    return f"the image would decode to more than {max_pixels:,} pixels (HUBBUB_MAX_IMAGE_PIXELS)"


def _frames_within(image: Image.Image, max_pixels: int) -> int:
    """How many frames the image has, refusing it (before any pixel is decoded) when they
    would decode to more than max_pixels together."""
    width, height = image.size
    if width * height > max_pixels or width <= 0 or height <= 0:
        raise UploadRefusedError(422, _bomb(max_pixels))
    frames = 1
    if getattr(image, "is_animated", False):
        # Counting frames reads their headers, not their pixels.
        frames = int(getattr(image, "n_frames", 1))
        if width * height * frames > max_pixels:
            raise UploadRefusedError(422, _bomb(max_pixels))
    return frames


def _made_anew(image: Image.Image, frames: int, target: Path) -> tuple[int, int]:
    """Write the image's pixels (upright, every frame) with none of its metadata; its size."""
    kind = str(image.format)
    if frames > 1:
        shown = [_clean(ImageOps.exif_transpose(frame.copy())) for frame in ImageSequence.Iterator(image)]
        first, rest = shown[0], shown[1:]
        durations = [int(f.info.get("duration", 100)) for f in shown]
        options: dict[str, object] = {"save_all": True, "append_images": rest, "duration": durations}
        options["loop"] = int(image.info.get("loop", 0))
        if kind == "GIF":
            options["disposal"] = 2  # each frame over the background: what browsers show
        else:
            options["quality"] = WEBP_QUALITY
        first.save(target, kind, **options)
        return first.size
    image.seek(0)
    upright = _clean(ImageOps.exif_transpose(image.copy()))
    match kind:
        case "JPEG":
            if upright.mode not in ("L", "RGB", "CMYK"):
                upright = upright.convert("RGB")
            upright.save(target, "JPEG", quality=JPEG_QUALITY)
        case "PNG":
            upright.save(target, "PNG")
        case "GIF":
            upright.save(target, "GIF")
        case "WEBP":
            lossless = image.info.get("lossless", False) or _lossless_webp(image)
            if upright.mode not in ("RGB", "RGBA"):
                upright = upright.convert("RGBA")
            upright.save(target, "WEBP", lossless=lossless, quality=100 if lossless else WEBP_QUALITY)
    return upright.size


def _lossless_webp(image: Image.Image) -> bool:
    """A WebP whose first image is VP8L (lossless) stays lossless."""
    filename = getattr(image, "filename", None)
    if not filename:
        return False
    with open(filename, "rb") as raw:
        return b"VP8L" in raw.read(4096)


def _clean(image: Image.Image) -> Image.Image:
    """The image with only the info that says how to show it (KEPT_INFO)."""
    image.info = {key: image.info[key] for key in KEPT_INFO if key in image.info}
    return image


def _thumbnail(image: Image.Image, target: Path) -> None:
    image.seek(0)
    first = ImageOps.exif_transpose(image.copy())
    has_alpha = first.mode in ("RGBA", "LA", "PA") or "transparency" in first.info
    first = first.convert("RGBA" if has_alpha else "RGB")
    first.thumbnail((THUMBNAIL_SIDE, THUMBNAIL_SIDE), Image.Resampling.LANCZOS)
    first.info = {}
    first.save(target, "WEBP", quality=THUMBNAIL_QUALITY)


def _remove(*paths: Path) -> None:
    for path in paths:
        with contextlib.suppress(OSError):
            path.unlink()
